// A spooled message read in pieces: the pieces make the message (never the
// envelope), a file cut short is refused, a removal while in use does not
// cut the reader short, and a Maildir delivery copies it piece by piece.
#include "server/spool_message.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server/maildir.hpp"
#include "server/spool_format.hpp"
#include "test_io.hpp"

namespace relayscope::server {
namespace {

using testing::ScratchDir;

// A queue file as the spool writes it, with a message of `size` bytes.
std::string write_queue_file(const std::string& path, std::size_t size, std::string& message) {
  message.clear();
  for (std::size_t i = 0; message.size() < size; ++i)
    message += "line " + std::to_string(i) + "\r\n";
  message.resize(size);
  SpoolEnvelope env;
  env.id = "Q1";
  env.arrival = 1;
  env.client = "127.0.0.1";
  env.mail_from = "a@b.test";
  env.recipients = {"bob@local.test"};
  std::ofstream(path, std::ios::binary) << format_envelope(env, message.size()) << message;
  return path;
}

TEST(SpoolMessage, PiecesMakeTheMessageWithoutTheEnvelope) {
  ScratchDir dir;
  std::string message;
  auto path = write_queue_file(dir.path() + "/Q1", 3 * SpoolMessage::piece_size + 123, message);
  auto m = SpoolMessage::open(path);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ((*m)->size(), message.size());
  std::string joined;
  std::size_t pieces = 0, largest = 0;
  auto s = (*m)->for_each_piece([&](std::string_view p) -> Status {
    ++pieces;
    largest = std::max(largest, p.size());
    joined += p;
    return Ok{};
  });
  ASSERT_TRUE(s);
  EXPECT_EQ(joined, message);
  EXPECT_EQ(pieces, 4u);
  EXPECT_EQ(largest, SpoolMessage::piece_size);
  auto tail = (*m)->read(message.size() - 5, 100);
  ASSERT_TRUE(tail);
  EXPECT_EQ(*tail, message.substr(message.size() - 5));
  EXPECT_EQ(*(*m)->read(message.size()), "");
  EXPECT_EQ(*(*m)->prefix(10), message.substr(0, 10));
}

TEST(SpoolMessage, RemovedWhileInUseIsStillReadWhole) {
  ScratchDir dir;
  std::string message;
  auto path = write_queue_file(dir.path() + "/Q1", 100000, message);
  auto m = SpoolMessage::open(path);
  ASSERT_TRUE(m);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  auto all = (*m)->read(0, message.size());
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, message);
}

TEST(SpoolMessage, AFileCutShortIsRefused) {
  ScratchDir dir;
  std::string message;
  auto path = write_queue_file(dir.path() + "/Q1", 5000, message);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
  auto m = SpoolMessage::open(path);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("cut short"), std::string::npos) << m.error().message;
  EXPECT_FALSE(SpoolMessage::open(dir.path() + "/missing"));
}

TEST(SpoolMessage, MaildirDeliveryCopiesItPieceByPiece) {
  ScratchDir dir;
  std::string message;
  auto path = write_queue_file(dir.path() + "/Q1", 2 * SpoolMessage::piece_size + 7, message);
  auto m = SpoolMessage::open(path);
  ASSERT_TRUE(m);
  Batch batch(false);
  LocalMailbox box{"local.test", "bob"};
  auto delivered = deliver_to_maildir(dir.path() + "/mail", box, "Delivered-To: bob@local.test\r\n",
                                      **m, "mx.test", batch);
  ASSERT_TRUE(delivered) << delivered.error().message;
  std::ifstream in(*delivered, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "Delivered-To: bob@local.test\r\n" + message);
}

}  // namespace
}  // namespace relayscope::server
