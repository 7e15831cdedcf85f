// See collector_parts.hpp. A stored message is our few header lines (the
// envelope: Return-Path, X-Relayscope-Envelope-To, X-Relayscope-Client)
// followed by the message as received, written through the one durable
// write (temp file, fdatasync, rename, directory fsync) before the 250.
#include "collect/collector_parts.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>

#include "collect/envelope.hpp"
#include "common/ascii.hpp"
#include "common/durable_file.hpp"
#include "server/log_lines.hpp"
#include "server/refusal_log.hpp"
#include "smtp/route.hpp"
#include "smtpd/off_loop.hpp"

namespace relayscope::collect {

namespace {

using ascii::lower;  // one ASCII case helper (common/ascii.hpp)

std::string now_iso() {
  auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

}  // namespace

smtpd::SessionSettings collector_settings(const CollectorOptions& o) {
  smtpd::SessionSettings s;
  s.hostname = o.hostname;
  s.banner = "ESMTP relayscope collector";
  s.max_message_size = o.max_message;
  s.max_recipients = o.max_recipients;
  s.max_errors = 10;
  s.command_timeout = s.idle_timeout = o.command_timeout;
  s.data_timeout = o.data_timeout;
  // Open relays are sloppy clients and their mail is the evidence: no pause
  // to catch early talkers here.
  s.greet_pause = std::chrono::milliseconds(0);
  return s;
}

CollectorPolicy::CollectorPolicy(std::string domain, CollectorCounts& counts)
    : domain_(lower(std::move(domain))), counts_(counts) {}

std::optional<smtp::Reply> CollectorPolicy::check_recipient(const smtpd::SessionView&,
                                                            const smtp::Path& rcpt) {
  auto route = smtp::resolve_route(rcpt);
  bool ours = route.is_local([&](std::string_view d) { return d == domain_; },
                             [](std::string_view) { return false; });
  if (ours) return std::nullopt;
  ++counts_.refused_recipients;
  // The relay's words for the same situation (one reply per situation).
  return smtp::make_reply(554, "5.7.1 " + rcpt.wire() + ": Relay access denied");
}

void CollectorPolicy::command_refused(const smtpd::SessionView& s, const smtpd::CommandRefusal& r) {
  spdlog::info("{}", server::noqueue_line(s, r));
}

struct CollectorSink::Context {
  CollectorOptions options;
  std::unique_ptr<store::Store> owned;
  store::Store* shared = nullptr;
  CollectorCounts& counts;
  asio::thread_pool writer{1};
  std::atomic<std::uint64_t> next_id{0};
  Context(CollectorOptions o, std::unique_ptr<store::Store> s, store::Store* sh, CollectorCounts& c)
      : options(std::move(o)), owned(std::move(s)), shared(sh), counts(c) {}
};

namespace {

// What the writer thread reports back.
struct Kept {
  bool ok = false;
  std::string error;
  store::Arrival arrival;
  bool recorded = false;
  std::optional<store::TokenOwner> owner;  // the probe that carried the token
};

// The probe behind a token, for the arrival line. A lookup that fails only
// costs the line its probe (the arrival is recorded either way); a probe
// still in flight is not stored yet, so mail that beats it names none.
std::optional<store::TokenOwner> owner_of(store::Store& db, const std::string& token) {
  auto owner = db.token_owner(token);
  if (!owner) {
    spdlog::warn("collect: cannot look up token {}: {}", server::log_lines::clean(token),
                 owner.error().message);
    return std::nullopt;
  }
  return *owner;
}

class CollectorWriter final : public smtpd::MessageWriter {
 public:
  CollectorWriter(std::shared_ptr<CollectorSink::Context> c, std::shared_ptr<DurableFile> f,
                  std::string id, std::size_t prefix, const smtpd::ClientInfo& client,
                  const smtpd::Envelope& env)
      : c_(std::move(c)),
        file_(std::move(f)),
        id_(std::move(id)),
        prefix_(prefix),
        client_(client.address),
        env_(env) {}

  asio::awaitable<bool> write(std::string chunk) override {
    auto job = [f = file_, chunk = std::move(chunk)]() {
      return static_cast<bool>(f->append(chunk));
    };
    bool ok = co_await smtpd::run_off_loop<bool>(c_->writer, std::move(job));
    co_return ok;
  }

  asio::awaitable<smtp::Reply> commit() override {
    auto c = c_;
    auto job = [c, f = file_, id = id_, prefix = prefix_, client = client_, env = env_]() {
      Kept k;
      if (c->options.before_sync) c->options.before_sync();
      auto s = f->finish(true);
      if (s) s = sync_directory(c->options.spool_dir, true);
      if (!s) {
        k.error = s.error().message;
        return k;
      }
      k.ok = true;
      // Classified from the stored file, on this thread (bounces are parsed).
      std::ifstream in(f->final_path(), std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      auto message = ss.str().substr(std::min(prefix, ss.str().size()));
      auto v = classify_envelope(env.mail_from, env.recipients, message,
                                 c->options.sender_local_part, c->options.recipient_local_part);
      auto& a = k.arrival;
      a.token = v.token;
      a.kind = v.kind;
      a.received_at = now_iso();
      a.client_ip = client;
      a.mail_from = env.mail_from;
      for (const auto& r : env.recipients) a.rcpt_to += (a.rcpt_to.empty() ? "" : ",") + r;
      a.message_path = f->final_path();
      if (c->owned) {
        auto added = c->owned->add_arrival(a);
        k.recorded = static_cast<bool>(added);
        if (!added) k.error = added.error().message;
        if (added) k.owner = owner_of(*c->owned, a.token);
      }
      return k;
    };
    auto kept = co_await smtpd::run_off_loop<Kept>(c_->writer, std::move(job));
    if (!kept.ok)
      co_return smtp::make_reply(451, "4.3.0 Cannot keep the message now; try again later");
    if (!c->owned) {
      // A store shared with the loop's other users stays on the loop thread.
      auto added = c->shared->add_arrival(kept.arrival);
      kept.recorded = static_cast<bool>(added);
      if (added) kept.owner = owner_of(*c->shared, kept.arrival.token);
    }
    if (!kept.recorded) {
      co_return smtp::make_reply(451, "4.3.0 Cannot record the message now; try again later");
    }
    const auto& kind = kept.arrival.kind;
    // One line per arrival, under the id the 250 names.
    server::log_lines::Arrival line;
    line.token = kept.arrival.token;
    if (kept.owner) {
      line.probe = std::to_string(kept.owner->probe_id);
      line.run = std::to_string(kept.owner->run_id);
    }
    line.result = kind == "delivery" ? "delivered" : kind == "bounce" ? "bounced" : kind;
    line.from = kept.arrival.mail_from;
    line.client_ip = client_;
    spdlog::info("{}", server::log_lines::arrival(id_, line));
    auto& n = c->counts;
    ++(kind == "delivery"  ? n.deliveries
       : kind == "bounce"  ? n.bounces
       : kind == "warning" ? n.warnings
                           : n.unmatched);
    co_return smtp::make_reply(250, "2.0.0 Kept as " + id_);
  }

  asio::awaitable<void> abort() override {
    auto job = [f = file_]() {
      f->abandon();
      return true;
    };
    co_await smtpd::run_off_loop<bool>(c_->writer, std::move(job));
  }

 private:
  std::shared_ptr<CollectorSink::Context> c_;
  std::shared_ptr<DurableFile> file_;
  std::string id_;
  std::size_t prefix_;
  std::string client_;
  smtpd::Envelope env_;
};

}  // namespace

CollectorSink::CollectorSink(const CollectorOptions& options, std::unique_ptr<store::Store> owned,
                             store::Store* shared, CollectorCounts& counts)
    : context_(std::make_shared<Context>(options, std::move(owned), shared, counts)) {}

CollectorSink::~CollectorSink() {
  context_->writer.join();
}

asio::awaitable<std::unique_ptr<smtpd::MessageWriter>> CollectorSink::open(
    const smtpd::ClientInfo& client, const smtpd::Envelope& env) {
  auto c = context_;
  auto id = fmt::format("{}-{}-{}", std::time(nullptr), ::getpid(), ++c->next_id);
  std::string head = "Return-Path: <" + env.mail_from + ">\r\n";
  for (const auto& r : env.recipients) head += "X-Relayscope-Envelope-To: <" + r + ">\r\n";
  head += "X-Relayscope-Client: " + client.address + "\r\n";
  auto job = [c, id, head]() -> std::shared_ptr<DurableFile> {
    const auto& dir = c->options.spool_dir;
    auto f = DurableFile::create(dir + "/." + id + ".eml.tmp", dir + "/" + id + ".eml");
    if (!f) return nullptr;
    auto file = std::make_shared<DurableFile>(std::move(*f));
    if (!file->append(head)) return nullptr;
    return file;
  };
  auto file = co_await smtpd::run_off_loop<std::shared_ptr<DurableFile>>(c->writer, std::move(job));
  if (!file) co_return nullptr;
  co_return std::make_unique<CollectorWriter>(c, std::move(file), id, head.size(), client, env);
}

}  // namespace relayscope::collect
