// See dnsbl_check.hpp.
#include "server/dnsbl_check.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "dns/resolver.hpp"
#include "smtp/printable.hpp"

namespace relayscope::server {

std::string dnsbl_query_name(const IpAddress& address, const std::string& zone) {
  std::string name;
  if (address.is_v4) {
    for (int i = 15; i >= 12; --i) {
      name += std::to_string(address.bytes[i]) + ".";
    }
  } else {
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
      name += hex[address.bytes[i] & 0xf];
      name += '.';
      name += hex[address.bytes[i] >> 4];
      name += '.';
    }
  }
  return name + zone;
}

asio::awaitable<std::optional<smtp::Reply>> DnsblCheck::check(IpAddress address) {
  for (const auto& zone : zones_) {
    auto name = dnsbl_query_name(address, zone);
    auto a = co_await resolver_.a(name);
    if (a.status != dns::DnsStatus::ok) {
      if (a.status != dns::DnsStatus::nxdomain && a.status != dns::DnsStatus::nodata) {
        spdlog::warn("dnsbl {}: lookup of {} failed ({}): client let in", zone, name,
                     dns::to_string(a.status));
      }
      continue;
    }
    bool listed = false;
    for (const auto& ip : a.addresses) {
      listed = listed || ip.rfind("127.", 0) == 0;
    }
    if (!listed) {
      continue;
    }
    std::string reason;
    auto txt = co_await resolver_.txt(name);
    if (txt.status == dns::DnsStatus::ok && !txt.texts.empty()) {
      // A zone's TXT is outside text (NUL, ESC, CR seen): escaped and bounded.
      reason = smtp::printable(txt.texts.front(), 400);
    }
    auto text = fmt::format("5.7.1 Service unavailable; client [{}] blocked using {}{}{}",
                            address.to_string(), zone, reason.empty() ? "" : ": ", reason);
    co_return smtp::make_reply(554, text);
  }
  co_return std::nullopt;
}

}  // namespace relayscope::server
