// table-migrator entry point: parse, set up logging, run, map the outcome to an exit code.
#include <tablemigrator/core/log.hpp>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    CLI::App app{"table-migrator: move Apache Pegasus tables online from one cluster to another"};
    app.set_version_flag("--version", std::string("table-migrator ") + TABLEMIGRATOR_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    tablemigrator::setup_logging(tablemigrator::log_level::info);
    return 0;
}
