// See log_lines.hpp.
#include "server/log_lines.hpp"

#include <fmt/format.h>

#include <cmath>

namespace relayscope::server::log_lines {

std::string clean(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out;
}

std::string client(std::string_view name, std::string_view ip) {
  return clean(name.empty() ? std::string_view("unknown") : name) + "[" + clean(ip) + "]";
}

std::string delay(double seconds) {
  if (!(seconds > 0)) return "0";
  if (seconds >= 10) return fmt::format("{:.0f}", std::floor(seconds));
  if (seconds < 0.01) return "0.01";
  return fmt::format("{:.2g}", seconds);
}

Delays split_delay(double total, double in_queue, double carry) {
  auto positive = [](double x) { return x > 0 ? x : 0.0; };
  Delays d;
  d.in_queue = positive(in_queue);
  d.transmission = positive(carry);
  d.before_queue = positive(total - d.in_queue - d.transmission);
  return d;
}

std::string delays(const Delays& d) {
  auto part = [](double x) { return x < 0.01 ? std::string("0") : delay(x); };
  return part(d.before_queue) + "/" + part(d.in_queue) + "/" + part(d.connection) + "/" +
         part(d.transmission);
}

std::string noqueue_reject(const Refusal& r) {
  return "NOQUEUE: reject: " + clean(r.stage) + " from " + client(r.client_name, r.client_ip) +
         ": " + clean(r.reply) + "; from=<" + clean(r.from) + "> to=<" + clean(r.to) +
         "> proto=" + clean(r.proto) + " helo=<" + clean(r.helo) + ">";
}

std::string command_stage(std::string_view line) {
  std::string word;
  for (char c : line) {
    if (c == ' ' || c == '\r' || c == '\n' || c == '\t') break;
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!alpha || word.size() >= 16) return "UNKNOWN";
    word += static_cast<char>(c & ~0x20);
  }
  return word.empty() ? "UNKNOWN" : word;
}

std::string command_address(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return "";
  auto rest = line.substr(colon + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (!rest.empty() && rest.front() == '<') {
    auto close = rest.find('>');
    return clean(rest.substr(1, close == std::string_view::npos ? rest.size() - 1 : close - 1));
  }
  auto end = rest.find_first_of(" \r\n");
  return clean(rest.substr(0, end));
}

std::string queue_client(std::string_view id, std::string_view client_name,
                         std::string_view client_ip) {
  return std::string(id) + ": client=" + client(client_name, client_ip);
}

std::string queued(std::string_view id, const Queued& q) {
  return fmt::format("{}: from=<{}>, size={}, nrcpt={}, tls={}, auth={} (queue active)", id,
                     clean(q.from), q.size, q.nrcpt, q.tls ? "yes" : "no",
                     q.auth_user.empty() ? "-" : clean(q.auth_user));
}

std::string delivery(std::string_view id, const Delivery& d) {
  return fmt::format("{}: to=<{}>, relay={}, delay={}, delays={}, dsn={}, status={} ({})", id,
                     clean(d.to), d.relay.empty() ? "none" : clean(d.relay), delay(d.delay_seconds),
                     delays(d.delays), clean(d.dsn), clean(d.status), clean(d.remote_reply));
}

std::string arrival(std::string_view id, const Arrival& a) {
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : clean(s); };
  return fmt::format("{}: collect: token={}, probe={}, run={}, result={}, from=<{}>, client=[{}]",
                     id, or_dash(a.token), or_dash(a.probe), or_dash(a.run), clean(a.result),
                     clean(a.from), clean(a.client_ip));
}

}  // namespace relayscope::server::log_lines
