# A scriptable fake SMTP server: many fake hosts (addr, behaviour) served by
# one asyncio subprocess, each connection logged as JSON lines (what the
# client sent, whether it talked before the greeting) for tests to check.
# Limits: plain SMTP only (no STARTTLS, no AUTH); lines over 1 MB end the
# connection; a message is kept in the log up to 64 KB.
"""Fake SMTP hosts with bad (and good) manners.

Behaviours (name -> what the host does; params in brackets):
  ok                  a permissive server: 250 to everything, 354 to DATA
  ehlo_unknown        500 to EHLO, 250 to HELO
  mail_rejected       553 to MAIL FROM
  rcpt_450            450 4.2.0 to RCPT TO (greylisting)
  relay_denied        554 5.7.1 Relay access denied to RCPT TO
  data_rejected       554 to DATA
  reject_after_dot    554 after the final dot
  greylist_after_dot  451 after the final dot
  greeting_rejected   554 greeting (then 503 to all but QUIT)
  greeting_421        421 greeting, then close
  no_greeting         accepts, never writes (reads until the client closes)
  garbage             "hello there" instead of a reply [at=EHLO|greeting|MAIL..]
  megabyte            a 1 MB line without CRLF [at=EHLO|greeting.., then=close|hang]
  reset               RST (SO_LINGER 0) instead of a reply [at=MAIL]
  close               closes without a reply [at=MAIL]
  split               greeting and EHLO replies split across packets mid-line
  slow_greeting       "220-" lines over [seconds=2] s, then "220 "
  greet_pause         silent for [pause=1.5] s; a client that talks in the
                      pause gets "554 5.5.1 early talker" and is dropped
  error_limit         Postfix's smtpd_hard_error_limit: 554 to RCPT TO unless
                      its argument matches a regex in [accept=[]]; after
                      [limit=20] 4xx/5xx replies in a connection, an unsolicited
                      "421 4.7.0 Error: too many errors" and close
Any behaviour also takes params "replies" ({COMMAND: reply or [lines]},
COMMAND one of GREETING EHLO HELO MAIL RCPT DATA DOT RSET NOOP QUIT) and
"delays" ({COMMAND: seconds before replying}).

Log records (JSON lines; event "open" then "close" with the same id):
  listen, addr, behaviour, peer, opened, closed, ended (the client's FIN or
  our close, whichever came first), early_talk, first_byte_after_s,
  greeting_done_after_s, helo (first EHLO/HELO argument), commands (lines
  outside DATA), data (message text or null), data_size, end (why it ended).
"""
import asyncio
import errno
import json
import os
import re
import signal
import socket
import struct
import sys
import time

from . import ports, process

MAX_LINE = 1 << 20
KEEP_DATA = 64 << 10
KEEP_COMMAND = 1000
MEGABYTE = 1 << 20

DEFAULT_REPLIES = {
    "GREETING": ["220 fake.test ESMTP fake"],
    "EHLO": ["250-fake.test", "250-8BITMIME", "250-SIZE 10240000", "250 ENHANCEDSTATUSCODES"],
    "HELO": ["250 fake.test"],
    "MAIL": ["250 2.1.0 Ok"],
    "RCPT": ["250 2.1.5 Ok"],
    "DATA": ["354 End data with <CR><LF>.<CR><LF>"],
    "DOT": ["250 2.0.0 Ok: queued as FAKE"],
    "RSET": ["250 2.0.0 Ok"],
    "NOOP": ["250 2.0.0 Ok"],
    "QUIT": ["221 2.0.0 Bye"],
    "UNKNOWN": ["502 5.5.2 Error: command not recognized"],
}

PRESETS = {
    "ok": {},
    "ehlo_unknown": {"EHLO": ["500 5.5.1 Error: command not recognized"]},
    "mail_rejected": {"MAIL": ["553 5.1.8 Sender address rejected"]},
    "rcpt_450": {"RCPT": ["450 4.2.0 Recipient address rejected: Greylisted"]},
    "relay_denied": {"RCPT": ["554 5.7.1 Relay access denied"]},
    "data_rejected": {"DATA": ["554 5.7.1 Data rejected"]},
    "reject_after_dot": {"DOT": ["554 5.7.1 Message rejected after end of data"]},
    "greylist_after_dot": {"DOT": ["451 4.7.1 Greylisted, please try again later"]},
    "greeting_rejected": {"GREETING": ["554 5.3.2 fake.test no SMTP service here"]},
    "greeting_421": {"GREETING": ["421 4.3.2 fake.test service not available"]},
    "split": {"GREETING": ["220-fake.test ESMTP fake", "220-split greeting", "220 ready"]},
    "error_limit": {"RCPT": ["554 5.7.1 Relay access denied"]},
}
BEHAVIOURS = sorted(
    list(PRESETS)
    + ["no_greeting", "garbage", "megabyte", "reset", "close", "split", "slow_greeting", "greet_pause"]
)


class Closed(Exception):
    """The client closed, or the connection must end now."""


class Conn:
    """One client connection to one fake host."""

    def __init__(self, server, host, reader, writer, cid):
        self.server = server
        self.host = host
        self.params = host.get("params") or {}
        self.behaviour = host["behaviour"]
        self.reader = reader
        self.writer = writer
        self.t0 = time.monotonic()
        self.buf = bytearray()
        self.lines = asyncio.Queue()
        self.first_byte = None
        self.got_byte = asyncio.Event()
        self.greeting_done = None
        self.eof = False
        self.eof_at = None
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.rec = {
            "id": cid,
            "listen": "%s:%d" % (host["addr"], host["port"]),
            "addr": host["addr"],
            "behaviour": self.behaviour,
            "peer": "%s:%d" % (peer[0], peer[1]),
            "opened": time.time(),
            "helo": None,
            "commands": [],
            "data": None,
            "data_size": 0,
            "end": None,
        }
        self.replies = dict(DEFAULT_REPLIES)
        self.replies.update(PRESETS.get(self.behaviour, {}))
        for k, v in (self.params.get("replies") or {}).items():
            self.replies[k.upper()] = [v] if isinstance(v, str) else list(v)
        self.delays = {k.upper(): float(v) for k, v in (self.params.get("delays") or {}).items()}
        self.errors = 0  # 4xx/5xx replies sent (error_limit)

    # ---- reading -----------------------------------------------------------
    async def pump(self):
        """Reads everything the client sends, splitting it into lines."""
        try:
            while True:
                chunk = await self.reader.read(65536)
                if not chunk:
                    break
                if self.first_byte is None:
                    self.first_byte = time.monotonic()
                    self.got_byte.set()
                self.buf += chunk
                while True:
                    i = self.buf.find(b"\n")
                    if i < 0:
                        break
                    line = bytes(self.buf[: i + 1])
                    del self.buf[: i + 1]
                    self.lines.put_nowait(line)
                if len(self.buf) > MAX_LINE:
                    self.lines.put_nowait(None)
                    self.rec["end"] = "client line too long"
                    return
        except (ConnectionError, OSError):
            pass
        self.eof = True
        self.eof_at = time.time()
        self.lines.put_nowait(None)

    async def line(self, timeout=None):
        t = self.server.idle_timeout if timeout is None else timeout
        try:
            got = await asyncio.wait_for(self.lines.get(), t)
        except asyncio.TimeoutError:
            raise Closed("idle timeout")
        if got is None:
            raise Closed(self.rec["end"] or "client closed")
        return got

    # ---- writing -----------------------------------------------------------
    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def reply(self, key, lines=None):
        if key in self.delays:
            await asyncio.sleep(self.delays[key])
        at = self.params.get("at", "EHLO" if self.behaviour in ("garbage", "megabyte") else "MAIL")
        if self.behaviour in ("garbage", "megabyte", "reset", "close") and at.upper() == key:
            await self.misbehave()
            return
        lines = lines if lines is not None else self.replies[key]
        if self.behaviour == "split" and key in ("GREETING", "EHLO") and len(lines) > 1:
            # Cut where a careless reader would stop: right after the code of
            # the second line ("250-a\r\n250" | "-b..."), and just before a
            # CRLF ("...250-b" | "\r\n250 c\r\n"); the pieces leave apart.
            text = "\r\n".join(lines) + "\r\n"
            first = text.index("\r\n") + 2 + 3
            second = text.index("\r\n", first)
            pause = float(self.params.get("pause", 0.3))
            for a, b in ((0, first), (first, second), (second, len(text))):
                await self.send(text[a:b].encode())
                if b < len(text):
                    await asyncio.sleep(pause)
            return
        await self.send(("\r\n".join(lines) + "\r\n").encode())
        if self.behaviour == "error_limit" and lines[-1][:1] in ("4", "5"):
            await self.count_error()

    async def count_error(self):
        """Like Postfix's smtpd: the 421 goes out right after the error reply
        that reached the limit, before the client's next command is read."""
        self.errors += 1
        if self.errors >= int(self.params.get("limit", 20)):
            await self.send(b"421 4.7.0 fake.test Error: too many errors\r\n")
            self.rec["cut_at"] = time.time()
            raise Closed("too many errors")

    async def misbehave(self):
        b = self.behaviour
        if b == "garbage":
            await self.send(self.params.get("text", "hello there\r\n").encode())
            return
        if b == "megabyte":
            await self.send(b"x" * MEGABYTE)
            if self.params.get("then", "close") == "hang":
                await self.hang()
            raise Closed("sent a megabyte line")
        if b == "reset":
            sock = self.writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.writer.transport.abort()
            raise Closed("reset sent")
        if b == "close":
            raise Closed("closed without reply")

    async def hang(self):
        """Says nothing more; waits for the client to go (bounded)."""
        try:
            while True:
                raw = await self.line(timeout=self.server.hang_timeout)
                self.rec["commands"].append(raw.decode("latin-1").rstrip("\r\n")[:KEEP_COMMAND])
        except Closed as e:
            raise Closed("hung until: %s" % e)

    # ---- the dialogue ------------------------------------------------------
    async def greet(self):
        b = self.behaviour
        if b == "no_greeting":
            await self.hang()
        if b == "greet_pause":
            try:
                await asyncio.wait_for(self.got_byte.wait(), float(self.params.get("pause", 1.5)))
                await self.send(b"554 5.5.1 fake.test early talker\r\n")
                raise Closed("early talker rejected")
            except asyncio.TimeoutError:
                pass
        if b == "slow_greeting":
            n = int(self.params.get("lines", 5))
            step = float(self.params.get("seconds", 2.0)) / n
            for i in range(n):
                await self.send(b"220-fake.test slow greeting %d\r\n" % i)
                await asyncio.sleep(step)
        await self.reply("GREETING")
        self.greeting_done = time.monotonic()
        code = self.replies["GREETING"][-1][:3]
        if code == "421":
            raise Closed("greeting 421")
        return code == "220"

    async def dialogue(self):
        accepting = await self.greet()
        while True:
            raw = await self.line()
            text = raw.decode("latin-1").rstrip("\r\n")
            self.rec["commands"].append(text[:KEEP_COMMAND])
            verb = text.split(" ", 1)[0].upper()
            arg = text[len(verb) :].strip()
            if verb == "QUIT":
                await self.reply("QUIT")
                raise Closed("quit")
            if not accepting:
                await self.send(b"503 5.5.1 Error: no service\r\n")
                continue
            if verb in ("EHLO", "HELO"):
                if self.rec["helo"] is None:
                    self.rec["helo"] = arg
                await self.reply(verb)
            elif verb == "MAIL":
                await self.reply("MAIL")
            elif verb == "RCPT":
                accept = self.params.get("accept") or []
                if self.behaviour == "error_limit" and any(re.search(a, arg) for a in accept):
                    await self.reply("RCPT", DEFAULT_REPLIES["RCPT"])
                else:
                    await self.reply("RCPT")
            elif verb == "DATA":
                await self.reply("DATA")
                if self.replies["DATA"][-1].startswith("354"):
                    await self.read_message()
                    await self.reply("DOT")
            elif verb in ("RSET", "NOOP"):
                await self.reply(verb)
            else:
                await self.reply("UNKNOWN")

    async def read_message(self):
        kept = bytearray()
        size = 0
        while True:
            raw = await self.line()
            if raw in (b".\r\n", b".\n"):
                break
            if raw.startswith(b"."):
                raw = raw[1:]
            size += len(raw)
            if len(kept) < KEEP_DATA:
                kept += raw[: KEEP_DATA - len(kept)]
        self.rec["data"] = kept.decode("utf-8", "replace")
        self.rec["data_size"] = size

    async def run(self):
        pump = asyncio.ensure_future(self.pump())
        end = None
        try:
            await self.dialogue()
        except Closed as e:
            end = str(e)
        except (ConnectionError, OSError) as e:
            end = "connection error: %s" % e
        except Exception as e:  # a bug here must not kill the other hosts
            end = "fake server error: %r" % e
        finally:
            pump.cancel()
            self.finish(end)
            try:
                self.writer.close()
            except Exception:
                pass

    def finish(self, end):
        if self.rec.get("closed"):
            return
        r = self.rec
        r["end"] = end or r["end"] or "unknown"
        r["closed"] = time.time()
        # When the client's side ended as far as we can tell: its FIN, or our close.
        r["ended"] = min(r["closed"], self.eof_at or r["closed"])
        r["early_talk"] = self.first_byte is not None and (
            self.greeting_done is None or self.first_byte < self.greeting_done
        )
        # A client that never got the greeting and never talked did not talk early.
        r["first_byte_after_s"] = None if self.first_byte is None else round(self.first_byte - self.t0, 4)
        r["greeting_done_after_s"] = (
            None if self.greeting_done is None else round(self.greeting_done - self.t0, 4)
        )
        self.server.log("close", r)


class Server:
    def __init__(self, config):
        self.config = config
        self.idle_timeout = float(config.get("idle_timeout", 60))
        self.hang_timeout = float(config.get("hang_timeout", 120))
        self.log_file = open(config["log"], "a", buffering=1)
        self.next_id = 0
        self.conns = set()
        self.servers = []

    def log(self, event, rec):
        out = dict(rec)
        out["event"] = event
        self.log_file.write(json.dumps(out, sort_keys=True) + "\n")
        self.log_file.flush()

    async def handle(self, host, reader, writer):
        self.next_id += 1
        conn = Conn(self, host, reader, writer, self.next_id)
        self.conns.add(conn)
        self.log("open", {"id": conn.rec["id"], "listen": conn.rec["listen"], "peer": conn.rec["peer"]})
        try:
            await conn.run()
        finally:
            self.conns.discard(conn)

    async def bind_all(self, hosts, port):
        for h in hosts:
            h["port"] = int(h.get("port") or port)
            srv = await asyncio.start_server(
                lambda r, w, h=h: self.handle(h, r, w),
                host=h["addr"],
                port=h["port"],
                backlog=128,
                limit=MAX_LINE + 2,
            )
            self.servers.append(srv)

    async def close_all(self):
        for s in self.servers:
            s.close()
        self.servers = []

    async def start(self):
        hosts = self.config["hosts"]
        want = int(self.config.get("port", 0))
        for _ in range(30):
            port = want
            if not port:
                with socket.socket() as s:
                    s.bind((hosts[0]["addr"], 0))
                    port = s.getsockname()[1]
            try:
                await self.bind_all(hosts, port)
                return port
            except OSError as e:
                await self.close_all()
                if want or e.errno != errno.EADDRINUSE:
                    raise
        raise RuntimeError("no common free port for %d hosts" % len(hosts))

    def shutdown(self):
        for c in list(self.conns):
            c.finish("fake server stopped")


class FakeSmtp:
    """Test side: runs the fake hosts in a subprocess and reads their log.

    hosts: [(addr, behaviour) or (addr, behaviour, params)]; all listen on
    one port (self.port), picked free on every address unless given."""

    def __init__(self, workdir, hosts, port=0, idle_timeout=60, hang_timeout=120):
        self.workdir = os.path.join(workdir, "fake_smtp")
        os.makedirs(self.workdir, exist_ok=True)
        self.log_path = os.path.join(self.workdir, "connections.jsonl")
        self.ready_path = os.path.join(self.workdir, "ready.json")
        self.hosts = []
        for h in hosts:
            addr, behaviour = h[0], h[1]
            if behaviour not in BEHAVIOURS:
                raise ValueError("unknown fake behaviour %r" % behaviour)
            self.hosts.append({"addr": addr, "behaviour": behaviour, "params": h[2] if len(h) > 2 else {}})
        config = {
            "log": self.log_path,
            "ready": self.ready_path,
            "port": port,
            "hosts": self.hosts,
            "idle_timeout": idle_timeout,
            "hang_timeout": hang_timeout,
        }
        conf_path = os.path.join(self.workdir, "config.json")
        with open(conf_path, "w") as f:
            json.dump(config, f)
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.proc = process.Process(
            [sys.executable if os.path.exists(sys.executable) else "/usr/bin/python3",
             "-m", "peers.fake_smtp", conf_path],
            self.workdir, "fake_smtp", cwd=package_parent)
        self.port = None

    def wait_ready(self, timeout=30.0):
        try:
            ports.wait_until(lambda: os.path.exists(self.ready_path), timeout,
                             "fake SMTP hosts to listen", alive=self.proc.alive)
        except Exception as e:
            raise RuntimeError("%s\n%s" % (e, self.proc.output())) from None
        with open(self.ready_path) as f:
            ready = json.load(f)
        if "error" in ready:
            raise RuntimeError("fake SMTP failed to start: %s\n%s" % (ready["error"], self.proc.output()))
        self.port = ready["port"]
        return self.port

    def events(self):
        try:
            with open(self.log_path) as f:
                return [json.loads(line) for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return []

    def idle(self):
        """True when every connection opened so far has been logged closed."""
        ev = self.events()
        opened = {e["id"] for e in ev if e["event"] == "open"}
        closed = {e["id"] for e in ev if e["event"] == "close"}
        return opened <= closed

    def connections(self, wait=10.0):
        """Closed-connection records, after waiting (bounded) for open ones to end."""
        if wait:
            ports.wait_until(self.idle, wait, "fake SMTP connections to end", alive=self.proc.alive)
        return [e for e in self.events() if e["event"] == "close"]

    def by_addr(self, wait=10.0):
        """{addr: [records]} of closed connections."""
        out = {}
        for r in self.connections(wait):
            out.setdefault(r["addr"], []).append(r)
        return out

    def stop(self):
        return self.proc.stop()


def start_fake_smtp(testcase, workdir, hosts, **kw):
    """Starts fake hosts for a test, waits until they listen, registers stop."""
    f = FakeSmtp(workdir, hosts, **kw)
    testcase.addCleanup(f.stop)
    f.wait_ready()
    return f


async def main(config_path):
    with open(config_path) as f:
        config = json.load(f)
    server = Server(config)
    ready = config["ready"]
    try:
        port = await server.start()
    except Exception as e:
        with open(ready + ".tmp", "w") as f:
            json.dump({"error": str(e)}, f)
        os.rename(ready + ".tmp", ready)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with open(ready + ".tmp", "w") as f:
        json.dump({"port": port, "pid": os.getpid(), "hosts": len(config["hosts"])}, f)
    os.rename(ready + ".tmp", ready)
    await stop.wait()
    server.shutdown()
    await server.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
