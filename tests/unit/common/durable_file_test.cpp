// The one durable write: temp file then rename, the mode of a new file, an
// existing file's owner and mode kept when asked, stale temp files, the
// sync/publish halves a group commit uses, and a spent file reused (emptied
// or written over in place).
#include "common/durable_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace relayscope {
namespace {

namespace fs = std::filesystem;

class Durable : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/relayscope-durable-unit-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static struct stat status(const std::string& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st;
  }
  std::string dir_;
};

TEST_F(Durable, WritesThroughTheTempNameAndLeavesNoTemp) {
  ASSERT_TRUE(write_durably(path(".a.tmp"), path("a"), "hello\n"));
  EXPECT_EQ(read(path("a")), "hello\n");
  EXPECT_FALSE(fs::exists(path(".a.tmp")));
  // A second write replaces the file whole.
  ASSERT_TRUE(write_durably(path(".a.tmp"), path("a"), "bye\n"));
  EXPECT_EQ(read(path("a")), "bye\n");
}

TEST_F(Durable, NewFileGetsTheModeAskedFor) {
  auto old = ::umask(022);
  DurableOptions o;
  o.mode = 0640;
  auto s = write_durably(path(".w.tmp"), path("w"), "x", true, o);
  ::umask(old);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(status(path("w")).st_mode & 07777, 0640u);
  ASSERT_TRUE(write_durably(path(".d.tmp"), path("d"), "x"));
  EXPECT_EQ(status(path("d")).st_mode & 07777, 0600u);  // the default
}

TEST_F(Durable, KeepsAnExistingFilesOwnerAndModeWhenAsked) {
  { std::ofstream(path("users")) << "old\n"; }
  ASSERT_EQ(::chmod(path("users").c_str(), 0604), 0);
  // Root can give the file away (as `relayscope passwd` run by root finds
  // it, owned by the relay's user); others keep their own ids.
  uid_t uid = ::geteuid() == 0 ? 65534 : ::geteuid();
  gid_t gid = ::geteuid() == 0 ? 65534 : ::getegid();
  ASSERT_EQ(::chown(path("users").c_str(), uid, gid), 0);
  DurableOptions keep;
  keep.keep_existing_owner_and_mode = true;
  auto s = write_durably(path(".users.tmp"), path("users"), "new\n", true, keep);
  ASSERT_TRUE(s) << s.error().message;
  auto st = status(path("users"));
  EXPECT_EQ(read(path("users")), "new\n");
  EXPECT_EQ(st.st_mode & 07777, 0604u);
  EXPECT_EQ(st.st_uid, uid);
  EXPECT_EQ(st.st_gid, gid);
  // Without the option the new file has its own mode.
  ASSERT_TRUE(write_durably(path(".users.tmp"), path("users"), "newer\n"));
  EXPECT_EQ(status(path("users")).st_mode & 07777, 0600u);
}

TEST_F(Durable, AStaleTempIsReplacedOnlyWhenAsked) {
  { std::ofstream(path(".s.tmp")) << "left by a dead writer"; }
  EXPECT_FALSE(write_durably(path(".s.tmp"), path("s"), "x"));
  EXPECT_FALSE(fs::exists(path("s")));
  // Never through a link planted at the temp name, either.
  DurableOptions o;
  o.replace_stale_tmp = true;
  ASSERT_TRUE(write_durably(path(".s.tmp"), path("s"), "x", true, o));
  EXPECT_EQ(read(path("s")), "x");
  fs::create_symlink(path("target"), path(".l.tmp"));
  EXPECT_FALSE(write_durably(path(".l.tmp"), path("l"), "x"));
  EXPECT_FALSE(fs::exists(path("target")));
}

TEST_F(Durable, SyncThenPublishAndAbandon) {
  auto f = DurableFile::create(path("tmp1"), path("final1"));
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->append("abc"));
  ASSERT_TRUE(f->write_at(0, "A"));
  EXPECT_EQ(f->size(), 3u);
  EXPECT_GE(f->fd(), 0);
  ASSERT_TRUE(f->sync());
  EXPECT_FALSE(fs::exists(path("final1")));  // the name comes only with publish()
  ASSERT_TRUE(f->publish());
  EXPECT_TRUE(f->published());
  EXPECT_EQ(read(path("final1")), "Abc");
  EXPECT_FALSE(fs::exists(path("tmp1")));
  {
    auto g = DurableFile::create(path("tmp2"), path("final2"));
    ASSERT_TRUE(g);
    ASSERT_TRUE(g->append("x"));
  }  // dropped unfinished: removed
  EXPECT_FALSE(fs::exists(path("tmp2")));
  EXPECT_FALSE(fs::exists(path("final2")));
}

TEST_F(Durable, AnEmptyOneRemovesNothingAndTakesAFileMovedIn) {
  DurableFile f;
  f.abandon();  // no file yet: nothing to remove, no error
  EXPECT_EQ(f.fd(), -1);
  auto made = DurableFile::create(path("tmp3"), path("final3"));
  ASSERT_TRUE(made);
  f = std::move(*made);
  ASSERT_TRUE(f.append("moved in"));
  ASSERT_TRUE(f.publish());
  EXPECT_EQ(read(path("final3")), "moved in");
  // A file replaced while unfinished is removed, as by the destructor.
  auto first = DurableFile::create(path("tmp4"), path("final4"));
  auto second = DurableFile::create(path("tmp5"), path("final5"));
  ASSERT_TRUE(first && second);
  DurableFile g = std::move(*first);
  g = std::move(*second);
  EXPECT_FALSE(fs::exists(path("tmp4")));
  EXPECT_TRUE(fs::exists(path("tmp5")));
  g.abandon();
  EXPECT_FALSE(fs::exists(path("tmp5")));
}

ino_t inode(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_ino;
}

TEST_F(Durable, AFileReusedInPlaceHoldsTheNewContentAloneInTheSameInode) {
  const std::string old_content(10000, 'o');
  ASSERT_TRUE(write_durably(path(".s.tmp"), path("spent"), old_content));
  auto ino = inode(path("spent"));
  auto f = DurableFile::reuse(path("spent"), path("new"), DurableFile::Reuse::in_place);
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_TRUE(f->write_whole("head\n", "shorter body"));
  EXPECT_EQ(f->size(), 17u);
  ASSERT_TRUE(f->finish(true));
  EXPECT_EQ(read(path("new")), "head\nshorter body");  // the old tail cut off
  EXPECT_EQ(inode(path("new")), ino);
  EXPECT_FALSE(fs::exists(path("spent")));

  // Longer than the old content: written on past its end.
  const std::string longer(20000, 'n');
  auto g = DurableFile::reuse(path("new"), path("newer"), DurableFile::Reuse::in_place);
  ASSERT_TRUE(g);
  ASSERT_TRUE(g->write_whole("", longer));
  ASSERT_TRUE(g->finish(true));
  EXPECT_EQ(read(path("newer")), longer);
  EXPECT_EQ(inode(path("newer")), ino);
}

TEST_F(Durable, AFileReusedEmptiedStartsEmptyAndWriteWholeWantsAFreshFile) {
  ASSERT_TRUE(write_durably(path(".s.tmp"), path("spent"), "old bytes"));
  auto f = DurableFile::reuse(path("spent"), path("new"));
  ASSERT_TRUE(f);
  EXPECT_EQ(fs::file_size(path("spent")), 0u);
  ASSERT_TRUE(f->append("a"));
  auto twice = f->write_whole("b", "c");  // not from the start: refused
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("written already"), std::string::npos);
  ASSERT_TRUE(f->finish(true));
  EXPECT_EQ(read(path("new")), "a");
  // Nothing to reuse: a clear error naming the file.
  auto gone = DurableFile::reuse(path("gone"), path("x"), DurableFile::Reuse::in_place);
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find(path("gone")), std::string::npos);
}

TEST_F(Durable, ErrorsNameTheFile) {
  auto s = write_durably(path("nodir/.x.tmp"), path("nodir/x"), "x");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("nodir/.x.tmp"), std::string::npos) << s.error().message;
  EXPECT_EQ(parent_directory("name"), ".");
  EXPECT_EQ(parent_directory("/a/b"), "/a");
}

}  // namespace
}  // namespace relayscope
