// See config.hpp: the POP-before-SMTP window settings, read alone from the
// relay's configuration by the POP server's side (only [spool] and
// [pop_before_smtp] are read and checked).
#include "server/config_parts.hpp"

namespace relayscope::server {

using config_parts::Ctx;
using config_parts::known_keys;
using config_parts::Section;

Expected<WindowSettings> parse_window_settings(const std::string& text, const std::string& path) {
  Ctx c{path};
  auto parsed = config_parts::parse_toml(text, path);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  // Only these two sections are read (and checked); see config.hpp.
  WindowSettings w;
  for (const char* name : {"spool", "pop_before_smtp"}) {
    const auto* n = root.get(name);
    if (n && !n->as_table()) return c.at(n, std::string("[") + name + "] must be a table");
  }
  if (const auto* t = root["pop_before_smtp"].as_table()) {
    for (const auto& [k, v] : *t) {
      auto key = std::string(k.str());
      if (!known_keys().at("pop_before_smtp").count(key)) {
        return c.at(&v, "unknown key pop_before_smtp." + key);
      }
    }
  }
  Section spool{c, "spool", root["spool"].as_table()};
  auto spool_dir = spool.str("dir");
  if (!spool_dir) return spool_dir.error();
  Section pop{c, "pop_before_smtp", root["pop_before_smtp"].as_table()};
  if (pop.node("window")) {
    Millis window{};
    if (auto s = pop.duration("window", window, Millis(1000)); !s) return s.error();
    w.window = window;
  }
  auto dir = pop.str("dir");
  if (!dir) return dir.error();
  if (*dir && !(*dir)->empty()) {
    w.dir = c.resolve(**dir);
  } else if (*spool_dir && !(*spool_dir)->empty()) {
    w.dir = c.resolve(**spool_dir) + "/windows";
  } else {
    return c.at(pop.t ? static_cast<const toml::node*>(pop.t) : &root,
                "pop_before_smtp.dir or spool.dir is required");
  }
  return w;
}

Expected<WindowSettings> load_window_settings(const std::string& path) {
  auto text = config_parts::read_text(path);
  if (!text) return text.error();
  return parse_window_settings(*text, path);
}

}  // namespace relayscope::server
