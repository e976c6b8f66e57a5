// Typed message tests: every documented vector (TV1–TV14, D1–D11) is built from our generated
// types, encoded and compared byte for byte, then decoded back and checked field by field.
#include <tablemigrator/core/error.hpp>
#include <tablemigrator/wire/message.hpp>
#include <tablemigrator/wire/types.hpp>

#include "hex.hpp"
#include "vectors.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace tablemigrator;
using namespace tablemigrator::wire;
namespace idl = tablemigrator::idl;
using tablemigrator::wire::test::hex;
using tablemigrator::wire::test::to_hex;
namespace v = tablemigrator::wire::test::vectors;

namespace {

response_frame frame_of(std::string_view hex_text) {
    auto f = decode_response_frame(hex(hex_text));
    REQUIRE(f.has_value());
    return *f;
}

request_frame request_of(std::string_view hex_text) {
    request_decoder d;
    d.feed(hex(hex_text));
    auto f = d.next();
    REQUIRE(f.has_value());
    REQUIRE(f->has_value());
    return **f;
}

template <class T>
T reply_of(std::string_view hex_text) {
    auto r = decode_reply<T>(frame_of(hex_text));
    REQUIRE(r.has_value());
    return *r;
}

template <class T>
T args_of(std::string_view hex_text) {
    auto r = decode_call_args<T>(request_of(hex_text));
    REQUIRE(r.has_value());
    return *r;
}

request_header data_header(std::int32_t pidx, std::uint32_t timeout, std::uint64_t phash) {
    request_header h;
    h.app_id = 2;
    h.partition_index = pidx;
    h.client_timeout_ms = timeout;
    h.thread_hash = 2 * 7919 + pidx;
    h.partition_hash = phash;
    return h;
}

constexpr std::uint64_t hash_a = 0x8C2F8445B4CBFC3Cull;
const std::string key_as = std::string("\x00\x01"
                                       "as",
                                       4);

idl::query_cfg_response tv2_object(bool master_shape) {
    idl::partition_configuration pc;
    pc.pid = idl::gpid(2, 0);
    pc.ballot = 3;
    pc.max_replica_count = 3;
    pc.primary = idl::rpc_address::from_ipv4(127, 0, 0, 1, 34801);
    pc.last_committed_decree = 100;
    pc.partition_flags = 0;
    if (master_shape)
        pc.__set_hp_primary(idl::host_port("localhost", 34801));
    idl::query_cfg_response r;
    r.err = rdsn_errc::ERR_OK;
    r.app_id = 2;
    r.partition_count = 1;
    r.is_stateful = true;
    r.partitions = {pc};
    return r;
}

} // namespace

// ---- meta RPCs (pegasus-protocol.md §1.9) -----------------------------------------------------

TEST_CASE("message: TV1 query_cfg_request encodes and decodes") {
    idl::query_cfg_request req;
    req.app_name = "temp";
    CHECK(to_hex(encode_call(request_header{}, "RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX", 1, req)) ==
          to_hex(hex(v::tv1)));
    const auto back = args_of<idl::query_cfg_request>(v::tv1);
    CHECK(back.app_name == "temp");
    CHECK(back.partition_indices.empty());
}

TEST_CASE("message: TV2 query_cfg_response (master shape with hp_primary) encodes and decodes") {
    const auto obj = tv2_object(true);
    CHECK(to_hex(encode_reply("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX_ACK", 1, obj)) ==
          to_hex(hex(v::tv2)));
    const auto r = reply_of<idl::query_cfg_response>(v::tv2);
    CHECK(r.err.is_ok());
    CHECK(!r.err.to_error_code());
    CHECK(r.app_id == 2);
    CHECK(r.partition_count == 1);
    CHECK(r.is_stateful);
    REQUIRE(r.partitions.size() == 1);
    const auto& p = r.partitions[0];
    CHECK(p.pid == idl::gpid(2, 0));
    CHECK(p.ballot == 3);
    CHECK(p.max_replica_count == 3);
    CHECK(p.primary.to_string() == "127.0.0.1:34801");
    CHECK(p.secondaries.empty());
    CHECK(p.last_drops.empty());
    CHECK(p.last_committed_decree == 100);
    CHECK(bool(p.__isset.hp_primary));
    CHECK(p.hp_primary.to_string() == "localhost:34801");
    CHECK(p.hp_primary.type() == idl::host_type::ipv4);
    CHECK_FALSE(bool(p.__isset.hp_secondaries));
    CHECK(r == obj);
}

TEST_CASE("message: a 2.4-shaped query_cfg_response (no hp fields) decodes") {
    const auto obj = tv2_object(false);
    const bytes frame = encode_reply("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX_ACK", 1, obj);
    CHECK(frame.size() == hex(v::tv2).size() - 19); // the hp_primary field is 19 bytes
    auto f = decode_response_frame(frame);
    REQUIRE(f.has_value());
    auto r = decode_reply<idl::query_cfg_response>(*f);
    REQUIRE(r.has_value());
    CHECK_FALSE(bool(r->partitions.at(0).__isset.hp_primary));
    CHECK(r->partitions.at(0).primary == idl::rpc_address::from_ipv4(127, 0, 0, 1, 34801));
    CHECK(*r == obj);
}

TEST_CASE("message: a master reply with secondaries and hp lists decodes") {
    auto obj = tv2_object(true);
    auto& pc = obj.partitions[0];
    pc.secondaries = {idl::rpc_address::from_ipv4(10, 0, 0, 2, 34801),
                      idl::rpc_address::from_ipv4(10, 0, 0, 3, 34802)};
    pc.last_drops = {idl::rpc_address{}};
    pc.__set_hp_secondaries({idl::host_port("b", 34801), idl::host_port("c", 34802)});
    pc.__set_hp_last_drops({idl::host_port()});
    auto f = decode_response_frame(encode_reply("X_ACK", 9, obj));
    REQUIRE(f.has_value());
    auto r = decode_reply<idl::query_cfg_response>(*f);
    REQUIRE(r.has_value());
    CHECK(*r == obj);
    CHECK(r->partitions[0].secondaries[1].to_string() == "10.0.0.3:34802");
    CHECK(r->partitions[0].last_drops[0].is_invalid());
}

TEST_CASE("message: TV3 error-only frame makes decode_reply return the frame error") {
    const auto f = frame_of(v::tv3);
    auto r = decode_reply<idl::query_cfg_response>(f);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == rdsn_errc::ERR_HANDLER_NOT_FOUND);
    auto s = decode_string_reply(f);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error() == rdsn_errc::ERR_HANDLER_NOT_FOUND);
}

TEST_CASE("message: TV4 command request encodes and decodes") {
    idl::command cmd;
    cmd.cmd = "perf-counters-by-substr";
    cmd.arguments = {"pending_mutations_count"};
    request_header h;
    h.client_timeout_ms = 10000;
    CHECK(to_hex(encode_call(h, "RPC_CLI_CLI_CALL", 5, cmd)) == to_hex(hex(v::tv4)));
    const auto back = args_of<idl::command>(v::tv4);
    CHECK(back == cmd);
}

TEST_CASE("message: TV5 string reply encodes and decodes") {
    const std::string json =
        R"({"result":"OK","timestamp":1,"timestamp_str":"1970-01-01 08:00:01","counters":[]})";
    CHECK(to_hex(encode_string_reply("RPC_CLI_CLI_CALL_ACK", 5, json)) == to_hex(hex(v::tv5)));
    auto s = decode_string_reply(frame_of(v::tv5));
    REQUIRE(s.has_value());
    CHECK(*s == json);
    // A string result is not a struct.
    auto r = decode_reply<idl::query_cfg_response>(frame_of(v::tv5));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == client_errc::decode_failed);
}

TEST_CASE("message: TV6 update_app_env request encodes and decodes") {
    idl::configuration_update_app_env_request req;
    req.app_name = "temp";
    req.op = 1;
    req.__set_keys({"replica.deny_client_request"});
    req.__set_values({"timeout*write"});
    CHECK(to_hex(encode_call(request_header{}, "RPC_CM_UPDATE_APP_ENV", 2, req)) ==
          to_hex(hex(v::tv6)));
    const auto back = args_of<idl::configuration_update_app_env_request>(v::tv6);
    CHECK(back == req);
    CHECK(bool(back.__isset.keys));
    CHECK_FALSE(bool(back.__isset.clear_prefix));
}

TEST_CASE("message: TV7/TV8/TV9 raw custom type payloads") {
    CHECK(to_hex(serialize_struct(idl::gpid(1, 2))) == "00 00 00 02 00 00 00 01");
    CHECK(to_hex(serialize_struct(idl::rpc_address::from_ipv4(127, 0, 0, 1, 34801))) ==
          "7f 00 00 01 87 f1 00 01");
    CHECK(to_hex(serialize_struct(idl::host_port("localhost", 34801))) ==
          to_hex(hex("00 00 00 09 6c 6f 63 61 6c 68 6f 73 74 87 f1 01")));
    CHECK(to_hex(serialize_struct(idl::rpc_address{})) == "00 00 00 00 00 00 00 00");
    CHECK(to_hex(serialize_struct(idl::host_port{})) == "00 00 00 00 00 00 00");

    auto g = deserialize_struct<idl::gpid>(hex("00 00 00 02 00 00 00 01"));
    REQUIRE(g.has_value());
    CHECK(g->app_id() == 1);
    CHECK(g->partition_index() == 2);
    auto a = deserialize_struct<idl::rpc_address>(hex("7f 00 00 01 87 f1 00 01"));
    REQUIRE(a.has_value());
    CHECK(a->to_string() == "127.0.0.1:34801");
    CHECK(a->port() == 34801);
    CHECK(a->is_ipv4());
    auto hp =
        deserialize_struct<idl::host_port>(hex("00 00 00 09 6c 6f 63 61 6c 68 6f 73 74 87 f1 01"));
    REQUIRE(hp.has_value());
    CHECK(hp->host() == "localhost");
    CHECK(hp->port() == 34801);
    CHECK(hp->type() == idl::host_type::ipv4);
}

TEST_CASE("message: TV10 duplication_add_request omits the default checkpoint flag") {
    idl::duplication_add_request req;
    req.app_name = "temp";
    req.remote_cluster_name = "target";
    CHECK(req.is_duplicating_checkpoint);
    // Thrift's C++ code marks an optional field with a default as set; Go omits it when true.
    CHECK(bool(req.__isset.is_duplicating_checkpoint));
    req.__isset.is_duplicating_checkpoint = false;
    CHECK(to_hex(encode_call(request_header{}, "RPC_CM_ADD_DUPLICATION", 3, req)) ==
          to_hex(hex(v::tv10)));
    const auto back = args_of<idl::duplication_add_request>(v::tv10);
    CHECK(back.app_name == "temp");
    CHECK(back.remote_cluster_name == "target");
    CHECK(back.is_duplicating_checkpoint); // absent decodes as the IDL default, true

    // false is written explicitly as `02 00 03 00`.
    req.__set_is_duplicating_checkpoint(false);
    const auto b = serialize_struct(req);
    const auto tail = hex("02 00 03 00 00");
    CHECK(bytes(b.end() - 5, b.end()) == tail);
}

TEST_CASE("message: TV11 duplication_add_response encodes and decodes") {
    idl::duplication_add_response r;
    r.err = rdsn_errc::ERR_OK;
    r.appid = 2;
    r.dupid = 1700000000;
    CHECK(to_hex(encode_reply("RPC_CM_ADD_DUPLICATION_ACK", 3, r)) == to_hex(hex(v::tv11)));
    CHECK(reply_of<idl::duplication_add_response>(v::tv11) == r);
}

TEST_CASE("message: TV12 duplication_query_response with partition_states") {
    idl::duplication_partition_state ps;
    ps.confirmed_decree = 100;
    ps.last_committed_decree = 100;
    idl::duplication_entry e;
    e.dupid = 1700000000;
    e.status = 3;
    e.remote = "target";
    e.create_ts = 1700000000000;
    e.__set_fail_mode(0);
    e.__set_partition_states({{0, ps}});
    idl::duplication_query_response r;
    r.err = rdsn_errc::ERR_OK;
    r.appid = 2;
    r.entry_list = {e};
    CHECK(to_hex(encode_reply("RPC_CM_QUERY_DUPLICATION_ACK", 4, r)) == to_hex(hex(v::tv12)));
    const auto back = reply_of<idl::duplication_query_response>(v::tv12);
    CHECK(back == r);
    REQUIRE(back.entry_list.size() == 1);
    CHECK(back.entry_list[0].status == 3);
    CHECK(back.entry_list[0].partition_states.at(0).confirmed_decree == 100);
    CHECK_FALSE(bool(back.entry_list[0].__isset.progress));
}

TEST_CASE("message: TV13 list_nodes response with hp_node encodes and decodes") {
    idl::node_info n;
    n.status = 1;
    n.node = idl::rpc_address::from_ipv4(127, 0, 0, 1, 34801);
    n.__set_hp_node(idl::host_port("localhost", 34801));
    idl::configuration_list_nodes_response r;
    r.err = rdsn_errc::ERR_OK;
    r.infos = {n};
    CHECK(to_hex(encode_reply("RPC_CM_LIST_NODES_ACK", 6, r)) == to_hex(hex(v::tv13)));
    const auto back = reply_of<idl::configuration_list_nodes_response>(v::tv13);
    CHECK(back == r);
    CHECK(back.infos.at(0).hp_node.host() == "localhost");
}

TEST_CASE("message: TV14 the app error stays inside the struct") {
    idl::configuration_update_app_env_response r;
    r.err = rdsn_errc::ERR_FORWARD_TO_OTHERS;
    CHECK(to_hex(encode_reply("RPC_CM_UPDATE_APP_ENV_ACK", 2, r)) == to_hex(hex(v::tv14)));
    const auto f = frame_of(v::tv14);
    CHECK(!f.frame_error);
    const auto back = reply_of<idl::configuration_update_app_env_response>(v::tv14);
    CHECK(back.err.name() == "ERR_FORWARD_TO_OTHERS");
    CHECK(back.err.to_error_code() == rdsn_errc::ERR_FORWARD_TO_OTHERS);
    CHECK(back.hint_message.empty());
}

// ---- data plane (pegasus-data-plane.md §9) ----------------------------------------------------

TEST_CASE("message: D1 put request encodes and decodes") {
    idl::update_request req;
    req.key = key_as;
    req.value = "v";
    req.expire_ts_seconds = 0;
    CHECK(to_hex(encode_call(data_header(4, 1000, hash_a), "RPC_RRDB_RRDB_PUT", 1, req)) ==
          to_hex(hex(v::d1)));
    CHECK(args_of<idl::update_request>(v::d1) == req);
}

TEST_CASE("message: D2 update_response encodes and decodes") {
    idl::update_response r;
    r.error = 0;
    r.app_id = 2;
    r.partition_index = 4;
    r.decree = 1;
    r.server = "localhost:34801";
    CHECK(to_hex(encode_reply("RPC_RRDB_RRDB_PUT_ACK", 1, r)) == to_hex(hex(v::d2)));
    CHECK(reply_of<idl::update_response>(v::d2) == r);
}

TEST_CASE("message: D3 get request carries the key blob itself as args") {
    const idl::blob key(key_as);
    CHECK(to_hex(encode_call(data_header(4, 1000, hash_a), "RPC_RRDB_RRDB_GET", 2, key)) ==
          to_hex(hex(v::d3)));
    CHECK(args_of<idl::blob>(v::d3).str() == key_as);
}

TEST_CASE("message: D4/D5 read_response found and not found") {
    idl::read_response r;
    r.error = 0;
    r.value = "v";
    r.app_id = 2;
    r.partition_index = 4;
    r.server = "localhost:34801";
    CHECK(to_hex(encode_reply("RPC_RRDB_RRDB_GET_ACK", 2, r)) == to_hex(hex(v::d4)));
    CHECK(reply_of<idl::read_response>(v::d4) == r);

    r.error = 1;
    r.value = idl::blob();
    CHECK(to_hex(encode_reply("RPC_RRDB_RRDB_GET_ACK", 3, r)) == to_hex(hex(v::d5)));
    const auto nf = reply_of<idl::read_response>(v::d5);
    CHECK(nf.error == 1);
    CHECK(nf.value.empty());
}

TEST_CASE("message: D6 frame-level rejection surfaces as the frame error") {
    auto r = decode_reply<idl::update_response>(frame_of(v::d6));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == rdsn_errc::ERR_INVALID_STATE);
    CHECK(is_retryable(r.error()) == is_retryable(make_error_code(rdsn_errc::ERR_INVALID_STATE)));
}

TEST_CASE("message: D7 get_scanner_request as Go sends a full scan") {
    idl::get_scanner_request req;
    req.start_key = std::string("\x00\x00", 2);
    req.stop_key = std::string("\xff\xff", 2);
    req.start_inclusive = true;
    req.stop_inclusive = false;
    req.batch_size = 1000;
    req.no_value = false;
    req.__set_validate_partition_hash(true);
    CHECK(to_hex(encode_call(data_header(0, 5000, 0), "RPC_RRDB_RRDB_GET_SCANNER", 4, req)) ==
          to_hex(hex(v::d7)));
    const auto back = args_of<idl::get_scanner_request>(v::d7);
    CHECK(back == req);
    CHECK_FALSE(bool(back.__isset.only_return_count));
}

TEST_CASE("message: D8 scan_response with one kv and context -1") {
    idl::key_value kv;
    kv.key = key_as;
    kv.value = "v";
    idl::scan_response r;
    r.error = 0;
    r.kvs = {kv};
    r.context_id = -1;
    r.app_id = 2;
    r.partition_index = 0;
    r.server = "localhost:34801";
    CHECK(to_hex(encode_reply("RPC_RRDB_RRDB_GET_SCANNER_ACK", 4, r)) == to_hex(hex(v::d8)));
    const auto back = reply_of<idl::scan_response>(v::d8);
    CHECK(back == r);
    CHECK_FALSE(bool(back.kvs.at(0).__isset.expire_ts_seconds));
}

TEST_CASE("message: D9 scan_request encodes and decodes") {
    idl::scan_request req;
    req.context_id = 0x0001234500000000;
    CHECK(to_hex(encode_call(data_header(0, 5000, 0), "RPC_RRDB_RRDB_SCAN", 5, req)) ==
          to_hex(hex(v::d9)));
    CHECK(args_of<idl::scan_request>(v::d9).context_id == 0x0001234500000000);
}

TEST_CASE("message: D10 clear_scanner's bare i64 args decode") {
    auto ctx = decode_call_i64(request_of(v::d10));
    REQUIRE(ctx.has_value());
    CHECK(*ctx == 0x0001234500000001);
    CHECK(request_of(v::d10).header.client_timeout_ms == 100);
}

TEST_CASE("message: D11 multi_put_request encodes and decodes") {
    idl::multi_put_request req;
    req.hash_key = "a";
    idl::key_value a, b;
    a.key = "s1";
    a.value = "v1";
    b.key = "s2";
    b.value = "v2";
    req.kvs = {a, b};
    req.expire_ts_seconds = 0;
    CHECK(to_hex(encode_call(data_header(4, 1000, hash_a), "RPC_RRDB_RRDB_MULTI_PUT", 7, req)) ==
          to_hex(hex(v::d11)));
    CHECK(args_of<idl::multi_put_request>(v::d11) == req);
}

// ---- decode failures ---------------------------------------------------------------------------

TEST_CASE("message: decode_reply rejects missing, mistyped and truncated results") {
    SUBCASE("no result field") {
        const auto f = decode_response_frame(encode_error_response("ERR_OK", "X_ACK", 1));
        REQUIRE(f.has_value());
        CHECK(decode_reply<idl::update_response>(*f).error() == client_errc::decode_failed);
        CHECK(decode_string_reply(*f).error() == client_errc::decode_failed);
    }
    SUBCASE("truncated struct") {
        bytes b = hex(v::d2);
        b.resize(b.size() - 10);
        b[3] = static_cast<std::uint8_t>(b.size());
        const auto f = decode_response_frame(b);
        REQUIRE(f.has_value());
        CHECK(decode_reply<idl::update_response>(*f).error() == client_errc::decode_failed);
    }
    SUBCASE("result field id is not 0") {
        auto f = frame_of(v::d2);
        f.payload[2] = 1;
        CHECK(decode_reply<idl::update_response>(f).error() == client_errc::decode_failed);
    }
    SUBCASE("a huge list count does not allocate it") {
        // query_cfg_response with partitions list claiming 2^31-1 elements.
        const bytes payload = hex("0c 00 00 0f 00 05 0c 7f ff ff ff 00 00");
        const auto frame = encode_response("ERR_OK", "X_ACK", 1,
                                           std::span(payload).subspan(3, payload.size() - 4));
        const auto f = decode_response_frame(frame);
        REQUIRE(f.has_value());
        CHECK(decode_reply<idl::query_cfg_response>(*f).error() == client_errc::decode_failed);
    }
    SUBCASE("a negative string length") {
        const bytes payload = hex("0b 00 01 ff ff ff ff 00");
        const auto f = decode_response_frame(encode_response("ERR_OK", "X_ACK", 1, payload));
        REQUIRE(f.has_value());
        CHECK(decode_reply<idl::configuration_update_app_env_response>(*f).error() ==
              client_errc::decode_failed);
    }
    SUBCASE("call args that are only STOP") {
        // args wrapper = `00 00 01 00`: the first byte is already STOP, there is no field.
        const auto req = encode_request(request_header{}, "X", 1, bytes{}, 0);
        request_decoder d;
        d.feed(req);
        auto f = d.next();
        REQUIRE(f.has_value());
        REQUIRE(f->has_value());
        CHECK(decode_call_args<idl::query_cfg_request>(**f).error() == client_errc::decode_failed);
    }
}

TEST_CASE("message: lenient server decoding ignores the args field id and type") {
    bytes frame = hex(v::tv1);
    frame[thft_v0_header_size + 4 + 4 + 38 + 4] = 0x0B;     // type byte
    frame[thft_v0_header_size + 4 + 4 + 38 + 4 + 2] = 0x00; // field id 0 (the C++ client's)
    const auto back = decode_call_args<idl::query_cfg_request>(request_of(test::to_hex(frame)));
    REQUIRE(back.has_value());
    CHECK(back->app_name == "temp");
}

// ---- round trips of every request/response type ------------------------------------------------

namespace {

idl::app_info sample_app() {
    idl::app_info a;
    a.status = 1;
    a.app_type = "pegasus";
    a.app_name = "temp";
    a.app_id = 2;
    a.partition_count = 8;
    a.envs = {{"replica.deny_client_request", "timeout*write"}};
    a.is_stateful = true;
    a.max_replica_count = 3;
    a.create_second = 1700000000;
    a.__set_duplicating(true);
    a.__set_atomic_idempotent(false);
    return a;
}

template <class T>
T sample();

template <>
idl::query_cfg_request sample() {
    idl::query_cfg_request r;
    r.app_name = "t";
    r.partition_indices = {0, 3};
    return r;
}
template <>
idl::query_cfg_response sample() {
    return tv2_object(true);
}
template <>
idl::configuration_cluster_info_request sample() {
    return {};
}
template <>
idl::configuration_cluster_info_response sample() {
    idl::configuration_cluster_info_response r;
    r.err = rdsn_errc::ERR_OK;
    r.keys = {"cluster_name", "zookeeper_hosts"};
    r.values = {"c1", "127.0.0.1:2181"};
    return r;
}
template <>
idl::configuration_list_nodes_request sample() {
    idl::configuration_list_nodes_request r;
    r.status = 1;
    return r;
}
template <>
idl::configuration_list_nodes_response sample() {
    idl::configuration_list_nodes_response r;
    r.err = rdsn_errc::ERR_OK;
    idl::node_info n;
    n.status = 2;
    n.node = idl::rpc_address::from_ipv4(10, 1, 2, 3, 34801);
    r.infos = {n, n};
    return r;
}
template <>
idl::configuration_list_apps_request sample() {
    idl::configuration_list_apps_request r;
    r.status = 1;
    r.__set_app_name_pattern("te");
    r.__set_match_type(4);
    return r;
}
template <>
idl::configuration_list_apps_response sample() {
    idl::configuration_list_apps_response r;
    r.err = rdsn_errc::ERR_OK;
    r.infos = {sample_app()};
    r.__set_hint_message("h");
    return r;
}
template <>
idl::configuration_update_app_env_request sample() {
    idl::configuration_update_app_env_request r;
    r.app_name = "t";
    r.op = 3;
    r.__set_clear_prefix("replica");
    return r;
}
template <>
idl::configuration_update_app_env_response sample() {
    idl::configuration_update_app_env_response r;
    r.err = rdsn_errc::ERR_INVALID_PARAMETERS;
    r.hint_message = "bad";
    return r;
}
template <>
idl::duplication_add_request sample() {
    idl::duplication_add_request r;
    r.app_name = "t";
    r.remote_cluster_name = "c2";
    r.__set_remote_app_name("t2");
    r.__set_remote_replica_count(3);
    return r;
}
template <>
idl::duplication_add_response sample() {
    idl::duplication_add_response r;
    r.err = rdsn_errc::ERR_DUP_EXIST;
    r.appid = 2;
    r.dupid = 5;
    r.__set_hint("exists");
    r.__set_remote_app_name("t2");
    r.__set_remote_replica_count(3);
    return r;
}
template <>
idl::duplication_query_request sample() {
    idl::duplication_query_request r;
    r.app_name = "t";
    return r;
}
template <>
idl::duplication_query_response sample() {
    idl::duplication_query_response r;
    r.err = rdsn_errc::ERR_OK;
    r.appid = 2;
    idl::duplication_entry e;
    e.dupid = 1;
    e.status = 1;
    e.remote = "c2";
    e.__set_progress({{0, 5}, {1, 6}});
    e.__set_remote_app_name("t2");
    e.__set_remote_replica_count(1);
    e.__set_mode(0);
    r.entry_list = {e};
    return r;
}
template <>
idl::duplication_modify_request sample() {
    idl::duplication_modify_request r;
    r.app_name = "t";
    r.dupid = 9;
    r.__set_status(5);
    return r;
}
template <>
idl::duplication_modify_response sample() {
    idl::duplication_modify_response r;
    r.err = rdsn_errc::ERR_OK;
    r.appid = 2;
    return r;
}
template <>
idl::duplication_list_request sample() {
    idl::duplication_list_request r;
    r.app_name_pattern = "t";
    r.match_type = 1;
    return r;
}
template <>
idl::duplication_list_response sample() {
    idl::duplication_list_response r;
    r.err = rdsn_errc::ERR_OK;
    idl::duplication_app_state s;
    s.appid = 2;
    s.app_name = "t";
    s.partition_count = 4;
    s.duplications = {{7, sample<idl::duplication_query_response>().entry_list[0]}};
    r.app_states = {{"t", s}};
    return r;
}
template <>
idl::command sample() {
    idl::command c;
    c.cmd = "server-info";
    return c;
}
template <>
idl::query_replica_decree_request sample() {
    idl::query_replica_decree_request r;
    r.pid = idl::gpid(2, 7);
    r.node1 = idl::rpc_address::from_ipv4(127, 0, 0, 1, 34801);
    r.__set_hp_node1(idl::host_port("localhost", 34801));
    return r;
}
template <>
idl::query_replica_decree_response sample() {
    idl::query_replica_decree_response r;
    r.err = rdsn_errc::ERR_OBJECT_NOT_FOUND;
    r.last_decree = 1234;
    return r;
}
template <>
idl::query_replica_info_request sample() {
    idl::query_replica_info_request r;
    r.node1 = idl::rpc_address::from_ipv4(127, 0, 0, 1, 34801);
    return r;
}
template <>
idl::query_replica_info_response sample() {
    idl::query_replica_info_response r;
    r.err = rdsn_errc::ERR_OK;
    idl::replica_info ri;
    ri.pid = idl::gpid(2, 1);
    ri.ballot = 4;
    ri.status = 2;
    ri.last_committed_decree = 10;
    ri.last_prepared_decree = 11;
    ri.last_durable_decree = 9;
    ri.app_type = "pegasus";
    ri.disk_tag = "ssd1";
    ri.__set_manual_compact_status(0);
    r.replicas = {ri};
    return r;
}
template <>
idl::thrift_request_meta_v1 sample() {
    idl::thrift_request_meta_v1 m;
    m.__set_app_id(2);
    m.__set_partition_index(3);
    m.__set_client_partition_hash(-5);
    m.__set_is_backup_request(true);
    return m;
}
template <>
idl::update_request sample() {
    idl::update_request r;
    r.key = key_as;
    r.value = std::string("\x00\xff", 2);
    r.expire_ts_seconds = 100;
    r.__set_check_value(idl::blob("c"));
    return r;
}
template <>
idl::update_response sample() {
    idl::update_response r;
    r.error = 4;
    r.decree = 77;
    r.server = "h:1";
    return r;
}
template <>
idl::multi_put_request sample() {
    idl::multi_put_request r;
    r.hash_key = "a";
    idl::key_value kv;
    kv.key = "s";
    kv.__set_expire_ts_seconds(5);
    r.kvs = {kv};
    return r;
}
template <>
idl::multi_remove_request sample() {
    idl::multi_remove_request r;
    r.hash_key = "a";
    r.sort_keys = {idl::blob("s1"), idl::blob("")};
    r.max_count = 2;
    return r;
}
template <>
idl::multi_remove_response sample() {
    idl::multi_remove_response r;
    r.count = 2;
    r.decree = 3;
    return r;
}
template <>
idl::read_response sample() {
    idl::read_response r;
    r.value = "v";
    return r;
}
template <>
idl::ttl_response sample() {
    idl::ttl_response r;
    r.ttl_seconds = -1;
    return r;
}
template <>
idl::multi_get_request sample() {
    idl::multi_get_request r;
    r.hash_key = "a";
    r.max_kv_count = 100;
    r.start_inclusive = true;
    r.reverse = true;
    return r;
}
template <>
idl::multi_get_response sample() {
    idl::multi_get_response r;
    r.error = 7;
    r.kvs = {sample<idl::multi_put_request>().kvs[0]};
    return r;
}
template <>
idl::get_scanner_request sample() {
    idl::get_scanner_request r;
    r.batch_size = 10;
    r.__set_only_return_count(true);
    r.__set_return_expire_ts(true);
    r.__set_full_scan(true);
    return r;
}
template <>
idl::scan_request sample() {
    idl::scan_request r;
    r.context_id = 42;
    return r;
}
template <>
idl::scan_response sample() {
    idl::scan_response r;
    r.context_id = 42;
    r.__set_kv_count(12);
    return r;
}
template <>
idl::duplicate_request sample() {
    idl::duplicate_request r;
    idl::duplicate_entry e;
    e.__set_timestamp(1700000000000000);
    e.__set_task_code(idl::task_code("RPC_RRDB_RRDB_PUT"));
    e.__set_raw_message(idl::blob("\x0c\x00\x01\x00"));
    e.__set_cluster_id(3);
    e.__set_verify_timetag(false);
    r.entries = {e};
    return r;
}
template <>
idl::duplicate_response sample() {
    idl::duplicate_response r;
    r.__set_error(0);
    r.__set_error_hint("ok");
    return r;
}

} // namespace

TEST_CASE_TEMPLATE("message: every type round-trips through a reply frame", T,
                   idl::query_cfg_request, idl::query_cfg_response,
                   idl::configuration_cluster_info_request,
                   idl::configuration_cluster_info_response, idl::configuration_list_nodes_request,
                   idl::configuration_list_nodes_response, idl::configuration_list_apps_request,
                   idl::configuration_list_apps_response, idl::configuration_update_app_env_request,
                   idl::configuration_update_app_env_response, idl::duplication_add_request,
                   idl::duplication_add_response, idl::duplication_query_request,
                   idl::duplication_query_response, idl::duplication_modify_request,
                   idl::duplication_modify_response, idl::duplication_list_request,
                   idl::duplication_list_response, idl::command, idl::query_replica_decree_request,
                   idl::query_replica_decree_response, idl::query_replica_info_request,
                   idl::query_replica_info_response, idl::thrift_request_meta_v1,
                   idl::update_request, idl::update_response, idl::multi_put_request,
                   idl::multi_remove_request, idl::multi_remove_response, idl::read_response,
                   idl::ttl_response, idl::multi_get_request, idl::multi_get_response,
                   idl::get_scanner_request, idl::scan_request, idl::scan_response,
                   idl::duplicate_request, idl::duplicate_response) {
    const T obj = sample<T>();
    // as a reply
    auto f = decode_response_frame(encode_reply("X_ACK", 11, obj));
    REQUIRE(f.has_value());
    auto r = decode_reply<T>(*f);
    REQUIRE(r.has_value());
    CHECK(*r == obj);
    // as call args
    request_decoder d;
    d.feed(encode_call(request_header{}, "X", 12, obj));
    auto req = d.next();
    REQUIRE(req.has_value());
    REQUIRE(req->has_value());
    auto a = decode_call_args<T>(**req);
    REQUIRE(a.has_value());
    CHECK(*a == obj);
    // every strict prefix of the struct bytes fails to decode instead of crashing
    const bytes b = serialize_struct(obj);
    for (std::size_t n = 0; n < b.size(); ++n)
        CHECK_FALSE(deserialize_struct<T>(std::span(b).first(n)).has_value());
}

TEST_CASE("message: custom type helpers") {
    CHECK(idl::rpc_address::parse("10.1.2.3:34601")->to_string() == "10.1.2.3:34601");
    CHECK_FALSE(idl::rpc_address::parse("10.1.2:34601").has_value());
    CHECK_FALSE(idl::rpc_address::parse("10.1.2.300:1").has_value());
    CHECK_FALSE(idl::rpc_address::parse("host:1").has_value());
    CHECK_FALSE(idl::rpc_address::parse("1.2.3.4:70000").has_value());
    CHECK(idl::rpc_address{}.to_string() == "invalid");
    CHECK(idl::gpid::from_raw(idl::gpid(-1, 5).raw()) == idl::gpid(-1, 5));
    CHECK(idl::gpid(3, 4).to_string() == "3.4");
    CHECK(idl::rdsn_error(make_error_code(rdsn_errc::ERR_BUSY)).name() == "ERR_BUSY");
    CHECK(idl::rdsn_error().is_ok());
    std::ostringstream os;
    os << idl::blob(std::string("a\x01", 2));
    CHECK(os.str() == "a\\x01");
}
