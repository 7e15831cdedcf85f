#include "survey/test_message.hpp"

#include <sodium.h>

#include <chrono>
#include <ctime>

#include "mail/date.hpp"

namespace relayscope::survey {

namespace {

std::string spelled(const unsigned char (&raw)[token_length]) {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string t;
  t.reserve(token_length);
  for (unsigned char c : raw) t += alphabet[c % 36];
  return t;
}

}  // namespace

std::string new_token() {
  unsigned char raw[token_length];
  randombytes_buf(raw, sizeof raw);  // works without sodium_init (it self-initialises)
  return spelled(raw);
}

std::string variant_token(const std::string& probe_token, std::size_t index) {
  const std::string input = probe_token + '/' + std::to_string(index);
  unsigned char raw[token_length];
  crypto_generichash(raw, sizeof raw, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  return spelled(raw);
}

std::string tag_address(const std::string& address, const std::string& token) {
  auto at = address.rfind('@');
  if (at == std::string::npos) return address + "+" + token;
  return address.substr(0, at) + "+" + token + address.substr(at);
}

std::string rfc5322_now() {
  return mail::rfc5322_date(std::time(nullptr));
}
std::string iso8601_now() {
  return mail::iso8601_date(std::time(nullptr));
}

std::string build_test_message(const TestMessageFields& f) {
  auto domain_of = [](const std::string& a) {
    auto at = a.rfind('@');
    return at == std::string::npos ? std::string("relayscope.invalid") : a.substr(at + 1);
  };
  std::string m;
  m += "From: Relay test <" + f.mail_from + ">\r\n";
  m += "To: <" + f.rcpt_to + ">\r\n";
  m += "Subject: Relay test\r\n";
  m += "Date: " + f.timestamp + "\r\n";
  m += "Message-ID: <" + f.token + "@" + domain_of(f.mail_from) + ">\r\n";
  m += "X-Relayscope-Token: " + f.token + "\r\n";
  if (!f.contact.empty()) m += "X-Relayscope-Contact: " + f.contact + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=us-ascii\r\n";
  m += "\r\n";
  m += "This is a test of whether this mail server relays mail for strangers,\r\n";
  m += "sent by relayscope as part of a survey of open relays.\r\n";
  m += "\r\n";
  m += "Host: " + f.host_ip + "\r\n";
  m += "Domain: " + f.host_domain + "\r\n";
  if (!f.mx_host.empty()) m += "MX: " + f.mx_host + "\r\n";
  m += "Sent: " + f.timestamp + "\r\n";
  m += "Token: " + f.token + "\r\n";
  if (!f.contact.empty()) {
    // The operator's words, wrapped at 76 columns on spaces.
    m += "\r\nAbout this survey, and to opt out:\r\n";
    std::string line;
    std::size_t at = 0;
    while (at < f.contact.size()) {
      auto space = f.contact.find(' ', at);
      auto word = f.contact.substr(at, space == std::string::npos ? space : space - at);
      at = space == std::string::npos ? f.contact.size() : space + 1;
      if (word.empty()) continue;
      if (!line.empty() && line.size() + 1 + word.size() > 76) {
        m += line + "\r\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) m += line + "\r\n";
  }
  return m;
}

Status check_contact(const std::string& text) {
  if (text.size() > 400) return make_error("--contact: at most 400 characters");
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7e) {
      return make_error("--contact: one line of printable US-ASCII (it goes into a header)");
    }
  }
  // An address to opt out at: a word with something@something.something.
  std::size_t at = 0;
  for (; (at = text.find('@', at)) != std::string::npos; ++at) {
    auto start = text.find_last_of(" <(", at);
    start = start == std::string::npos ? 0 : start + 1;
    auto end = text.find_first_of(" >),;", at);
    auto word = text.substr(start, end == std::string::npos ? end : end - start);
    auto local = word.substr(0, word.find('@'));
    auto domain = word.substr(word.find('@') + 1);
    while (!domain.empty() && domain.back() == '.') domain.pop_back();
    if (!local.empty() && domain.find('.') != std::string::npos && domain.front() != '.') {
      return Ok{};
    }
  }
  return make_error(
      "--contact: give an address to opt out at and a sentence on the survey, e.g. "
      "\"Open relay survey by Example Lab; opt out: optout@example.org\"");
}

}  // namespace relayscope::survey
