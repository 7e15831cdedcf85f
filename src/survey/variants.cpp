#include "survey/variants.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

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

namespace {

// How likely a server refuses the spelling as a syntax error (501, or 553
// for a malformed path) rather than judging it as a relay attempt. Exim
// counts such errors (smtp_max_synprot_errors, 3) and hangs up: sending
// these last lets the well-formed variants, the failed-AUTH one among
// them, be answered first (issue 12, item 7).
enum Risk { well_formed = 0, unusual_recipient = 1, malformed = 2, literal_sender = 3 };

// A variant as a recipe, so that one is built when it is sent (not the whole
// list for each host, nor kept for the host's whole probe). In the paths, $
// and a letter stand for the context's parts: $T our recipient's local part,
// $D its domain, $d that domain upper-cased, $U our sender's local part, $E
// its domain, $S the server's name, $I its address literal, $H the domain
// that led us to the host.
struct Recipe {
  const char* name;
  const char* from;
  const char* to;
  Risk risk;
  bool fail_auth_first = false;
};

// nmap's senders: the null path, and a sender at the target's domain, at the
// server's name and at its address literal. The order is the order sent: by
// risk (a test checks it).
constexpr Recipe recipes[] = {
    // Sender tricks with the plain recipient.
    {"null-sender", "<>", "<$T@$D>", well_formed},
    {"sender-at-target-domain", "<$U@$H>", "<$T@$D>", well_formed},
    {"sender-at-server-name", "<$U@$S>", "<$T@$D>", well_formed},
    {"sender-localhost", "<$U@localhost>", "<$T@$D>", well_formed},
    {"sender-equals-recipient", "<$T@$D>", "<$T@$D>", well_formed},
    {"upper-case-domain", "<$U@$E>", "<$T@$d>", well_formed},
    // A relay after a failed AUTH: a server that forgets the failure.
    {"after-failed-auth", "<$U@$E>", "<$T@$D>", well_formed, true},
    // Recipient spellings with our own, well-formed sender.
    {"percent-hack-domain", "<$U@$E>", "<$T%$D@$H>", unusual_recipient},
    {"bang-path-domain", "<$U@$E>", "<$D!$T@$H>", unusual_recipient},
    {"quoted-at-domain", "<$U@$E>", "<\"$T@$D\"@$H>", unusual_recipient},
    {"source-route-domain", "<$U@$E>", "<@$H:$T@$D>", unusual_recipient},
    // Paths that many servers refuse as malformed.
    {"unqualified-sender", "<$U>", "<$T@$D>", malformed},
    {"trailing-dot-domain", "<$U@$E>", "<$T@$D.>", malformed},
    {"trailing-at", "<$U@$E>", "<$T@$D@>", malformed},
    // nmap's recipient spellings, all with its sender at the address
    // literal, which Exim refuses with 501 before it looks at them.
    {"sender-at-address-literal", "<$U@$I>", "<$T@$D>", literal_sender},
    {"percent-hack-literal", "<$U@$I>", "<$T%$D@$I>", literal_sender},
    {"percent-hack", "<$U@$I>", "<$T%$D@$S>", literal_sender},
    {"quoted-at", "<$U@$I>", "<\"$T@$D\">", literal_sender},
    {"quoted-percent", "<$U@$I>", "<\"$T%$D\">", literal_sender},
    {"double-at-literal", "<$U@$I>", "<$T@$D@$I>", literal_sender},
    {"quoted-at-literal", "<$U@$I>", "<\"$T@$D\"@$I>", literal_sender},
    {"double-at-server", "<$U@$I>", "<$T@$D@$S>", literal_sender},
    {"source-route-literal", "<$U@$I>", "<@$I:$T@$D>", literal_sender},
    {"source-route", "<$U@$I>", "<@$S:$T@$D>", literal_sender},
    {"bang-path", "<$U@$I>", "<$D!$T>", literal_sender},
    {"bang-path-literal", "<$U@$I>", "<$D!$T@$I>", literal_sender},
    {"bang-path-server", "<$U@$I>", "<$D!$T@$S>", literal_sender},
};

constexpr bool sorted_by_risk() {
  for (std::size_t i = 1; i < std::size(recipes); ++i) {
    if (recipes[i].risk < recipes[i - 1].risk) return false;
  }
  return true;
}
static_assert(sorted_by_risk(), "the variants are sent in order of risk");

std::string expand(const char* recipe, const VariantContext& v) {
  std::string out;
  out.reserve(64);
  for (const char* p = recipe; *p; ++p) {
    if (*p != '$' || !p[1]) {
      out += *p;
      continue;
    }
    switch (*++p) {
      case 'T':
        out += v.user;
        break;
      case 'D':
        out += v.domain;
        break;
      case 'd':
        out += upper(v.domain);
        break;
      case 'U':
        out += v.sender_user;
        break;
      case 'E':
        out += v.sender_domain;
        break;
      case 'S':
        out += v.server_name;
        break;
      case 'I':
        out += v.ip_literal;
        break;
      case 'H':
        out += v.host_domain;
        break;
      default:
        out += '$';
        out += *p;
    }
  }
  return out;
}

}  // namespace

std::size_t trick_count() {
  return std::size(recipes);
}

const char* trick_name(std::size_t index) {
  return recipes[index].name;
}

Transaction trick_transaction(const VariantContext& v, std::size_t index,
                              const std::string& token) {
  const auto& r = recipes[index];
  Transaction t;
  t.name = r.name;
  t.token = token;
  t.mail_from = expand(r.from, v);
  t.rcpt_to = expand(r.to, v);
  t.envelope_from_address = v.sender_user + "@" + v.sender_domain;
  t.envelope_to_address = v.user + "@" + v.domain;
  t.fail_auth_first = r.fail_auth_first;
  return t;
}

std::vector<Transaction> trick_transactions(const VariantContext& v, const std::string& token) {
  std::vector<Transaction> out;
  out.reserve(trick_count());
  for (std::size_t i = 0; i < trick_count(); ++i) out.push_back(trick_transaction(v, i, token));
  return out;
}

namespace {

// The reason of a refusal, by its class: one spelling for reason_of and a
// pipelined MAIL's refusal, kept as its code alone.
const char* refusal_reason(bool transient) {
  return transient ? "rejected (4xx)" : "rejected (5xx)";
}

// The leading RSET got no answer (or 421), or the group could not be
// written: nothing of the variant was judged.
TransactionResult failed_reset() {
  TransactionResult r;
  r.reset_failed = true;
  r.connection_lost = true;
  return r;
}

}  // namespace

std::string reason_of(const client::Step& s) {
  using client::Step;
  switch (s.failure) {
    case Step::Failure::none:
      return "ok";
    case Step::Failure::garbage:
      return "garbage reply";
    case Step::Failure::negative:
      return refusal_reason(s.reply && s.reply->transient());
    case Step::Failure::io:
      return net::to_string(s.io_error);
  }
  return "error";
}

namespace {

TransactionResult result_of(const char* outcome, const client::Step& s) {
  TransactionResult r;
  r.outcome = outcome;
  r.code = s.code();
  r.connection_lost = !s.reply;
  r.reason = reason_of(s);
  return r;
}

// Built outside the coroutine: its fields are not kept in the transaction's
// frame while the probe waits for replies.
std::string message_for(const Transaction& tx, const ProbeTarget& target,
                        const ProbeOptions& options) {
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
  return build_test_message(f);
}

}  // namespace

// The transaction's commands in order; which one a stage sends. The
// grouped stages are RFC 2920's: `group` writes RSET, MAIL and RCPT at
// once, and each of the next three reads one of their replies (`drain` the
// RCPT's reply after a refused MAIL, which decides nothing).
enum class Stage {
  reset,
  auth,
  mail,
  rcpt,
  rset,
  data,
  group,
  group_rset,
  group_mail,
  rcpt_reply,
  drain
};

asio::awaitable<client::Step> send_stage(client::SmtpClient& c, Stage stage, const Transaction& tx,
                                         const std::string& message) {
  switch (stage) {
    case Stage::reset:
    case Stage::rset:
      return c.rset();
    case Stage::group:
      // send_group() copies the lines at the call: the temporaries may go.
      return c.send_group({"RSET", "MAIL FROM:" + tx.mail_from, "RCPT TO:" + tx.rcpt_to});
    case Stage::group_rset:
    case Stage::group_mail:
      return c.reply(250, 250);
    case Stage::rcpt_reply:
    case Stage::drain:
      return c.reply(250, 251);
    case Stage::auth: {
      // The steps keep references to their arguments: these outlive them.
      static const std::string user = "relayscope-no-such-user", password = "wrong-password";
      return c.auth_plain(user, password);
    }
    case Stage::mail:
      return c.mail_from(tx.mail_from);
    case Stage::rcpt:
      return c.rcpt_to(tx.rcpt_to);
    default:
      return c.data(std::string_view(message));
  }
}

// One co_await for all the commands, and one Step: GCC keeps every local of
// a coroutine, and the result of each co_await expression, in a slot of
// its own in the frame for the whole transaction, and tens of thousands
// of transactions wait at once.
asio::awaitable<TransactionResult> run_transaction(client::SmtpClient& c, const Transaction& tx,
                                                   bool send_data, const ProbeTarget& target,
                                                   const ProbeOptions& options, bool reset_first) {
  client::Step s;
  std::string message;  // the test message, while DATA sends it
  int rcpt_code = 0;    // the RCPT's reply code; a refused MAIL's while its RCPT drains
  // Credentials that cannot be right (auth): the test is whether a server
  // forgets the failure and relays anyway.
  Stage stage = tx.fail_auth_first ? Stage::auth : Stage::mail;
  if (reset_first) {
    stage = c.pipelining_offered() && !tx.fail_auth_first ? Stage::group : Stage::reset;
  }
  for (;;) {
    if (stage == Stage::data) message = message_for(tx, target, options);
    s = co_await send_stage(c, stage, tx, message);
    switch (stage) {
      case Stage::reset:
      case Stage::group_rset:
        if (!s.reply || s.code() == 421) co_return failed_reset();
        if (stage == Stage::group_rset) {
          stage = Stage::group_mail;
        } else {
          stage = tx.fail_auth_first ? Stage::auth : Stage::mail;
        }
        break;
      case Stage::group:
        if (!s.ok()) co_return failed_reset();
        stage = Stage::group_rset;
        break;
      case Stage::group_mail:
        if (s.ok()) {
          stage = Stage::rcpt_reply;
          break;
        }
        // A server going away (no reply, 421) answers no more.
        if (!s.reply || s.code() == 421) co_return result_of("MAIL", s);
        rcpt_code = s.code();
        stage = Stage::drain;
        break;
      case Stage::drain:
        // The MAIL's refusal is the outcome, whatever the RCPT got; a
        // connection lost meanwhile shows at the next variant's RSET.
        co_return TransactionResult{"MAIL", rcpt_code, refusal_reason(rcpt_code / 100 == 4), false};
      case Stage::auth:
        if (!s.reply) co_return result_of("MAIL", s);
        stage = Stage::mail;
        break;
      case Stage::mail:
        if (!s.ok()) co_return result_of("MAIL", s);
        stage = Stage::rcpt;
        break;
      case Stage::rcpt:
      case Stage::rcpt_reply:
        if (!s.ok()) co_return result_of("TO", s);
        rcpt_code = s.code();
        stage = send_data ? Stage::data : Stage::rset;
        break;
      case Stage::rset:
        co_return TransactionResult{"OK", rcpt_code, "accepted at RCPT (no data sent)", !s.reply};
      default:
        if (!s.ok()) co_return result_of("DATA", s);
        co_return TransactionResult{"OK", s.code(), "ok", false};
    }
  }
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
  // From the same source address as the first time.
  c.emplace(ex, scope, &options.client, source_for(options, host_id, address), transcript, epoch);
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

// QUIT is awaited in a coroutine of its own, alive only while it waits:
// in run_variants, whose frame lives for all the variants, each awaited
// Step would keep a slot.
asio::awaitable<void> quit_quietly(client::SmtpClient& c) {
  co_await c.quit();
}

}  // namespace

asio::awaitable<void> run_variants(std::optional<client::SmtpClient>& c,
                                   const net::ScopeGuard& scope, client::Transcript* transcript,
                                   const ProbeOptions& options, const ProbeTarget& target,
                                   store::Probe& probe, TransactionResult& last) {
  auto note = [transcript, &c](std::string_view text) {
    if (transcript) transcript->add(c->elapsed_us(), '*', text);
  };
  // Each variant is built when it is sent, from the server's name as the
  // first greeting gave it; what each gave is kept compactly (its index,
  // outcome, code and token) and spelled out into probe.variants at the
  // end: the host's record is not held whole while it is probed.
  const std::string server_name = c->greeting_host();
  auto build = [&](std::size_t index, const std::string& token) {
    return trick_transaction(context_for(options, target, server_name, token), index, token);
  };
  struct Answered {
    std::uint8_t index;
    char outcome[5];  // MAIL, TO, DATA, OK
    int code;
    char token[token_length];
  };
  static_assert(sizeof(Answered) <= 32);
  std::vector<Answered> answered;
  answered.reserve(trick_count());
  const std::size_t count = trick_count();
  const auto deadline = c->epoch() + options.host_timeout;
  bool usable = !cut_off(last);
  bool progress = true;             // the IMC transaction was answered on this connection
  bool fresh = false;               // a new session wanted (after the failed-AUTH variant)
  bool retrying = false;            // the current variant was cut off once already
  std::unique_ptr<Transaction> tx;  // on the heap: the frame keeps a pointer
  std::size_t next = 0;
  std::string gave_up;
  // A greylist retry sends again only what the first try had no final
  // answer to; the record keeps the first try's answers to the others.
  const auto& settled = target.settled_variants;
  auto is_settled = [&settled](std::size_t i) {
    return std::find(settled.begin(), settled.end(), i) != settled.end();
  };
  if (!settled.empty()) {
    note(std::to_string(settled.size()) +
         " variants answered for good on the first try (not 4xx) are not sent again");
  }
  while (next < count) {
    if (!tx && is_settled(next)) {
      ++next;
      continue;
    }
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
      // let through is still matched. Derived from the probe's: a
      // greylisting host's retry sends the first try's addresses again.
      tx = std::make_unique<Transaction>(build(next, variant_token(probe.token, next)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      gave_up = "--host-timeout reached";
      break;
    }
    auto r = co_await run_transaction(*c, *tx, options.send_data, target, options, true);
    if (r.reset_failed) {
      usable = false;
      continue;
    }
    if (cut_off(r)) usable = false;
    if (cut_off(r) && !retrying) {
      retrying = true;
      continue;
    }
    Answered a{static_cast<std::uint8_t>(next), {}, r.code, {}};
    r.outcome.copy(a.outcome, sizeof a.outcome - 1);
    tx->token.copy(a.token, sizeof a.token);
    answered.push_back(a);
    progress = true;
    // A server that relayed after a failed AUTH may keep doing so for the
    // rest of the session: the variants after it get a session of their
    // own, so that each relays (or not) on its own merits.
    if (tx->fail_auth_first && r.outcome == "OK" && usable && next + 1 < count) {
      co_await quit_quietly(*c);
      usable = false;
      fresh = true;
    }
    tx.reset();
    retrying = false;
    ++next;
  }
  if (next < count) {
    std::size_t left = 0;
    for (std::size_t i = next; i < count; ++i) left += is_settled(i) ? 0 : 1;
    note(gave_up + ": " + std::to_string(left) + " variants not tried");
  }
  probe.variants.reserve(probe.variants.size() + count);
  for (const auto& a : answered) {
    std::string token(a.token, sizeof a.token);
    auto t = build(a.index, token);
    probe.variants.push_back({std::move(t.name), std::move(t.mail_from), std::move(t.rcpt_to),
                              std::string(a.outcome, ::strnlen(a.outcome, sizeof a.outcome)),
                              a.code, std::move(token)});
  }
  for (; next < count; ++next) {
    // Nothing was sent: no spelling, no token to match an arrival with.
    if (is_settled(next)) continue;
    probe.variants.push_back({trick_name(next), "", "", store::variant_not_tried, 0, ""});
  }
  last.connection_lost = !usable;
}

}  // namespace relayscope::survey
