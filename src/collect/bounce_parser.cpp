// See bounce_parser.hpp. GMime does the MIME work (structure, transfer
// decoding); the delivery-status fields are plain header-like lines (RFC
// 3464 section 2) and are read here. Every GObject is owned by a Ref.
#include "collect/bounce_parser.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "common/ascii.hpp"

namespace relayscope::collect {

namespace {

constexpr std::size_t max_input = 4u << 20;  // bytes of a message parsed at all
constexpr int max_depth = 8;                 // nesting of multiparts and messages
constexpr int max_parts = 200;               // parts looked at per message

// GMime's global state (type registry, charset tables) is set up once per
// process and never torn down: other threads may still be parsing.
void init_gmime_once() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

template <typename T>
struct Ref {
  T* p = nullptr;
  explicit Ref(T* x = nullptr) : p(x) {}
  ~Ref() {
    if (p) g_object_unref(p);
  }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  T* get() const { return p; }
  explicit operator bool() const { return p != nullptr; }
};

using ascii::lower;  // one ASCII case helper (common/ascii.hpp)

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool is_token_char(char c) {
  return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c));
}

// The token of exactly spec.token_length characters starting at `at` in
// `s`, not followed by another token character; else "".
std::string token_at(std::string_view s, std::size_t at, std::size_t length) {
  std::size_t end = at;
  while (end < s.size() && is_token_char(s[end])) ++end;
  if (end - at != length) return {};
  return std::string(s.substr(at, length));
}

void add_unique(std::vector<std::string>& out, std::string t) {
  if (t.empty()) return;
  if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(std::move(t));
}

// A GMime message parsed from bytes (a copy is made), or null.
GMimeMessage* parse_message(std::string_view bytes) {
  Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
  Ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  return g_mime_parser_construct_message(parser.get(), nullptr);
}

// The content of a leaf part with its transfer encoding undone.
std::string decoded_content(GMimePart* part, std::size_t limit) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (!wrapper) return {};
  Ref<GMimeStream> mem(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(wrapper, mem.get()) < 0) return {};
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  if (!bytes) return {};
  return std::string(reinterpret_cast<const char*>(bytes->data),
                     std::min<std::size_t>(bytes->len, limit));
}

bool type_is(GMimeContentType* ct, const char* type, const char* subtype) {
  return ct && g_mime_content_type_is_type(ct, type, subtype);
}

// "rfc822; <a@b>" -> "a@b".
std::string address_field(std::string_view v) {
  auto semi = v.find(';');
  if (semi != std::string_view::npos) v = v.substr(semi + 1);
  auto s = trim(v);
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return s;
}

// RFC 3464 fields: groups of header-like lines (folded lines joined),
// separated by empty lines; the first group is about the message.
void read_delivery_status(std::string_view text, BounceInfo& info) {
  std::vector<std::vector<std::pair<std::string, std::string>>> groups(1);
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto eol = text.find('\n', pos);
    auto line = text.substr(pos, eol == std::string_view::npos ? text.size() - pos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() + 1 : eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) {
      if (!groups.back().empty()) groups.emplace_back();
      continue;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !groups.back().empty()) {
      groups.back().back().second += " " + trim(line);
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    groups.back().emplace_back(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    DsnRecipient r;
    for (const auto& [name, value] : groups[g]) {
      if (name == "reporting-mta" && info.reporting_mta.empty())
        info.reporting_mta = address_field(value);
      else if (name == "final-recipient")
        r.final_recipient = address_field(value);
      else if (name == "original-recipient")
        r.original_recipient = address_field(value);
      else if (name == "action")
        r.action = lower(trim(value));
      else if (name == "status")
        r.status = trim(value);
      else if (name == "diagnostic-code")
        r.diagnostic = value;
    }
    if (!r.final_recipient.empty() || !r.action.empty()) info.recipients.push_back(std::move(r));
  }
}

class Walker {
 public:
  Walker(const TokenSpec& spec, BounceInfo& info) : spec_(spec), info_(info) {}

  // The DSN itself: its structure, its delivery-status, what it returns.
  void walk(GMimeObject* obj, int depth) {
    if (!obj || depth > max_depth || ++parts_ > max_parts) return;
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    if (GMIME_IS_MULTIPART(obj)) {
      if (type_is(ct, "multipart", "report")) {
        const char* rt = g_mime_content_type_get_parameter(ct, "report-type");
        if (rt && (lower(rt) == "delivery-status" || lower(rt) == "global-delivery-status")) {
          info_.is_dsn = true;
        }
      }
      auto* mp = GMIME_MULTIPART(obj);
      int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n; ++i) walk(g_mime_multipart_get_part(mp, i), depth + 1);
      return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner) {
        info_.returned_message = true;
        returned(inner, depth + 1);
      }
      return;
    }
    if (!GMIME_IS_PART(obj)) return;
    auto* part = GMIME_PART(obj);
    if (type_is(ct, "message", "delivery-status") ||
        type_is(ct, "message", "global-delivery-status")) {
      info_.is_dsn = true;
      auto text = decoded_content(part, max_input);
      read_delivery_status(text, info_);
      for (const auto& r : info_.recipients) {
        for (const auto& a : {r.final_recipient, r.original_recipient}) {
          for (auto& t : tokens_in_text(a, spec_)) add_unique(dsn_tokens_, std::move(t));
        }
      }
      return;
    }
    // A returned message that GMime left as a leaf: a message/rfc822 with a
    // transfer encoding (against RFC 2046, but MTAs do it), or headers only.
    bool whole = type_is(ct, "message", "rfc822") || type_is(ct, "message", "global");
    bool headers = type_is(ct, "text", "rfc822-headers") ||
                   type_is(ct, "message", "rfc822-headers") ||
                   type_is(ct, "message", "global-headers");
    if (whole || headers) {
      auto text = decoded_content(part, max_input);
      if (whole) info_.returned_message = true;
      if (headers) info_.returned_headers_only = true;
      Ref<GMimeMessage> inner(parse_message(text));
      if (inner) returned(inner.get(), depth + 1);
      for (auto& t : tokens_in_text(text, spec_)) add_unique(returned_tokens_, std::move(t));
      return;
    }
    if (type_is(ct, "text", "*")) {
      auto text = decoded_content(part, max_input);
      for (auto& t : tokens_in_text(text, spec_)) add_unique(text_tokens_, std::move(t));
    }
  }

  // Most telling first: the returned message, the DSN's recipients, text.
  std::vector<std::string> tokens() const {
    std::vector<std::string> out;
    for (const auto* v : {&returned_tokens_, &dsn_tokens_, &text_tokens_}) {
      for (const auto& t : *v) add_unique(out, t);
    }
    return out;
  }

 private:
  // A message that came back: its headers, then its body parts decoded.
  void returned(GMimeMessage* m, int depth) {
    if (depth > max_depth) return;
    auto* obj = GMIME_OBJECT(m);
    if (const char* v = g_mime_object_get_header(obj, "X-Relayscope-Token")) {
      auto s = trim(v);
      add_unique(returned_tokens_, token_at(s, 0, spec_.token_length));
    }
    if (const char* id = g_mime_message_get_message_id(m)) {
      std::string_view s(id);
      if (s.size() > spec_.token_length && s[spec_.token_length] == '@') {
        add_unique(returned_tokens_, token_at(s, 0, spec_.token_length));
      }
    }
    for (const char* h : {"To", "From", "Return-Path", "Cc", "Sender", "Reply-To"}) {
      if (const char* v = g_mime_object_get_header(obj, h)) {
        for (auto& t : tokens_in_text(v, spec_)) add_unique(returned_tokens_, std::move(t));
      }
    }
    body(g_mime_message_get_mime_part(m), depth + 1);
  }

  void body(GMimeObject* obj, int depth) {
    if (!obj || depth > max_depth || ++parts_ > max_parts) return;
    if (GMIME_IS_MULTIPART(obj)) {
      auto* mp = GMIME_MULTIPART(obj);
      int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n; ++i) body(g_mime_multipart_get_part(mp, i), depth + 1);
      return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner) returned(inner, depth + 1);
      return;
    }
    if (!GMIME_IS_PART(obj)) return;
    auto text = decoded_content(GMIME_PART(obj), max_input);
    for (auto& t : tokens_in_text(text, spec_)) add_unique(returned_tokens_, std::move(t));
  }

  const TokenSpec& spec_;
  BounceInfo& info_;
  int parts_ = 0;
  std::vector<std::string> returned_tokens_, dsn_tokens_, text_tokens_;
};

}  // namespace

std::vector<std::string> tokens_in_text(std::string_view text, const TokenSpec& spec) {
  text = text.substr(0, max_input);
  const auto low = lower(text);
  std::vector<std::string> out;
  // Written by the survey in its test message.
  for (std::string_view key : {"x-relayscope-token:", "token:", "message-id:"}) {
    for (auto at = low.find(key); at != std::string::npos; at = low.find(key, at + 1)) {
      auto start = at + key.size();
      while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
      if (key == "message-id:") {
        if (start >= text.size() || text[start] != '<') continue;
        ++start;
        if (start + spec.token_length >= text.size() || text[start + spec.token_length] != '@') {
          continue;
        }
      }
      add_unique(out, token_at(text, start, spec.token_length));
    }
  }
  // Tagged addresses: "probe+TOKEN@", "relay-test+TOKEN@" (any case of the base).
  for (const auto& base : {lower(spec.recipient_local_part), lower(spec.sender_local_part)}) {
    if (base.empty()) continue;
    auto key = base + "+";
    for (auto at = low.find(key); at != std::string::npos; at = low.find(key, at + 1)) {
      // The base must start the local part.
      if (at > 0) {
        char before = low[at - 1];
        if (std::isalnum(static_cast<unsigned char>(before)) || before == '.' || before == '-' ||
            before == '_' || before == '+') {
          continue;
        }
      }
      auto start = at + key.size();
      auto t = token_at(text, start, spec.token_length);
      if (!t.empty() && start + spec.token_length < text.size() &&
          text[start + spec.token_length] == '@') {
        add_unique(out, std::move(t));
      }
    }
  }
  return out;
}

BounceInfo parse_bounce(std::string_view message, const TokenSpec& spec) {
  init_gmime_once();
  BounceInfo info;
  Ref<GMimeMessage> m(parse_message(message.substr(0, max_input)));
  if (!m) return info;
  info.parsed = true;
  Walker w(spec, info);
  w.walk(g_mime_message_get_mime_part(m.get()), 0);
  info.tokens = w.tokens();
  if (info.returned_message) info.returned_headers_only = false;
  return info;
}

}  // namespace relayscope::collect
