// The relay's plug-ins to the shared session: its policy (DNSBL at connect,
// the four rules at RCPT TO), its sink (Received: header, hop limit, spool,
// queue manager) and its authenticator (the users file, argon2id checked on
// a worker thread so the network thread never stalls on it).
#pragma once

#include <memory>
#include <mutex>

#include "server/config.hpp"
#include "server/dnsbl_check.hpp"
#include "server/policy.hpp"
#include "server/queue_manager.hpp"
#include "server/relay_rules.hpp"
#include "server/relay_windows.hpp"
#include "server/spool.hpp"
#include "server/users_file.hpp"
#include "server/worker.hpp"
#include "smtpd/session.hpp"

namespace relayscope::server {

using smtpd::Authenticator;
using smtpd::ClientInfo;
using smtpd::Envelope;
using smtpd::MessageSink;
using smtpd::MessageWriter;
using smtpd::SessionPolicy;
using smtpd::SessionView;

// The session's settings from the relay's configuration.
smtpd::SessionSettings session_settings(const Config& config);
// One listener's: its role (submission asks AUTH before MAIL; submissions
// is TLS from the first byte; neither waits before the greeting) and its
// limits, over the relay's `base` (TLS context, authenticator...).
smtpd::SessionSettings listener_settings(const smtpd::SessionSettings& base,
                                         const ListenerConfig& listener);

class RelaySessionPolicy : public SessionPolicy {
 public:
  // rules: issue 14's known recipients, sender binding and limits
  // (relay_rules.hpp); null: the four rules alone.
  RelaySessionPolicy(const RelayPolicy& policy, DnsblCheck* dnsbl, RelayRules* rules = nullptr)
      : policy_(policy), dnsbl_(dnsbl), rules_(rules) {}
  asio::awaitable<std::optional<smtp::Reply>> check_client(const ClientInfo& client) override;
  std::optional<smtp::Reply> check_sender(const SessionView& s, const smtp::Path& from) override;
  std::optional<smtp::Reply> check_recipient(const SessionView& s, const smtp::Path& rcpt) override;
  // The fifth way to relay (issue 14): on mx listeners only, a client
  // address with an open POP-before-SMTP window; its user (the most
  // recently granted window that names one) becomes SessionView's
  // authorised_user, so a window granted with --user binds senders as AUTH.
  std::optional<smtpd::Authorisation> authorise(const SessionView& s) override;
  // POP-before-SMTP windows ([pop_before_smtp]); null: off.
  void set_windows(RelayWindows* windows) { windows_ = windows; }
  // NOQUEUE: reject: lines (refusal_log.hpp).
  void command_refused(const SessionView& s, const smtpd::CommandRefusal& r) override;

 private:
  const RelayPolicy& policy_;
  DnsblCheck* dnsbl_;
  RelayWindows* windows_ = nullptr;
  RelayRules* rules_;
};

class SpoolSink : public MessageSink {
 public:
  SpoolSink(std::string hostname, Spool& spool, QueueManager& queue)
      : hostname_(std::move(hostname)), spool_(spool), queue_(queue) {}
  // Streams the message into the spool (Received: header first); 250 once
  // it is durable.
  asio::awaitable<std::unique_ptr<MessageWriter>> open(const ClientInfo& client,
                                                       const Envelope& envelope) override;

 private:
  std::string hostname_;
  Spool& spool_;
  QueueManager& queue_;
};

class UsersAuthenticator : public Authenticator {
 public:
  UsersAuthenticator(std::shared_ptr<const UsersFile> users, Worker& worker)
      : users_(std::move(users)), worker_(worker) {}
  asio::awaitable<bool> verify(std::string user, std::string password) override;
  void replace(std::shared_ptr<const UsersFile> users);

 private:
  std::mutex mutex_;
  std::shared_ptr<const UsersFile> users_;
  Worker& worker_;
};

// "Received: from HELO (client [IP]) by HOST (relayscope) with ESMTPSA id ID
// for <rcpt>; date" (RFC 5321 4.4), CRLF-terminated.
std::string received_header(const ClientInfo& client, const Envelope& envelope,
                            const std::string& hostname, const std::string& id);
// How many Received: headers the message's header section holds, counted
// as the message streams past (chunks split anywhere).
class HopCounter {
 public:
  void feed(std::string_view chunk);
  std::size_t count() const { return count_; }

 private:
  std::string prefix_;  // the current line's first bytes, lower case (at most 9)
  std::size_t count_ = 0;
  bool done_ = false;  // past the header section
};
std::size_t count_received(std::string_view message);

}  // namespace relayscope::server
