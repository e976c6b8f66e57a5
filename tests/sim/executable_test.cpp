// pegasus-sim as a child process: --ports-file appears with the bound ports, the servers answer,
// and SIGTERM stops it cleanly. The binary path comes from the PEGASUS_SIM environment variable.
#include "sim_fixture.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace tablemigrator;
using namespace tablemigrator::sim::test;
using namespace std::chrono_literals;

TEST_CASE("pegasus-sim executable: writes the ports file, serves, and stops on SIGTERM") {
    const char* exe = std::getenv("PEGASUS_SIM");
    REQUIRE(exe != nullptr);
    auto ports_file = "/tmp/pegasus-sim-test-" + std::to_string(::getpid()) + ".json";
    std::remove(ports_file.c_str());
    std::vector<std::string> args{exe,      "--ports-file", ports_file, "--generation",
                                  "master", "--log-level",  "warn"};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    REQUIRE(::posix_spawn(&pid, exe, nullptr, nullptr, argv.data(), environ) == 0);
    std::string text;
    auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
        std::ifstream in(ports_file);
        if (in) {
            std::stringstream ss;
            ss << in.rdbuf();
            text = ss.str();
            if (!text.empty())
                break;
        }
        std::this_thread::sleep_for(20ms);
    }
    bool ok = !text.empty();
    if (ok) {
        auto ports = boost::json::parse(text);
        auto& onebox = ports.at("clusters").at("onebox");
        CHECK(onebox.at("generation") == "master");
        auto meta_port = static_cast<std::uint16_t>(onebox.at("meta").as_array()[0].as_int64());
        client meta(meta_port);
        idl::query_cfg_request q;
        q.app_name = "temp";
        auto r =
            meta.call_typed<idl::query_cfg_response>("RPC_CM_QUERY_PARTITION_CONFIG_BY_INDEX", q);
        CHECK(r.err.name() == "ERR_OK");
        CHECK(r.partition_count == 8);
        client admin(static_cast<std::uint16_t>(ports.at("admin").as_int64()));
        CHECK(admin.http_get("/ports").first == 200);
    }
    ::kill(pid, SIGTERM);
    int status = 0;
    pid_t done = 0;
    auto stop_until = std::chrono::steady_clock::now() + 10s;
    while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < stop_until)
        std::this_thread::sleep_for(20ms);
    if (done == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    std::remove(ports_file.c_str());
    REQUIRE(ok);
    CHECK(done == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
