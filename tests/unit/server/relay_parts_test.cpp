// The relay's sink pieces: the Received: header stays within RFC 5321's line
// length whatever the client said, and hops are counted on a streamed
// message however it is cut.
#include "server/relay_parts.hpp"

#include <gtest/gtest.h>

namespace relayscope::server {
namespace {

TEST(RelayParts, ReceivedHeaderIsBoundedAndPrintable) {
  ClientInfo client;
  client.address = "192.0.2.1";
  Envelope env;
  env.helo = std::string(1900, 'h') + "\x1b";
  env.recipients = {"bob@example.test"};
  auto h = received_header(client, env, "mx.example.test", "ID1");
  std::size_t pos = 0;
  while (pos < h.size()) {
    auto end = h.find("\r\n", pos);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - pos, 998u);
    pos = end + 2;
  }
  EXPECT_EQ(h.find('\x1b'), std::string::npos);
}

TEST(RelayParts, HopCounterCountsAcrossChunks) {
  std::string m =
      "Received: a\r\nX: y\r\nreceived: b\r\nRECEIVED:c\r\n\r\nReceived: in the body\r\n";
  EXPECT_EQ(count_received(m), 3u);
  for (std::size_t cut = 0; cut <= m.size(); ++cut) {
    HopCounter h;
    h.feed(m.substr(0, cut));
    h.feed(m.substr(cut));
    EXPECT_EQ(h.count(), 3u) << cut;
  }
}

}  // namespace
}  // namespace relayscope::server
