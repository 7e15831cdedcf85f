// See route_check.hpp. connect() on a datagram socket sets the default
// destination after a route lookup and sends no packet.
#include "net/route_check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace relayscope::net {

bool has_route(const std::string& address, std::string* why) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(25);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(25);
    len = sizeof *v6;
  } else {
    if (why) *why = "not an IP address";
    return false;
  }
  // Only an answer about routes counts: a shortage of our own (no
  // descriptor) is no reason to drop an address; its probe finds out.
  auto answer = [why](int err) {
    if (why) *why = std::strerror(err);
    return !(err == ENETUNREACH || err == EHOSTUNREACH || err == EADDRNOTAVAIL ||
             err == EAFNOSUPPORT);
  };
  int fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return answer(errno);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
  int err = errno;
  ::close(fd);
  if (rc == 0) return true;
  return answer(err);
}

}  // namespace relayscope::net
