// See couriers.hpp.
#include "server/couriers.hpp"

#include <algorithm>

#include "client/delivery.hpp"
#include "server/maildir.hpp"
#include "server/routing.hpp"

namespace relayscope::server {

namespace {

using Kind = RecipientOutcome::Kind;

// One piece of the message, read on a worker thread. A function with its
// arguments by value (not a capturing lambda coroutine): its frame owns
// what it reads.
asio::awaitable<std::optional<std::string>> read_piece(Worker& worker,
                                                       std::shared_ptr<const SpoolMessage> message,
                                                       std::uint64_t offset) {
  if (offset >= message->size()) co_return std::string();  // the end: nothing to read
  if (message->in_memory()) {
    auto piece = message->read(offset);
    if (!piece) co_return std::nullopt;
    co_return std::move(*piece);
  }
  auto job = [message, offset](Batch&) -> Expected<std::string> { return message->read(offset); };
  auto piece = co_await worker.run<std::string>(std::move(job));
  if (!piece) co_return std::nullopt;
  co_return std::move(*piece);
}

}  // namespace

asio::awaitable<Outcomes> MaildirCourier::carry(Parcel parcel) {
  Outcomes out;
  for (const auto& r : parcel.recipients) {
    auto path = parse_recipient(r);
    auto box = path ? policy_.local_mailbox(*path) : std::nullopt;
    if (!box || !safe_mailbox_name(box->user)) {
      out.emplace_back(r, RecipientOutcome{Kind::permanent, "5.1.3", "mailbox name not accepted",
                                           "", std::nullopt});
      continue;
    }
    std::string prefix = "Return-Path: <" + parcel.envelope.mail_from +
                         ">\r\nDelivered-To: " + box->address() + "\r\n";
    // The job owns what it reads (the message is shared, not referenced):
    // it may run after this coroutine is gone, at shutdown.
    auto job = [root = root_, b = *box, prefix, message = parcel.message,
                host = hostname_](Batch& batch) -> Expected<std::string> {
      return deliver_to_maildir(root, b, prefix, *message, host, batch);
    };
    auto res = co_await worker_.run<std::string>(std::move(job));
    if (res) {
      out.emplace_back(r, RecipientOutcome{Kind::delivered, "2.0.0", "delivered to maildir",
                                           "maildir", std::nullopt});
    } else {
      out.emplace_back(r, RecipientOutcome{Kind::transient, "4.3.0", res.error().message, "maildir",
                                           std::nullopt});
    }
  }
  co_return out;
}

namespace {

client::ClientOptions delivery_options(std::string hostname, const DeliveryConfig& delivery) {
  client::ClientOptions options;
  options.helo_name = std::move(hostname);
  options.connect_timeout = delivery.connect_timeout;
  options.greeting_timeout = std::chrono::minutes(2);
  options.command_timeout = std::chrono::minutes(2);
  options.data_timeout = std::chrono::minutes(5);
  return options;
}

client::ConnectionCache::Settings cache_settings(const DeliveryConfig& delivery) {
  client::ConnectionCache::Settings s;
  s.capacity = std::max<std::size_t>(delivery.concurrency, 1);
  return s;
}

}  // namespace

SmtpCourier::SmtpCourier(asio::any_io_executor executor, std::string hostname,
                         DeliveryConfig delivery, dns::Resolver* resolver, net::ScopeGuard scope,
                         Worker& worker)
    : delivery_(std::move(delivery)),
      resolver_(resolver),
      scope_(std::move(scope)),
      worker_(worker),
      options_(delivery_options(std::move(hostname), delivery_)),
      cache_(std::move(executor), cache_settings(delivery_)) {
  // Outbound STARTTLS is opportunistic: we cannot verify arbitrary MX
  // certificates, but encryption still beats clear text.
  tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  tls_->set_verify_mode(asio::ssl::verify_none);
}

asio::awaitable<Outcomes> SmtpCourier::carry(Parcel parcel) {
  auto hosts = co_await find_hosts(parcel.destination, delivery_, resolver_);
  if (hosts.failure) {
    Outcomes out;
    for (const auto& r : parcel.recipients) out.emplace_back(r, *hosts.failure);
    co_return out;
  }
  TryHost try_host = [this, &parcel](const asio::ip::tcp::endpoint& host)
      -> asio::awaitable<std::vector<client::RecipientResult>> {
    client::DeliveryRequest req;
    req.server = host;
    req.mail_from = parcel.envelope.mail_from;
    req.recipients = parcel.recipients;
    req.message_size = parcel.message->size();
    req.pieces = [&worker = worker_, message = parcel.message](std::uint64_t offset) {
      return read_piece(worker, message, offset);
    };
    req.tls = tls_.get();
    co_return co_await client::deliver(req, scope_, options_, cache_);
  };
  co_return co_await try_hosts(std::move(hosts.endpoints), parcel.recipients, try_host);
}

}  // namespace relayscope::server
