// Command line of pegasus-load (the only CLI11 user): `run` and `verify`, parsed and validated
// into plain options. Bad input gives one clear line and exit code 2.
#pragma once

#include "load/generator.hpp"
#include "load/verifier.hpp"

#include <tablemigrator/core/log.hpp>
#include <tablemigrator/rpc/endpoint.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tablemigrator::load {

enum class command_kind { run, verify };

struct source_options {
    bool use_zk = false;
    std::string zk_hosts;
    std::string zk_root;
    std::vector<rpc::endpoint> metas; // --meta mode
    std::chrono::milliseconds zk_session_timeout{10000};
};

struct cli_command {
    command_kind kind = command_kind::run;
    source_options source;
    load_options load;       // run
    verify_options verify;   // verify
    std::string record_file; // run: optional; verify: required
    log_level level = log_level::info;
};

struct cli_outcome {
    std::optional<cli_command> command; // nullopt: print `message` and exit with `exit_code`
    int exit_code = 0;                  // 0 for --help, 2 for bad input
    std::string message;
};

cli_outcome parse_cli(int argc, const char* const* argv);

} // namespace tablemigrator::load
