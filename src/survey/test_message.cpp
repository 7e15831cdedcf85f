#include "survey/test_message.hpp"

#include <sodium.h>

#include <chrono>
#include <ctime>

#include "mail/date.hpp"

namespace relayscope::survey {

std::string new_token() {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char raw[20];
  randombytes_buf(raw, sizeof raw);  // works without sodium_init (it self-initialises)
  std::string t;
  for (unsigned char c : raw) t += alphabet[c % 36];
  return t;
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
  return m;
}

}  // namespace relayscope::survey
