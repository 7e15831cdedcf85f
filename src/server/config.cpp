// See config.hpp. Each section lists its known keys; values are read with
// their type checked, and every error names the line of the offending node
// (or of its table when a required key is missing). The reading is split by
// job: config_reader.cpp (TOML and typed values), config_keys.cpp (known
// keys), config_names.cpp (name checks), config_sections.cpp ([server] to
// [log]), config_access.cpp (issue 14's sections), config_window.cpp (the
// POP-before-SMTP settings alone); this file has the entry points and the
// value parsers config.hpp declares.
#include "server/config.hpp"

#include <cctype>

#include "mail/addr_port.hpp"
#include "server/config_parts.hpp"

namespace relayscope::server {

namespace {

// The longest duration the configuration accepts (see parse_duration).
constexpr long long max_duration_ms = 3650LL * 86400 * 1000;

}  // namespace

std::size_t Config::line_of(const std::string& key) const {
  if (auto it = lines.find(key); it != lines.end()) return it->second;
  auto dot = key.find('.');
  if (dot != std::string::npos) {
    if (auto it = lines.find(key.substr(0, dot)); it != lines.end()) return it->second;
  }
  return 1;
}

std::string ListenAddress::to_string() const {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

Expected<ListenAddress> parse_listen_address(const std::string& text) {
  auto a = mail::parse_addr_port(text);
  if (!a) return a.error();
  return ListenAddress{a->address.to_string(), *a->port};
}

Expected<Millis> parse_duration(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 12) return make_error("'" + text + "' is not a duration (e.g. 30s, 5m, 2h)");
  long long n = std::stoll(text.substr(0, i));
  auto unit = text.substr(i);
  long long per = 0;  // milliseconds per unit
  if (unit.empty() || unit == "s")
    per = 1000;
  else if (unit == "ms")
    per = 1;
  else if (unit == "m")
    per = 60 * 1000;
  else if (unit == "h")
    per = 3600 * 1000;
  else if (unit == "d")
    per = 86400 * 1000;
  else
    return make_error("'" + text + "': unknown unit '" + unit + "' (ms, s, m, h, d)");
  // Ten years is more than any timeout or queue lifetime needs, and keeps
  // every sum with a clock's time point (in nanoseconds) far from overflow;
  // the check is a division so that it cannot overflow itself.
  if (n > max_duration_ms / per) {
    return make_error("'" + text + "' is too long (at most 3650d)");
  }
  return Millis(n * per);
}

Expected<Config> parse_config(const std::string& text, const std::string& path) {
  auto root = config_parts::parse_toml(text, path);
  if (!root) return root.error();
  return config_parts::read_sections(config_parts::Ctx{path}, *root);
}

Expected<Config> load_config(const std::string& path) {
  auto text = config_parts::read_text(path);
  if (!text) return text.error();
  return parse_config(*text, path);
}

}  // namespace relayscope::server
