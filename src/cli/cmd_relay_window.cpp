// relayscope relay-window --config FILE grant IP [--user NAME] | list:
// POP-before-SMTP windows (issue 14). A POP/IMAP server's post-login hook
// (Dovecot's postlogin script) calls `grant` as the mail user, so this reads
// only the [spool] and [pop_before_smtp] sections of the relay's config
// (never the TLS key or the users file) and writes one window file into the
// window directory; see server/relay_windows.hpp.
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "server/config.hpp"
#include "server/recipients.hpp"
#include "server/relay_windows.hpp"
#include "server/users_file.hpp"

namespace relayscope::cli {

namespace {

struct WindowArgs {
  std::string config;
  std::string ip;
  std::string user;
};

std::string iso8601(server::WallClock::time_point t) {
  auto secs = server::WallClock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "relayscope relay-window: %s\n", message.c_str());
  return code;
}

int grant(const WindowArgs& a) {
  auto settings = server::load_window_settings(a.config);
  if (!settings) return fail(exit_usage, settings.error().message);
  if (!settings->window) {
    return fail(exit_usage, a.config +
                                ": [pop_before_smtp] window is not set: POP-before-SMTP "
                                "is off");
  }
  auto text = a.ip;
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  auto ip = IpAddress::parse(text);
  if (!ip) return fail(exit_usage, "'" + a.ip + "' is not an IP address");
  auto user = server::ascii_lower(a.user);  // user names are lower case
  if (!a.user.empty() && !server::valid_user_name(user)) {
    return fail(exit_usage, "bad user name '" + a.user + "' (1-64 printable, no ':')");
  }
  auto w =
      server::grant_window(settings->dir, *ip, user, *settings->window, server::WallClock::now());
  if (!w) return fail(exit_failure, w.error().message);
  std::printf("granted %s%s until %s\n", w->client.to_string().c_str(),
              user.empty() ? "" : (" (user " + user + ")").c_str(), iso8601(w->expires).c_str());
  return exit_ok;
}

int list(const WindowArgs& a) {
  auto settings = server::load_window_settings(a.config);
  if (!settings) return fail(exit_usage, settings.error().message);
  auto now = server::WallClock::now();
  auto open = server::open_windows(settings->dir, now);
  if (!open) return fail(exit_failure, open.error().message);
  for (const auto& w : *open) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(w.expires - now).count();
    std::printf("%s %s until %s (%lld s left)\n", w.client.to_string().c_str(),
                w.user.empty() ? "-" : w.user.c_str(), iso8601(w.expires).c_str(),
                static_cast<long long>(left));
  }
  return exit_ok;
}

}  // namespace

Registered add_relay_window(CLI::App& parent) {
  auto a = std::make_shared<WindowArgs>();
  auto* app = parent.add_subcommand(
      "relay-window",
      "POP-before-SMTP: open relaying from an address for [pop_before_smtp] window, or list "
      "open windows (reads only [spool] and [pop_before_smtp] of the config)");
  app->add_option("--config", a->config, "The relay's TOML configuration")->required();
  app->require_subcommand(1);
  auto* g = app->add_subcommand(
      "grant", "Open a window for IP (called by the POP/IMAP server after a login)");
  g->add_option("IP", a->ip, "The client's address (IPv4 or IPv6)")->required();
  g->add_option("--user", a->user,
                "The user who logged in: then the window binds senders as AUTH does");
  auto* l = app->add_subcommand("list", "Show the open windows: address, user, end");
  describe(app,
           "relayscope relay-window --config FILE grant IP [--user NAME]\n"
           "relayscope relay-window --config FILE list",
           "  relayscope relay-window --config /etc/relayscope/relay.toml grant 192.0.2.7 "
           "--user alice\n"
           "  relayscope relay-window --config /etc/relayscope/relay.toml list\n");
  return {app, [a, g, l] {
            if (g->parsed()) return grant(*a);
            if (l->parsed()) return list(*a);
            return static_cast<int>(exit_usage);
          }};
}

}  // namespace relayscope::cli
