// The greylist retries' schedule (survey/greylist.hpp): which first answers
// are retried, that retries wait their delay in due order without holding
// anything else back, and what the stored probe keeps of both tries.
#include "survey/greylist.hpp"

#include <gtest/gtest.h>

#include "survey/variants.hpp"

namespace relayscope::survey {
namespace {

using namespace std::chrono_literals;
using Clock = GreylistRetries::Clock;

store::Probe answered(const std::string& outcome, int code, const std::string& token = "tok1") {
  store::Probe p;
  p.host_id = 7;
  p.ip = "127.0.0.7";
  p.outcome = outcome;
  p.code = code;
  p.token = token;
  p.started_at = "2026-11-30T07:00:00Z";
  p.duration_us = 1000;
  return p;
}

ProbeTarget target(std::int64_t id) {
  ProbeTarget t;
  t.host_id = id;
  t.ip = "127.0.0." + std::to_string(id);
  return t;
}

TEST(Greylist, OnlyAFourHundredAtRcptIsRetriedOnce) {
  GreylistRetries g(6min);
  EXPECT_TRUE(g.wants_retry(target(1), answered("TO", 450)));
  EXPECT_TRUE(g.wants_retry(target(1), answered("TO", 451)));
  EXPECT_FALSE(g.wants_retry(target(1), answered("TO", 554)));
  EXPECT_FALSE(g.wants_retry(target(1), answered("MAIL", 450)));
  EXPECT_FALSE(g.wants_retry(target(1), answered("CONNECT", 0)));
  EXPECT_FALSE(g.wants_retry(target(1), answered("OK", 250)));
  // A retry (its target carries the first try's token) is not retried again.
  auto again = target(1);
  again.token = "tok1";
  EXPECT_FALSE(g.wants_retry(again, answered("TO", 450)));
  // 0: off.
  GreylistRetries off(0ms);
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.wants_retry(target(1), answered("TO", 450)));
}

TEST(Greylist, RetriesWaitTheirDelayAndComeDueInOrder) {
  GreylistRetries g(2s);
  const auto t0 = Clock::now();
  EXPECT_FALSE(g.next_due());
  g.defer(target(2), answered("TO", 450, "second"), t0 + 500ms);
  g.defer(target(1), answered("TO", 450, "first"), t0);
  EXPECT_EQ(g.waiting(), 2U);
  ASSERT_TRUE(g.next_due());
  EXPECT_EQ(*g.next_due(), t0 + 2s);
  // Not due before its delay: the slot serves other hosts meanwhile.
  EXPECT_FALSE(g.take_due(t0 + 1999ms));
  auto a = g.take_due(t0 + 2s);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->target.host_id, 1);
  EXPECT_EQ(a->target.token, "first");  // same token: same sender and recipient
  EXPECT_EQ(a->first.code, 450);
  EXPECT_FALSE(g.take_due(t0 + 2s));
  EXPECT_EQ(*g.next_due(), t0 + 2500ms);
  auto b = g.take_due(t0 + 10s);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->target.token, "second");
  EXPECT_EQ(g.waiting(), 0U);
  // Put back after a local failure: due again later, first answer kept.
  g.put_back(std::move(*b), t0 + 11s);
  EXPECT_FALSE(g.take_due(t0 + 10s));
  auto c = g.take_due(t0 + 11s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->first.token, "second");
  g.defer(target(3), answered("TO", 450), t0);
  g.clear();
  EXPECT_EQ(g.waiting(), 0U);
}

TEST(Greylist, TheStoredProbeKeepsBothAnswers) {
  auto first = answered("TO", 450);
  first.transcript = {{0, '*', "connected"},
                      {500, '>', "RCPT TO:<relay-test+tok1@collector.test>"},
                      {900, '<', "450 4.7.1 <relay-test+tok1@collector.test>: Greylisted"}};
  auto retry = answered("OK", 250);
  retry.started_at = "2026-11-30T07:06:00Z";
  retry.duration_us = 3000;
  retry.transcript = {{0, '*', "connected"}, {2000, '<', "250 2.0.0 queued"}};
  auto p = merge_greylist_retry(std::move(first), std::move(retry), 6'000'000);
  EXPECT_TRUE(p.greylisted);
  EXPECT_EQ(p.outcome, "OK");
  EXPECT_EQ(p.code, 250);
  EXPECT_EQ(p.first_code, 450);
  EXPECT_EQ(p.first_reply, "450 4.7.1 <relay-test+tok1@collector.test>: Greylisted");
  EXPECT_EQ(p.token, "tok1");
  EXPECT_EQ(p.started_at, "2026-11-30T07:00:00Z");
  EXPECT_EQ(p.duration_us, 4000);
  ASSERT_EQ(p.transcript.size(), 6U);
  EXPECT_EQ(p.transcript[3].direction, '*');
  EXPECT_NE(p.transcript[3].text.find("greylisted (450"), std::string::npos);
  EXPECT_EQ(p.transcript[4].t_us, 6'000'000);
  EXPECT_EQ(p.transcript[5].t_us, 6'002'000);
  EXPECT_EQ(p.transcript[5].text, "250 2.0.0 queued");
}

store::VariantResult variant(const std::string& name, const std::string& outcome, int code) {
  return {name, "<from>", "<to>", outcome, code, "t-" + name};
}

TEST(Greylist, OnlyAVariantsFourHundredOrNoAnswerIsSentAgain) {
  EXPECT_TRUE(final_answer(variant("a", "TO", 554)));
  EXPECT_TRUE(final_answer(variant("a", "MAIL", 501)));
  EXPECT_TRUE(final_answer(variant("a", "OK", 250)));
  EXPECT_FALSE(final_answer(variant("a", "TO", 450)));
  EXPECT_FALSE(final_answer(variant("a", "DATA", 451)));
  EXPECT_FALSE(final_answer(variant("a", "TO", 0)));  // timeout, connection lost
  EXPECT_FALSE(final_answer(variant("a", store::variant_not_tried, 0)));
}

// The retry does not send again what the first try had a final answer to;
// the stored probe has every variant once, in order, the settled ones with
// the first try's answer and the others with the retry's.
TEST(Greylist, TheRetryKeepsTheFirstTrysFinalVariantAnswers) {
  auto first = answered("TO", 450);
  first.variants = {variant("imc", "TO", 450), variant(trick_name(0), "TO", 450),
                    variant(trick_name(1), "MAIL", 501), variant(trick_name(2), "TO", 450),
                    variant(trick_name(3), store::variant_not_tried, 0)};
  GreylistRetries retries(1min);
  retries.defer(target(7), first, Clock::now());
  auto entry = retries.take_due(Clock::now() + 2min);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->target.settled_variants, std::vector<std::uint8_t>{1});

  auto retry = answered("TO", 554);
  retry.variants = {variant("imc", "TO", 554), variant(trick_name(0), "TO", 554),
                    variant(trick_name(2), "OK", 250), variant(trick_name(3), "TO", 554)};
  auto p = merge_greylist_retry(std::move(entry->first), std::move(retry), 6'000'000);
  ASSERT_EQ(p.variants.size(), 5U);
  EXPECT_EQ(p.variants[0].code, 554);  // the IMC transaction: the retry's
  EXPECT_EQ(p.variants[1].name, trick_name(0));
  EXPECT_EQ(p.variants[1].code, 554);
  EXPECT_EQ(p.variants[2].name, trick_name(1));
  EXPECT_EQ(p.variants[2].code, 501);  // settled on the first try
  EXPECT_EQ(p.variants[2].token, "t-" + std::string(trick_name(1)));
  EXPECT_EQ(p.variants[3].outcome, "OK");
  EXPECT_EQ(p.variants[4].code, 554);
}

// Each idle worker waits for a retry of its own: the k-th due in order.
TEST(Greylist, TheKthRetryInDueOrder) {
  GreylistRetries g(2s);
  const auto t0 = Clock::now();
  EXPECT_FALSE(g.due_of(0));
  g.defer(target(2), answered("TO", 450), t0 + 700ms);
  g.defer(target(1), answered("TO", 450), t0);
  g.defer(target(3), answered("TO", 450), t0 + 300ms);
  EXPECT_EQ(g.due_of(0), g.next_due());
  EXPECT_EQ(*g.due_of(0), t0 + 2s);
  EXPECT_EQ(*g.due_of(1), t0 + 2300ms);
  EXPECT_EQ(*g.due_of(2), t0 + 2700ms);
  EXPECT_FALSE(g.due_of(3));
}

}  // namespace
}  // namespace relayscope::survey
