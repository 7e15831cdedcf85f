#!/usr/bin/python3
# Writes the seeds of fuzz_lab_session (tests/fuzz/corpus/lab_session): the
# client bytes of each smtpd dialogue file that applies to the lab, behind
# the first bytes of a few host behaviours (the index into the target's
# list), and one dialogue per trick host with the spelling it relays for.
# Run it again when the dialogue files change; the fuzzer itself never
# writes into the committed corpus (scripts/fuzz works on a copy).
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DIALOGUES = os.path.join(HERE, "..", "unit", "smtpd", "dialogues")
OUT = os.path.join(HERE, "corpus", "lab_session")

# Indexes into fuzz_lab_session.cpp's `behaviours`.
RELAY_DENIED, RELAY, ACCEPT_DROP, BOUNCE, GREYLIST, HELO_ONLY = 0, 1, 2, 3, 4, 5
GREETING_554, MAIL_REJECTED, MESSAGE_REJECTED, QUIT_ERROR, RESET_MID = 6, 7, 9, 11, 12
PLAIN = [RELAY_DENIED, RELAY, BOUNCE, GREYLIST, HELO_ONLY, GREETING_554, MAIL_REJECTED,
         MESSAGE_REJECTED, QUIT_ERROR, RESET_MID, ACCEPT_DROP]

# (behaviour index, MAIL FROM path, RCPT TO path): the fuzzer's host is
# mx.local.test at [127.1.0.1], for the domain local.test.
OURS, PLAIN_RCPT = "<probe+tok@collector.test>", "<t@target.test>"
TRICKS = [
    (14, OURS, "<t%target.test@mx.local.test>"),
    (15, OURS, "<target.test!t>"),
    (16, OURS, '<"t@target.test">'),
    (17, OURS, "<@mx.local.test:t@target.test>"),
    (18, OURS, "<t@target.test@[127.1.0.1]>"),
    (19, "<>", PLAIN_RCPT),
    (20, "<probe+tok@local.test>", PLAIN_RCPT),
    (21, OURS, "<t@TARGET.TEST>"),
    (22, OURS, "<t@target.test.>"),
    (23, "<probe+tok>", PLAIN_RCPT),
    (24, "<probe+tok@localhost>", PLAIN_RCPT),
    (25, PLAIN_RCPT, PLAIN_RCPT),
    (26, OURS, "<t@target.test@>"),
    (27, OURS, "<t@target.test@mx.local.test>"),
    (28, "<probe+tok@[127.1.0.1]>", PLAIN_RCPT),
]


def unescape(text):
    return re.sub(r"\\(x[0-9A-Fa-f]{2}|[rnt\\])",
                  lambda m: {"r": "\r", "n": "\n", "t": "\t", "\\": "\\"}.get(
                      m.group(1), None) or chr(int(m.group(1)[1:], 16)), text)


def client_bytes(script):
    out = ""
    for line in script.splitlines():
        if line.startswith("C:") or line.startswith("C!"):
            text = unescape(line[3:] if line[2:3] == " " else line[2:])
            out += text + ("\r\n" if line.startswith("C:") else "")
    return out.encode("latin-1")


def applies(script):
    only = [l[len("= only "):].strip() for l in script.splitlines() if l.startswith("= only ")]
    return not only or "lab" in only


def message(mail_from, rcpt):
    return ("EHLO client.example\r\nMAIL FROM:%s\r\nRCPT TO:%s\r\nDATA\r\n"
            "Subject: test\r\n\r\nrelayscope test\r\n.\r\nQUIT\r\n" % (mail_from, rcpt)).encode()


def main():
    os.makedirs(OUT, exist_ok=True)
    names = sorted(n for n in os.listdir(DIALOGUES) if n.endswith(".dlg"))
    for i, name in enumerate(names):
        with open(os.path.join(DIALOGUES, name), encoding="utf-8") as f:
            script = f.read()
        if not applies(script):
            continue
        body = client_bytes(script)
        # The closed host, and one other behaviour in turn.
        for b in (RELAY_DENIED, PLAIN[1 + i % (len(PLAIN) - 1)]):
            with open(os.path.join(OUT, "%s-%d" % (name[:-4], b)), "wb") as f:
                f.write(bytes([b]) + body)
    for b, mail_from, rcpt in TRICKS:
        with open(os.path.join(OUT, "trick-%d" % b), "wb") as f:
            f.write(bytes([b]) + message(mail_from, rcpt))
    with open(os.path.join(OUT, "trick-29-auth"), "wb") as f:
        f.write(bytes([29]) + b"EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHdyb25n\r\n"
                + message(OURS, PLAIN_RCPT)[len(b"EHLO client.example\r\n"):])


if __name__ == "__main__":
    main()
