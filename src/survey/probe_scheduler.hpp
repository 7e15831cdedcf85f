// Runs a prepared run's probes (runner.hpp): `concurrency` probe workers on
// the caller's event loop, under the --rate pace, never two at once to one
// address, lowering the pace after local failures, retrying greylisted hosts
// after their delay, handing finished probes to the store's writer thread,
// and stopping cleanly (probes in flight finish and are recorded).
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.hpp"
#include "net/scope_guard.hpp"
#include "store/store.hpp"
#include "survey/greylist.hpp"
#include "survey/probe.hpp"
#include "survey/runner.hpp"

namespace relayscope::store {
class ProbeWriter;
}

namespace relayscope::survey {

class AddressClaims;

class ProbeScheduler {
 public:
  ProbeScheduler(const SurveyOptions& options, const net::ScopeGuard& scope, store::Store& store,
                 std::int64_t run_id, std::vector<ProbeTarget> targets, const bool& stop);

  // Probes every target (or until `stop`), filling the summary's counts.
  asio::awaitable<Status> run(SurveySummary& summary);

 private:
  class StopBroadcast;

  asio::awaitable<void> pace();
  std::optional<std::size_t> take();
  asio::awaitable<void> wait_for_room();
  void wake_one();
  asio::awaitable<void> after_local_failure(std::size_t index);
  asio::awaitable<void> wait_for_retry();
  std::unique_ptr<GreylistRetries::Entry> take_due_retry();
  asio::awaitable<std::optional<std::size_t>> take_fed();
  asio::awaitable<void> wait_for_writer();
  void settle(std::unique_ptr<GreylistRetries::Entry> retry, const ProbeTarget& target,
              std::unique_ptr<store::Probe> probe,
              std::chrono::steady_clock::time_point probe_started);
  asio::awaitable<void> worker();
  void print_progress(bool final);
  static std::string format_eta(double seconds);

  const SurveyOptions& options_;
  const net::ScopeGuard& scope_;
  store::Store& store_;
  std::int64_t run_id_;
  std::deque<ProbeTarget> targets_;  // a deque: fed hosts add to it while others are probed
  const bool& stop_;
  StopBroadcast* broadcast_ = nullptr;
  AddressClaims* claims_ = nullptr;
  std::size_t next_ = 0;
  std::size_t done_ = 0;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::string failure_;
  store::ProbeWriter* writer_ = nullptr;
  std::map<std::string, std::int64_t> outcomes_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::size_t>> recent_;  // progress
  // Local failures (run_probe's local_failure): hosts to try again, tries per
  // host, the in-flight cap they lowered.
  static constexpr std::size_t max_local_retries = 50;
  std::deque<std::size_t> retry_;
  std::map<std::size_t, std::size_t> local_attempts_;
  std::size_t max_in_flight_ = 0;
  std::size_t cap_ = 0;
  std::size_t since_raise_ = 0;
  std::size_t local_failures_ = 0;
  std::size_t given_up_ = 0;
  asio::steady_timer* room_ = nullptr;  // wait_for_room's wake-ups
  GreylistRetries greylist_;
  std::size_t retries_running_ = 0;
  std::size_t greylist_retried_ = 0;
  std::size_t waiting_ = 0;
  std::size_t retry_waiters_ = 0;  // idle workers waiting for a greylist retry
  std::chrono::steady_clock::time_point started_, next_slot_;
};

}  // namespace relayscope::survey
