#include "survey/variants.hpp"

#include <algorithm>
#include <cctype>

#include "common/ascii.hpp"
#include "survey/test_message.hpp"

namespace relayscope::survey {

namespace {

std::string local_of(const std::string& a) {
  return a.substr(0, a.rfind('@'));
}
std::string domain_of(const std::string& a) {
  auto at = a.rfind('@');
  return at == std::string::npos ? std::string() : a.substr(at + 1);
}

std::string literal_of(const std::string& ip) {
  return ip.find(':') != std::string::npos ? "[IPv6:" + ip + "]" : "[" + ip + "]";
}

using ascii::upper;  // one ASCII case helper (common/ascii.hpp)

VariantContext context_for(const ProbeOptions& options, const ProbeTarget& target,
                           const std::string& server_name, const std::string& token) {
  VariantContext v;
  auto rcpt = tag_address(options.rcpt_to, token);
  auto from = tag_address(options.mail_from, token);
  v.user = local_of(rcpt);
  v.domain = domain_of(rcpt);
  v.sender_user = local_of(from);
  v.sender_domain = domain_of(from);
  v.server_name = server_name.empty() ? literal_of(target.ip) : server_name;
  v.ip_literal = literal_of(target.ip);
  v.host_domain = target.domain.empty() ? v.server_name : target.domain;
  return v;
}

}  // namespace

Transaction imc_transaction(const ProbeOptions& options, const ProbeTarget&,
                            const std::string& token) {
  Transaction t;
  t.name = "imc";
  t.token = token;
  t.envelope_from_address = tag_address(options.mail_from, token);
  t.envelope_to_address = tag_address(options.rcpt_to, token);
  t.mail_from = "<" + t.envelope_from_address + ">";
  t.rcpt_to = "<" + t.envelope_to_address + ">";
  return t;
}

std::vector<Transaction> trick_transactions(const VariantContext& v, const std::string& token) {
  const std::string T = v.user, D = v.domain, S = v.server_name, IP = v.ip_literal;
  const std::string ours = "<" + v.sender_user + "@" + v.sender_domain + ">";
  const std::string plain = "<" + T + "@" + D + ">";
  // nmap's senders: the null path, and a sender at the target's domain, at
  // the server's name and at its address literal.
  const std::string at_domain = "<" + v.sender_user + "@" + v.host_domain + ">";
  const std::string at_server = "<" + v.sender_user + "@" + S + ">";
  const std::string at_literal = "<" + v.sender_user + "@" + IP + ">";
  // How likely a server refuses the spelling as a syntax error (501, or 553
  // for a malformed path) rather than judging it as a relay attempt. Exim
  // counts such errors (smtp_max_synprot_errors, 3) and hangs up: sending
  // these last lets the well-formed variants, the failed-AUTH one among
  // them, be answered first (issue 12, item 7).
  enum Risk { well_formed = 0, unusual_recipient = 1, malformed = 2, literal_sender = 3 };
  struct Entry {
    const char* name;
    std::string from, to;
    Risk risk;
    bool fail_auth_first = false;
  };
  std::vector<Entry> list = {
      // Sender tricks with the plain recipient.
      {"null-sender", "<>", plain, well_formed},
      {"sender-at-target-domain", at_domain, plain, well_formed},
      {"sender-at-server-name", at_server, plain, well_formed},
      {"sender-localhost", "<" + v.sender_user + "@localhost>", plain, well_formed},
      {"sender-equals-recipient", plain, plain, well_formed},
      {"upper-case-domain", ours, "<" + T + "@" + upper(D) + ">", well_formed},
      // A relay after a failed AUTH: a server that forgets the failure.
      {"after-failed-auth", ours, plain, well_formed, true},
      // Recipient spellings with our own, well-formed sender.
      {"percent-hack-domain", ours, "<" + T + "%" + D + "@" + v.host_domain + ">",
       unusual_recipient},
      {"bang-path-domain", ours, "<" + D + "!" + T + "@" + v.host_domain + ">", unusual_recipient},
      {"quoted-at-domain", ours, "<\"" + T + "@" + D + "\"@" + v.host_domain + ">",
       unusual_recipient},
      {"source-route-domain", ours, "<@" + v.host_domain + ":" + T + "@" + D + ">",
       unusual_recipient},
      // Paths that many servers refuse as malformed.
      {"unqualified-sender", "<" + v.sender_user + ">", plain, malformed},
      {"trailing-dot-domain", ours, "<" + T + "@" + D + ".>", malformed},
      {"trailing-at", ours, "<" + T + "@" + D + "@>", malformed},
      // nmap's recipient spellings, all with its sender at the address
      // literal, which Exim refuses with 501 before it looks at them.
      {"sender-at-address-literal", at_literal, plain, literal_sender},
      {"percent-hack-literal", at_literal, "<" + T + "%" + D + "@" + IP + ">", literal_sender},
      {"percent-hack", at_literal, "<" + T + "%" + D + "@" + S + ">", literal_sender},
      {"quoted-at", at_literal, "<\"" + T + "@" + D + "\">", literal_sender},
      {"quoted-percent", at_literal, "<\"" + T + "%" + D + "\">", literal_sender},
      {"double-at-literal", at_literal, "<" + T + "@" + D + "@" + IP + ">", literal_sender},
      {"quoted-at-literal", at_literal, "<\"" + T + "@" + D + "\"@" + IP + ">", literal_sender},
      {"double-at-server", at_literal, "<" + T + "@" + D + "@" + S + ">", literal_sender},
      {"source-route-literal", at_literal, "<@" + IP + ":" + T + "@" + D + ">", literal_sender},
      {"source-route", at_literal, "<@" + S + ":" + T + "@" + D + ">", literal_sender},
      {"bang-path", at_literal, "<" + D + "!" + T + ">", literal_sender},
      {"bang-path-literal", at_literal, "<" + D + "!" + T + "@" + IP + ">", literal_sender},
      {"bang-path-server", at_literal, "<" + D + "!" + T + "@" + S + ">", literal_sender},
  };
  // The order above is the order sent; keep it by risk even if entries move.
  std::stable_sort(list.begin(), list.end(),
                   [](const Entry& a, const Entry& b) { return a.risk < b.risk; });
  std::vector<Transaction> out;
  out.reserve(list.size());
  for (auto& e : list) {
    Transaction t;
    t.name = e.name;
    t.token = token;
    t.mail_from = std::move(e.from);
    t.rcpt_to = std::move(e.to);
    t.envelope_from_address = v.sender_user + "@" + v.sender_domain;
    t.envelope_to_address = T + "@" + D;
    t.fail_auth_first = e.fail_auth_first;
    out.push_back(std::move(t));
  }
  return out;
}

std::string reason_of(const client::Step& s) {
  using client::Step;
  switch (s.failure) {
    case Step::Failure::none:
      return "ok";
    case Step::Failure::garbage:
      return "garbage reply";
    case Step::Failure::negative:
      return s.reply && s.reply->transient() ? "rejected (4xx)" : "rejected (5xx)";
    case Step::Failure::io:
      return net::to_string(s.io_error);
  }
  return "error";
}

asio::awaitable<TransactionResult> run_transaction(client::SmtpClient& c, const Transaction& tx,
                                                   bool send_data, const ProbeTarget& target,
                                                   const ProbeOptions& options) {
  using client::Step;
  auto result_of = [](const char* outcome, const Step& s) {
    TransactionResult r;
    r.outcome = outcome;
    r.code = s.code();
    r.connection_lost = !s.reply;
    r.reason = reason_of(s);
    return r;
  };
  if (tx.fail_auth_first) {
    // Credentials that cannot be right: the test is whether a server
    // forgets the failure and relays anyway.
    auto a = co_await c.auth_plain("relayscope-no-such-user", "wrong-password");
    if (!a.reply) co_return result_of("MAIL", a);
  }
  auto mail = co_await c.mail_from(tx.mail_from);
  if (!mail.ok()) co_return result_of("MAIL", mail);
  auto rcpt = co_await c.rcpt_to(tx.rcpt_to);
  if (!rcpt.ok()) co_return result_of("TO", rcpt);
  if (!send_data) {
    TransactionResult r{"OK", rcpt.code(), "accepted at RCPT (no data sent)", false};
    auto rset = co_await c.rset();
    if (!rset.reply) r.connection_lost = true;
    co_return r;
  }
  TestMessageFields f;
  f.host_ip = target.ip;
  f.host_domain = target.domain;
  f.mx_host = target.mx_host;
  f.mail_from = tx.envelope_from_address;
  f.rcpt_to = tx.envelope_to_address;
  f.token = tx.token;
  f.timestamp = rfc5322_now();
  f.helo_name = options.client.helo_name;
  f.contact = options.contact;
  auto data = co_await c.data(build_test_message(f));
  if (!data.ok()) co_return result_of("DATA", data);
  co_return TransactionResult{"OK", data.code(), "ok", false};
}

namespace {

// The server is gone or going: RFC 5321 4.2.2, 421 closes the channel.
bool cut_off(const TransactionResult& r) {
  return r.connection_lost || r.code == 421;
}

// A new dialogue with the same address up to EHLO. The old connection is
// closed first, so that the address never has two of ours at once.
asio::awaitable<bool> reconnect(std::optional<client::SmtpClient>& c, const net::ScopeGuard& scope,
                                client::Transcript* transcript, const ProbeOptions& options,
                                const std::string& ip, std::int64_t host_id) {
  c->close();
  std::error_code ec;
  auto address = asio::ip::make_address(ip, ec);
  if (ec) co_return false;
  auto ex = co_await asio::this_coro::executor;
  // The probe's clock goes on: the new client counts from the same epoch.
  const auto epoch = c->epoch();
  auto client_options = options.client;
  client_options.local_address = source_for(options, host_id, address);  // as the first time
  c.emplace(ex, scope, std::move(client_options), transcript, epoch);
  auto connected = co_await c->connect({address, options.port});
  if (!connected.ok()) co_return false;
  auto greeting = co_await c->greeting();
  client::Step hello;
  if (greeting.ok()) hello = co_await c->hello();
  bool ready = greeting.ok() && hello.ok();
  const auto& refusal = greeting.ok() ? hello : greeting;
  if (!ready && refusal.reply && refusal.code() != 421) co_await c->quit();
  if (!ready) c->close();
  co_return ready;
}

}  // namespace

asio::awaitable<void> run_variants(std::optional<client::SmtpClient>& c,
                                   const net::ScopeGuard& scope, client::Transcript* transcript,
                                   const ProbeOptions& options, const ProbeTarget& target,
                                   store::Probe& probe, TransactionResult& last) {
  auto note = [transcript, &c](std::string text) {
    if (transcript) transcript->push_back({c->elapsed_us(), '*', std::move(text)});
  };
  // Built once per host with a placeholder token, which each variant's own
  // token replaces (a token is 20 characters of [a-z0-9]; the placeholder,
  // of control characters, cannot occur in what the server named itself).
  const std::string placeholder(20, '\x01');
  const auto names = trick_transactions(
      context_for(options, target, c->greeting_host(), placeholder), placeholder);
  auto with_token = [&placeholder](Transaction t, const std::string& token) {
    for (auto* s :
         {&t.token, &t.mail_from, &t.rcpt_to, &t.envelope_from_address, &t.envelope_to_address}) {
      for (auto at = s->find(placeholder); at != std::string::npos; at = s->find(placeholder, at)) {
        s->replace(at, placeholder.size(), token);
      }
    }
    return t;
  };
  const auto deadline = c->epoch() + options.host_timeout;
  bool usable = !cut_off(last);
  bool progress = true;   // the IMC transaction was answered on this connection
  bool fresh = false;     // a new session wanted (after the failed-AUTH variant)
  bool retrying = false;  // the current variant was cut off once already
  std::optional<Transaction> tx;
  std::size_t next = 0;
  std::string gave_up;
  while (next < names.size()) {
    if (!usable) {
      if (!progress) {
        gave_up = "connection closed before any variant was answered on it";
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        gave_up = "connection closed; --host-timeout reached";
        break;
      }
      progress = false;
      note(fresh ? "a new session for the remaining variants: a failed AUTH must not carry "
                   "over to them"
                 : "connection closed: reconnecting for the remaining variants");
      fresh = false;
      bool ok = co_await reconnect(c, scope, transcript, options, probe.ip, probe.host_id);
      if (!ok) {
        gave_up = "connection closed; reconnection failed";
        break;
      }
      usable = true;
    }
    if (!tx) {
      // Each variant carries a token of its own, in its addresses and
      // message; a retry keeps it, so that anything the cut-off attempt
      // let through is still matched.
      tx = with_token(names[next], new_token());
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      gave_up = "--host-timeout reached";
      break;
    }
    auto rset = co_await c->rset();
    if (!rset.reply || rset.code() == 421) {
      usable = false;
      continue;
    }
    auto r = co_await run_transaction(*c, *tx, options.send_data, target, options);
    if (cut_off(r)) usable = false;
    if (cut_off(r) && !retrying) {
      retrying = true;
      continue;
    }
    probe.variants.push_back({tx->name, tx->mail_from, tx->rcpt_to, r.outcome, r.code, tx->token});
    progress = true;
    // A server that relayed after a failed AUTH may keep doing so for the
    // rest of the session: the variants after it get a session of their
    // own, so that each relays (or not) on its own merits.
    if (tx->fail_auth_first && r.outcome == "OK" && usable && next + 1 < names.size()) {
      co_await c->quit();
      usable = false;
      fresh = true;
    }
    tx.reset();
    retrying = false;
    ++next;
  }
  if (next < names.size())
    note(gave_up + ": " + std::to_string(names.size() - next) + " variants not tried");
  for (; next < names.size(); ++next) {
    // Nothing was sent: no spelling, no token to match an arrival with.
    probe.variants.push_back({names[next].name, "", "", store::variant_not_tried, 0, ""});
  }
  last.connection_lost = !usable;
}

}  // namespace relayscope::survey
