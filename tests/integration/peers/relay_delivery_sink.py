# A downstream SMTP server for the relay's delivery tests, on aiosmtpd: it
# answers by recipient local part ("tempfail*": 450 at the first RCPT of that
# address, 250 afterwards; "reject*": 550 5.1.1; else 250), logs every RCPT
# with its reply, and keeps each accepted message (envelope + data) as JSON.
# Run as a script by Debian's python3 (see ScriptedSink); limits: plain SMTP.
import json
import os
import sys

if __package__:  # imported by a test (run as a script, the sink needs neither)
    from . import ports, process

PYTHON = "/usr/bin/python3"


class ScriptedSink:
    def __init__(self, workdir, addr=None, port=None):
        self.addr = addr or ports.random_loopback()
        self.port = port or ports.free_port(self.addr)
        self.dir = os.path.join(workdir, "sink-%s-%d" % (self.addr, self.port))
        os.makedirs(os.path.join(self.dir, "messages"), exist_ok=True)
        self.proc = process.Process([PYTHON, "-I", os.path.abspath(__file__), self.addr,
                                     str(self.port), self.dir], self.dir, "sink")

    def wait_ready(self, timeout=15.0):
        try:
            ports.wait_for_port(self.addr, self.port, timeout, alive=self.proc.alive)
        except Exception as e:
            raise RuntimeError("%s\n%s" % (e, self.proc.output())) from None

    def rcpt_log(self):
        """[(recipient, reply code)] in order."""
        path = os.path.join(self.dir, "rcpt.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [tuple(json.loads(line)) for line in f if line.endswith("\n")]

    def messages(self):
        out = []
        d = os.path.join(self.dir, "messages")
        for name in sorted(os.listdir(d)):
            if name.endswith(".json"):
                with open(os.path.join(d, name)) as f:
                    out.append(json.load(f))
        return out

    def wait_for(self, needle, timeout=30.0):
        def find():
            for m in self.messages():
                if needle in m["data"]:
                    return m
            return None
        return ports.wait_until(find, timeout, "a message with %r at the sink" % needle,
                                interval=0.05, alive=self.proc.alive)

    def stop(self):
        return self.proc.stop()


def start_sink(testcase, workdir, **kw):
    s = ScriptedSink(workdir, **kw)
    testcase.addCleanup(s.stop)
    s.wait_ready()
    return s


def _serve(addr, port, outdir):
    import asyncio
    from aiosmtpd.smtp import SMTP

    seen = {}
    counter = [0]

    def log_rcpt(address, code):
        with open(os.path.join(outdir, "rcpt.log"), "a") as f:
            f.write(json.dumps([address, code]) + "\n")

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            local = address.split("@")[0].lower()
            if local.startswith("reject"):
                log_rcpt(address, 550)
                return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
            if local.startswith("tempfail"):
                seen[address] = seen.get(address, 0) + 1
                if seen[address] == 1:
                    log_rcpt(address, 450)
                    return "450 4.2.0 <%s>: Recipient address rejected: try again later" % address
            log_rcpt(address, 250)
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 Ok"

        async def handle_DATA(self, server, session, envelope):
            counter[0] += 1
            rec = {"mail_from": envelope.mail_from, "rcpts": list(envelope.rcpt_tos),
                   "data": envelope.content.decode("utf-8", "replace"),
                   "peer": session.peer[0]}
            name = os.path.join(outdir, "messages", "%06d" % counter[0])
            with open(name + ".tmp", "w") as f:
                json.dump(rec, f)
            os.rename(name + ".tmp", name + ".json")
            return "250 2.0.0 Ok: kept as %d" % counter[0]

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(Handler(), hostname="sink.test", decode_data=False), addr, port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])
