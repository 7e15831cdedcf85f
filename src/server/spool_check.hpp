// The check a spool file carries of its message (the envelope's "check:"
// line): a message written over a spent file in place (spool_pool.hpp) may,
// after a crash before its sync, hold blocks of the old message under the
// new name, with the right size. Recovery recomputes the check of every
// file small enough to have been written that way and sets aside one that
// does not match (spool_recovery.cpp). BLAKE2b (libsodium): a checksum
// would do, but this one is at hand, fast and never collides by accident.
#pragma once

#include <string>
#include <string_view>

namespace relayscope::server {

// 32 lowercase hex digits (128 bits) of the message's bytes.
std::string spool_check(std::string_view message);

}  // namespace relayscope::server
