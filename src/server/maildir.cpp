// See maildir.hpp. File names follow the Maildir convention
// "<seconds>.M<micros>P<pid>Q<counter>.<host>" so readers (Dovecot, mutt,
// Python's mailbox) take them.
#include "server/maildir.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>

#include "common/durable_file.hpp"

namespace relayscope::server {

namespace fs = std::filesystem;

std::string maildir_unique_name(const std::string& hostname) {
  static std::atomic<std::uint64_t> counter{0};
  using namespace std::chrono;
  auto now = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  std::string host;
  for (char c : hostname) {
    host += (c == '/' || c == ':') ? '_' : c;
  }
  return fmt::format("{}.M{}P{}Q{}.{}", now / 1000000, now % 1000000, ::getpid(), ++counter, host);
}

namespace {

Expected<std::string> deliver(const std::string& root, const LocalMailbox& box,
                              std::string_view prefix,
                              const std::function<Status(DurableFile&)>& write_message,
                              const std::string& hostname, Batch& batch) {
  if (!safe_mailbox_name(box.user) || box.domain.empty() ||
      box.domain.find('/') != std::string::npos || box.domain.front() == '.') {
    return make_error("unsafe mailbox name " + box.address());
  }
  auto dir = fs::path(root) / box.domain / box.user;
  std::error_code ec;
  bool created = false;
  for (const char* sub : {"tmp", "new", "cur"}) {
    created = fs::create_directories(dir / sub, ec) || created;
    if (ec) {
      return make_error("cannot create " + (dir / sub).string() + ": " + ec.message());
    }
  }
  if (created) {
    // A new Maildir: its entries (and the domain's) must be durable too.
    batch.sync_dir_later(dir.string());
    batch.sync_dir_later(dir.parent_path().string());
    batch.sync_dir_later(root);
  }
  auto name = maildir_unique_name(hostname);
  // The one durable write: tmp/, fdatasync, rename into new/; new/ itself
  // is fsync'd by the batch before anyone is told.
  auto file = DurableFile::create((dir / "tmp" / name).string(), (dir / "new" / name).string());
  if (!file) return make_error("cannot deliver to " + dir.string() + ": " + file.error().message);
  auto s = file->append(prefix);
  if (s) s = write_message(*file);
  if (s) s = file->finish(batch.fsync_enabled());
  if (!s) return make_error("cannot deliver to " + dir.string() + ": " + s.error().message);
  auto final_path = file->final_path();
  batch.sync_dir_later((dir / "new").string());
  return final_path;
}

}  // namespace

Expected<std::string> deliver_to_maildir(const std::string& root, const LocalMailbox& box,
                                         std::string_view prefix, std::string_view message,
                                         const std::string& hostname, Batch& batch) {
  auto write = [message](DurableFile& f) { return f.append(message); };
  return deliver(root, box, prefix, write, hostname, batch);
}

Expected<std::string> deliver_to_maildir(const std::string& root, const LocalMailbox& box,
                                         std::string_view prefix, const SpoolMessage& message,
                                         const std::string& hostname, Batch& batch) {
  auto write = [&message](DurableFile& f) {
    return message.for_each_piece([&f](std::string_view piece) { return f.append(piece); });
  };
  return deliver(root, box, prefix, write, hostname, batch);
}

}  // namespace relayscope::server
