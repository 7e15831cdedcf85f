// The lab in-process on loopback: its DNS server over UDP and TCP, and each
// host behaviour as the project's own SMTP client meets it; relaying hosts
// really deliver (to another lab host, which keeps the message as local
// mail), bouncing hosts send a DSN, trick hosts relay only for their
// spelling; stop() ends everything. Addresses are picked per process so
// parallel test processes do not collide; ports are chosen by the kernel.
#include <gtest/gtest.h>
#include <ldns/ldns.h>
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
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// One host of each behaviour (25 hosts; shares are n/25).
constexpr const char* every_behaviour = R"(
name = "every"
[funnel]
names = 60
unique_domains = 30
resolved_domains = 25
junk_lines = 2
[unresolved]
nxdomain = 1
servfail = 1
[outcomes.CONNECT]
share = 28
refused = 1
no_greeting = 1
greeting_554 = 1
garbage_greeting = 1
endless_line = 1
reset_at_connect = 1
slow_bytes = 1
[outcomes.EHLO]
share = 8
garbage_reply = 1
thousand_lines = 1
[outcomes.MAIL]
share = 8
mail_rejected = 1
reset_mid = 1
[outcomes.TO]
share = 28
helo_only = 1
relay_denied = 1
greylist = 1
slow_greeting = 1
starttls = 1
trick_percent_hack = 1
trick_null_sender = 1
[outcomes.DATA]
share = 12
data_rejected = 1
message_rejected = 1
message_tempfail = 1
[outcomes.OK]
share = 12
relay = 1
accept_drop = 1
bounce = 1
[outcomes.QUIT]
share = 4
quit_error = 1
[delays]
slow_greeting_ms = 400
slow_byte_ms = 10
)";

class LabSession : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("relayscope-lab-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "every.toml") << every_behaviour;
    LabOptions o;
    o.profile = (dir_ / "every.toml").string();
    o.dns = "127.0.0.1:0";
    o.port = 0;
    auto pid = static_cast<unsigned>(getpid());
    o.first_address =
        "127." + std::to_string(64 + pid % 128) + "." + std::to_string((pid / 128) % 250) + ".1";
    o.limits.hold_timeout = 3s;
    o.limits.command_timeout = 5s;
    o.delivery_timeout = 3s;
    auto lab = Lab::start(io_.get_executor(), o);
    ASSERT_TRUE(lab) << lab.error().message;
    lab_ = std::move(*lab);
  }
  void TearDown() override {
    if (lab_) {
      lab_->stop();
      io_.restart();
      io_.run_for(5s);  // everything must wind down
      EXPECT_TRUE(io_.stopped()) << "the lab did not stop";
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::size_t host_of(Behaviour b) {
    const auto& plan = lab_->plan();
    for (std::size_t i = 0; i < plan.hosts.size(); ++i) {
      if (plan.hosts[i].behaviour == b) return i;
    }
    ADD_FAILURE() << "no host with " << info(b).name;
    return 0;
  }
  asio::ip::tcp::endpoint endpoint(Behaviour b) {
    return {asio::ip::make_address(lab_->plan().host_ip(host_of(b))), lab_->port()};
  }

  // Runs `body` on the lab's loop until it returns (at most 20 s).
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
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done && std::chrono::steady_clock::now() < deadline) io_.run_for(50ms);
    ASSERT_TRUE(done) << "timed out";
  }
  // Runs the loop until `pred` holds (at most `limit`).
  bool run_until(std::function<bool()> pred, std::chrono::milliseconds limit = 10s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) io_.run_for(20ms);
    return pred();
  }

  client::ClientOptions options(std::chrono::milliseconds timeout = 3s) {
    client::ClientOptions c;
    c.helo_name = "probe.relayscope.test";
    c.connect_timeout = c.greeting_timeout = c.command_timeout = c.data_timeout = timeout;
    return c;
  }

  asio::io_context io_;
  std::unique_ptr<Lab> lab_;
  net::ScopeGuard scope_ = net::ScopeGuard::loopback_only();
  std::filesystem::path dir_;
};

TEST_F(LabSession, EachBehaviourIsPlannedOnce) {
  for (const auto& [name, n] : lab_->plan().behaviour_counts()) EXPECT_EQ(n, 1) << name;
  EXPECT_EQ(lab_->host_count(), 25u);
  EXPECT_EQ(lab_->listening_count(), 24u);
}

std::vector<std::uint8_t> mx_query(const std::string& name, std::uint16_t id) {
  ldns_pkt* q = nullptr;
  ldns_pkt_query_new_frm_str(&q, name.c_str(), LDNS_RR_TYPE_MX, LDNS_RR_CLASS_IN, LDNS_RD);
  ldns_pkt_set_id(q, id);
  std::uint8_t* buf = nullptr;
  std::size_t size = 0;
  ldns_pkt2wire(&buf, q, &size);
  std::vector<std::uint8_t> out(buf, buf + size);
  std::free(buf);
  ldns_pkt_free(q);
  return out;
}

int rcode_of(const std::uint8_t* data, std::size_t n, std::uint16_t* ancount = nullptr) {
  ldns_pkt* p = nullptr;
  if (ldns_wire2pkt(&p, data, n) != LDNS_STATUS_OK) return -1;
  int r = ldns_pkt_get_rcode(p);
  if (ancount) *ancount = ldns_pkt_ancount(p);
  ldns_pkt_free(p);
  return r;
}

TEST_F(LabSession, DnsAnswersOverUdpAndTcp) {
  auto spec = lab_->dns_endpoint();
  auto port = static_cast<std::uint16_t>(std::stoi(spec.substr(spec.rfind(':') + 1)));
  const auto& domain = lab_->plan().host_domain(host_of(Behaviour::relay));
  run([&]() -> asio::awaitable<void> {
    asio::ip::udp::socket udp(io_, asio::ip::udp::v4());
    asio::ip::udp::endpoint server(asio::ip::make_address("127.0.0.1"), port);
    auto q = mx_query(domain + ".", 4242);
    co_await udp.async_send_to(asio::buffer(q), server, use_tuple);
    std::array<std::uint8_t, 2048> buf;
    asio::ip::udp::endpoint from;
    asio::steady_timer guard(io_, 3s);
    guard.async_wait([&](const std::error_code& ec) {
      if (!ec) udp.close();
    });
    auto [ec, n] = co_await udp.async_receive_from(asio::buffer(buf), from, use_tuple);
    guard.cancel();
    EXPECT_FALSE(ec);
    std::uint16_t an = 0;
    EXPECT_EQ(rcode_of(buf.data(), n, &an), LDNS_RCODE_NOERROR);
    EXPECT_GE(an, 1);

    asio::ip::tcp::socket tcp(io_);
    auto [cec] = co_await tcp.async_connect({asio::ip::make_address("127.0.0.1"), port}, use_tuple);
    EXPECT_FALSE(cec);
    auto nx = mx_query("no-such-domain.test.", 7);
    std::array<std::uint8_t, 2> len{static_cast<std::uint8_t>(nx.size() >> 8),
                                    static_cast<std::uint8_t>(nx.size())};
    std::array<asio::const_buffer, 2> out{asio::buffer(len), asio::buffer(nx)};
    co_await asio::async_write(tcp, out, use_tuple);
    std::array<std::uint8_t, 2> rlen;
    co_await asio::async_read(tcp, asio::buffer(rlen), use_tuple);
    std::vector<std::uint8_t> resp((rlen[0] << 8) | rlen[1]);
    auto [rec, rn] = co_await asio::async_read(tcp, asio::buffer(resp), use_tuple);
    EXPECT_FALSE(rec);
    EXPECT_EQ(rcode_of(resp.data(), rn), LDNS_RCODE_NXDOMAIN);
  });
}

TEST_F(LabSession, ConnectStageBehaviours) {
  run([&]() -> asio::awaitable<void> {
    {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      auto s = co_await c.connect(endpoint(Behaviour::refused));
      EXPECT_EQ(s.io_error, net::IoError::refused);
    }
    {
      client::SmtpClient c(io_.get_executor(), scope_, options(500ms));
      EXPECT_TRUE((co_await c.connect(endpoint(Behaviour::no_greeting))).ok());
      auto g = co_await c.greeting();
      EXPECT_EQ(g.io_error, net::IoError::timeout);
    }
    {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      co_await c.connect(endpoint(Behaviour::greeting_554));
      auto g = co_await c.greeting();
      EXPECT_EQ(g.code(), 554);
      EXPECT_EQ((co_await c.ehlo()).code(), 503);
      EXPECT_EQ((co_await c.quit()).code(), 221);
    }
    {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      co_await c.connect(endpoint(Behaviour::slow_greeting));
      auto t0 = std::chrono::steady_clock::now();
      auto g = co_await c.greeting();
      EXPECT_TRUE(g.ok());
      EXPECT_GE(std::chrono::steady_clock::now() - t0, 350ms);  // four pauses of 100 ms
      EXPECT_TRUE(g.reply && g.reply->lines.size() >= 4u);
    }
    {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      co_await c.connect(endpoint(Behaviour::slow_bytes));
      EXPECT_TRUE((co_await c.greeting()).ok());
    }
  });
}

TEST_F(LabSession, DialogueStageBehaviours) {
  run([&]() -> asio::awaitable<void> {
    auto open = [&](Behaviour b) -> asio::awaitable<std::unique_ptr<client::SmtpClient>> {
      auto c = std::make_unique<client::SmtpClient>(io_.get_executor(), scope_, options());
      EXPECT_TRUE((co_await c->connect(endpoint(b))).ok()) << info(b).name;
      EXPECT_TRUE((co_await c->greeting()).ok()) << info(b).name;
      co_return c;
    };
    const std::string from = "<probe+tok@relayscope.test>", to = "<relay-test@elsewhere.test>";
    {
      auto c = co_await open(Behaviour::helo_only);
      EXPECT_EQ((co_await c->ehlo()).code(), 500);
      EXPECT_TRUE((co_await c->helo()).ok());
      EXPECT_TRUE((co_await c->mail_from(from)).ok());
      auto r = co_await c->rcpt_to(to);
      EXPECT_EQ(r.code(), 554);
    }
    {
      auto c = co_await open(Behaviour::mail_rejected);
      EXPECT_TRUE((co_await c->ehlo()).ok());
      EXPECT_EQ((co_await c->mail_from(from)).code(), 550);
    }
    {
      auto c = co_await open(Behaviour::relay_denied);
      EXPECT_TRUE((co_await c->ehlo()).ok());
      EXPECT_TRUE((co_await c->mail_from(from)).ok());
      auto r = co_await c->rcpt_to(to);
      EXPECT_EQ(r.code(), 554);
      EXPECT_TRUE(r.reply && r.reply->status && r.reply->status->to_string() == "5.7.1");
      // Its own domain is local: accepted.
      auto local =
          "<postmaster@" + lab_->plan().host_domain(host_of(Behaviour::relay_denied)) + ">";
      EXPECT_TRUE((co_await c->rcpt_to(local)).ok());
    }
    {
      auto c = co_await open(Behaviour::greylist);
      co_await c->ehlo();
      co_await c->mail_from(from);
      EXPECT_EQ((co_await c->rcpt_to(to)).code(), 450);
    }
    {
      auto c = co_await open(Behaviour::data_rejected);
      co_await c->ehlo();
      co_await c->mail_from(from);
      EXPECT_TRUE((co_await c->rcpt_to(to)).ok());
      bool refused_at_command = false;
      auto d = co_await c->data("Subject: x\r\n\r\nhi\r\n", &refused_at_command);
      EXPECT_EQ(d.code(), 554);
      EXPECT_TRUE(refused_at_command);
    }
    for (auto [b, code] : {std::pair{Behaviour::message_rejected, 554},
                           std::pair{Behaviour::message_tempfail, 451}}) {
      auto c = co_await open(b);
      co_await c->ehlo();
      co_await c->mail_from(from);
      EXPECT_TRUE((co_await c->rcpt_to(to)).ok());
      bool refused_at_command = true;
      auto d = co_await c->data("Subject: x\r\n\r\nhi\r\n", &refused_at_command);
      EXPECT_EQ(d.code(), code) << info(b).name;
      EXPECT_FALSE(refused_at_command);
    }
    {
      auto c = co_await open(Behaviour::quit_error);
      co_await c->ehlo();
      co_await c->mail_from(from);
      EXPECT_TRUE((co_await c->rcpt_to(to)).ok());
      EXPECT_TRUE((co_await c->data("Subject: x\r\n\r\nhi\r\n")).ok());
      EXPECT_EQ((co_await c->quit()).code(), 421);
    }
    {
      auto c = co_await open(Behaviour::starttls);
      EXPECT_TRUE((co_await c->ehlo()).ok());
      EXPECT_TRUE(c->ehlo_info().starttls());
      asio::ssl::context tls(asio::ssl::context::tls_client);
      tls.set_verify_mode(asio::ssl::verify_none);
      EXPECT_TRUE((co_await c->starttls(tls, "mx.test")).ok());
      EXPECT_TRUE(c->connection().tls_active());
      EXPECT_TRUE((co_await c->ehlo()).ok());
      EXPECT_FALSE(c->ehlo_info().starttls());  // not offered twice
      co_await c->mail_from(from);
      EXPECT_EQ((co_await c->rcpt_to(to)).code(), 554);
    }
  });
}

TEST_F(LabSession, HostileBehavioursFailCleanly) {
  run([&]() -> asio::awaitable<void> {
    {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      co_await c.connect(endpoint(Behaviour::garbage_greeting));
      auto g = co_await c.greeting();
      EXPECT_FALSE(g.ok());
      EXPECT_EQ(g.failure, client::Step::Failure::garbage);
    }
    {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      co_await c.connect(endpoint(Behaviour::endless_line));
      auto g = co_await c.greeting();
      EXPECT_EQ(g.io_error, net::IoError::line_too_long);
    }
    {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      co_await c.connect(endpoint(Behaviour::reset_at_connect));
      auto g = co_await c.greeting();
      EXPECT_FALSE(g.ok());
      EXPECT_TRUE(g.io_error == net::IoError::reset || g.io_error == net::IoError::closed);
    }
    {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      co_await c.connect(endpoint(Behaviour::garbage_reply));
      EXPECT_TRUE((co_await c.greeting()).ok());
      EXPECT_EQ((co_await c.ehlo()).failure, client::Step::Failure::garbage);
    }
    {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      co_await c.connect(endpoint(Behaviour::thousand_lines));
      EXPECT_TRUE((co_await c.greeting()).ok());
      EXPECT_FALSE((co_await c.ehlo()).ok());  // more lines than a reply may have
    }
    {
      client::SmtpClient c(io_.get_executor(), scope_, options());
      co_await c.connect(endpoint(Behaviour::reset_mid));
      EXPECT_TRUE((co_await c.greeting()).ok());
      EXPECT_TRUE((co_await c.ehlo()).ok());
      auto m = co_await c.mail_from("<a@b.test>");
      EXPECT_FALSE(m.ok());
      EXPECT_EQ(m.io_error, net::IoError::reset);
    }
  });
}

// One message through a host: EHLO, MAIL, RCPT, DATA; returns the RCPT code.
asio::awaitable<int> send(asio::io_context& io, const net::ScopeGuard& scope,
                          client::ClientOptions o, asio::ip::tcp::endpoint ep,
                          const std::string& from, const std::string& to, const std::string& body) {
  client::SmtpClient c(io.get_executor(), scope, o);
  co_await c.connect(ep);
  co_await c.greeting();
  co_await c.ehlo();
  co_await c.mail_from(from);
  auto r = co_await c.rcpt_to(to);
  if (r.ok()) {
    auto d = co_await c.data(body);
    EXPECT_TRUE(d.ok());
  }
  co_await c.quit();
  co_return r.code();
}

bool has_event(const Lab& lab, std::size_t host, EventKind kind, const std::string& needle) {
  auto truth = lab.truth_json();
  (void)host;
  (void)kind;
  return truth.find(needle) != std::string::npos;
}

TEST_F(LabSession, RelayDeliversBounceReturnsDropDrops) {
  // The relay's recipient is at a closed lab host's own domain: that host
  // takes it as local mail, so delivery is seen from both ends.
  auto sink = host_of(Behaviour::relay_denied);
  const auto& sink_domain = lab_->plan().host_domain(sink);
  run([&]() -> asio::awaitable<void> {
    EXPECT_EQ(co_await send(io_, scope_, options(), endpoint(Behaviour::relay),
                            "<probe+RELAYTOKEN@relayscope.test>", "<t@" + sink_domain + ">",
                            "Subject: relay\r\n\r\nRELAYTOKEN\r\n"),
              250);
    EXPECT_EQ(co_await send(io_, scope_, options(), endpoint(Behaviour::bounce),
                            "<probe+BOUNCETOKEN@" + sink_domain + ">", "<t@elsewhere.test>",
                            "Subject: bounce\r\n\r\nBOUNCETOKEN\r\n"),
              250);
    EXPECT_EQ(co_await send(io_, scope_, options(), endpoint(Behaviour::accept_drop),
                            "<probe+DROPTOKEN@relayscope.test>", "<t@" + sink_domain + ">",
                            "Subject: drop\r\n\r\n"),
              250);
  });
  ASSERT_TRUE(run_until([&] {
    auto t = lab_->totals();
    return t.events["delivered"] >= 1 && t.events["bounced"] >= 1 && t.events["local"] >= 2;
  })) << lab_->truth_json().substr(0, 4000);
  auto t = lab_->totals();
  EXPECT_EQ(t.events["delivered"], 1);
  EXPECT_EQ(t.events["bounced"], 1);
  EXPECT_EQ(t.events["dropped"], 1);
  EXPECT_EQ(t.hosts_delivered, 1);
  auto truth = lab_->truth_json();
  EXPECT_TRUE(has_event(*lab_, sink, EventKind::local, "\"token\": \"RELAYTOKEN\""));
  EXPECT_NE(truth.find("probe+BOUNCETOKEN@" + sink_domain), std::string::npos);
  EXPECT_EQ(lab_->pending_deliveries(), 0u);
}

TEST_F(LabSession, TrickHostRelaysOnlyForItsSpelling) {
  auto sink = host_of(Behaviour::relay_denied);
  const auto& sink_domain = lab_->plan().host_domain(sink);
  auto trick = host_of(Behaviour::trick_percent_hack);
  const auto name = lab_->plan().host_name(trick);
  run([&]() -> asio::awaitable<void> {
    auto ep = endpoint(Behaviour::trick_percent_hack);
    EXPECT_EQ(co_await send(io_, scope_, options(), ep, "<probe+T1@relayscope.test>",
                            "<t@" + sink_domain + ">", "Subject: plain\r\n\r\n"),
              554);
    EXPECT_EQ(co_await send(io_, scope_, options(), ep, "<probe+T2@relayscope.test>",
                            "<t%" + sink_domain + "@" + name + ">", "Subject: trick\r\n\r\n"),
              250);
    auto ns = endpoint(Behaviour::trick_null_sender);
    EXPECT_EQ(co_await send(io_, scope_, options(), ns, "<probe+T3@relayscope.test>",
                            "<t@" + sink_domain + ">", "Subject: plain\r\n\r\n"),
              554);
    EXPECT_EQ(co_await send(io_, scope_, options(), ns, "<>", "<t@" + sink_domain + ">",
                            "Subject: null\r\n\r\n"),
              250);
  });
  ASSERT_TRUE(run_until([&] { return lab_->totals().events["delivered"] >= 2; }))
      << lab_->truth_json().substr(0, 4000);
  auto truth = lab_->truth_json();
  EXPECT_NE(truth.find("\"trick\": \"trick_percent_hack\""), std::string::npos);
  EXPECT_NE(truth.find("\"trick\": \"trick_null_sender\""), std::string::npos);
}

TEST_F(LabSession, StopClosesSessionsInFlight) {
  // A client parked on the silent host; stop() must not wait for its timeout.
  bool finished = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        client::SmtpClient c(io_.get_executor(), scope_, options(30s));
        co_await c.connect(endpoint(Behaviour::no_greeting));
        auto g = co_await c.greeting();
        EXPECT_FALSE(g.ok());
        finished = true;
      },
      asio::detached);
  io_.run_for(200ms);
  lab_->stop();
  EXPECT_TRUE(run_until([&] { return finished; }, 3s));
}

}  // namespace
}  // namespace relayscope::lab
