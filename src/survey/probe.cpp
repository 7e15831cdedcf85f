// See probe.hpp. The outcome names follow the IMC's report: CONNECT covers
// both a failed connection and a missing or refusing greeting.
#include "survey/probe.hpp"

#include <chrono>
#include <memory>

#include "survey/test_message.hpp"
#include "survey/variants.hpp"

namespace relayscope::survey {

namespace {

using client::Step;

void fail(store::Probe& p, const char* outcome, const Step& s, std::string reason = {}) {
  p.outcome = outcome;
  p.code = s.code();
  p.reason = reason.empty() ? reason_of(s) : std::move(reason);
}

store::TranscriptLine to_store(const client::TranscriptEntry& e) {
  return {e.t_us, e.direction, std::string(e.text)};
}

// Ends the dialogue politely after a refusal; its result changes nothing.
// Quits are awaited in small coroutines of their own, alive only while
// quitting: in probe_host each awaited Step would be a slot of its frame.
asio::awaitable<void> polite_quit(client::SmtpClient& c) {
  co_await c.quit();
}

// The last QUIT: a refusal of it fails a probe that had relayed.
asio::awaitable<void> final_quit(client::SmtpClient& c, store::Probe& p) {
  auto quit = co_await c.quit();
  if (!quit.ok() && p.outcome == "OK") fail(p, "QUIT", quit);
}

// The greeting (k 0), then EHLO/HELO (k 1): awaited at one site.
asio::awaitable<Step> opening(client::SmtpClient& c, int k) {
  if (k == 0) return c.greeting();
  return c.hello();
}

std::string greeting_refusal(const Step& greeting) {
  if (greeting.failure == Step::Failure::negative) {
    return greeting.reply->transient() ? "greeting rejected (4xx)" : "greeting rejected (5xx)";
  }
  if (greeting.failure == Step::Failure::io) {
    return std::string("no greeting: ") + net::to_string(greeting.io_error);
  }
  return {};
}

}  // namespace

std::optional<asio::ip::address> source_for(const ProbeOptions& options, std::int64_t host_id,
                                            const asio::ip::address& peer) {
  std::size_t n = 0;
  for (const auto& s : options.sources) n += s.is_v6() == peer.is_v6() ? 1 : 0;
  if (n == 0) {
    const auto& local = options.client.local_address;
    if (local && local->is_v6() == peer.is_v6()) return local;
    return std::nullopt;
  }
  auto k = static_cast<std::size_t>(host_id < 0 ? -host_id : host_id) % n;
  for (const auto& s : options.sources) {
    if (s.is_v6() != peer.is_v6()) continue;
    if (k-- == 0) return s;
  }
  return std::nullopt;
}

// The probe as a heap record, filled as it goes: a coroutine's locals (and
// the result it returns) live in its frame for the whole probe, so the frame
// holds a pointer and one Step for every step, not a record and a Step each.
asio::awaitable<std::unique_ptr<store::Probe>> probe_host(const ProbeTarget& target,
                                                          const ProbeOptions& options,
                                                          const net::ScopeGuard& scope,
                                                          FallbackGate may_try_fallback,
                                                          bool* local_failure) {
  auto started = std::chrono::steady_clock::now();
  auto probe = std::make_unique<store::Probe>();
  store::Probe& p = *probe;
  p.host_id = target.host_id;
  p.ip = target.ip;
  p.domain = target.domain;
  p.started_at = iso8601_now();
  p.token = target.token.empty() ? new_token() : target.token;
  client::Transcript transcript;
  auto ex = co_await asio::this_coro::executor;

  auto elapsed_us = [&started]() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 started)
        .count();
  };
  auto finish = [&]() {
    p.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    p.transcript.reserve(transcript.size());
    for (const auto& e : transcript) p.transcript.push_back(to_store(e));
  };

  // CONNECT, with the optional fallback to higher-numbered MX hosts.
  const std::size_t tries = 1 + (options.mx_fallback ? target.fallback_ips.size() : 0);
  std::optional<client::SmtpClient> c;
  Step s;
  for (std::size_t k = 0; k < tries; ++k) {
    const std::string& ip = k == 0 ? target.ip : target.fallback_ips[k - 1];
    if (k > 0 && may_try_fallback && !may_try_fallback(ip)) {
      transcript.add(elapsed_us(), '*', "fallback " + ip + " skipped: another probe is using it");
      continue;
    }
    std::error_code ec;
    auto address = asio::ip::make_address(ip, ec);
    if (ec) {
      transcript.add(elapsed_us(), '*', "not an IP address: " + ip);
      continue;
    }
    // The run's client options are shared by every probe, not copied.
    c.emplace(ex, scope, &options.client, source_for(options, target.host_id, address), &transcript,
              started);
    s = co_await c->connect({address, options.port});
    if (s.ok()) {
      p.ip = ip;
      break;
    }
    if (s.failure == Step::Failure::io && s.io_error == net::IoError::local) {
      // Our shortage, not the host's answer: nothing about the host is known.
      if (local_failure) *local_failure = true;
      fail(p, "CONNECT", s);
      finish();
      co_return probe;
    }
  }
  if (!s.ok() || !c) {
    fail(p, "CONNECT", s, c ? std::string() : "no address to connect to");
    finish();
    co_return probe;
  }

  for (int k = 0; k < 2; ++k) {
    s = co_await opening(*c, k);
    if (k == 0) {
      p.greeting_host = c->greeting_host();
    } else {
      p.esmtp = c->esmtp();
      p.starttls_offered = c->starttls_offered();
    }
    if (!s.ok()) {
      if (k == 0) {
        fail(p, "CONNECT", s, greeting_refusal(s));
      } else {
        fail(p, "EHLO", s);
      }
      if (s.reply) co_await polite_quit(*c);
      finish();
      co_return probe;
    }
  }

  // On the heap, and gone before the variants: the frame keeps a pointer.
  auto imc = std::make_unique<Transaction>(imc_transaction(options, target, p.token));
  auto result = co_await run_transaction(*c, *imc, options.send_data, target, options);
  p.outcome = result.outcome;
  p.code = result.code;
  p.reason = result.reason;
  if (options.variants_all) {
    p.variants.push_back(
        {imc->name, imc->mail_from, imc->rcpt_to, result.outcome, result.code, p.token});
    imc.reset();
    co_await run_variants(c, scope, &transcript, options, target, p, result);
  }
  imc.reset();
  if (result.connection_lost) {
    finish();
    co_return probe;
  }

  co_await final_quit(*c, p);
  finish();
  co_return probe;
}

asio::awaitable<store::Probe> run_probe(const ProbeTarget& target, const ProbeOptions& options,
                                        const net::ScopeGuard& scope, FallbackGate may_try_fallback,
                                        bool* local_failure) {
  auto p = co_await probe_host(target, options, scope, std::move(may_try_fallback), local_failure);
  co_return std::move(*p);
}

}  // namespace relayscope::survey
