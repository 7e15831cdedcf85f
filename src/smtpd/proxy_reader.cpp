// See proxy_reader.hpp. Exact reads: 15 bytes first (the shortest v1 header,
// "PROXY UNKNOWN\r\n", shorter than any v2 header), then a v2 header's
// length from its fixed part, or a v1 line one byte at a time up to its
// CRLF (at most 107 bytes, once per connection).
#include "smtpd/proxy_reader.hpp"

#include <string_view>

#include "smtp/printable.hpp"
#include "smtp/proxy_header.hpp"

namespace relayscope::smtpd {

namespace {

constexpr std::size_t first_read = 15;
constexpr std::string_view v2_signature("\r\n\r\n\0\r\nQUIT\n", 12);

// Reads until `buf` holds `want` bytes; false on timeout or close.
asio::awaitable<bool> read_to(Stream& stream, std::string& buf, std::size_t want, Deadline deadline,
                              std::string& why) {
  while (buf.size() < want) {
    auto have = buf.size();
    buf.resize(want);
    auto r = co_await stream.read_some(std::span<char>(buf.data() + have, want - have), deadline);
    buf.resize(have + (r ? r.value : 0));
    if (!r) {
      why = r.result.error == net::IoError::timeout ? "no PROXY header in time"
                                                    : "closed before a whole PROXY header";
      co_return false;
    }
  }
  co_return true;
}

}  // namespace

asio::awaitable<bool> take_proxy_header(Stream& stream, ClientInfo& client,
                                        const ProxySettings& settings, std::string& why) {
  if (!client.ip || !settings.trusted.contains(*client.ip)) {
    why = "PROXY protocol listener: " + client.address + " is not a trusted proxy";
    co_return false;
  }
  auto deadline = Clock::now() + settings.timeout;
  std::string buf;
  std::size_t want = first_read;
  for (;;) {
    bool got = co_await read_to(stream, buf, want, deadline, why);
    if (!got) co_return false;
    auto parsed = smtp::parse_proxy_header(buf);
    if (parsed.status == smtp::ProxyStatus::invalid) {
      why = "bad PROXY header: " + smtp::printable(parsed.error, 200);
      co_return false;
    }
    if (parsed.status == smtp::ProxyStatus::complete) {
      const auto& h = parsed.header;
      if (h.proxied && h.has_addresses) {
        client.proxy = client.address;
        client.ip = h.source;
        client.address = h.source.to_string();
        client.local_address = h.destination.to_string();
      }
      co_return true;
    }
    if (buf.size() >= 16 && std::string_view(buf).substr(0, 12) == v2_signature) {
      // Bytes 14-15: the length of what follows the 16-byte fixed part.
      auto rest = (static_cast<std::size_t>(static_cast<unsigned char>(buf[14])) << 8) |
                  static_cast<unsigned char>(buf[15]);
      want = 16 + rest;
      if (want <= buf.size() || want > smtp::max_proxy_v2_length) {
        why = "bad PROXY v2 header length";
        co_return false;
      }
    } else if (std::string_view(buf).substr(0, 12) == v2_signature) {
      want = 16;
    } else {
      want = buf.size() + 1;  // a v1 line: up to its CRLF
      if (want > smtp::max_proxy_v2_length) {
        why = "PROXY header too long";
        co_return false;
      }
    }
  }
}

}  // namespace relayscope::smtpd
