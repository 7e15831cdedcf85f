// The relay's log: spdlog, one line per event ("<time> <level> <queue id>:
// what happened"), to standard error or to a file.
#pragma once

#include <string>

#include "common/expected.hpp"

namespace relayscope::server {

Status setup_logging(const std::string& level, const std::string& file);

}  // namespace relayscope::server
