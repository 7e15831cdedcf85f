// See connection_cache.hpp.
#include "client/connection_cache.hpp"

#include <asio/experimental/as_tuple.hpp>

namespace relayscope::client {

namespace {

// QUIT, then close: the server is told we are done rather than seeing the
// connection drop. Owns the client: it may outlive the cache.
asio::awaitable<void> quit_and_close(std::unique_ptr<SmtpClient> client) {
  co_await client->quit();
  client->close();
}

}  // namespace

ConnectionCache::ConnectionCache(asio::any_io_executor executor, Settings settings)
    : settings_(settings), state_(std::make_shared<State>(std::move(executor))) {}

ConnectionCache::~ConnectionCache() {
  state_->stopped = true;
  state_->timer.cancel();
  state_->idle.clear();
}

std::string ConnectionCache::key_for(const asio::ip::tcp::endpoint& server, bool tls) {
  auto key = server.address().to_string() + "|" + std::to_string(server.port());
  return tls ? key + "|tls" : key;
}

std::size_t ConnectionCache::size() const {
  return state_->idle.size();
}

std::optional<ConnectionCache::Connection> ConnectionCache::take(const std::string& key) {
  auto& idle = state_->idle;
  auto now = Clock::now();
  // From the newest: the one least likely to have been closed by the server.
  for (auto it = idle.rbegin(); it != idle.rend(); ++it) {
    if (it->key != key) continue;
    if (now - it->idle_since >= settings_.idle) break;  // the rest waited longer still
    Connection c = std::move(it->connection);
    idle.erase(std::next(it).base());
    return c;
  }
  return std::nullopt;
}

void ConnectionCache::put(const std::string& key, Connection connection) {
  auto& st = *state_;
  auto now = Clock::now();
  if (st.stopped || settings_.capacity == 0 || now - connection.opened >= settings_.lifetime) {
    retire(st, std::move(connection));
    return;
  }
  if (st.idle.size() >= settings_.capacity) {
    retire(st, std::move(st.idle.front().connection));
    st.idle.pop_front();
  }
  st.idle.push_back(Entry{key, std::move(connection), now});
  if (!st.sweeping) {
    st.sweeping = true;
    asio::co_spawn(st.executor, sweep(state_, settings_.idle), asio::detached);
  }
}

void ConnectionCache::retire(State& state, Connection connection) {
  asio::co_spawn(state.executor, quit_and_close(std::move(connection.client)), asio::detached);
}

asio::awaitable<void> ConnectionCache::sweep(std::shared_ptr<State> state, Clock::duration idle) {
  while (!state->stopped && !state->idle.empty()) {
    state->timer.expires_at(state->idle.front().idle_since + idle);
    auto waited =
        co_await state->timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    (void)waited;  // the time came, or the cache is going: looked at below either way
    if (state->stopped) break;
    auto now = Clock::now();
    while (!state->idle.empty() && now - state->idle.front().idle_since >= idle) {
      retire(*state, std::move(state->idle.front().connection));
      state->idle.pop_front();
    }
  }
  state->sweeping = false;
}

}  // namespace relayscope::client
