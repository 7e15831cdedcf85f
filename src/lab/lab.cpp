// See lab.hpp. Start-up order: profile, plan, open-files check, zone, DNS
// server, host sockets (bound, not yet accepting), outbox, then accepting;
// so no session can see a half-built lab even if the executor runs on
// another thread.
#include "lab/lab.hpp"

#include <mutex>

#include "lab/dns_server.hpp"
#include "lab/listeners.hpp"
#include "lab/names.hpp"
#include "lab/outbox.hpp"
#include "lab/tls_context.hpp"
#include "lab/truth.hpp"
#include "lab/zone.hpp"
#include "mail/addr_port.hpp"

namespace relayscope::lab {

struct LabState {
  asio::any_io_executor executor;
  LabOptions options;
  Profile profile;
  std::shared_ptr<const LabPlan> plan;
  std::shared_ptr<SharedZone> zone;
  std::shared_ptr<DnsServer> dns;
  std::shared_ptr<Ledger> ledger;
  std::shared_ptr<Outbox> outbox;
  std::shared_ptr<SessionHub> hub;
  std::shared_ptr<Listeners> listeners;
  std::string dns_endpoint;
  std::uint16_t port = 0;
  std::uint16_t relay_port = 0;
  std::uint64_t sessions_fitted_under = 0;  // the open-files limit, when fitted
  bool stopped = false;
};

Expected<std::pair<asio::ip::address, std::uint16_t>> parse_loopback_endpoint(
    const std::string& text) {
  auto a = mail::parse_addr_port(text, {.port_zero = true});
  if (!a) return make_error("--dns: " + a.error().message);
  auto host = a->address.to_string();
  std::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return make_error("--dns: '" + host + "' is not an IP address");
  if (!address.is_loopback()) {
    return make_error("--dns: the lab serves loopback only; " + host +
                      " is not a loopback address");
  }
  return std::pair{address, *a->port};
}

Lab::Lab(std::shared_ptr<LabState> state) : state_(std::move(state)) {}

Lab::~Lab() {
  // Sockets must close on the executor's thread; if the context still runs
  // elsewhere the owner should have called stop() there first.
  if (state_ && !state_->stopped) stop();
}

Expected<std::unique_ptr<Lab>> Lab::start(asio::any_io_executor executor, LabOptions options) {
  auto st = std::make_shared<LabState>();
  st->executor = executor;
  auto profile = find_profile(options.profile, profile_search_path(options.profiles_dir));
  if (!profile) return profile.error();
  st->profile = std::move(*profile);

  auto listen = parse_loopback_endpoint(options.dns);
  if (!listen) return listen.error();
  auto first = parse_loopback_ipv4(options.first_address);
  if (!first) return make_error("--first-address: " + first.error().message);

  PlanOptions po;
  po.domains = options.domains;
  po.seed = options.seed;
  po.first_address = *first;
  auto plan = make_plan(st->profile, po);
  if (!plan) return plan.error();
  auto planned = std::make_shared<LabPlan>(std::move(*plan));
  if (options.delay_ms) planned->delays.reply_ms = std::max(0, *options.delay_ms);
  if (options.greeting_delay_ms)
    planned->delays.greeting_ms = std::max(0, *options.greeting_delay_ms);
  st->plan = planned;

  // One descriptor per listening host, plus sessions, outbound deliveries
  // and the odd file: check before binding thousands of sockets.
  const std::uint64_t limit = raise_open_files_limit();
  if (options.shard_count == 0 || options.shard_index >= options.shard_count) {
    return make_error("--shard: the index must be below the count");
  }
  const std::uint64_t listeners = st->plan->listener_count() / options.shard_count + 1;
  constexpr std::uint64_t reserve = 64;
  constexpr std::uint64_t outbound = 256;
  constexpr std::uint64_t min_sessions = 16;
  if (listeners + reserve + outbound + min_sessions > limit) {
    return make_error("the lab needs " + std::to_string(listeners) +
                      " listening sockets plus about " +
                      std::to_string(reserve + outbound + min_sessions) +
                      " more descriptors, but the open-files limit is " + std::to_string(limit) +
                      " (hard limit reached): use fewer --domains or raise `ulimit -Hn`");
  }
  std::size_t max_sessions = options.max_sessions;
  if (max_sessions == 0) {
    max_sessions = static_cast<std::size_t>(
        std::min<std::uint64_t>(8192, limit - listeners - reserve - outbound));
    st->sessions_fitted_under = limit;
  }

  st->zone = std::make_shared<SharedZone>();
  st->zone->zone = build_zone(*st->plan, listen->first.to_string());
  for (const auto& extra : options.zone_extra) {
    if (auto ok = st->zone->zone.add_text(extra); !ok)
      return make_error("--zone-extra: " + ok.error().message);
  }

  DnsServerOptions dso;
  dso.address = listen->first;
  dso.port = listen->second;
  auto dns = DnsServer::start(executor, st->zone, dso);
  if (!dns) return dns.error();
  st->dns = std::move(*dns);
  auto ep = st->dns->endpoint();
  st->dns_endpoint =
      (ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) +
      ":" + std::to_string(ep.port());

  auto started = std::chrono::steady_clock::now();
  st->ledger = std::make_shared<Ledger>();
  st->hub = std::make_shared<SessionHub>();
  st->hub->plan = st->plan;
  st->hub->ledger = st->ledger;
  st->hub->limits = options.limits;
  st->hub->delays = st->plan->delays;
  st->hub->timing = st->plan->timing;
  st->hub->started = started;
  bool tls_needed = false;
  for (const auto& h : st->plan->hosts)
    tls_needed = tls_needed || h.behaviour == Behaviour::starttls;
  if (tls_needed) {
    auto tls = make_self_signed_context("relayscope-lab.test");
    if (!tls) {
      st->dns->stop();
      return tls.error();
    }
    st->hub->tls = std::move(*tls);
  }

  auto hosts = Listeners::start(executor, st->hub, options.port, max_sessions, options.shard_index,
                                options.shard_count);
  if (!hosts) {
    st->dns->stop();
    return hosts.error();
  }
  st->listeners = std::move(*hosts);
  st->port = st->listeners->port() ? st->listeners->port() : options.port;
  st->relay_port = options.relay_port.value_or(st->port);

  OutboxOptions oo;
  oo.dns_server = st->dns_endpoint;
  oo.port = st->relay_port;
  oo.timeout = options.delivery_timeout;
  oo.seed = options.seed;
  st->outbox = std::make_shared<Outbox>(executor, st->plan, st->ledger, oo, started);
  st->hub->send_out = [outbox = st->outbox](OutboundJob job) { outbox->submit(std::move(job)); };
  st->options = std::move(options);
  st->listeners->begin();
  return std::unique_ptr<Lab>(new Lab(std::move(st)));
}

const Profile& Lab::profile() const {
  return state_->profile;
}
const LabPlan& Lab::plan() const {
  return *state_->plan;
}
std::string Lab::dns_endpoint() const {
  return state_->dns_endpoint;
}
std::uint16_t Lab::port() const {
  return state_->port;
}
std::size_t Lab::host_count() const {
  return state_->plan->hosts.size();
}
std::size_t Lab::listening_count() const {
  return state_->listeners->listening();
}
std::size_t Lab::max_sessions() const {
  return state_->listeners->max_sessions();
}
std::uint64_t Lab::sessions_fitted_under() const {
  return state_->sessions_fitted_under;
}

Status Lab::add_record(const std::string& text) {
  std::lock_guard lock(state_->zone->mutex);
  return state_->zone->zone.add_text(text);
}

Status Lab::write_names(const std::string& path) const {
  return write_names_file(*state_->plan, path);
}

std::string Lab::truth_json() const {
  TruthHeader h{state_->profile.name, state_->plan->seed, state_->dns_endpoint, state_->port,
                state_->relay_port};
  return lab::truth_json(h, *state_->plan, state_->ledger->snapshot(), state_->ledger->totals());
}

Status Lab::write_truth(const std::string& path) const {
  return write_file_atomically(path, truth_json());
}

LedgerTotals Lab::totals() const {
  return state_->ledger->totals();
}

std::size_t Lab::pending_deliveries() const {
  return state_->outbox->pending();
}

void Lab::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  state_->dns->stop();
  state_->listeners->stop();
  state_->hub->stop_all();
  state_->outbox->stop();
}

}  // namespace relayscope::lab
