// relayscope passwd --users FILE NAME: sets NAME's password (read from
// standard input, without echo on a terminal) in the users file, creating the
// file or the user as needed; the file is replaced atomically.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "server/users_file.hpp"

namespace relayscope::cli {

namespace {

struct PasswdArgs {
  std::string users;
  std::string name;
};

bool read_password(std::string& out) {
  bool tty = ::isatty(STDIN_FILENO);
  termios old{};
  if (tty) {
    std::fprintf(stderr, "Password: ");
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
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
      "passwd", "Add a relay user or change a password (the password is read from stdin)");
  app->add_option("--users", a->users, "The users file (created if missing)")->required();
  app->add_option("NAME", a->name, "The user name")->required();
  return {app, [a] { return run(*a); }};
}

}  // namespace relayscope::cli
