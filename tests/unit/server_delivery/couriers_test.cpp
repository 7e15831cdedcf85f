// The Maildir courier's job owns the message it writes: it is queued on a
// worker thread and may run after the attempt that started it is gone
// (shutdown), so it must not hold a reference into that attempt. Before,
// the job captured the message by reference and was safe only by the order
// of two members in relay.cpp.
#include "server/couriers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>

#include "test_io.hpp"

namespace relayscope::server {
namespace {

TEST(MaildirCourier, TheQueuedJobOwnsTheMessage) {
  testing::ScratchDir dir;
  asio::io_context io;
  Worker worker(1, false);
  RelayPolicy policy(CidrSet{}, {"local.test"});
  MaildirCourier courier(dir.path(), "mx.relay.test", policy, worker);

  // Holds the one worker thread, so that the delivery job waits in its queue.
  std::promise<void> gate;
  auto held = gate.get_future().share();
  std::atomic<bool> blocking{false};
  auto block = [held, &blocking](Batch&) -> Expected<int> {
    blocking = true;
    held.wait();
    return 0;
  };
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { (void)co_await worker.run<int>(std::move(block)); },
      asio::detached);

  auto message = SpoolMessage::from_text("Subject: x\r\n\r\nowned\r\n");
  Parcel parcel{"Q1", {}, message, "local", {"bob@local.test"}};
  parcel.envelope.mail_from = "alice@client.test";
  std::optional<Outcomes> out;
  asio::co_spawn(
      io,
      [&, parcel]() mutable -> asio::awaitable<void> {
        auto o = co_await courier.carry(std::move(parcel));
        out.emplace(std::move(o));
      },
      asio::detached);
  parcel = Parcel{};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // The courier has handed its job over: the job holds the message too
  // (the test's pointer, the courier's parcel, the job's copy).
  // (and the worker thread is inside the blocking job: on a loaded machine
  // it may start after the courier queued its job).
  while ((message.use_count() < 3 || !blocking.load()) &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(message.use_count(), 3);
  EXPECT_TRUE(blocking.load());
  gate.set_value();
  while (!out && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].second.kind, RecipientOutcome::Kind::delivered) << (*out)[0].second.text;
  auto newdir = dir.path() + "/local.test/bob/new";
  ASSERT_TRUE(std::filesystem::is_directory(newdir));
  auto file = std::filesystem::directory_iterator(newdir)->path();
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text,
            "Return-Path: <alice@client.test>\r\nDelivered-To: bob@local.test\r\n"
            "Subject: x\r\n\r\nowned\r\n");
  // Nothing keeps it after the delivery (the worker drops its job a moment
  // after handing the result over).
  while (message.use_count() > 1 && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(message.use_count(), 1);
}

}  // namespace
}  // namespace relayscope::server
