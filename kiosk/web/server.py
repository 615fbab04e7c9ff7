"""The HTTP side of the cart's page: the standard library's threading server.

Why ``http.server``: one or two phones at a time need no framework; it adds
no dependency (nothing to build on a Pi Zero, ARM everywhere Python runs) and
its thread per connection suits Server-Sent Events, where each open page
waits on its own mailbox. What a bare server lacks is added here: a cap on
connections, a socket timeout (a stalled phone frees its thread), security
headers on every answer, and a login in front of every page but the login.

Every action is a POST carrying the session's CSRF token, and goes to the
daemon as the command barcode it stands for (scanner ``web``), so the store
keeps its one writer and the page can do nothing a barcode could not; the one
exception, starting a new session, also goes to the daemon's scan loop, but
has no barcode so that a stray scan can never end a stock take.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kiosk import report
from kiosk.models import Barcode
from kiosk.slims.pages import UPLOAD_CODE, upload_file_bytes
from kiosk.web import pages
from kiosk.web.auth import COOKIE, Gate, Session
from kiosk.web.board import Board
from kiosk.web.hub import Hub
from kiosk.web.texts import TEXT
from kiosk.web.views import upload_codes

log = logging.getLogger(__name__)

#: Connections served at once; more are closed at once (a phone retries).
MAX_CONNECTIONS = 24
#: Seconds a connection may stall reading or writing before it is dropped.
SOCKET_TIMEOUT_S = 20.0
#: A live connection says something this often, so a vanished phone is noticed.
HEARTBEAT_S = 15.0
STATIC = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin: browsers then send a real Origin on our own POSTs (no-referrer makes it "null").
    "Referrer-Policy": "same-origin",
}
ACTIONS = ("sync", "run", "undo", "location", "session")


@dataclass(frozen=True)
class Site:
    """Everything the handlers need; no configuration object, no credentials."""

    board: Board
    hub: Hub
    gate: Gate
    submit: Callable[[Barcode], None]
    #: Start a new session (stock take) on the daemon's scan loop; None: not offered.
    new_session: Callable[[str], object] | None
    command_prefix: str
    language: str
    report_language: str
    excluded_statuses: Sequence[str]
    stopping: threading.Event


class PageServer(ThreadingHTTPServer):
    """A threading HTTP server with a cap on simultaneous connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        self.site = site
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_S
    server: PageServer
    server_version = "kiosk"
    sys_version = ""

    # -- plumbing -------------------------------------------------------------------
    @property
    def site(self) -> Site:
        return self.server.site

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("web %s " + format, self.client_address[0], *args)

    def _cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie", ""))
        except CookieError:
            return {}
        return {k: m.value for k, m in jar.items()}

    def _lang(self) -> str:
        query = parse_qs(urlsplit(self.path).query)
        lang = (query.get("lang") or [""])[0] or self._cookies().get("lang", "")
        return lang if lang in TEXT else self.site.language

    def _send(
        self,
        status: int,
        body: bytes | str,
        ctype: str = "text/html; charset=utf-8",
        headers: Mapping[str, str] | None = None,
        cookies: Sequence[str] = (),
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in SECURITY_HEADERS.items():
            self.send_header(k, v)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        query = parse_qs(urlsplit(self.path).query)
        if (query.get("lang") or [""])[0] in TEXT:
            cookies = [*cookies, f"lang={self._lang()}; Path=/; SameSite=Strict; Max-Age=31536000"]
        for c in cookies:
            self.send_header("Set-Cookie", c)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _redirect(self, where: str, cookies: Sequence[str] = ()) -> None:
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": where}, cookies)

    def _session(self) -> tuple[str, Session] | None:
        sid = self._cookies().get(COOKIE)
        s = self.site.gate.session(sid)
        return None if s is None or sid is None else (sid, s)

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 4096:
            return {}
        raw = self.rfile.read(length).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def _same_origin(self) -> bool:
        """A POST from another site's page is refused, whatever cookies it carries."""
        origin = self.headers.get("Origin")
        if not origin or origin == "null":
            return origin is None
        return urlsplit(origin).netloc == self.headers.get("Host", "")

    # -- GET ------------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/static/"):
            return self._static(path.removeprefix("/static/"))
        if path == "/login":
            return self._login_page()
        who = self._session()
        if who is None:
            if path.startswith(("/f/", "/events")):
                return self._send(HTTPStatus.UNAUTHORIZED, b"log in first", "text/plain")
            return self._redirect("/login")
        _, session = who
        lang = self._lang()
        t = TEXT[lang]
        board = self.site.board
        if path == "/events":
            return self._events()
        if path == "/f/now":
            return self._send(HTTPStatus.OK, pages.now_region(board.now(), t))
        if path == "/f/todo":
            return self._send(HTTPStatus.OK, pages.todo_region(board.todo(), t))
        if path == "/f/find":
            return self._send(HTTPStatus.OK, pages.find_region(*board.pull_list(), t))
        if path in ("/", "/todo", "/find"):
            name = {"/": "now", "/todo": "todo", "/find": "find"}[path]
            region = {
                "now": lambda: pages.now_region(board.now(), t),
                "todo": lambda: pages.todo_region(board.todo(), t),
                "find": lambda: pages.find_region(*board.pull_list(), t),
            }[name]()
            page = pages.frame(
                t, lang, active=name, body=region, region=f"/f/{name}", csrf=session.csrf
            )
            return self._send(HTTPStatus.OK, page)
        if path == "/report":
            body = pages.report_page(t, len(upload_codes(board.scans())))
            return self._send(
                HTTPStatus.OK, pages.frame(t, lang, active="report", body=body, csrf=session.csrf)
            )
        if path == "/actions":
            return self._actions_page(session, lang)
        if path in ("/report.html", "/report.csv", "/report.json"):
            return self._report(path.rsplit(".", 1)[1], lang)
        if path == "/upload.txt":
            codes = [c for c in upload_codes(board.scans()) if UPLOAD_CODE.match(c)]
            return self._download(upload_file_bytes(codes), "stocktake-upload.txt", "text/plain")
        return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

    def _static(self, name: str) -> None:
        if name not in STATIC:
            return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        data = resources.files("kiosk.web").joinpath("static", name).read_bytes()
        self._send(HTTPStatus.OK, data, STATIC[name])

    def _login_page(self, message: str = "", status: int = HTTPStatus.OK) -> None:
        # Before a session exists the form's CSRF token is a cookie it must match.
        token = self._cookies().get("kiosk_login") or _random()
        cookie = f"kiosk_login={token}; Path=/login; HttpOnly; SameSite=Strict"
        t = TEXT[self._lang()]
        page = pages.login(t, self._lang(), csrf=token, message=message)
        self._send(status, page, cookies=[cookie])

    def _actions_page(self, session: Session, lang: str, message: str = "") -> None:
        t = TEXT[lang]
        board = self.site.board
        locations = board.locations()
        current = board.now().status.location
        query = parse_qs(urlsplit(self.path).query)
        done = (query.get("sent") or [""])[0]
        if done in ACTIONS and not message:
            message = t["act_sent"].format(what=t["act_" + done])
        elif done == "refused":
            message = t["act_refused"]
        body = pages.actions_page(
            t, csrf=session.csrf, locations=locations, current=current, message=message
        )
        page = pages.frame(t, lang, active="actions", body=body, csrf=session.csrf)
        self._send(HTTPStatus.OK, page)

    def _report(self, fmt: str, lang: str) -> None:
        board = self.site.board
        catalog = board.catalog
        rep = report.build(
            catalog,
            board.scans(),
            stocktake=board.now().status.stocktake,
            excluded_statuses=self.site.excluded_statuses,
        )
        text = report.render(rep, catalog, fmt, lang)
        ctype = {
            "html": "text/html; charset=utf-8",
            "csv": "text/csv; charset=utf-8",
            "json": "application/json",
        }[fmt]
        self._download(text.encode(), f"stocktake-report.{fmt}", ctype)

    def _download(self, data: bytes, name: str, ctype: str) -> None:
        stamp = time.strftime("%Y%m%d-%H%M")
        stem, _, ext = name.rpartition(".")
        disposition = f'attachment; filename="{stem}-{stamp}.{ext}"'
        self._send(HTTPStatus.OK, data, ctype, {"Content-Disposition": disposition})

    def _events(self) -> None:
        box = self.site.hub.subscribe()
        if box is None:
            return self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"too many pages open", "text/plain")
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.send_header("X-Accel-Buffering", "no")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(b"retry: 3000\n\n")
            self.wfile.flush()
            while not self.site.stopping.is_set() and not box.closed:
                events = box.get(HEARTBEAT_S)
                chunk = b"".join(e.encode() for e in events) or b": ping\n\n"
                self.wfile.write(chunk)
                self.wfile.flush()
        except OSError:  # the phone went away (or stalled past the socket timeout)
            pass
        finally:
            self.site.hub.unsubscribe(box)

    # -- POST -----------------------------------------------------------------------
    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if not self._same_origin():
            return self._send(HTTPStatus.FORBIDDEN, b"cross-site request refused", "text/plain")
        form = self._form()
        if path == "/login":
            return self._login(form)
        who = self._session()
        if who is None:
            return self._redirect("/login")
        sid, session = who
        if not Gate.csrf_ok(session, form.get("csrf", "")):
            return self._send(HTTPStatus.FORBIDDEN, b"stale form: reload the page", "text/plain")
        if path == "/logout":
            self.site.gate.logout(sid)
            return self._redirect("/login", [f"{COOKIE}=; Path=/; Max-Age=0"])
        name = path.removeprefix("/action/")
        if name not in ACTIONS:
            return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        if name == "session":
            return self._new_session(form)
        prefix = self.site.command_prefix
        if not prefix:
            return self._redirect("/actions?sent=refused")
        text = prefix + name
        if name == "location":
            location = form.get("location", "").strip()
            if not location or len(location) > 200 or not location.isprintable():
                return self._send(HTTPStatus.BAD_REQUEST, b"choose a location", "text/plain")
            text += ":" + location
        log.info("web action %s from %s", name, self.client_address[0])
        self.site.submit(Barcode(text, "web", time.time()))
        self._redirect(f"/actions?sent={name}")

    def _new_session(self, form: Mapping[str, str]) -> None:
        """Archive the session and start a new one, through the daemon (the store's one writer).

        No barcode can do this: a stray scan must never end a stock take.
        """
        title = " ".join(form.get("name", "").split())
        if len(title) > 120 or not title.isprintable():
            return self._send(HTTPStatus.BAD_REQUEST, b"name the new stock take", "text/plain")
        if self.site.new_session is None:
            return self._redirect("/actions?sent=refused")
        title = title or f"stock take {time.strftime('%Y-%m-%d')}"
        log.info("web action session %r from %s", title, self.client_address[0])
        self.site.new_session(title)
        self._redirect("/actions?sent=session")

    def _login(self, form: Mapping[str, str]) -> None:
        t = TEXT[self._lang()]
        expected = self._cookies().get("kiosk_login", "")
        if not expected or form.get("csrf", "") != expected:
            return self._login_page(t["login_wrong"], HTTPStatus.FORBIDDEN)
        address = self.client_address[0]
        wait = self.site.gate.wait_s(address)
        if wait > 0:
            message = t["login_wait"].format(s=int(wait) + 1)
            return self._login_page(message, HTTPStatus.TOO_MANY_REQUESTS)
        sid = self.site.gate.login(address, form.get("token", ""))
        if sid is None:
            log.warning("web: wrong token from %s", address)
            return self._login_page(t["login_wrong"], HTTPStatus.UNAUTHORIZED)
        cookie = f"{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Strict"
        self._redirect("/", [cookie])


def _random() -> str:
    return secrets.token_urlsafe(18)
