// Test helpers: a scratch directory removed at the end, and running one
// coroutine to completion on a private io_context.
#pragma once

#include <asio.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace relayscope::server::testing {

class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/relayscope-delivery-unit-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

template <class T>
T run_coroutine(asio::awaitable<T> a) {
  asio::io_context io;
  std::optional<T> out;
  asio::co_spawn(
      io,
      [&out, a = std::move(a)]() mutable -> asio::awaitable<void> {
        auto r = co_await std::move(a);
        out.emplace(std::move(r));
      },
      asio::detached);
  io.run();
  return std::move(*out);
}

}  // namespace relayscope::server::testing
