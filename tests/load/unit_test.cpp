// pegasus-load sans-io parts: the record format, downtime bookkeeping, failure classification,
// proxy entries, key routing (data-plane §9 vectors) and command-line validation.
#include "load/cli.hpp"
#include "load/downtime.hpp"
#include "load/generator.hpp"
#include "load/reaction.hpp"
#include "load/record.hpp"
#include "load/resolver.hpp"

#include <tablemigrator/core/error.hpp>
#include <tablemigrator/core/zk_error.hpp>

#include <boost/asio/error.hpp>
#include <doctest/doctest.h>

#include <cstdio>
#include <sstream>
#include <unistd.h>

using namespace tablemigrator;
using namespace tablemigrator::load;
using namespace std::chrono_literals;

namespace {

load_record sample_record() {
    load_record r;
    r.tables.push_back({"t1", 10, 8, 2, 1234, true});
    r.tables.push_back({"t 2", 0, 0, 0, 0, false});
    r.acks.push_back({"t1", 1700000000123, "src", "t1-1", "s", "v-t1-1"});
    r.acks.push_back({"t 2", 1, "", std::string("a\0b\n%~", 6), "", "x y\xff"});
    return r;
}

cli_outcome parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"pegasus-load"};
    for (const auto& a : args)
        argv.push_back(a.c_str());
    return parse_cli(static_cast<int>(argv.size()), argv.data());
}

} // namespace

TEST_CASE(
    "load record: a record survives writing and parsing, binary keys and empty fields included") {
    std::ostringstream out;
    write_record(out, sample_record());
    auto text = out.str();
    CHECK(text.rfind("pegasus-load-record 1\n", 0) == 0);
    CHECK(text.find("ack t1 1700000000123 src t1-1 s v-t1-1\n") != std::string::npos);
    std::string why;
    auto back = parse_record(text, &why);
    REQUIRE_MESSAGE(back.has_value(), why);
    CHECK(*back == sample_record());
}

TEST_CASE("load record: a streamed record (acks first, tables last) parses, and a torn last line "
          "is ignored") {
    auto r = sample_record();
    std::ostringstream out;
    write_record_header(out);
    for (const auto& a : r.acks)
        write_ack_line(out, a);
    for (const auto& t : r.tables)
        write_table_line(out, t);
    auto back = parse_record(out.str());
    REQUIRE(back.has_value());
    CHECK(*back == r);
    // Killed while writing an ack line: everything before it is kept.
    std::ostringstream torn;
    write_record_header(torn);
    write_ack_line(torn, r.acks[0]);
    auto text = torn.str() + "ack t1 17000";
    auto partial = parse_record(text);
    REQUIRE(partial.has_value());
    REQUIRE(partial->acks.size() == 1);
    CHECK(partial->acks[0] == r.acks[0]);
}

TEST_CASE(
    "load record: save_record_file and load_record_file round-trip; a missing file is named") {
    const std::string path = "/tmp/pegasus-load-unit-" + std::to_string(::getpid());
    REQUIRE(save_record_file(path, sample_record()).has_value());
    auto back = load_record_file(path);
    REQUIRE(back.has_value());
    CHECK(*back == sample_record());
    std::remove(path.c_str());
    std::string why;
    CHECK_FALSE(load_record_file(path, &why).has_value());
    CHECK(why.find(path) != std::string::npos);
}

TEST_CASE("load record: escaping leaves no space, newline or bare percent in a field") {
    auto e = escape_field(std::string("a b\n%~\x01", 7));
    CHECK(e == "a%20b%0A%25%7E%01");
    CHECK(escape_field("") == "~");
    CHECK(unescape_field("~").value().empty());
    CHECK(unescape_field(e).value() == std::string("a b\n%~\x01", 7));
    CHECK_FALSE(unescape_field("%4").has_value());
    CHECK_FALSE(unescape_field("%zz").has_value());
}

TEST_CASE("load record: malformed input is rejected with the line number") {
    std::string why;
    CHECK_FALSE(parse_record("", &why).has_value());
    CHECK_FALSE(parse_record("hello\n", &why).has_value());
    CHECK(why.find("line 1") != std::string::npos);
    CHECK_FALSE(parse_record("pegasus-load-record 1\nack t 1 c h s\n", &why).has_value());
    CHECK(why.find("line 2") != std::string::npos);
    CHECK_FALSE(parse_record("pegasus-load-record 1\nack t x c h s v\n", &why).has_value());
    CHECK_FALSE(parse_record("pegasus-load-record 1\nbogus 1\n", &why).has_value());
    CHECK(why.find("bogus") != std::string::npos);
    CHECK_FALSE(parse_record("pegasus-load-record 1\ntable t attempted 1 acknowledged 1 failed 0 "
                             "downtime_ms 5 unrecovered 2\n",
                             &why)
                    .has_value());
}

TEST_CASE("load downtime: the longest interval without a completed write, from the first failed "
          "attempt") {
    using tp = downtime_tracker::time_point;
    const tp t0{};
    downtime_tracker d;
    d.on_success(t0 + 10ms);
    d.on_failure(t0 + 20ms);  // opens at 20
    d.on_failure(t0 + 15ms);  // already open: no change
    d.on_success(t0 + 120ms); // closes: 100 ms
    CHECK(d.longest() == 100ms);
    CHECK_FALSE(d.in_outage());
    // An attempt that started before the last success opens the outage at that success.
    d.on_failure(t0 + 100ms);
    d.on_success(t0 + 150ms); // 150 - 120 = 30
    CHECK(d.longest() == 100ms);
    CHECK(d.outages() == 2);
    // An outage still open at the end counts, marked unrecovered.
    d.on_failure(t0 + 200ms);
    d.finish(t0 + 500ms);
    CHECK(d.longest() == 300ms);
    CHECK(d.longest_unrecovered());
}

TEST_CASE("load downtime: failures before the first success open an outage at the first attempt") {
    using tp = downtime_tracker::time_point;
    const tp t0{};
    downtime_tracker d;
    d.on_failure(t0 + 5ms);
    d.on_success(t0 + 65ms);
    CHECK(d.longest() == 60ms);
    CHECK_FALSE(d.longest_unrecovered());
    d.finish(t0 + 1000ms); // nothing open
    CHECK(d.longest() == 60ms);
}

TEST_CASE(
    "load reaction: routing errors re-resolve, busy-like errors back off, cancellation gives up") {
    CHECK(classify(rdsn_errc::ERR_INVALID_STATE) == reaction::refresh_and_retry);
    CHECK(classify(rdsn_errc::ERR_OBJECT_NOT_FOUND) == reaction::refresh_and_retry);
    CHECK(classify(rdsn_errc::ERR_PARENT_PARTITION_MISUSED) == reaction::refresh_and_retry);
    CHECK(classify(client_errc::timeout) == reaction::refresh_and_retry);
    CHECK(classify(client_errc::connection_closed) == reaction::refresh_and_retry);
    CHECK(classify(boost::asio::error::connection_refused) == reaction::refresh_and_retry);
    CHECK(classify(make_error_code(zk_errc::no_node)) == reaction::refresh_and_retry);
    CHECK(classify(rdsn_errc::ERR_BUSY) == reaction::retry);
    CHECK(classify(rdsn_errc::ERR_SPLITTING) == reaction::retry);
    CHECK(classify(make_rocksdb_error(11)) == reaction::retry);
    CHECK(classify(client_errc::cancelled) == reaction::give_up);
    CHECK(classify(boost::asio::error::operation_aborted) == reaction::give_up);
    CHECK(error_label(rdsn_errc::ERR_INVALID_STATE) == "ERR_INVALID_STATE");
    CHECK(error_label(make_rocksdb_error(11)) == "rocksdb:11");
    CHECK(error_label(client_errc::timeout).find(' ') == std::string::npos);
}

TEST_CASE("load resolver: a MetaProxy entry needs cluster_name and a valid meta_addrs list") {
    auto e =
        parse_proxy_entry(R"({"cluster_name": "c1", "meta_addrs": "127.0.0.1:1,127.0.0.1:2"})");
    REQUIRE(e.has_value());
    CHECK(e->cluster_name == "c1");
    CHECK(e->meta_addrs == "127.0.0.1:1,127.0.0.1:2");
    std::string why;
    CHECK(parse_proxy_entry("nope", &why).error() == client_errc::bad_json);
    CHECK(parse_proxy_entry(R"(["a"])", &why).error() == client_errc::bad_json);
    CHECK(parse_proxy_entry(R"({"cluster_name": "c1"})", &why).error() == client_errc::bad_json);
    CHECK(why.find("meta_addrs") != std::string::npos);
    CHECK(parse_proxy_entry(R"({"cluster_name": 1, "meta_addrs": "h:1"})", &why).error() ==
          client_errc::bad_json);
    CHECK(parse_proxy_entry(R"({"cluster_name": "c", "meta_addrs": "h"})", &why).error() ==
          client_errc::bad_json);
}

TEST_CASE("load routing: hash key 'a' in app 2 with 8 partitions goes to partition 4 (data-plane "
          "TV D1)") {
    meta::table_config cfg;
    cfg.app_id = 2;
    cfg.partition_count = 8;
    for (int i = 0; i < 8; ++i) {
        meta::partition_config p;
        p.app_id = 2;
        p.partition_index = i;
        p.ballot = 1;
        p.primary = rpc::endpoint{"127.0.0.1", static_cast<std::uint16_t>(1000 + i)};
        cfg.partitions.push_back(p);
    }
    cfg.partitions[3].primary.reset();
    auto route = make_route("t", "c", "127.0.0.1:1", cfg);
    REQUIRE(route.has_value());
    auto t = route->for_hash_key("a");
    REQUIRE(t.has_value());
    CHECK(t->partition_index == 4);
    CHECK(t->thread_hash == 15842);
    CHECK(t->partition_hash == 0x8C2F8445B4CBFC3CULL);
    CHECK(t->primary.port == 1004);
    // A full-table scan of a partition sends the partition index as the hash.
    auto s = route->for_partition(5);
    REQUIRE(s.has_value());
    CHECK(s->partition_hash == 5);
    CHECK(s->thread_hash == 2 * 7919 + 5);
    // No primary: ERR_INVALID_STATE, which makes the caller re-resolve.
    CHECK(route->for_hash_key("abc").error() == rdsn_errc::ERR_INVALID_STATE); // "abc" % 8 == 3
    // A reply missing a partition is not a usable route.
    cfg.partitions.pop_back();
    CHECK(make_route("t", "c", "m", cfg).error() == client_errc::unexpected_reply);
}

TEST_CASE("load keys: every write has its own hash key") {
    CHECK(load_hash_key("t", 1) == "t-1");
    CHECK(load_hash_key("t", 12) != load_hash_key("t", 1));
}

TEST_CASE("load cli: run and verify parse into options") {
    auto r = parse({"run", "--zk", "127.0.0.1:2181", "--root", "/proxy", "--tables", "a, b",
                    "--rate", "50", "--duration", "1.5", "--record", "/tmp/r", "--concurrency", "4",
                    "--multi-put", "3", "--progress-ms", "0"});
    REQUIRE_MESSAGE(r.command.has_value(), r.message);
    CHECK(r.command->kind == command_kind::run);
    CHECK(r.command->source.use_zk);
    CHECK(r.command->load.tables == std::vector<std::string>{"a", "b"});
    CHECK(r.command->load.rate == 50);
    CHECK(r.command->load.duration == 1500ms);
    CHECK(r.command->load.concurrency == 4);
    CHECK(r.command->load.multi_put == 3);
    CHECK(r.command->load.progress_interval == 0ms);
    CHECK(r.command->record_file == "/tmp/r");

    auto v = parse({"verify", "--meta", "127.0.0.1:1,127.0.0.1:2", "--record", "/tmp/r", "--scan"});
    REQUIRE_MESSAGE(v.command.has_value(), v.message);
    CHECK(v.command->kind == command_kind::verify);
    CHECK_FALSE(v.command->source.use_zk);
    CHECK(v.command->source.metas.size() == 2);
    CHECK(v.command->verify.scan);
}

TEST_CASE("load cli: bad input gives one clear line and exit code 2") {
    struct bad_case {
        std::vector<std::string> args;
        std::string expect;
    };
    const std::vector<bad_case> cases = {
        {{"run", "--tables", "a", "--rate", "1"}, "--zk and --root"},
        {{"run", "--zk", "h:1", "--tables", "a"}, "--zk needs --root"},
        {{"run", "--zk", "h:1", "--root", "x", "--tables", "a"}, "absolute"},
        {{"run", "--meta", "h:1", "--zk", "h:1", "--root", "/r", "--tables", "a"}, "not both"},
        {{"run", "--meta", "nonsense", "--tables", "a"}, "--meta"},
        {{"run", "--meta", "h:1", "--tables", "a,,b"}, "empty table name"},
        {{"run", "--meta", "h:1", "--tables", "a,a"}, "twice"},
        {{"run", "--meta", "h:1", "--tables", "a", "--rate", "0"}, "--rate"},
        {{"run", "--meta", "h:1", "--tables", "a", "--concurrency", "0"}, "--concurrency"},
        {{"run", "--meta", "h:1", "--tables", "a", "--duration", "-1"}, "--duration"},
        {{"run", "--meta", "h:1", "--tables", "a", "--log-level", "loud"}, "--log-level"},
        {{"run", "--meta", "h:1"}, "tables"},
        {{"run", "--meta", "h:1", "--tables", "a", "--progress-ms", "-5"}, "--progress-ms"},
        {{"verify", "--meta", "h:1"}, "record"},
        {{"frobnicate"}, "pegasus-load:"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.expect);
        auto r = parse(c.args);
        CHECK_FALSE(r.command.has_value());
        CHECK(r.exit_code == 2);
        CHECK(r.message.rfind("pegasus-load:", 0) == 0);
        CHECK(r.message.find(c.expect) != std::string::npos);
        CHECK(r.message.find('\n') == std::string::npos);
    }
}
