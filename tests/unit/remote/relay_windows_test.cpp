// POP-before-SMTP windows: durable files (atomic, strict format), expiry by
// time, the relay's reader seeing new windows without a signal, lookups by
// address and user, and a world-writable directory refused.
#include "server/relay_windows.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace relayscope::server {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

class Windows : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("relayscope-windows-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_);
    dir_ = (root_ / "spool" / "windows").string();
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
  std::string dir_;
  WallClock::time_point now_ = WallClock::time_point(std::chrono::seconds(1'800'000'000));
};

TEST_F(Windows, GrantWritesOneDurableFileAndListShowsIt) {
  auto w = grant_window(dir_, ip("127.0.0.3"), "alice", 10min, now_);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->expires - w->granted, 10min);
  auto file = fs::path(dir_) / "127.0.0.3+alice.window";
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(fs::status(dir_).permissions() & fs::perms::others_all, fs::perms::none);
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text,
            "relayscope-window 1\nclient 127.0.0.3\nuser alice\ngranted 1800000000\n"
            "expires 1800000600\n");
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_NE(e.path().filename().string().front(), '.') << "no temporary file left";
  }
  auto open = open_windows(dir_, now_ + 1min);
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].user, "alice");
  EXPECT_TRUE(open_windows(dir_, now_ + 10min)->empty()) << "expired at its end";
}

TEST_F(Windows, GrantAgainExtendsAndUsersAreSeparate) {
  ASSERT_TRUE(grant_window(dir_, ip("127.0.0.3"), "alice", 10min, now_));
  ASSERT_TRUE(grant_window(dir_, ip("127.0.0.3"), "alice", 10min, now_ + 5min));
  ASSERT_TRUE(grant_window(dir_, ip("127.0.0.3"), "", 1min, now_));
  ASSERT_TRUE(grant_window(dir_, ip("::1"), "bob", 10min, now_));
  auto open = open_windows(dir_, now_ + 12min);
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].expires, now_ + 15min);
  EXPECT_EQ(open_windows(dir_, now_)->size(), 3u);
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "__1+bob.window"));
}

TEST_F(Windows, UserNamesAreSafeFileNames) {
  EXPECT_EQ(window_file_name(ip("127.0.0.3"), "../x"), "127.0.0.3+..%2fx.window");
  EXPECT_FALSE(grant_window(dir_, ip("127.0.0.3"), "a b", 1min, now_));
  EXPECT_FALSE(grant_window(dir_, ip("127.0.0.3"), "a:b", 1min, now_));
}

TEST_F(Windows, ReaderSeesNewWindowsWithoutASignalAndExpiry) {
  fs::create_directories(dir_);
  ::chmod(dir_.c_str(), 0770);
  RelayWindows reader(dir_, 1000, 3600s);  // long rescan interval: the mtime must do it
  auto real = WallClock::now();
  EXPECT_TRUE(reader.lookup(ip("127.0.0.3"), real).empty());
  ASSERT_TRUE(grant_window(dir_, ip("127.0.0.3"), "alice", 10min, real));
  auto found = reader.lookup(ip("127.0.0.3"), real + 1s);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].user, "alice");
  EXPECT_TRUE(reader.lookup(ip("127.0.0.4"), real + 1s).empty());
  ASSERT_TRUE(grant_window(dir_, ip("127.0.0.3"), "", 10min, real));
  EXPECT_EQ(reader.lookup(ip("127.0.0.3"), real + 2s).size(), 2u);
  EXPECT_TRUE(reader.lookup(ip("127.0.0.3"), real + 11min).empty()) << "closed by time";
  EXPECT_EQ(remove_expired_windows(dir_, real + 11min), 2u);
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(Windows, ReaderWithoutDirectoryAndRestart) {
  RelayWindows before(dir_);
  EXPECT_TRUE(before.lookup(ip("127.0.0.3"), now_).empty());
  ASSERT_TRUE(grant_window(dir_, ip("127.0.0.3"), "", 10min, now_));
  RelayWindows after(dir_);  // a restarted relay
  EXPECT_EQ(after.lookup(ip("127.0.0.3"), now_ + 9min).size(), 1u);
}

TEST_F(Windows, WorldWritableDirectoryIsRefused) {
  fs::create_directories(dir_);
  ::chmod(dir_.c_str(), 0777);
  auto g = grant_window(dir_, ip("127.0.0.3"), "", 10min, now_);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("may be written by anyone"), std::string::npos);
  std::ofstream(dir_ + "/127.0.0.3.window")
      << "relayscope-window 1\nclient 127.0.0.3\ngranted 1\nexpires 99999999999\n";
  RelayWindows reader(dir_);
  EXPECT_TRUE(reader.lookup(ip("127.0.0.3"), now_).empty());
  EXPECT_NE(reader.last_error().find("may be written by anyone"), std::string::npos);
  EXPECT_FALSE(open_windows(dir_, now_));
}

TEST_F(Windows, BadFilesAreIgnoredAndTheCapHolds) {
  fs::create_directories(dir_);
  ::chmod(dir_.c_str(), 0770);
  std::ofstream(dir_ + "/junk.window") << "hello\n";
  std::ofstream(dir_ + "/big.window") << std::string(4096, 'x');
  for (int i = 0; i < 20; ++i) {
    auto a = "127.0.1." + std::to_string(i);
    ASSERT_TRUE(grant_window(dir_, ip(a.c_str()), "", 10min, now_));
  }
  RelayWindows reader(dir_, 10);
  int seen = 0;
  for (int i = 0; i < 20; ++i) {
    auto a = "127.0.1." + std::to_string(i);
    seen += static_cast<int>(reader.lookup(ip(a.c_str()), now_).size());
  }
  EXPECT_LE(seen, 10);
  EXPECT_NE(reader.last_error().find("more than 10"), std::string::npos);
}

TEST(WindowFormat, StrictParse) {
  EXPECT_TRUE(parse_window("relayscope-window 1\nclient ::1\ngranted 1\nexpires 2\n"));
  for (const char* bad : {
           "",
           "relayscope-window 2\nclient ::1\ngranted 1\nexpires 2\n",
           "relayscope-window 1\nclient nope\ngranted 1\nexpires 2\n",
           "relayscope-window 1\nclient ::1\ngranted 1\n",
           "relayscope-window 1\nclient ::1\ngranted 1\nexpires 2",
           "relayscope-window 1\nclient ::1\ngranted 1\nexpires -2\n",
           "relayscope-window 1\nclient ::1\nclient ::2\ngranted 1\nexpires 2\n",
           "relayscope-window 1\nclient ::1\nuser a:b\ngranted 1\nexpires 2\n",
           "relayscope-window 1\nclient ::1\ngranted 1\nexpires 2\nextra 1\n",
       }) {
    EXPECT_FALSE(parse_window(bad)) << bad;
  }
  RelayWindow w;
  w.client = ip("2001:db8::7");
  w.user = "bob";
  w.granted = WallClock::time_point(100s);
  w.expires = WallClock::time_point(700s);
  auto back = parse_window(format_window(w));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->client, w.client);
  EXPECT_EQ(back->user, "bob");
  EXPECT_EQ(back->expires, w.expires);
}

}  // namespace
}  // namespace relayscope::server
