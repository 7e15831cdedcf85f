// See targets.hpp. An address line may be a bare address, "Name <a@b>", or a
// mail header (From:, To:, Cc:, also continuation lines) holding a list of
// addresses; other header fields are ignored, not counted as junk, and so are
// the bodies of an mbox's messages.
#include "survey/targets.hpp"

#include <idn2.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>

#include "common/cidr.hpp"

namespace relayscope::survey {

namespace {

constexpr std::size_t max_rejected_kept = 20;
constexpr std::size_t max_line = 64 * 1024;

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

bool is_address_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~.@[]:").find(c) != std::string_view::npos;
}

// Every "x@y" token of a line (after removing quotes of display names).
std::vector<std::string> addresses_in(std::string_view line) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = line.find('@', at)) != std::string_view::npos) {
    std::size_t b = at;
    while (b > 0 && is_address_char(line[b - 1]) && line[b - 1] != '@') --b;
    std::size_t e = at + 1;
    while (e < line.size() && is_address_char(line[e]) && line[e] != '@') ++e;
    if (b < at && e > at + 1) out.emplace_back(line.substr(b, e - b));
    at = e;
  }
  return out;
}

// A header field's name, lower-cased, when the line starts one ("Subject:"):
// letters, digits and hyphens up to a colon (RFC 5322's ftext, narrowed to
// what real field names use so that an address line never looks like one).
std::optional<std::string> header_field_name(std::string_view line) {
  auto colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
  std::string name;
  for (char c : line.substr(0, colon)) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-') return std::nullopt;
    name.push_back(static_cast<char>(std::tolower(u)));
  }
  return name;
}

// std::getline without its unbounded buffer: a line longer than max_line is
// read to its end but only its first max_line bytes are kept, and it is
// flagged, so that an endless line costs no memory.
bool read_bounded_line(std::istream& in, std::string& line, bool& overlong) {
  line.clear();
  overlong = false;
  auto* buf = in.rdbuf();
  if (buf == nullptr || !in.good()) return false;
  bool any = false;
  for (;;) {
    int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return any;
    }
    any = true;
    if (c == '\n') return true;
    if (line.size() < max_line) {
      line.push_back(static_cast<char>(c));
    } else {
      overlong = true;
    }
  }
}
// A host given by address: bare ("2001:db8::25", "192.0.2.1"), in brackets
// as in URLs ("[2001:db8::25]") or as an RFC 5321 address literal
// ("[IPv6:2001:db8::25]", "[192.0.2.1]"). No port: one --port serves a run.
std::optional<IpAddress> address_target(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
    if (text.size() > 5 && (text.substr(0, 5) == "IPv6:" || text.substr(0, 5) == "ipv6:")) {
      auto ip = IpAddress::parse(text.substr(5));
      if (ip && ip->is_v4) return std::nullopt;
      return ip;
    }
  }
  return IpAddress::parse(text);
}

}  // namespace

Expected<std::string> normalise_domain(std::string_view domain) {
  std::string d = trim(domain);
  while (!d.empty() && (d.back() == '.' || d.back() == '>' || d.back() == ',' || d.back() == ';' ||
                        d.back() == ':' || d.back() == ')')) {
    d.pop_back();
  }
  if (d.empty()) return make_error("empty domain");
  if (d.size() > 253) return make_error("domain too long");
  // An address literal is a host, not a domain.
  if (d.front() == '[') return make_error("address literal, not a domain: " + d);
  char* ascii = nullptr;
  int rc = idn2_to_ascii_8z(d.c_str(), &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    // IDNA2008 refuses some names that DNS holds (underscores, uppercase
    // handled above); fall back to a plain LDH check for pure ASCII.
    bool ascii_ldh = std::all_of(d.begin(), d.end(), [](char c) {
      auto u = static_cast<unsigned char>(c);
      return std::isalnum(u) || c == '-' || c == '.' || c == '_';
    });
    if (!ascii_ldh) return make_error(std::string("not a valid domain: ") + idn2_strerror(rc));
  } else {
    d = ascii;
    idn2_free(ascii);
  }
  std::transform(d.begin(), d.end(), d.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (d.find("..") != std::string::npos || d.front() == '.' || d.find('.') == std::string::npos) {
    return make_error("not a fully qualified domain: " + d);
  }
  return d;
}

std::optional<std::string> domain_of_address(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= address.size()) return std::nullopt;
  auto d = normalise_domain(address.substr(at + 1));
  if (!d) return std::nullopt;
  return *d;
}

Targets read_targets(std::istream& in, TargetFormat format) {
  Targets t;
  std::string line;
  bool overlong = false;
  // An mbox is recognised by its "From " separator lines. Within it only the
  // header block of each message is read: a body line that mentions an
  // address ("write to me at x@y") is not a subscriber.
  enum class Part { list, mbox_headers, mbox_body } part = Part::list;
  bool in_address_field = false;  // inside a From:/To:/Cc: field (continuation lines)
  auto reject = [&t](std::string_view l) {
    ++t.lines_without_address;
    if (t.rejected.size() < max_rejected_kept) t.rejected.emplace_back(l.substr(0, 200));
  };
  while (read_bounded_line(in, line, overlong)) {
    if (format == TargetFormat::addresses && line.starts_with("From ")) {
      part = Part::mbox_headers;
      in_address_field = false;
      continue;
    }
    if (part == Part::mbox_body) continue;
    if (overlong) {
      reject(line);
      continue;
    }
    bool continuation = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    std::string text = trim(line);
    if (text.empty()) {
      in_address_field = false;
      if (part == Part::mbox_headers) part = Part::mbox_body;
      continue;
    }
    if (text[0] == '#' && part == Part::list) continue;
    if (format == TargetFormat::domains) {
      if (auto ip = address_target(text)) {
        t.ips.push_back(ip->to_string());
        continue;
      }
      auto d = normalise_domain(text);
      if (!d) {
        reject(text);
        continue;
      }
      ++t.domains[*d];
      continue;
    }
    std::string_view addresses_text = text;
    if (continuation && in_address_field) {
      // a folded From:/To:/Cc: field
    } else if (auto field = header_field_name(text)) {
      in_address_field = *field == "from" || *field == "to" || *field == "cc";
      if (!in_address_field) continue;  // Subject:, Message-ID:, Received:...
      addresses_text.remove_prefix(addresses_text.find(':') + 1);
    } else {
      in_address_field = false;
      if (part == Part::mbox_headers) continue;  // not a header line: nothing to read
    }
    bool any = false;
    for (const auto& a : addresses_in(addresses_text)) {
      if (auto d = domain_of_address(a)) {
        ++t.names;
        ++t.domains[*d];
        any = true;
      }
    }
    if (!any) reject(text);
  }
  return t;
}

Expected<Targets> read_targets_file(const std::string& path, TargetFormat format) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read targets file '" + path + "'");
  return read_targets(in, format);
}

}  // namespace relayscope::survey
