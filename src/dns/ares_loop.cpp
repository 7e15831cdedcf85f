// See ares_loop.hpp. The channel is created with no server at all and then
// given exactly the caller's servers; /etc/resolv.conf is never read (its
// path is set to /dev/null), so no query can reach a server nobody named.
#include "dns/ares_loop.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <poll.h>

#include <cstring>
#include <mutex>

namespace relayscope::dns {

struct AresLoop::Watch {
  Watch(const asio::any_io_executor& ex, int f) : fd(f), descriptor(ex, f) {}
  ~Watch() { close(); }
  // The socket belongs to c-ares: asio must never close it.
  void close() {
    closed = true;
    if (descriptor.is_open()) descriptor.release();
  }
  int fd;
  asio::posix::stream_descriptor descriptor;
  bool want_read = false;
  bool want_write = false;
  bool reading = false;
  bool writing = false;
  bool closed = false;
};

namespace {

Status init_library() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (status != ARES_SUCCESS) {
    return make_error(std::string("c-ares init: ") + ares_strerror(status));
  }
  return Ok{};
}

bool ready_now(int fd, bool write) {
  pollfd p{fd, static_cast<short>(write ? POLLOUT : POLLIN), 0};
  return ::poll(&p, 1, 0) > 0 && p.revents != 0;
}

}  // namespace

AresLoop::AresLoop(asio::any_io_executor executor, std::size_t max_in_flight)
    : executor_(std::move(executor)),
      timer_(executor_),
      max_in_flight_(max_in_flight == 0 ? 1 : max_in_flight) {}

Expected<std::shared_ptr<AresLoop>> AresLoop::create(asio::any_io_executor executor,
                                                     const AresLoopConfig& config) {
  if (auto s = init_library(); !s) return s.error();
  if (config.servers.empty()) return make_error("no DNS server given");
  if (config.timeout.count() <= 0 || config.timeout.count() > 600'000) {
    return make_error("DNS timeout must be 1 ms .. 600 s");
  }
  if (config.tries < 1 || config.tries > 10) return make_error("DNS tries must be 1..10");

  std::shared_ptr<AresLoop> loop(new AresLoop(std::move(executor), config.max_in_flight));

  ares_options options{};
  int mask = 0;
  // NOCHECKRESP: a SERVFAIL or REFUSED answer is the server's verdict and
  // is reported as such; without it c-ares 1.18 retries and then reports
  // "connection refused", losing the reason the survey must keep.
  options.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
  mask |= ARES_OPT_FLAGS;
  options.timeout = static_cast<int>(config.timeout.count());
  mask |= ARES_OPT_TIMEOUTMS;
  options.tries = config.tries;
  mask |= ARES_OPT_TRIES;
  options.ndots = 1;
  mask |= ARES_OPT_NDOTS;
  options.servers = nullptr;  // no server until ours are set below
  options.nservers = 0;
  mask |= ARES_OPT_SERVERS;
  options.domains = nullptr;  // no search list
  options.ndomains = 0;
  mask |= ARES_OPT_DOMAINS;
  char lookups[] = "b";  // DNS only, never the hosts file
  options.lookups = lookups;
  mask |= ARES_OPT_LOOKUPS;
  char resolv_conf[] = "/dev/null";
  options.resolvconf_path = resolv_conf;
  mask |= ARES_OPT_RESOLVCONF;
  // Up to max_in_flight answers can arrive in one burst; the default socket
  // buffer (~200 KiB of kernel accounting, a few hundred datagrams) would
  // drop some when the loop is busy, and a dropped answer costs a timeout.
  options.socket_receive_buffer_size = 4 << 20;
  mask |= ARES_OPT_SOCK_RCVBUF;
  options.sock_state_cb = reinterpret_cast<ares_sock_state_cb>(&AresLoop::on_sock_state);
  options.sock_state_cb_data = loop.get();
  mask |= ARES_OPT_SOCK_STATE_CB;

  ares_channel channel = nullptr;
  int rc = ares_init_options(&channel, &options, mask);
  if (rc != ARES_SUCCESS) return make_error(std::string("c-ares: ") + ares_strerror(rc));
  loop->channel_ = channel;

  std::vector<ares_addr_port_node> nodes(config.servers.size());
  for (std::size_t i = 0; i < config.servers.size(); ++i) {
    const auto& s = config.servers[i];
    auto& n = nodes[i];
    n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
    if (s.address.is_v4) {
      n.family = AF_INET;
      std::memcpy(&n.addr.addr4, &s.address.bytes[12], 4);
    } else {
      n.family = AF_INET6;
      std::memcpy(&n.addr.addr6, s.address.bytes.data(), 16);
    }
    n.udp_port = s.port;
    n.tcp_port = s.port;
  }
  rc = ares_set_servers_ports(channel, nodes.data());
  if (rc != ARES_SUCCESS) {
    loop->shutdown();
    return make_error(std::string("c-ares: setting DNS servers: ") + ares_strerror(rc));
  }
  // Belt and braces: the channel holds exactly our servers.
  ares_addr_port_node* got = nullptr;
  rc = ares_get_servers_ports(channel, &got);
  std::size_t count = 0;
  for (auto* n = got; n; n = n->next) ++count;
  if (got) ares_free_data(got);
  if (rc != ARES_SUCCESS || count != config.servers.size()) {
    loop->shutdown();
    return make_error("c-ares: the channel does not hold the named DNS servers");
  }
  return loop;
}

AresLoop::~AresLoop() {
  shutdown();
}

void AresLoop::shutdown() {
  if (channel_) {
    auto* channel = channel_;
    channel_ = nullptr;
    // Completes every query handed to c-ares with ARES_EDESTRUCTION and
    // reports each socket closed (on_sock_state releases it first).
    ares_destroy(channel);
  }
  auto queued = std::move(queue_);
  queue_.clear();
  for (auto& op : queued) op->complete(RawAnswer{ARES_EDESTRUCTION, {}});
  for (auto& [fd, watch] : watches_) watch->close();
  watches_.clear();
  timer_.cancel();
}

void AresLoop::submit(std::unique_ptr<Op> op) {
  if (!channel_) {
    op->complete(RawAnswer{ARES_EDESTRUCTION, {}});
    return;
  }
  if (in_flight_ >= max_in_flight_ || !queue_.empty()) {
    queue_.push_back(std::move(op));
    start_queued();
    return;
  }
  start(std::move(op));
  rearm_timer();
}

void AresLoop::start(std::unique_ptr<Op> op) {
  ++in_flight_;
  op->loop = this;
  Op* raw = op.release();  // owned by c-ares until on_answer
  // May call on_answer at once (bad name...); that is fine: it only posts.
  ares_query(channel_, raw->name.c_str(), ns_c_in, static_cast<int>(raw->type),
             &AresLoop::on_answer, raw);
}

void AresLoop::start_queued() {
  if (draining_) return;  // a synchronous failure inside start() must not recurse
  draining_ = true;
  bool started = false;
  while (channel_ && !queue_.empty() && in_flight_ < max_in_flight_) {
    auto op = std::move(queue_.front());
    queue_.pop_front();
    start(std::move(op));
    started = true;
  }
  draining_ = false;
  if (started) rearm_timer();
}

void AresLoop::on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<Op> op(static_cast<Op*>(arg));
  AresLoop* loop = op->loop;
  RawAnswer answer{status, {}};
  if (abuf && alen > 0) answer.data.assign(abuf, abuf + alen);
  --loop->in_flight_;
  op->complete(std::move(answer));
  if (status != ARES_EDESTRUCTION) loop->start_queued();
}

void AresLoop::on_sock_state(void* data, int fd, int readable, int writable) {
  auto* loop = static_cast<AresLoop*>(data);
  if (!readable && !writable) {
    loop->forget(fd);
    return;
  }
  auto& watch = loop->watches_[fd];
  if (!watch) {
    try {
      watch = std::make_shared<Watch>(loop->executor_, fd);
    } catch (const std::system_error&) {
      // Cannot watch it: c-ares will time the query out; nothing leaks.
      loop->watches_.erase(fd);
      return;
    }
  }
  watch->want_read = readable != 0;
  watch->want_write = writable != 0;
  loop->arm(watch);
}

void AresLoop::forget(int fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  it->second->close();  // cancels its waits; their handlers see `closed`
  watches_.erase(it);
}

// asio's epoll reactor is edge-triggered and queues a wait without looking at
// the socket's current state; c-ares reads TCP one recv() at a time and may
// leave bytes behind. So a socket that is ready already is handled at once
// (posted, so other work interleaves), and only an idle one is waited on.
void AresLoop::arm(const std::shared_ptr<Watch>& watch) {
  std::weak_ptr<AresLoop> weak = weak_from_this();
  auto start_wait = [&](bool write) {
    bool& busy = write ? watch->writing : watch->reading;
    if (busy) return;
    busy = true;
    auto on_event = [weak, watch, write](const asio::error_code& ec) {
      (write ? watch->writing : watch->reading) = false;
      if (watch->closed || ec == asio::error::operation_aborted) return;
      if (auto self = weak.lock()) self->on_ready(watch->fd, write);
    };
    if (ready_now(watch->fd, write)) {
      asio::post(executor_, [on_event]() { on_event(asio::error_code()); });
    } else {
      watch->descriptor.async_wait(write ? asio::posix::stream_descriptor::wait_write
                                         : asio::posix::stream_descriptor::wait_read,
                                   on_event);
    }
  };
  if (watch->want_read) start_wait(false);
  if (watch->want_write) start_wait(true);
}

void AresLoop::on_ready(int fd, bool write) {
  if (!channel_) return;
  if (write) {
    ares_process_fd(channel_, ARES_SOCKET_BAD, fd);
  } else {
    ares_process_fd(channel_, fd, ARES_SOCKET_BAD);
  }
  // c-ares may have closed the socket (forget() ran) or changed interest.
  if (auto it = watches_.find(fd); it != watches_.end()) arm(it->second);
  rearm_timer();
}

void AresLoop::rearm_timer() {
  if (!channel_) return;
  timeval tv{};
  timeval* next = ares_timeout(channel_, nullptr, &tv);
  if (!next) {
    timer_.cancel();
    return;
  }
  timer_.expires_after(std::chrono::seconds(next->tv_sec) +
                       std::chrono::microseconds(next->tv_usec));
  std::weak_ptr<AresLoop> weak = weak_from_this();
  timer_.async_wait([weak](const asio::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    auto self = weak.lock();
    if (!self || !self->channel_) return;
    ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts only
    self->rearm_timer();
  });
}

}  // namespace relayscope::dns
