// DNS peers for the resolver's integration tests, all on 127.0.0.1: a real
// unbound serving a generated `.test` zone (no recursion: nothing leaves the
// machine), and a tiny UDP responder that answers SERVFAIL or REFUSED, or
// never answers, or answers MX only, and counts the packets it gets.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace relayscope::dns::testing {

class UnboundServer {
 public:
  // `local_data`: unbound local-data lines, e.g. "a.test. MX 10 mx.a.test.".
  // Starts unbound on a free port and waits (bounded) until it answers.
  explicit UnboundServer(const std::vector<std::string>& local_data);
  ~UnboundServer();  // stops it by pid, removes its directory
  UnboundServer(const UnboundServer&) = delete;
  UnboundServer& operator=(const UnboundServer&) = delete;

  bool running() const { return pid_ > 0 && error_.empty(); }
  const std::string& error() const { return error_; }
  std::uint16_t port() const { return port_; }
  std::string spec() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  bool start_once(const std::vector<std::string>& local_data);
  void stop();

  std::string dir_;
  std::string error_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

class TinyResponder {
 public:
  // mx_only: answers an MX query with "10 mx.<qname>" and ignores all else.
  enum class Mode { servfail, refused, silent, mx_only };
  explicit TinyResponder(Mode mode);
  ~TinyResponder();
  TinyResponder(const TinyResponder&) = delete;
  TinyResponder& operator=(const TinyResponder&) = delete;

  std::uint16_t port() const { return port_; }
  std::string spec() const { return "127.0.0.1:" + std::to_string(port_); }
  int packets() const { return packets_.load(); }

 private:
  void serve();
  Mode mode_;
  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> packets_{0};
  std::thread thread_;
};

// A DNS query for `name`/`type` sent over UDP; true if any reply came
// within `timeout_ms`. Used to wait for a server to come up.
bool answers(std::uint16_t port, const std::string& name, int timeout_ms);

}  // namespace relayscope::dns::testing
