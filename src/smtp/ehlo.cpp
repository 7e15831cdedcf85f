// See ehlo.hpp. ehlo-line = ehlo-keyword *( SP ehlo-param ), ehlo-keyword =
// (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"); lines that do not fit are skipped.
#include "smtp/ehlo.hpp"

#include <algorithm>
#include <charconv>

#include "common/ascii.hpp"
#include "smtp/command.hpp"

namespace relayscope::smtp {

namespace {

using ascii::upper;  // one ASCII case helper (common/ascii.hpp)

// Servers separate with one space; a tab or several spaces are tolerated.
std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t b = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > b) out.emplace_back(s.substr(b, i - b));
  }
  return out;
}

}  // namespace

bool EhloInfo::has(std::string_view keyword) const {
  return find(keyword) != nullptr;
}

const Extension* EhloInfo::find(std::string_view keyword) const {
  auto k = upper(keyword);
  for (const auto& e : extensions) {
    if (e.keyword == k) return &e;
  }
  return nullptr;
}

std::optional<std::uint64_t> EhloInfo::size_limit() const {
  const Extension* e = find("SIZE");
  if (!e || e->params.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto& p = e->params[0];
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (ec != std::errc() || ptr != p.data() + p.size() || v == 0) return std::nullopt;
  return v;
}

std::vector<std::string> EhloInfo::auth_mechanisms() const {
  std::vector<std::string> out;
  for (const auto& e : extensions) {
    if (e.keyword != "AUTH") continue;
    for (const auto& p : e.params) {
      auto u = upper(p);
      if (std::find(out.begin(), out.end(), u) == out.end()) out.push_back(std::move(u));
    }
  }
  return out;
}

EhloInfo parse_ehlo(const Reply& reply) {
  EhloInfo info;
  if (reply.lines.empty()) return info;
  auto first = words(reply.lines[0]);
  if (!first.empty()) info.domain = first[0];
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    auto w = words(reply.lines[i]);
    if (w.empty()) continue;
    std::string kw = w[0];
    std::vector<std::string> params;
    // The pre-standard "AUTH=LOGIN PLAIN" form (old Microsoft servers).
    if (auto eq = kw.find('='); eq != std::string::npos) {
      if (eq + 1 < kw.size()) params.push_back(kw.substr(eq + 1));
      kw.resize(eq);
    }
    if (!is_esmtp_keyword(kw)) continue;
    params.insert(params.end(), w.begin() + 1, w.end());
    info.extensions.push_back({upper(kw), std::move(params)});
  }
  return info;
}

}  // namespace relayscope::smtp
