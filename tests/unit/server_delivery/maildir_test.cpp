// Maildir delivery: tmp/ then new/, the prefix before the message, nothing
// left in tmp/, unsafe names refused; unique file names in Maildir style.
#include "server/maildir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "test_io.hpp"

namespace relayscope::server {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

TEST(Maildir, DeliversThroughTmpIntoNew) {
  ScratchDir dir;
  Batch batch(true);
  LocalMailbox box{"example.test", "bob"};
  auto path = deliver_to_maildir(dir.path(), box, "Return-Path: <a@b>\r\n",
                                 "Subject: x\r\n\r\nhi\r\n", "mx.example.test", batch);
  ASSERT_TRUE(path) << path.error().message;
  auto base = dir.path() + "/example.test/bob";
  EXPECT_EQ(fs::path(*path).parent_path().string(), base + "/new");
  EXPECT_TRUE(fs::is_directory(base + "/cur"));
  EXPECT_TRUE(fs::is_empty(base + "/tmp"));
  std::ifstream in(*path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "Return-Path: <a@b>\r\nSubject: x\r\n\r\nhi\r\n");
  // new/ is left for the batch to fsync (group commit).
  EXPECT_EQ(batch.dirs().count(base + "/new"), 1u);
  // A Maildir made by this delivery: its own entries are synced too.
  EXPECT_EQ(batch.dirs().count(base), 1u);
  EXPECT_EQ(batch.dirs().count(dir.path() + "/example.test"), 1u);
  EXPECT_EQ(batch.dirs().count(dir.path()), 1u);
  // The next delivery finds it made: only new/ is synced.
  Batch second(true);
  ASSERT_TRUE(deliver_to_maildir(dir.path(), box, "", "m\r\n", "mx.example.test", second));
  EXPECT_EQ(second.dirs(), std::set<std::string>{base + "/new"});
}

TEST(Maildir, RefusesUnsafeNames) {
  ScratchDir dir;
  Batch batch(false);
  for (const auto& box :
       {LocalMailbox{"example.test", "../etc"}, LocalMailbox{"example.test", ""},
        LocalMailbox{"../x", "bob"}, LocalMailbox{"a/b", "bob"}, LocalMailbox{"", "bob"}}) {
    EXPECT_FALSE(deliver_to_maildir(dir.path(), box, "", "m", "h", batch)) << box.address();
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Maildir, UniqueNamesInMaildirStyle) {
  std::set<std::string> names;
  std::regex form(R"(\d+\.M\d+P\d+Q\d+\.mx_host_x)");
  for (int i = 0; i < 1000; ++i) {
    auto n = maildir_unique_name("mx/host:x");
    EXPECT_TRUE(std::regex_match(n, form)) << n;
    names.insert(n);
  }
  EXPECT_EQ(names.size(), 1000u);
}

}  // namespace
}  // namespace relayscope::server
