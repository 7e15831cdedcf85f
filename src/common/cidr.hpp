// IPv4 and IPv6 addresses and CIDR blocks, pure: used by the scope guard
// (which destinations a run may touch) and by the relay policy (which clients
// are local). Parsing is strict: "127.0.0.0/8", "::1/128", a bare address is a
// /32 or /128.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace relayscope {

// An address as 16 bytes; IPv4 is held as an IPv4-mapped IPv6 address so that
// one comparison serves both families.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool is_v4 = false;

  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

struct Cidr {
  IpAddress network;
  int prefix = 0;  // in bits of the address's own family (0..32 or 0..128)

  static Expected<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& address) const;
  std::string to_string() const;
};

// A list of blocks; empty means "everything" only where the caller says so.
class CidrSet {
 public:
  CidrSet() = default;
  explicit CidrSet(std::vector<Cidr> blocks) : blocks_(std::move(blocks)) {}
  static Expected<CidrSet> parse(const std::vector<std::string>& texts);

  bool contains(const IpAddress& address) const;
  bool empty() const { return blocks_.empty(); }
  const std::vector<Cidr>& blocks() const { return blocks_; }
  void add(Cidr block) { blocks_.push_back(block); }

 private:
  std::vector<Cidr> blocks_;
};

}  // namespace relayscope
