// See outbox.hpp.
#include "lab/outbox.hpp"

#include <asio/experimental/as_tuple.hpp>

#include "client/delivery.hpp"

namespace relayscope::lab {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : address.substr(at + 1);
}

bool transient(dns::DnsStatus s) {
  return s == dns::DnsStatus::timeout || s == dns::DnsStatus::servfail;
}
}  // namespace

Outbox::Outbox(asio::any_io_executor executor, std::shared_ptr<const LabPlan> plan,
               std::shared_ptr<Ledger> ledger, OutboxOptions options,
               std::chrono::steady_clock::time_point started)
    : executor_(std::move(executor)),
      plan_(std::move(plan)),
      ledger_(std::move(ledger)),
      options_(std::move(options)),
      started_(started),
      scope_(net::ScopeGuard::loopback_only()) {}

std::int64_t Outbox::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               started_)
      .count();
}

void Outbox::submit(OutboundJob job) {
  if (stopped_) {
    finish(job, false, "lab stopped");
    return;
  }
  if (queue_.size() >= options_.max_queued) {
    finish(job, false, "lab outbox full");
    return;
  }
  ++pending_;
  queue_.push_back(std::move(job));
  pump();
}

void Outbox::stop() {
  stopped_ = true;
  while (!queue_.empty()) {
    auto job = std::move(queue_.front());
    queue_.pop_front();
    --pending_;
    finish(job, false, "lab stopped");
  }
}

void Outbox::pump() {
  while (!stopped_ && in_flight_ < options_.max_in_flight && !queue_.empty()) {
    ++in_flight_;
    auto job = std::move(queue_.front());
    queue_.pop_front();
    asio::co_spawn(executor_, run(shared_from_this(), std::move(job)), asio::detached);
  }
}

void Outbox::finish(const OutboundJob& job, bool ok, const std::string& detail) {
  Event e;
  bool relay = job.kind == OutboundJob::Kind::relay;
  e.kind = relay ? (ok ? EventKind::delivered : EventKind::delivery_failed)
                 : (ok ? EventKind::bounced : EventKind::bounce_failed);
  e.token = job.token;
  e.trick = job.trick;
  e.recipient = job.recipient;
  e.detail = detail;
  e.t_ms = now_ms();
  ledger_->record(job.host, std::move(e));
}

asio::awaitable<void> Outbox::run(std::shared_ptr<Outbox> self, OutboundJob job) {
  (void)self;  // keeps the outbox alive while the job runs
  if (!resolver_ && resolver_error_.empty()) {
    dns::ResolverConfig config;
    config.servers = {options_.dns_server};
    config.scope = net::ScopeGuard::loopback_only();
    config.timeout = std::chrono::milliseconds(1000);
    config.tries = 2;
    auto r = dns::Resolver::create(executor_, std::move(config));
    if (r) {
      resolver_.emplace(std::move(*r));
    } else {
      resolver_error_ = "resolver: " + r.error().message;
    }
  }
  bool ok = false;
  std::string why;
  const auto& host = plan_->hosts[job.host];
  std::error_code ec;
  auto local = asio::ip::make_address_v4(host.ip);
  for (int attempt = 0; attempt < options_.tries && !stopped_; ++attempt) {
    if (attempt > 0) {
      asio::steady_timer pause(executor_, options_.retry_delay * (1 << (attempt - 1)));
      co_await pause.async_wait(use_tuple);
      if (stopped_) break;
    }
    if (!resolver_) {
      why = resolver_error_;
      break;
    }
    auto domain = domain_of(job.recipient);
    auto mh = co_await resolver_->resolve_mail_host(domain, options_.seed);
    if (mh.status != dns::DnsStatus::ok) {
      why = "no mail host for " + domain + ": " + std::string(dns::to_string(mh.status)) +
            (mh.detail.empty() ? "" : " (" + mh.detail + ")");
      if (transient(mh.status)) continue;
      break;
    }
    auto address = asio::ip::make_address(mh.ip, ec);
    if (ec) {
      why = "bad address " + mh.ip;
      break;
    }
    client::DeliveryRequest request;
    request.server = {address, options_.port};
    request.mail_from = job.mail_from;
    request.recipients = {job.recipient};
    request.message = job.message;
    client::ClientOptions co;
    co.helo_name = plan_->host_name(job.host);
    co.local_address = local;
    co.connect_timeout = co.greeting_timeout = co.command_timeout = co.data_timeout =
        options_.timeout;
    auto results = co_await client::deliver(request, scope_, co);
    if (results.empty()) {
      why = "no result from delivery";
      continue;
    }
    const auto& r = results.front();
    why = mh.ip + ":" + std::to_string(options_.port) + ": " + r.text;
    if (r.disposition == client::Disposition::delivered) {
      ok = true;
      break;
    }
    if (r.disposition == client::Disposition::permanent) break;
  }
  if (stopped_ && !ok && why.empty()) why = "lab stopped";
  finish(job, ok, why);
  --in_flight_;
  --pending_;
  pump();
}

}  // namespace relayscope::lab
