// The users file of AUTH: one "name:hash" a line, the hash an argon2id string
// from libsodium's crypto_pwhash_str ("$argon2id$v=19$..."). '#' starts a
// comment line. Names: 1-64 printable bytes without ':' or spaces, held in
// lower case (set() and parse() lower them; lookups compare without case).
// Limits: the whole file is held in memory (it is small); at most 100,000 users.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::server {

class UsersFile {
 public:
  static Expected<UsersFile> load(const std::string& path);
  static Expected<UsersFile> parse(std::string_view text, const std::string& source);

  // Slow on purpose (argon2id): call off the network thread.
  bool verify(const std::string& name, const std::string& password) const;
  bool has(const std::string& name) const;
  std::size_t size() const { return users_.size(); }

  // Hashes with argon2id at libsodium's "interactive" cost.
  static Expected<std::string> hash(const std::string& password);

  void set(const std::string& name, std::string hash);
  std::vector<std::string> names() const;  // lower case, sorted (for the recipient map)
  std::string text() const;                // the file's contents
  // Writes atomically: a temporary file beside it, fsync, rename, fsync dir.
  Status save(const std::string& path) const;

 private:
  std::map<std::string, std::string> users_;
};

bool valid_user_name(std::string_view name);

}  // namespace relayscope::server
