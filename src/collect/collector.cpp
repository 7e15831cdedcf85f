// See collector.hpp. No SMTP loop of its own: the one session (src/smtpd)
// with the collector's policy and sink, behind the shared listener (total
// and per-address connection caps, 421 beyond them).
#include "collect/collector.hpp"

#include <filesystem>

#include "collect/collector_parts.hpp"
#include "mail/addr_port.hpp"
#include "smtpd/listener.hpp"

namespace relayscope::collect {

struct Collector::State {
  State(asio::any_io_executor ex, const CollectorOptions& o, std::unique_ptr<store::Store> owned,
        store::Store* shared)
      : options(o),
        settings(collector_settings(o)),
        policy(o.domain, counts),
        sink(o, std::move(owned), shared, counts),
        listener(ex, settings, policy, sink, o.max_sessions, o.max_sessions_per_ip) {}
  CollectorOptions options;
  CollectorCounts counts;
  smtpd::SessionSettings settings;
  CollectorPolicy policy;
  CollectorSink sink;
  smtpd::Listener listener;
};

namespace {

Expected<std::pair<std::string, unsigned short>> parse_listen(const std::string& listen) {
  auto where = mail::parse_addr_port(listen, {.port_zero = true});
  if (!where) return make_error("--listen: " + where.error().message);
  return std::make_pair(where->address.to_string(), static_cast<unsigned short>(*where->port));
}

}  // namespace

Expected<std::unique_ptr<Collector>> Collector::start_impl(asio::any_io_executor executor,
                                                           CollectorOptions options,
                                                           std::unique_ptr<store::Store> owned,
                                                           store::Store* shared) {
  auto where = parse_listen(options.listen);
  if (!where) return where.error();
  if (options.domain.empty()) return make_error("--domain is required");
  if (options.spool_dir.empty()) return make_error("no spool directory for the messages");
  std::error_code ec;
  std::filesystem::create_directories(options.spool_dir, ec);
  if (ec) return make_error("cannot create " + options.spool_dir + ": " + ec.message());
  auto st = std::make_shared<State>(executor, options, std::move(owned), shared);
  if (auto s = st->listener.bind(where->first, where->second); !s) return s.error();
  st->listener.start();
  return std::unique_ptr<Collector>(new Collector(st));
}

Expected<std::unique_ptr<Collector>> Collector::start(asio::any_io_executor executor,
                                                      CollectorOptions options,
                                                      store::Store& store) {
  return start_impl(executor, std::move(options), nullptr, &store);
}

Expected<std::unique_ptr<Collector>> Collector::start(asio::any_io_executor executor,
                                                      CollectorOptions options,
                                                      std::unique_ptr<store::Store> store) {
  return start_impl(executor, std::move(options), std::move(store), nullptr);
}

Collector::Collector(std::shared_ptr<State> state) : state_(std::move(state)) {}
Collector::~Collector() {
  stop();
}

std::string Collector::endpoint() const {
  auto e = state_->listener.endpoints();
  return e.empty() ? std::string() : e.front();
}

const CollectorCounts& Collector::counts() const {
  return state_->counts;
}
std::size_t Collector::active_sessions() const {
  return state_->listener.active();
}

void Collector::stop() {
  state_->listener.stop();
}

}  // namespace relayscope::collect
