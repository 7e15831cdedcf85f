// See queue_manager.hpp. Scheduling: new messages go to a ready list, retries
// wait in a time-ordered map; one scheduler coroutine starts attempts while
// fewer than `concurrency` run. An attempt reads the message from the spool,
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
#include "server/dsn.hpp"
#include "server/maildir.hpp"
#include "server/relay_metrics.hpp"
#include "smtp/path.hpp"
#include "smtp/reply.hpp"

namespace relayscope::server {

namespace {

using Kind = RecipientOutcome::Kind;

std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::optional<smtp::Path> parse_recipient(const std::string& r) {
  auto p = smtp::parse_path("<" + r + ">", smtp::PathKind::forward, true);
  if (!p) {
    return std::nullopt;
  }
  return std::move(*p);
}

// Where a remote recipient goes when there is no smarthost: its written host
// part ("example.test", or "[192.0.2.1]" for a literal).
std::string destination_of(const smtp::Path& p) {
  const auto& h = p.mailbox.host;
  if (h.is_literal()) {
    return "[" + h.text + "]";
  }
  auto d = lower(h.text);
  if (!d.empty() && d.back() == '.') {
    d.pop_back();
  }
  return d;
}

std::string status_of(const std::string& text, const char* fallback) {
  auto s = smtp::parse_enhanced_status(text);
  if (!s) {
    auto sp = text.find(' ');
    if (sp != std::string::npos) {
      s = smtp::parse_enhanced_status(text.substr(sp + 1));
    }
  }
  return s ? s->to_string() : fallback;
}

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
      resolver_(resolver),
      scope_(std::move(scope)),
      timer_(executor) {
  // Outbound STARTTLS is opportunistic: we cannot verify arbitrary MX
  // certificates, but encryption still beats clear text.
  client_tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  client_tls_->set_verify_mode(asio::ssl::verify_none);
}

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

void QueueManager::add(const SpoolEntry& entry) {
  Item item;
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
  auto path = spool_.queue_dir() + "/" + id;
  auto read_job = [path](Batch&) -> Expected<std::string> {
    return Spool::read_message_file(path);
  };
  auto message = co_await worker_.run<std::string>(std::move(read_job));
  if (!*alive) {
    co_return;
  }

  std::map<std::string, RecipientOutcome> outcomes;
  if (!message) {
    spdlog::error("{}: cannot read the spooled message: {}", id, message.error().message);
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
      outcomes[r] = RecipientOutcome{Kind::transient, "4.3.0", "spool read error", ""};
    }
  } else {
    outcomes = co_await try_recipients(item, *message);
    if (!*alive) {
      co_return;
    }
  }

  const auto& env = item.envelope;
  bool expired = std::chrono::seconds(unix_now() - env.arrival) > settings_.delivery.max_queue_time;
  std::vector<FailedRecipient> failed;
  std::vector<std::pair<std::string, std::string>> done;
  std::string last_error;
  for (auto& [rcpt, o] : outcomes) {
    const char* word = "deferred";
    if (o.kind == Kind::delivered) {
      word = "sent";
    } else if (o.kind == Kind::permanent) {
      word = "bounced";
    } else if (expired) {
      // Too long in the queue: failed for good (RFC 3463 X.4.7).
      o.kind = Kind::permanent;
      o.status = "5.4.7";
      o.text = "delivery time expired; last error: " + o.text;
      word = "expired";
    } else {
      last_error = "<" + rcpt + ">: " + o.text;
    }
    spdlog::info("{}: to=<{}> relay={} status={} ({} {})", id, rcpt,
                 o.relay.empty() ? "none" : o.relay, word, o.status, o.text);
    relay_metrics::delivery(word).inc();
    if (o.kind == Kind::delivered) {
      done.emplace_back(rcpt, "delivered " + o.relay + " " + o.text);
    } else if (o.kind == Kind::permanent) {
      // Remote-MTA names the host (RFC 3464 2.3.5), without our ":port".
      auto host = o.relay;
      if (host == "maildir") {
        host.clear();
      } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
        host.resize(colon);
      }
      failed.push_back(FailedRecipient{rcpt, o.status, o.text, host});
    }
  }

  if (!failed.empty()) {
    // A failure is recorded only once its DSN is safely in the spool (or
    // there is nobody to tell): a crash in between sends the DSN again at
    // worst, never loses it.
    bool recorded = true;
    if (env.mail_from.empty()) {
      spdlog::info("{}: failed recipients of a message from the null sender: no DSN", id);
    } else {
      DsnInput in;
      in.reporting_mta = settings_.hostname;
      in.original_sender = env.mail_from;
      in.queue_id = id;
      in.arrival = static_cast<std::time_t>(env.arrival);
      in.now = std::time(nullptr);
      in.failed = failed;
      // An unreadable message (it expires like any other) is bounced
      // without its copy rather than kept for ever.
      in.original_message = message ? *message : std::string();
      SpoolEnvelope dsn;
      dsn.arrival = unix_now();
      dsn.client = "127.0.0.1";
      dsn.helo = settings_.hostname;
      dsn.recipients.push_back(env.mail_from);  // from the null sender: never bounced back
      auto text = build_dsn(in);
      auto stored = co_await submit(std::move(dsn), std::move(text));
      if (!*alive) {
        co_return;
      }
      if (stored) {
        spdlog::info("{}: sender non-delivery notification: {}", id, *stored);
      } else {
        spdlog::error("{}: cannot queue the DSN, will try again: {}", id, stored.error().message);
        recorded = false;
      }
    }
    if (recorded) {
      for (const auto& f : failed) {
        done.emplace_back(f.recipient, "failed " + f.status + " " + f.diagnostic);
      }
    }
  }

  // When every pending recipient is finished now, removing the message is
  // the record: no .done file to write and fsync first.
  bool all_finished = done.size() == item.pending.size();
  if (!done.empty() && !all_finished) {
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

  if (item.pending.empty()) {
    auto s = co_await spool_.remove(id);
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
  --in_flight_;
  wake();
}

asio::awaitable<std::map<std::string, RecipientOutcome>> QueueManager::try_recipients(
    const Item& item, const std::string& message) {
  std::map<std::string, RecipientOutcome> out;
  std::map<std::string, std::vector<std::string>> remote;  // destination -> recipients
  const auto& env = item.envelope;
  for (const auto& r : item.pending) {
    auto path = parse_recipient(r);
    if (!path) {
      out[r] = RecipientOutcome{Kind::permanent, "5.1.3", "bad recipient address syntax", ""};
      continue;
    }
    if (auto box = policy_.local_mailbox(*path)) {
      if (!safe_mailbox_name(box->user)) {
        out[r] = RecipientOutcome{Kind::permanent, "5.1.3", "mailbox name not accepted", ""};
        continue;
      }
      std::string prefix =
          "Return-Path: <" + env.mail_from + ">\r\nDelivered-To: " + box->address() + "\r\n";
      auto root = settings_.mailbox_root;
      auto host = settings_.hostname;
      auto b = *box;
      auto job = [root, b, prefix, &message, host](Batch& batch) -> Expected<std::string> {
        return deliver_to_maildir(root, b, prefix, message, host, batch);
      };
      auto res = co_await worker_.run<std::string>(std::move(job));
      if (res) {
        out[r] = RecipientOutcome{Kind::delivered, "2.0.0", "delivered to maildir", "maildir"};
      } else {
        out[r] = RecipientOutcome{Kind::transient, "4.3.0", res.error().message, "maildir"};
      }
      continue;
    }
    remote[settings_.delivery.smarthost ? std::string("smarthost") : destination_of(*path)]
        .push_back(r);
  }
  for (const auto& [dest, rcpts] : remote) {
    auto results = co_await deliver_remote(dest, rcpts, item, message);
    for (auto& [r, o] : results) {
      out[r] = std::move(o);
    }
  }
  co_return out;
}

asio::awaitable<std::vector<std::pair<std::string, RecipientOutcome>>> QueueManager::deliver_remote(
    const std::string& destination, const std::vector<std::string>& recipients, const Item& item,
    const std::string& message) {
  std::vector<std::pair<std::string, RecipientOutcome>> out;
  auto all = [&](Kind k, const char* status, const std::string& text) {
    for (const auto& r : recipients) {
      out.emplace_back(r, RecipientOutcome{k, status, text, ""});
    }
  };
  const auto& d = settings_.delivery;
  std::vector<asio::ip::tcp::endpoint> targets;
  std::error_code ec;
  if (d.smarthost) {
    auto a = asio::ip::make_address(d.smarthost->address, ec);
    if (ec) {
      all(Kind::transient, "4.4.1", "bad smarthost address " + d.smarthost->address);
      co_return out;
    }
    targets.emplace_back(a, d.smarthost->port);
  } else if (!destination.empty() && destination.front() == '[') {
    auto text = destination.substr(1, destination.size() - 2);
    auto a = asio::ip::make_address(text, ec);
    if (ec) {
      all(Kind::permanent, "5.1.2", "cannot deliver to address literal " + destination);
      co_return out;
    }
    targets.emplace_back(a, d.port);
  } else if (!resolver_) {
    all(Kind::transient, "4.4.3", "no DNS servers configured for " + destination);
    co_return out;
  } else {
    auto mh = co_await resolver_->resolve_mail_host(destination, 0);
    using S = dns::DnsStatus;
    if (mh.status == S::nxdomain || mh.status == S::nodata) {
      all(Kind::permanent, "5.1.2",
          "Host or domain name not found: " + destination + " (" +
              std::string(dns::to_string(mh.status)) + ")");
      co_return out;
    }
    if (mh.status == S::null_mx) {
      all(Kind::permanent, "5.1.10", "Domain " + destination + " accepts no mail (null MX)");
      co_return out;
    }
    if (mh.status != S::ok) {
      all(Kind::transient, "4.4.3", "DNS lookup of " + destination + " failed: " + mh.detail);
      co_return out;
    }
    std::vector<std::string> ips{mh.ip};
    ips.insert(ips.end(), mh.fallback_ips.begin(), mh.fallback_ips.end());
    for (const auto& ip : ips) {
      auto a = asio::ip::make_address(ip, ec);
      if (!ec) {
        targets.emplace_back(a, d.port);
      }
    }
  }

  client::ClientOptions options;
  options.helo_name = settings_.hostname;
  options.connect_timeout = d.connect_timeout;
  options.greeting_timeout = std::chrono::minutes(2);
  options.command_timeout = std::chrono::minutes(2);
  options.data_timeout = std::chrono::minutes(5);
  std::vector<client::RecipientResult> results;
  std::string relay;
  for (const auto& target : targets) {
    client::DeliveryRequest req;
    req.server = target;
    req.mail_from = item.envelope.mail_from;
    req.recipients = recipients;
    req.message = message;
    req.tls = client_tls_.get();
    relay = target.address().to_string() + ":" + std::to_string(target.port());
    results = co_await client::deliver(req, scope_, options);
    // Only a connection-level failure (no reply at all) moves on to the next host.
    bool no_reply = std::all_of(results.begin(), results.end(), [](const auto& r) {
      return r.disposition == client::Disposition::transient && r.code == 0;
    });
    if (!no_reply) {
      break;
    }
  }
  for (const auto& r : results) {
    RecipientOutcome o;
    o.relay = relay;
    // The client's text is the reply as received ("550 5.1.1 ..."), or
    // our own reason when no reply came.
    auto code = std::to_string(r.code);
    bool has_code = r.text.compare(0, code.size(), code) == 0;
    o.text = r.code && !has_code ? code + " " + r.text : r.text;
    switch (r.disposition) {
      case client::Disposition::delivered:
        o.kind = Kind::delivered;
        o.status = "2.0.0";
        break;
      case client::Disposition::permanent:
        o.kind = Kind::permanent;
        o.status = status_of(r.text, "5.0.0");
        break;
      case client::Disposition::transient:
        o.kind = Kind::transient;
        o.status = status_of(r.text, "4.4.1");
        break;
    }
    out.emplace_back(r.recipient, std::move(o));
  }
  if (results.empty()) {
    all(Kind::transient, "4.4.1", "no host to deliver to");
  }
  co_return out;
}

}  // namespace relayscope::server
