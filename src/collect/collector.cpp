// See collector.hpp. One coroutine per connection, one straight loop: read a
// command, answer it; only the loop writes. The recipient rule is the safe
// rule of smtp/route.hpp with our one domain as the only local domain.
#include "collect/collector.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <atomic>
#include <cctype>
#include <filesystem>

#include "collect/envelope.hpp"
#include "mail/addr_port.hpp"
#include "mail/date.hpp"
#include "net/connection.hpp"
#include "smtp/command.hpp"
#include "smtp/data_reader.hpp"
#include "smtp/route.hpp"

namespace relayscope::collect {

namespace {

constexpr std::size_t max_line = 2048;
constexpr int max_errors = 10;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string now_iso() {
  return mail::iso8601_date(std::time(nullptr));
}

// Writes the message (with a Return-Path and the envelope as headers we add
// in front) and fsyncs file and directory: only then may we say 250.
Status keep_message(const std::string& dir, const std::string& name, const std::string& text) {
  auto tmp = dir + "/." + name + ".tmp";
  auto final_path = dir + "/" + name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return make_error("cannot create " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error("cannot write " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  bool ok = ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return make_error("cannot keep " + final_path);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok{};
}

}  // namespace

struct Collector::State : std::enable_shared_from_this<Collector::State> {
  State(asio::any_io_executor ex, CollectorOptions o, store::Store& s)
      : acceptor(ex), options(std::move(o)), store(s) {}
  asio::ip::tcp::acceptor acceptor;
  CollectorOptions options;
  store::Store& store;
  CollectorCounts counts;
  std::size_t active = 0;
  std::uint64_t next_id = 0;
  bool stopped = false;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(asio::ip::tcp::socket socket);
  std::string receive(const std::string& client, const std::string& from,
                      const std::vector<std::string>& rcpts, const std::string& message);
};

asio::awaitable<void> Collector::State::accept_loop() {
  auto self = shared_from_this();
  while (!stopped) {
    auto [ec, socket] =
        co_await acceptor.async_accept(asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) co_return;
      continue;  // EMFILE and the like: the next accept may work
    }
    if (active >= options.max_sessions) {
      std::error_code ignored;
      asio::write(socket, asio::buffer(std::string("421 4.3.2 Too many connections\r\n")), ignored);
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), self->session(std::move(socket)), asio::detached);
  }
}

// Returns the reply to the final dot.
std::string Collector::State::receive(const std::string& client, const std::string& from,
                                      const std::vector<std::string>& rcpts,
                                      const std::string& message) {
  auto id = fmt::format("{}-{}-{}", std::time(nullptr), ::getpid(), ++next_id);
  std::string stored = "Return-Path: <" + from + ">\r\n";
  for (const auto& r : rcpts) stored += "X-Relayscope-Envelope-To: <" + r + ">\r\n";
  stored += "X-Relayscope-Client: " + client + "\r\n" + message;
  if (auto s = keep_message(options.spool_dir, id + ".eml", stored); !s) {
    return "451 4.3.0 Cannot keep the message now; try again later";
  }
  auto arrival = classify_envelope(from, rcpts, message, options.sender_local_part,
                                   options.recipient_local_part);
  store::Arrival a;
  a.token = arrival.token;
  a.kind = arrival.kind;
  a.received_at = now_iso();
  a.client_ip = client;
  a.mail_from = from;
  for (const auto& r : rcpts) a.rcpt_to += (a.rcpt_to.empty() ? "" : ",") + r;
  a.message_path = options.spool_dir + "/" + id + ".eml";
  if (auto s = store.add_arrival(a); !s) {
    return "451 4.3.0 Cannot record the message now; try again later";
  }
  if (a.kind == "delivery")
    ++counts.deliveries;
  else if (a.kind == "bounce")
    ++counts.bounces;
  else if (a.kind == "warning")
    ++counts.warnings;
  else
    ++counts.unmatched;
  return "250 2.0.0 Kept as " + id;
}

asio::awaitable<void> Collector::State::session(asio::ip::tcp::socket socket) {
  auto self = shared_from_this();
  ++active;
  struct Leave {
    std::size_t& n;
    ~Leave() { --n; }
  } leave{active};
  net::Connection c(std::move(socket), max_line);
  auto client = c.remote_address();
  auto cmd_timeout = options.command_timeout;
  auto say = [&](const std::string& reply) -> asio::awaitable<bool> {
    auto written = co_await c.write(reply + "\r\n", cmd_timeout);
    co_return static_cast<bool>(written);
  };
  // (GCC 12: no co_await inside a condition; see the brief's coroutine rule.)
  bool greeted_ok = co_await say("220 " + options.hostname + " ESMTP relayscope collector");
  if (!greeted_ok) {
    co_return;
  }

  bool greeted = false;
  bool in_mail = false;
  std::string from;
  std::vector<std::string> rcpts;
  int errors = 0;
  const auto domain = lower(options.domain);
  for (;;) {
    auto line = co_await c.read_line(cmd_timeout);
    if (!line) {
      if (line.result.error == net::IoError::line_too_long) {
        co_await say("500 5.5.6 Line too long");
      } else if (line.result.error == net::IoError::timeout) {
        co_await say("421 4.4.2 " + options.hostname + " Timeout, closing");
      }
      co_return;
    }
    auto cmd = smtp::parse_command(line.value, true);
    std::string reply;
    if (!cmd) {
      reply = cmd.error().message;
      ++errors;
    } else {
      switch (cmd->verb) {
        case smtp::Verb::ehlo:
          greeted = true;
          in_mail = false;
          rcpts.clear();
          reply = fmt::format(
              "250-{}\r\n250-PIPELINING\r\n250-SIZE {}\r\n250-8BITMIME\r\n250 "
              "ENHANCEDSTATUSCODES",
              options.hostname, options.max_message);
          break;
        case smtp::Verb::helo:
          greeted = true;
          in_mail = false;
          rcpts.clear();
          reply = "250 " + options.hostname;
          break;
        case smtp::Verb::mail:
          if (!greeted) {
            reply = "503 5.5.1 Say EHLO first";
          } else if (in_mail) {
            reply = "503 5.5.1 Nested MAIL command";
          } else {
            in_mail = true;
            from = cmd->path.null ? std::string() : cmd->path.mailbox.wire();
            rcpts.clear();
            reply = "250 2.1.0 Ok";
          }
          break;
        case smtp::Verb::rcpt: {
          if (!in_mail) {
            reply = "503 5.5.1 Need MAIL first";
            break;
          }
          auto route = smtp::resolve_route(cmd->path);
          bool ours = route.is_local([&](std::string_view d) { return d == domain; },
                                     [](std::string_view) { return false; });
          if (!ours) {
            ++counts.refused_recipients;
            ++errors;
            reply = "550 5.7.1 Relaying denied: this host takes mail for " + domain + " only";
          } else if (rcpts.size() >= options.max_recipients) {
            reply = "452 4.5.3 Too many recipients";
          } else {
            rcpts.push_back(cmd->path.mailbox.wire());
            reply = "250 2.1.5 Ok";
          }
          break;
        }
        case smtp::Verb::data: {
          if (!in_mail || rcpts.empty()) {
            reply = "503 5.5.1 Need RCPT first";
            break;
          }
          bool go_ahead = co_await say("354 End data with <CR><LF>.<CR><LF>");
          if (!go_ahead) {
            co_return;
          }
          smtp::DataReader reader(options.max_message);
          std::string message;
          while (!reader.finished()) {
            auto chunk = co_await c.read_some(options.data_timeout);
            if (!chunk) {
              co_return;
            }
            c.consume(reader.feed(chunk.value, message));
          }
          switch (reader.state()) {
            case smtp::DataReader::State::done:
              reply = receive(client, from, rcpts, message);
              break;
            case smtp::DataReader::State::too_big:
              reply = "552 5.3.4 Message too big";
              break;
            case smtp::DataReader::State::bare_line_ending:
              reply = "550 5.6.11 Bare CR or LF in message: only CRLF ends lines";
              break;
            default:
              reply = "500 5.5.6 Line too long in message";
              break;
          }
          in_mail = false;
          rcpts.clear();
          break;
        }
        case smtp::Verb::rset:
          in_mail = false;
          rcpts.clear();
          reply = "250 2.0.0 Ok";
          break;
        case smtp::Verb::noop:
          reply = "250 2.0.0 Ok";
          break;
        case smtp::Verb::vrfy:
          reply = "252 2.5.2 Cannot verify, but will take the message";
          break;
        case smtp::Verb::help:
          reply = "214 2.0.0 relayscope collector";
          break;
        case smtp::Verb::quit:
          co_await say("221 2.0.0 Bye");
          co_return;
        default:
          reply = "502 5.5.1 Not implemented";
          break;
      }
    }
    if (errors > max_errors) {
      co_await say("421 4.7.0 Too many errors, closing");
      co_return;
    }
    bool said = co_await say(reply);
    if (!said) {
      co_return;
    }
  }
}

Expected<std::unique_ptr<Collector>> Collector::start(asio::any_io_executor executor,
                                                      CollectorOptions options,
                                                      store::Store& store) {
  auto listen = mail::parse_addr_port(options.listen, {.port_zero = true});
  if (!listen) return make_error("--listen: " + listen.error().message);
  std::error_code ec;
  auto address = asio::ip::make_address(listen->address.to_string(), ec);
  int port = *listen->port;
  if (options.domain.empty()) return make_error("--domain is required");
  if (options.spool_dir.empty()) return make_error("no spool directory for the messages");
  std::filesystem::create_directories(options.spool_dir, ec);
  if (ec) return make_error("cannot create " + options.spool_dir + ": " + ec.message());

  auto st = std::make_shared<State>(executor, std::move(options), store);
  asio::ip::tcp::endpoint ep(address, static_cast<std::uint16_t>(port));
  st->acceptor.open(ep.protocol(), ec);
  if (!ec) st->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) st->acceptor.bind(ep, ec);
  if (!ec) st->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("cannot listen on " + st->options.listen + ": " + ec.message());
  asio::co_spawn(executor, st->accept_loop(), asio::detached);
  return std::unique_ptr<Collector>(new Collector(st));
}

Collector::Collector(std::shared_ptr<State> state) : state_(std::move(state)) {}
Collector::~Collector() {
  stop();
}

std::string Collector::endpoint() const {
  std::error_code ec;
  auto ep = state_->acceptor.local_endpoint(ec);
  if (ec) return {};
  auto a = ep.address().to_string();
  if (ep.address().is_v6()) a = "[" + a + "]";
  return a + ":" + std::to_string(ep.port());
}

const CollectorCounts& Collector::counts() const {
  return state_->counts;
}
std::size_t Collector::active_sessions() const {
  return state_->active;
}

void Collector::stop() {
  state_->stopped = true;
  std::error_code ignored;
  state_->acceptor.close(ignored);
}

}  // namespace relayscope::collect
