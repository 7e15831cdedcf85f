// The RFC 5321 path grammar (section 4.1.2): reverse-path and forward-path
// with dot-string and quoted local parts, domains, IPv4 and IPv6 address
// literals, source routes, and the null path "<>". Pure. Also formats paths
// back to the wire, quoting where the grammar requires.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::smtp {

// A domain or an address literal, as written.
struct Host {
  enum class Kind { domain, ipv4_literal, ipv6_literal, general_literal };
  Kind kind = Kind::domain;
  std::string text;  // domain: as written; literal: the address without [] and without "IPv6:"
  bool is_literal() const { return kind != Kind::domain; }
  std::string wire() const;  // "example.test", "[192.0.2.1]", "[IPv6:2001:db8::1]"
};

struct Mailbox {
  std::string local_part;  // unquoted value (quotes and backslash escapes removed)
  bool local_part_was_quoted = false;
  Host host;
  std::string wire() const;  // local part quoted if it is not a dot-string
};

struct Path {
  bool null = false;                      // "<>"
  std::vector<std::string> source_route;  // "@a,@b:" hosts, obsolete but parsed
  Mailbox mailbox;
  std::string wire() const;  // "<...>"
};

enum class PathKind { reverse, forward };

struct PathLimits {
  std::size_t max_local_part = 64;  // RFC 5321 4.5.3.1.1
  std::size_t max_domain = 255;     // 4.5.3.1.2
  std::size_t max_path = 256;       // 4.5.3.1.3
};

// Parses a path including its angle brackets ("<a@b>", "<>"). Strict by
// default (RFC 5321 exactly; 8-bit bytes are refused). `lenient` also accepts
// what old clients send and old MTAs took: a bare address without brackets,
// a trailing dot on a domain ("a@example.test."), and address literals as
// source-route hops ("<@[192.0.2.1]:a@b>"). The server may allow it, the
// prober never sends it. A forward path may be "<Postmaster>" (any case,
// RFC 5321 4.1.1.3): its mailbox then has an empty domain.
// Limits count the text as written: max_path includes the brackets.
Expected<Path> parse_path(std::string_view text, PathKind kind, bool lenient = false,
                          PathLimits limits = {});

// Parses a host part on its own: a Domain or an address literal in brackets
// ("example.test", "[192.0.2.1]", "[IPv6:::1]", "[tag:content]"). `lenient`
// allows a trailing dot on a domain.
Expected<Host> parse_host(std::string_view text, bool lenient = false, PathLimits limits = {});

// Parses "local@domain" without brackets (an address from a targets file or a
// command-line option).
Expected<Mailbox> parse_mailbox(std::string_view text, PathLimits limits = {});

bool is_dot_string(std::string_view local_part);

}  // namespace relayscope::smtp
