// See config_parts.hpp: the TOML reading the configuration's files share
// (parsing with errors as FILE:LINE, each value read with its type checked).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/config_parts.hpp"

namespace relayscope::server::config_parts {

Error Ctx::at(const toml::node* n, const std::string& what) const {
  auto line = n ? n->source().begin.line : 1;
  if (line == 0) line = 1;
  return make_error(path + ":" + std::to_string(line) + ": " + what);
}

std::string Ctx::resolve(const std::string& p) const {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  auto dir = std::filesystem::path(path).parent_path();
  return (dir / p).lexically_normal().string();
}

Expected<toml::table> parse_toml(const std::string& text, const std::string& path) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << path << ":" << e.source().begin.line << ": " << e.description();
    return make_error(msg.str());
  }
}

Expected<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot read the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Expected<std::optional<std::string>> Section::str(const std::string& key) const {
  auto* n = node(key);
  if (!n) return std::optional<std::string>();
  auto* s = n->as_string();
  if (!s) return c.at(n, name + "." + key + " must be a string");
  return std::optional<std::string>(s->get());
}

Expected<std::optional<std::vector<std::string>>> Section::strs(const std::string& key) const {
  auto* n = node(key);
  if (!n) return std::optional<std::vector<std::string>>();
  auto* a = n->as_array();
  if (!a) return c.at(n, name + "." + key + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : *a) {
    auto* s = e.as_string();
    if (!s) return c.at(&e, name + "." + key + " must hold strings only");
    out.push_back(s->get());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Status Section::boolean(const std::string& key, bool& out) const {
  auto* n = node(key);
  if (!n) return Ok{};
  auto* b = n->as_boolean();
  if (!b) return c.at(n, name + "." + key + " must be true or false");
  out = b->get();
  return Ok{};
}

Status Section::duration(const std::string& key, Millis& out, Millis min) const {
  auto* n = node(key);
  if (!n) return Ok{};
  if (auto* i = n->as_integer()) {
    out = Millis(i->get() * 1000);
  } else if (auto* s = n->as_string()) {
    auto d = parse_duration(s->get());
    if (!d) return c.at(n, name + "." + key + ": " + d.error().message);
    out = *d;
  } else {
    return c.at(n, name + "." + key + " must be a duration such as \"30s\" or \"5m\"");
  }
  if (out < min) return c.at(n, name + "." + key + " is too short");
  return Ok{};
}

const toml::node* Section::element(const std::string& key, std::size_t i) const {
  auto* n = node(key);
  auto* a = n ? n->as_array() : nullptr;
  if (!a || i >= a->size()) return n;
  return a->get(i);
}

Error Section::missing(const std::string& key, const toml::table& root) const {
  const toml::node* where = t ? static_cast<const toml::node*>(t) : &root;
  return c.at(where, name + "." + key + " is required");
}

std::size_t line_of_node(const toml::node& n) {
  return n.source().begin.line ? n.source().begin.line : 1;
}

void record_lines(const toml::table& root, std::map<std::string, std::size_t>& out) {
  for (const auto& [section, table] : root) {
    auto name = std::string(section.str());
    out[name] = line_of_node(table);
    auto* t = table.as_table();
    if (!t) continue;
    for (const auto& [key, value] : *t) {
      auto full = name + "." + std::string(key.str());
      out[full] = line_of_node(value);
      if (auto* a = value.as_array()) {
        for (std::size_t i = 0; i < a->size(); ++i) {
          out[full + "[" + std::to_string(i) + "]"] = line_of_node(*a->get(i));
        }
      }
    }
  }
}

}  // namespace relayscope::server::config_parts
