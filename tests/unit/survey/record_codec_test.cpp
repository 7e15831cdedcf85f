// The frames between `survey --processes`' parent and its children: every
// record comes back as it went (transcript, variants, edge values), and a
// truncated or corrupt frame is an error, never a partial record.
#include "survey/record_codec.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace relayscope;
using namespace relayscope::survey;

namespace {

store::Probe full_probe() {
  store::Probe p;
  p.host_id = std::numeric_limits<std::int64_t>::max();
  p.ip = "2001:db8::25";
  p.domain = "example.test";
  p.outcome = "OK";
  p.code = 250;
  p.reason = "";
  p.token = "tok-123";
  p.started_at = "2026-11-30T11:00:00Z";
  p.duration_us = -1;
  p.greeting_host = "mx.example.test";
  p.esmtp = true;
  p.starttls_offered = true;
  p.transcript = {{0, '*', "connect 127.0.0.1:25"},
                  {12, '<', "220 mx.example.test ESMTP"},
                  {std::numeric_limits<std::int64_t>::min(), '>', std::string("a\0b\r\n\xff", 6)},
                  {5, '<', ""}};
  p.variants = {{"imc", "probe@x", "relay@y", "OK", 250, "t1"},
                {"percent-hack", "", "a%b@c", store::variant_not_tried, 0, ""}};
  p.greylisted = true;
  p.first_code = 450;
  p.first_reply = "450 4.2.0 greylisted";
  return p;
}

void expect_same(const store::Probe& a, const store::Probe& b) {
  EXPECT_EQ(a.host_id, b.host_id);
  EXPECT_EQ(a.ip, b.ip);
  EXPECT_EQ(a.domain, b.domain);
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.token, b.token);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.duration_us, b.duration_us);
  EXPECT_EQ(a.greeting_host, b.greeting_host);
  EXPECT_EQ(a.esmtp, b.esmtp);
  EXPECT_EQ(a.starttls_offered, b.starttls_offered);
  ASSERT_EQ(a.transcript.size(), b.transcript.size());
  for (std::size_t i = 0; i < a.transcript.size(); ++i) {
    EXPECT_EQ(a.transcript[i].t_us, b.transcript[i].t_us);
    EXPECT_EQ(a.transcript[i].direction, b.transcript[i].direction);
    EXPECT_EQ(a.transcript[i].text, b.transcript[i].text);
  }
  ASSERT_EQ(a.variants.size(), b.variants.size());
  for (std::size_t i = 0; i < a.variants.size(); ++i) {
    EXPECT_EQ(a.variants[i].name, b.variants[i].name);
    EXPECT_EQ(a.variants[i].mail_from, b.variants[i].mail_from);
    EXPECT_EQ(a.variants[i].rcpt_to, b.variants[i].rcpt_to);
    EXPECT_EQ(a.variants[i].outcome, b.variants[i].outcome);
    EXPECT_EQ(a.variants[i].code, b.variants[i].code);
    EXPECT_EQ(a.variants[i].token, b.variants[i].token);
  }
  EXPECT_EQ(a.greylisted, b.greylisted);
  EXPECT_EQ(a.first_code, b.first_code);
  EXPECT_EQ(a.first_reply, b.first_reply);
}

}  // namespace

TEST(RecordCodec, ProbesRoundTripWhole) {
  std::vector<store::Probe> probes{full_probe(), store::Probe{}};
  probes[1].outcome = "CONNECT";
  auto back = wire::decode_probes(wire::encode_probes(probes));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  expect_same((*back)[0], probes[0]);
  expect_same((*back)[1], probes[1]);
}

TEST(RecordCodec, AnEmptyBatchRoundTrips) {
  auto back = wire::decode_probes(wire::encode_probes({}));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->empty());
}

TEST(RecordCodec, EveryTruncationIsRefusedNeverAPartialProbe) {
  const auto body = wire::encode_probes({full_probe()});
  for (std::size_t n = 0; n < body.size(); ++n) {
    EXPECT_FALSE(wire::decode_probes(std::string_view(body).substr(0, n))) << n;
  }
  EXPECT_FALSE(wire::decode_probes(body + "x")) << "bytes left over";
}

TEST(RecordCodec, AHugeCountIsRefusedWithoutAllocating) {
  std::string body("\xff\xff\xff\xff", 4);  // four billion probes in four bytes
  EXPECT_FALSE(wire::decode_probes(body));
  auto probe = wire::encode_probes({full_probe()});
  // The transcript's count, made huge: found just after greeting_host's bytes.
  auto at = probe.find("mx.example.test") + std::string("mx.example.test").size() + 2;
  probe.replace(at, 4, std::string("\x7f\xff\xff\xff", 4));
  EXPECT_FALSE(wire::decode_probes(probe));
}

TEST(RecordCodec, HostsRoundTrip) {
  wire::HostBatch b;
  b.last = true;
  ProbeTarget t;
  t.host_id = 42;
  t.ip = "127.0.0.9";
  t.domain = "d.test";
  t.mx_host = "mx.d.test";
  t.fallback_ips = {"127.0.0.10", "::1"};
  t.token = "tk";
  b.targets = {t, ProbeTarget{}};
  auto back = wire::decode_hosts(wire::encode_hosts(b));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->last);
  ASSERT_EQ(back->targets.size(), 2u);
  EXPECT_EQ(back->targets[0].host_id, 42);
  EXPECT_EQ(back->targets[0].ip, "127.0.0.9");
  EXPECT_EQ(back->targets[0].domain, "d.test");
  EXPECT_EQ(back->targets[0].mx_host, "mx.d.test");
  EXPECT_EQ(back->targets[0].fallback_ips, t.fallback_ips);
  EXPECT_EQ(back->targets[0].token, "tk");
  EXPECT_EQ(back->targets[1].ip, "");
}

TEST(RecordCodec, CountsSummaryAndWantRoundTrip) {
  auto c =
      wire::decode_counts(wire::encode_counts({7, -1, std::numeric_limits<std::int64_t>::max()}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->started, 7);
  EXPECT_EQ(c->deferred, -1);
  EXPECT_EQ(c->local_failures, std::numeric_limits<std::int64_t>::max());
  wire::ChildSummary s{3, 4, 5, true, "the store is away"};
  auto back = wire::decode_summary(wire::encode_summary(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->local_failures, 3);
  EXPECT_EQ(back->given_up, 4);
  EXPECT_EQ(back->greylist_retried, 5);
  EXPECT_TRUE(back->interrupted);
  EXPECT_EQ(back->error, "the store is away");
  auto w = wire::decode_want(wire::encode_want(4096));
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, 4096u);
  EXPECT_FALSE(wire::decode_want("abc"));
}

TEST(RecordCodec, FramesAreCutWholeFromAStream) {
  std::string stream = wire::frame(wire::Type::want, wire::encode_want(3)) +
                       wire::frame(wire::Type::stop, "") +
                       wire::frame(wire::Type::probes, wire::encode_probes({full_probe()}));
  // Fed a byte at a time, the frames come out whole, in order, and only once whole.
  std::string buffer;
  std::vector<wire::Frame> got;
  for (char ch : stream) {
    buffer.push_back(ch);
    for (;;) {
      auto cut = wire::take_frame(buffer);
      ASSERT_FALSE(cut.error);
      if (!cut.frame) break;
      got.push_back(std::move(*cut.frame));
    }
  }
  EXPECT_TRUE(buffer.empty());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, wire::Type::want);
  EXPECT_EQ(wire::decode_want(got[0].body).value_or(0), 3u);
  EXPECT_EQ(got[1].type, wire::Type::stop);
  EXPECT_TRUE(got[1].body.empty());
  EXPECT_EQ(got[2].type, wire::Type::probes);
  auto probes = wire::decode_probes(got[2].body);
  ASSERT_TRUE(probes);
  expect_same(probes->at(0), full_probe());
}

TEST(RecordCodec, AnImpossibleFrameLengthIsAnError) {
  std::string zero("\0\0\0\0", 4);
  EXPECT_TRUE(wire::take_frame(zero).error);
  std::string huge("\x7f\xff\xff\xff\x0b", 5);
  EXPECT_TRUE(wire::take_frame(huge).error);
  std::string partial = wire::frame(wire::Type::stop, "").substr(0, 3);
  auto cut = wire::take_frame(partial);
  EXPECT_FALSE(cut.error);
  EXPECT_FALSE(cut.frame);
}
