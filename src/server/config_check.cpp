// See config_check.hpp. File checks judge access from modes (stat), not with
// access(2), because the relay reads some files after dropping to `user`
// while check-config may run as root or as someone else.
#include "server/config_check.hpp"

#include <grp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "server/users_file.hpp"

namespace relayscope::server {

namespace fs = std::filesystem;

namespace {

std::string at(const Config& c, const std::string& key, const std::string& what) {
  return c.path + ":" + std::to_string(c.line_of(key)) + ": " + what;
}

std::string warn_at(const Config& c, const std::string& key, const std::string& what) {
  return at(c, key, "warning: " + what);
}

bool is_unspecified(const IpAddress& a) {
  return std::all_of(a.bytes.begin() + (a.is_v4 ? 12 : 0), a.bytes.end(),
                     [](std::uint8_t b) { return b == 0; });
}

// True when the block's address has bits set past its prefix.
bool host_bits_set(const Cidr& c) {
  int bits = c.network.is_v4 ? c.prefix + 96 : c.prefix;
  for (int i = 0; i < 16; ++i, bits -= 8) {
    std::uint8_t keep = bits >= 8   ? 0xff
                        : bits <= 0 ? 0
                                    : static_cast<std::uint8_t>(0xff << (8 - bits));
    if (c.network.bytes[i] & static_cast<std::uint8_t>(~keep)) return true;
  }
  return false;
}

Cidr masked(Cidr c) {
  int bits = c.network.is_v4 ? c.prefix + 96 : c.prefix;
  for (int i = 0; i < 16; ++i, bits -= 8) {
    std::uint8_t keep = bits >= 8   ? 0xff
                        : bits <= 0 ? 0
                                    : static_cast<std::uint8_t>(0xff << (8 - bits));
    c.network.bytes[i] &= keep;
  }
  return c;
}

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "unknown error";
  char b[256];
  ERR_error_string_n(e, b, sizeof b);
  return b;
}

void check_tls(const Config& c, const RunAs& who, ConfigReport& out) {
  if (!c.tls()) return;
  bool readable = true;
  for (auto [key, path] : {std::pair<const char*, const std::string*>{"tls.cert", &c.tls_cert},
                           {"tls.key", &c.tls_key}}) {
    if (!fs::is_regular_file(*path)) {
      out.errors.push_back(at(c, key, std::string(key) + ": no such file: " + *path));
      readable = false;
    } else if (!may_access(*path, who, 4)) {
      out.errors.push_back(
          at(c, key, std::string(key) + ": " + *path + " is not readable by " + who.name));
      readable = false;
    }
  }
  if (!readable) return;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        &SSL_CTX_free);
  if (!ctx) {
    out.errors.push_back(at(c, "tls", "tls: cannot make a TLS context: " + openssl_error()));
    return;
  }
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), c.tls_cert.c_str()) != 1) {
    out.errors.push_back(at(
        c, "tls.cert", "tls.cert " + c.tls_cert + ": not a PEM certificate: " + openssl_error()));
    return;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), c.tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    auto why = openssl_error();
    if (why.find("mismatch") != std::string::npos) why = "it does not match tls.cert " + c.tls_cert;
    out.errors.push_back(at(c, "tls.key", "tls.key " + c.tls_key + ": " + why));
  }
}

// An alias naming a user that the users file does not hold is most likely a
// typo: its mail would go to a Maildir nobody logs in to (or, without a
// users file, only aliases and postmaster are mailboxes at all).
void check_alias_targets(const Config& c, const UsersFile* users, ConfigReport& out) {
  for (const auto& [alias, targets] : c.aliases) {
    for (const auto& t : targets) {
      if (t.find('@') != std::string::npos || t == "postmaster" || c.aliases.count(t)) continue;
      if (users && users->has(t)) continue;
      out.warnings.push_back(warn_at(c, "aliases",
                                     "aliases.\"" + alias + "\": \"" + t + "\" is not a user of " +
                                         (users ? "auth.users_file " + c.users_file
                                                : std::string("the relay (no users file)"))));
    }
  }
}

void check_users(const Config& c, const RunAs& who, ConfigReport& out) {
  if (c.users_file.empty()) {
    check_alias_targets(c, nullptr, out);
    return;
  }
  const std::string key = "auth.users_file";
  if (!fs::exists(c.users_file)) {
    out.errors.push_back(at(c, key,
                            "auth.users_file: no such file: " + c.users_file +
                                " (create it with `relayscope passwd --users " + c.users_file +
                                " NAME`)"));
    return;
  }
  // SIGHUP re-reads the file after the relay dropped to `user`.
  if (!may_access(c.users_file, who, 4)) {
    out.errors.push_back(at(c, key,
                            "auth.users_file: " + c.users_file + " is not readable by " + who.name +
                                " (the relay re-reads it as that user: chown " + who.name +
                                " it, mode 0640 or 0600)"));
    return;
  }
  auto u = UsersFile::load(c.users_file);
  if (!u) {
    out.errors.push_back(at(c, key, "auth.users_file: " + u.error().message));
    return;
  }
  if (!c.tls()) {
    out.warnings.push_back(warn_at(c, key,
                                   "auth.users_file without [tls]: AUTH is not offered; the file "
                                   "names the local mailboxes only"));
  }
  check_alias_targets(c, &*u, out);
}

void check_log(const Config& c, const RunAs& who, ConfigReport& out) {
  if (c.log_to != "file") return;
  // Reopened on SIGHUP (after logrotate's mv) as the run-as user, who must
  // be able to create it anew.
  auto dir = fs::path(c.log_file).parent_path().string();
  if (dir.empty()) dir = ".";
  // A missing directory is made at start-up (as root, by the log itself).
  if (fs::is_directory(dir) && !may_access(dir, who, 2)) {
    out.warnings.push_back(warn_at(c, "log.file",
                                   "log.file: " + who.name + " cannot create files in " + dir +
                                       ": the log cannot be reopened on SIGHUP after rotation"));
  }
}

}  // namespace

Expected<RunAs> run_as(const Config& c) {
  RunAs r;
  r.started_as_root = ::geteuid() == 0;
  passwd* pw = nullptr;
  if (r.started_as_root && !c.user.empty()) {
    pw = ::getpwnam(c.user.c_str());
    if (!pw) {
      return make_error(at(c, "server.user", "server.user: no such user '" + c.user + "'"));
    }
  } else {
    pw = ::getpwuid(::geteuid());
  }
  r.uid = pw ? pw->pw_uid : ::geteuid();
  r.gid = pw ? pw->pw_gid : ::getegid();
  r.name = pw ? pw->pw_name : std::to_string(r.uid);
  if (pw) {
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<std::size_t>(n));
      ::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n);
    }
    groups.resize(static_cast<std::size_t>(std::max(n, 0)));
    r.groups = std::move(groups);
  }
  return r;
}

bool may_access(const std::string& path, const RunAs& who, int mode) {
  if (who.uid == 0) return fs::exists(path);
  auto allowed = [&](const struct stat& st, int m) {
    int shift = 0;
    if (st.st_uid == who.uid) {
      shift = 6;
    } else if (st.st_gid == who.gid ||
               std::find(who.groups.begin(), who.groups.end(), st.st_gid) != who.groups.end()) {
      shift = 3;
    }
    return ((st.st_mode >> shift) & static_cast<unsigned>(m)) == static_cast<unsigned>(m);
  };
  auto full = fs::absolute(path).lexically_normal();
  // Every directory on the way must be searchable (x).
  fs::path so_far = full.root_path();
  for (auto it = full.begin(); it != full.end(); ++it) {
    if (std::next(it) == full.end()) break;
    if (*it != full.root_path() && !it->empty()) so_far /= *it;
    struct stat st {};
    if (::stat(so_far.c_str(), &st) != 0 || !allowed(st, 1)) return false;
  }
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0) return false;
  return allowed(st, mode);
}

void check_static(const Config& c, bool started_as_root, ConfigReport& out) {
  // Duplicate listeners: the same address and port twice, or a wildcard of
  // a family and an address of it on the same port (the second bind fails).
  for (std::size_t i = 0; i < c.listen.size(); ++i) {
    auto a = IpAddress::parse(c.listen[i].address);
    for (std::size_t j = 0; j < i; ++j) {
      if (c.listen[i].port != c.listen[j].port) continue;
      auto b = IpAddress::parse(c.listen[j].address);
      bool same = c.listen[i].address == c.listen[j].address;
      bool overlap = a && b && a->is_v4 == b->is_v4 && (is_unspecified(*a) || is_unspecified(*b));
      if (same || overlap) {
        auto key = "server.listen[" + std::to_string(i) + "]";
        out.errors.push_back(
            at(c, key,
               "server.listen: " + c.listen[i].to_string() +
                   (same ? " is listed twice (also on line "
                         : " overlaps " + c.listen[j].to_string() + " (line ") +
                   std::to_string(c.line_of("server.listen[" + std::to_string(j) + "]")) +
                   "): the second bind would fail"));
      }
    }
  }
  // Roles (mx, submission, submissions) are all served; [pop_before_smtp]
  // windows count on mx listeners only.
  bool any_mx = std::any_of(c.listeners.begin(), c.listeners.end(),
                            [](const ListenerConfig& l) { return l.role == ListenerRole::mx; });
  if (c.pop_before_smtp.enabled() && !any_mx) {
    out.warnings.push_back(warn_at(c, "pop_before_smtp",
                                   "pop_before_smtp.window: no listener has role \"mx\", and "
                                   "windows open relaying on mx listeners only"));
  }
  const auto& blocks = c.local_networks.blocks();
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    auto key = "policy.local_networks[" + std::to_string(i) + "]";
    const auto& b = blocks[i];
    if (b.prefix == 0) {
      out.warnings.push_back(
          warn_at(c, key,
                  "policy.local_networks: " + b.to_string() + " holds every " +
                      (b.network.is_v4 ? std::string("IPv4") : std::string("IPv6")) +
                      " address: this is an open relay for anyone who can connect"));
    } else if (host_bits_set(b)) {
      out.warnings.push_back(warn_at(c, key,
                                     "policy.local_networks: " + b.to_string() +
                                         " has host bits set; it means " + masked(b).to_string() +
                                         " (write that, or a /32)"));
    }
  }
  if (started_as_root && c.user.empty()) {
    out.warnings.push_back(
        warn_at(c, "server",
                "server.user is not set: started as root, the relay keeps root's privileges "
                "after binding (set user = \"relayscope\" or another unprivileged user)"));
  }
}

ConfigReport check_config(const Config& c) {
  ConfigReport out;
  auto who = run_as(c);
  if (!who) {
    out.errors.push_back(who.error().message);
    return out;
  }
  check_static(c, who->started_as_root, out);
  // TLS files are read before dropping root: readable by the starter.
  RunAs starter = *who;
  if (who->started_as_root) {
    starter.uid = 0;
    starter.name = "root";
  }
  check_tls(c, starter, out);
  check_users(c, *who, out);
  check_log(c, *who, out);
  return out;
}

ConfigReport check_for_reload(const Config& c) {
  ConfigReport out;
  auto who = run_as(c);
  if (!who) {
    out.errors.push_back(who.error().message);
    return out;
  }
  check_static(c, false, out);
  check_users(c, *who, out);
  check_log(c, *who, out);
  return out;
}

}  // namespace relayscope::server
