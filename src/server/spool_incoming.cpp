// A message streamed into the spool (see spool.hpp): begin() writes the
// envelope into tmp/<id> (or over a spent file of free/), append() the message as it arrives,
// commit() hands it to the group commit (its size written last), discard() removes it;
// commit_whole() leaves all of it to the group commit's round.
#include <string>

#include "common/durable_file.hpp"
#include "server/spool.hpp"

namespace relayscope::server {

// A message being streamed into tmp/: only ever touched by one worker job
// at a time (its session awaits each step before the next).
struct Spool::Incoming {
  explicit Incoming(DurableFile f) : file(std::move(f)) {}
  DurableFile file;
  std::string id;
  std::uint64_t size_at = 0;     // where the size's digits start
  std::uint64_t body_start = 0;  // where the message starts
};

namespace {
// The size is not known before the end: written as fixed-width digits and
// overwritten in place at commit (parse_envelope reads leading zeros).
constexpr std::size_t size_digits = 20;
}  // namespace

asio::awaitable<Expected<std::shared_ptr<Spool::Incoming>>> Spool::begin(SpoolEnvelope envelope,
                                                                         std::string first) {
  if (envelope.id.empty()) envelope.id = new_id();
  auto head = format_envelope(envelope, 0);
  auto at = head.find("\nsize: 0\n");
  head.replace(at + 7, 1, std::string(size_digits, '0'));
  auto tmp = tmp_dir() + "/" + envelope.id;
  auto final_path = queue_dir() + "/" + envelope.id;
  auto job = [tmp, final_path, head = std::move(head), first = std::move(first), id = envelope.id,
              at, pool = pool_](Batch&) -> Expected<std::shared_ptr<Incoming>> {
    auto file = new_file(*pool, tmp, final_path);
    if (!file) return file.error();
    auto in = std::make_shared<Incoming>(std::move(*file));
    in->id = id;
    in->size_at = at + 7;
    in->body_start = head.size();
    auto s = in->file.append(head);
    if (s) s = in->file.append(first);
    if (!s) return s.error();
    return in;
  };
  auto r = co_await worker_.run<std::shared_ptr<Incoming>>(std::move(job));
  co_return r;
}

asio::awaitable<Status> Spool::append(std::shared_ptr<Incoming> message, std::string chunk) {
  auto job = [message, chunk = std::move(chunk)](Batch&) -> Status {
    return message->file.append(chunk);
  };
  auto r = co_await worker_.run<Ok>(std::move(job));
  co_return r;
}

asio::awaitable<Expected<std::string>> Spool::commit(std::shared_ptr<Incoming> message) {
  // The size, known now, is the file's last write (on the sync thread).
  auto last_write = [message]() -> Status {
    auto digits = std::to_string(message->file.size() - message->body_start);
    digits.insert(0, size_digits - digits.size(), '0');
    return message->file.write_at(message->size_at, digits);
  };
  GroupCommit::Item item{std::shared_ptr<DurableFile>(message, &message->file), last_write};
  Status durable = co_await group_->commit(std::move(item));
  if (!durable) {
    // Whatever is left of it goes (the group commit already took away a
    // name whose directory sync failed); the client is told 451.
    co_await discard(message);
    co_return durable.error();
  }
  co_return message->id;
}

asio::awaitable<Expected<std::string>> Spool::commit_whole(SpoolEnvelope envelope,
                                                           std::string content) {
  if (envelope.id.empty()) envelope.id = new_id();
  auto message = std::make_shared<Incoming>(DurableFile{});
  message->id = envelope.id;
  auto tmp = tmp_dir() + "/" + envelope.id;
  auto final_path = queue_dir() + "/" + envelope.id;
  // Runs on the sync thread, first in its round: the file exists only from
  // there on (a failure there fails this message alone). The check and the
  // head are made there too, off the event loop.
  auto create = [message, tmp = std::move(tmp), final_path = std::move(final_path),
                 envelope = std::move(envelope), content = std::move(content),
                 pool = pool_]() mutable -> Status {
    auto file = write_whole_file(*pool, tmp, final_path, envelope, content);
    if (!file) return file.error();
    message->file = std::move(*file);
    return Ok{};
  };
  GroupCommit::Item item{std::shared_ptr<DurableFile>(message, &message->file), std::move(create)};
  Status durable = co_await group_->commit(std::move(item));
  if (!durable) {
    // The round took away what it had made of it; the client is told 451.
    co_return durable.error();
  }
  co_return message->id;
}

asio::awaitable<void> Spool::discard(std::shared_ptr<Incoming> message) {
  auto job = [message](Batch&) -> Status {
    message->file.abandon();
    return Ok{};
  };
  auto r = co_await worker_.run<Ok>(std::move(job));
  (void)r;
}

}  // namespace relayscope::server
