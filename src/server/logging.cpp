// See logging.hpp.
#include "server/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace relayscope::server {

Status setup_logging(const std::string& level, const std::string& file) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (file.empty()) {
      logger = spdlog::stderr_logger_mt("relay");
    } else {
      logger = spdlog::basic_logger_mt("relay", file);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return make_error("cannot open the log: " + std::string(e.what()));
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l relayscope[%P]: %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return Ok{};
}

}  // namespace relayscope::server
