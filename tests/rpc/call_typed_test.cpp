// Component tests for call_typed / call_for_string: IDL structs through a loopback fake server.
#include "fake_server.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/rpc/call_typed.hpp>

#include <support/run_coro.hpp>

#include <meta_admin_types.h>
#include <replica_admin_types.h>

#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <memory>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tablemigrator::client_errc;
using tablemigrator::rdsn_errc;
using tablemigrator::test::fake_request;
using tablemigrator::test::fake_server;
using tablemigrator::test::run_coro;
namespace idl = tablemigrator::idl;
namespace rpc = tablemigrator::rpc;
namespace wire = tablemigrator::wire;

namespace {

rpc::session_options fast_options() {
    rpc::session_options o;
    o.backoff_initial = 1ms;
    o.backoff_max = 5ms;
    return o;
}

} // namespace

TEST_CASE("call_typed: the request struct reaches the server and the typed reply decodes") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request r) {
        auto req = wire::decode_call_args<idl::command>(r.frame);
        REQUIRE(req.has_value());
        CHECK(req->cmd == "server-info");
        idl::configuration_cluster_info_response resp;
        resp.keys = {"cluster_name", "meta_servers"};
        resp.values = {"onebox", "127.0.0.1:34601"};
        r.conn->send(wire::encode_reply(r.frame.name + "_ACK", r.frame.seqid, resp));
    };
    auto s = std::make_shared<rpc::rpc_session>(io.get_executor(), srv.endpoint(), fast_options());
    idl::command cmd;
    cmd.cmd = "server-info";
    auto r = run_coro(io, rpc::call_typed<idl::configuration_cluster_info_response>(
                              *s, "RPC_CM_CLUSTER_INFO", {}, cmd, 5s));
    REQUIRE(r.has_value());
    REQUIRE(r->keys.size() == 2);
    CHECK(r->values[0] == "onebox");
    s->close();
}

TEST_CASE("call_typed: an RPC-level error frame becomes the call's error") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request r) { r.conn->reply_error(r.frame, "ERR_HANDLER_NOT_FOUND"); };
    auto s = std::make_shared<rpc::rpc_session>(io.get_executor(), srv.endpoint(), fast_options());
    auto r = run_coro(
        io, rpc::call_typed<idl::configuration_cluster_info_response>(
                *s, "RPC_CM_CLUSTER_INFO", {}, idl::configuration_cluster_info_request{}, 5s));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == rdsn_errc::ERR_HANDLER_NOT_FOUND);
    s->close();
}

TEST_CASE("call_typed: a reply that is not the expected struct is decode_failed") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request r) {
        r.conn->send(wire::encode_string_reply(r.frame.name + "_ACK", r.frame.seqid, "text"));
    };
    auto s = std::make_shared<rpc::rpc_session>(io.get_executor(), srv.endpoint(), fast_options());
    auto r = run_coro(
        io, rpc::call_typed<idl::configuration_cluster_info_response>(
                *s, "RPC_CM_CLUSTER_INFO", {}, idl::configuration_cluster_info_request{}, 5s));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == client_errc::decode_failed);
    s->close();
}

TEST_CASE("call_for_string: the remote command's string result decodes") {
    asio::io_context io;
    fake_server srv(io);
    srv.on_request = [](fake_request r) {
        r.conn->send(
            wire::encode_string_reply(r.frame.name + "_ACK", r.frame.seqid, R"({"counters":[]})"));
    };
    auto s = std::make_shared<rpc::rpc_session>(io.get_executor(), srv.endpoint(), fast_options());
    idl::command cmd;
    cmd.cmd = "perf-counters-by-substr";
    cmd.arguments = {"pending_mutations_count"};
    auto r = run_coro(io, rpc::call_for_string(*s, "RPC_CLI_CLI_CALL", {}, cmd, 5s));
    REQUIRE(r.has_value());
    CHECK(*r == R"({"counters":[]})");
    s->close();
}
