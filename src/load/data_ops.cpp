// Data-plane RPC attempts: request structs, headers, reply decoding.
#include "load/data_ops.hpp"

#include "load/reaction.hpp"

#include <tablemigrator/wire/key.hpp>
#include <tablemigrator/wire/message.hpp>
#include <tablemigrator/wire/names.hpp>

#include <rrdb_types.h>

namespace tablemigrator::load {

namespace asio = boost::asio;

namespace {

wire::request_header header_for(const key_target& t) {
    wire::request_header h;
    h.app_id = t.app_id;
    h.partition_index = t.partition_index;
    h.thread_hash = t.thread_hash;
    h.partition_hash = t.partition_hash;
    return h;
}

template <class Resp>
asio::awaitable<result<Resp>> call(std::shared_ptr<rpc::rpc_session> s, std::string name,
                                   key_target t, wire::bytes args,
                                   std::chrono::milliseconds timeout) {
    // Named awaitable: g++ 12 mishandles class-type temporaries inside co_await expressions.
    auto op = s->call(std::move(name), header_for(t), std::move(args), timeout);
    auto frame = co_await std::move(op);
    if (!frame)
        co_return frame.error();
    co_return wire::decode_reply<Resp>(*frame);
}

result<write_ack> to_ack(result<idl::update_response> r) {
    if (!r)
        return r.error();
    if (r->error != 0)
        return make_rocksdb_error(r->error);
    return write_ack{r->decree, r->server};
}

result<scan_batch> to_batch(result<idl::scan_response> r) {
    if (!r)
        return r.error();
    if (r->error != 0 && r->error != 1 && r->error != 7)
        return make_rocksdb_error(r->error);
    scan_batch b;
    b.error = r->error;
    b.context_id = r->context_id;
    b.kvs.reserve(r->kvs.size());
    for (auto& kv : r->kvs)
        b.kvs.emplace_back(kv.key.str(), kv.value.str());
    return b;
}

} // namespace

asio::awaitable<result<write_ack>> put(std::shared_ptr<rpc::rpc_session> session, key_target target,
                                       std::string hash_key, std::string sort_key,
                                       std::string value, std::chrono::milliseconds timeout) {
    auto key = wire::encode_full_key(hash_key, sort_key);
    if (!key)
        co_return key.error();
    idl::update_request req;
    req.key = idl::blob(std::span<const std::uint8_t>(*key));
    req.value = idl::blob(std::move(value));
    req.expire_ts_seconds = 0;
    auto op = call<idl::update_response>(std::move(session), std::string(wire::rpc_rrdb_put),
                                         target, wire::serialize_struct(req), timeout);
    auto r = co_await std::move(op);
    co_return to_ack(std::move(r));
}

asio::awaitable<result<write_ack>> multi_put(std::shared_ptr<rpc::rpc_session> session,
                                             key_target target, std::string hash_key,
                                             std::vector<std::pair<std::string, std::string>> kvs,
                                             std::chrono::milliseconds timeout) {
    idl::multi_put_request req;
    req.hash_key = idl::blob(std::move(hash_key));
    for (auto& [sk, v] : kvs) {
        idl::key_value kv;
        kv.key = idl::blob(std::move(sk));
        kv.value = idl::blob(std::move(v));
        req.kvs.push_back(std::move(kv));
    }
    req.expire_ts_seconds = 0;
    auto op = call<idl::update_response>(std::move(session), std::string(wire::rpc_rrdb_multi_put),
                                         target, wire::serialize_struct(req), timeout);
    auto r = co_await std::move(op);
    co_return to_ack(std::move(r));
}

asio::awaitable<result<std::optional<std::string>>> get(std::shared_ptr<rpc::rpc_session> session,
                                                        key_target target, std::string hash_key,
                                                        std::string sort_key,
                                                        std::chrono::milliseconds timeout) {
    auto key = wire::encode_full_key(hash_key, sort_key);
    if (!key)
        co_return key.error();
    // GET's args field 1 is the key blob itself (data-plane §1).
    idl::blob k{std::span<const std::uint8_t>(*key)};
    auto op = call<idl::read_response>(std::move(session), std::string(wire::rpc_rrdb_get), target,
                                       wire::serialize_struct(k), timeout);
    auto r = co_await std::move(op);
    if (!r)
        co_return r.error();
    if (r->error == 1)
        co_return std::optional<std::string>();
    if (r->error != 0)
        co_return make_rocksdb_error(r->error);
    co_return std::optional<std::string>(r->value.str());
}

asio::awaitable<result<scan_batch>> get_scanner(std::shared_ptr<rpc::rpc_session> session,
                                                key_target target, std::string start_key,
                                                bool start_inclusive, std::int32_t batch_size,
                                                std::chrono::milliseconds timeout) {
    idl::get_scanner_request req;
    // `00 00` .. `FF FF` covers every key of the partition (data-plane §6).
    req.start_key =
        start_key.empty() ? idl::blob(std::string("\0\0", 2)) : idl::blob(std::move(start_key));
    req.stop_key = idl::blob(std::string("\xff\xff", 2));
    req.start_inclusive = start_inclusive;
    req.stop_inclusive = false;
    req.batch_size = batch_size;
    req.no_value = false;
    req.hash_key_filter_type = 0;
    req.sort_key_filter_type = 0;
    req.__set_validate_partition_hash(true);
    auto op = call<idl::scan_response>(std::move(session), std::string(wire::rpc_rrdb_get_scanner),
                                       target, wire::serialize_struct(req), timeout);
    auto r = co_await std::move(op);
    co_return to_batch(std::move(r));
}

asio::awaitable<result<scan_batch>> scan(std::shared_ptr<rpc::rpc_session> session,
                                         key_target target, std::int64_t context_id,
                                         std::chrono::milliseconds timeout) {
    idl::scan_request req;
    req.context_id = context_id;
    auto op = call<idl::scan_response>(std::move(session), std::string(wire::rpc_rrdb_scan), target,
                                       wire::serialize_struct(req), timeout);
    auto r = co_await std::move(op);
    co_return to_batch(std::move(r));
}

} // namespace tablemigrator::load
