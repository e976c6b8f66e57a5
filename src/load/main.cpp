// pegasus-load: parse the command line, set up logging, run `run` or `verify` on one io_context,
// map the outcome to an exit code (0 ok, 1 failure or missing keys, 2 bad input).
#include "load/cli.hpp"
#include "load/generator.hpp"
#include "load/record.hpp"
#include "load/resolver.hpp"
#include "load/verifier.hpp"

#include <tablemigrator/core/log.hpp>
#include <tablemigrator/rpc/session_pool.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>

using namespace tablemigrator;
using namespace tablemigrator::load;
namespace asio = boost::asio;

namespace {

std::unique_ptr<table_resolver> make_resolver(rpc::session_pool& pool, const cli_command& c) {
    resolver_options ro;
    ro.meta.call_timeout =
        c.kind == command_kind::run ? c.load.retry.attempt_timeout : c.verify.retry.attempt_timeout;
    ro.meta.overall_timeout = std::chrono::milliseconds(5000);
    if (c.source.use_zk) {
        zk_source zs;
        zs.hosts = c.source.zk_hosts;
        zs.root = c.source.zk_root;
        zs.connect.session_timeout = c.source.zk_session_timeout;
        zs.connect.connect_timeout = std::chrono::milliseconds(10000);
        zs.connect.operation_timeout = std::chrono::milliseconds(5000);
        return std::make_unique<table_resolver>(pool, zs, ro);
    }
    return std::make_unique<table_resolver>(pool, c.source.metas, ro);
}

rpc::session_options session_options(std::chrono::milliseconds attempt) {
    rpc::session_options so;
    so.connect_timeout = attempt;
    so.backoff_initial = std::chrono::milliseconds(20);
    so.backoff_max = std::chrono::milliseconds(500);
    return so;
}

int do_run(const cli_command& c) {
    // The record is streamed: each acknowledged key is on disk (flushed) right after its ack, so
    // a killed run still leaves a usable record, and memory does not grow with the run.
    std::ofstream record;
    auto options = c.load;
    if (!c.record_file.empty()) {
        record.open(c.record_file, std::ios::binary | std::ios::trunc);
        if (!record) {
            std::cerr << "pegasus-load: cannot open --record " << c.record_file << " for writing\n";
            return 2;
        }
        write_record_header(record);
        record.flush();
        options.keep_acks = false;
        options.on_ack = [&record](const acked_write& a) {
            write_ack_line(record, a);
            record.flush();
        };
    }
    asio::io_context io;
    rpc::session_pool pool(io.get_executor(), session_options(c.load.retry.attempt_timeout));
    auto resolver = make_resolver(pool, c);
    load_generator gen(io.get_executor(), pool, *resolver, options);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    // First signal: stop gracefully. Second one: leave at once (the streamed record keeps every
    // acknowledged key; only the summary lines are missing).
    bool stop_requested = false;
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int) {
            if (ec)
                return;
            if (stop_requested) {
                std::cerr << "pegasus-load: second signal, exiting now\n";
                record.flush();
                std::_Exit(130);
            }
            stop_requested = true;
            std::cerr << "pegasus-load: stopping (in-flight writes get "
                      << c.load.stop_grace.count() << " ms; signal again to exit at once)\n";
            gen.request_stop();
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);
    std::exception_ptr failure;
    status outcome;
    asio::co_spawn(io, gen.run(), [&](std::exception_ptr e, status st) {
        failure = e;
        outcome = st;
        signals.cancel();
        resolver->close();
        pool.close_all();
    });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
    if (!outcome) {
        std::cerr << "pegasus-load: cannot resolve table " << gen.failed_table() << ": "
                  << outcome.error().message() << "\n";
        return 1;
    }
    for (const auto& t : c.load.tables)
        std::cout << gen.summary_line(t) << "\n";
    if (record.is_open()) {
        for (const auto& t : gen.record().tables)
            write_table_line(record, t);
        record.flush();
        if (!record) {
            std::cerr << "pegasus-load: cannot write --record " << c.record_file << "\n";
            return 1;
        }
    }
    return 0;
}

int do_verify(const cli_command& c) {
    std::string why;
    auto record = load_record_file(c.record_file, &why);
    if (!record) {
        std::cerr << "pegasus-load: bad --record: " << why << "\n";
        return 2;
    }
    for (const auto& t : c.verify.tables) {
        bool known = false;
        for (const auto& s : record->tables)
            known = known || s.table == t;
        for (const auto& a : record->acks)
            known = known || a.table == t;
        if (!known) {
            std::cerr << "pegasus-load: --tables: table " << t << " is not in " << c.record_file
                      << "\n";
            return 2;
        }
    }
    asio::io_context io;
    rpc::session_pool pool(io.get_executor(), session_options(c.verify.retry.attempt_timeout));
    auto resolver = make_resolver(pool, c);
    std::exception_ptr failure;
    std::vector<table_verdict> verdicts;
    asio::co_spawn(io, verify(*resolver, pool, std::move(*record), c.verify),
                   [&](std::exception_ptr e, std::vector<table_verdict> v) {
                       failure = e;
                       verdicts = std::move(v);
                       resolver->close();
                       pool.close_all();
                   });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
    bool ok = true;
    for (const auto& v : verdicts) {
        for (const auto& line : verdict_lines(v))
            std::cout << line << "\n";
        ok = ok && verdict_ok(v);
    }
    return ok ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    auto parsed = parse_cli(argc, argv);
    if (!parsed.command) {
        (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << "\n";
        return parsed.exit_code;
    }
    const auto& c = *parsed.command;
    // Before any ZooKeeper thread exists (docs/architecture.md).
    setup_logging(c.level);
    return c.kind == command_kind::run ? do_run(c) : do_verify(c);
}
