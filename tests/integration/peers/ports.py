# Loopback addresses and ports for test peers, and bounded waits on them.
# Limits: a port picked by free_port() can in theory be taken by someone else
# before the peer binds it; peers bind distinct random 127.x addresses, so a
# collision needs the same address too, which is vanishingly rare.
import errno
import random
import socket
import time

_rng = random.SystemRandom()

# Addresses the tests never take: 127.0.0.0/16 holds 127.0.0.1 (the prober's
# source address, where other tests put their DNS servers) and 127.0.1.1
# (Debian's hostname entry); 127.255.255.255 is the broadcast address.
_FIRST_OCTET = (16, 250)


def random_loopback():
    """One random address in 127.16.0.1 .. 127.250.254.254."""
    return "127.%d.%d.%d" % (
        _rng.randint(*_FIRST_OCTET),
        _rng.randint(0, 254),
        _rng.randint(1, 254),
    )


def distinct_loopbacks(n):
    """n distinct random loopback addresses (see random_loopback)."""
    seen = set()
    out = []
    while len(out) < n:
        a = random_loopback()
        if a not in seen:
            seen.add(a)
            out.append(a)
    return out


def free_port(addr="127.0.0.1", kind=socket.SOCK_STREAM):
    """A port on addr that was free a moment ago (bind port 0, then close)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def free_port_all(addrs, attempts=50):
    """One TCP port that is free on every address in addrs right now."""
    addrs = list(addrs)
    for _ in range(attempts):
        port = free_port(addrs[0])
        socks = []
        try:
            for a in addrs:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((a, port))
            return port
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no port free on all of %d addresses" % len(addrs))


def wait_until(predicate, timeout, what, interval=0.02, alive=None):
    """Polls predicate() until it is true or timeout seconds pass.

    alive: optional callable; when it returns false the wait gives up at once
    (e.g. the peer process died) instead of running out the clock.
    Returns predicate()'s value; raises TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if alive is not None and not alive():
            raise RuntimeError("gave up waiting for %s: the process ended" % what)
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def port_accepts(addr, port, connect_timeout=0.5):
    """True when a TCP connect to addr:port succeeds now."""
    try:
        with socket.create_connection((addr, port), timeout=connect_timeout):
            return True
    except OSError:
        return False


def wait_for_port(addr, port, timeout=10.0, alive=None):
    """Waits (bounded) until addr:port accepts TCP connections."""
    wait_until(
        lambda: port_accepts(addr, port),
        timeout,
        "%s:%d to accept connections" % (addr, port),
        alive=alive,
    )
