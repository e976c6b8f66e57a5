// Logging setup on top of spdlog. Call setup_logging() in main() before any other thread starts
// (the ZooKeeper client logs from its own threads; see docs/architecture.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tablemigrator {

enum class log_level { trace, debug, info, warn, error, off };

// Parses "trace|debug|info|warn|error|off"; nullopt for anything else.
std::optional<log_level> parse_log_level(std::string_view text);

// Installs the default logger: stderr, or the given file (truncated) when log_file is set.
void setup_logging(log_level level, const std::optional<std::string>& log_file = std::nullopt);

} // namespace tablemigrator
