// A spooled message read in pieces, for the couriers: what they send or
// write is read from queue/<id> a piece at a time as it goes out, so a
// delivery's memory stays the same whatever the message's size (the queue
// manager used to read each message whole: up to concurrency x 25 MiB). The
// file stays open while the message is in use, so a removal meanwhile (the
// message finished by another attempt, or taken away by hand) does not cut
// a delivery short. Reading is blocking (call it from a worker thread),
// except for a small message, read whole when opened (in_memory()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace relayscope::server {

class SpoolMessage {
 public:
  static constexpr std::size_t piece_size = 64 * 1024;

  // Opens a queue file and finds where its message starts (after the
  // envelope, whose recorded size must match the file).
  static Expected<std::shared_ptr<const SpoolMessage>> open(const std::string& path);
  // A message already at hand (tests, and messages we write ourselves).
  static std::shared_ptr<const SpoolMessage> from_text(std::string text);
  ~SpoolMessage();
  SpoolMessage(const SpoolMessage&) = delete;
  SpoolMessage& operator=(const SpoolMessage&) = delete;

  std::uint64_t size() const { return size_; }
  // Read whole when opened (a small message): reading costs no system call.
  bool in_memory() const { return fd_ < 0; }
  // Up to `max` bytes of the message from `offset`; empty at its end.
  Expected<std::string> read(std::uint64_t offset, std::size_t max = piece_size) const;
  // Hands each piece (at most piece_size) to `sink` in order; the first
  // error, of the read or of the sink, stops it.
  Status for_each_piece(const std::function<Status(std::string_view)>& sink) const;
  // The first `max` bytes (the whole message when it is smaller): a DSN
  // returns at most that much of it.
  Expected<std::string> prefix(std::size_t max) const { return read(0, max); }

 private:
  SpoolMessage() = default;
  int fd_ = -1;             // -1: the message is `text_`
  std::uint64_t body_ = 0;  // where the message starts in the file
  std::uint64_t size_ = 0;
  std::string path_;
  std::string text_;
};

}  // namespace relayscope::server
