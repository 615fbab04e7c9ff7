"""A fault-injecting HTTP proxy on loopback, to put in front of the fake SLiMS.

The fake SLiMS misbehaves from the inside (its own ``inject``); this proxy
breaks things the way a library's network and a tired server do from the
outside, without SLiMS knowing: it resets connections, answers 500 itself,
hands back SLiMS's login page instead of the answer, sits on a request past
the client's timeout, breaks a body off mid-way (with or without a
Content-Length to betray it), stalls a request until told, or calls back on a
chosen request (to close the stock take, or to SIGKILL the client).

Each fault names where it strikes: ``before`` the request reaches SLiMS (SLiMS
never saw it) or after (SLiMS did the work, the client never hears of it)::

    with FakeSlims(items) as slims, FaultProxy(slims.url) as proxy:
        proxy.inject("/stock_take/", "reset_after", after=3, times=50)
        ... point the client at proxy.url ...

The client keeps its connection alive through the proxy; the proxy opens one
upstream connection per request, so a fault never spills into the next one.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: What each fault does; "after" kinds let SLiMS do the work first.
KINDS = {
    "reset": "reset the connection before SLiMS sees the request",
    "reset_after": "SLiMS does the work, then the connection is reset",
    "500": "answer HTTP 500 without asking SLiMS",
    "login_page": "answer SLiMS's login page without asking SLiMS",
    "login_page_after": "SLiMS does the work; its login page comes back instead",
    "delay": "sit on the request (until released or `seconds`), then pass it on late",
    "truncate": "SLiMS does the work; the body breaks off half-way, Content-Length kept",
    "cut": "SLiMS does the work; half the body, no Content-Length, a clean close",
    "hold": "wait until released, then pass the request on as usual",
    "call": "call `call(index, path)` before passing the request on as usual",
}

Callback = Callable[[int, str], None]


@dataclass
class Fault:
    path: str
    kind: str
    times: int = 1
    after: int = 0  # let this many matching requests through first
    seconds: float = 30.0  # "delay": how long at most
    call: Callback | None = None  # "call"


@dataclass
class _Request:
    method: str
    target: str
    head: list[tuple[str, str]]
    body: bytes = b""

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]


@dataclass
class _Response:
    status_line: bytes
    head: list[tuple[str, str]]
    body: bytes = field(default=b"")


class FaultProxy:
    """The proxy; a context manager serving on 127.0.0.1 in threads."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"the proxy forwards plain http://host:port only, not {upstream!r}")
        self.upstream = (parts.hostname, parts.port)
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        #: Every request that came through, in order: (method, path, fault kind or None).
        self.seen: list[tuple[str, str, str | None]] = []
        #: Called with (index, path) for every request before anything else happens.
        self.on_request: Callback | None = None
        self.release = threading.Event()  # ends "delay" and "hold"
        self.held = threading.Event()  # set while a "hold" request waits
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._busy = threading.Condition(self.lock)
        self._in_flight = 0

    # -- life cycle -------------------------------------------------------------
    def __enter__(self) -> FaultProxy:
        sock = socket.create_server(("127.0.0.1", 0))
        self._listener = sock
        thread = threading.Thread(target=self._accept, name="proxy", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self.lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)

    @property
    def url(self) -> str:
        assert self._listener is not None
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}/"

    # -- knobs ------------------------------------------------------------------
    def inject(
        self,
        path: str,
        kind: str,
        *,
        times: int = 1,
        after: int = 0,
        seconds: float = 30.0,
        call: Callback | None = None,
    ) -> None:
        """Strike ``times`` requests whose path contains ``path``, after ``after`` passed."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(KINDS)}")
        with self.lock:
            self.faults.append(Fault(path, kind, times, after, seconds, call))

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no request is inside the proxy (a delayed one has landed or given up)."""
        with self._busy:
            return self._busy.wait_for(lambda: self._in_flight == 0, timeout)

    def count(self, path: str) -> int:
        """How many requests for a path containing ``path`` came through."""
        with self.lock:
            return sum(1 for _m, p, _k in self.seen if path in p)

    def _take(self, request: _Request) -> tuple[int, Fault | None]:
        with self.lock:
            index = len(self.seen)
            chosen: Fault | None = None
            for f in self.faults:
                if f.path in request.target:
                    if f.after > 0:
                        f.after -= 1
                        break
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
                    chosen = f
                    break
            self.seen.append((request.method, request.path, chosen.kind if chosen else None))
            return index, chosen

    # -- plumbing ---------------------------------------------------------------
    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self.lock:
                self._conns.add(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while (request := _read_request(reader)) is not None:
                with self._busy:
                    self._in_flight += 1
                try:
                    if not self._one(conn, request):
                        return
                finally:
                    with self._busy:
                        self._in_flight -= 1
                        self._busy.notify_all()
        except OSError:
            pass
        finally:
            with self.lock:
                self._conns.discard(conn)
            reader.close()
            with contextlib.suppress(OSError):
                conn.close()

    def _one(self, conn: socket.socket, request: _Request) -> bool:
        """Handle one request; False when the client connection is finished with."""
        index, fault = self._take(request)
        if self.on_request is not None:
            self.on_request(index, request.target)
        kind = fault.kind if fault else None
        if kind == "reset":
            _reset(conn)
            return False
        if kind == "500":
            conn.sendall(_render(_plain(500, "Internal Server Error", b"<h1>500</h1>")))
            return True
        if kind == "login_page":
            conn.sendall(_render(self._login_page()))
            return True
        if kind == "delay" and fault is not None:
            self.release.wait(fault.seconds)
        if kind == "hold":
            self.held.set()
            self.release.wait(60)
        if kind == "call" and fault is not None and fault.call is not None:
            fault.call(index, request.target)
        response = self._forward(request)
        if kind == "reset_after":
            _reset(conn)
            return False
        if kind == "login_page_after":
            response = self._login_page()
        if kind in ("truncate", "cut"):
            head = [(k, v) for k, v in response.head if k.lower() != "content-length"]
            if kind == "truncate":
                head.append(("Content-Length", str(len(response.body))))
            half = _Response(response.status_line, head, response.body[: len(response.body) // 2])
            conn.sendall(_render(half, length=False))
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            return False
        conn.sendall(_render(response))
        return True

    def _forward(self, request: _Request) -> _Response:
        """Ask SLiMS on a connection of its own and read its whole answer."""
        head = [(k, v) for k, v in request.head if k.lower() not in ("connection", "keep-alive")]
        head.append(("Connection", "close"))
        with socket.create_connection(self.upstream, timeout=60) as up:
            lines = [f"{request.method} {request.target} HTTP/1.1"]
            lines += [f"{k}: {v}" for k, v in head]
            up.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body)
            reader = up.makefile("rb")
            status_line = reader.readline().rstrip(b"\r\n")
            response_head = _read_head(reader)
            length = _content_length(response_head)
            body = reader.read(length) if length is not None else reader.read()
            reader.close()
        return _Response(status_line, response_head, body)

    def _login_page(self) -> _Response:
        """SLiMS's own login page, fetched afresh (no cookies: no session)."""
        return self._forward(_Request("GET", "/index.php?p=login", [("Host", "slims")]))


def _read_head(reader: io.BufferedReader) -> list[tuple[str, str]]:
    head: list[tuple[str, str]] = []
    while True:
        line = reader.readline()
        if line in (b"\r\n", b"\n", b""):
            return head
        key, _, value = line.decode("latin-1").partition(":")
        head.append((key.strip(), value.strip()))


def _content_length(head: list[tuple[str, str]]) -> int | None:
    for key, value in head:
        if key.lower() == "content-length":
            return int(value)
    return None


def _read_request(reader: io.BufferedReader) -> _Request | None:
    line = reader.readline()
    if not line.strip():
        return None
    method, target, _version = line.decode("latin-1").split()
    head = _read_head(reader)
    length = _content_length(head) or 0
    body = reader.read(length) if length else b""
    return _Request(method, target, head, body)


def _plain(status: int, reason: str, body: bytes) -> _Response:
    head = [("Content-Type", "text/html; charset=UTF-8")]
    return _Response(f"HTTP/1.1 {status} {reason}".encode(), head, body)


def _render(response: _Response, *, length: bool = True) -> bytes:
    """The response for the client, with a Content-Length of its real body unless told not to."""
    skip: tuple[str, ...] = ("connection", "keep-alive", "transfer-encoding")
    if length:
        skip += ("content-length",)
    head = [(k, v) for k, v in response.head if k.lower() not in skip]
    if length:
        head.append(("Content-Length", str(len(response.body))))
    else:
        head.append(("Connection", "close"))
    text = b"\r\n".join([response.status_line, *(f"{k}: {v}".encode("latin-1") for k, v in head)])
    return text + b"\r\n\r\n" + response.body


def _reset(conn: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a dropped Wi-Fi or a crashed server does."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os.close(conn.detach())  # now, though the reading side still holds the socket
