// table-migrator entry point: parse, set up logging, run, map the outcome to an exit code.
#include <tablemigrator/cli/options.hpp>
#include <tablemigrator/core/log.hpp>

#include <iostream>

int main(int argc, char** argv) {
    using namespace tablemigrator;
    auto parsed = cli::parse_command_line(argc, argv);
    if (auto* ex = std::get_if<cli::parse_exit>(&parsed)) {
        (ex->code == 0 ? std::cout : std::cerr) << ex->message;
        if (!ex->message.empty() && ex->message.back() != '\n')
            (ex->code == 0 ? std::cout : std::cerr) << '\n';
        return ex->code;
    }
    auto config = cli::validate(std::get<cli::raw_options>(parsed));
    if (auto* err = std::get_if<std::string>(&config)) {
        std::cerr << "table-migrator: " << *err << '\n';
        return cli::exit_usage;
    }
    const auto& cfg = std::get<cli::run_config>(config);
    setup_logging(parse_log_level(cfg.log_level).value_or(log_level::info), cfg.log_file);
    std::cerr << "table-migrator: the migration engine is not built yet\n";
    return cli::exit_table_failed;
}
