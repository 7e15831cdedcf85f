// See profile.hpp. TOML through toml++; every key is checked, so that a typo
// in a profile is an error naming the file and the key, not a silent default.
#include "lab/profile.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "lab/profiles_builtin.hpp"

namespace relayscope::lab {

namespace fs = std::filesystem;

const char* to_string(Unresolved u) {
  switch (u) {
    case Unresolved::nxdomain:
      return "nxdomain";
    case Unresolved::nodata:
      return "nodata";
    case Unresolved::servfail:
      return "servfail";
    case Unresolved::timeout:
      return "timeout";
    case Unresolved::null_mx:
      return "null_mx";
    case Unresolved::no_address:
      return "no_address";
  }
  return "nxdomain";
}

const char* to_string(Resolution r) {
  switch (r) {
    case Resolution::mx:
      return "mx";
    case Resolution::a_only:
      return "a_only";
    case Resolution::cname:
      return "cname";
    case Resolution::multi_mx:
      return "multi_mx";
    case Resolution::equal_pref:
      return "equal_pref";
  }
  return "mx";
}

namespace {

constexpr Unresolved all_unresolved[] = {Unresolved::nxdomain, Unresolved::nodata,
                                         Unresolved::servfail, Unresolved::timeout,
                                         Unresolved::null_mx,  Unresolved::no_address};
constexpr Resolution all_resolution[] = {Resolution::mx, Resolution::a_only, Resolution::cname,
                                         Resolution::multi_mx, Resolution::equal_pref};

struct Ctx {
  std::string source;
  Error err(const std::string& what) const { return make_error(source + ": " + what); }
};

// A number (integer or float) or an error naming the key. The type is checked
// before asking for the value: toml++'s value<int64_t>() converts a float node
// with a plain cast, undefined behaviour for 1e300 (the fuzzer found it).
Expected<double> number(const Ctx& c, const toml::node& n, const std::string& key) {
  if (n.is_integer()) return static_cast<double>(*n.value<std::int64_t>());
  if (n.is_floating_point()) return *n.value<double>();
  return c.err(key + " must be a number");
}

Expected<std::int64_t> integer(const Ctx& c, const toml::node& n, const std::string& key,
                               std::int64_t lo, std::int64_t hi) {
  if (!n.is_integer()) return c.err(key + " must be an integer");
  auto v = *n.value<std::int64_t>();
  if (v < lo || v > hi) {
    return c.err(key + " = " + std::to_string(v) + " is out of range [" + std::to_string(lo) +
                 ", " + std::to_string(hi) + "]");
  }
  return v;
}

Status check_weight(const Ctx& c, double w, const std::string& key) {
  if (!std::isfinite(w) || w < 0) return c.err(key + " must be a non-negative number");
  return Ok{};
}

template <class E, std::size_t N>
Expected<std::vector<std::pair<E, double>>> weights(const Ctx& c, const toml::table* t,
                                                    const std::string& section, const E (&all)[N]) {
  std::vector<std::pair<E, double>> out;
  if (!t) return out;
  for (const auto& [k, v] : *t) {
    std::string key(k.str());
    bool found = false;
    for (E e : all) {
      if (key == to_string(e)) {
        auto w = number(c, v, section + "." + key);
        if (!w) return w.error();
        if (auto ok = check_weight(c, *w, section + "." + key); !ok) return ok.error();
        out.emplace_back(e, *w);
        found = true;
      }
    }
    if (!found) {
      std::string known;
      for (E e : all) known += std::string(known.empty() ? "" : ", ") + to_string(e);
      return c.err("unknown key " + section + "." + key + " (known: " + known + ")");
    }
  }
  return out;
}

// The [timing] table (timing.hpp): every key known, each in its range.
Expected<TimingProfile> parse_timing(const Ctx& c, const toml::table& t) {
  TimingProfile out;
  out.enabled = true;
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    double* real = key == "rtt_median_ms"              ? &out.rtt_median_ms
                   : key == "rtt_sigma"                ? &out.rtt_sigma
                   : key == "greeting_median_ms"       ? &out.greeting_median_ms
                   : key == "greeting_sigma"           ? &out.greeting_sigma
                   : key == "slow_greeting_share"      ? &out.slow_greeting_share
                   : key == "close_after_errors_share" ? &out.close_after_errors_share
                   : key == "greylist_share"           ? &out.greylist_share
                                                       : nullptr;
    int* whole = key == "rtt_max_ms"             ? &out.rtt_max_ms
                 : key == "greeting_max_ms"      ? &out.greeting_max_ms
                 : key == "slow_greeting_min_ms" ? &out.slow_greeting_min_ms
                 : key == "slow_greeting_max_ms" ? &out.slow_greeting_max_ms
                 : key == "error_sleep_ms"       ? &out.error_sleep_ms
                 : key == "close_after_errors"   ? &out.close_after_errors
                 : key == "greylist_delay_ms"    ? &out.greylist_delay_ms
                                                 : nullptr;
    if (key == "close_after_errors_kind") {
      const auto* kind = v.as_string();
      if (!kind || (kind->get() != "any" && kind->get() != "syntax")) {
        return c.err("timing.close_after_errors_kind must be \"any\" or \"syntax\"");
      }
      out.close_after_errors_kind = kind->get() == "syntax" ? TimingProfile::ErrorKind::syntax
                                                            : TimingProfile::ErrorKind::any;
    } else if (real) {
      auto n = number(c, v, "timing." + key);
      if (!n) return n.error();
      if (!std::isfinite(*n)) return c.err("timing." + key + " must be finite");
      *real = *n;
    } else if (whole) {
      auto n = integer(c, v, "timing." + key, 0, 3'600'000);
      if (!n) return n.error();
      *whole = static_cast<int>(*n);
    } else {
      return c.err("unknown key timing." + key);
    }
  }
  if (auto ok = check_timing(out); !ok) return c.err(ok.error().message);
  return out;
}

double total(const auto& ws) {
  double s = 0;
  for (const auto& [k, w] : ws) s += w;
  return s;
}

}  // namespace

Expected<Profile> parse_profile(const std::string& text, const std::string& source) {
  Ctx c{source};
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ":" << e.source().begin.line << ": " << e.description();
    return make_error(msg.str());
  }
  Profile p;
  p.source = source;
  static const std::set<std::string> top{"name",       "description", "funnel", "unresolved",
                                         "resolution", "outcomes",    "delays", "timing"};
  for (const auto& [k, v] : root) {
    if (!top.count(std::string(k.str()))) return c.err("unknown key " + std::string(k.str()));
  }
  p.name = root["name"].value_or(std::string());
  if (p.name.empty()) return c.err("name is missing");
  p.description = root["description"].value_or(std::string());

  auto* funnel = root["funnel"].as_table();
  if (!funnel) return c.err("[funnel] is missing");
  static const std::set<std::string> funnel_keys{"names", "unique_domains", "resolved_domains",
                                                 "junk_lines", "zipf"};
  for (const auto& [k, v] : *funnel) {
    if (!funnel_keys.count(std::string(k.str()))) {
      return c.err("unknown key funnel." + std::string(k.str()));
    }
  }
  constexpr std::int64_t big = 10'000'000;
  for (auto [key, field] : {std::pair{"names", &p.names},
                            {"unique_domains", &p.unique_domains},
                            {"resolved_domains", &p.resolved_domains}}) {
    auto* n = funnel->get(key);
    if (!n) return c.err(std::string("funnel.") + key + " is missing");
    auto v = integer(c, *n, std::string("funnel.") + key, 1, big);
    if (!v) return v.error();
    *field = *v;
  }
  if (auto* n = funnel->get("junk_lines")) {
    auto v = integer(c, *n, "funnel.junk_lines", 0, big);
    if (!v) return v.error();
    p.junk_lines = *v;
  }
  if (auto* n = funnel->get("zipf")) {
    auto v = number(c, *n, "funnel.zipf");
    if (!v) return v.error();
    if (*v < 0 || *v > 4) return c.err("funnel.zipf must be between 0 and 4");
    p.zipf = *v;
  }
  if (p.unique_domains > p.names) return c.err("funnel: unique_domains exceeds names");
  if (p.resolved_domains > p.unique_domains) {
    return c.err("funnel: resolved_domains exceeds unique_domains");
  }

  auto un = weights(c, root["unresolved"].as_table(), "unresolved", all_unresolved);
  if (!un) return un.error();
  p.unresolved = std::move(*un);
  if (p.unique_domains > p.resolved_domains && total(p.unresolved) <= 0) {
    return c.err("[unresolved] needs a positive weight: some domains do not resolve");
  }
  auto res = weights(c, root["resolution"].as_table(), "resolution", all_resolution);
  if (!res) return res.error();
  p.resolution = std::move(*res);
  if (p.resolution.empty()) p.resolution = {{Resolution::mx, 1.0}};
  if (total(p.resolution) <= 0) return c.err("[resolution] needs a positive weight");

  auto* outcomes = root["outcomes"].as_table();
  if (!outcomes) return c.err("[outcomes] is missing");
  for (const auto& [k, v] : *outcomes) {
    if (!is_outcome(k.str())) {
      return c.err("unknown outcome [outcomes." + std::string(k.str()) +
                   "] (known: CONNECT, EHLO, MAIL, TO, DATA, OK, QUIT)");
    }
  }
  double share_sum = 0;
  for (const char* outcome : imc_outcomes()) {
    auto* g = (*outcomes)[outcome].as_table();
    if (!g) continue;
    OutcomeGroup group;
    group.outcome = outcome;
    std::string prefix = std::string("outcomes.") + outcome;
    auto* share = g->get("share");
    if (!share) return c.err(prefix + ".share is missing");
    auto s = number(c, *share, prefix + ".share");
    if (!s) return s.error();
    if (auto ok = check_weight(c, *s, prefix + ".share"); !ok) return ok.error();
    group.share = *s;
    for (const auto& [k, v] : *g) {
      std::string key(k.str());
      if (key == "share") continue;
      auto b = parse_behaviour(key);
      if (!b) return c.err("unknown behaviour " + prefix + "." + key);
      if (std::string(info(*b).outcome) != outcome) {
        return c.err("behaviour " + key + " gives outcome " + info(*b).outcome + ", not " +
                     outcome + ": move it to [outcomes." + info(*b).outcome + "]");
      }
      auto w = number(c, v, prefix + "." + key);
      if (!w) return w.error();
      if (auto ok = check_weight(c, *w, prefix + "." + key); !ok) return ok.error();
      group.behaviours.emplace_back(*b, *w);
    }
    if (group.share > 0 && total(group.behaviours) <= 0) {
      return c.err(prefix + " has a share but no behaviour with a positive weight");
    }
    share_sum += group.share;
    p.groups.push_back(std::move(group));
  }
  if (std::abs(share_sum - 100.0) > 0.05) {
    std::ostringstream msg;
    msg << "the outcome shares add up to " << share_sum << ", not 100";
    return c.err(msg.str());
  }

  if (auto* d = root["delays"].as_table()) {
    for (const auto& [k, v] : *d) {
      std::string key(k.str());
      int* field = key == "greeting_ms"        ? &p.delays.greeting_ms
                   : key == "reply_ms"         ? &p.delays.reply_ms
                   : key == "jitter_ms"        ? &p.delays.jitter_ms
                   : key == "slow_greeting_ms" ? &p.delays.slow_greeting_ms
                   : key == "slow_byte_ms"     ? &p.delays.slow_byte_ms
                                               : nullptr;
      if (!field) return c.err("unknown key delays." + key);
      auto ms = integer(c, v, "delays." + key, 0, 600'000);
      if (!ms) return ms.error();
      *field = static_cast<int>(*ms);
    }
  }
  if (auto* t = root["timing"].as_table()) {
    auto timing = parse_timing(c, *t);
    if (!timing) return timing.error();
    p.timing = *timing;
  }
  return p;
}

Expected<Profile> load_profile_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read profile " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) return make_error(path + ": profile larger than 1 MB");
  return parse_profile(text.str(), path);
}

std::vector<std::string> profile_search_path(const std::string& explicit_dir) {
  std::vector<std::string> dirs;
  auto add = [&](const std::string& d) {
    std::error_code ec;
    if (!d.empty() && fs::is_directory(d, ec)) dirs.push_back(d);
  };
  add(explicit_dir);
  if (const char* env = std::getenv("RELAYSCOPE_DATA_DIR"); env && *env) {
    add((fs::path(env) / "profiles").string());
    add(env);
  }
#ifdef RELAYSCOPE_SOURCE_DIR
  add((fs::path(RELAYSCOPE_SOURCE_DIR) / "data" / "profiles").string());
#endif
  return dirs;
}

std::vector<std::string> known_profiles(const std::vector<std::string>& dirs) {
  std::set<std::string> names;
  for (const auto& d : dirs) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      if (e.path().extension() == ".toml") names.insert(e.path().stem().string());
    }
  }
  for (const auto& b : builtin_profiles()) names.insert(b.name);
  return {names.begin(), names.end()};
}

Expected<Profile> find_profile(const std::string& name, const std::vector<std::string>& dirs) {
  std::error_code ec;
  if (name.find('/') != std::string::npos || name.ends_with(".toml")) {
    if (fs::is_regular_file(name, ec)) return load_profile_file(name);
  }
  bool plain = !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
  if (plain) {
    for (const auto& d : dirs) {
      auto path = fs::path(d) / (name + ".toml");
      if (fs::is_regular_file(path, ec)) return load_profile_file(path.string());
    }
    for (const auto& b : builtin_profiles()) {
      if (b.name == name) return parse_profile(b.text, "(built-in) " + name + ".toml");
    }
  }
  std::string known;
  for (const auto& k : known_profiles(dirs)) known += (known.empty() ? "" : ", ") + k;
  std::string where;
  for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
  return make_error("unknown profile '" + name + "' (known: " + known +
                    "; searched: " + (where.empty() ? "built-in only" : where) + ")");
}

}  // namespace relayscope::lab
