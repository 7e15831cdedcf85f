// relayscope passwd --users FILE NAME: sets NAME's password in the users
// file, creating the file or the user as needed; the file is replaced
// atomically and keeps its owner and mode. On a terminal the password is
// asked twice without echo; from a pipe (scripts) it is one line of standard
// input. Passwords shorter than min_password are refused either way.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "server/users_file.hpp"

namespace relayscope::cli {

namespace {

constexpr std::size_t min_password = 8;

struct PasswdArgs {
  std::string users;
  std::string name;
};

bool read_password(std::string& out, const char* prompt = "Password: ") {
  bool tty = ::isatty(STDIN_FILENO);
  termios old{};
  if (tty) {
    // Echo off before the prompt: an answer typed at once is not shown.
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::fprintf(stderr, "%s", prompt);
  }
  bool ok = static_cast<bool>(std::getline(std::cin, out));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  }
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return ok || !out.empty();
}

int run(const PasswdArgs& a) {
  if (!server::valid_user_name(a.name)) {
    std::fprintf(stderr, "relayscope passwd: bad user name '%s' (1-64 printable, no ':')\n",
                 a.name.c_str());
    return exit_usage;
  }
  server::UsersFile users;
  if (std::filesystem::exists(a.users)) {
    auto loaded = server::UsersFile::load(a.users);
    if (!loaded) {
      std::fprintf(stderr, "relayscope passwd: %s\n", loaded.error().message.c_str());
      return exit_usage;
    }
    users = std::move(*loaded);
  }
  std::string password;
  if (!read_password(password) || password.empty()) {
    std::fprintf(stderr, "relayscope passwd: no password on standard input\n");
    return exit_usage;
  }
  if (password.size() < min_password) {
    std::fprintf(stderr, "relayscope passwd: the password is too short (at least %zu characters)\n",
                 min_password);
    return exit_usage;
  }
  if (::isatty(STDIN_FILENO)) {
    std::string again;
    if (!read_password(again, "Retype the password: ") || again != password) {
      std::fprintf(stderr, "relayscope passwd: the passwords differ; nothing changed\n");
      return exit_usage;
    }
  }
  auto hash = server::UsersFile::hash(password);
  if (!hash) {
    std::fprintf(stderr, "relayscope passwd: %s\n", hash.error().message.c_str());
    return exit_failure;
  }
  bool existed = users.has(a.name);
  users.set(a.name, *hash);
  if (auto s = users.save(a.users); !s) {
    std::fprintf(stderr, "relayscope passwd: %s\n", s.error().message.c_str());
    return exit_failure;
  }
  std::printf("%s %s in %s\n", existed ? "changed the password of" : "added", a.name.c_str(),
              a.users.c_str());
  return exit_ok;
}

}  // namespace

Registered add_passwd(CLI::App& parent) {
  auto a = std::make_shared<PasswdArgs>();
  auto* app = parent.add_subcommand(
      "passwd", "Add a relay user or change a password (argon2id) in the users file");
  app->add_option("--users", a->users, "The users file (created if missing; keeps owner and mode)")
      ->required()
      ->type_name("FILE");
  app->add_option("NAME", a->name, "The user name")->required();
  describe(app, "relayscope passwd --users FILE NAME",
           "  relayscope passwd --users /etc/relayscope/users alice      (asks twice)\n"
           "  printf '%s\\n' \"$PW\" | relayscope passwd --users users alice\n",
           "0 the password was set; 2 a bad name, a password shorter than 8 characters,\n"
           "two different passwords or an unreadable users file; 1 the file could not be written");
  return {app, [a] { return run(*a); }};
}

}  // namespace relayscope::cli
