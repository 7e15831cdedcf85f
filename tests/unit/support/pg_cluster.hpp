// A private PostgreSQL for tests: Debian's initdb in a temporary directory,
// pg_ctl on 127.0.0.1 and a free port (as user postgres when run as root),
// one cluster per test process, a fresh database per test; stopped and
// removed at exit. Missing PostgreSQL binaries are an error, never a skip:
// scripts/bootstrap installs them.
#pragma once

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "store/pg_conn.hpp"

namespace relayscope::testing {

class PgCluster {
 public:
  // The process's cluster, started on first use; `error()` says why not.
  static PgCluster& shared() {
    static PgCluster cluster;
    return cluster;
  }

  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }
  int port() const { return port_; }
  const std::string& data_dir() const { return data_; }

  // The URI of a new, empty database.
  std::string fresh_database() {
    std::string name = "t" + std::to_string(++databases_) + "_" + std::to_string(::getpid());
    auto c = store::pg::Conn::open(uri("postgres"));
    if (!c) {
      error_ = c.error().message;
      return {};
    }
    if (auto s = (*c)->exec("CREATE DATABASE " + name); !s) {
      error_ = s.error().message;
      return {};
    }
    return uri(name);
  }

  std::string uri(const std::string& database) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }

  // pg_ctl stop / start, for tests of a database that goes away.
  bool stop() { return run(pg_ctl("-m fast stop")); }
  bool start() { return run(pg_ctl("-w -t 60 -o '" + options() + "' start")); }

  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;
  ~PgCluster() {
    if (started_) (void)run(pg_ctl("-m immediate stop"));
    if (!base_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(base_, ec);
    }
  }

 private:
  PgCluster() {
    bin_ = find_bin();
    if (bin_.empty()) {
      error_ =
          "PostgreSQL's initdb was not found under /usr/lib/postgresql/*/bin "
          "(scripts/bootstrap installs the postgresql package)";
      return;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "relayscope-pg-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      error_ = "mkdtemp failed";
      return;
    }
    base_ = tmpl;
    data_ = base_ + "/data";
    std::filesystem::create_directory(data_);
    as_postgres_ = ::geteuid() == 0;
    if (as_postgres_) {
      // PostgreSQL refuses to run as root: the cluster belongs to user postgres.
      struct passwd* pw = ::getpwnam("postgres");
      if (!pw) {
        error_ = "no user 'postgres' to run PostgreSQL as";
        return;
      }
      std::filesystem::permissions(base_, std::filesystem::perms(0755));
      if (::chown(data_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        error_ = "cannot chown the data directory";
        return;
      }
    }
    // Its output goes to stdout: initdb wants an empty directory.
    if (!run(bin_ + "/initdb -D " + data_ + " -A trust -U postgres -E UTF8 --no-locale " +
             ">/dev/null")) {
      error_ = "initdb failed in " + data_;
      return;
    }
    port_ = free_port();
    if (!start()) {
      error_ = "pg_ctl start failed (see " + data_ + "/log)";
      return;
    }
    started_ = true;
  }

  static std::string find_bin() {
    std::string best;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      auto bin = e.path() / "bin";
      if (std::filesystem::exists(bin / "initdb") && bin.string() > best) best = bin.string();
    }
    return best;
  }

  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    ::close(fd);
    return port;
  }

  std::string options() const {
    // Loopback only, the socket in our directory; no fsync: a test cluster.
    return "-h 127.0.0.1 -p " + std::to_string(port_) + " -k " + data_ +
           " -c fsync=off -c full_page_writes=off -c max_connections=200";
  }

  std::string pg_ctl(const std::string& what) const {
    return bin_ + "/pg_ctl -D " + data_ + " -l " + data_ + "/log " + what + " >/dev/null 2>&1";
  }

  bool run(const std::string& cmd) const {
    std::string full = as_postgres_ ? "runuser -u postgres -- sh -c \"" + cmd + "\"" : cmd;
    return std::system(full.c_str()) == 0;
  }

  std::string bin_, base_, data_, error_;
  int port_ = 0;
  int databases_ = 0;
  bool as_postgres_ = false;
  bool started_ = false;
};

}  // namespace relayscope::testing
