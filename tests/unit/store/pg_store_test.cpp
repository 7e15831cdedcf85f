// What only PostgreSQL has: its schema bookkeeping (relayscope_meta), a
// database migrated from version 1, refusals of foreign, empty and newer
// databases and of an unreachable server, and the text encoding that keeps
// NUL and invalid UTF-8 (which PostgreSQL's text refuses).
#include "store/pg_conn.hpp"
#include "store/schema.hpp"
#include "store_test_support.hpp"

namespace relayscope::store {
namespace {

std::string fresh() {
  auto& cluster = testing::PgCluster::shared();
  EXPECT_TRUE(cluster.ok()) << cluster.error();
  return cluster.ok() ? cluster.fresh_database()
                      : std::string("postgresql://postgres@127.0.0.1:1/none");
}

std::unique_ptr<pg::Conn> raw(const std::string& uri) {
  auto c = pg::Conn::open(uri);
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return c ? std::move(*c) : nullptr;
}

TEST(PgStore, TextEncodingRoundTrips) {
  std::string odd("a\\b\0c\xff\xc3\xa9\xed\xa0\x80 end", 15);
  auto enc = pg::encode_text(odd);
  EXPECT_EQ(enc.find('\0'), std::string::npos);
  EXPECT_EQ(pg::decode_text(enc), odd);
  EXPECT_EQ(pg::encode_text("plain text é"), "plain text é");  // stored as is
  EXPECT_EQ(pg::decode_text(pg::encode_text("\\x41")), "\\x41");
}

TEST(PgStore, SchemaIsVersionedAndAnOldDatabaseIsMigrated) {
  auto uri = fresh();
  std::int64_t with_hosts = 0, without = 0;
  {
    auto db = open_or_die(uri);
    ASSERT_TRUE(db);
    EXPECT_EQ(db->backend(), "postgresql");
    auto a = db->create_run(sample_run());
    auto b = db->create_run(sample_run());
    ASSERT_TRUE(a && b);
    with_hosts = *a, without = *b;
    auto hosts = make_hosts(2);
    ASSERT_OK(db->add_hosts(with_hosts, hosts));
  }
  auto c = raw(uri);
  ASSERT_TRUE(c);
  auto v = c->run("SELECT value FROM relayscope_meta WHERE name = 'schema_version'");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->text(0, 0), std::to_string(schema_version()));
  // Back to version 1.
  ASSERT_OK(
      c->exec("DROP TABLE address_leases; ALTER TABLE hosts DROP COLUMN lease_owner; "
              "ALTER TABLE hosts DROP COLUMN lease_until; ALTER TABLE runs DROP COLUMN excluded; "
              "ALTER TABLE runs DROP COLUMN prepared; ALTER TABLE probes DROP COLUMN greylisted; "
              "ALTER TABLE probes DROP COLUMN first_code; ALTER TABLE probes DROP COLUMN "
              "first_reply; "
              "UPDATE relayscope_meta SET value = '1' WHERE name = 'schema_version'"));
  auto db = open_or_die(uri);
  ASSERT_TRUE(db);
  auto runs = db->list_runs();
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 2u);
  for (const auto& r : *runs) EXPECT_EQ(r.prepared, r.id != without) << "run " << r.id;
  auto claimed = db->claim_hosts(with_hosts, "w", 10, 1000);  // version 3's columns are back
  ASSERT_TRUE(claimed) << claimed.error().message;
}

TEST(PgStore, RefusesForeignEmptyNewerAndUnreachableDatabases) {
  auto empty = fresh();
  auto e = open_postgres(empty, OpenMode::existing);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("not a relayscope database"), std::string::npos);

  auto foreign = fresh();
  {
    auto c = raw(foreign);
    ASSERT_TRUE(c);
    ASSERT_OK(c->exec("CREATE TABLE x (a int)"));
  }
  auto f = open_store(foreign, OpenMode::create);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("another application"), std::string::npos) << f.error().message;

  auto newer = fresh();
  ASSERT_TRUE(open_or_die(newer));
  {
    auto c = raw(newer);
    ASSERT_TRUE(c);
    ASSERT_OK(c->exec("UPDATE relayscope_meta SET value = '99' WHERE name = 'schema_version'"));
  }
  auto n = open_store(newer, OpenMode::create);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message.find("newer than this relayscope"), std::string::npos)
      << n.error().message;

  // Nothing listens on port 1 of 127.0.0.1.
  auto u = open_store("postgres://postgres@127.0.0.1:1/x?connect_timeout=5", OpenMode::create);
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message.find("cannot connect to PostgreSQL"), std::string::npos);
  EXPECT_TRUE(is_postgres_uri("postgres://"));
  EXPECT_TRUE(is_postgres_uri("postgresql://"));
  EXPECT_FALSE(is_postgres_uri("results.db"));
}

// A connection lost (the server restarted) is told apart and reconnected.
TEST(PgStore, ALostConnectionIsReconnected) {
  auto uri = fresh();
  auto db = open_or_die(uri);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->create_run(sample_run()));
  auto& cluster = testing::PgCluster::shared();
  ASSERT_TRUE(cluster.stop());
  EXPECT_FALSE(db->list_runs());
  EXPECT_TRUE(db->connection_lost());
  EXPECT_FALSE(db->reconnect());
  ASSERT_TRUE(cluster.start());
  ASSERT_OK(db->reconnect());
  auto runs = db->list_runs();
  ASSERT_TRUE(runs) << runs.error().message;
  EXPECT_EQ(runs->size(), 1u);
}

}  // namespace
}  // namespace relayscope::store
