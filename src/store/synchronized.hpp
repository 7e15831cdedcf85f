// A Store used from two threads at once: the survey's writer thread
// (probe_writer.hpp) and the event loop (the demo's collector, which shares
// the survey's store). Neither backend's connection may be used by two
// threads at a time, so every call takes one lock. Uncontended, the lock
// costs nothing next to a statement.
#pragma once

#include <memory>
#include <mutex>

#include "store/store.hpp"

namespace relayscope::store {

std::unique_ptr<Store> synchronized(std::unique_ptr<Store> inner);

}  // namespace relayscope::store
