// See logging.hpp. Loggers are made directly (not through spdlog's registry)
// so that a reopen replaces the default logger without a name clash.
#include "server/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>
#include <unistd.h>

#include <string>

namespace relayscope::server {

Status setup_logging(const std::string& level, const std::string& to, const std::string& file) {
  // The pid written in once (it does not change: the relay never forks),
  // not looked up again for every line as spdlog's %P does.
  const std::string pattern =
      "%Y-%m-%dT%H:%M:%S.%e %l relayscope[" + std::to_string(::getpid()) + "]: %v";
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (to == "file") {
      auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file);
      logger = std::make_shared<spdlog::logger>("relay", std::move(sink));
      logger->set_pattern(pattern);
    } else if (to == "syslog") {
      // syslog adds the time, host, tag and pid itself.
      auto sink =
          std::make_shared<spdlog::sinks::syslog_sink_mt>("relayscope", LOG_PID, LOG_MAIL, false);
      logger = std::make_shared<spdlog::logger>("relay", std::move(sink));
      logger->set_pattern("%v");
    } else {
      auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      logger = std::make_shared<spdlog::logger>("relay", std::move(sink));
      logger->set_pattern(pattern);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return make_error("cannot open the log: " + std::string(e.what()));
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return Ok{};
}

}  // namespace relayscope::server
