// Per-host timing of a lab host (the `internet` profile, issue 12): each host
// draws its own round-trip time, greeting delay, error limit and whether it
// greylists, from the distributions of the profile's [timing] table. Pure:
// the same profile, seed and host index give the same timing everywhere, so
// the truth file can state it and every lab shard agrees.
#pragma once

#include <cstdint>
#include <string>

#include "common/expected.hpp"

namespace relayscope::lab {

// The profile's [timing] table; absent: every field zero, no host delayed.
// Distributions with their parameters; the profile file says where each
// figure comes from.
struct TimingProfile {
  bool enabled = false;
  // Round-trip time: log-normal (median, sigma of the log), capped.
  double rtt_median_ms = 0;
  double rtt_sigma = 0;
  int rtt_max_ms = 0;
  // Greeting delay: most hosts log-normal (median, sigma), capped; a share
  // (percent of hosts) waits uniformly between slow_min and slow_max.
  double greeting_median_ms = 0;
  double greeting_sigma = 0;
  int greeting_max_ms = 0;
  double slow_greeting_share = 0;
  int slow_greeting_min_ms = 0;
  int slow_greeting_max_ms = 0;
  // Pause before every 4xx/5xx reply (Postfix smtpd_error_sleep_time).
  int error_sleep_ms = 0;
  // A share of hosts (percent) answers 421 and closes after this many 4xx/5xx.
  double close_after_errors_share = 0;
  int close_after_errors = 0;
  // Which replies count towards that limit: every 4xx/5xx (Postfix's
  // smtpd_hard_error_limit counts every error), or only syntax and protocol
  // errors, RFC 5321's x0z replies (500-504, 400-404) as Exim's
  // smtp_max_synprot_errors counts them: an ACL's "550 relay not permitted"
  // is not one, a "501" for a malformed address or a "503" out of sequence is.
  enum class ErrorKind { any, syntax };
  ErrorKind close_after_errors_kind = ErrorKind::any;
  // A share (percent) of the hosts whose test reaches RCPT TO greylists:
  // 450 to an unseen (client, sender, recipient), accepted after the delay.
  double greylist_share = 0;
  int greylist_delay_ms = 0;
};

// One host's draw. Zero fields: no delay, the lab's own error limit.
struct HostTiming {
  std::uint16_t rtt_ms = 0;
  std::uint16_t greeting_ms = 0;
  std::uint8_t close_after_errors = 0;  // 0: the session's max_errors
  bool greylist = false;
};

// Draws host `index`'s timing; `greylistable`: its behaviour reaches RCPT TO
// with the plain test (so greylisting can show).
HostTiming draw_host_timing(const TimingProfile& t, std::uint64_t seed, std::uint64_t index,
                            bool greylistable);

// Checks the table's values (ranges, min <= max); the error names the key.
Status check_timing(const TimingProfile& t);

// Whether a reply of this code counts towards a host's close_after_errors.
bool counts_towards_error_limit(TimingProfile::ErrorKind kind, int code);

}  // namespace relayscope::lab
