// The relay's configuration (DESIGN.md "Contract: the relay's configuration"):
// a TOML file read with toml++ into plain values. Every key is checked (an
// unknown key is an error, so a typo never silently weakens the policy) and
// the first error is named as "FILE:LINE: what is wrong".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/cidr.hpp"
#include "common/expected.hpp"
#include "smtpd/listener_role.hpp"

namespace relayscope::server {

using Millis = std::chrono::milliseconds;

struct ListenAddress {
  std::string address;  // IP literal, without brackets
  unsigned short port = 0;
  std::string to_string() const;  // "127.0.0.1:25", "[::1]:25"
};

struct Limits {
  std::size_t max_message_size = 25 * 1024 * 1024;  // octets, enforced while reading DATA
  std::size_t max_recipients = 100;                 // per message (then 452)
  int max_errors = 20;                              // per session (then 421 and close), as Postfix
  std::size_t max_connections = 10000;              // in all
  std::size_t max_connections_per_ip = 20;
  std::size_t max_line_length = 2048;  // command lines; RFC 5321 says 512, clients exceed it
  int max_auth_failures = 3;           // per session (then 421 and close)
};

struct Timeouts {
  Millis command{std::chrono::minutes(5)};  // waiting for a command inside a transaction
  Millis idle{std::chrono::minutes(5)};     // waiting for a command outside a transaction
  Millis data{std::chrono::minutes(10)};    // waiting for each block of DATA
  Millis greet_pause{std::chrono::milliseconds(300)};  // a client talking in it is refused
};

struct DeliveryConfig {
  std::optional<ListenAddress> smarthost;  // all non-local mail goes there when set
  std::vector<std::string> dns;            // "HOST:PORT": MX lookups when no smarthost
  std::vector<Millis> retry{std::chrono::minutes(1), std::chrono::minutes(5),
                            std::chrono::minutes(30), std::chrono::hours(2)};  // last repeats
  Millis max_queue_time{std::chrono::hours(24 * 5)};
  std::vector<std::string> scope;  // CIDRs outbound delivery may reach; empty = any
  unsigned short port = 25;        // port of MX hosts (tests use another)
  std::size_t concurrency = 20;    // deliveries in flight at once
  Millis connect_timeout{std::chrono::seconds(30)};
};

// Issue 14: listener roles (RFC 6409 submission, RFC 8314 implicit TLS),
// the session's own type.
using smtpd::ListenerRole;
using smtpd::to_string;

struct ListenerConfig {
  ListenAddress address;
  ListenerRole role = ListenerRole::mx;
  bool proxy_protocol = false;  // a PROXY v1/v2 header first, from trusted_proxies only
  CidrSet trusted_proxies;
  std::size_t max_message_size = 0;  // from [limits] unless the listener sets it
  std::size_t max_recipients = 0;
};

struct RateLimitConfig {  // [rate_limits]; 0 = no limit; per rolling hour
  std::uint64_t messages_per_hour_per_user = 0;
  std::uint64_t recipients_per_hour_per_user = 0;
  std::uint64_t messages_per_hour_per_client = 0;
  std::uint64_t recipients_per_hour_per_client = 0;
};

struct PopBeforeSmtpConfig {     // [pop_before_smtp]
  std::optional<Millis> window;  // absent: off
  std::string dir;               // default <spool>/windows
  bool enabled() const { return window.has_value(); }
};

struct Config {
  std::string path;  // the file this came from

  // [server]
  std::vector<ListenAddress> listen;
  std::string hostname;
  std::string user;     // drop to this user after binding, when started as root
  std::string pidfile;  // default: <spool>/relayscope.pid

  // [policy]
  CidrSet local_networks;
  std::vector<std::string> local_domains;  // lower case, no trailing dot

  // [mailboxes]
  std::string mailbox_root;

  // [spool]
  std::string spool_dir;
  bool spool_fsync = true;  // off only for throwaway test setups

  DeliveryConfig delivery;
  Limits limits;
  Timeouts timeouts;

  // [tls]
  std::string tls_cert;
  std::string tls_key;
  bool tls() const { return !tls_cert.empty(); }

  // [auth]
  std::string users_file;
  Millis auth_failure_delay{std::chrono::seconds(1)};  // doubled per failure

  // [dnsbl]
  std::vector<std::string> dnsbl_zones;
  std::vector<std::string> dnsbl_dns;
  Millis dnsbl_timeout{std::chrono::seconds(2)};

  // [log]
  std::string log_level = "info";
  std::string log_to = "stderr";  // "stderr" | "file" | "syslog"
  std::string log_file;           // with log_to "file"

  // Where each key stood in the file ("server.listen" -> line, and
  // "server.listen[1]" for an element), so that later checks (check-config,
  // reload) name the line too.
  std::map<std::string, std::size_t> lines;
  // The line of `key`, else of its section, else 1.
  std::size_t line_of(const std::string& key) const;

  // Issue 14. `listeners` holds every listener: [server] listen (role mx)
  // first, then each [[listener]]; `listen` above keeps only the mx ones.
  std::vector<ListenerConfig> listeners;
  // [aliases]: lower-cased key ("postmaster", "a@d", "@d") -> user names or
  // addresses (lower case); see server/recipients.hpp.
  std::map<std::string, std::vector<std::string>> aliases;
  // [senders]: user name -> extra addresses or "@domain"; see sender_binding.hpp.
  std::map<std::string, std::vector<std::string>> senders;
  RateLimitConfig rate_limits;
  PopBeforeSmtpConfig pop_before_smtp;
};

// What `relayscope relay-window` needs, read from [spool] and
// [pop_before_smtp] only: the rest of the file is not looked at (it may name
// files the caller cannot read, or keys of a newer version).
struct WindowSettings {
  std::string dir;               // [pop_before_smtp] dir, default <spool>/windows
  std::optional<Millis> window;  // absent: POP-before-SMTP is off
};
Expected<WindowSettings> load_window_settings(const std::string& path);
Expected<WindowSettings> parse_window_settings(const std::string& text, const std::string& path);

// Reads and checks the file. Relative paths in it are taken relative to the
// file's directory. The error is one line: "FILE:LINE: what is wrong".
Expected<Config> load_config(const std::string& path);
// Same, from text (for tests); `path` names the source in errors.
Expected<Config> parse_config(const std::string& text, const std::string& path);

// "90s", "5m", "2h", "1d", "250ms", or a bare number of seconds.
Expected<Millis> parse_duration(const std::string& text);
// "ADDR:PORT" / "[V6]:PORT" with an IP literal.
Expected<ListenAddress> parse_listen_address(const std::string& text);

}  // namespace relayscope::server
