// The parts of the relay configuration's reader that its files share
// (config.cpp and the config_*.cpp files; nothing else includes this): the
// error context that names FILE:LINE, the typed reader of one section, the
// known keys, the checks of names, and the readers of each group of sections.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "server/config.hpp"

namespace relayscope::server::config_parts {

// Where an error is, "FILE:LINE: what"; and where a relative path in the
// file leads (config_reader.cpp).
struct Ctx {
  std::string path;
  Error at(const toml::node* n, const std::string& what) const;
  // Relative paths are relative to the configuration file's directory.
  std::string resolve(const std::string& p) const;
};

// A TOML text parsed, or "FILE:LINE: what is wrong".
Expected<toml::table> parse_toml(const std::string& text, const std::string& path);
// A whole file's text, or "FILE: cannot read the file".
Expected<std::string> read_text(const std::string& path);

// Reader of one section; missing keys keep their defaults. Each value's type
// is checked, and an error names the key and the line of its node.
struct Section {
  const Ctx& c;
  std::string name;
  const toml::table* t;  // null when the section is absent

  const toml::node* node(const std::string& key) const { return t ? t->get(key) : nullptr; }
  Expected<std::optional<std::string>> str(const std::string& key) const;
  Expected<std::optional<std::vector<std::string>>> strs(const std::string& key) const;

  template <class T>
  Status integer(const std::string& key, T& out, std::int64_t min, std::int64_t max) const {
    auto* n = node(key);
    if (!n) return Ok{};
    auto* i = n->as_integer();
    if (!i) return c.at(n, name + "." + key + " must be an integer");
    auto v = i->get();
    if (v < min || v > max) {
      return c.at(n, name + "." + key + " must be between " + std::to_string(min) + " and " +
                         std::to_string(max));
    }
    out = static_cast<T>(v);
    return Ok{};
  }

  Status boolean(const std::string& key, bool& out) const;
  Status duration(const std::string& key, Millis& out, Millis min = Millis(0)) const;
  // The i-th element of an array key (for an error on that very line).
  const toml::node* element(const std::string& key, std::size_t i) const;
  Error missing(const std::string& key, const toml::table& root) const;
};

// Each section's known keys (config_keys.cpp). An unknown section or key is
// an error, so that a typo never silently weakens the policy.
using Known = std::map<std::string, std::set<std::string>>;
const Known& known_keys();
Status check_keys(const Ctx& c, const toml::table& root);

// Checks of names (config_names.cpp).
bool valid_domain(const std::string& d);
bool plain_name(const std::string& s);     // a local part or user name: no '@', printable
bool plain_address(const std::string& s);  // local@domain

// The readers of groups of sections, in the order parse_config runs them:
// [server] to [log] (config_sections.cpp); issue 14's [[listener]],
// [aliases], [senders], [rate_limits] and [pop_before_smtp], which need the
// first ones (config_access.cpp).
Expected<Config> read_sections(const Ctx& c, const toml::table& root);
Status read_remote_access(const Ctx& c, const toml::table& root, Config& cfg);
// Each section's and key's line, for check-config's messages (Config::lines).
void record_lines(const toml::table& root, std::map<std::string, std::size_t>& out);

}  // namespace relayscope::server::config_parts
