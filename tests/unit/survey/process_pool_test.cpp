// survey --processes: how many processes a concurrency needs under an
// open-files limit, each child's share, and the parent's hand-out of hosts
// in batches (each host once, the last batch says so, a stop ends it;
// with --mx-fallback, hosts sharing an address go out in one batch).
#include "survey/process_pool.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace relayscope::survey;

TEST(ProcessPool, ProcessesNeededForTheOpenFilesLimit) {
  EXPECT_EQ(processes_needed(100, 20000), 1u);
  EXPECT_EQ(processes_needed(19936, 20000), 1u);  // the limit less the reserve fits
  EXPECT_EQ(processes_needed(19937, 20000), 2u);
  EXPECT_EQ(processes_needed(50000, 20000), 3u);
  EXPECT_EQ(processes_needed(50000, 1u << 20), 1u);  // a higher hard limit: one process
  EXPECT_EQ(processes_needed(1000, 100), 20u);       // a tiny limit keeps half for probes
  EXPECT_EQ(processes_needed(1, 0), 1u);
}

TEST(ProcessPool, SharesAddUpAndDifferByOneAtMost) {
  for (std::size_t total : {1u, 7u, 50000u}) {
    for (std::size_t n : {1u, 3u, 8u}) {
      std::size_t sum = 0, lo = total, hi = 0;
      for (std::size_t i = 0; i < n; ++i) {
        auto s = share_of(total, n, i);
        sum += s;
        lo = std::min(lo, s);
        hi = std::max(hi, s);
      }
      EXPECT_EQ(sum, total);
      EXPECT_LE(hi - lo, 1u);
    }
  }
}

namespace {
std::vector<ProbeTarget> targets(std::size_t n) {
  std::vector<ProbeTarget> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i].host_id = static_cast<std::int64_t>(i + 1);
    v[i].ip = "127.0.0." + std::to_string(i + 1);
  }
  return v;
}
}  // namespace

TEST(HostHandout, EveryHostOnceInBatchesTheLastOneSaysSo) {
  HostHandout h(targets(10));
  std::set<std::int64_t> seen;
  std::vector<std::size_t> sizes;
  bool last = false;
  while (!last) {
    auto b = h.take(4);
    sizes.push_back(b.targets.size());
    for (const auto& t : b.targets) EXPECT_TRUE(seen.insert(t.host_id).second) << t.host_id;
    last = b.last;
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 4, 2}));
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(h.handed_out(), 10u);
  auto after = h.take(4);  // asked again: nothing, still the last
  EXPECT_TRUE(after.targets.empty());
  EXPECT_TRUE(after.last);
}

TEST(HostHandout, AStopHandsOutNothingMore) {
  HostHandout h(targets(10));
  auto first = h.take(3);
  EXPECT_FALSE(first.last);
  h.stop();
  auto b = h.take(3);
  EXPECT_TRUE(b.targets.empty());
  EXPECT_TRUE(b.last);
  EXPECT_EQ(h.handed_out(), 3u);
  EXPECT_EQ(h.total(), 10u);
}

TEST(HostHandout, NoHostsIsAnEmptyLastBatch) {
  HostHandout h({});
  auto b = h.take(5);
  EXPECT_TRUE(b.targets.empty());
  EXPECT_TRUE(b.last);
}

namespace {
// host_id -> the batch it was handed out in, taking `n` at a time.
std::map<std::int64_t, int> batches_of(HostHandout& h, std::size_t n) {
  std::map<std::int64_t, int> batch;
  int k = 0;
  for (bool last = false; !last; ++k) {
    auto b = h.take(n);
    for (const auto& t : b.targets) EXPECT_TRUE(batch.emplace(t.host_id, k).second) << t.host_id;
    last = b.last;
  }
  return batch;
}
}  // namespace

TEST(HostHandout, HostsSharingAnAddressGoOutInOneBatchWithMxFallback) {
  auto t = targets(8);
  t[0].fallback_ips = {"127.0.0.6"};                // host 1 falls back to host 6's address
  t[2].fallback_ips = {"127.0.0.99"};               // hosts 3 and 8 share a fallback
  t[7].fallback_ips = {"127.0.0.99", "127.0.0.8"};  // (and 8's own address, harmlessly)
  t[3].fallback_ips = {"127.0.0.6"};                // host 4 joins 1 and 6's group
  HostHandout h(t, true);
  EXPECT_EQ(h.total(), 8u);
  auto batch = batches_of(h, 1);
  ASSERT_EQ(batch.size(), 8u);
  EXPECT_EQ(batch[1], batch[6]);
  EXPECT_EQ(batch[1], batch[4]);
  EXPECT_EQ(batch[3], batch[8]);
  EXPECT_NE(batch[1], batch[3]);
  // Groups go in the order of their first hosts; a lone host is its own.
  EXPECT_LT(batch[1], batch[2]);
  EXPECT_LT(batch[2], batch[3]);
  EXPECT_LT(batch[3], batch[5]);
  EXPECT_LT(batch[5], batch[7]);
  std::set<int> distinct;
  for (const auto& [id, k] : batch) distinct.insert(k);
  EXPECT_EQ(distinct.size(), 5u);  // {1,4,6} {2} {3,8} {5} {7}
}

TEST(HostHandout, WithoutMxFallbackSharedAddressesDoNotMatter) {
  auto t = targets(3);
  t[0].fallback_ips = {"127.0.0.3"};
  HostHandout h(t, false);
  auto batch = batches_of(h, 1);
  EXPECT_EQ(batch, (std::map<std::int64_t, int>{{1, 0}, {2, 1}, {3, 2}}));
}
