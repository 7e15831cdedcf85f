// See queue_manager.hpp. Scheduling: new messages go to a ready list, retries
// wait in a time-ordered map; one scheduler coroutine starts attempts while
// fewer than `concurrency` run. An attempt opens the message in the spool
// (the couriers read it in pieces),
// tries every pending recipient, records the finished ones durably (a DSN is
// stored before its failures are recorded, so a crash never loses a bounce),
// and removes the message when nothing is left.
#include "server/queue_manager.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <cerrno>

#include "client/delivery.hpp"
#include "dns/resolver.hpp"
#include "server/couriers.hpp"
#include "server/dsn.hpp"
#include "server/log_lines.hpp"
#include "server/maildir.hpp"
#include "server/relay_metrics.hpp"
#include "server/routing.hpp"
#include "server/settle.hpp"
#include "smtp/path.hpp"
#include "smtp/reply.hpp"

namespace relayscope::server {

namespace {

using Kind = RecipientOutcome::Kind;

std::int64_t unix_now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

std::chrono::milliseconds retry_delay(const std::vector<std::chrono::milliseconds>& schedule,
                                      int attempts) {
  if (schedule.empty()) {
    return std::chrono::minutes(5);
  }
  auto i = attempts <= 1 ? 0 : static_cast<std::size_t>(attempts - 1);
  return schedule[std::min(i, schedule.size() - 1)];
}

QueueManager::QueueManager(asio::any_io_executor executor, QueueSettings settings, Spool& spool,
                           Worker& worker, const RelayPolicy& policy, dns::Resolver* resolver,
                           net::ScopeGuard scope)
    : executor_(executor),
      settings_(std::move(settings)),
      spool_(spool),
      worker_(worker),
      policy_(policy),
      own_local_(std::make_unique<MaildirCourier>(settings_.mailbox_root, settings_.hostname,
                                                  policy, worker)),
      own_remote_(std::make_unique<SmtpCourier>(executor, settings_.hostname, settings_.delivery,
                                                resolver, std::move(scope), worker)),
      local_(own_local_.get()),
      remote_(own_remote_.get()),
      timer_(executor) {}

QueueManager::QueueManager(asio::any_io_executor executor, QueueSettings settings, Spool& spool,
                           Worker& worker, const RelayPolicy& policy, Courier& local,
                           Courier& remote)
    : executor_(executor),
      settings_(std::move(settings)),
      spool_(spool),
      worker_(worker),
      policy_(policy),
      local_(&local),
      remote_(&remote),
      timer_(executor) {}

QueueManager::~QueueManager() {
  *alive_ = false;
  stop();
}

void QueueManager::start() {
  asio::co_spawn(executor_, scheduler(), asio::detached);
}

void QueueManager::stop() {
  stopped_ = true;
  timer_.cancel();
}

void QueueManager::wake() {
  timer_.cancel();
}

void QueueManager::add(const SpoolEntry& entry, std::shared_ptr<const SpoolMessage> at_hand) {
  Item item;
  item.fresh = entry.fresh;
  if (at_hand && held_bytes_ + at_hand->size() <= held_budget) {
    held_bytes_ += at_hand->size();
    item.at_hand = std::move(at_hand);
  }
  item.envelope = entry.envelope;
  item.attempts = entry.state.attempts;
  for (const auto& r : entry.envelope.recipients) {
    if (!entry.done.count(r)) {
      item.pending.insert(r);
    }
  }
  auto id = entry.envelope.id;
  if (item.pending.empty()) {
    // Finished before a crash, but not yet removed.
    asio::co_spawn(executor_, remove_finished(id), asio::detached);
    return;
  }
  if (auto old = items_.find(id); old != items_.end() && old->second.at_hand) {
    held_bytes_ -= old->second.at_hand->size();
  }
  items_[id] = std::move(item);
  relay_metrics::queue_size().set(static_cast<double>(items_.size()));
  ready_.push_back(id);
  wake();
}

asio::awaitable<void> QueueManager::remove_finished(std::string id) {
  auto s = co_await spool_.remove(id);
  if (!s) {
    spdlog::error("{}: cannot remove from the spool: {}", id, s.error().message);
  } else {
    spdlog::info("{}: removed (finished before a restart)", id);
  }
}

void QueueManager::flush() {
  for (const auto& [when, id] : waiting_) {
    ready_.push_back(id);
  }
  waiting_.clear();
  // Messages being tried now go again as soon as this attempt ends.
  for (auto& [id, item] : items_) {
    if (item.busy) {
      item.flush_requested = true;
    }
  }
  spdlog::info("queue flush: {} messages to try now", ready_.size());
  wake();
}

asio::awaitable<Expected<std::string>> QueueManager::submit(SpoolEnvelope envelope,
                                                            std::string message) {
  auto stored = co_await spool_.store(envelope, std::move(message));
  if (!stored) {
    co_return stored;
  }
  envelope.id = *stored;
  SpoolEntry entry;
  entry.envelope = std::move(envelope);
  entry.fresh = true;
  add(entry);
  co_return stored;
}

asio::awaitable<void> QueueManager::scheduler() {
  auto alive = alive_;
  while (*alive && !stopped_) {
    auto now = Clock::now();
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
      ready_.push_back(waiting_.begin()->second);
      waiting_.erase(waiting_.begin());
    }
    while (!ready_.empty() && in_flight_ < settings_.delivery.concurrency) {
      auto id = ready_.front();
      ready_.pop_front();
      auto it = items_.find(id);
      if (it == items_.end() || it->second.busy) {
        continue;
      }
      it->second.busy = true;
      it->second.flush_requested = false;
      ++in_flight_;
      asio::co_spawn(executor_, attempt(id), asio::detached);
    }
    auto deadline = now + std::chrono::hours(1);
    if (!waiting_.empty() && waiting_.begin()->first < deadline) {
      deadline = waiting_.begin()->first;
    }
    timer_.expires_at(deadline);
    auto waited = co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    (void)waited;  // cancelled by wake(), or the time came: look again either way
  }
}

asio::awaitable<void> QueueManager::attempt(std::string id) {
  auto alive = alive_;
  auto it = items_.find(id);
  if (it == items_.end()) {
    --in_flight_;
    wake();
    co_return;
  }
  // Stable: std::map nodes do not move, and only this attempt erases it.
  Item& item = it->second;
  // Jobs are named locals holding values only (no `this`): GCC 12 mishandles
  // a lambda temporary inside a co_await expression, and a job may still run
  // while the server shuts down.
  // Opened, not read: the couriers read it a piece at a time as it goes out.
  auto path = spool_.queue_dir() + "/" + id;
  Expected<std::shared_ptr<const SpoolMessage>> read = make_error("not read");
  if (item.at_hand) {
    // The first attempt of a small message: the copy the session had.
    held_bytes_ -= item.at_hand->size();
    read = std::exchange(item.at_hand, nullptr);
  } else {
    auto open_job = [path](Batch&) -> Expected<std::shared_ptr<const SpoolMessage>> {
      return SpoolMessage::open(path);
    };
    read = co_await worker_.run<std::shared_ptr<const SpoolMessage>>(std::move(open_job));
    if (!*alive) {
      co_return;
    }
  }

  std::shared_ptr<const SpoolMessage> message;
  Outcomes outcomes;
  auto carry_started = Clock::now();  // delays=: b ends and d starts here
  Clock::duration carried{};
  if (!read) {
    spdlog::error("{}: cannot read the spooled message: {}", id, read.error().message);
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
      // Taken away by hand: nothing left to deliver or to retry.
      spdlog::error("{}: gone from the spool: forgotten", id);
      items_.erase(id);
      relay_metrics::queue_size().set(static_cast<double>(items_.size()));
      --in_flight_;
      wake();
      co_return;
    }
    for (const auto& r : item.pending) {
      outcomes.emplace_back(
          r, RecipientOutcome{Kind::transient, "4.3.0", "spool read error", "", std::nullopt});
    }
  } else {
    message = std::move(*read);
    outcomes = co_await try_recipients(id, item, message);
    if (!*alive) {
      co_return;
    }
    carried = Clock::now() - carry_started;
  }

  const auto& env = item.envelope;
  bool expired = std::chrono::seconds(unix_now() - env.arrival) > settings_.delivery.max_queue_time;
  auto settled = settle(outcomes, expired);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& [rcpt, o] = outcomes[i];
    // Postfix's fields: delay= since arrival (whole seconds are stored, so
    // it may read up to a second long), dsn=, and the remote's own reply.
    log_lines::Delivery d;
    d.to = rcpt;
    d.relay = o.relay;
    d.delay_seconds =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
        static_cast<double>(env.arrival);
    auto seconds = [](Clock::duration x) { return std::chrono::duration<double>(x).count(); };
    d.delays = log_lines::split_delay(d.delay_seconds, seconds(carry_started - item.queued_at),
                                      seconds(carried));
    d.dsn = o.status;
    d.status = settled.words[i].second;
    d.remote_reply = o.text;
    spdlog::info("{}", log_lines::delivery(id, d));
    relay_metrics::delivery(settled.words[i].second).inc();
  }
  auto done = settled.delivered;
  auto last_error = settled.last_error;
  if (!settled.failed.empty()) {
    // A failure is recorded only once its DSN is safely in the spool (or
    // there is nobody to tell): a crash in between sends the DSN again at
    // worst, never loses it.
    bool recorded = co_await bounce(id, env, settled.failed, message);
    if (!*alive) {
      co_return;
    }
    if (recorded) {
      for (const auto& f : settled.failed) {
        done.emplace_back(f.recipient, failed_record(f));
      }
    }
  }

  // When every pending recipient is finished now, removing the message is
  // the record: no .done file to write and fsync first.
  bool all_finished = done.size() == item.pending.size();
  if (!done.empty() && !all_finished) {
    item.fresh = false;
    auto s = co_await spool_.mark_done(id, done);
    if (!*alive) {
      co_return;
    }
    if (!s) {
      spdlog::error("{}: cannot record finished recipients: {}", id, s.error().message);
      done.clear();
    }
  }
  for (const auto& [rcpt, why] : done) {
    item.pending.erase(rcpt);
  }

  bool slot_given_back = false;
  if (item.pending.empty()) {
    // The delivery is over: its slot goes to the next message while the
    // removal waits for a round of the group commit (the item stays, busy,
    // until then).
    --in_flight_;
    wake();
    slot_given_back = true;
    auto s = co_await spool_.remove(id, item.fresh);
    if (!*alive) {
      co_return;
    }
    if (!s) {
      spdlog::error("{}: cannot remove from the spool: {}", id, s.error().message);
      if (all_finished) {
        // The removal was to be the record: write it down instead, so a
        // restart does not deliver again.
        auto recorded = co_await spool_.mark_done(id, done);
        if (!*alive) {
          co_return;
        }
        if (!recorded) {
          spdlog::error("{}: cannot record finished recipients either: {}", id,
                        recorded.error().message);
        }
      }
    } else {
      spdlog::info("{}: removed", id);
    }
    items_.erase(id);
    relay_metrics::queue_size().set(static_cast<double>(items_.size()));
  } else {
    ++item.attempts;
    auto delay = retry_delay(settings_.delivery.retry, item.attempts);
    RetryState st;
    st.attempts = item.attempts;
    st.next_retry = unix_now() + std::chrono::duration_cast<std::chrono::seconds>(delay).count() +
                    (delay.count() % 1000 ? 1 : 0);
    st.last_error = last_error.empty() ? "spool error" : last_error;
    item.fresh = false;
    auto ws = co_await spool_.write_state(id, std::move(st));
    if (!*alive) {
      co_return;
    }
    if (!ws) {
      spdlog::warn("{}: cannot record the retry state: {}", id, ws.error().message);
    }
    item.busy = false;
    if (item.flush_requested) {
      item.flush_requested = false;
      ready_.push_back(id);
    } else {
      waiting_.emplace(Clock::now() + delay, id);
    }
  }
  if (!slot_given_back) {
    --in_flight_;
    wake();
  }
}

asio::awaitable<bool> QueueManager::bounce(std::string id, SpoolEnvelope env,
                                           std::vector<FailedRecipient> failed,
                                           std::shared_ptr<const SpoolMessage> message) {
  auto alive = alive_;
  if (env.mail_from.empty()) {
    spdlog::info("{}: failed recipients of a message from the null sender: no DSN", id);
    co_return true;
  }
  DsnInput in;
  in.reporting_mta = settings_.hostname;
  in.original_sender = env.mail_from;
  in.queue_id = id;
  in.arrival = static_cast<std::time_t>(env.arrival);
  in.now = std::time(nullptr);
  in.failed = std::move(failed);
  // An unreadable message (it expires like any other) is bounced without
  // its copy rather than kept for ever. A DSN returns the message only up
  // to max_returned (else its headers): no more than that is read.
  if (message) {
    auto want = in.max_returned + 1;
    auto prefix_job = [message, want](Batch&) -> Expected<std::string> {
      return message->prefix(want);
    };
    auto prefix = co_await worker_.run<std::string>(std::move(prefix_job));
    if (!*alive) co_return false;
    if (prefix) in.original_message = std::move(*prefix);
  }
  SpoolEnvelope dsn;
  dsn.arrival = unix_now();
  dsn.client = "127.0.0.1";
  dsn.helo = settings_.hostname;
  dsn.recipients.push_back(env.mail_from);  // from the null sender: never bounced back
  auto text = build_dsn(in);
  auto stored = co_await submit(std::move(dsn), std::move(text));
  if (!*alive) {
    co_return false;
  }
  if (!stored) {
    spdlog::error("{}: cannot queue the DSN, will try again: {}", id, stored.error().message);
    co_return false;
  }
  spdlog::info("{}: sender non-delivery notification: {}", id, *stored);
  co_return true;
}

asio::awaitable<Outcomes> QueueManager::try_recipients(
    std::string id, const Item& item, std::shared_ptr<const SpoolMessage> message) {
  auto plan = plan_routes(item.pending, policy_, settings_.delivery.smarthost.has_value());
  Outcomes out = std::move(plan.refused);
  for (auto& [destination, rcpts] : plan.destinations) {
    Parcel parcel{id, item.envelope, message, destination, rcpts};
    Courier& courier = destination == local_destination ? *local_ : *remote_;
    auto carried = co_await courier.carry(std::move(parcel));
    for (auto& o : carried) {
      out.push_back(std::move(o));
    }
  }
  co_return out;
}

}  // namespace relayscope::server
