// See users_file.hpp. libsodium does the hashing and the constant-time check.
#include "server/users_file.hpp"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/durable_file.hpp"

namespace relayscope::server {

namespace {

bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

// User names are lower case (issue 14): `passwd` stores them so, AUTH and
// lookups compare without case, as Dovecot does (auth_username_format %Lu).
std::string lower_name(std::string_view name) {
  std::string out(name);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  }
  return true;
}

Expected<UsersFile> UsersFile::parse(std::string_view text, const std::string& source) {
  UsersFile f;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto colon = line.find(':');
    auto where = source + ":" + std::to_string(line_no) + ": ";
    if (colon == std::string_view::npos) return make_error(where + "expected name:hash");
    auto name = line.substr(0, colon);
    auto hash = line.substr(colon + 1);
    if (!valid_user_name(name)) return make_error(where + "bad user name");
    // A hash is printable ASCII ($, digits, base64): a stray CR, space or
    // control byte would not survive text() and a second read the same way.
    bool printable =
        std::all_of(hash.begin(), hash.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
    if (hash.rfind("$argon2id$", 0) != 0 || hash.size() >= crypto_pwhash_STRBYTES || !printable) {
      return make_error(where + "not an argon2id hash");
    }
    if (f.users_.size() >= 100000) return make_error(where + "too many users");
    auto key = lower_name(name);
    if (f.users_.count(key)) {
      return make_error(where + "user '" + key + "' is given twice (names compare without case)");
    }
    f.users_[key] = std::string(hash);
  }
  return f;
}

Expected<UsersFile> UsersFile::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot read the users file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > 64 * 1024 * 1024) return make_error(path + ": too big");
  return parse(ss.str(), path);
}

bool UsersFile::verify(const std::string& name, const std::string& password) const {
  if (!sodium_ready()) return false;
  auto it = users_.find(lower_name(name));
  if (it == users_.end()) {
    // An unknown user costs what a known one does: a dummy hash is checked,
    // so the time taken does not tell which names exist.
    static const std::string dummy = [] {
      auto h = hash("relayscope: no such user");
      return h ? *h : std::string();
    }();
    if (!dummy.empty()) {
      [[maybe_unused]] int spent =
          crypto_pwhash_str_verify(dummy.c_str(), password.data(), password.size());
    }
    return false;
  }
  return crypto_pwhash_str_verify(it->second.c_str(), password.data(), password.size()) == 0;
}

Expected<std::string> UsersFile::hash(const std::string& password) {
  if (!sodium_ready()) return make_error("libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error("out of memory while hashing the password");
  }
  return std::string(out);
}

bool UsersFile::has(const std::string& name) const {
  return users_.count(lower_name(name)) != 0;
}

void UsersFile::set(const std::string& name, std::string hash) {
  users_[lower_name(name)] = std::move(hash);
}

std::vector<std::string> UsersFile::names() const {
  std::vector<std::string> out;
  for (const auto& [name, hash] : users_) out.push_back(name);
  return out;
}

std::string UsersFile::text() const {
  std::string out =
      "# relayscope users: name:argon2id-hash (relayscope passwd --users FILE NAME)\n";
  for (const auto& [name, hash] : users_) out += name + ":" + hash + "\n";
  return out;
}

Status UsersFile::save(const std::string& path) const {
  auto tmp = parent_directory(path) + "/." + std::filesystem::path(path).filename().string() +
             ".tmp." + std::to_string(::getpid());
  // A file that exists keeps its owner and mode (the relay, once it has
  // dropped root, re-reads it as its own user: see relayscope.toml(5)).
  DurableOptions o;
  o.mode = 0600;
  o.keep_existing_owner_and_mode = true;
  o.replace_stale_tmp = true;
  auto s = write_durably(tmp, path, text(), true, o);
  if (!s) return make_error("cannot write " + path + ": " + s.error().message);
  return Ok{};
}

}  // namespace relayscope::server
