// The results database behind one narrow interface, so that a second backend
// (PostgreSQL for sharded surveys) is an addition, not a rewrite. SQLite is
// the embedded default (sqlite_store.cpp). Writes are buffered by the caller's
// batches: one transaction per batch keeps thousands of probes a second cheap
// and leaves the file consistent if the process is killed between batches.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::store {

// Names -> unique domains -> resolved hosts -> sampled: the IMC's funnel.
struct Funnel {
  std::int64_t names = 0;                  // addresses read
  std::int64_t lines_without_address = 0;  // input lines that held none (counted, not fatal)
  std::int64_t unique_domains = 0;         // the IMC's "unique hosts"
  std::int64_t resolved_hosts = 0;         // unique mail host addresses after MX/A resolution
  std::int64_t sampled = 0;
  // Resolved addresses dropped before the sample: excluded (--exclude), out
  // of --scope, or of an address family the run does not probe; never an
  // outcome (runs.excluded, schema v4). Last: aggregate initialisers stay.
  std::int64_t excluded = 0;
};

struct Run {
  std::int64_t id = 0;
  std::string label;
  std::string started_at;   // ISO 8601 UTC
  std::string finished_at;  // empty while running or interrupted
  std::string status;       // "running", "interrupted", "done"
  std::string params_json;  // the survey's parameters, to resume with the same ones
  Funnel funnel;
  // Whether reading, resolving and sampling finished and the sampled hosts
  // are all stored: until then `--resume` must prepare the run again, not
  // probe an empty or partial host list.
  bool prepared = false;
};

struct Domain {
  std::string name;  // A-label, lower case
  std::int64_t names = 0;
};

// One domain's MX/A resolution. status: "ok", "nxdomain", "nodata",
// "servfail", "timeout", "null_mx", "out_of_scope", "error".
struct Resolution {
  std::string domain;
  std::string status;
  std::string mx_host;  // empty when the A fallback was used
  int mx_preference = -1;
  std::string ip;                         // chosen address, empty unless ok
  std::vector<std::string> fallback_ips;  // higher-numbered MX hosts, for --mx-fallback
  std::string detail;                     // human-readable reason
};

// A unique mail host (one address), with the domains that led to it.
struct Host {
  std::int64_t id = 0;
  std::string ip;
  std::string mx_host;
  std::vector<std::string> domains;
  std::vector<std::string> fallback_ips;
  bool sampled = false;
};

struct TranscriptLine {
  std::int64_t t_us = 0;  // microseconds since the probe started
  char direction = '>';   // '>' sent, '<' received, '*' event (connect, timeout, TLS...)
  std::string text;
};

// Outcome of a variant that could not be tried: the server kept closing
// the connection (421 or EOF) and the survey's reconnections were used up or
// failed. Nothing was sent: such a variant is not counted as tested.
inline constexpr const char* variant_not_tried = "NOT_TRIED";

// Outcome of one relay-test transaction within a probe (issue: --variants).
struct VariantResult {
  std::string name;  // "imc", "percent-hack", ...
  std::string mail_from;
  std::string rcpt_to;
  std::string outcome;  // "TO", "OK", ..., or variant_not_tried
  int code = 0;
  std::string token;
};

// outcome: CONNECT, EHLO, MAIL, TO, DATA, QUIT, OK. code: the reply code that
// ended the dialogue (0 where none came). reason: "refused", "timeout",
// "reset", "greeting rejected", "5xx", "4xx", "garbage reply", ...
struct Probe {
  std::int64_t host_id = 0;
  std::string ip;
  std::string domain;  // the first domain of the host, for reports
  std::string outcome;
  int code = 0;
  std::string reason;
  std::string token;  // unique token carried by the test message
  std::string started_at;
  std::int64_t duration_us = 0;
  std::string greeting_host;  // name from the greeting, if any
  bool esmtp = false;
  bool starttls_offered = false;
  std::vector<TranscriptLine> transcript;
  std::vector<VariantResult> variants;
  // --greylist-retry (schema v5): the first try answered 4xx at RCPT TO and
  // the host was probed again after the delay; outcome, code and reason are
  // the retry's, first_code and first_reply the first try's answer, and the
  // transcript holds both dialogues (a '*' line between them).
  bool greylisted = false;
  int first_code = 0;
  std::string first_reply;
};

// What the collector received (issue: verified delivery).
struct Arrival {
  std::string token;  // empty when no probe matched
  std::string kind;   // "delivery", "bounce", "unmatched"
  std::string received_at;
  std::string client_ip;
  std::string mail_from;
  std::string rcpt_to;
  std::string message_path;  // where the raw message is kept
};

// Who carried a token: the collector's arrival line names the probe.
struct TokenOwner {
  std::int64_t run_id = 0;
  std::int64_t probe_id = 0;
};

// One row of `report --hosts`.
struct HostRow {
  std::int64_t run_id = 0;
  std::string domain;
  std::string ip;
  std::string outcome;
  int code = 0;
  std::string reason;
  std::string token;
  bool delivered = false;
  bool bounced = false;
  std::vector<std::string> relaying_variants;
  std::vector<std::string> untried_variants;  // cut off (the server closed), never answered
  // The received line that carried `code` (the last such line of the
  // transcript), for the reasons table; empty where no code came.
  std::string reply;
  std::vector<TranscriptLine> transcript;  // filled only where asked for (report --hosts json)
  // Answered 4xx at RCPT TO first and retried (Probe::greylisted).
  bool greylisted = false;
  int first_code = 0;
  std::string first_reply;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Expected<std::int64_t> create_run(const Run& run) = 0;
  virtual Status finish_run(std::int64_t run_id, const std::string& status,
                            const std::string& finished_at) = 0;
  // Stores the funnel and marks the run prepared, in one statement: called
  // once its hosts are stored.
  virtual Status mark_prepared(std::int64_t run_id, const Funnel& funnel) = 0;
  // Drops what an unfinished preparation left (domains, resolutions, hosts)
  // so that it can be done again; refused for a prepared run, whose hosts
  // may have probes.
  virtual Status discard_preparation(std::int64_t run_id) = 0;
  virtual Expected<Run> get_run(std::int64_t run_id) = 0;
  virtual Expected<std::vector<Run>> list_runs() = 0;

  virtual Status add_domains(std::int64_t run_id, const std::vector<Domain>& domains) = 0;
  virtual Status add_resolutions(std::int64_t run_id, const std::vector<Resolution>& rs) = 0;
  // Assigns ids to the hosts (in place).
  virtual Status add_hosts(std::int64_t run_id, std::vector<Host>& hosts) = 0;
  virtual Expected<std::vector<Host>> get_hosts(std::int64_t run_id, bool sampled_only) = 0;
  virtual Expected<std::vector<Resolution>> get_resolutions(std::int64_t run_id) = 0;

  // One transaction for the whole batch.
  virtual Status add_probes(std::int64_t run_id, const std::vector<Probe>& probes) = 0;
  virtual Expected<std::vector<std::int64_t>> probed_host_ids(std::int64_t run_id) = 0;
  virtual Expected<std::vector<Probe>> get_probes(std::int64_t run_id, bool with_transcripts) = 0;

  virtual Status add_arrival(const Arrival& arrival) = 0;
  // Whether a probe or a variant of any run carried this token.
  virtual Expected<bool> token_known(const std::string& token) = 0;
  // The probe that carried this token (itself or one of its variants), in
  // whichever run; nullopt when none did (yet: a probe is stored once it ends).
  virtual Expected<std::optional<TokenOwner>> token_owner(const std::string& token) = 0;
  virtual Expected<std::vector<Arrival>> get_arrivals() = 0;

  virtual Expected<std::vector<HostRow>> host_rows(std::int64_t run_id) = 0;

  // --- Workers sharing a run (`survey --join`, schema v3) -----------------
  // Leases are measured on the database's clock, so workers on machines whose
  // clocks differ agree on when one runs out.

  // Leases up to `n` sampled hosts of the run that have no probe and no
  // lease of another owner that is still running (PostgreSQL: SELECT ... FOR
  // UPDATE SKIP LOCKED, so workers never wait on each other), for `lease_ms`.
  virtual Expected<std::vector<Host>> claim_hosts(std::int64_t run_id, const std::string& owner,
                                                  std::size_t n, std::int64_t lease_ms) = 0;
  // Extends every lease `owner` holds on hosts of the run not yet probed.
  virtual Status renew_leases(std::int64_t run_id, const std::string& owner,
                              std::int64_t lease_ms) = 0;
  // Stores the probes of hosts `owner` leased, one transaction for the batch.
  // A probe whose host another owner has leased since (the lease ran out)
  // or that already has a probe is discarded: the first stored probe wins.
  // Gives the discarded ones' host ids.
  virtual Expected<std::vector<std::int64_t>> add_leased_probes(
      std::int64_t run_id, const std::string& owner, const std::vector<Probe>& probes) = 0;
  // Takes address `ip` (an MX fallback) for `lease_ms` unless another owner
  // holds it: one connection per address across workers.
  virtual Expected<bool> claim_address(std::int64_t run_id, const std::string& ip,
                                       const std::string& owner, std::int64_t lease_ms) = 0;
  virtual Status release_address(std::int64_t run_id, const std::string& ip,
                                 const std::string& owner) = 0;
  // Sampled hosts of the run that have no probe yet.
  virtual Expected<std::int64_t> unprobed_count(std::int64_t run_id) = 0;

  // Whether the connection to the database broke (PostgreSQL): then
  // reconnect() may bring it back. SQLite never loses its file this way.
  virtual bool connection_lost() const { return false; }
  virtual Status reconnect() { return Ok{}; }
  // "sqlite" or "postgresql".
  virtual std::string backend() const = 0;
};

// Opens (creating if needed) a SQLite database in WAL mode.
Expected<std::unique_ptr<Store>> open_sqlite(const std::string& path);

// existing: never create a file or a schema (for readers such as `report`);
// a missing file, an empty one or a foreign one is an error.
enum class OpenMode { create, existing };
Expected<std::unique_ptr<Store>> open_sqlite(const std::string& path, OpenMode mode);

// Connects to PostgreSQL ("postgresql://..." or "postgres://...": libpq
// takes what the URI leaves out from PGHOST, PGUSER, PGPASSFILE...) and
// brings its schema to this build's version (create) or only checks it.
Expected<std::unique_ptr<Store>> open_postgres(const std::string& uri, OpenMode mode);

// Whether `--db` names PostgreSQL rather than a SQLite file.
bool is_postgres_uri(const std::string& db);

// `--db FILE|postgresql://...`: the backend the value names.
Expected<std::unique_ptr<Store>> open_store(const std::string& db, OpenMode mode);

}  // namespace relayscope::store
