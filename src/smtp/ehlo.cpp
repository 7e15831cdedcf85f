#include "smtp/ehlo.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace relayscope::smtp {

namespace {
std::string upper(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}
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

bool EhloInfo::has(std::string_view keyword) const { return find(keyword) != nullptr; }

const Extension* EhloInfo::find(std::string_view keyword) const {
  auto k = upper(keyword);
  for (const auto& e : extensions) {
    if (e.keyword == k) return &e;
  }
  return nullptr;
}

std::optional<std::uint64_t> EhloInfo::size_limit() const {
  auto e = find("SIZE");
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
      if (std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
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
    std::vector<std::string> params(w.begin() + 1, w.end());
    // The old "AUTH=LOGIN PLAIN" form.
    if (auto eq = kw.find('='); eq != std::string::npos) {
      params.insert(params.begin(), kw.substr(eq + 1));
      kw = kw.substr(0, eq);
    }
    bool ok = !kw.empty() && std::isalnum(static_cast<unsigned char>(kw[0])) &&
              std::all_of(kw.begin(), kw.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
    if (!ok) continue;
    info.extensions.push_back({upper(kw), std::move(params)});
  }
  return info;
}

}  // namespace relayscope::smtp
