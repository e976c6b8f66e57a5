#include <tablemigrator/cli/options.hpp>

#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <vector>

using namespace tablemigrator::cli;

namespace {

parse_result parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv{"table-migrator"};
    argv.insert(argv.end(), args.begin(), args.end());
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

// Parses and validates; returns the error line, or "" when valid.
std::string error_of(const std::vector<const char*>& args) {
    std::vector<const char*> argv{"table-migrator"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = parse_command_line(static_cast<int>(argv.size()), argv.data());
    if (auto* ex = std::get_if<parse_exit>(&p))
        return ex->code == exit_ok ? std::string("<exit 0>") : ex->message;
    auto v = validate(std::get<raw_options>(p));
    if (auto* e = std::get_if<std::string>(&v))
        return *e;
    return "";
}

run_config config_of(std::initializer_list<const char*> args) {
    auto p = parse(args);
    REQUIRE(std::holds_alternative<raw_options>(p));
    auto v = validate(std::get<raw_options>(p));
    REQUIRE(std::holds_alternative<run_config>(v));
    return std::get<run_config>(v);
}

} // namespace

TEST_CASE("cli: the seed's flags parse into a run configuration") {
    auto c = config_of({"-s", "127.0.0.1:34601,127.0.0.1:34602", "-t", "a,b,c", "-c", "target", "-m",
                        "10.0.0.1:34601, 10.0.0.2:34601", "-r", "/pegasus/proxy", "-p", "500"});
    CHECK(c.cmd == command::migrate);
    CHECK(c.source_metas.size() == 2);
    CHECK(c.source_metas[1] == host_port{"127.0.0.1", 34602});
    CHECK(c.tables == std::vector<std::string>{"a", "b", "c"});
    CHECK(c.target_cluster == "target");
    CHECK(c.target_meta_text == "10.0.0.1:34601,10.0.0.2:34601");
    CHECK(c.root == "/pegasus/proxy");
    CHECK(c.threshold == 500);
    CHECK_FALSE(c.fast_cutover.has_value());
}

TEST_CASE("cli: defaults follow the seed README and Pegasus") {
    auto c = config_of({"-s", "h:1", "-t", "t", "-c", "x", "-m", "g:2"});
    CHECK(c.threshold == 10000);
    CHECK(c.config_sync_interval == std::chrono::milliseconds(30000));
    CHECK_FALSE(c.root.has_value());
    CHECK(c.parallel == 0);
}

TEST_CASE("cli: the migrate subcommand and repeated -t are accepted") {
    auto c = config_of({"migrate", "-s", "h:1", "-t", "a", "-t", "b", "-c", "x", "-m", "g:2"});
    CHECK(c.tables == std::vector<std::string>{"a", "b"});
}

TEST_CASE("cli: --fast-cutover takes an optional period") {
    CHECK(config_of({"-s", "h:1", "-t", "t", "-c", "x", "-m", "g:2", "--fast-cutover"}).fast_cutover ==
          std::chrono::milliseconds(1000));
    CHECK(config_of({"-s", "h:1", "-t", "t", "-c", "x", "-m", "g:2", "--fast-cutover=2500"}).fast_cutover ==
          std::chrono::milliseconds(2500));
}

TEST_CASE("cli: status and abort subcommands") {
    auto s = config_of({"status", "-s", "h:1", "-t", "a"});
    CHECK(s.cmd == command::status);
    auto a = config_of({"abort", "-s", "h:1", "-t", "a", "--remove-duplication"});
    CHECK(a.cmd == command::abort);
    CHECK(a.remove_duplication);
}

TEST_CASE("cli: bad input gets one clear line naming the input") {
    struct bad {
        std::vector<const char*> args;
        std::string expect;
    };
    const std::vector<bad> cases = {
        {{"-s", "h:1", "-t", "a,a", "-c", "x", "-m", "g:2"}, "listed twice"},
        {{"-s", "h:1", "-t", "", "-c", "x", "-m", "g:2"}, "empty table name"},
        {{"-s", "h:1", "-c", "x", "-m", "g:2"}, "missing -t"},
        {{"-s", "h:1", "-t", "a,,b", "-c", "x", "-m", "g:2"}, "empty table name"},
        {{"-s", "h", "-t", "a", "-c", "x", "-m", "g:2"}, "not host:port"},
        {{"-s", "h:99999", "-t", "a", "-c", "x", "-m", "g:2"}, "invalid port"},
        {{"-s", "h:1,", "-t", "a", "-c", "x", "-m", "g:2"}, "empty entry"},
        {{"-s", "h:1", "-t", "a", "-c", "x", "-m", "h:1"}, "same cluster"},
        {{"-s", "h:1", "-t", "a", "-m", "g:2"}, "-m/--meta is given without -c"},
        {{"-s", "h:1", "-t", "a", "-c", "x"}, "-c/--cluster is given without -m"},
        {{"-s", "h:1", "-t", "a"}, "migrate needs the target"},
        {{"-s", "h:1", "-t", "a", "-c", "x", "-m", "g:2", "-p", "-5"}, "threshold"},
        {{"-s", "h:1", "-t", "a", "-c", "x", "-m", "g:2", "-p", "abc"}, "threshold"},
        {{"-s", "h:1", "-t", "a", "-c", "x", "-m", "g:2", "-r", "pegasus"}, "starting with '/'"},
        {{"-s", "h:1", "-t", "a", "-c", "x", "-m", "g:2", "--config", "/nonexistent/tm.toml"}, "tm.toml"},
        {{"-t", "a", "-c", "x", "-m", "g:2"}, "missing -s"},
        {{"-s", "h:1", "-t", "a", "-c", "x", "-m", "g:2", "--log-level", "loud"}, "--log-level"},
        {{"-s", "h:1", "-t", "a b", "-c", "x", "-m", "g:2"}, "not a valid table name"},
        {{"-s", "h:1", "-t", "a", "-c", "x", "-m", "g:2", "-n", "z:2181"}, "only used with -r"},
        {{"-s", "h:1", "-t", "a", "-c", "x", "-m", "g:2", "--bogus"}, "bogus"},
    };
    for (const auto& b : cases) {
        const std::string err = error_of(b.args);
        INFO("expected '" << b.expect << "', got '" << err << "'");
        CHECK(err.find(b.expect) != std::string::npos);
        CHECK(err.find('\n') == std::string::npos);
    }
}

TEST_CASE("cli: --help and --version exit 0") {
    CHECK(error_of({"--help"}) == "<exit 0>");
    CHECK(error_of({"--version"}) == "<exit 0>");
}
