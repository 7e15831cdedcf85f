// A lab profile: the data file (data/profiles/NAME.toml) that says how many
// names, domains and hosts a lab has, how the unresolved domains fail, and
// which behaviours its hosts have, by share. Loading validates everything
// (shares add up, each behaviour sits under the outcome it produces), so a
// bad file is a clear error at start and never a surprise later.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.hpp"
#include "lab/behaviour.hpp"
#include "lab/timing.hpp"

namespace relayscope::lab {

// How an unresolved domain fails (DESIGN.md step 2's discard reasons).
enum class Unresolved : std::uint8_t { nxdomain, nodata, servfail, timeout, null_mx, no_address };
const char* to_string(Unresolved u);

// How a resolved domain leads to its host.
enum class Resolution : std::uint8_t {
  mx,          // D MX 10 mx.D; mx.D A ip
  a_only,      // no MX: D A ip (RFC 5321 5.1 fallback)
  cname,       // D CNAME real.D; real.D MX 10 mx.D
  multi_mx,    // D MX 10 mx.D, MX 20 mx2.D (a backup address with no listener)
  equal_pref,  // D MX 10 mx1.D, MX 10 mx2.D, both at the host's address
};
const char* to_string(Resolution r);

struct OutcomeGroup {
  std::string outcome;                                   // CONNECT, EHLO, MAIL, TO, DATA, OK, QUIT
  double share = 0;                                      // percent of resolved hosts
  std::vector<std::pair<Behaviour, double>> behaviours;  // weights within the group
};

struct Delays {
  int greeting_ms = 0;          // before every greeting
  int reply_ms = 0;             // before every reply
  int jitter_ms = 0;            // up to this much more, at random, on each delay
  int slow_greeting_ms = 3000;  // slow_greeting: the 220- lines span this long
  int slow_byte_ms = 1000;      // slow_bytes: one byte per this
};

struct Profile {
  std::string name;
  std::string description;
  std::string source;  // file it came from
  // Funnel (the IMC's figures for the imc-* profiles).
  std::int64_t names = 0;
  std::int64_t unique_domains = 0;
  std::int64_t resolved_domains = 0;
  std::int64_t junk_lines = 0;
  double zipf = 1.0;  // heavy tail of names per domain (mailing lists)
  std::vector<std::pair<Unresolved, double>> unresolved;  // weights
  std::vector<std::pair<Resolution, double>> resolution;  // weights
  std::vector<OutcomeGroup> groups;
  Delays delays;
  TimingProfile timing;  // [timing]: per-host delays (internet profile)
};

// Parses a profile's text; `source` names it in errors.
Expected<Profile> parse_profile(const std::string& text, const std::string& source);
Expected<Profile> load_profile_file(const std::string& path);

// Where profiles are looked for, in order: `explicit_dir` (--profiles-dir),
// $RELAYSCOPE_DATA_DIR/profiles (and the variable's dir itself), the source
// tree's data/profiles. Directories that do not exist are left out.
std::vector<std::string> profile_search_path(const std::string& explicit_dir);

// Finds NAME.toml in the search path (or takes NAME as a path if it names a
// file), then the copies compiled into the binary. The error lists the
// profiles that are known.
Expected<Profile> find_profile(const std::string& name, const std::vector<std::string>& dirs);
std::vector<std::string> known_profiles(const std::vector<std::string>& dirs);

}  // namespace relayscope::lab
