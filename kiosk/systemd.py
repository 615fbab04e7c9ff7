"""Talk to systemd: readiness, watchdog, status line, journald log levels.

The daemon runs as ``Type=notify`` with ``WatchdogSec=``: systemd considers it
started only when it says ``READY=1`` (store open, scanner search running) and
restarts it when the main loop stops saying ``WATCHDOG=1``. Outside systemd
(``$NOTIFY_SOCKET`` unset: a laptop, tests, ``kiosk run`` in a terminal) every
call is a cheap no-op, so the daemon never needs to ask where it runs.

The protocol is one ``AF_UNIX`` datagram of ``KEY=VALUE`` lines per message;
a socket name starting with ``@`` lives in the abstract namespace. This module
speaks it directly rather than through libsystemd, which a venv on a Pi does
not always have.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TextIO

log = logging.getLogger(__name__)


def socket_address(name: str) -> str | bytes:
    """Turn ``$NOTIFY_SOCKET`` into an address ``socket.sendto`` accepts.

    ``@name`` means the abstract namespace (a leading NUL byte on the wire).
    """
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    return name


def watchdog_interval(
    env: Mapping[str, str] | None = None, *, pid: int | None = None
) -> float | None:
    """Seconds systemd waits for ``WATCHDOG=1`` before restarting us, or ``None``.

    ``None`` when no watchdog is asked for, or when ``$WATCHDOG_PID`` names
    another process (the variable was inherited by a child, such as a
    ``kiosk`` command started from the daemon). Ping at half this interval.
    """
    env = os.environ if env is None else env
    raw = env.get("WATCHDOG_USEC", "")
    if not raw:
        return None
    owner = env.get("WATCHDOG_PID", "")
    if owner and owner.isdigit() and int(owner) != (os.getpid() if pid is None else pid):
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not a whole number of microseconds", raw)
        return None
    return usec / 1_000_000 if usec > 0 else None


class Notifier:
    """Sends ``sd_notify`` messages; does nothing when not run by systemd.

    Sending never raises: a lost notification makes systemd restart us (the
    watchdog) or time out the start, which is the right outcome, so the
    failure is logged and the scan loop goes on.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if env is None else env
        self.socket_name: str | None = env.get("NOTIFY_SOCKET") or None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self.pinger = WatchdogPinger(self, watchdog_interval(env), clock=clock)

    @property
    def enabled(self) -> bool:
        """Whether a service manager is listening."""
        return self.socket_name is not None

    def send(self, **fields: str | int) -> bool:
        """Send one message of ``KEY=VALUE`` lines; ``True`` if it was delivered."""
        return self.send_raw("\n".join(f"{key}={value}" for key, value in fields.items()))

    def send_raw(self, message: str) -> bool:
        """Send ``message`` as one datagram; ``True`` if it was delivered."""
        if self.socket_name is None or not message:
            return False
        payload = message.encode()
        with self._lock:
            try:
                if self._sock is None:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                    self._sock = sock
                self._sock.sendto(payload, socket_address(self.socket_name))
            except OSError as e:
                log.warning("cannot notify systemd at %s: %s", self.socket_name, e.strerror or e)
                self._close_locked()
                return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """Tell systemd start-up is complete (the unit becomes 'active')."""
        if status is None:
            return self.send(READY=1)
        return self.send(READY=1, STATUS=_one_line(status))

    def status(self, text: str) -> bool:
        """Set the line ``systemctl status kiosk`` shows."""
        return self.send(STATUS=_one_line(text))

    def watchdog(self) -> bool:
        """Say the main loop is alive; ``True`` if a ping went out.

        Cheap enough for every pass of a loop: when systemd set a watchdog
        interval, pings go out through :attr:`pinger`, at most once per half
        interval.
        """
        if self.pinger.period is None:
            return self.send(WATCHDOG=1)
        return self.pinger.tick()

    def stopping(self, status: str | None = None) -> bool:
        """Tell systemd a clean shutdown has begun."""
        if status is None:
            return self.send(STOPPING=1)
        return self.send(STOPPING=1, STATUS=_one_line(status))

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more start/stop time (e.g. a slow catalogue load on a Zero)."""
        return self.send(EXTEND_TIMEOUT_USEC=int(seconds * 1_000_000))

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _one_line(text: str) -> str:
    """STATUS is one line: a newline would start a new (bogus) field."""
    return " ".join(text.split())


class WatchdogPinger:
    """Rate-limits watchdog pings from the main loop.

    Call :meth:`tick` on every pass of the scan loop (it is cheap): a ping
    goes out at most once per half interval, so a loop that stops turning
    stops pinging and systemd restarts the daemon. Deliberately no thread:
    a background pinger would keep a hung loop alive.
    """

    def __init__(
        self,
        notifier: Notifier,
        interval: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.notifier = notifier
        self.period = None if interval is None else interval / 2
        self._clock = clock
        self._last: float | None = None

    def tick(self) -> bool:
        """Ping if half the interval has passed since the last ping; ``True`` if sent."""
        if self.period is None:
            return False
        now = self._clock()
        if self._last is not None and now - self._last < self.period:
            return False
        self._last = now
        return self.notifier.send(WATCHDOG=1)

    def timeout(self, default: float) -> float:
        """How long the loop may block waiting for input and still ping in time."""
        return default if self.period is None else min(default, self.period)


# -- journald log levels -----------------------------------------------------------

#: syslog priorities journald reads from a ``<N>`` line prefix.
_PRIORITY = (
    (logging.CRITICAL, 2),
    (logging.ERROR, 3),
    (logging.WARNING, 4),
    (logging.INFO, 6),
)


def syslog_priority(levelno: int) -> int:
    """Map a :mod:`logging` level to a syslog priority (``journalctl -p``)."""
    for threshold, priority in _PRIORITY:
        if levelno >= threshold:
            return priority
    return 7


class JournalFormatter(logging.Formatter):
    """Prefixes each line with ``<priority>`` so journald stores the level.

    journald timestamps every line itself, so the format carries no time.
    Continuation lines (tracebacks) get the same prefix so they keep the level.
    """

    def __init__(self, fmt: str = "%(name)s: %(message)s") -> None:
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def under_journald(stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> bool:
    """Whether ``stream`` (default stderr) is the journal stream systemd gave us.

    ``$JOURNAL_STREAM`` is ``device:inode`` of that stream; comparing avoids
    prefixing levels when the variable was merely inherited by a terminal.
    """
    env = os.environ if env is None else env
    value = env.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    stream = sys.stderr if stream is None else stream
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))
