#!/usr/bin/python3
# Writes the seeds of fuzz_record_codec (tests/fuzz/corpus/record_codec): a
# type byte then a body, as survey/record_codec.cpp encodes them (integers
# big-endian, i64 for int64 and int fields, one byte per flag, strings and
# lists as a u32 count then their items), for records like those a survey
# sends: an IMC probe that relayed, one refused at RCPT TO with its variants,
# a CONNECT failure, a greylisted host retried; a batch of hosts, counts, a
# summary, a want; and one stream of whole frames (length-prefixed) for
# take_frame. Run it again when the codec changes; the fuzzer itself never
# writes into the committed corpus (scripts/fuzz works on a copy).
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "record_codec")

HOSTS, WANT, PROBES, COUNTS, SUMMARY = 2, 10, 11, 12, 13


def u8(v):
    return struct.pack(">B", v)


def u32(v):
    return struct.pack(">I", v)


def i64(v):
    return struct.pack(">q", v)


def s(v):
    b = v.encode() if isinstance(v, str) else v
    return u32(len(b)) + b


def strs(v):
    return u32(len(v)) + b"".join(s(x) for x in v)


def target(host_id, ip, domain, mx, fallback=(), token=""):
    return i64(host_id) + s(ip) + s(domain) + s(mx) + strs(list(fallback)) + s(token)


def probe(host_id, ip, domain, outcome, code, reason, token, lines, variants=(),
          greylisted=False, first_code=0, first_reply="", esmtp=True, tls=False,
          greeting=""):
    b = i64(host_id) + s(ip) + s(domain) + s(outcome) + i64(code) + s(reason) + s(token)
    b += s("2026-11-30T14:00:00Z") + i64(1_234_567) + s(greeting)
    b += u8(esmtp) + u8(tls)
    b += u32(len(lines)) + b"".join(i64(t) + u8(ord(d)) + s(x) for t, d, x in lines)
    b += u32(len(variants)) + b"".join(
        s(n) + s(f) + s(r) + s(o) + i64(c) + s(t) for n, f, r, o, c, t in variants)
    b += u8(greylisted) + i64(first_code) + s(first_reply)
    return b


def dialogue(final):
    return [(0, "*", "connect 127.0.0.1:25"),
            (1500, "<", "220 mx.example.test ESMTP Postfix"),
            (1600, ">", "EHLO relayscope.invalid"),
            (2900, "<", "250-mx.example.test"),
            (2950, "<", "250 STARTTLS"),
            (3000, ">", "MAIL FROM:<probe+tok1@relayscope.invalid>"),
            (4100, "<", "250 2.1.0 Ok"),
            (4200, ">", "RCPT TO:<relay-test+tok1@relayscope.invalid>"),
            (5300, "<", final)]


RELAYED = probe(1, "127.0.0.10", "example.test", "OK", 250, "", "tok1",
                dialogue("250 2.1.5 Ok") + [(5400, ">", "DATA"), (6500, "<", "354 go"),
                                            (9000, "<", "250 2.0.0 queued"),
                                            (9100, ">", "QUIT"), (9900, "<", "221 bye")],
                variants=[("imc", "<probe@relayscope.invalid>", "<relay@relayscope.invalid>",
                           "OK", 250, "tok1")],
                tls=True, greeting="mx.example.test")
REFUSED = probe(2, "127.0.0.11", "closed.test", "TO", 554, "5xx", "tok2",
                dialogue("554 5.7.1 Relay access denied"),
                variants=[("imc", "<p@r.invalid>", "<t@r.invalid>", "TO", 554, "tok2"),
                          ("percent-hack", "<p@r.invalid>", "<t%r.invalid@[127.0.0.11]>",
                           "TO", 554, "tok3"),
                          ("auth-fail-relay", "<p@r.invalid>", "<t@r.invalid>",
                           "NOT_TRIED", 0, "")],
                greeting="mx.closed.test")
CONNECT = probe(3, "::1", "down.test", "CONNECT", 0, "refused", "tok4",
                [(0, "*", "connect [::1]:25: Connection refused")], esmtp=False)
GREYLISTED = probe(4, "127.0.0.12", "grey.test", "OK", 250, "", "tok5",
                   dialogue("450 4.2.0 Greylisted") + [(6000, "*", "greylist retry")]
                   + dialogue("250 2.1.5 Ok"),
                   greylisted=True, first_code=450, first_reply="450 4.2.0 Greylisted")

SEEDS = {
    "probes-relayed": u8(PROBES) + u32(1) + RELAYED,
    "probes-refused-variants": u8(PROBES) + u32(1) + REFUSED,
    "probes-batch": u8(PROBES) + u32(3) + CONNECT + GREYLISTED + REFUSED,
    "probes-empty": u8(PROBES) + u32(0),
    "hosts": u8(HOSTS) + u8(0) + u32(2)
    + target(7, "127.0.0.20", "a.test", "mx1.a.test", ["127.0.0.21", "127.0.0.22"])
    + target(8, "2001:db8::25", "b.test", "mx.b.test", token="tok9"),
    "hosts-last": u8(HOSTS) + u8(1) + u32(0),
    "counts": u8(COUNTS) + i64(1000) + i64(12) + i64(3),
    "summary": u8(SUMMARY) + i64(3) + i64(1) + i64(2) + u8(0) + s(""),
    "summary-error": u8(SUMMARY) + i64(0) + i64(0) + i64(0) + u8(1) + s("store: disk full"),
    "want": u8(WANT) + u32(256),
}


def frame(typ, body):
    return u32(len(body) + 1) + u8(typ) + body


SEEDS["frames"] = (frame(WANT, u32(64)) + frame(PROBES, u32(1) + REFUSED)
                   + frame(COUNTS, i64(5) + i64(0) + i64(0)) + frame(PROBES, u32(1) + CONNECT)[:20])


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
