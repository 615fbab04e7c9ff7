"""The daemon's control socket: how ``kiosk sync`` finds the daemon and asks it.

Why a socket and not a pid file: only the process that bound it can answer,
so a request can never reach some other process that holds the store lock or
got a reused pid (no ``/proc`` checks, which ``ProtectProc=invisible`` would
hide anyway); the answer can carry what the daemon's sync did; and the file's
mode plus a peer-credential check keep it to the cart's own user.

It lives in the state directory, ``kiosk.sock``: both the daemon and
``kiosk sync`` (the end-of-day timer's unit has no ``/run/kiosk``) know that
directory, and there is one daemon per store. The daemon binds it only while
holding the store lock, so it may remove a socket a killed daemon left behind.

The protocol is one JSON line each way and then one more from the daemon:
``{"cmd": "sync"}`` → ``{"event": "accepted", "pid": N}`` →
``{"event": "done", "result": {...}}`` | ``{"event": "failed", "error": "..."}``
| ``{"event": "timeout"}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from kiosk.exc import KioskError

log = logging.getLogger(__name__)

SOCKET_NAME = "kiosk.sock"
#: Longest path bind()/connect() take (sun_path is 108 bytes with its NUL).
_SUN_PATH_MAX = 107
#: How long the daemon lets a client take to send its one request line.
_REQUEST_S = 5.0

#: What a request handler returns: the final event to send.
Handler = Callable[[dict[str, Any], float], dict[str, Any]]


class ControlError(KioskError, OSError):
    """The daemon's control socket cannot be reached or answered nothing usable."""


def socket_path(state_dir: Path) -> Path:
    return Path(state_dir) / SOCKET_NAME


@contextlib.contextmanager
def _address(path: Path) -> Iterator[str]:
    """A name bind()/connect() accept, even for a state directory deeper than 107 bytes."""
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def _peer(sock: socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process at the other end, as the kernel vouches for them."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", raw)
    return pid, uid


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


class ControlServer:
    """Answers requests on the control socket, one thread per connection.

    ``handler`` gets the request and how long the client will wait, and
    returns the final event; it runs on the connection's thread, never on the
    scan loop.
    """

    def __init__(self, state_dir: Path, handler: Handler) -> None:
        self.path = socket_path(state_dir)
        self.handler = handler
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    def start(self) -> None:
        """Bind and listen; the caller holds the store lock, so a leftover socket is stale."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            with _address(self.path) as address:
                old = os.umask(0o177)  # only the cart's user may connect
                try:
                    sock.bind(address)
                finally:
                    os.umask(old)
            sock.listen(8)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self._thread.start()
        log.debug("control socket %s listening", self.path)

    def close(self) -> None:
        """Stop answering and remove the socket (clients waiting see the connection end)."""
        self._closing.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> ControlServer:
        """Start answering; a socket that cannot be made must not stop the scanning."""
        try:
            self.start()
        except OSError as e:
            log.error("control socket %s: %s; `kiosk sync` cannot reach this daemon", self.path, e)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._closing.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return  # closed
            threading.Thread(
                target=self._answer, args=(conn,), name="control-conn", daemon=True
            ).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                _pid, uid = _peer(conn)
                if uid not in (0, os.getuid()):
                    log.warning("control socket: refused a request from uid %d", uid)
                    return
                conn.settimeout(_REQUEST_S)
                request = json.loads(conn.makefile("rb").readline() or b"{}")
                if not isinstance(request, dict):
                    raise ValueError("not an object")
                wait = float(request.get("wait", 0))
                _send(conn, {"event": "accepted", "pid": os.getpid()})
                _send(conn, self.handler(request, wait))
            except (OSError, ValueError) as e:
                log.warning("control socket: request not answered: %s", e)


class Answer(NamedTuple):
    """What the daemon said: its pid and its final event (None if it never came)."""

    pid: int
    final: dict[str, Any] | None


def ask(
    state_dir: Path,
    request: dict[str, Any],
    *,
    wait: float,
    on_accepted: Callable[[int], None] | None = None,
) -> Answer | None:
    """Send ``request`` to the daemon of ``state_dir``; None if no daemon listens there.

    ``wait`` is how long the daemon may take over its final answer; the
    daemon is told, so it answers ``timeout`` itself rather than going silent.
    """
    path = socket_path(state_dir)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    with sock:
        try:
            with _address(path) as address:
                sock.connect(address)
        except (FileNotFoundError, ConnectionRefusedError):
            return None  # no daemon, or one that was killed and left its socket
        except OSError as e:
            raise ControlError(f"cannot reach the daemon at {path}: {e.strerror}") from e
        pid, _uid = _peer(sock)
        sock.settimeout(_REQUEST_S)
        _send(sock, {**request, "wait": wait})
        lines = sock.makefile("rb")
        try:
            accepted = json.loads(lines.readline() or b"null")
        except (OSError, ValueError) as e:
            raise ControlError(f"the daemon (pid {pid}) did not take the request: {e}") from e
        if not isinstance(accepted, dict) or accepted.get("event") != "accepted":
            raise ControlError(f"the daemon (pid {pid}) did not take the request")
        if on_accepted is not None:
            on_accepted(pid)
        sock.settimeout(wait + _REQUEST_S)
        try:
            final = json.loads(lines.readline() or b"null")
        except (OSError, ValueError):
            final = None
        return Answer(pid, final if isinstance(final, dict) else None)
