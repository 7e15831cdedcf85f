// The PROXY protocol on a listener, in memory: the header (v1, v2) read
// exactly and turned into the client address the relay's rules then see;
// LOCAL keeps the proxy's address; an untrusted peer, a missing or broken
// header, or silence closes; the early-talker check runs after the header.
#include "smtpd/proxy_reader.hpp"

#include <gtest/gtest.h>

#include "server/policy.hpp"
#include "server/relay_parts.hpp"
#include "smtpd/dialogue.hpp"
#include "smtpd/memory_stream.hpp"

namespace relayscope::smtpd {
namespace {

using namespace std::chrono_literals;

struct Run {
  bool passed = false;
  std::string why;
  ClientInfo client;
  std::string output;  // what the session wrote after the header
  std::string left;    // what the session never read (bytes past the header)
};

ClientInfo peer(const char* address) {
  ClientInfo c;
  c.address = address;
  c.ip = IpAddress::parse(address);
  c.local_address = "127.0.0.1";
  c.session_id = 1;
  return c;
}

ProxySettings trusting(const char* block, std::chrono::milliseconds timeout = 2s) {
  ProxySettings p;
  p.trusted.add(*Cidr::parse(block));
  p.timeout = timeout;
  return p;
}

// Feeds `input` (then, unless `hold_open`, ends it), takes the header and,
// when a session is given, runs it on what follows.
Run take(std::string_view input, ClientInfo client, const ProxySettings& proxy,
         bool hold_open = false, const SessionSettings* settings = nullptr,
         SessionPolicy* policy = nullptr) {
  asio::io_context io;
  MemoryStream stream(io.get_executor());
  stream.feed(input);
  if (!hold_open) stream.finish();
  Run run;
  MemorySink sink;
  auto body = [&]() -> asio::awaitable<void> {
    run.passed = co_await take_proxy_header(stream, client, proxy, run.why);
    run.client = client;
    if (run.passed && settings) {
      co_await run_session(stream, client, *settings, *policy, sink);
    }
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run_for(10s);
  run.output = stream.output();
  if (!settings) {
    // What is left to read: the header reader took only the header.
    char buf[512];
    auto drain = [&]() -> asio::awaitable<void> {
      for (;;) {
        auto r = co_await stream.read_some(buf, Clock::now() + 100ms);
        if (!r) co_return;
        run.left.append(buf, r.value);
      }
    };
    asio::co_spawn(io, drain(), asio::detached);
    io.restart();
    io.run_for(2s);
  }
  return run;
}

std::string v2(unsigned char command, unsigned char family, std::string addresses) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(0x20 | command);
  h += static_cast<char>(family);
  h += static_cast<char>(addresses.size() >> 8);
  h += static_cast<char>(addresses.size() & 0xff);
  return h + addresses;
}

TEST(ProxyReader, V1PassesTheClientAddressAndReadsNotOneByteMore) {
  auto r = take("PROXY TCP4 198.51.100.9 127.0.0.1 40000 25\r\nEHLO x\r\n", peer("127.0.0.9"),
                trusting("127.0.0.9/32"));
  ASSERT_TRUE(r.passed) << r.why;
  EXPECT_EQ(r.client.address, "198.51.100.9");
  ASSERT_TRUE(r.client.ip);
  EXPECT_EQ(*r.client.ip, *IpAddress::parse("198.51.100.9"));
  EXPECT_EQ(r.client.proxy, "127.0.0.9");
  EXPECT_EQ(r.left, "EHLO x\r\n");
}

TEST(ProxyReader, V1Tcp6AndUnknown) {
  auto r =
      take("PROXY TCP6 2001:db8::7 ::1 40000 25\r\n", peer("127.0.0.9"), trusting("127.0.0.0/8"));
  ASSERT_TRUE(r.passed) << r.why;
  EXPECT_EQ(r.client.address, "2001:db8::7");
  // UNKNOWN (15 bytes, the shortest header): the connection's own address.
  r = take("PROXY UNKNOWN\r\nQUIT\r\n", peer("127.0.0.9"), trusting("127.0.0.0/8"), true);
  ASSERT_TRUE(r.passed) << r.why;
  EXPECT_EQ(r.client.address, "127.0.0.9");
  EXPECT_EQ(r.client.proxy, "");
  EXPECT_EQ(r.left, "QUIT\r\n");
}

TEST(ProxyReader, V2PassesTheClientAddressAndLocalKeepsTheProxys) {
  std::string ipv4("\xc6\x33\x64\x0a\x7f\x00\x00\x01\x9c\x40\x00\x19", 12);  // 198.51.100.10
  auto r = take(v2(1, 0x11, ipv4) + "EHLO y\r\n", peer("127.0.0.9"), trusting("127.0.0.9/32"));
  ASSERT_TRUE(r.passed) << r.why;
  EXPECT_EQ(r.client.address, "198.51.100.10");
  EXPECT_EQ(r.left, "EHLO y\r\n");
  // LOCAL (HAProxy's health checks): served as the proxy itself.
  r = take(v2(0, 0x00, "") + "QUIT\r\n", peer("127.0.0.9"), trusting("127.0.0.9/32"));
  ASSERT_TRUE(r.passed) << r.why;
  EXPECT_EQ(r.client.address, "127.0.0.9");
  EXPECT_EQ(r.left, "QUIT\r\n");
}

TEST(ProxyReader, V2HeaderSplitAcrossReadsIsWaitedFor) {
  asio::io_context io;
  MemoryStream stream(io.get_executor());
  auto header = v2(1, 0x11, std::string("\xc6\x33\x64\x0b\x7f\x00\x00\x01\x9c\x40\x00\x19", 12));
  ClientInfo client = peer("127.0.0.9");
  auto proxy = trusting("127.0.0.9/32");
  bool passed = false;
  std::string why;
  auto body = [&]() -> asio::awaitable<void> {
    passed = co_await take_proxy_header(stream, client, proxy, why);
  };
  stream.feed(header.substr(0, 13));
  asio::co_spawn(io, body(), asio::detached);
  io.run_for(50ms);
  EXPECT_FALSE(passed);
  stream.feed(header.substr(13));
  io.restart();
  io.run_for(2s);
  EXPECT_TRUE(passed) << why;
  EXPECT_EQ(client.address, "198.51.100.11");
}

TEST(ProxyReader, UntrustedPeerMissingOrBrokenHeaderOrSilenceClose) {
  auto r = take("PROXY TCP4 198.51.100.9 127.0.0.1 40000 25\r\n", peer("127.0.0.1"),
                trusting("127.0.0.9/32"));
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.why.find("not a trusted proxy"), std::string::npos) << r.why;
  EXPECT_EQ(r.client.address, "127.0.0.1");
  r = take("EHLO plain.client.test\r\n", peer("127.0.0.9"), trusting("127.0.0.9/32"));
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.why.find("bad PROXY header"), std::string::npos) << r.why;
  r = take("PROXY TCP4 198.51.100.9 127.0.0.1 40000\r\n", peer("127.0.0.9"),
           trusting("127.0.0.9/32"));
  EXPECT_FALSE(r.passed) << "five fields";
  r = take("PROXY TCP4 " + std::string(120, '1') + "\r\n", peer("127.0.0.9"),
           trusting("127.0.0.9/32"));
  EXPECT_FALSE(r.passed) << "too long";
  // A client that waits for a greeting gets none: the header's time runs out.
  r = take("", peer("127.0.0.9"), trusting("127.0.0.9/32", 100ms), true);
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.why.find("in time"), std::string::npos) << r.why;
  EXPECT_EQ(r.output, "") << "closed without a word";
}

// The relay's rules see the passed address: local networks 198.51.100.0/24.
struct RelayRig {
  server::RelayPolicy policy{*CidrSet::parse({"198.51.100.0/24"}), {"local.test"}};
  server::RelaySessionPolicy session_policy{policy, nullptr};
  SessionSettings settings = [] {
    SessionSettings s;
    s.hostname = "mx.test";
    s.greet_pause = 0ms;
    return s;
  }();
};

TEST(ProxyReader, TheRelaysRulesSeeThePassedAddress) {
  RelayRig rig;
  const char* dialogue =
      "EHLO c.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<b@remote.test>\r\nQUIT\r\n";
  // Passed a local-network client: it may relay.
  auto r =
      take(std::string("PROXY TCP4 198.51.100.9 127.0.0.1 40000 25\r\n") + dialogue,
           peer("127.0.0.9"), trusting("127.0.0.9/32"), false, &rig.settings, &rig.session_policy);
  ASSERT_TRUE(r.passed) << r.why;
  EXPECT_NE(r.output.find("250 2.1.5"), std::string::npos) << r.output;
  // Passed a stranger: refused, though the proxy itself is 127.0.0.9.
  auto local = *CidrSet::parse({"198.51.100.0/24", "127.0.0.0/8"});
  server::RelayPolicy with_proxy_local(local, {"local.test"});
  server::RelaySessionPolicy strict(with_proxy_local, nullptr);
  r = take(std::string("PROXY TCP4 203.0.113.5 127.0.0.1 40000 25\r\n") + dialogue,
           peer("127.0.0.9"), trusting("127.0.0.9/32"), false, &rig.settings, &strict);
  ASSERT_TRUE(r.passed) << r.why;
  EXPECT_NE(r.output.find("554 5.7.1"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("250 2.1.5"), std::string::npos) << r.output;
}

TEST(ProxyReader, TheEarlyTalkerCheckRunsAfterTheHeader) {
  RelayRig rig;
  rig.settings.greet_pause = 300ms;
  // The header itself is not early talk; bytes behind it before the
  // greeting are.
  auto r = take("PROXY TCP4 198.51.100.9 127.0.0.1 40000 25\r\n", peer("127.0.0.9"),
                trusting("127.0.0.9/32"), false, &rig.settings, &rig.session_policy);
  ASSERT_TRUE(r.passed) << r.why;
  EXPECT_EQ(r.output.substr(0, 4), "220 ") << r.output;
  r = take("PROXY TCP4 198.51.100.9 127.0.0.1 40000 25\r\nEHLO eager\r\n", peer("127.0.0.9"),
           trusting("127.0.0.9/32"), false, &rig.settings, &rig.session_policy);
  ASSERT_TRUE(r.passed) << r.why;
  EXPECT_EQ(r.output.substr(0, 9), "554 5.5.0") << r.output;
}

}  // namespace
}  // namespace relayscope::smtpd
