// See dialogue.hpp. The client side is a coroutine beside the session's on
// one io_context; it waits for the server's replies on the memory stream
// (bounded by the run's deadline), never on wall-clock sleeps.
#include "smtpd/dialogue.hpp"

#include <asio/experimental/as_tuple.hpp>

#include "smtpd/memory_stream.hpp"

namespace relayscope::smtpd {

namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class MemoryWriter final : public MessageWriter {
 public:
  MemoryWriter(MemorySink& sink, Envelope env) : sink_(sink), env_(std::move(env)) {}
  asio::awaitable<bool> write(std::string chunk) override {
    sink_.largest_chunk = std::max(sink_.largest_chunk, chunk.size());
    if (sink_.fail_writes) co_return false;
    message_ += chunk;
    co_return true;
  }
  asio::awaitable<smtp::Reply> commit() override {
    sink_.messages.push_back(std::move(message_));
    sink_.envelopes.push_back(std::move(env_));
    co_return smtp::make_reply(250, "2.0.0 Ok: kept as " + std::to_string(sink_.messages.size()));
  }
  asio::awaitable<void> abort() override {
    message_.clear();
    co_return;
  }

 private:
  MemorySink& sink_;
  Envelope env_;
  std::string message_;
};

// The next whole reply in `out` from `pos`, or npos when not complete yet.
std::size_t reply_end(const std::string& out, std::size_t pos) {
  for (;;) {
    auto nl = out.find('\n', pos);
    if (nl == std::string::npos) return std::string::npos;
    auto line = std::string_view(out).substr(pos, nl - pos);
    pos = nl + 1;
    if (line.size() < 4 || line[3] != '-') return pos;
  }
}

std::string trim_cr(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  return std::string(s);
}

asio::awaitable<void> drive(std::string_view script, MemoryStream& stream, Deadline deadline,
                            DialogueResult& result) {
  std::size_t seen = 0;  // transcript bytes already matched
  std::string pending;   // client bytes not sent yet (a pipelined group)
  int number = 0;
  for (auto line : lines_of(script)) {
    ++number;
    if (line.size() >= 2 && (line.substr(0, 2) == "C:" || line.substr(0, 2) == "C!")) {
      pending += unescape_client_text(line.size() > 3 ? line.substr(3) : std::string_view());
      if (line[1] == ':') pending += "\r\n";
      continue;
    }
    if (line.substr(0, 2) != "S:") continue;
    if (!pending.empty()) {
      stream.feed(pending);
      pending.clear();
    }
    auto expect = trim_cr(line.size() > 3 ? line.substr(3) : std::string_view());
    std::size_t end = std::string::npos;
    for (;;) {
      end = reply_end(stream.output(), seen);
      if (end != std::string::npos || stream.closed()) break;
      bool more = co_await stream.wait_output(stream.output().size(), deadline);
      if (!more) break;
    }
    if (expect == "~") {
      if (end != std::string::npos || !stream.closed()) {
        result.ok = false;
        result.failure = "line " + std::to_string(number) + ": expected the server to close";
        co_return;
      }
      continue;
    }
    if (end == std::string::npos) {
      result.ok = false;
      result.failure = "line " + std::to_string(number) + ": no reply, expected '" + expect + "'";
      co_return;
    }
    auto got = stream.output().substr(seen, end - seen);
    seen = end;
    if (got.compare(0, expect.size(), expect) != 0) {
      result.ok = false;
      result.failure = "line " + std::to_string(number) + ": expected '" + expect + "', got '" +
                       trim_cr(got) + "'";
      co_return;
    }
  }
  if (!pending.empty()) stream.feed(pending);
  stream.finish();
}

}  // namespace

std::string unescape_client_text(std::string_view t) {
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '\\' || i + 1 >= t.size()) {
      out += t[i];
      continue;
    }
    char c = t[++i];
    if (c == 'r') {
      out += '\r';
    } else if (c == 'n') {
      out += '\n';
    } else if (c == 't') {
      out += '\t';
    } else if (c == 'x' && i + 2 < t.size() && hex(t[i + 1]) >= 0 && hex(t[i + 2]) >= 0) {
      out += static_cast<char>(hex(t[i + 1]) * 16 + hex(t[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

bool dialogue_applies(std::string_view script, std::string_view name) {
  bool restricted = false;
  for (auto line : lines_of(script)) {
    if (line.substr(0, 7) != "= only ") continue;
    restricted = true;
    if (trim_cr(line.substr(7)) == name) return true;
  }
  return !restricted;
}

DialogueResult run_dialogue(std::string_view script, const SessionSettings& settings,
                            SessionPolicy& policy, MessageSink& sink,
                            std::chrono::milliseconds limit,
                            const std::function<void(MemoryStream&)>& setup) {
  asio::io_context io;
  MemoryStream stream(io.get_executor());
  if (setup) setup(stream);
  DialogueResult result;
  auto deadline = Clock::now() + limit;
  ClientInfo client;
  client.address = "192.0.2.7";
  client.ip = IpAddress::parse(client.address);
  client.local_address = "127.0.0.1";
  client.session_id = 1;
  // A guard for the whole run: a session that never ends fails the test.
  asio::steady_timer guard(io, deadline);
  int running = 2;
  auto ended = [&](std::exception_ptr) {
    if (--running == 0) guard.cancel();
  };
  asio::co_spawn(io, run_session(stream, client, settings, policy, sink), ended);
  asio::co_spawn(io, drive(script, stream, deadline, result), ended);
  guard.async_wait([&](const std::error_code& ec) {
    if (!ec) {
      result.ok = false;
      if (result.failure.empty()) result.failure = "the session did not end in time";
      stream.close();
      io.stop();
    }
  });
  io.run_for(limit + std::chrono::seconds(1));
  result.transcript = stream.output();
  return result;
}

std::string run_session_on_bytes(std::string_view input, const SessionSettings& settings,
                                 SessionPolicy& policy, MessageSink& sink) {
  asio::io_context io;
  MemoryStream stream(io.get_executor());
  stream.feed(input);
  stream.finish();
  ClientInfo client;
  client.address = "192.0.2.7";
  client.ip = IpAddress::parse(client.address);
  asio::co_spawn(io, run_session(stream, client, settings, policy, sink), asio::detached);
  io.run();
  return stream.output();
}

asio::awaitable<std::unique_ptr<MessageWriter>> MemorySink::open(const ClientInfo&,
                                                                 const Envelope& envelope) {
  co_return std::make_unique<MemoryWriter>(*this, envelope);
}

}  // namespace relayscope::smtpd
