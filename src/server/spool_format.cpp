// See spool_format.hpp.
#include "server/spool_format.hpp"

#include <cstdlib>

namespace relayscope::server {

namespace {

constexpr std::string_view magic = "relayscope-spool 1\n";
constexpr std::size_t max_envelope = 4 * 1024 * 1024;  // as spool.cpp reads a head

}  // namespace

std::string format_envelope(const SpoolEnvelope& e, std::size_t message_size) {
  std::string out(magic);
  out += "id: " + e.id + "\n";
  out += "size: " + std::to_string(message_size) + "\n";
  if (!e.check.empty()) out += "check: " + e.check + "\n";
  out += "arrival: " + std::to_string(e.arrival) + "\n";
  out += "client: " + e.client + "\n";
  out += "helo: " + e.helo + "\n";
  if (!e.auth_user.empty()) {
    out += "auth: " + e.auth_user + "\n";
  }
  out += "from: " + e.mail_from + "\n";
  for (const auto& r : e.recipients) {
    out += "rcpt: " + r + "\n";
  }
  out += "\n";
  return out;
}

Expected<SpoolEnvelope> parse_envelope(std::string_view file, std::size_t& body_offset) {
  return parse_envelope_head(file, file.size(), body_offset);
}

Expected<SpoolEnvelope> parse_envelope_head(std::string_view file, std::uint64_t file_size,
                                            std::size_t& body_offset) {
  if (file.substr(0, magic.size()) != magic) {
    return make_error("not a relayscope spool file");
  }
  SpoolEnvelope e;
  std::size_t pos = magic.size();
  bool have_id = false, have_from = false, have_size = false;
  std::uint64_t size = 0;
  for (;;) {
    auto nl = file.find('\n', pos);
    if (nl == std::string_view::npos || nl > max_envelope) {
      return make_error("envelope cut short");
    }
    auto line = file.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) {
      break;
    }
    auto colon = line.find(": ");
    if (colon == std::string_view::npos) {
      // "from:" with an empty value (the null sender) has no space after it.
      if (line == "from:") {
        have_from = true;
        continue;
      }
      if (line == "helo:" || line == "client:") {
        continue;
      }
      return make_error("bad envelope line");
    }
    auto key = line.substr(0, colon);
    auto value = std::string(line.substr(colon + 2));
    if (key == "id") {
      e.id = value;
      have_id = true;
    } else if (key == "size") {
      char* end = nullptr;
      size = std::strtoull(value.c_str(), &end, 10);
      have_size = !value.empty() && end && *end == '\0';
    } else if (key == "check") {
      e.check = value;
    } else if (key == "arrival") {
      e.arrival = std::strtoll(value.c_str(), nullptr, 10);
    } else if (key == "client") {
      e.client = value;
    } else if (key == "helo") {
      e.helo = value;
    } else if (key == "auth") {
      e.auth_user = value;
    } else if (key == "from") {
      e.mail_from = value;
      have_from = true;
    } else if (key == "rcpt") {
      e.recipients.push_back(value);
    }
  }
  if (!have_id || !have_from || e.recipients.empty()) {
    return make_error("incomplete envelope");
  }
  if (!have_size) {
    return make_error("envelope without the message size");
  }
  if (file_size < pos || file_size - pos != size) {
    auto have = file_size < pos ? 0 : file_size - pos;
    return make_error("message cut short: " + std::to_string(have) + " of " + std::to_string(size) +
                      " bytes");
  }
  body_offset = pos;
  return e;
}

std::map<std::string, std::string> parse_done(std::string_view text) {
  std::map<std::string, std::string> done;
  std::size_t pos = 0;
  for (;;) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      break;  // no newline: cut by a crash, not a record
    }
    auto line = text.substr(pos, nl - pos);
    pos = nl + 1;
    auto tab = line.find('\t');
    if (tab == std::string_view::npos || tab == 0) {
      continue;
    }
    done[std::string(line.substr(0, tab))] = std::string(line.substr(tab + 1));
  }
  return done;
}

std::string format_state(const RetryState& s) {
  std::string err = s.last_error;
  for (auto& c : err) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return "attempts: " + std::to_string(s.attempts) + "\nnext: " + std::to_string(s.next_retry) +
         "\nerror: " + err + "\n";
}

RetryState parse_state(std::string_view text) {
  RetryState s;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      break;
    }
    auto line = std::string(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.rfind("attempts: ", 0) == 0) {
      s.attempts = std::atoi(line.c_str() + 10);
    } else if (line.rfind("next: ", 0) == 0) {
      s.next_retry = std::strtoll(line.c_str() + 6, nullptr, 10);
    } else if (line.rfind("error: ", 0) == 0) {
      s.last_error = line.substr(7);
    }
  }
  return s;
}

}  // namespace relayscope::server
