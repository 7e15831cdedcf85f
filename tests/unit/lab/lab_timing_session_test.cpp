// A lab with a [timing] table, in-process on loopback, as the project's own
// SMTP client meets it: the greeting waits the host's greeting delay plus its
// round trip, a refusal waits the error sleep more, a host closes with 421
// after its error limit, a greylisting host answers 450 to an unseen triplet
// and 250 to the same one after the delay, a tarpit never ends its greeting.
// Delays are measured from the client's side with steady_clock.
#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

#include "client/smtp_client.hpp"
#include "lab/lab.hpp"

namespace relayscope::lab {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Fixed draws (sigma 0): round trip 100 ms, greeting 200 ms, error sleep
// 300 ms, every host closes after 2 refusals, every greylistable host
// greylists for 1.5 s.
constexpr const char* timed_profile = R"(
name = "timed"
[funnel]
names = 3
unique_domains = 3
resolved_domains = 3
[outcomes.CONNECT]
share = 33.4
tarpit = 1
[outcomes.TO]
share = 33.3
relay_denied = 1
[outcomes.OK]
share = 33.3
accept_drop = 1
[delays]
slow_byte_ms = 200
[timing]
rtt_median_ms = 100
rtt_sigma = 0
rtt_max_ms = 1000
greeting_median_ms = 200
greeting_sigma = 0
greeting_max_ms = 1000
error_sleep_ms = 300
close_after_errors_share = 100
close_after_errors = 2
greylist_share = 100
greylist_delay_ms = 1500
)";

class LabTiming : public ::testing::Test {
 protected:
  // Lines added to the profile's [timing] table (its last table).
  virtual std::string more_timing() const { return {}; }

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("relayscope-lab-timing-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "timed.toml") << timed_profile << more_timing();
    LabOptions o;
    o.profile = (dir_ / "timed.toml").string();
    o.dns = "127.0.0.1:0";
    o.port = 0;
    auto pid = static_cast<unsigned>(getpid());
    o.first_address =
        "127." + std::to_string(64 + pid % 128) + "." + std::to_string((pid / 128) % 250) + ".101";
    o.limits.hold_timeout = 5s;
    o.limits.command_timeout = 5s;
    auto lab = Lab::start(io_.get_executor(), o);
    ASSERT_TRUE(lab) << lab.error().message;
    lab_ = std::move(*lab);
  }
  void TearDown() override {
    if (lab_) {
      lab_->stop();
      io_.restart();
      io_.run_for(5s);
      EXPECT_TRUE(io_.stopped()) << "the lab did not stop";
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  asio::ip::tcp::endpoint endpoint(Behaviour b) {
    const auto& plan = lab_->plan();
    for (std::size_t i = 0; i < plan.hosts.size(); ++i) {
      if (plan.hosts[i].behaviour == b)
        return {asio::ip::make_address(plan.host_ip(i)), lab_->port()};
    }
    ADD_FAILURE() << "no host with " << info(b).name;
    return {};
  }

  void run(std::function<asio::awaitable<void>()> body) {
    bool done = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          co_await body();
          done = true;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    auto deadline = Clock::now() + 30s;
    while (!done && Clock::now() < deadline) io_.run_for(50ms);
    ASSERT_TRUE(done) << "timed out";
  }

  client::ClientOptions options(std::chrono::milliseconds timeout = 4s) {
    client::ClientOptions c;
    c.helo_name = "probe.relayscope.test";
    c.connect_timeout = c.greeting_timeout = c.command_timeout = c.data_timeout = timeout;
    return c;
  }

  static std::int64_t ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
  }

  asio::io_context io_;
  std::unique_ptr<Lab> lab_;
  net::ScopeGuard scope_ = net::ScopeGuard::loopback_only();
  std::filesystem::path dir_;
};

TEST_F(LabTiming, GreetingRoundTripErrorSleepAndErrorLimit) {
  run([&]() -> asio::awaitable<void> {
    client::SmtpClient c(io_.get_executor(), scope_, options());
    auto connected = co_await c.connect(endpoint(Behaviour::relay_denied));
    EXPECT_TRUE(connected.ok());
    auto t = Clock::now();
    auto greeting = co_await c.greeting();
    EXPECT_TRUE(greeting.ok());
    EXPECT_GE(ms_since(t), 300);  // greeting 200 + round trip 100
    t = Clock::now();
    auto ehlo = co_await c.ehlo();
    EXPECT_TRUE(ehlo.ok());
    EXPECT_GE(ms_since(t), 100);
    EXPECT_LT(ms_since(t), 300);  // no error sleep on a 250
    auto mail = co_await c.mail_from("<probe@relayscope.test>");
    EXPECT_TRUE(mail.ok());
    t = Clock::now();
    auto first = co_await c.rcpt_to("<relay-test@elsewhere.test>");
    EXPECT_EQ(first.code(), 450);  // greylisted first
    EXPECT_GE(ms_since(t), 400);   // round trip + error sleep
    auto second = co_await c.rcpt_to("<relay-test@elsewhere.test>");
    EXPECT_EQ(second.code(), 450);
    // Two refusals: the host says 421 and hangs up.
    auto after = co_await c.rset();
    EXPECT_EQ(after.code(), 421);
  });
}

// As Exim's smtp_max_synprot_errors: only syntax and protocol errors (x0z
// replies) count towards the limit; policy refusals do not.
class LabTimingSyntaxErrors : public LabTiming {
 protected:
  std::string more_timing() const override { return "close_after_errors_kind = \"syntax\"\n"; }
};

TEST_F(LabTimingSyntaxErrors, OnlySyntaxAndProtocolErrorsCountTowardsTheLimit) {
  run([&]() -> asio::awaitable<void> {
    client::SmtpClient c(io_.get_executor(), scope_, options());
    auto connected = co_await c.connect(endpoint(Behaviour::relay_denied));
    auto greeting = co_await c.greeting();
    auto ehlo = co_await c.ehlo();
    auto mail = co_await c.mail_from("<probe@relayscope.test>");
    EXPECT_TRUE(connected.ok() && greeting.ok() && ehlo.ok() && mail.ok());
    // Three policy refusals (greylisted), past the limit of two: the host
    // goes on.
    for (int i = 0; i < 3; ++i) {
      auto refused = co_await c.rcpt_to("<relay-test@elsewhere.test>");
      EXPECT_EQ(refused.code(), 450);
    }
    auto reset = co_await c.rset();
    EXPECT_EQ(reset.code(), 250);
    // Two syntax errors: the host says 421 and hangs up.
    auto bad = co_await c.mail_from("<probe@@relayscope.test>");
    EXPECT_EQ(bad.code(), 501);
    auto out_of_sequence = co_await c.rcpt_to("<relay-test@elsewhere.test>");
    EXPECT_EQ(out_of_sequence.code(), 503);
    auto after = co_await c.rset();
    EXPECT_EQ(after.code(), 421);
  });
}

TEST_F(LabTiming, GreylistingAcceptsTheSameTripletAfterTheDelay) {
  run([&]() -> asio::awaitable<void> {
    const std::string from = "<probe+g@relayscope.test>", to = "<relay-test@elsewhere.test>";
    auto attempt = [&](std::string rcpt) -> asio::awaitable<int> {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      auto connected = co_await c.connect(endpoint(Behaviour::accept_drop));
      auto greeting = co_await c.greeting();
      auto ehlo = co_await c.ehlo();
      auto mail = co_await c.mail_from(from);
      EXPECT_TRUE(connected.ok() && greeting.ok() && ehlo.ok() && mail.ok());
      auto r = co_await c.rcpt_to(rcpt);
      co_await c.quit();
      co_return r.code();
    };
    const auto first_seen = Clock::now();
    int first = co_await attempt(to);
    EXPECT_EQ(first, 450);
    int early = co_await attempt(to);
    if (ms_since(first_seen) < 1500) {
      EXPECT_EQ(early, 450);
    }
    // Wait out the host's greylisting delay (the behaviour under test).
    asio::steady_timer timer(io_.get_executor(), first_seen + 1600ms);
    co_await timer.async_wait(asio::use_awaitable);
    int later = co_await attempt(to);
    EXPECT_EQ(later, 250);
    int other = co_await attempt("<other@elsewhere.test>");
    EXPECT_EQ(other, 450);  // a new triplet starts over
  });
}

TEST_F(LabTiming, TarpitNeverEndsItsGreeting) {
  run([&]() -> asio::awaitable<void> {
    client::SmtpClient c(io_.get_executor(), scope_, options(1500ms));
    auto connected = co_await c.connect(endpoint(Behaviour::tarpit));
    EXPECT_TRUE(connected.ok());
    auto greeting = co_await c.greeting();
    EXPECT_EQ(greeting.failure, client::Step::Failure::io);
    EXPECT_EQ(greeting.io_error, net::IoError::timeout);
  });
}

}  // namespace
}  // namespace relayscope::lab
