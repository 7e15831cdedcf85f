// See targets.hpp. An address line may be a bare address, "Name <a@b>", or a
// mail header (From:, To:, Cc:, also continuation lines) holding a list of
// addresses; other mbox lines are ignored, not counted as junk.
#include "survey/targets.hpp"

#include <idn2.h>

#include <algorithm>
#include <cctype>
#include <fstream>

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

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

bool is_address_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) || std::string_view("!#$%&'*+-/=?^_`{|}~.@[]:").find(c) !=
                                                std::string_view::npos;
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
  bool in_header_field = false;  // inside a From:/To:/Cc: field (continuation lines)
  auto reject = [&t](const std::string& l) {
    ++t.lines_without_address;
    if (t.rejected.size() < max_rejected_kept) t.rejected.push_back(l.substr(0, 200));
  };
  while (std::getline(in, line)) {
    if (line.size() > max_line) {
      reject(line);
      continue;
    }
    bool continuation = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    std::string text = trim(line);
    if (text.empty()) {
      in_header_field = false;
      continue;
    }
    if (text[0] == '#') continue;
    if (format == TargetFormat::domains) {
      if (auto ip = IpAddress::parse(text)) {
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
    // mbox and header files: only address-bearing header fields count.
    bool header_field = starts_with_nocase(text, "from:") || starts_with_nocase(text, "to:") ||
                        starts_with_nocase(text, "cc:");
    bool other_header = !continuation && !header_field && text.find(':') != std::string::npos &&
                        text.find('@') == std::string::npos;
    if (starts_with_nocase(text, "from ") && text.find(':') != std::string::npos) {
      in_header_field = false;  // the mbox "From " separator line
      continue;
    }
    if (other_header) {
      in_header_field = false;
      continue;
    }
    std::string_view body = text;
    if (header_field) {
      body.remove_prefix(body.find(':') + 1);
      in_header_field = true;
    } else if (continuation && in_header_field) {
      // a folded From:/To:/Cc: field
    } else {
      in_header_field = false;
    }
    auto addresses = addresses_in(body);
    bool any = false;
    for (const auto& a : addresses) {
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
