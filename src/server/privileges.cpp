// See privileges.hpp.
#include "server/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace relayscope::server {

namespace fs = std::filesystem;

void raise_file_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

Status drop_privileges(const std::string& user, const std::vector<std::string>& own) {
  if (::geteuid() != 0 || user.empty()) return Ok{};
  errno = 0;
  auto* pw = ::getpwnam(user.c_str());
  if (!pw) return make_error("server.user: no such user '" + user + "'");
  uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  for (const auto& dir : own) {
    if (dir.empty()) continue;
    std::error_code ec;
    if (::chown(dir.c_str(), uid, gid) != 0) {
      return make_error("cannot give " + dir + " to " + user + ": " + std::strerror(errno));
    }
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (::lchown(it->path().c_str(), uid, gid) != 0) {
        return make_error("cannot give " + it->path().string() + " to " + user);
      }
    }
  }
  if (::setgid(gid) != 0) return make_error("setgid failed: " + std::string(std::strerror(errno)));
  if (::initgroups(user.c_str(), gid) != 0) {
    return make_error("initgroups failed: " + std::string(std::strerror(errno)));
  }
  if (::setuid(uid) != 0) return make_error("setuid failed: " + std::string(std::strerror(errno)));
  if (uid != 0 && ::setuid(0) == 0) return make_error("could regain root after dropping it");
  return Ok{};
}

}  // namespace relayscope::server
