// The MetaProxy switch: pure decisions plus the coroutine that carries them out against
// ZooKeeper. Every exit states whether the entry is unchanged, switched, or unknown.
#include <tablemigrator/metaproxy/switch.hpp>

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/core/zk_error.hpp>

#include <boost/asio/error.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tablemigrator::metaproxy {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace

const char* to_string(switch_outcome::state s) noexcept {
    switch (s) {
    case switch_outcome::state::unchanged: return "unchanged";
    case switch_outcome::state::switched: return "switched";
    case switch_outcome::state::already_switched: return "already switched";
    case switch_outcome::state::unknown: return "unknown";
    }
    return "?";
}

result<proxy_entry> parse_entry(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object())
        return client_errc::bad_json;
    const auto& o = v.get_object();
    const auto* cluster = o.if_contains("cluster_name");
    const auto* metas = o.if_contains("meta_addrs");
    if (cluster == nullptr || metas == nullptr || !cluster->is_string() || !metas->is_string())
        return client_errc::bad_json;
    return proxy_entry{std::string(cluster->get_string()), std::string(metas->get_string())};
}

std::string serialize_entry(const proxy_entry& e) {
    json::object o;
    o["cluster_name"] = e.cluster_name;
    o["meta_addrs"] = e.meta_addrs;
    return json::serialize(o);
}

std::vector<std::string> split_list(std::string_view list) {
    std::vector<std::string> out;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto item = trim(list.substr(0, comma));
        if (!item.empty())
            out.emplace_back(item);
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    return out;
}

bool same_meta_list(std::string_view a, std::string_view b) {
    auto x = split_list(a);
    auto y = split_list(b);
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    return x == y;
}

std::string entry_path(std::string_view root, std::string_view table) {
    std::string path(root);
    while (!path.empty() && path.back() == '/')
        path.pop_back();
    path += '/';
    path += table;
    return path;
}

std::string zk_connect_string(std::string_view zookeeper_hosts, std::string_view chroot) {
    std::string out;
    for (const auto& h : split_list(zookeeper_hosts)) {
        if (!out.empty())
            out += ',';
        out += h;
    }
    std::string root(trim(chroot));
    while (!root.empty() && root.back() == '/')
        root.pop_back();
    if (!root.empty()) {
        if (root.front() != '/')
            out += '/';
        out += root;
    }
    return out;
}

status validate_request(const switch_request& req, std::string& message) {
    if (req.table.empty() || req.table.find('/') != std::string::npos) {
        message = "table name must be non-empty and contain no '/': '" + req.table + "'";
        return client_errc::invalid_argument;
    }
    if (req.root.empty() || req.root.front() != '/') {
        message = "MetaProxy root must be an absolute ZooKeeper path: '" + req.root + "'";
        return client_errc::invalid_argument;
    }
    if (req.source_cluster.empty() || req.target_cluster.empty()) {
        message = "source and target cluster names are required";
        return client_errc::invalid_argument;
    }
    if (req.target_cluster != req.expected_target_cluster) {
        message = "target cluster reports cluster_name '" + req.target_cluster +
                  "' but -c names '" + req.expected_target_cluster + "'";
        return client_errc::precondition_failed;
    }
    if (req.source_cluster == req.target_cluster) {
        message = "source and target clusters have the same name '" + req.source_cluster + "'";
        return client_errc::precondition_failed;
    }
    if (split_list(req.target_meta_addrs).empty()) {
        message = "target meta list is empty";
        return client_errc::invalid_argument;
    }
    return {};
}

std::vector<std::string> request_warnings(const switch_request& req) {
    std::vector<std::string> w;
    const auto n = split_list(req.target_meta_addrs).size();
    if (n < 2)
        w.push_back("meta list '" + req.target_meta_addrs + "' has " + std::to_string(n) +
                    " address(es); MetaProxy rejects lists with fewer than two (ERR_INVALID_DATA)");
    return w;
}

decision decide(const switch_request& req, const std::optional<std::string>& current) {
    const auto path = entry_path(req.root, req.table);
    if (!current) {
        if (req.create_missing)
            return {action::create, {}, "creating " + path};
        return {action::refuse, zk_errc::no_node,
                "MetaProxy entry " + path + " does not exist (create_missing is off)"};
    }
    auto entry = parse_entry(*current);
    if (!entry)
        return {action::refuse, entry.error(),
                "MetaProxy entry " + path + " is not {cluster_name, meta_addrs} JSON: " + *current};
    if (entry->cluster_name == req.target_cluster &&
        same_meta_list(entry->meta_addrs, req.target_meta_addrs))
        return {action::already_switched, {}, path + " already points at " + req.target_cluster};
    if (entry->cluster_name != req.source_cluster)
        return {action::refuse, client_errc::precondition_failed,
                path + " names cluster '" + entry->cluster_name + "' (meta " +
                    entry->meta_addrs + "), not the source cluster '" + req.source_cluster + "'"};
    return {action::write, {}, "switching " + path};
}

observation classify_observation(const std::optional<zk::node>& observed,
                                 const std::optional<std::string>& old_data,
                                 std::int32_t old_version, std::string_view new_data) {
    if (!observed)
        return old_data ? observation::changed_by_other : observation::untouched;
    if (observed->data == new_data)
        return observation::ours;
    if (old_data && observed->data == *old_data && observed->stat.version == old_version)
        return observation::untouched;
    return observation::changed_by_other;
}

namespace {

using state = switch_outcome::state;

// The write's result is unknown when the reply was lost: the request may have run.
bool outcome_unknown(const error_code& ec) {
    return ec == zk_errc::connection_loss || ec == zk_errc::operation_timeout ||
           ec == asio::error::operation_aborted;
}

// A session usable for re-reading: the same one once it reconnects, else a new one.
asio::awaitable<result<std::shared_ptr<zk::client>>>
usable_session(std::shared_ptr<zk::client> c, zk_connector connect,
               std::chrono::milliseconds timeout) {
    auto waited = co_await c->wait_connected(timeout);
    if (waited)
        co_return c;
    if (waited.error() != zk_errc::session_expired && waited.error() != zk_errc::closing)
        co_return waited.error();
    co_return co_await connect();
}

switch_outcome fail(switch_outcome out, state s, error_code ec, std::string message) {
    out.entry_state = s;
    out.error = ec;
    out.message = std::move(message);
    spdlog::warn("metaproxy switch: {} (entry {}, error: {})", out.message, to_string(s),
                 ec.message());
    return out;
}

} // namespace

asio::awaitable<switch_outcome> switch_table(zk_connector connect, switch_request req,
                                             reconfig_fn set_reconfig, switch_hooks hooks) {
    switch_outcome out;
    out.warnings = request_warnings(req);
    for (const auto& w : out.warnings)
        spdlog::warn("metaproxy switch [{}]: {}", req.table, w);
    {
        std::string message;
        if (auto v = validate_request(req, message); !v)
            co_return fail(std::move(out), state::unchanged, v.error(), std::move(message));
    }
    const std::string path = entry_path(req.root, req.table);

    auto session = co_await connect();
    if (!session)
        co_return fail(std::move(out), state::unchanged, session.error(),
                       "cannot connect to ZooKeeper for " + path);
    std::shared_ptr<zk::client> zk = *session;

    // 1. Read. Nothing is written yet, so a read that loses its connection (a ZooKeeper restart,
    // for instance another table's switch meeting one) is simply tried again on a usable session.
    if (hooks.before_read)
        co_await hooks.before_read(*zk);
    auto current = co_await zk->get(path);
    for (int attempt = 0; attempt < 3 && !current && outcome_unknown(current.error()); ++attempt) {
        auto s = co_await usable_session(zk, connect, req.verify_timeout);
        if (!s)
            break;
        zk = *s;
        current = co_await zk->get(path);
    }
    std::optional<std::string> old_data;
    std::int32_t old_version = -1;
    if (current) {
        old_data = current->data;
        old_version = current->stat.version;
    } else if (current.error() != zk_errc::no_node) {
        co_return fail(std::move(out), state::unchanged, current.error(), "cannot read " + path);
    }

    // 2. Decide.
    const decision d = decide(req, old_data);
    if (d.what == action::refuse)
        co_return fail(std::move(out), state::unchanged, d.error, d.message);

    if (d.what == action::already_switched) {
        out.entry_state = state::already_switched;
        spdlog::info("metaproxy switch: {}", d.message);
    } else {
        if (hooks.before_write)
            co_await hooks.before_write(*zk);

        // 3. Write with compare-and-set (or create), resolving lost replies by re-reading.
        const std::string new_data =
            serialize_entry({req.target_cluster, req.target_meta_addrs});
        bool written = false;
        for (int attempt = 0; attempt < 3 && !written; ++attempt) {
            error_code ec;
            if (d.what == action::create) {
                zk::create_options co;
                co.make_parents = true;
                auto created = co_await zk->create(path, new_data, co);
                ec = created ? error_code{} : created.error();
            } else {
                auto set = co_await zk->set(path, new_data, old_version);
                ec = set ? error_code{} : set.error();
            }
            if (!ec) {
                written = true;
                break;
            }
            if (ec == zk_errc::bad_version || ec == zk_errc::node_exists)
                co_return fail(std::move(out), state::unchanged, ec,
                               path + " was changed by someone else between read and write; "
                                      "nothing written");
            if (!outcome_unknown(ec))
                co_return fail(std::move(out), state::unchanged, ec, "cannot write " + path);

            // The request may or may not have run: look.
            auto s = co_await usable_session(zk, connect, req.verify_timeout);
            if (!s)
                co_return fail(std::move(out), state::unknown, s.error(),
                               "write to " + path + " lost its reply and the entry cannot be "
                               "re-read; check it by hand");
            zk = *s;
            auto seen = co_await zk->get(path);
            if (!seen && seen.error() != zk_errc::no_node)
                co_return fail(std::move(out), state::unknown, seen.error(),
                               "write to " + path + " lost its reply and re-reading failed");
            std::optional<zk::node> observed;
            if (seen)
                observed = std::move(*seen);
            switch (classify_observation(observed, old_data, old_version, new_data)) {
            case observation::ours:
                written = true;
                break;
            case observation::untouched:
                spdlog::info("metaproxy switch: write to {} lost ({}), entry untouched; again",
                             path, ec.message());
                break;
            case observation::changed_by_other:
                co_return fail(std::move(out), state::unchanged, zk_errc::bad_version,
                               path + " was changed by someone else during the write");
            }
        }
        if (!written)
            co_return fail(std::move(out), state::unchanged, zk_errc::connection_loss,
                           "could not write " + path + " (connection kept failing)");

        // 4. Read back: the acknowledged value must be what MetaProxy will read.
        out.entry_state = state::switched;
        auto back = co_await zk->get(path);
        // The write was acknowledged; a read that loses its connection (a ZooKeeper restart) is
        // tried again on a usable session rather than failing a switched table.
        for (int attempt = 0; attempt < 3 && !back && outcome_unknown(back.error()); ++attempt) {
            auto s = co_await usable_session(zk, connect, req.verify_timeout);
            if (!s)
                break;
            zk = *s;
            back = co_await zk->get(path);
        }
        if (!back)
            co_return fail(std::move(out), state::switched, back.error(),
                           "wrote " + path + " but could not read it back");
        if (back->data != new_data)
            co_return fail(std::move(out), state::unknown, client_errc::precondition_failed,
                           "wrote " + path + " but it now reads " + back->data);
        spdlog::info("metaproxy switch: {} now points at {} ({})", path, req.target_cluster,
                     req.target_meta_addrs);
    }

    // 5. Deny the source so clients re-query (through MetaProxy) and move to the target.
    if (!set_reconfig)
        co_return out;
    auto r = co_await set_reconfig();
    if (!r) {
        const state entry_state = out.entry_state;
        co_return fail(std::move(out), entry_state, r.error(),
                       "ZooKeeper entry " + path + " is " + to_string(entry_state) +
                           " but setting reconfig*all on the source failed");
    }
    out.reconfig_set = true;
    co_return out;
}

} // namespace tablemigrator::metaproxy
