// Logging setup.
#include <tablemigrator/core/log.hpp>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace tablemigrator {

std::optional<log_level> parse_log_level(std::string_view text) {
    if (text == "trace") return log_level::trace;
    if (text == "debug") return log_level::debug;
    if (text == "info") return log_level::info;
    if (text == "warn" || text == "warning") return log_level::warn;
    if (text == "error") return log_level::error;
    if (text == "off") return log_level::off;
    return std::nullopt;
}

void setup_logging(log_level level, const std::optional<std::string>& log_file) {
    std::shared_ptr<spdlog::logger> logger;
    if (log_file)
        logger = spdlog::basic_logger_mt("table-migrator", *log_file, true);
    else
        logger = spdlog::stderr_color_mt("table-migrator");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%L%$ %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(static_cast<spdlog::level::level_enum>(static_cast<int>(level)));
    spdlog::flush_on(spdlog::level::warn);
}

} // namespace tablemigrator
