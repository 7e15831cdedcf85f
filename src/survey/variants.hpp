// The relay test as transactions: the IMC's one (our sender, our recipient)
// and, with --variants all, the spellings that relay testers use (percent
// hack, bang paths, quoted local parts, source routes, address literals,
// sender tricks, and the sixteen of nmap's smtp-open-relay script). Each
// variant is its own transaction with its own token, RSET between them.
#pragma once

#include <asio.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/smtp_client.hpp"
#include "store/store.hpp"
#include "survey/probe.hpp"

namespace relayscope::survey {

struct Transaction {
  std::string name;
  std::string mail_from;  // as sent, with brackets
  std::string rcpt_to;    // as sent, with brackets
  std::string token;
  std::string envelope_from_address;  // bare, for the message's From: header
  std::string envelope_to_address;    // bare, for the message's To: header
  bool fail_auth_first = false;       // send a bogus AUTH before MAIL
};

struct TransactionResult {
  std::string outcome;  // MAIL, TO, DATA, OK
  int code = 0;
  std::string reason;
  bool connection_lost = false;
  // With the RSET in front (reset_first): the RSET got no answer, or 421.
  // Nothing of the transaction was judged: the connection is unusable.
  bool reset_failed = false;
};

// A short word for why a step failed ("rejected (5xx)", "timeout"...), the
// reason of probes and variants, grouped in the reasons table.
std::string reason_of(const client::Step& step);

// The parts a variant's spelling is made of.
struct VariantContext {
  std::string user;         // our recipient's local part, tagged with the token
  std::string domain;       // our recipient's domain (the relay target)
  std::string sender_user;  // our sender's local part, tagged
  std::string sender_domain;
  std::string server_name;  // from the greeting (S)
  std::string ip_literal;   // "[127.0.0.5]" or "[IPv6:::1]"
  std::string host_domain;  // the domain that led us to the host
};

Transaction imc_transaction(const ProbeOptions& options, const ProbeTarget& target,
                            const std::string& token);

// The variants but the IMC's, in the order sent; each is built on its own,
// when it is sent (pure).
std::size_t trick_count();
const char* trick_name(std::size_t index);
Transaction trick_transaction(const VariantContext& context, std::size_t index,
                              const std::string& token);
// All of them, built for one token (for tests).
std::vector<Transaction> trick_transactions(const VariantContext& context,
                                            const std::string& token);

// reset_first: a variant's RSET goes in front, and when the server offers
// PIPELINING (RFC 2920) with no AUTH in the way, RSET, MAIL and RCPT go in
// one write and their replies are read in order: one round trip instead of
// three, and a third of the segments for server and prober. A refused MAIL
// still has its RCPT's reply (503) read, so the replies stay in step.
asio::awaitable<TransactionResult> run_transaction(client::SmtpClient& client,
                                                   const Transaction& tx, bool send_data,
                                                   const ProbeTarget& target,
                                                   const ProbeOptions& options,
                                                   bool reset_first = false);

// Runs every trick after the IMC transaction (RSET before each, pipelined
// with its MAIL and RCPT where the server offers PIPELINING), appending
// to probe.variants. Servers close after so many errors (Postfix: 421 at
// smtpd_hard_error_limit, 20; Exim: smtp_max_synprot_errors, 3) and the
// tricks are nearly thirty refusals in a row: when the server closes the
// connection or answers 421, a new one is opened to probe.ip (same scope,
// timeouts and transcript) as long as the last one made progress (a variant
// answered on it) and options.host_timeout, counted from the probe's start,
// has not passed; a variant cut off is tried once more there. After the
// failed-AUTH variant relayed, the rest go on in a new session, so that a
// failure the server forgot does not make them look relaying. The variants
// are built one at a time as they are sent, each with its own token. Every trick is recorded: those
// never tried with outcome store::variant_not_tried; but a greylist retry
// skips, and leaves out of probe.variants, the tricks in
// target.settled_variants (merge_greylist_retry puts back the first try's
// answers). `client` is replaced on reconnection;
// last.connection_lost says whether the one left is usable.
asio::awaitable<void> run_variants(std::optional<client::SmtpClient>& client,
                                   const net::ScopeGuard& scope, client::Transcript* transcript,
                                   const ProbeOptions& options, const ProbeTarget& target,
                                   store::Probe& probe, TransactionResult& last);

}  // namespace relayscope::survey
