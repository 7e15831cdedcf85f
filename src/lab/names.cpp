// See names.hpp.
#include "lab/names.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>

#include "common/ascii.hpp"
#include "lab/rng.hpp"

namespace relayscope::lab {

namespace {

constexpr const char* people[] = {"alice", "bob",   "carol",  "dave",   "erin",   "frank",
                                  "grace", "heidi", "ivan",   "judy",   "kim",    "leo",
                                  "mike",  "nina",  "oscar",  "peggy",  "quinn",  "rupert",
                                  "sybil", "trent", "ursula", "victor", "walter", "yves"};

constexpr const char* junk[] = {
    "-- list archive: members --",
    "(address withheld at the member's request)",
    "unsubscribe",
    "John Q. Public <no address given>",
    "Subscribers of this list:",
    "bounced: see previous message",
    "member since 1997, address unknown",
    "# end of roster",
};

using ascii::upper;  // one ASCII case helper (common/ascii.hpp)

}  // namespace

std::vector<std::string> names_lines(const LabPlan& plan) {
  std::vector<std::string> lines;
  lines.reserve(static_cast<std::size_t>(plan.funnel.names + plan.funnel.junk_lines));
  Rng rng(plan.seed, "names-file");
  constexpr std::size_t n_people = sizeof people / sizeof people[0];
  for (const auto& d : plan.domains) {
    for (std::uint32_t k = 0; k < d.names; ++k) {
      std::string local = people[(k + d.name.size()) % n_people];
      if (k >= n_people || d.names > 1) local += "." + std::to_string(k + 1);
      // About one address in 50 has its domain in capitals: the survey must
      // count it under the same domain.
      bool caps = rng.below(50) == 0;
      lines.push_back(local + "@" + (caps ? upper(d.name) : d.name));
    }
  }
  rng.shuffle(lines);
  // Junk goes at seeded positions, merged in one pass (no quadratic inserts).
  constexpr std::size_t n_junk = sizeof junk / sizeof junk[0];
  std::vector<std::size_t> at(static_cast<std::size_t>(plan.funnel.junk_lines));
  for (auto& a : at) a = static_cast<std::size_t>(rng.below(lines.size() + 1));
  std::sort(at.begin(), at.end());
  std::vector<std::string> merged;
  merged.reserve(lines.size() + at.size());
  std::size_t j = 0;
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    for (; j < at.size() && at[j] == i; ++j) merged.emplace_back(junk[j % n_junk]);
    if (i < lines.size()) merged.push_back(std::move(lines[i]));
  }
  lines = std::move(merged);
  return lines;
}

Status write_file_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error("cannot write " + tmp);
    out << text;
    out.flush();
    if (!out) return make_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return make_error("cannot rename " + tmp + " to " + path);
  }
  return Ok{};
}

Status write_names_file(const LabPlan& plan, const std::string& path) {
  std::string text;
  for (const auto& l : names_lines(plan)) {
    text += l;
    text += '\n';
  }
  return write_file_atomically(path, text);
}

}  // namespace relayscope::lab
