#!/usr/bin/env python3
"""policyd_client - drive a running postdrip-policyd over its socket.

Usage: policyd_client.py SOCKET PID CONF LOG POSTDRIP POLICYD

Runs the daemon checks of tests/policyd_test.sh against the daemon with
process id PID listening on SOCKET (a path: unix socket), configured by CONF
(rewritten here to test reloads), logging to LOG. POSTDRIP is the CLI and
POLICYD the daemon binary (for the -s mode). Exits 0 when every check passed,
1 with a message otherwise. Every wait is bounded.
"""
import os
import signal
import socket
import subprocess
import sys
import time

SOCK, PID, CONF, LOG, POSTDRIP, POLICYD = sys.argv[1:7]
PID = int(PID)
MARKETING = "news@news.example.com"


def fail(msg):
    print("FAIL: policyd_client: " + msg, file=sys.stderr)
    sys.exit(1)


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(SOCK)
    return s


def request(**kw):
    d = {
        "request": "smtpd_access_policy",
        "protocol_state": "RCPT",
        "protocol_name": "ESMTP",
        "helo_name": "mx.client.example",
        "queue_id": "4AbCdEf123",
        "sender": MARKETING,
        "recipient": "someone@example.org",
        "recipient_count": "0",
        "client_address": "192.0.2.10",
        "client_name": "mx.client.example",
        "instance": "a1.b2.c3.1",
        "sasl_username": "",
        "size": "1000",
    }
    d.update(kw)
    return ("".join("%s=%s\n" % (k, v) for k, v in d.items()) + "\n").encode()


def read_replies(s, n):
    """n replies (each "action=...\\n\\n") from s."""
    buf = b""
    while buf.count(b"\n\n") < n:
        chunk = s.recv(65536)
        if not chunk:
            fail("connection closed after %r" % buf)
        buf += chunk
    replies = buf.split(b"\n\n")[:n]
    out = []
    for r in replies:
        if not r.startswith(b"action="):
            fail("bad reply %r" % r)
        out.append(r[7:].decode())
    return out


def ask(s, **kw):
    s.sendall(request(**kw))
    return read_replies(s, 1)[0]


def expect(got, want, what):
    if not got.startswith(want):
        fail("%s: got %r, want %r..." % (what, got, want))


def cli(*args):
    r = subprocess.run([POSTDRIP, "-c", CONF] + list(args), capture_output=True, timeout=30)
    if r.returncode != 0:
        fail("postdrip %s: %s" % (" ".join(args), r.stderr.decode()))


def log_has(text, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        with open(LOG, errors="replace") as f:
            if text in f.read():
                return True
        time.sleep(0.05)
    fail("log has no %r" % text)


def closed_by_server(s, timeout):
    """True when the server closes s (EOF) within timeout seconds."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def check_decisions():
    s = connect()
    # Transactional mail passes, even to a suppressed recipient.
    cli("suppress", "bob@example.org", "--reason", "unsubscribed")
    expect(ask(s, sender="receipts@shop.example.com", recipient="bob@example.org"),
           "DUNNO", "transactional to suppressed")
    expect(ask(s, recipient="bob@example.org", queue_id=""),
           "550 5.7.1 recipient unsubscribed (postdrip)", "suppressed")
    log_has("NOQUEUE: reject: RCPT from mx.client.example[192.0.2.10]: 550 5.7.1 "
            "recipient unsubscribed (postdrip); from=<news@news.example.com> "
            "to=<bob@example.org> proto=ESMTP helo=<mx.client.example> stream=marketing")
    # Unsuppress takes effect at the next request.
    cli("unsuppress", "bob@example.org")
    expect(ask(s, recipient="bob@example.org"), "DUNNO", "after unsuppress")
    cli("suppress", "carl@example.org", "--reason", "complaint")
    expect(ask(s, recipient="carl@example.org"),
           "550 5.7.1 recipient complained (spam report) (postdrip)", "complaint")
    # Other stages are not our business.
    expect(ask(s, protocol_state="MAIL", recipient=""), "DUNNO", "MAIL stage")
    # Pipelined: three requests in one write, three answers in order.
    s.sendall(request(recipient="carl@example.org") + request(sender="x@shop.example.com")
              + request(recipient="dora@example.org"))
    r = read_replies(s, 3)
    expect(r[0], "550 5.7.1", "pipelined 1")
    expect(r[1], "DUNNO", "pipelined 2")
    expect(r[2], "DUNNO", "pipelined 3")
    s.close()


def check_pipeline_flood():
    """3000 pipelined requests written without waiting: replies are held
    back while the client does not read, and all come, in order."""
    import threading
    s = connect()
    s.settimeout(30)
    n = 3000
    reqs = b"".join(request(recipient="carl@example.org") if i % 2 else
                    request(sender="x@shop.example.com") for i in range(n))
    got = []

    def reader():
        buf = b""
        while buf.count(b"\n\n") < n:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            buf += chunk
        got.extend(buf.split(b"\n\n")[:n])

    t = threading.Thread(target=reader)
    # Write it all first: the server must stop reading, not buffer
    # without bound, until replies drain.
    s.sendall(reqs[:len(reqs) // 2])
    time.sleep(0.3)
    t.start()
    s.sendall(reqs[len(reqs) // 2:])
    t.join(60)
    if len(got) != n:
        fail("pipeline flood: %d of %d replies" % (len(got), n))
    for i, r in enumerate(got):
        want = b"action=550 5.7.1" if i % 2 else b"action=DUNNO"
        if not r.startswith(want):
            fail("pipeline flood: reply %d is %r" % (i, r[:60]))
    s.close()


def check_counting():
    s = connect()
    # Passed at RCPT, counted at END-OF-MESSAGE: the next message is over.
    expect(ask(s, recipient="erin@example.org", instance="m1", queue_id="QA1"), "DUNNO", "m1 rcpt")
    expect(ask(s, recipient="erin@example.org", instance="m2", queue_id="QA2"), "DUNNO",
           "m2 rcpt: m1 was not counted, it never reached END-OF-MESSAGE")
    expect(ask(s, recipient="", protocol_state="END-OF-MESSAGE", recipient_count="1",
               instance="m2", queue_id="QA2"), "DUNNO", "m2 eom")
    log_has("QA2: count: END-OF-MESSAGE from mx.client.example[192.0.2.10]: "
            "1 recipient counted for frequency caps")
    end = time.time() + 5
    while True:
        got = ask(s, recipient="erin@example.org", instance="m3", queue_id="QA3")
        if got.startswith("450 4.7.1") or time.time() > end:
            break
        time.sleep(0.05)
    expect(got, "450 4.7.1 frequency cap reached (1 message per 1d) (postdrip)",
           "over the cap")
    log_has('QA3: defer: RCPT from mx.client.example[192.0.2.10]: 450 4.7.1')
    log_has('rule="frequency_caps 1/1d"')
    s.close()


def check_malformed():
    good = connect()
    expect(ask(good), "DUNNO", "good client first")

    # No empty line, then EOF: closed, logged.
    s = connect()
    s.sendall(b"request=smtpd_access_policy\nrecipient=a@b.c\n")
    s.shutdown(socket.SHUT_WR)
    if not closed_by_server(s, 5):
        fail("no close after EOF inside a request")
    log_has("connection closed inside a request")

    # A megabyte line: a bounded answer and a close, long before the end.
    s = connect()
    try:
        s.sendall(b"recipient=" + b"x" * (1024 * 1024))
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.settimeout(5)
    try:
        data = s.recv(4096)
    except ConnectionResetError:
        data = b""
    if data and not data.startswith(b"action=451 4.3.5"):
        fail("megabyte line: %r" % data)
    log_has("malformed policy request: line too long")

    # Binary bytes.
    s = connect()
    s.sendall(b"request=smtpd_access_policy\nrecipient=a\x00\xff\x01@b.c\n\n")
    data = s.recv(4096)
    if not data.startswith(b"action=451 4.3.5 Malformed policy request"):
        fail("binary bytes: %r" % data)
    if not closed_by_server(s, 5):
        fail("binary bytes: not closed")
    log_has("malformed policy request: control byte in request")

    # 10,000 attributes.
    s = connect()
    try:
        s.sendall(b"".join(b"attr%d=value\n" % i for i in range(10000)) + b"\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        data = s.recv(4096)
    except ConnectionResetError:
        data = b""
    if data and not data.startswith(b"action=451 4.3.5"):
        fail("10,000 attributes: %r" % data)
    log_has("malformed policy request: too many attributes")

    # An unknown request type.
    s = connect()
    s.sendall(b"request=something_else\n\n")
    data = s.recv(4096)
    if not data.startswith(b"action=451 4.3.5 Unknown policy request"):
        fail("unknown request: %r" % data)

    # The good client never noticed.
    expect(ask(good, recipient="fred@example.org"), "DUNNO", "good client after the noise")
    good.close()


def check_many():
    before = rss_kb(PID)
    conns, refused = [], 0
    # policyd_max_connections is 100 here: 150 at once, each holding a
    # 60 KB partial request (under policyd_request_limit).
    for i in range(150):
        s = connect()
        conns.append(s)
    time.sleep(0.3)
    partial = b"request=smtpd_access_policy\n" + b"".join(b"pad%d=%s\n" % (i, b"y" * 90)
                                                       for i in range(600))
    for s in conns:
        try:
            s.sendall(partial)
        except (BrokenPipeError, ConnectionResetError):
            pass
    # The daemon accepts and closes the ones over the limit: wait (5 s at
    # most) until 50 have seen their end, then look at the rest.
    end = time.time() + 5
    state = {}
    while True:
        for i, s in enumerate(conns):
            if state.get(i) == "closed":
                continue
            s.setblocking(False)
            try:
                if s.recv(65536) == b"":
                    state[i] = "closed"
            except BlockingIOError:
                state[i] = "alive"
            except (ConnectionResetError, BrokenPipeError):
                state[i] = "closed"
        refused = sum(1 for v in state.values() if v == "closed")
        if refused >= 50 or time.time() > end:
            break
        time.sleep(0.1)
    alive = len(conns) - refused
    grown = rss_kb(PID) - before
    if refused < 50 or alive > 100:
        fail("%d of 150 connections refused, %d alive, with policyd_max_connections = 100"
             % (refused, alive))
    log_has("(policyd_max_connections)")
    # 100 connections x 64 KB of buffer, plus allocator slack.
    if grown > 48 * 1024:
        fail("memory grew by %d KB with 100 stuck clients" % grown)
    for s in conns:
        s.close()
    time.sleep(0.5)
    # Connections were freed: a new client works, and quickly.
    s = connect()
    t0 = time.time()
    expect(ask(s, recipient="gina@example.org"), "DUNNO", "after the flood")
    if time.time() - t0 > 1:
        fail("slow answer after the flood")
    s.close()
    return grown


def write_conf(extra):
    with open(CONF) as f:
        base = f.read().split("# reload\n")[0]
    with open(CONF, "w") as f:
        f.write(base + "# reload\n" + extra)


def check_reload():
    s = connect()
    expect(ask(s, sender="promo@shop.example.com", recipient="hank@example.org"), "DUNNO",
           "before reload")
    cli("suppress", "hank@example.org")
    expect(ask(s, sender="promo@shop.example.com", recipient="hank@example.org"), "DUNNO",
           "transactional before reload")
    write_conf("marketing_senders = *@news.example.com, *@shop.example.com\n")
    os.kill(PID, signal.SIGHUP)
    log_has("configuration reloaded")
    # The same connection, now with the new settings.
    expect(ask(s, sender="promo@shop.example.com", recipient="hank@example.org"),
           "550 5.7.1 recipient suppressed by the administrator",
           "after reload")
    # A bad configuration is refused; the good one stays.
    write_conf("frequency_caps = lots\n")
    os.kill(PID, signal.SIGHUP)
    log_has("reload refused")
    expect(ask(s, sender="promo@shop.example.com", recipient="hank@example.org"), "550 5.7.1",
           "after a refused reload")
    write_conf("")
    s.close()


def check_spawn_mode():
    p = subprocess.Popen([POLICYD, "-s", "-c", CONF], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        out, _ = p.communicate(request(recipient="carl@example.org")
                               + request(sender="x@shop.example.com"), timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("-s did not exit at end of input")
    if out != (b"action=550 5.7.1 recipient complained (spam report) "
               b"(postdrip)\n\naction=DUNNO\n\n"):
        fail("-s mode: %r" % out)
    if p.returncode != 0:
        fail("-s mode exit %d" % p.returncode)


check_decisions()
check_pipeline_flood()
check_counting()
check_malformed()
grown = check_many()
check_reload()
check_spawn_mode()
try:
    os.kill(PID, 0)
except OSError:
    fail("the daemon died")
print("policyd_client: all checks passed (memory growth under 150 clients: %d KB)" % grown)
