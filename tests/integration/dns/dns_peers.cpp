// See dns_peers.hpp. unbound gets a config of its own in a temporary
// directory: local-zone "test." static with the records, "." refused,
// every upstream address forbidden and empty root hints, so it cannot
// recurse anywhere.
#include "dns_peers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

extern char** environ;

namespace relayscope::dns::testing {

namespace {

using Clock = std::chrono::steady_clock;

std::uint16_t free_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

std::vector<unsigned char> make_query(const std::string& name, std::uint16_t id) {
  std::vector<unsigned char> q = {static_cast<unsigned char>(id >> 8),
                                  static_cast<unsigned char>(id & 0xff),
                                  0x01,
                                  0x00,
                                  0,
                                  1,
                                  0,
                                  0,
                                  0,
                                  0,
                                  0,
                                  0};
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<unsigned char>(dot - start));
    q.insert(q.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});  // root, type A, class IN
  return q;
}

}  // namespace

bool answers(std::uint16_t port, const std::string& name, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  auto q = make_query(name, 0x4242);
  bool ok = false;
  if (::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) > 0) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) > 0) {
      unsigned char buf[1500];
      auto n = ::recv(fd, buf, sizeof buf, 0);
      ok = n >= 12 && buf[0] == 0x42 && buf[1] == 0x42;
    }
  }
  ::close(fd);
  return ok;
}

UnboundServer::UnboundServer(const std::vector<std::string>& local_data) {
  char tmpl[] = "/tmp/relayscope-unbound-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  if (::access(UNBOUND_PROGRAM, X_OK) != 0) {
    error_ =
        std::string("unbound not found at ") + UNBOUND_PROGRAM + " (scripts/bootstrap installs it)";
    return;
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (start_once(local_data)) return;
  }
  if (error_.empty()) error_ = "unbound did not start";
}

bool UnboundServer::start_once(const std::vector<std::string>& local_data) {
  port_ = free_udp_port();
  const std::string conf = dir_ + "/unbound.conf";
  {
    std::ofstream out(conf);
    out << "server:\n"
        << "  interface: 127.0.0.1\n"
        << "  port: " << port_ << "\n"
        << "  do-ip6: no\n"
        << "  do-daemonize: no\n"
        << "  num-threads: 1\n"
        << "  username: \"\"\n"
        << "  chroot: \"\"\n"
        << "  directory: \"" << dir_ << "\"\n"
        << "  pidfile: \"\"\n"
        << "  use-syslog: no\n"
        << "  logfile: \"\"\n"
        << "  verbosity: 1\n"
        << "  access-control: 127.0.0.0/8 allow\n"
        << "  module-config: \"iterator\"\n"
        // Never recurse: no root hints, every upstream address forbidden,
        // and all names outside .test refused before any lookup.
        << "  root-hints: \"" << dir_ << "/empty.hints\"\n"
        << "  do-not-query-localhost: yes\n"
        << "  do-not-query-address: 0.0.0.0/0\n"
        << "  do-not-query-address: ::/0\n"
        << "  local-zone: \".\" refuse\n"
        << "  local-zone: \"test.\" static\n"
        << "  local-data: \"ready.test. A 127.0.0.99\"\n";
    // Single quotes outside, so that TXT data can use double quotes.
    for (const auto& d : local_data) out << "  local-data: '" << d << "'\n";
  }
  std::ofstream(dir_ + "/empty.hints").flush();

  const std::string log = dir_ + "/unbound.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::string program = UNBOUND_PROGRAM;
  std::string d_flag = "-d";
  std::string c_flag = "-c";
  std::string conf_arg = conf;
  char* argv[] = {program.data(), d_flag.data(), c_flag.data(), conf_arg.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error_ = std::string("posix_spawn unbound: ") + std::strerror(rc);
    return false;
  }
  pid_ = pid;
  // Ready when it answers; gone if it exited (port taken: try another).
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream in(log);
      error_ = "unbound exited: " + std::string(std::istreambuf_iterator<char>(in), {});
      return false;
    }
    if (answers(port_, "ready.test", 100)) {
      error_.clear();
      return true;
    }
  }
  stop();
  error_ = "unbound did not answer within 15 s";
  return false;
}

void UnboundServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    ::poll(nullptr, 0, 10);  // pacing the reap loop, not synchronisation
  }
  pid_ = -1;
}

UnboundServer::~UnboundServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

TinyResponder::TinyResponder(Mode mode) : mode_(mode) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port_ = ntohs(a.sin_port);
  }
  if (::pipe(stop_pipe_) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
  thread_ = std::thread([this] { serve(); });
}

TinyResponder::~TinyResponder() {
  if (stop_pipe_[1] >= 0) (void)!::write(stop_pipe_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

void TinyResponder::serve() {
  for (;;) {
    pollfd p[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) return;
    if (p[1].revents) return;
    if (!(p[0].revents & POLLIN)) continue;
    unsigned char buf[512];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    auto n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 12) continue;
    ++packets_;
    if (mode_ == Mode::silent) continue;
    if (mode_ == Mode::mx_only) {
      // The question ends 4 bytes (type, class) after its name's root label.
      std::size_t q = 12;
      while (q < static_cast<std::size_t>(n) && buf[q] != 0) q += buf[q] + 1u;
      if (q + 5 > static_cast<std::size_t>(n) || buf[q + 1] != 0 || buf[q + 2] != 15) continue;
      std::vector<unsigned char> reply(buf, buf + q + 5);
      reply[2] = 0x85;  // QR, AA, RD
      reply[3] = 0x80;  // RA, NOERROR
      reply[7] = 1;     // one answer
      reply[9] = reply[11] = 0;
      // Owner: pointer to the question; MX 10 "mx" + the question name (pointer).
      reply.insert(reply.end(),
                   {0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 7, 0, 10, 2, 'm', 'x', 0xc0, 12});
      ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      continue;
    }
    // The query itself, turned into a reply with the wanted rcode.
    const unsigned char rcode = mode_ == Mode::servfail ? 2 : 5;
    buf[2] = static_cast<unsigned char>(buf[2] | 0x80);
    buf[3] = static_cast<unsigned char>(0x80 | rcode);
    ::sendto(fd_, buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
  }
}

}  // namespace relayscope::dns::testing
