// Parsers for remote-command replies. The per-replica framing rule (an entry starts at a line of
// four spaces and a digit) comes from the progress doc §1.2; pretty JSON never starts that way.
#include <tablemigrator/replica/command_parsers.hpp>

#include "json_util.hpp"

#include <tablemigrator/core/error.hpp>

#include <charconv>

namespace tablemigrator::replica {

namespace json = boost::json;
using detail::int_member;
using detail::parse_json_object;
using detail::string_member;

namespace {

error_code bad_json() {
    return make_error_code(client_errc::bad_json);
}

std::string_view trim_trailing_newlines(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' ||
                             text.front() == '\r'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                             text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

std::optional<std::int64_t> parse_count(std::string_view text) {
    if (text.empty() || text.front() < '0' || text.front() > '9')
        return std::nullopt;
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end)
        return std::nullopt;
    return value;
}

// "<P> processed, <N> not found"
bool parse_summary(std::string_view line, std::int64_t& processed, std::int64_t& not_found) {
    constexpr std::string_view mid = " processed, ";
    constexpr std::string_view tail = " not found";
    const auto m = line.find(mid);
    if (m == std::string_view::npos || line.size() < tail.size() ||
        line.substr(line.size() - tail.size()) != tail)
        return false;
    const auto p_text = line.substr(0, m);
    const auto n_begin = m + mid.size();
    if (n_begin > line.size() - tail.size())
        return false;
    const auto n_text = line.substr(n_begin, line.size() - tail.size() - n_begin);
    auto p = parse_count(p_text);
    auto n = parse_count(n_text);
    if (!p || !n)
        return false;
    processed = *p;
    not_found = *n;
    return true;
}

bool is_entry_line(std::string_view line) {
    return line.size() > 4 && line.substr(0, 4) == "    " && line[4] >= '0' && line[4] <= '9';
}

// "    <A>.<P>@<node>[@P|@S] : <result>"
bool parse_entry_line(std::string_view line, replica_command_entry& entry) {
    line.remove_prefix(4);
    const auto at = line.find('@');
    if (at == std::string_view::npos)
        return false;
    auto pid = parse_partition_id(line.substr(0, at));
    if (!pid)
        return false;
    auto rest = line.substr(at + 1);
    const auto sep = rest.find(" : ");
    if (sep == std::string_view::npos)
        return false;
    auto head = rest.substr(0, sep);
    entry.pid = *pid;
    entry.role = replica_role::none;
    if (head.size() > 2 && head[head.size() - 2] == '@') {
        const char r = head.back();
        if (r == 'P')
            entry.role = replica_role::primary;
        else if (r == 'S')
            entry.role = replica_role::secondary;
        else
            return false;
        head.remove_suffix(2);
    }
    if (head.empty() || head.find_first_of(" \t@") != std::string_view::npos)
        return false;
    entry.node = std::string(head);
    entry.result = std::string(rest.substr(sep + 3));
    entry.not_found = entry.role == replica_role::none && entry.result == "not found";
    return true;
}

} // namespace

bool is_unknown_command_reply(std::string_view text) {
    return trim(text).starts_with("unknown command '");
}

// ---- perf counters ------------------------------------------------------------------------

const perf_counter* perf_counters_reply::find_exact(std::string_view full_name) const {
    for (const auto& c : counters)
        if (c.name == full_name)
            return &c;
    return nullptr;
}

std::map<std::int32_t, double> perf_counters_reply::per_partition(std::string_view counter,
                                                                  std::int32_t app_id) const {
    std::map<std::int32_t, double> out;
    for (const auto& c : counters) {
        const std::string_view name = c.name;
        const auto at = name.rfind('@');
        if (at == std::string_view::npos)
            continue;
        auto pid = parse_partition_id(name.substr(at + 1));
        if (!pid || pid->app_id != app_id)
            continue;
        auto head = name.substr(0, at);
        if (const auto star = head.rfind('*'); star != std::string_view::npos)
            head = head.substr(star + 1);
        if (head != counter)
            continue;
        out[pid->partition_index] = c.value;
    }
    return out;
}

result<perf_counters_reply> parse_perf_counters(std::string_view text) {
    if (is_unknown_command_reply(text))
        return make_error_code(client_errc::unsupported_version);
    json::value storage;
    auto obj = parse_json_object(text, storage);
    if (!obj)
        return obj.error();
    const auto& o = **obj;
    perf_counters_reply out;
    auto res = string_member(o, "result");
    if (!res)
        return bad_json();
    out.result = std::move(*res);
    if (out.result != "OK")
        return make_error_code(client_errc::unexpected_reply);
    out.timestamp = int_member(o, "timestamp").value_or(0);
    out.timestamp_str = string_member(o, "timestamp_str").value_or("");
    const auto* counters = o.if_contains("counters");
    if (!counters || !counters->is_array())
        return bad_json();
    for (const auto& c : counters->get_array()) {
        if (!c.is_object())
            return bad_json();
        const auto& co = c.get_object();
        auto name = string_member(co, "name");
        const auto* value = co.if_contains("value");
        if (!name || !value)
            return bad_json();
        auto v = detail::as_double(*value);
        if (!v)
            return bad_json();
        out.counters.push_back({std::move(*name), string_member(co, "type").value_or(""), *v});
    }
    return out;
}

// ---- server-info ----------------------------------------------------------------------------

result<server_info_reply> parse_server_info(std::string_view text) {
    if (is_unknown_command_reply(text))
        return make_error_code(client_errc::unsupported_version);
    text = trim(text);
    server_info_reply out;
    if (!text.empty() && text.front() == '{') {
        json::value storage;
        auto obj = parse_json_object(text, storage);
        if (!obj)
            return obj.error();
        auto version = string_member(**obj, "version");
        if (!version)
            return bad_json();
        out.version = std::move(*version);
        out.git_sha = string_member(**obj, "git_SHA").value_or("");
        out.build_type = string_member(**obj, "build_type").value_or("");
        out.start_time = string_member(**obj, "start_time").value_or("");
        out.json_form = true;
        return out;
    }
    // Pegasus Server <ver> (<sha>) <build type>, Started at <time>
    constexpr std::string_view prefix = "Pegasus Server ";
    if (!text.starts_with(prefix))
        return bad_json();
    auto rest = text.substr(prefix.size());
    const auto sp = rest.find(' ');
    if (sp == std::string_view::npos || sp == 0)
        return bad_json();
    out.version = std::string(rest.substr(0, sp));
    rest = rest.substr(sp + 1);
    if (!rest.empty() && rest.front() == '(') {
        const auto close = rest.find(')');
        if (close == std::string_view::npos)
            return bad_json();
        out.git_sha = std::string(rest.substr(1, close - 1));
        rest = trim(rest.substr(close + 1));
    }
    constexpr std::string_view started = ", Started at ";
    if (const auto s = rest.find(started); s != std::string_view::npos) {
        out.build_type = std::string(trim(rest.substr(0, s)));
        out.start_time = std::string(rest.substr(s + started.size()));
    } else {
        out.build_type = std::string(rest);
    }
    return out;
}

// ---- per-replica command framing --------------------------------------------------------------

result<replica_command_output> parse_replica_command_output(std::string_view text) {
    if (is_unknown_command_reply(text))
        return make_error_code(client_errc::unsupported_version);
    text = trim_trailing_newlines(text);
    if (trim(text) == "invalid arguments")
        return make_error_code(client_errc::invalid_argument);
    replica_command_output out;
    std::size_t pos = 0;
    bool first = true;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            nl = text.size();
        auto line = text.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        pos = nl + 1;
        if (first) {
            if (!parse_summary(line, out.processed, out.not_found))
                return bad_json();
            first = false;
        } else if (is_entry_line(line)) {
            replica_command_entry entry;
            if (!parse_entry_line(line, entry))
                return bad_json();
            out.entries.push_back(std::move(entry));
        } else {
            // A continuation line of the previous entry's multi-line result (verbatim).
            if (out.entries.empty())
                return bad_json();
            auto& r = out.entries.back().result;
            r.push_back('\n');
            r.append(line);
        }
        if (nl == text.size())
            break;
    }
    if (first)
        return bad_json();
    return out;
}

std::vector<std::string> replica_command_args(std::int32_t app_id) {
    return {std::to_string(app_id)};
}

std::vector<std::string> replica_command_args(const std::vector<partition_id>& pids) {
    if (pids.empty())
        return {};
    std::string joined;
    for (const auto& pid : pids) {
        if (!joined.empty())
            joined.push_back(',');
        joined += to_string(pid);
    }
    return {joined};
}

// ---- replica.query-progress -----------------------------------------------------------------

result<replica_progress> parse_replica_progress_json(std::string_view json_text) {
    json::value storage;
    auto obj = parse_json_object(json_text, storage);
    if (!obj)
        return obj.error();
    const auto& o = **obj;
    replica_progress p;
    auto lcd = int_member(o, "last_committed_decree");
    auto mpd = int_member(o, "max_prepared_decree");
    if (!lcd || !mpd)
        return bad_json();
    p.last_committed_decree = *lcd;
    p.max_prepared_decree = *mpd;
    p.max_plog_decree = int_member(o, "max_plog_decree").value_or(-1);
    p.max_plog_decree_on_disk = int_member(o, "max_plog_decree_on_disk").value_or(-1);
    p.max_plog_commit_on_disk = int_member(o, "max_plog_commit_on_disk").value_or(-1);
    p.last_applied_decree = int_member(o, "last_applied_decree").value_or(-1);
    p.last_flushed_decree = int_member(o, "last_flushed_decree").value_or(-1);
    p.last_durable_decree = int_member(o, "last_durable_decree").value_or(-1);
    p.max_gc_decree = int_member(o, "max_gc_decree").value_or(-1);
    if (const auto* dups = o.if_contains("duplications")) {
        if (!dups->is_array())
            return bad_json();
        for (const auto& d : dups->get_array()) {
            if (!d.is_object())
                return bad_json();
            const auto& dobj = d.get_object();
            dup_replica_progress dp;
            auto dupid = int_member(dobj, "dupid");
            if (!dupid)
                return bad_json();
            dp.dupid = *dupid;
            dp.remote_cluster_name = string_member(dobj, "remote_cluster_name").value_or("");
            dp.remote_app_name = string_member(dobj, "remote_app_name").value_or("");
            // Current names first; the mid-2024 names meant the same two values (§2.5): the old
            // "confirmed_decree" is the replica-acknowledged value, not the meta-persisted one.
            auto confirmed = int_member(dobj, "replica_confirmed_decree");
            if (!confirmed)
                confirmed = int_member(dobj, "confirmed_decree");
            auto persisted = int_member(dobj, "meta_persisted_decree");
            if (!persisted)
                persisted = int_member(dobj, "persisted_decree");
            if (!confirmed || !persisted)
                return bad_json();
            dp.replica_confirmed_decree = *confirmed;
            dp.meta_persisted_decree = *persisted;
            p.duplications.push_back(std::move(dp));
        }
    }
    return p;
}

result<query_progress_output> parse_query_progress(std::string_view text) {
    auto framed = parse_replica_command_output(text);
    if (!framed)
        return framed.error();
    query_progress_output out;
    out.processed = framed->processed;
    out.not_found = framed->not_found;
    for (auto& e : framed->entries) {
        progress_entry pe;
        pe.pid = e.pid;
        pe.node = std::move(e.node);
        pe.role = e.role;
        pe.not_found = e.not_found;
        if (!e.not_found) {
            auto p = parse_replica_progress_json(e.result);
            if (!p)
                return p.error();
            pe.progress = std::move(*p);
        }
        out.entries.push_back(std::move(pe));
    }
    return out;
}

// ---- replica.query-app-envs -------------------------------------------------------------------

result<query_app_envs_output> parse_query_app_envs(std::string_view text) {
    auto framed = parse_replica_command_output(text);
    if (!framed)
        return framed.error();
    query_app_envs_output out;
    out.processed = framed->processed;
    out.not_found = framed->not_found;
    for (auto& e : framed->entries) {
        app_envs_entry ae;
        ae.pid = e.pid;
        ae.node = std::move(e.node);
        ae.role = e.role;
        ae.not_found = e.not_found;
        if (!e.not_found) {
            std::string_view rest = e.result;
            while (!rest.empty()) {
                const auto comma = rest.find(',');
                const auto piece = rest.substr(0, comma);
                rest =
                    comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
                if (piece.empty())
                    continue;
                const auto eq = piece.find('=');
                if (eq == std::string_view::npos || eq == 0)
                    return bad_json();
                ae.envs[std::string(piece.substr(0, eq))] = std::string(piece.substr(eq + 1));
            }
        }
        out.entries.push_back(std::move(ae));
    }
    return out;
}

// ---- replica.disable-empty-write --------------------------------------------------------------

result<empty_write_reply> parse_disable_empty_write(std::string_view text) {
    if (is_unknown_command_reply(text))
        return make_error_code(client_errc::unsupported_version);
    json::value storage;
    auto obj = parse_json_object(text, storage);
    if (!obj)
        return obj.error();
    empty_write_reply out;
    auto err = string_member(**obj, "error");
    if (!err)
        return bad_json();
    out.error = std::move(*err);
    if (const auto* v = (*obj)->if_contains("replica.disable-empty-write")) {
        // The server sends the string "true"/"false"; accept a JSON bool as well.
        if (v->is_bool())
            out.disabled = v->get_bool();
        else if (v->is_string() && v->get_string() == "true")
            out.disabled = true;
        else if (v->is_string() && v->get_string() == "false")
            out.disabled = false;
        else
            return bad_json();
    }
    return out;
}

} // namespace tablemigrator::replica
