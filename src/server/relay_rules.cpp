// See relay_rules.hpp.
#include "server/relay_rules.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/relay_metrics.hpp"
#include "server/routing.hpp"
#include "smtp/from_header.hpp"
#include "smtp/printable.hpp"

namespace relayscope::server {

namespace {

// The header section the From: check reads (smtp::from_header_addresses'
// own limit): a longer one fails closed.
constexpr std::size_t max_header_section = 256 * 1024;

RateLimits limits_of(const RateLimitConfig& c) {
  RateLimits l;
  l.messages_per_hour_per_user = c.messages_per_hour_per_user;
  l.recipients_per_hour_per_user = c.recipients_per_hour_per_user;
  l.messages_per_hour_per_client = c.messages_per_hour_per_client;
  l.recipients_per_hour_per_client = c.recipients_per_hour_per_client;
  return l;
}

RecipientMap map_of(const Config& c, std::vector<std::string> users) {
  return RecipientMap(c.local_domains, c.aliases,
                      std::set<std::string>(users.begin(), users.end()));
}

// Whether the header section (up to its empty line) has a field named
// From (RFC 5322: the name, optional white space, a colon; any case).
bool has_from_field(std::string_view header) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto end = header.find('\n', pos);
    auto line =
        header.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line.empty() || line == "\r") return false;  // the end of the header section
    if (line.size() >= 4 && ascii_lower(line.substr(0, 4)) == "from") {
      auto rest = line.substr(4);
      auto colon = rest.find_first_not_of(" \t");
      if (colon != std::string_view::npos && rest[colon] == ':') return true;
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return false;
}

void add_unique(std::vector<std::string>& v, std::string s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

}  // namespace

// Who the transaction speaks for: the AUTH user, or the user of a
// POP-before-SMTP window granted with --user (the session sets
// authorised_user at MAIL FROM to one or the other), which binds alike.
std::string bound_user(const smtpd::SessionView& s) {
  return ascii_lower(s.authorised_user.empty() ? std::string_view(s.auth_user) : s.authorised_user);
}

std::string bound_user(const smtpd::Envelope& e) {
  return ascii_lower(e.authorised_user.empty() ? e.auth_user : e.authorised_user);
}

RelayRules::RelayRules(const RelayPolicy& policy, const Config& config,
                       std::vector<std::string> users, Now now)
    : policy_(policy),
      map_(map_of(config, std::move(users))),
      binding_(config.local_domains, config.senders),
      limiter_(limits_of(config.rate_limits)),
      now_(now ? std::move(now) : Now([] { return Clock::now(); })) {}

void RelayRules::replace(const Config& config, std::vector<std::string> users) {
  map_ = map_of(config, std::move(users));
  binding_ = SenderBinding(config.local_domains, config.senders);
  limiter_.set_limits(limits_of(config.rate_limits));
}

std::optional<smtp::Reply> RelayRules::check_sender(const smtpd::SessionView& s,
                                                    const smtp::Path& from) {
  auto user = bound_user(s);
  if (!user.empty()) {
    auto address = from.null ? std::string() : from.mailbox.wire();
    if (!binding_.may_send_as(user, address)) {
      spdlog::info("session {} client={} user={} from=<{}> refused: sender not owned by the user",
                   s.client.session_id, s.client.address, user, smtp::printable(address, 320));
      relay_metrics::refused("sender_binding").inc();
      return smtp::make_reply(553, "5.7.1 <" + smtp::printable(address, 320) +
                                       ">: Sender address rejected: not owned by user " + user);
    }
  }
  auto v = limiter_.may_start_message(user, s.client.ip, now_());
  if (!v.allowed) {
    spdlog::warn("session {} client={} user={} refused at MAIL: rate limit: {}",
                 s.client.session_id, s.client.address, user.empty() ? "-" : user, v.reply_text());
    relay_metrics::refused("rate_limit").inc();
    return smtp::make_reply(450, "4.7.1 " + v.reply_text());
  }
  return std::nullopt;
}

std::optional<smtp::Reply> RelayRules::check_recipient(const smtpd::SessionView& s,
                                                       const smtp::Path& rcpt) {
  if (auto box = policy_.local_mailbox(rcpt)) {
    if (!map_.resolve(box->address()).known()) {
      spdlog::info("session {} client={} rcpt={} refused: unknown local recipient",
                   s.client.session_id, s.client.address, rcpt.wire());
      relay_metrics::refused("unknown_recipient").inc();
      return smtp::make_reply(550, "5.1.1 " + rcpt.wire() +
                                       ": Recipient address rejected: User unknown in local "
                                       "recipient table");
    }
  }
  auto user = bound_user(s);
  auto v = limiter_.may_add_recipient(user, s.client.ip, s.recipients, now_());
  if (!v.allowed) {
    spdlog::warn("session {} client={} user={} rcpt={} refused: rate limit: {}",
                 s.client.session_id, s.client.address, user.empty() ? "-" : user, rcpt.wire(),
                 v.reply_text());
    relay_metrics::refused("rate_limit").inc();
    return smtp::make_reply(450, "4.7.1 " + v.reply_text());
  }
  return std::nullopt;
}

std::vector<std::string> RelayRules::expand(const std::vector<std::string>& recipients) const {
  std::vector<std::string> out;
  for (const auto& r : recipients) {
    auto path = parse_recipient(r);
    auto box = path ? policy_.local_mailbox(*path) : std::nullopt;
    if (!box) {
      add_unique(out, r);  // remote (or unparsable: the queue refuses it as today)
      continue;
    }
    auto res = map_.resolve(box->address());
    if (!res.known()) {
      spdlog::warn("recipient <{}> no longer resolves (reloaded [aliases] or users): dropped", r);
      continue;
    }
    for (auto& m : res.maildirs) add_unique(out, std::move(m));
    for (auto& f : res.forwards) add_unique(out, std::move(f));
  }
  return out;
}

std::optional<smtp::Reply> RelayRules::check_from_header(const std::string& user,
                                                         std::string_view header_section) const {
  // No From: field at all names nobody: the envelope sender, bound at MAIL,
  // is all there is (scripts send such messages). One that is there must be
  // readable and the user's (two fields, an empty list: refused).
  // A header section cut at the limit before its end may hide a From:
  // further on: then the parser's error refuses it (fail closed).
  bool cut = header_section.size() > max_header_section &&
             header_section.compare(0, 2, "\r\n") != 0 &&
             header_section.find("\r\n\r\n") == std::string_view::npos;
  if (!cut && !has_from_field(header_section)) return std::nullopt;
  auto from = smtp::from_header_addresses(header_section, max_header_section);
  if (from && binding_.may_send_as_all(user, *from)) return std::nullopt;
  std::string why = from ? "names an address not owned by user " + user
                         : "cannot be read (" + from.error().message + ")";
  return smtp::make_reply(550, "5.7.1 From: header " + why);
}

void RelayRules::count_message(const std::string& user, const smtpd::ClientInfo& client,
                               std::size_t recipients) {
  limiter_.record_message(user, client.ip, recipients, now_());
}

namespace {

// The spool's writer, with the header section kept aside for the From:
// check and the message counted once it is accepted.
class RulesWriter final : public smtpd::MessageWriter {
 public:
  RulesWriter(std::unique_ptr<smtpd::MessageWriter> inner, RelayRules& rules,
              smtpd::ClientInfo client, std::string user, std::size_t recipients)
      : inner_(std::move(inner)),
        rules_(rules),
        client_(std::move(client)),
        user_(std::move(user)),
        recipients_(recipients) {}

  asio::awaitable<bool> write(std::string chunk) override {
    if (!user_.empty()) keep_header(chunk);
    co_return co_await inner_->write(std::move(chunk));
  }

  asio::awaitable<smtp::Reply> commit() override {
    if (!user_.empty()) {
      auto refusal = rules_.check_from_header(user_, header_);
      if (refusal) {
        spdlog::info("session {} client={} user={} message refused: {}", client_.session_id,
                     client_.address, user_, refusal->text());
        relay_metrics::refused("sender_binding").inc();
        // Nothing stays in the spool: the half-made file goes.
        co_await inner_->abort();
        co_return *refusal;
      }
    }
    auto reply = co_await inner_->commit();
    if (reply.positive()) rules_.count_message(user_, client_, recipients_);
    co_return reply;
  }

  asio::awaitable<void> abort() override { co_await inner_->abort(); }

 private:
  // Keeps the message's first bytes up to the end of its header section
  // (an empty line), at most max_header_section + 4 of them.
  void keep_header(std::string_view chunk) {
    if (header_done_) return;
    auto room = max_header_section + 4 - header_.size();
    auto from = header_.size() >= 3 ? header_.size() - 3 : 0;
    header_.append(chunk.substr(0, std::min(room, chunk.size())));
    if (header_.compare(0, 2, "\r\n") == 0 || header_.find("\r\n\r\n", from) != std::string::npos ||
        header_.size() >= max_header_section + 4) {
      header_done_ = true;
    }
  }

  std::unique_ptr<smtpd::MessageWriter> inner_;
  RelayRules& rules_;
  smtpd::ClientInfo client_;
  std::string user_;
  std::size_t recipients_;
  std::string header_;
  bool header_done_ = false;
};

}  // namespace

asio::awaitable<std::unique_ptr<smtpd::MessageWriter>> RulesSink::open(
    const smtpd::ClientInfo& client, const smtpd::Envelope& envelope) {
  smtpd::Envelope expanded = envelope;
  expanded.recipients = rules_.expand(envelope.recipients);
  if (expanded.recipients.empty()) co_return nullptr;  // 451: every one went away since RCPT
  auto inner = co_await inner_.open(client, expanded);
  if (!inner) co_return nullptr;
  co_return std::make_unique<RulesWriter>(std::move(inner), rules_, client, bound_user(envelope),
                                          envelope.recipients.size());
}

}  // namespace relayscope::server
