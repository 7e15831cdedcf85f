# The relay loses nothing it answered 250: kill -9 in the middle of a load of
# 2000 messages from concurrent smtplib clients, restart on the same spool,
# and count tokens at Postfix's smtp-sink. Also: what recovery does with spool
# files that were never acknowledged (tmp/) or are cut short (queue/).
import glob
import os
import re
import shutil
import smtplib
import threading
import time
import unittest
import uuid

from peers import ports, postfix, workdir
from peers.relay_delivery import LOCAL_CLIENT, DeliveryRelay, start_relay
from peers.relay_delivery_sink import start_sink

MESSAGES = 2000
CLIENTS = 8
KILL_AFTER = 700  # acknowledged messages before the kill
FILLER = 24       # lines of filler per message (about 2 KB in all)
CONCURRENCY = 8   # the relay's deliveries in flight: the most a crash can duplicate


def message(tok):
    lines = ["From: <load@example.test>", "To: <sink@remote.test>", "Subject: load " + tok,
             "Message-ID: <%s@client.example.org>" % tok, "", "BEGIN " + tok]
    lines += ["%02d %s" % (i, "x" * 72) for i in range(FILLER)]
    lines += ["END " + tok, ""]
    return "\r\n".join(lines).encode()


class Load:
    """CLIENTS threads, each sending its share of the tokens over one
    connection, reconnecting (bounded) when the relay goes away. A token is
    acknowledged when its DATA got 250; unknown when the connection broke."""

    def __init__(self, relay, run):
        self.relay = relay
        self.tokens = ["%s-%05d" % (run, i) for i in range(MESSAGES)]
        self.acked = set()
        self.unknown = set()
        self.skipped = set()
        self.lock = threading.Lock()
        self.errors = []
        self.threads = [threading.Thread(target=self.client, args=(self.tokens[i::CLIENTS],),
                                         daemon=True) for i in range(CLIENTS)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        if any(t.is_alive() for t in self.threads):
            raise TimeoutError("load clients still running after %d s" % timeout)

    def count(self):
        with self.lock:
            return len(self.acked)

    def client(self, tokens):
        s = None
        deadline = time.monotonic() + 300
        i = 0
        while i < len(tokens) and time.monotonic() < deadline:
            tok = tokens[i]
            try:
                if s is None:
                    s = self.relay.smtp(source=LOCAL_CLIENT, timeout=30)
                s.sendmail("load@example.test", ["sink@remote.test"], message(tok))
                with self.lock:
                    self.acked.add(tok)
                i += 1
            except (smtplib.SMTPException, OSError) as e:
                with self.lock:
                    self.unknown.add(tok)
                try:
                    if s is not None:
                        s.close()
                except OSError:
                    pass
                s = None
                if isinstance(e, smtplib.SMTPResponseException) and e.smtp_code < 500 and \
                        e.smtp_code >= 400 and e.smtp_code != 421:
                    with self.lock:
                        self.skipped.add(tok)
                    i += 1  # a temporary refusal of this message: not accepted, move on
                else:
                    # The relay is down (killed): wait, bounded, for it to listen again.
                    time.sleep(0.05)
        if i < len(tokens):
            with self.lock:
                self.errors.append("client gave up at %d of %d" % (i, len(tokens)))
        if s is not None:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                pass


def tokens_at(sink, run):
    """{token: [message text, ...]} of everything smtp-sink saved."""
    rx = re.compile(r"Subject: load (%s-\d{5})" % re.escape(run))
    out = {}
    for m in sink.messages():
        found = rx.search(m)
        if found:
            out.setdefault(found.group(1), []).append(m)
    return out


def strace_calls(path):
    """[(start line, end line, pid, call, text)] of a `strace -f -y` log, a
    call split by another thread's (<unfinished ...> / <... resumed>) joined."""
    pending = {}
    out = []
    with open(path, errors="replace") as f:
        for n, line in enumerate(f):
            m = re.match(r"(\d+) +(.*)$", line.rstrip("\n"))
            if not m:
                continue
            pid, rest = m.groups()
            resumed = re.match(r"<\.\.\. (\w+) resumed>(.*)", rest)
            if resumed:
                start = pending.pop((pid, resumed.group(1)), None)
                if start is not None:
                    out.append((start[0], n, pid, resumed.group(1), start[1] + resumed.group(2)))
                continue
            call = re.match(r"(\w+)\(", rest)
            if not call:
                continue
            if rest.endswith("<unfinished ...>"):
                pending[(pid, call.group(1))] = (n, rest[:-len("<unfinished ...>")])
            else:
                out.append((n, n, pid, call.group(1), rest))
    return out


class RelayDurabilityTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self, "relayscope-durability-")

    def test_kill9_under_load_every_acknowledged_message_is_delivered(self):
        sink = postfix.SmtpSink(self.dir, ports.random_loopback())
        self.addCleanup(sink.stop)
        sink.wait_ready()
        relay = start_relay(self, self.dir, delivery={
            "smarthost": "%s:%d" % (sink.addr, sink.port), "retry": ["1s"],
            "concurrency": CONCURRENCY}, limits={"max_connections_per_ip": 64})
        run = "dur-" + uuid.uuid4().hex[:12]
        load = Load(relay, run)
        load.start()
        ports.wait_until(lambda: load.count() >= KILL_AFTER, 300,
                         "%d acknowledged messages" % KILL_AFTER, interval=0.01)
        relay.kill9()
        acked_at_kill = load.count()
        # Deliveries were in flight and the spool held unsent mail at the kill.
        spooled_at_kill = len(relay.queued_ids())
        relay.start()
        load.join(600)
        self.assertEqual(load.errors, [])
        relay.wait_queue_empty(timeout=300)

        acked = set(load.acked)
        at_sink = ports.wait_until(
            lambda: (lambda got: got if acked <= set(got) else None)(tokens_at(sink, run)), 60,
            "every acknowledged token at the sink",
            interval=0.5) if acked else {}
        missing = acked - set(at_sink)
        self.assertEqual(missing, set(), "acknowledged but never delivered")
        # Nothing arrives that was never sent, and nothing arrives half.
        self.assertLessEqual(set(at_sink), acked | load.unknown)
        for tok, copies in at_sink.items():
            for text in copies:
                body = text.split("BEGIN " + tok, 1)
                self.assertEqual(len(body), 2, text[:300])
                filler = re.findall(r"^\d\d x{72}$", body[1], re.M)
                self.assertEqual(len(filler), FILLER, text)
                self.assertIn("\nEND " + tok, body[1])
        duplicates = sum(len(c) - 1 for c in at_sink.values())
        # A crash between the sink's 250 and our record of it resends once:
        # at most the deliveries that were in flight. A client that lost its
        # 250 in the kill sends again: one more copy per such message.
        self.assertLessEqual(duplicates, CONCURRENCY + len(load.unknown))
        self.assertGreaterEqual(acked_at_kill, KILL_AFTER)
        print("\ndurability: %d acknowledged (%d before the kill), %d in the spool at the "
              "kill, %d resent after a lost reply, %d delivered, %d duplicates" % (
                  len(acked), acked_at_kill, spooled_at_kill, len(load.unknown),
                  len(at_sink), duplicates))
        # Every message was sent until acknowledged (a 4xx refusal excepted).
        self.assertEqual(len(acked) + len(load.skipped - acked), MESSAGES)

    def test_250_only_after_the_file_and_its_directory_are_fsyncd(self):
        # Watch the system calls: for every message, one of the group
        # commit's two ways before its 250. Either its data is synced
        # (fdatasync of the file) before the rename into queue/ starts and
        # an fsync of queue/ starts after the rename returned; or one syncfs
        # of the spool's filesystem starts after the rename returned (so
        # after the file's last write too) and makes data and name durable
        # together. Either way the 250 is sent only after that sync returned.
        relay = DeliveryRelay(self.dir, delivery={"smarthost": "127.0.0.1:1", "retry": ["1h"]})
        self.addCleanup(relay.stop)
        trace = os.path.join(self.dir, "strace.txt")
        relay.start(wrapper=["strace", "-f", "-y", "-s", "200", "-o", trace, "-e",
                             "trace=openat,fdatasync,fsync,syncfs,rename,write,writev,pwrite64,sendto,sendmsg"])
        errors = []

        def client(n):
            try:
                with relay.smtp(source=LOCAL_CLIENT) as s:
                    for _ in range(n):
                        s.sendmail("alice@example.test", ["bob@remote.test"],
                                   b"Subject: x\r\n\r\nm\r\n")
            except Exception as e:  # reported below
                errors.append(e)
        threads = [threading.Thread(target=client, args=(10,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        relay.stop()

        calls = strace_calls(trace)
        replies = [c for c in calls if "queued as " in c[4] and c[3] in ("sendto", "sendmsg",
                                                                         "write", "writev")]
        self.assertEqual(len(replies), 40)
        queue = os.path.join(relay.spool_dir, "queue")
        dir_syncs = [c for c in calls if c[3] == "fsync" and "<%s>" % queue in c[4]
                     and c[4].rstrip().endswith("= 0")]
        for reply in replies:
            qid = re.search(r"queued as (\w+)", reply[4]).group(1)
            tmp_path = os.path.join(relay.spool_dir, "tmp", qid)
            renamed = [c for c in calls if c[3] == "rename" and '"%s"' % tmp_path in c[4]
                       and c[4].rstrip().endswith("= 0")]
            self.assertEqual(len(renamed), 1, qid)
            # The first argument names the file (strace -y): "pwrite64(7</...>, ...".
            writes = [c for c in calls if c[3] in ("write", "writev", "pwrite64")
                      and "<%s>" % tmp_path in c[4].split(",", 1)[0]]
            self.assertTrue(writes, "no write into " + tmp_path)
            last_write = max(c[1] for c in writes)
            self.assertLess(last_write, renamed[0][0], qid)
            data_first = [c for c in calls if c[4].rstrip().endswith("= 0") and
                          c[3] == "fdatasync" and "<%s>" % tmp_path in c[4] and
                          c[1] < renamed[0][0]]
            dir_synced = [c for c in dir_syncs if c[0] > renamed[0][1] and c[1] < reply[0]]
            together = [c for c in calls if c[3] == "syncfs" and c[4].rstrip().endswith("= 0")
                        and c[0] > renamed[0][1] and c[1] < reply[0]]
            self.assertTrue((data_first and dir_synced) or together,
                            "neither fdatasync, rename and fsync of queue/, nor rename then "
                            "syncfs, before the 250 of " + qid)
        data_syncs = [c for c in calls if c[3] in ("fdatasync", "syncfs") and
                      c[4].rstrip().endswith("= 0")]
        print("\nfsync order: %d messages, %d data syncs (fdatasync or syncfs), %d fsyncs of "
              "queue/" % (len(replies), len(data_syncs), len(dir_syncs)))

    def test_recovery_never_delivers_unacknowledged_or_cut_spool_files(self):
        # The smarthost is down at first: the messages wait in the spool.
        sink_addr = ports.random_loopback()
        sink_port = ports.free_port(sink_addr)
        relay = DeliveryRelay(self.dir, delivery={
            "smarthost": "%s:%d" % (sink_addr, sink_port), "retry": ["1s"]})
        self.addCleanup(relay.stop)
        relay.start()
        toks = {name: "rec-%s-%s" % (name, uuid.uuid4().hex[:8]) for name in
                ("kept", "tmp", "cut", "finished")}
        ids = {}
        for name, tok in toks.items():
            before = set(relay.queued_ids())
            relay.send("alice@example.test", ["bob@remote.test"], "recovery " + tok,
                       source=LOCAL_CLIENT)
            ids[name] = (set(relay.queued_ids()) - before).pop()
        relay.stop()
        queue = os.path.join(relay.spool_dir, "queue")
        tmp = os.path.join(relay.spool_dir, "tmp")
        # As if the crash came before the rename: the client never got 250.
        shutil.move(os.path.join(queue, ids["tmp"]), os.path.join(tmp, ids["tmp"]))
        # A file cut short (its last 10 bytes lost).
        path = os.path.join(queue, ids["cut"])
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 10)
        # Delivered before the crash, recorded, but not yet removed.
        with open(os.path.join(queue, ids["finished"] + ".done"), "w") as f:
            f.write("bob@remote.test\tdelivered earlier\n")

        sink = start_sink(self, self.dir, addr=sink_addr, port=sink_port)
        relay.start()
        sink.wait_for(toks["kept"])
        relay.wait_queue_empty()
        got = "".join(m["data"] for m in sink.messages())
        for name in ("tmp", "cut", "finished"):
            self.assertNotIn(toks[name], got, name)
        self.assertEqual(len(sink.messages()), 1)
        self.assertEqual(os.listdir(tmp), [])
        self.assertEqual(os.listdir(os.path.join(relay.spool_dir, "corrupt")), [ids["cut"]])
        self.assertEqual(glob.glob(os.path.join(queue, "*")), [])
        log = relay.log()
        self.assertIn("removed 1 half-written", log)
        self.assertIn(ids["cut"] + " does not parse", log)


if __name__ == "__main__":
    unittest.main()
