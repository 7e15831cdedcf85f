// A probing child of `survey --processes N` (started by process_pool.cpp as
// `relayscope survey --db - --probing-child`, with the pipe from its parent
// on descriptor 3 and the pipe to it on 4). It takes the run's options from
// the first frame, asks the parent for hosts in batches, probes them on its
// event loop as the in-process survey does (greylist retries stay here) and
// sends each finished probe whole to the parent, the one writer of the
// store. It never opens the store. A stop frame (the parent's Ctrl-C or
// SIGTERM) starts no new probe and lets those in flight finish and be sent;
// the parent gone (its pipe closed) ends the child at once.
#pragma once

namespace relayscope::survey {

inline constexpr int child_in_fd = 3;   // frames from the parent
inline constexpr int child_out_fd = 4;  // frames to the parent

// The child's whole life; its exit status (0: its probing ended well).
int run_probing_child();

}  // namespace relayscope::survey
