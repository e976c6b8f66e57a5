// table-migrator entry point: parse, set up logging, run the engine on one io_context, map the
// outcome to an exit code. Ctrl-C/SIGTERM once: cancel every table (frozen ones get writes
// restored); twice: exit at once, naming the tables that may still be denied.
#include <tablemigrator/cli/options.hpp>
#include <tablemigrator/cli/output.hpp>
#include <tablemigrator/core/log.hpp>
#include <tablemigrator/migrate/engine.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <iostream>
#include <unistd.h>

namespace asio = boost::asio;
using namespace tablemigrator;

namespace {

migrate::run_options to_run_options(const cli::run_config& c) {
    migrate::run_options o;
    for (const auto& hp : c.source_metas)
        o.source_metas.push_back(hp.host + ":" + std::to_string(hp.port));
    for (const auto& hp : c.target_metas)
        o.target_metas.push_back(hp.host + ":" + std::to_string(hp.port));
    o.tables = c.tables;
    o.target_cluster = c.target_cluster;
    o.target_meta_text = c.target_meta_text;
    o.root = c.root;
    o.zk_connect = c.zk_connect;
    o.threshold = c.threshold;
    o.parallel = c.parallel;
    o.dry_run = c.dry_run;
    o.max_deny = c.max_deny;
    o.config_sync_interval = c.config_sync_interval;
    o.fast_cutover = c.fast_cutover;
    o.timeout = c.timeout;
    o.create_missing = c.create_missing;
    o.remove_duplication = c.remove_duplication;
    o.meta_rps_budget = c.meta_rps;
    o.state_file = c.state_file;
    return o;
}

} // namespace

int main(int argc, char** argv) {
    auto parsed = cli::parse_command_line(argc, argv);
    if (auto* ex = std::get_if<cli::parse_exit>(&parsed)) {
        auto& os = ex->code == 0 ? std::cout : std::cerr;
        os << ex->message;
        if (!ex->message.empty() && ex->message.back() != '\n')
            os << '\n';
        return ex->code;
    }
    auto config = cli::validate(std::get<cli::raw_options>(parsed));
    if (auto* err = std::get_if<std::string>(&config)) {
        std::cerr << "table-migrator: " << *err << '\n';
        return cli::exit_usage;
    }
    const auto& cfg = std::get<cli::run_config>(config);
    // The live view needs a terminal; status and abort print a few lines and need none.
    const bool live = !cfg.json && cfg.cmd == cli::command::migrate && ::isatty(STDOUT_FILENO) == 1;
    const auto mode = cfg.json ? cli::output_mode::json : live ? cli::output_mode::live : cli::output_mode::plain;
    // Log lines on the terminal would garble the view: with it, they go to a file by default.
    auto log_file = cfg.log_file;
    if (live && !log_file)
        log_file = std::string(cli::default_live_log_file);
    // Logging is set up before any other thread exists (the ZooKeeper client logs from its own).
    setup_logging(parse_log_level(cfg.log_level).value_or(log_level::info), log_file);

    asio::io_context io;
    cli::console_observer out(std::cout, mode);
    if (live) {
        std::cout << "table-migrator: log lines go to " << *log_file << " (--log-file to choose)" << std::endl;
        out.start_live(io.get_executor(), cli::view_settings{cfg.threshold, cfg.config_sync_interval});
    }
    migrate::engine eng(io.get_executor(), to_run_options(cfg), &out);

    // Every source meta, not just the first: the first may be the one that is down.
    std::string source_list;
    for (const auto& hp : cfg.source_metas)
        source_list += (source_list.empty() ? "" : ",") + hp.host + ":" + std::to_string(hp.port);
    int signals_seen = 0;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int) {
            if (ec)
                return;
            if (++signals_seen == 1) {
                out.notice("table-migrator: interrupted: cancelling every table; frozen tables get their "
                           "writes restored (Ctrl-C again to exit at once)");
                eng.interrupt();
                signals.async_wait(on_signal);
                return;
            }
            auto denied = eng.interrupt();
            out.finish();
            std::cerr << "table-migrator: exiting at once.";
            if (denied.empty())
                std::cerr << " No table was frozen.\n";
            for (const auto& t : denied)
                std::cerr << "\n  WRITES MAY STILL BE DENIED on table " << t << ": run table-migrator abort -s "
                          << source_list << " -t " << t;
            std::cerr << std::endl;
            ::_exit(cli::exit_interrupted);
        };
    signals.async_wait(on_signal);

    int exit_code = cli::exit_table_failed;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            migrate::run_report report;
            switch (cfg.cmd) {
            case cli::command::migrate: {
                auto op = eng.migrate();
                report = co_await std::move(op);
                break;
            }
            case cli::command::status: {
                auto op = eng.status();
                report = co_await std::move(op);
                break;
            }
            case cli::command::abort: {
                auto op = eng.abort();
                report = co_await std::move(op);
                break;
            }
            }
            if (cfg.cmd != cli::command::migrate)
                for (const auto& f : report.preflight.failures)
                    std::cerr << "table-migrator: " << f << '\n';
            // A refused migration says why on stderr too (stdout may be a pipe or JSON): one line
            // per failure, so one bad input gives one line.
            if (cfg.cmd == cli::command::migrate && !report.preflight.ok()) {
                for (const auto& f : report.preflight.failures)
                    std::cerr << "table-migrator: preflight failed, nothing was changed: " << f << '\n';
                for (const auto& t : report.preflight.tables)
                    for (const auto& f : t.failures)
                        std::cerr << "table-migrator: preflight failed, nothing was changed: table " << t.table
                                  << ": " << f << '\n';
            }
            out.print_report(report);
            exit_code = report.exit_code;
            signals.cancel();
            // The report is the end of the run: the engine closes its connections; stopping the
            // io_context too makes sure nothing left (a ZooKeeper session being torn down, the
            // live view's timer) keeps the process alive.
            eng.close();
            io.stop();
        },
        [&](std::exception_ptr e) {
            if (e) {
                out.finish();
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    std::cerr << "table-migrator: internal error: " << ex.what() << '\n';
                }
                exit_code = cli::exit_table_failed;
                signals.cancel();
                io.stop();
            }
        });
    io.run();
    return exit_code;
}
