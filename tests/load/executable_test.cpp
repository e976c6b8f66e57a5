// The pegasus-load executable as a child process against an in-process pegasus-sim: `run`
// (stopped by --duration or SIGTERM) writes the record, `verify` prints the exact per-table lines
// and exits non-zero when a key is missing, bad input exits 2 with one line. The binary path
// comes from the PEGASUS_LOAD environment variable.
#include "load_fixture.hpp"

#include "load/record.hpp"

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace tablemigrator;
using namespace tablemigrator::load;
using namespace tablemigrator::load::test;
using sim::test::sim_fixture;

namespace {

struct child_result {
    int exit_code = -1; // -1: did not exit before the deadline (it was killed)
    std::string out;
    std::string err;
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class child {
public:
    explicit child(std::vector<std::string> args) {
        const char* exe = std::getenv("PEGASUS_LOAD");
        REQUIRE(exe != nullptr);
        const auto tag = std::to_string(::getpid()) + "-" + std::to_string(counter()++);
        out_ = "/tmp/pegasus-load-test-" + tag + ".out";
        err_ = "/tmp/pegasus-load-test-" + tag + ".err";
        args.insert(args.begin(), exe);
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        REQUIRE(::posix_spawn(&pid_, exe, &fa, nullptr, argv.data(), environ) == 0);
        posix_spawn_file_actions_destroy(&fa);
    }
    void signal(int sig) { ::kill(pid_, sig); }
    // Waits for the exit (killing the child at the deadline, so the test fails instead of hanging).
    child_result wait(std::chrono::milliseconds deadline = 30s) {
        child_result r;
        const auto until = std::chrono::steady_clock::now() + deadline;
        int status = 0;
        for (;;) {
            auto w = ::waitpid(pid_, &status, WNOHANG);
            if (w == pid_) {
                r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                break;
            }
            if (std::chrono::steady_clock::now() >= until) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(20ms);
        }
        r.out = slurp(out_);
        r.err = slurp(err_);
        std::remove(out_.c_str());
        std::remove(err_.c_str());
        return r;
    }

private:
    static int& counter() {
        static int n = 0;
        return n;
    }
    pid_t pid_ = -1;
    std::string out_, err_;
};

sim::sim_config one_cluster() {
    spdlog::set_level(spdlog::level::warn);
    auto cfg = sim::parse_config(R"({"clusters": [
        {"name": "src", "replica_servers": 3,
         "tables": [{"name": "t", "partition_count": 8, "replica_count": 3}]}]})");
    REQUIRE(cfg.has_value());
    return *cfg;
}

std::string temp_record() {
    static int n = 0;
    return "/tmp/pegasus-load-test-" + std::to_string(::getpid()) + "-rec" + std::to_string(n++);
}

} // namespace

TEST_CASE("pegasus-load executable: run --duration records acknowledged writes; verify finds them "
          "all, then reports a deleted key as missing") {
    sim_fixture fx(one_cluster());
    const auto meta = "127.0.0.1:" + std::to_string(fx.meta_port("src"));
    const auto record = temp_record();

    auto run = child({"run", "--meta", meta, "--tables", "t", "--rate", "100", "--duration", "1",
                      "--record", record, "--attempt-timeout-ms", "500", "--log-level", "warn"})
                   .wait();
    CHECK(run.exit_code == 0);
    CAPTURE(run.err);
    CHECK(run.out.rfind("load t: attempted ", 0) == 0);
    std::string why;
    auto rec = load_record_file(record, &why);
    REQUIRE_MESSAGE(rec.has_value(), why);
    REQUIRE(rec->acks.size() >= 20);
    const auto n = rec->acks.size();

    auto ok = child({"verify", "--meta", meta, "--record", record}).wait();
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.find("verify t: acknowledged " + std::to_string(n) + ", found " +
                      std::to_string(n) + ", missing 0\n") != std::string::npos);
    CHECK(ok.out.find("write downtime t: ") != std::string::npos);

    const auto gone = rec->acks[n / 2];
    fx.on_sim([&] {
        auto* t = fx.sim().cluster("src").find_table("t");
        auto full = sim::encode_full_key(gone.hash_key, gone.sort_key);
        return t->partitions[sim::key_hash(full) % 8].data.erase(full);
    });
    auto missing = child({"verify", "--meta", meta, "--record", record, "--scan"}).wait();
    CHECK(missing.exit_code == 1);
    CHECK(missing.out.find("verify t: acknowledged " + std::to_string(n) + ", found " +
                           std::to_string(n - 1) + ", missing 1\n") != std::string::npos);
    auto unknown = child({"verify", "--meta", meta, "--record", record, "--tables", "zz"}).wait();
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err == "pegasus-load: --tables: table zz is not in " + record + "\n");
    std::remove(record.c_str());
}

TEST_CASE("pegasus-load executable: SIGTERM stops a run without --duration and the record is still "
          "written") {
    sim_fixture fx(one_cluster());
    const auto meta = "127.0.0.1:" + std::to_string(fx.meta_port("src"));
    const auto record = temp_record();
    child c({"run", "--meta", meta, "--tables", "t", "--rate", "50", "--record", record,
             "--log-level", "warn"});
    REQUIRE(fx.eventually(
        [&] {
            auto* t = fx.sim().cluster("src").find_table("t");
            std::size_t keys = 0;
            for (const auto& p : t->partitions)
                keys += p.data.size();
            return keys >= 10;
        },
        10s));
    c.signal(SIGTERM);
    auto r = c.wait();
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("load t: attempted ", 0) == 0);
    auto rec = load_record_file(record);
    REQUIRE(rec.has_value());
    CHECK(rec->acks.size() >= 10);
    std::remove(record.c_str());
}

TEST_CASE("pegasus-load executable: after kill -9 the streamed record holds acknowledged writes "
          "that verify finds") {
    sim_fixture fx(one_cluster());
    const auto meta = "127.0.0.1:" + std::to_string(fx.meta_port("src"));
    const auto record = temp_record();
    child c({"run", "--meta", meta, "--tables", "t", "--rate", "100", "--record", record,
             "--log-level", "warn"});
    REQUIRE(fx.eventually(
        [&] {
            auto* t = fx.sim().cluster("src").find_table("t");
            std::size_t keys = 0;
            for (const auto& p : t->partitions)
                keys += p.data.size();
            return keys >= 20;
        },
        10s));
    c.signal(SIGKILL);
    auto r = c.wait();
    CHECK(r.exit_code == 128 + SIGKILL);
    std::string why;
    auto rec = load_record_file(record, &why);
    REQUIRE_MESSAGE(rec.has_value(), why);
    CHECK(rec->tables.empty()); // the summaries come at the end, which never happened
    CHECK(rec->acks.size() >= 10);
    auto v = child({"verify", "--meta", meta, "--record", record, "--tables", "t"}).wait();
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("verify t: acknowledged " + std::to_string(rec->acks.size())) == 0);
    std::remove(record.c_str());
}

TEST_CASE("pegasus-load executable: bad input exits 2 with one line on stderr") {
    auto r = child({"run", "--meta", "127.0.0.1:1", "--tables", "t", "--rate", "-3"}).wait();
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "pegasus-load: --rate must be > 0 and <= 1000000 writes per second\n");
    auto v = child({"verify", "--meta", "127.0.0.1:1", "--record", "/nonexistent/record"}).wait();
    CHECK(v.exit_code == 2);
    CHECK(v.err.rfind("pegasus-load: bad --record: cannot read /nonexistent/record", 0) == 0);
}

TEST_CASE("pegasus-load executable: an unreachable meta fails the start with the table named") {
    auto r = child({"run", "--meta", "127.0.0.1:1", "--tables", "t", "--attempt-timeout-ms", "200",
                    "--log-level", "off"})
                 .wait(30s);
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind("pegasus-load: cannot resolve table t: ", 0) == 0);
}
