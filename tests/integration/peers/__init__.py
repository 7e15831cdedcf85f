# Shared fixtures for the integration tests: real mail and DNS peers started
# on loopback by the test itself, stopped by pid at the end (even on failure).
"""Real peers on loopback for relayscope's integration tests.

Every fixture binds a 127.x.y.z address and a port picked by the test (random
distinct addresses, so tests run in parallel without colliding), waits for
readiness on a condition with a deadline (never a blind sleep), and registers
its own stop with the TestCase (addCleanup), so a failing test leaves nothing
running. Nothing here ever talks to anything outside 127.0.0.0/8, and nothing
queries the system's resolver: DNS always goes to our own unbound.

Modules (import as `from peers import dns, postfix, ...` from
tests/integration, which ctest uses as the working directory):

  workdir     make_workdir(tc): a temp dir removed at cleanup
              (RELAYSCOPE_KEEP_TMP=1 keeps it for a post-mortem).
  ports       random_loopback(), distinct_loopbacks(n), free_port(addr),
              free_port_all(addrs), wait_until(pred, timeout, what),
              wait_for_port(addr, port, timeout).
  process     Process(argv, workdir, name): output to files, stop() = SIGTERM
              to its own process group, SIGKILL after a grace period;
              start(tc, ...) registers the stop; run(argv, timeout).
  dns         start_unbound(tc, workdir, zone) -> Unbound (.server is the
              "HOST:PORT" for --dns). zone = {name: {"mx": [(pref, host)],
              "a": [ip], "cname": t, "txt": [...], "nodata": True,
              "servfail": True}}; names not given are NXDOMAIN; names outside
              the zones are REFUSED; unbound may query no address at all.
              mx_zone({domain: ip}) builds the usual one-MX zone.
              dig(addr, port, name, type) asks that server only.
  postfix     start_postfix(tc, workdir, addr=, mynetworks=) -> Postfix:
              a private instance (root) listening on addr:port, relaying to
              its own smtp-sink (.sink.wait_for(token) finds a message);
              registered in /etc/postfix/main.cf alternate_config_directories
              while it runs.
  aiosmtpd    start_aiosmtpd(tc, workdir) -> Aiosmtpd: Python's permissive
              server, keeping messages in a Maildir (.wait_for(token)).
  fake_smtp   start_fake_smtp(tc, workdir, [(addr, behaviour[, params])])
              -> FakeSmtp: many scripted hosts in one asyncio subprocess, all
              on one port (.port); behaviours are listed in its docstring
              (no_greeting, garbage, megabyte, reset, split, slow_greeting,
              greet_pause, rcpt_450, greylist_after_dot, ...). Its JSON-lines
              log (.connections(), .by_addr()) says per connection what the
              client sent, its EHLO name, whether it talked before the
              greeting, and the message it delivered.
  relayscope  the binary under test ($RELAYSCOPE_BIN): survey(...),
              report(db, ...), hosts_csv(db), hosts_json(db),
              transcript_lines(host), write_targets(workdir, lines).
"""
