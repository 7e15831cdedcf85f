// Idle SMTP connections kept a short while for the next message to the same
// server, as Postfix's connection cache (scache, smtp_connection_cache_on_
// demand): a relay with a backlog for one destination (its smarthost, a busy
// MX) then pays for the connection, the greeting and EHLO once for many
// messages, and so does the server. A connection waits at most `idle`
// (Postfix's smtp_connection_cache_time_limit, 2 s) and is reused for at
// most `lifetime` after it opened (smtp_connection_reuse_time_limit, 300 s);
// then it is closed with QUIT. At most `capacity` wait at once (the oldest
// goes first). Not thread-safe: used on its executor only.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "client/smtp_client.hpp"

namespace relayscope::client {

class ConnectionCache {
 public:
  using Clock = std::chrono::steady_clock;

  struct Settings {
    Clock::duration idle = std::chrono::seconds(2);
    Clock::duration lifetime = std::chrono::seconds(300);
    std::size_t capacity = 20;
  };

  // A connection between two messages: the client, greeted and past EHLO
  // (and STARTTLS when it took place), and when it was opened.
  struct Connection {
    std::unique_ptr<SmtpClient> client;
    Clock::time_point opened;
  };

  ConnectionCache(asio::any_io_executor executor, Settings settings);
  ~ConnectionCache();  // what waits is closed (no QUIT: the loop may be gone)
  ConnectionCache(const ConnectionCache&) = delete;
  ConnectionCache& operator=(const ConnectionCache&) = delete;

  // The connection that waited least for `key` (a server and how it was
  // opened: see key_for), or none.
  std::optional<Connection> take(const std::string& key);
  // Keeps a connection whose last transaction ended cleanly for the next
  // message to `key`; one past its lifetime is closed with QUIT instead.
  void put(const std::string& key, Connection connection);
  std::size_t size() const;

  // The cache's key: the server's address and whether TLS was asked for
  // (a connection opened without TLS never carries a message that wants it).
  static std::string key_for(const asio::ip::tcp::endpoint& server, bool tls);

 private:
  struct Entry {
    std::string key;
    Connection connection;
    Clock::time_point idle_since;
  };
  // Shared with the coroutine that closes connections idle too long: it may
  // wake after the cache is gone.
  struct State {
    explicit State(asio::any_io_executor ex) : executor(ex), timer(ex) {}
    asio::any_io_executor executor;
    asio::steady_timer timer;
    std::deque<Entry> idle;  // the longest idle first
    bool sweeping = false;
    bool stopped = false;
  };
  static asio::awaitable<void> sweep(std::shared_ptr<State> state, Clock::duration idle);
  static void retire(State& state, Connection connection);

  Settings settings_;
  std::shared_ptr<State> state_;
};

}  // namespace relayscope::client
