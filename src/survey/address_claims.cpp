// See address_claims.hpp.
#include "survey/address_claims.hpp"

#include <asio/experimental/as_tuple.hpp>

namespace relayscope::survey {

AddressClaims::AddressClaims(asio::any_io_executor ex)
    : released_(std::move(ex), asio::steady_timer::time_point::max()) {}

bool AddressClaims::try_claim(const std::string& ip) {
  return held_.insert(ip).second;
}

asio::awaitable<bool> AddressClaims::claim(const std::string& ip, const bool& give_up) {
  while (!try_claim(ip)) {
    if (give_up) co_return false;
    co_await released_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  co_return true;
}

void AddressClaims::release(const std::string& ip) {
  if (held_.erase(ip) > 0) released_.cancel();
}

}  // namespace relayscope::survey
