// The process's open-files limit: raised to the hard limit at start by the
// programs that hold many sockets (the lab, the survey), and read to size
// what they may hold at once.
#pragma once

#include <cstdint>

namespace relayscope {

// Raises the soft RLIMIT_NOFILE to the hard limit as far as the system
// allows; returns the soft limit now in force.
std::uint64_t raise_open_files_limit();

}  // namespace relayscope
