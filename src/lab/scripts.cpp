// See scripts.hpp. A co_await is never inside an if condition here: its
// result goes to a local first (GCC 12 can corrupt the coroutine frame).
#include "lab/scripts.hpp"

#include <iterator>
#include <string>

namespace relayscope::lab {

namespace {

using B = Behaviour;

constexpr std::string_view garbage_texts[] = {
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not smtp",
    "HTTP/1.1 400 Bad Request",
    "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
    "\xff\xfd\x18\xff\xfd\x20 telnet options",
    "*** what? ***",
    "2500 almost a reply",
    "SSH-2.0-OpenSSH_9.2p1",
};

asio::awaitable<bool> write_raw(HostContext& ctx, net::Connection& conn, std::string_view bytes) {
  auto r = co_await conn.write(bytes, ctx.hub.limits.write_timeout);
  co_return static_cast<bool>(r);
}

// Keeps a client waiting (reading what it sends, bounded) until it leaves or
// hold_timeout passes; with `answer_with_garbage`, each line gets garbage.
asio::awaitable<void> hold_silent(HostContext& ctx, net::Connection& conn,
                                  bool answer_with_garbage) {
  const auto& limits = ctx.hub.limits;
  std::size_t next = 0;
  if (answer_with_garbage) {
    bool waited = co_await ctx.pause(ctx.hub.delays.greeting_ms + ctx.jitter());
    if (!waited) co_return;
    std::string first =
        std::string(garbage_text(0)) + "\r\n" + std::string(garbage_text(1)) + "\r\n";
    bool sent = co_await write_raw(ctx, conn, first);
    if (!sent) co_return;
    next = 2;
  }
  auto deadline = net::Clock::now() + limits.hold_timeout;
  for (std::size_t lines = 0; lines < limits.max_commands && !ctx.hub.stopped; ++lines) {
    auto left = deadline - net::Clock::now();
    if (left <= net::Duration::zero()) co_return;
    auto line = co_await conn.read_line(left);
    if (!line) co_return;
    if (answer_with_garbage) {
      std::string g = std::string(garbage_text(next++)) + "\r\n";
      bool sent = co_await write_raw(ctx, conn, g);
      if (!sent) co_return;
    }
  }
}

// A greeting line that never ends: "220-" and then bytes, no line ending,
// until the client gives up (its write side stalls: write_timeout), the cap,
// or hold_timeout.
asio::awaitable<void> endless(HostContext& ctx, net::Connection& conn) {
  const auto& limits = ctx.hub.limits;
  bool waited = co_await ctx.pause(ctx.hub.delays.greeting_ms);
  if (!waited) co_return;
  bool started = co_await write_raw(ctx, conn, "220-" + ctx.self.name + " ");
  if (!started) co_return;
  const std::string chunk(4096, 'x');
  auto deadline = net::Clock::now() + limits.hold_timeout;
  for (std::size_t sent = 0; sent < limits.endless_cap && net::Clock::now() < deadline;
       sent += chunk.size()) {
    bool more = co_await write_raw(ctx, conn, chunk);
    if (!more) co_return;
    bool again = co_await ctx.pause(5);
    if (!again) co_return;
  }
}

// A tarpit: "220-" and then one byte per slow_byte_ms, the line never ended,
// until the client leaves or hold_timeout passes. Costs the lab one timer.
asio::awaitable<void> tarpit(HostContext& ctx, net::Connection& conn) {
  bool waited =
      co_await ctx.pause(ctx.hub.delays.greeting_ms + ctx.timing.greeting_ms + ctx.timing.rtt_ms);
  if (!waited) co_return;
  const std::string text = "220-" + ctx.self.name + " please wait while we check you ";
  auto deadline = net::Clock::now() + ctx.hub.limits.hold_timeout;
  for (std::size_t i = 0; net::Clock::now() < deadline; ++i) {
    bool sent = co_await write_raw(ctx, conn, std::string_view(&text[i % text.size()], 1));
    if (!sent) co_return;
    bool again = co_await ctx.pause(ctx.hub.delays.slow_byte_ms);
    if (!again) co_return;
  }
}

}  // namespace

std::string_view garbage_text(std::size_t n) {
  return garbage_texts[n % std::size(garbage_texts)];
}

bool is_scripted(Behaviour b) {
  return b == B::reset_at_connect || b == B::no_greeting || b == B::garbage_greeting ||
         b == B::endless_line || b == B::tarpit;
}

asio::awaitable<void> run_script(HostContext& ctx, net::Connection& conn) {
  switch (ctx.behaviour) {
    case B::no_greeting:
      co_await hold_silent(ctx, conn, false);
      break;
    case B::garbage_greeting:
      co_await hold_silent(ctx, conn, true);
      break;
    case B::endless_line:
      co_await endless(ctx, conn);
      break;
    case B::tarpit:
      co_await tarpit(ctx, conn);
      break;
    default:
      break;
  }
}

}  // namespace relayscope::lab
