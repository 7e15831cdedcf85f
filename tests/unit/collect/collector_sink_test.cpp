// The collector's sink on the one session, in memory: a message is kept on
// disk and recorded, and its fsync and database write happen off the event
// loop, so a slow disk never stalls another client (they used to run on the
// loop thread and stall every session).
#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <atomic>
#include <filesystem>
#include <future>

#include "collect/collector_parts.hpp"
#include "smtpd/memory_stream.hpp"

namespace relayscope::collect {
namespace {

namespace fs = std::filesystem;
using smtpd::Clock;
using smtpd::MemoryStream;

asio::awaitable<bool> wait_for_text(MemoryStream& s, const std::string& text) {
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (s.output().find(text) == std::string::npos) {
    bool more = co_await s.wait_output(s.output().size(), deadline);
    if (!more || s.closed()) co_return s.output().find(text) != std::string::npos;
  }
  co_return true;
}

TEST(CollectorSink, ASlowDiskDoesNotStallOtherSessions) {
  auto dir = fs::temp_directory_path() / ("collector-sink-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "spool");
  auto db = store::open_sqlite((dir / "c.db").string());
  ASSERT_TRUE(db) << db.error().message;

  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> syncing{false};
  CollectorOptions o;
  o.domain = "local.test";
  o.spool_dir = (dir / "spool").string();
  o.before_sync = [&syncing, released] {
    syncing = true;
    released.wait_for(std::chrono::seconds(5));  // the slow disk
  };
  CollectorCounts counts;
  auto settings = collector_settings(o);
  CollectorPolicy policy(o.domain, counts);
  bool other_served_while_syncing = false;
  {
    CollectorSink sink(o, std::move(*db), nullptr, counts);
    asio::io_context io;
    MemoryStream a(io.get_executor()), b(io.get_executor());
    smtpd::ClientInfo ca, cb;
    ca.address = "192.0.2.1";
    cb.address = "192.0.2.2";
    auto first = [&]() -> asio::awaitable<void> {
      a.feed("EHLO a\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<relay-test@local.test>\r\nDATA\r\n");
      bool go = co_await wait_for_text(a, "354");
      if (go) a.feed("Subject: kept\r\n\r\nbody\r\n.\r\n");
      bool kept = co_await wait_for_text(a, "250 2.0.0 Kept as");
      (void)kept;
      a.finish();
    };
    auto second = [&]() -> asio::awaitable<void> {
      asio::steady_timer t(io);
      auto deadline = Clock::now() + std::chrono::seconds(5);
      while (!syncing && Clock::now() < deadline) {  // until the first is on the slow disk
        t.expires_after(std::chrono::milliseconds(5));
        co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      }
      b.feed("EHLO b\r\nNOOP\r\n");
      bool served = co_await wait_for_text(b, "250 2.0.0 Ok");
      other_served_while_syncing =
          served && syncing &&
          released.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
      release.set_value();
      b.finish();
    };
    asio::co_spawn(io, smtpd::run_session(a, ca, settings, policy, sink), asio::detached);
    asio::co_spawn(io, smtpd::run_session(b, cb, settings, policy, sink), asio::detached);
    asio::co_spawn(io, first(), asio::detached);
    asio::co_spawn(io, second(), asio::detached);
    io.run_for(std::chrono::seconds(15));
    EXPECT_NE(a.output().find("250 2.0.0 Kept as"), std::string::npos) << a.output();
  }
  EXPECT_TRUE(other_served_while_syncing);
  EXPECT_EQ(counts.deliveries + counts.unmatched + counts.bounces + counts.warnings, 1);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir / "spool")) {
    EXPECT_EQ(e.path().extension(), ".eml") << e.path();  // no temporary left
    ++files;
  }
  EXPECT_EQ(files, 1u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace relayscope::collect
