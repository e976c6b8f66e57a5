// Replica THFT handlers. Frame-level rejections (no replica, deny, not primary) are error-only
// frames; storage outcomes live in the response's `error` field (data-plane §3). Misrouted
// requests, which a real server would serve from the wrong partition or abort on, are logged
// loudly, recorded in the ground truth and answered ERR_INVALID_PARAMETERS so a test notices.
#include "sim/replica_rpc.hpp"

#include "sim/replica_service.hpp"

#include <tablemigrator/wire/key.hpp>
#include <tablemigrator/wire/message.hpp>
#include <tablemigrator/wire/types.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace tablemigrator::sim {

namespace {

constexpr std::int64_t epoch_2016 = 1451606400;
constexpr std::size_t max_write_size = 1024 * 1024;

enum class kind { write, read, other };

kind classify(std::string_view n) {
    if (n == "RPC_RRDB_RRDB_PUT" || n == "RPC_RRDB_RRDB_MULTI_PUT" || n == "RPC_RRDB_RRDB_REMOVE" ||
        n == "RPC_RRDB_RRDB_MULTI_REMOVE" || n == "RPC_RRDB_RRDB_INCR" ||
        n == "RPC_RRDB_RRDB_CHECK_AND_SET" || n == "RPC_RRDB_RRDB_CHECK_AND_MUTATE" ||
        n == "RPC_RRDB_RRDB_DUPLICATE" || n == "RPC_RRDB_RRDB_BULK_LOAD")
        return kind::write;
    if (n == "RPC_RRDB_RRDB_GET" || n == "RPC_RRDB_RRDB_TTL" || n == "RPC_RRDB_RRDB_MULTI_GET" ||
        n == "RPC_RRDB_RRDB_SORTKEY_COUNT" || n == "RPC_RRDB_RRDB_GET_SCANNER" ||
        n == "RPC_RRDB_RRDB_SCAN" || n == "RPC_RRDB_RRDB_CLEAR_SCANNER" ||
        n == "RPC_RRDB_RRDB_BATCH_GET")
        return kind::read;
    return kind::other;
}

bool non_idempotent(std::string_view n) {
    return n == "RPC_RRDB_RRDB_INCR" || n == "RPC_RRDB_RRDB_CHECK_AND_SET" ||
           n == "RPC_RRDB_RRDB_CHECK_AND_MUTATE";
}

std::string ack(const wire::request_frame& f) {
    return f.name + "_ACK";
}

std::optional<wire::bytes> frame_error(const wire::request_frame& f, rdsn_errc e) {
    return wire::encode_error_response(rdsn_error_name(make_error_code(e)), ack(f), f.seqid);
}

template <class Req>
std::optional<Req> args(const wire::request_frame& f) {
    auto r = wire::decode_call_args<Req>(f);
    if (!r) {
        spdlog::warn("pegasus-sim: cannot decode the args of {} (seqid {}): {}", f.name, f.seqid,
                     r.error().message());
        return std::nullopt;
    }
    return std::move(*r);
}

struct context {
    cluster_state& c;
    int node;
    const wire::request_frame& f;
    table_state& t;
    partition_state& p;
    std::string server;
    std::int64_t now_2016() const { return c.owner().unix_us() / 1000000 - epoch_2016; }
};

bool expired(std::uint32_t expire_ts, std::int64_t now_2016) {
    return expire_ts > 0 && static_cast<std::int64_t>(expire_ts) <= now_2016;
}

// A stored record as seen by reads: nullopt when absent or expired.
std::optional<stored_value> read_record(const context& x, const std::string& key) {
    auto it = x.p.data.find(key);
    if (it == x.p.data.end())
        return std::nullopt;
    auto v = decode_stored_value(it->second, x.t.data_version);
    if (!v || expired(v->expire_ts, x.now_2016()))
        return std::nullopt;
    return v;
}

std::pair<std::string, std::string> split_key(std::string_view full) {
    if (full.size() < 2)
        return {};
    std::size_t len =
        (static_cast<std::uint8_t>(full[0]) << 8) | static_cast<std::uint8_t>(full[1]);
    if (len + 2 > full.size())
        return {};
    return {std::string(full.substr(2, len)), std::string(full.substr(2 + len))};
}

bool filter_match(std::int32_t type, const std::string& pattern, const std::string& s) {
    switch (type) {
    case 1:
        return s.find(pattern) != std::string::npos;
    case 2:
        return s.rfind(pattern, 0) == 0;
    case 3:
        return s.size() >= pattern.size() &&
               s.compare(s.size() - pattern.size(), pattern.size(), pattern) == 0;
    default:
        return true;
    }
}

wire::bytes do_put(context& x) {
    auto req = args<idl::update_request>(x.f);
    idl::update_response r;
    if (req) {
        write_op op;
        op.key = req->key.str();
        op.value = req->value.str();
        op.expire_ts = static_cast<std::uint32_t>(req->expire_ts_seconds);
        r.decree = x.c.apply_write(x.t, x.p.index, x.f.name, {op}, x.f.body.size());
    } else {
        r.error = 4;
    }
    r.app_id = x.t.app_id;
    r.partition_index = x.p.index;
    r.server = x.server;
    return wire::encode_reply(ack(x.f), x.f.seqid, r);
}

wire::bytes do_remove(context& x) {
    auto key = args<idl::blob>(x.f);
    idl::update_response r;
    if (key) {
        write_op op;
        op.op = write_op::kind::remove;
        op.key = key->str();
        r.decree = x.c.apply_write(x.t, x.p.index, x.f.name, {op}, x.f.body.size());
    } else {
        r.error = 4;
    }
    r.app_id = x.t.app_id;
    r.partition_index = x.p.index;
    r.server = x.server;
    return wire::encode_reply(ack(x.f), x.f.seqid, r);
}

wire::bytes do_multi_put(context& x) {
    auto req = args<idl::multi_put_request>(x.f);
    idl::update_response r;
    std::vector<write_op> ops;
    if (req)
        for (const auto& kv : req->kvs) {
            write_op op;
            op.key = encode_full_key(req->hash_key.str(), kv.key.str());
            op.value = kv.value.str();
            op.expire_ts = static_cast<std::uint32_t>(req->expire_ts_seconds);
            ops.push_back(std::move(op));
        }
    // A rejected write still consumes its decree (an empty record keeps the decree moving, §7.1).
    if (!req || ops.empty()) {
        r.error = 4;
        r.decree = x.c.apply_write(x.t, x.p.index, "", {}, 0);
    } else {
        r.decree = x.c.apply_write(x.t, x.p.index, x.f.name, std::move(ops), x.f.body.size());
    }
    r.app_id = x.t.app_id;
    r.partition_index = x.p.index;
    r.server = x.server;
    return wire::encode_reply(ack(x.f), x.f.seqid, r);
}

wire::bytes do_multi_remove(context& x) {
    auto req = args<idl::multi_remove_request>(x.f);
    idl::multi_remove_response r;
    std::vector<write_op> ops;
    if (req)
        for (const auto& sk : req->sort_keys) {
            write_op op;
            op.op = write_op::kind::remove;
            op.key = encode_full_key(req->hash_key.str(), sk.str());
            ops.push_back(std::move(op));
        }
    if (!req || ops.empty()) {
        r.error = 4;
        r.decree = x.c.apply_write(x.t, x.p.index, "", {}, 0);
    } else {
        r.count = static_cast<std::int64_t>(ops.size());
        r.decree = x.c.apply_write(x.t, x.p.index, x.f.name, std::move(ops), x.f.body.size());
    }
    r.app_id = x.t.app_id;
    r.partition_index = x.p.index;
    r.server = x.server;
    return wire::encode_reply(ack(x.f), x.f.seqid, r);
}

wire::bytes do_get(context& x) {
    auto key = args<idl::blob>(x.f);
    idl::read_response r;
    std::optional<stored_value> v;
    if (key)
        v = read_record(x, key->str());
    r.error = v ? 0 : 1;
    if (v)
        r.value = idl::blob(v->user); // always written, empty when not found
    r.app_id = x.t.app_id;
    r.partition_index = x.p.index;
    r.server = x.server;
    return wire::encode_reply(ack(x.f), x.f.seqid, r);
}

wire::bytes do_ttl(context& x) {
    auto key = args<idl::blob>(x.f);
    idl::ttl_response r;
    std::optional<stored_value> v;
    if (key)
        v = read_record(x, key->str());
    r.error = v ? 0 : 1;
    if (v)
        r.ttl_seconds =
            v->expire_ts == 0 ? -1 : static_cast<std::int32_t>(v->expire_ts - x.now_2016());
    r.app_id = x.t.app_id;
    r.partition_index = x.p.index;
    r.server = x.server;
    return wire::encode_reply(ack(x.f), x.f.seqid, r);
}

wire::bytes do_multi_get(context& x) {
    auto req = args<idl::multi_get_request>(x.f);
    idl::multi_get_response r;
    r.app_id = x.t.app_id;
    r.partition_index = x.p.index;
    r.server = x.server;
    if (!req) {
        r.error = 4;
        return wire::encode_reply(ack(x.f), x.f.seqid, r);
    }
    const auto hk = req->hash_key.str();
    auto emit = [&](const std::string& sort_key, const stored_value& v) {
        idl::key_value kv;
        kv.key = idl::blob(sort_key);
        if (!req->no_value)
            kv.value = idl::blob(v.user);
        r.kvs.push_back(std::move(kv));
    };
    if (!req->sort_keys.empty()) {
        for (const auto& sk : req->sort_keys)
            if (auto v = read_record(x, encode_full_key(hk, sk.str())))
                emit(sk.str(), *v);
        return wire::encode_reply(ack(x.f), x.f.seqid, r);
    }
    std::int32_t limit = req->max_kv_count > 0 ? std::min(req->max_kv_count, 3000) : 3000;
    auto prefix = encode_full_key(hk, "");
    for (auto it = x.p.data.lower_bound(encode_full_key(hk, req->start_sortkey.str()));
         it != x.p.data.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0)
            break;
        auto sk = it->first.substr(prefix.size());
        if (sk == req->start_sortkey.str() && !req->start_inclusive)
            continue;
        if (!req->stop_sortkey.empty()) {
            auto cmp = sk.compare(req->stop_sortkey.str());
            if (cmp > 0 || (cmp == 0 && !req->stop_inclusive))
                break;
        }
        if (!filter_match(req->sort_key_filter_type, req->sort_key_filter_pattern.str(), sk))
            continue;
        auto v = read_record(x, it->first);
        if (!v)
            continue;
        if (static_cast<std::int32_t>(r.kvs.size()) >= limit) {
            r.error = 7; // kIncomplete: limits hit
            break;
        }
        emit(sk, *v);
    }
    return wire::encode_reply(ack(x.f), x.f.seqid, r);
}

// Fills one scanner batch from ctx and returns the context id (-1 when the range is done).
std::int64_t scan_batch(context& x, scan_context ctx, idl::scan_response& r) {
    std::int32_t count = 0;
    auto it = x.p.data.lower_bound(ctx.next_key);
    for (; it != x.p.data.end(); ++it) {
        if (!ctx.stop_key.empty()) {
            auto cmp = it->first.compare(ctx.stop_key);
            if (cmp > 0 || (cmp == 0 && !ctx.stop_inclusive)) {
                it = x.p.data.end();
                break;
            }
        }
        if (count >= ctx.batch_size)
            break;
        auto [hk, sk] = split_key(it->first);
        if (!filter_match(ctx.hash_filter_type, ctx.hash_filter, hk) ||
            !filter_match(ctx.sort_filter_type, ctx.sort_filter, sk))
            continue;
        auto v = read_record(x, it->first);
        if (!v)
            continue;
        ++count;
        if (ctx.only_return_count)
            continue;
        idl::key_value kv;
        kv.key = idl::blob(it->first);
        if (!ctx.no_value)
            kv.value = idl::blob(v->user);
        if (ctx.return_expire_ts)
            kv.__set_expire_ts_seconds(static_cast<std::int32_t>(v->expire_ts));
        r.kvs.push_back(std::move(kv));
    }
    if (ctx.only_return_count)
        r.__set_kv_count(count);
    if (it == x.p.data.end())
        return -1;
    ctx.next_key = it->first;
    auto& n = x.c.nodes[static_cast<std::size_t>(x.node)];
    auto id = n.next_context_id++;
    n.scanners[id] = std::move(ctx);
    return id;
}

wire::bytes do_get_scanner(context& x) {
    auto req = args<idl::get_scanner_request>(x.f);
    idl::scan_response r;
    r.app_id = x.t.app_id;
    r.partition_index = x.p.index;
    r.server = x.server;
    r.context_id = -1;
    if (!req) {
        r.error = 4;
        return wire::encode_reply(ack(x.f), x.f.seqid, r);
    }
    if (req->hash_key_filter_type < 0 || req->hash_key_filter_type > 3 ||
        req->sort_key_filter_type < 0 || req->sort_key_filter_type > 3) {
        r.error = 4;
        return wire::encode_reply(ack(x.f), x.f.seqid, r);
    }
    scan_context ctx;
    ctx.app_id = x.t.app_id;
    ctx.pidx = x.p.index;
    ctx.next_key = req->start_key.str();
    if (!req->start_inclusive)
        ctx.next_key.push_back('\0'); // the smallest key after start_key
    ctx.stop_key = req->stop_key.str();
    ctx.stop_inclusive = req->stop_inclusive;
    ctx.batch_size = req->batch_size <= 0 || req->batch_size > 1000 ? 1000 : req->batch_size;
    ctx.no_value = req->no_value;
    ctx.return_expire_ts = req->__isset.return_expire_ts && req->return_expire_ts;
    ctx.only_return_count = req->__isset.only_return_count && req->only_return_count;
    ctx.hash_filter_type = req->hash_key_filter_type;
    ctx.hash_filter = req->hash_key_filter_pattern.str();
    ctx.sort_filter_type = req->sort_key_filter_type;
    ctx.sort_filter = req->sort_key_filter_pattern.str();
    r.context_id = scan_batch(x, std::move(ctx), r);
    return wire::encode_reply(ack(x.f), x.f.seqid, r);
}

wire::bytes do_scan(context& x) {
    auto req = args<idl::scan_request>(x.f);
    idl::scan_response r;
    r.app_id = x.t.app_id;
    r.partition_index = x.p.index;
    r.server = x.server;
    auto& n = x.c.nodes[static_cast<std::size_t>(x.node)];
    auto it = req ? n.scanners.find(req->context_id) : n.scanners.end();
    if (it == n.scanners.end() || it->second.app_id != x.t.app_id || it->second.pidx != x.p.index) {
        r.error = 1; // unknown or expired context
        return wire::encode_reply(ack(x.f), x.f.seqid, r);
    }
    auto ctx = std::move(it->second);
    n.scanners.erase(it); // re-registered under a fresh id for the next batch
    r.context_id = scan_batch(x, std::move(ctx), r);
    return wire::encode_reply(ack(x.f), x.f.seqid, r);
}

std::optional<wire::bytes> node_level(cluster_state& c, int node, const wire::request_frame& f) {
    if (f.name == "RPC_CLI_CLI_CALL") {
        auto req = args<idl::command>(f);
        if (!req)
            return std::nullopt;
        return wire::encode_string_reply(ack(f), f.seqid,
                                         replica_remote_command(c, node, req->cmd, req->arguments));
    }
    if (f.name == "RPC_QUERY_PN_DECREE") {
        auto req = args<idl::query_replica_decree_request>(f);
        if (!req)
            return std::nullopt;
        idl::query_replica_decree_response r;
        auto* t = c.find_table(req->pid.app_id());
        if (t && c.node_hosts(*t, req->pid.partition_index(), node)) {
            r.err = idl::rdsn_error(rdsn_errc::ERR_OK);
            r.last_decree =
                t->partitions[static_cast<std::size_t>(req->pid.partition_index())].last_committed;
        } else {
            r.err = idl::rdsn_error(rdsn_errc::ERR_OBJECT_NOT_FOUND);
        }
        return wire::encode_reply(ack(f), f.seqid, r);
    }
    if (f.name == "RPC_QUERY_REPLICA_INFO") {
        if (!args<idl::query_replica_info_request>(f))
            return std::nullopt;
        idl::query_replica_info_response r;
        r.err = idl::rdsn_error(rdsn_errc::ERR_OK);
        for (const auto& [id, t] : c.tables)
            for (const auto& p : t.partitions) {
                if (!c.node_hosts(t, p.index, node))
                    continue;
                idl::replica_info ri;
                ri.pid = idl::gpid(id, p.index);
                ri.ballot = p.ballot;
                ri.status =
                    p.primary == node ? 3 : 4; // PS_PRIMARY / PS_SECONDARY (UNVERIFIED numbers)
                ri.last_committed_decree = p.last_committed;
                ri.last_prepared_decree = p.last_committed;
                ri.last_durable_decree = p.last_durable;
                ri.app_type = "pegasus";
                ri.disk_tag = "default";
                r.replicas.push_back(std::move(ri));
            }
        return wire::encode_reply(ack(f), f.seqid, r);
    }
    return frame_error(f, rdsn_errc::ERR_HANDLER_NOT_FOUND);
}

// The routing hash the request's content implies, when it has one.
std::optional<std::uint64_t> content_hash(const wire::request_frame& f) {
    const auto& n = f.name;
    if (n == "RPC_RRDB_RRDB_PUT") {
        if (auto r = wire::decode_call_args<idl::update_request>(f))
            return key_hash(r->key.view());
    } else if (n == "RPC_RRDB_RRDB_REMOVE" || n == "RPC_RRDB_RRDB_GET" ||
               n == "RPC_RRDB_RRDB_TTL") {
        if (auto r = wire::decode_call_args<idl::blob>(f))
            return key_hash(r->view());
    } else if (n == "RPC_RRDB_RRDB_MULTI_PUT") {
        if (auto r = wire::decode_call_args<idl::multi_put_request>(f))
            return crc64(r->hash_key.view());
    } else if (n == "RPC_RRDB_RRDB_MULTI_REMOVE") {
        if (auto r = wire::decode_call_args<idl::multi_remove_request>(f))
            return crc64(r->hash_key.view());
    } else if (n == "RPC_RRDB_RRDB_MULTI_GET") {
        if (auto r = wire::decode_call_args<idl::multi_get_request>(f))
            return crc64(r->hash_key.view());
    }
    return std::nullopt;
}

// Returns a description of the routing violation, or empty when the request is routed correctly.
std::string routing_violation(const table_state& t, const wire::request_frame& f) {
    const auto& h = f.header;
    auto pidx = static_cast<std::uint64_t>(h.partition_index);
    auto count = static_cast<std::uint64_t>(t.partition_count);
    if (h.header_version == 0 && h.thread_hash != h.app_id * 7919 + h.partition_index)
        return fmt::format("thread_hash {} != app_id*7919+partition_index {}", h.thread_hash,
                           h.app_id * 7919 + h.partition_index);
    if (auto kh = content_hash(f)) {
        if (*kh % count != pidx)
            return fmt::format("key hash {:#x} belongs to partition {}, sent to {}", *kh,
                               *kh % count, pidx);
        if (h.partition_hash != 0 && h.partition_hash != *kh)
            return fmt::format("header partition_hash {:#x} != key hash {:#x}", h.partition_hash,
                               *kh);
        return {};
    }
    if (f.name == "RPC_RRDB_RRDB_GET_SCANNER" && h.partition_hash % count != pidx)
        return fmt::format("partition_hash {:#x} maps to partition {}, sent to {}",
                           h.partition_hash, h.partition_hash % count, pidx);
    return {};
}

} // namespace

std::uint64_t crc64(std::string_view data) noexcept {
    return wire::crc64(data);
}

std::uint64_t key_hash(std::string_view full) noexcept {
    if (full.size() < 2)
        return 0;
    std::size_t len =
        (static_cast<std::uint8_t>(full[0]) << 8) | static_cast<std::uint8_t>(full[1]);
    if (len > 0)
        return crc64(full.substr(2, len));
    return crc64(full.substr(2));
}

std::string encode_full_key(std::string_view hash_key, std::string_view sort_key) {
    std::string k;
    k.push_back(static_cast<char>((hash_key.size() >> 8) & 0xff));
    k.push_back(static_cast<char>(hash_key.size() & 0xff));
    k.append(hash_key);
    k.append(sort_key);
    return k;
}

std::optional<wire::bytes> handle_replica_request(cluster_state& c, int node,
                                                  const wire::request_frame& f) {
    auto k = classify(f.name);
    if (k == kind::other || f.header.app_id <= 0)
        return node_level(c, node, f); // app_id 0 never reaches the replica layer (§3.3)
    auto* t = c.find_table(f.header.app_id);
    if (!t || !c.node_hosts(*t, f.header.partition_index, node))
        return frame_error(f, rdsn_errc::ERR_OBJECT_NOT_FOUND);
    auto& n = c.nodes[static_cast<std::size_t>(node)];
    auto applied = n.applied.find(t->app_id);
    if (applied != n.applied.end()) {
        const auto& deny = applied->second.deny;
        bool denied = (k == kind::write && deny.writes) || (k == kind::read && deny.reads);
        if (denied) {
            if (deny.timeout)
                return std::nullopt; // dropped silently: the client times out
            return frame_error(f, rdsn_errc::ERR_INVALID_STATE);
        }
    }
    if (k == kind::write && f.body.size() > max_write_size)
        return frame_error(f, rdsn_errc::ERR_INVALID_DATA);
    if (non_idempotent(f.name) && !t->dups.empty())
        return frame_error(f, rdsn_errc::ERR_OPERATION_DISABLED);
    auto& p = t->partitions[static_cast<std::size_t>(f.header.partition_index)];
    if (p.primary != node)
        return frame_error(f, rdsn_errc::ERR_INVALID_STATE);
    if (f.name != "RPC_RRDB_RRDB_SCAN" && f.name != "RPC_RRDB_RRDB_CLEAR_SCANNER") {
        auto why = routing_violation(*t, f);
        if (!why.empty()) {
            auto msg =
                fmt::format("{} seqid {} to {} gpid {}.{}: {}", f.name, f.seqid, node_name(c, node),
                            f.header.app_id, f.header.partition_index, why);
            spdlog::error("pegasus-sim: MISROUTED REQUEST {}", msg);
            c.routing_violations.push_back(std::move(msg));
            return frame_error(f, rdsn_errc::ERR_INVALID_PARAMETERS);
        }
    }
    context x{c, node, f, *t, p, node_name(c, node)};
    const auto& name = f.name;
    if (name == "RPC_RRDB_RRDB_PUT")
        return do_put(x);
    if (name == "RPC_RRDB_RRDB_REMOVE")
        return do_remove(x);
    if (name == "RPC_RRDB_RRDB_MULTI_PUT")
        return do_multi_put(x);
    if (name == "RPC_RRDB_RRDB_MULTI_REMOVE")
        return do_multi_remove(x);
    if (name == "RPC_RRDB_RRDB_GET")
        return do_get(x);
    if (name == "RPC_RRDB_RRDB_TTL")
        return do_ttl(x);
    if (name == "RPC_RRDB_RRDB_MULTI_GET")
        return do_multi_get(x);
    if (name == "RPC_RRDB_RRDB_GET_SCANNER")
        return do_get_scanner(x);
    if (name == "RPC_RRDB_RRDB_SCAN")
        return do_scan(x);
    if (name == "RPC_RRDB_RRDB_CLEAR_SCANNER") {
        if (auto id = wire::decode_call_i64(f))
            n.scanners.erase(*id);
        return std::nullopt; // oneway: never answered
    }
    // Atomic writes are counted (preflight warns about tables that receive them) but their
    // request structs are not in our protocol docs, so they are not executed.
    if (name == "RPC_RRDB_RRDB_INCR")
        ++p.incr_requests;
    else if (name == "RPC_RRDB_RRDB_CHECK_AND_SET")
        ++p.check_and_set_requests;
    else if (name == "RPC_RRDB_RRDB_CHECK_AND_MUTATE")
        ++p.check_and_mutate_requests;
    // Not simulated (INCR, CHECK_AND_*, SORTKEY_COUNT, BATCH_GET, DUPLICATE, BULK_LOAD).
    return frame_error(f, rdsn_errc::ERR_HANDLER_NOT_FOUND);
}

} // namespace tablemigrator::sim
