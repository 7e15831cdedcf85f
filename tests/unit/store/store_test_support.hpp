// What the store's tests share: records to store, a temporary directory,
// and the conformance fixture that gives each test a fresh database on the
// backend under test (a SQLite file, or a database in the test's own
// PostgreSQL cluster).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "support/pg_cluster.hpp"

namespace relayscope::store {

namespace fs = std::filesystem;

#define ASSERT_OK(expr)                                               \
  do {                                                                \
    auto status_ = (expr);                                            \
    ASSERT_TRUE(status_) << (status_ ? "" : status_.error().message); \
  } while (0)

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "relayscope-store-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

inline std::unique_ptr<Store> open_or_die(const std::string& path) {
  auto s = open_store(path, OpenMode::create);
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return s ? std::move(*s) : nullptr;
}

inline store::Run sample_run() {
  store::Run r;
  r.label = "July 1999";
  r.started_at = "1999-07-03T10:00:00Z";
  r.status = "running";
  r.params_json = R"({"sample":500,"seed":7})";
  r.funnel = {9238, 3, 3896, 3844, 500};
  return r;
}

inline Probe sample_probe(std::int64_t host_id, const std::string& ip, const std::string& outcome,
                          int code, const std::string& token) {
  Probe p;
  p.host_id = host_id;
  p.ip = ip;
  p.domain = "d" + std::to_string(host_id) + ".test";
  p.outcome = outcome;
  p.code = code;
  p.reason = code >= 500 ? "rejected (5xx)" : (code >= 400 ? "rejected (4xx)" : "ok");
  p.token = token;
  p.started_at = "1999-07-03T10:00:01Z";
  p.duration_us = 1234;
  p.greeting_host = "mx.example.test";
  p.esmtp = true;
  p.starttls_offered = host_id % 2 == 0;
  p.transcript = {{0, '*', "connect " + ip + ":25"},
                  {10, '<', "220 mx.example.test ESMTP"},
                  {11, '>', "EHLO prober.test"},
                  {20, '<', "250-mx.example.test"},
                  {21, '<', "250 PIPELINING"}};
  if (code != 0) {
    p.transcript.push_back({30, '>', "RCPT TO:<x@relay.test>"});
    p.transcript.push_back({40, '<', std::to_string(code) + "-first line"});
    p.transcript.push_back({41, '<', std::to_string(code) + " 5.7.1 relay denied"});
    p.transcript.push_back({50, '>', "QUIT"});
    p.transcript.push_back({60, '<', "221 bye"});
  }
  return p;
}

inline std::vector<Host> make_hosts(int n, int sampled_every = 1) {
  std::vector<Host> hosts;
  for (int i = 0; i < n; ++i) {
    Host h;
    h.ip = "127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    h.mx_host = "mx" + std::to_string(i) + ".test";
    h.domains = {"a" + std::to_string(i) + ".test", "b" + std::to_string(i) + ".test"};
    h.fallback_ips = {"127.2.0." + std::to_string(i % 250 + 1)};
    h.sampled = i % sampled_every == 0;
    hosts.push_back(std::move(h));
  }
  return hosts;
}

// Parameter: "sqlite" or "postgresql".
class StoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  // A new, empty database of the backend under test. PostgreSQL missing or
  // failing to start fails the test: it is never skipped.
  std::string location() {
    if (GetParam() == "sqlite") return dir_.file("t" + std::to_string(++files_) + ".db");
    auto& cluster = testing::PgCluster::shared();
    EXPECT_TRUE(cluster.ok()) << cluster.error();
    if (!cluster.ok()) return "postgresql://postgres@127.0.0.1:1/none";  // refused at once
    auto uri = cluster.fresh_database();
    EXPECT_FALSE(uri.empty()) << cluster.error();
    return uri;
  }

 private:
  TempDir dir_;
  int files_ = 0;
};

}  // namespace relayscope::store
