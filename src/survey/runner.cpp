// See runner.hpp.
#include "survey/runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "common/seeded_rng.hpp"
#include "dns/server_spec.hpp"
#include "net/route_check.hpp"
#include "survey/probe_scheduler.hpp"
#include "survey/resolution.hpp"
#include "survey/sample.hpp"
#include "survey/special_purpose.hpp"
#include "survey/targets.hpp"
#include "survey/test_message.hpp"

namespace relayscope::survey {

using json = nlohmann::json;

std::string family_name(const SurveyOptions& o) {
  return o.want_v4 && o.want_v6 ? "both" : o.want_v6 ? "6" : "4";
}

bool set_family(SurveyOptions& o, const std::string& name) {
  if (name != "4" && name != "6" && name != "both") return false;
  o.want_v4 = name != "6";
  o.want_v6 = name != "4";
  return true;
}

std::string options_to_json(const SurveyOptions& o) {
  json j;
  j["family"] = family_name(o);
  j["targets_file"] = o.targets_file;
  j["domains_mode"] = o.domains_mode;
  j["dns_servers"] = o.dns_servers;
  j["sample"] = o.sample;
  j["seed"] = o.seed;
  j["label"] = o.label;
  j["port"] = o.probe.port;
  j["helo"] = o.probe.client.helo_name;
  j["mail_from"] = o.probe.mail_from;
  j["rcpt_to"] = o.probe.rcpt_to;
  j["send_data"] = o.probe.send_data;
  j["mx_fallback"] = o.probe.mx_fallback;
  j["variants_all"] = o.probe.variants_all;
  j["host_timeout_ms"] = o.probe.host_timeout.count();
  j["greylist_retry_ms"] = o.greylist_retry.count();
  j["timeout_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(o.probe.client.command_timeout).count();
  j["concurrency"] = o.concurrency;
  j["rate"] = o.rate;
  j["scope"] = o.scope;
  j["exclude"] = o.exclude;
  j["exclude_files"] = o.exclude_files;
  j["contact"] = o.probe.contact;
  j["dns_timeout_ms"] = o.dns_timeout.count();
  j["dns_tries"] = o.dns_tries;
  return j.dump();
}

Expected<SurveyOptions> options_from_json(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("the run's parameters are unreadable");
  SurveyOptions o;
  try {
    o.targets_file = j.value("targets_file", "");
    o.domains_mode = j.value("domains_mode", false);
    o.dns_servers = j.value("dns_servers", std::vector<std::string>{});
    o.sample = j.value("sample", std::size_t{0});
    o.seed = j.value("seed", std::uint64_t{1});
    o.label = j.value("label", "");
    o.probe.port = j.value("port", std::uint16_t{25});
    o.probe.client.helo_name = j.value("helo", o.probe.client.helo_name);
    o.probe.mail_from = j.value("mail_from", o.probe.mail_from);
    o.probe.rcpt_to = j.value("rcpt_to", o.probe.rcpt_to);
    o.probe.send_data = j.value("send_data", true);
    o.probe.mx_fallback = j.value("mx_fallback", false);
    o.probe.variants_all = j.value("variants_all", false);
    o.probe.host_timeout =
        std::chrono::milliseconds(j.value("host_timeout_ms", std::int64_t{15 * 60 * 1000}));
    // Runs recorded before --greylist-retry existed did not retry.
    o.greylist_retry = std::chrono::milliseconds(j.value("greylist_retry_ms", std::int64_t{0}));
    auto timeout = std::chrono::milliseconds(j.value("timeout_ms", std::int64_t{30000}));
    o.probe.client.connect_timeout = o.probe.client.greeting_timeout =
        o.probe.client.command_timeout = o.probe.client.data_timeout = timeout;
    o.concurrency = j.value("concurrency", std::size_t{100});
    o.rate = j.value("rate", 0.0);
    o.scope = j.value("scope", std::vector<std::string>{});
    o.exclude = j.value("exclude", std::vector<std::string>{});
    o.exclude_files = j.value("exclude_files", std::vector<std::string>{});
    // Runs recorded before --exclude was repeatable kept one file.
    if (auto one = j.value("exclude_file", std::string()); !one.empty()) {
      o.exclude_files.push_back(one);
    }
    o.probe.contact = j.value("contact", "");
    o.dns_timeout = std::chrono::milliseconds(j.value("dns_timeout_ms", std::int64_t{3000}));
    o.dns_tries = j.value("dns_tries", 2);
    if (!set_family(o, j.value("family", "4"))) return make_error("the run's family is unknown");
  } catch (const json::exception& e) {
    return make_error(std::string("the run's parameters are unreadable: ") + e.what());
  }
  return o;
}

namespace {

ProbeTarget to_target(const store::Host& h) {
  ProbeTarget t;
  t.host_id = h.id;
  t.ip = h.ip;
  t.domain = h.domains.empty() ? std::string() : h.domains.front();
  t.mx_host = h.mx_host;
  t.fallback_ips = h.fallback_ips;
  return t;
}

// What preparation left: the sampled hosts, or `stopped` when the run was
// stopped first (nothing is marked prepared then).
struct Prepared {
  std::vector<store::Host> sampled;
  bool stopped = false;
};

// Steps 1-3 for run `run_id`: domains, resolutions and hosts are stored, then
// the run is marked prepared with its funnel. Until that mark, resume
// prepares the run again from its stored parameters.
asio::awaitable<Expected<Prepared>> prepare_run(const SurveyOptions& options,
                                                const Targets& targets,
                                                const net::ScopeGuard& scope, store::Store& store,
                                                std::int64_t run_id, store::Funnel& f,
                                                std::int64_t& no_route, const bool& stop) {
  f = store::Funnel{};
  f.names = targets.names;
  if (options.domains_mode) {
    f.names = static_cast<std::int64_t>(targets.ips.size());
    for (const auto& [d, n] : targets.domains) f.names += n;
  }
  f.lines_without_address = targets.lines_without_address;
  f.unique_domains = static_cast<std::int64_t>(targets.domains.size() + targets.ips.size());

  std::vector<store::Domain> domains;
  for (const auto& [d, n] : targets.domains) domains.push_back({d, n});
  if (auto s = store.add_domains(run_id, domains); !s) co_return s.error();

  ResolutionConfig rc{options.dns_servers,         options.dns_timeout, options.dns_tries,
                      options.resolve_concurrency, options.seed,        options.probe.mx_fallback};
  rc.want_v4 = options.want_v4;
  rc.want_v6 = options.want_v6;
  std::vector<std::vector<std::string>> more_ips;  // the other family's addresses (--family both)
  auto resolved = co_await resolve_domains(domains, rc, scope, stop, &more_ips);
  if (stop) co_return Prepared{{}, true};
  if (!resolved) co_return resolved.error();
  if (auto s = store.add_resolutions(run_id, *resolved); !s) co_return s.error();

  auto hosts = group_into_hosts(*resolved, targets.ips, more_ips);
  // Mail hosts whose address the run may not touch were resolved all the
  // same: they count among the resolved hosts and as excluded, each address
  // once (none of them is among `hosts`).
  std::set<std::string> outside;
  for (const auto& r : *resolved) {
    if (r.status == "out_of_scope" && !r.ip.empty()) outside.insert(r.ip);
  }
  for (const auto& h : hosts) outside.erase(h.ip);  // a target IP of its own: counted below
  f.excluded = static_cast<std::int64_t>(outside.size());
  f.resolved_hosts = static_cast<std::int64_t>(hosts.size() + outside.size());
  // Addresses the run may not touch (excluded, out of scope) drop out here,
  // counted in the funnel before the sample, never probed as CONNECT. They
  // are stored unsampled. With none excluded the sample is as before.
  std::vector<std::size_t> eligible;
  eligible.reserve(hosts.size());
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (!scope.check(hosts[i].ip)) {
      ++f.excluded;
      continue;
    }
    // A family the run does not probe (a target IP given directly), or an
    // IPv6 address this machine has no route to: dropped here with that
    // reason, never a CONNECT outcome.
    const bool v6 = hosts[i].ip.find(':') != std::string::npos;
    if (v6 ? !options.want_v6 : !options.want_v4) {
      ++f.excluded;
      continue;
    }
    if (v6 && !net::has_route(hosts[i].ip)) {
      ++f.excluded;
      ++no_route;
      continue;
    }
    eligible.push_back(i);
  }
  auto chosen = sample_indices(
      eligible.size(), options.sample == 0 ? eligible.size() : options.sample, options.seed);
  for (auto k : chosen) hosts[eligible[k]].sampled = true;
  f.sampled = static_cast<std::int64_t>(chosen.size());
  if (auto s = store.add_hosts(run_id, hosts); !s) co_return s.error();
  if (auto s = store.mark_prepared(run_id, f); !s) co_return s.error();
  std::erase_if(hosts, [](const store::Host& h) { return !h.sampled; });
  co_return Prepared{std::move(hosts), false};
}

Expected<Targets> read_targets(const SurveyOptions& options) {
  return read_targets_file(options.targets_file,
                           options.domains_mode ? TargetFormat::domains : TargetFormat::addresses);
}

// The scope of a run: --scope, less the exclusions (--exclude CIDR or FILE,
// every file read here, before any packet), less the special-purpose ranges
// that no --scope CIDR lies within; the --dns servers are spared from those.
Expected<net::ScopeGuard> make_scope(const SurveyOptions& o) {
  std::vector<std::string> excluded = o.exclude;
  for (const auto& path : o.exclude_files) {
    auto file = net::ScopeGuard::read_exclusion_file(path);
    if (!file) return make_error("--exclude: " + file.error().message);
    for (const auto& b : file->blocks()) excluded.push_back(b.to_string());
  }
  auto scope = CidrSet::parse(o.scope);
  if (!scope) return make_error("--scope: " + scope.error().message);
  std::vector<IpAddress> dns;
  if (auto specs = dns::parse_server_specs(o.dns_servers)) {
    for (const auto& s : *specs) dns.push_back(s.address);
  }
  for (const auto& b : without_addresses(default_exclusions(*scope).blocks(), dns)) {
    excluded.push_back(b.to_string());
  }
  return net::ScopeGuard::from_strings(o.scope, excluded);
}

}  // namespace

Status check_identity(const SurveyOptions& o) {
  auto scope = CidrSet::parse(o.scope);
  if (!scope || !reaches_beyond_special_purpose(*scope)) return Ok{};
  const ProbeOptions defaults;
  const client::ClientOptions client_defaults;
  std::vector<std::string> missing;
  if (o.probe.client.helo_name == client_defaults.helo_name) missing.push_back("--helo");
  if (o.probe.mail_from == defaults.mail_from) missing.push_back("--mail-from");
  if (o.probe.rcpt_to == defaults.rcpt_to) missing.push_back("--rcpt-to");
  if (missing.empty()) return Ok{};
  std::string names;
  for (std::size_t i = 0; i < missing.size(); ++i) {
    names += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + missing[i];
  }
  return make_error(names + (missing.size() == 1 ? " is" : " are") +
                    " required when --scope reaches beyond the special-purpose ranges (the "
                    "real Internet): name this host and a sender and recipient at a domain "
                    "whose mail you receive");
}

Expected<net::ScopeGuard> check_options(const SurveyOptions& o) {
  auto scope = make_scope(o);
  if (!scope) return scope.error();
  if (auto dns = dns::parse_server_specs(o.dns_servers); !dns) {
    return make_error("--dns: " + dns.error().message);
  }
  return scope;
}

asio::awaitable<Expected<SurveySummary>> probe_targets(const SurveyOptions& options,
                                                       store::Store& store, std::int64_t run_id,
                                                       std::vector<ProbeTarget> targets,
                                                       const bool& stop) {
  auto scope = check_options(options);
  if (!scope) co_return scope.error();
  SurveySummary summary;
  summary.run_id = run_id;
  ProbeScheduler scheduler(options, *scope, store, run_id, std::move(targets), stop);
  auto status = co_await scheduler.run(summary);
  if (!status) co_return status.error();
  co_return summary;
}

asio::awaitable<Expected<SurveySummary>> run_survey(SurveyOptions options, store::Store& store,
                                                    std::optional<std::int64_t> resume_run,
                                                    const bool& stop) {
  SurveySummary summary;
  const auto began = std::chrono::steady_clock::now();
  std::vector<store::Host> hosts;
  std::int64_t run_id = 0;
  bool prepared = false;

  if (resume_run) {
    auto run = store.get_run(*resume_run);
    if (!run) co_return run.error();
    if (run->status == "done")
      co_return make_error("run " + std::to_string(*resume_run) + " is already complete");
    auto saved = options_from_json(run->params_json);
    if (!saved) co_return saved.error();
    // The run's own parameters decide what is probed; only how fast and how
    // visibly may change on resume.
    auto concurrency = options.concurrency;
    auto progress = options.progress;
    auto sources = std::move(options.probe.sources);  // the machine's, as --join's
    auto* observer = options.observer;
    auto* prober = options.prober;
    const auto greylist_retry = options.greylist_retry;
    const bool greylist_retry_given = options.greylist_retry_given;
    options = std::move(*saved);
    options.concurrency = concurrency;
    options.progress = progress;
    options.probe.sources = std::move(sources);
    options.observer = observer;
    options.prober = prober;
    if (greylist_retry_given) options.greylist_retry = greylist_retry;
    run_id = run->id;
    summary.funnel = run->funnel;
    prepared = run->prepared;
  }
  summary.run_id = run_id;

  // Everything that can be wrong in the options is found before a run is
  // created, so that a mistyped option leaves no run behind.
  if (!resume_run) {
    if (auto s = check_identity(options); !s) co_return s.error();
  }
  auto scope = check_options(options);
  if (!scope) co_return scope.error();

  if (prepared) {
    auto all = store.get_hosts(run_id, true);
    if (!all) co_return all.error();
    auto done = store.probed_host_ids(run_id);
    if (!done) co_return done.error();
    std::set<std::int64_t> probed(done->begin(), done->end());
    for (auto& h : *all) {
      if (!probed.count(h.id)) hosts.push_back(std::move(h));
    }
  } else {
    // A new run, or one stopped before its hosts were all stored: (re)do
    // the preparation with the run's parameters.
    auto targets = read_targets(options);
    if (!targets) co_return targets.error();
    if (resume_run) {
      if (auto s = store.discard_preparation(run_id); !s) co_return s.error();
    } else {
      store::Run run;
      run.label = options.label;
      run.started_at = iso8601_now();
      run.status = "running";
      run.params_json = options_to_json(options);
      auto id = store.create_run(run);
      if (!id) co_return id.error();
      run_id = summary.run_id = *id;
    }
    auto ready = co_await prepare_run(options, *targets, *scope, store, run_id, summary.funnel,
                                      summary.no_route, stop);
    if (!ready) co_return ready.error();
    if (ready->stopped) {
      summary.interrupted = true;
      summary.preparing_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
      if (auto s = store.finish_run(run_id, "interrupted", ""); !s) co_return s.error();
      co_return summary;
    }
    hosts = std::move(ready->sampled);
    if (options.prepare_only) co_return summary;  // workers probe it (survey --join)
  }

  std::vector<ProbeTarget> targets;
  targets.reserve(hosts.size());
  for (const auto& h : hosts) targets.push_back(to_target(h));
  // Spread the probes over the address space rather than walking it in
  // order, as scanners do, so that no one network sees a burst.
  SeededRng(options.seed, "probe order").shuffle(targets);

  // A probe records whether STARTTLS was offered, not the EHLO list: no
  // probe in flight keeps it.
  options.probe.client.keep_ehlo_info = false;
  const auto probing_began = std::chrono::steady_clock::now();
  Status status = Ok{};
  if (options.prober) {
    status =
        co_await options.prober->probe(options, store, run_id, std::move(targets), summary, stop);
  } else {
    ProbeScheduler scheduler(options, *scope, store, run_id, std::move(targets), stop);
    status = co_await scheduler.run(summary);
  }
  if (!status) co_return status.error();
  using seconds = std::chrono::duration<double>;
  summary.preparing_seconds = seconds(probing_began - began).count();
  summary.probing_seconds = seconds(std::chrono::steady_clock::now() - probing_began).count();
  // Done only once every sampled host has its probe recorded.
  if (auto s = store.finish_run(run_id, summary.interrupted ? "interrupted" : "done",
                                summary.interrupted ? "" : iso8601_now());
      !s) {
    co_return s.error();
  }
  co_return summary;
}

}  // namespace relayscope::survey
