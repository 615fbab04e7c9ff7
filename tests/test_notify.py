"""sd_notify against a real AF_UNIX datagram socket, as systemd listens for it."""

from __future__ import annotations

import array
import io
import logging
import os
import socket
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.systemd import (
    JournalFormatter,
    Notifier,
    WatchdogPinger,
    socket_address,
    syslog_priority,
    under_journald,
    watchdog_interval,
)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound datagram socket playing systemd's notify socket."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()


def pending(sock: socket.socket) -> list[bytes]:
    """Every datagram already queued, without waiting for more."""
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096))
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(5)
    return out


def test_ready_with_status_arrives_as_one_datagram(listener):
    """systemd sees READY=1 and the status line in a single message."""
    sock, path = listener
    with Notifier({"NOTIFY_SOCKET": path}) as n:
        assert n.ready("scanning: 2 scanners")
    assert sock.recv(4096) == b"READY=1\nSTATUS=scanning: 2 scanners"


def test_every_message_kind_is_sent(listener):
    """WATCHDOG, STATUS, STOPPING and EXTEND_TIMEOUT_USEC reach systemd verbatim."""
    sock, path = listener
    n = Notifier({"NOTIFY_SOCKET": path})
    n.watchdog()
    n.status("syncing")
    n.extend_timeout(2.5)
    n.stopping()
    n.close()
    assert [sock.recv(4096) for _ in range(4)] == [
        b"WATCHDOG=1",
        b"STATUS=syncing",
        b"EXTEND_TIMEOUT_USEC=2500000",
        b"STOPPING=1",
    ]


def test_status_cannot_inject_a_second_field(listener):
    """A newline in a status text cannot smuggle READY=1 or other fields to systemd."""
    sock, path = listener
    Notifier({"NOTIFY_SOCKET": path}).status("bad\nREADY=1")
    assert sock.recv(4096) == b"STATUS=bad READY=1"


def test_abstract_namespace_socket_is_supported():
    """A NOTIFY_SOCKET starting with '@' reaches an abstract-namespace socket."""
    name = f"kiosk-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(5)
    try:
        assert socket_address("@" + name) == b"\0" + name.encode()
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert sock.recv(4096) == b"READY=1"
    finally:
        sock.close()


def test_sender_is_this_process(listener):
    """Messages carry this process's PID, so NotifyAccess=main accepts them."""
    sock, path = listener
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    Notifier({"NOTIFY_SOCKET": path}).ready()
    ucred = struct.calcsize("3i")
    data, ancdata, _flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(ucred))
    assert data == b"READY=1"
    creds = [d for level, kind, d in ancdata if kind == socket.SCM_CREDENTIALS]
    pid, _uid, _gid = array.array("i", creds[0][:ucred])
    assert pid == os.getpid()


def test_outside_systemd_everything_is_a_no_op():
    """Run from a terminal, the daemon's notifications do nothing and raise nothing."""
    n = Notifier({})
    assert not n.enabled
    assert not n.ready("x")
    assert not n.watchdog()
    assert not n.stopping()


def test_a_vanished_socket_is_logged_not_raised(tmp_path, caplog):
    """If systemd's socket is gone, the scan loop goes on and the journal says why."""
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    with caplog.at_level(logging.WARNING, logger="kiosk.systemd"):
        assert not n.watchdog()
    assert "cannot notify systemd" in caplog.text


def test_watchdog_interval_from_environment():
    """WATCHDOG_USEC becomes seconds; a watchdog meant for another PID is ignored."""
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    mine = {"WATCHDOG_USEC": "8000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval(mine) == 8.0
    assert watchdog_interval({"WATCHDOG_USEC": "8000000", "WATCHDOG_PID": "1"}, pid=4242) is None
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None


def test_loop_pings_are_rate_limited_to_half_the_interval(listener):
    """A loop turning many times a second pings once per half interval, not per pass."""
    sock, path = listener
    now = [100.0]
    n = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"}, clock=lambda: now[0])
    sent = []
    for t in (100.0, 100.5, 110.0, 114.9, 115.0, 116.0, 130.0):
        now[0] = t
        n.watchdog()
        sent.append(len(pending(sock)))
    assert sent == [1, 0, 0, 0, 1, 0, 1]


def test_messages_other_than_watchdog_pass_straight_through(listener):
    """The daemon's READY=1 / STOPPING=1 are never held back by the watchdog's rate limit."""
    sock, path = listener
    n = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
    n.ready()
    n.stopping()
    assert [sock.recv(4096), sock.recv(4096)] == [b"READY=1", b"STOPPING=1"]


def test_pinger_without_watchdog_never_sends(listener):
    """Without WatchdogSec= nothing is pinged and the loop may block as long as it likes."""
    sock, path = listener
    pinger = WatchdogPinger(Notifier({"NOTIFY_SOCKET": path}), None)
    assert not pinger.tick()
    assert pinger.timeout(5.0) == 5.0
    assert pending(sock) == []
    assert WatchdogPinger(Notifier({}), 30.0).timeout(60.0) == 15.0


def test_journal_lines_carry_the_level():
    """journalctl -p warning shows warnings, tracebacks included, with their level."""
    fmt = JournalFormatter()
    rec = logging.LogRecord("kiosk.store", logging.WARNING, __file__, 1, "disk %s", ("low",), None)
    assert fmt.format(rec) == "<4>kiosk.store: disk low"
    multi = logging.LogRecord("kiosk", logging.ERROR, __file__, 1, "a\nb", None, None)
    assert fmt.format(multi) == "<3>kiosk: a\n<3>b"
    assert [syslog_priority(lv) for lv in (10, 20, 30, 40, 50)] == [7, 6, 4, 3, 2]


def test_journal_stream_is_recognised_only_for_the_real_stream(tmp_path):
    """Level prefixes are used under journald, not when the variable is merely inherited."""
    with (tmp_path / "log").open("w") as f:
        st = os.fstat(f.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert under_journald(f, env)
        assert not under_journald(f, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
        assert not under_journald(f, {})
    assert not under_journald(io.StringIO(), env)
