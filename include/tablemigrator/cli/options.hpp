// Command-line options: CLI11 parses argv into a plain struct, validate() turns it into a run
// configuration or one clear line naming the bad input. No business logic here, no network.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tablemigrator::cli {

enum class command { migrate, status, abort };

// What the user typed, after CLI11 (strings kept raw so validation can name them).
struct raw_options {
    command cmd = command::migrate;
    std::string source_meta;                 // -s
    std::vector<std::string> tables;         // -t a,b,c
    std::string target_cluster;              // -c
    std::string target_meta;                 // -m
    std::string root;                        // -r (MetaProxy ZooKeeper root; empty = no switch)
    std::string zk_node;                     // -n (ZooKeeper connect string override)
    std::string threshold = "10000";         // -p (kept as text: "-5" and "abc" are user errors)
    int parallel = 0;                        // 0 = all tables at once
    bool dry_run = false;
    double max_deny_seconds = 300;
    std::int64_t config_sync_interval_ms = 30000;
    std::optional<std::int64_t> fast_cutover_ms;
    double timeout_seconds = 0;              // 0 = no overall timeout (phases keep theirs)
    bool json = false;
    std::string log_level = "info";
    std::string log_file;
    bool create_missing = false;
    bool remove_duplication = false;         // abort only
    double meta_rps = 200;                   // request budget to the source meta (all tables)
    std::string state_file = "table-migrator.state.json";
};

struct host_port {
    std::string host;
    std::uint16_t port = 0;
    bool operator==(const host_port&) const = default;
};

// The validated run configuration.
struct run_config {
    command cmd = command::migrate;
    std::vector<host_port> source_metas;
    std::vector<std::string> tables;
    std::string target_cluster;
    std::vector<host_port> target_metas;
    std::string target_meta_text;            // written verbatim (normalised) into MetaProxy
    std::optional<std::string> root;
    std::optional<std::string> zk_connect;
    std::int64_t threshold = 10000;
    int parallel = 0;
    bool dry_run = false;
    std::chrono::milliseconds max_deny{300000};
    std::chrono::milliseconds config_sync_interval{30000};
    std::optional<std::chrono::milliseconds> fast_cutover;
    std::optional<std::chrono::milliseconds> timeout;
    bool json = false;
    std::string log_level = "info";
    std::optional<std::string> log_file;
    bool create_missing = false;
    bool remove_duplication = false;
    double meta_rps = 200;
    std::optional<std::string> state_file;
};

// Exit codes (docs/cli.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_table_failed = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_interrupted = 130;

// Parse outcome: run, or exit now with a code after printing `message` (help/version on stdout
// with code 0, errors as one line on stderr with code 2).
struct parse_exit {
    int code = exit_usage;
    std::string message;
};
using parse_result = std::variant<raw_options, parse_exit>;

parse_result parse_command_line(int argc, const char* const* argv);

// Validation of everything that can be checked without the network. The error is one line that
// names the input and what is expected.
std::variant<run_config, std::string> validate(const raw_options& raw);

// "host:port" lists: hosts are names or IPv4, ports 1..65535, at least one entry, no empties.
std::variant<std::vector<host_port>, std::string> parse_host_ports(const std::string& text,
                                                                   const std::string& what);

} // namespace tablemigrator::cli
