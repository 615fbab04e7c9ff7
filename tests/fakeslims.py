# ruff: noqa: E501  (answer texts stay on one line, as captured from SLiMS)
"""A fake SLiMS (9.4 to develop) on loopback that answers as the real ones were observed to.

It serves the pages the kiosk uses (login form with its CSRF field, the
stock-take action, upload and list, init, the item export) with SLiMS's exact
answer texts and cookies, keeps the stock-take state in memory, and can be
told to misbehave: answer 500, drop the connection before or after doing the
work, stall past the client's timeout, or forget the session so that SLiMS's
"login page instead of an answer" comes back. As SLiMS sends its item export
without a Content-Length, the ``cut`` and ``cut_rows`` faults end that answer
early with a clean close (mid-row, or on a row boundary), which a client
cannot tell from the end; ``api_totals`` and ``api_enabled`` change what the
public item counts say.

``version`` picks a release from :data:`FLAVOURS` (default 9.6.1), the
table of what differs between releases (read in SLiMS's source and seen on
installs): how a login is answered, which item statuses the installer leaves
in a stock take, how the upload page reads its file, what the about page
says. ``language`` ("en" or "id") picks the words.

Usage::

    with FakeSlims(items=[...], version="9.4.2", language="id") as slims:
        slims.start_stocktake()
        client = SlimsClient(slims.url, "admin", Secret("pw"))
        slims.inject("stock_take_action", "reset_after", times=1)
"""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kiosk.slims.export import COLUMNS as EXPORT_COLUMNS

# -- exact texts observed on SLiMS 9.6.1 (English locale) ------------------------
NO_RIGHTS = '<div class="errorBox">You don\'t have enough privileges to access this area!</div>'
NOT_AUTHORIZED_BOX = '<div class="errorBox">You are not authorized to view this section</div>'
SESSION_SCRIPT = (
    '<script type="text/javascript">\n'
    "alert('You are not authorized to view this section');\n"
    "top.location.href = '/index.php?p=login';\n"
    "</script>\n"
)
_SESSION_EN = "You are not authorized to view this section"
NO_STOCKTAKE = '<div class="errorBox">NO stock taking proccess initialized yet!</div>'
WRONG_PASSWORD = "Wrong Username or Password. ACCESS DENIED"


@dataclass(frozen=True)
class Flavour:
    """What one SLiMS release does its own way (one row of :data:`FLAVOURS`)."""

    version: str
    tag: str  # the release tag its about page (?p=slimsinfo) shows
    product: str  # SENAYAN_VERSION, in the OPAC's generator meta tag
    login: str  # "script": HTTP 200 + script (up to 9.5.1); "redirect": HTTP 302 (9.5.2 on)
    back_on_refusal: bool  # the wrong-password script also calls history.back() (9.5.0, 9.5.1)
    skip_statuses: frozenset[str]  # statuses the installer flags "skip stock take"
    upload_line: int  # st_upload.php's fgets() length: a line is read up to this minus 1 bytes
    upload_filter: bool  # st_upload.php strips tags and drops lines outside UPLOAD_PATTERN
    #: The admin speaks the ``default_lang`` setting. 9.7.0 picks its translator's language
    #: before it has read the settings, so it answers in English whatever the setting says.
    follows_default_lang: bool = True
    #: st_report.php and item_status.php's form read ``$_SERVER['QUERY_STRING']``, which PHP's
    #: built-in server leaves unset without a query; these releases turn that warning into HTTP 500.
    needs_query_string: bool = False
    #: item_status.php's form checks a rule when its column is set at all (``isset``, up to
    #: 9.5.x), so "Skipped By Stock Take" shows checked on every status, 0 or 1.
    form_checks_every_rule: bool = False


_OLD_SKIPS = frozenset({"Missing"})  # up to 9.5.x "Repair" and "No Loan" stay in the stock take
_NEW_SKIPS = frozenset({"Missing", "Repair", "No Loan"})  # 9.6.0 on
_BULIAN, _ROGER = "SLiMS 9 (Bulian)", "SLiMS 9 (Bulian D Roger)"

#: Releases libraries run, oldest first; "develop" is the branch as of 2025-08.
# fmt: off
FLAVOURS: dict[str, Flavour] = {
    f.version: f
    for f in (
        Flavour("9.4.2", "v9.4.2", _BULIAN, "script", False, _OLD_SKIPS, 512, False, form_checks_every_rule=True),
        Flavour("9.5.1", "v9.5.1", _BULIAN, "script", True, _OLD_SKIPS, 512, False, form_checks_every_rule=True),
        Flavour("9.5.2", "v9.5.2", _BULIAN, "redirect", False, _OLD_SKIPS, 512, False, form_checks_every_rule=True),
        Flavour("9.6.1", "v9.6.1", _BULIAN, "redirect", False, _NEW_SKIPS, 512, False),
        Flavour("9.7.0", "v9.7.0", _ROGER, "redirect", False, _NEW_SKIPS, 80, True, follows_default_lang=False, needs_query_string=True),
        Flavour("develop", "v9.7.0", _ROGER, "redirect", False, _NEW_SKIPS, 80, True, needs_query_string=True),
    )
}
# fmt: on
UPLOAD_PATTERN = re.compile(r"^[a-zA-Z0-9_\-\.]+$")  # 9.7.0's filter in st_upload.php


@dataclass
class FakeItem:
    """One item as SLiMS keeps it (the export's columns plus loan state)."""

    code: str
    title: str = ""
    call_number: str = ""
    coll_type: str = "Reference"
    location: str = "My Library"
    status_name: str = ""
    site: str = ""
    on_loan: bool = False
    skip_stock_take: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeStatus:
    """One row of SLiMS's item status table (``mst_item_status``)."""

    code: str
    name: str
    skip: bool = False  # "Skipped By Stock Take"


#: What SLiMS 9.6 and later install (9.4/9.5 leave "No Loan" and "Repair" unflagged).
INSTALLED_STATUSES = (
    FakeStatus("R", "Repair", skip=True),
    FakeStatus("NL", "No Loan", skip=True),
    FakeStatus("MIS", "Missing", skip=True),
)


@dataclass
class User:
    password: str
    uid: int = 1
    realname: str = "Librarian"
    rights: frozenset[str] = frozenset({"stock_take", "bibliography", "master_file"})


@dataclass
class Fault:
    path: str
    kind: str  # "500", "reset", "reset_after", "truncate", "hold", "hold_after", "timeout",
    # "login_page", "cut", "cut_rows"
    times: int = 1
    after: int = 0  # let this many matching requests through first
    keep: float = 0.5  # share of the answer sent before a "cut"


class FakeSlims:
    """The fake server; a context manager that serves on 127.0.0.1 in a thread."""

    def __init__(
        self,
        items: Iterable[FakeItem] = (),
        *,
        users: dict[str, User] | None = None,
        keep_alive: bool = True,
        max_upload_kb: int = 5000,
        language: str = "en",
        version: str = "9.6.1",
        login_message: bool = False,
        tls: tuple[str, str] | None = None,
        statuses: Iterable[FakeStatus] | None = None,
    ) -> None:
        self.flavour = FLAVOURS[version]
        if statuses is None:  # as this release's installer leaves them
            skips = self.flavour.skip_statuses
            statuses = [FakeStatus(st.code, st.name, st.name in skips) for st in INSTALLED_STATUSES]
        self.login_message = login_message  # SLiMS's $sysconf['login_message']: welcome alert
        self.items: dict[str, FakeItem] = {it.code: it for it in items}
        #: Item status code -> status; an item's skip flag comes from its status's rule.
        self.statuses: dict[str, FakeStatus] = {
            st.code: FakeStatus(st.code, st.name, st.skip) for st in statuses
        }
        self.stocktake_started = ""  # start_date of the active stock take, as SLiMS shows it
        #: Every stock take begun, oldest first: [name, start_date, end_date ("" while active)].
        self.history: list[list[str]] = []
        self.users = users if users is not None else {"admin": User("secret")}
        self.keep_alive = keep_alive
        self.max_upload_kb = max_upload_kb
        #: What ``default_lang`` says, and the language the answers come in.
        self.setting_language = language
        self.language = language if self.flavour.follows_default_lang else "en"
        self.tls = tls  # (certificate file, key file): serve HTTPS
        self.lock = threading.RLock()
        # code -> m/e/l; like SLiMS's stock_take_item it outlives a finished stock take
        self.stocktake: dict[str, str] = {}
        self.active = False
        self.stocktake_name = ""
        self.sessions: dict[str, dict[str, Any]] = {}  # SenayanAdmin id -> session
        self.member_sessions: dict[str, str] = {}  # SenayanMember id -> csrf "name=value"
        self.faults: list[Fault] = []
        self.hits: dict[str, int] = {}
        self.logins = 0
        self.uploads: list[list[str]] = []
        self.api_enabled = True  # False: api/item/total/* answers the OPAC page, as with no API
        self.api_totals: dict[str, int] = {}  # "all"/"lent"/"available" -> a count to claim
        self.release = threading.Event()  # ends "timeout", "hold" and "hold_after" stalls
        self.held = threading.Event()  # set while a "hold" or "hold_after" request waits
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------
    def __enter__(self) -> FakeSlims:
        handler = type(
            "Handler",
            (_Handler,),
            {"fake": self, "protocol_version": "HTTP/1.1" if self.keep_alive else "HTTP/1.0"},
        )
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{'localhost' if self.tls else host!s}:{port}/"

    # -- knobs --------------------------------------------------------------------
    def start_stocktake(self, name: str = "Test stock take", *, started: str = "") -> None:
        with self.lock:
            self.stocktake_name = name
            # Tests date their scans from the epoch on: a stock take begun then takes them all.
            self.stocktake_started = started or "1970-01-01 00:00:00"
            self._end_running()
            self.history.append([name, self.stocktake_started, ""])
            self.active = True
            self.stocktake = {
                it.code: ("l" if it.on_loan else "m")
                for it in self.items.values()
                if not self.skipped(it)
            }

    def skipped(self, item: FakeItem) -> bool:
        """SLiMS's rule: the item's status carries "Skipped By Stock Take" (or the item is marked)."""
        with self.lock:
            return item.skip_stock_take or any(
                st.skip and st.name == item.status_name for st in self.statuses.values()
            )

    def finish_stocktake(self) -> None:
        with self.lock:
            self.active = False  # the item list stays, as in SLiMS
            self._end_running()

    def _end_running(self) -> None:
        if self.history and not self.history[-1][2]:
            self.history[-1][2] = time.strftime("%Y-%m-%d %H:%M:%S")

    def inject(
        self, path: str, kind: str, *, times: int = 1, after: int = 0, keep: float = 0.5
    ) -> None:
        with self.lock:
            self.faults.append(Fault(path, kind, times, after, keep))

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def status(self, code: str) -> str | None:
        with self.lock:
            return self.stocktake.get(code)

    def canonical(self, code: str) -> str:
        """The stored spelling of a code: SLiMS's collation ignores case."""
        with self.lock:
            if code in self.items:
                return code
            folded = code.casefold()
            return next((c for c in self.items if c.casefold() == folded), code)

    def found(self) -> set[str]:
        with self.lock:
            return {c for c, s in (self.stocktake or {}).items() if s == "e"}

    def _take_fault(self, path: str) -> str | None:
        fault = self._take(path)
        return fault.kind if fault is not None else None

    def _take(self, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.path in path:
                    if f.after > 0:
                        f.after -= 1
                        return None
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
                    return f
        return None


def php_fgets(data: bytes, length: int) -> Iterator[bytes]:
    """The pieces PHP's ``fgets($f, length)`` returns: a line, or its next length-1 bytes."""
    i = 0
    while i < len(data):
        nl = data.find(b"\n", i, i + length - 1)
        end = nl + 1 if nl >= 0 else min(len(data), i + length - 1)
        yield data[i:end]
        i = end


def php_export_value(value: str) -> str:
    """What SLiMS's item export makes of a value: escape_string, then stripslashes."""
    escaped = []
    for ch in value:
        rep = {
            "\0": "\\0",
            "\n": "\\n",
            "\r": "\\r",
            "\\": "\\\\",
            "'": "\\'",
            '"': '\\"',
            "\x1a": "\\Z",
        }
        escaped.append(rep.get(ch, ch))
    s = "".join(escaped)
    out = []
    i = 0
    while i < len(s):
        if s[i] == "\\":
            i += 1
            if i < len(s):
                out.append("\0" if s[i] == "0" else s[i])
        else:
            out.append(s[i])
        i += 1
    return "".join(out)


def export_text(
    items: Iterable[FakeItem],
    *,
    sep: str = ",",
    enc: str = '"',
    rec: str = "\n",
    header: bool = True,
) -> str:
    """Render items exactly as ``item_export.php`` does."""
    rows = []
    for it in items:
        vals = {
            "item_code": it.code,
            "call_number": it.call_number,
            "coll_type_name": it.coll_type,
            "inventory_code": it.extra.get("inventory_code", ""),
            "received_date": it.extra.get("received_date", "2020-01-02"),
            "supplier_name": it.extra.get("supplier_name", ""),
            "order_no": "",
            "location_name": it.location,
            "order_date": "2020-01-01",
            "item_status_name": it.status_name,
            "site": it.site,
            "source": "1",
            "invoice": "",
            "price": "0",
            "price_currency": "",
            "invoice_date": "2020-01-01",
            "input_date": "2020-01-02 10:11:12",
            "last_update": "2020-01-02 10:11:12",
            "title": it.title,
        }
        buf = "".join(enc + php_export_value(vals[c]) + enc + sep for c in EXPORT_COLUMNS)
        rows.append(buf[:-1])
    head = "".join(enc + c + enc + sep for c in EXPORT_COLUMNS) + rec
    return (head if header else "") + "".join(r + rec for r in rows)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlims
    server_version = "Apache"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, delayed ACKs
        # add 40 ms to every keep-alive answer.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- plumbing -----------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET", b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch("POST", self.rfile.read(length))

    def _dispatch(self, method: str, body: bytes) -> None:
        fake = self.fake
        path, _, query = self.path.partition("?")
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        with fake.lock:
            fake.hits[path] = fake.hits.get(path, 0) + 1
        taken = fake._take(self.path)
        fault = taken.kind if taken is not None else None
        if fault == "reset":
            self._reset()
            return
        if fault == "500":
            self._send(500, "<h1>Internal Server Error</h1>")
            return
        if fault == "timeout":
            fake.release.wait(30)
            self._reset()
            return
        if fault == "hold":  # a slow server: wait before doing the work, then answer as usual
            fake.held.set()
            fake.release.wait(30)
        if fault in ("login_page", "expire"):
            fake.expire_sessions()
        self.cookies_out: list[str] = []
        form: dict[str, Any] = {}
        if method == "POST":
            form = self._form(body)
        route = {
            "/index.php": self.login,
            "/admin/index.php": self.admin_index,
            "/admin/modules/stock_take/stock_take_action.php": self.action,
            "/admin/modules/stock_take/current.php": self.current,
            "/admin/modules/stock_take/st_upload.php": self.upload,
            "/admin/modules/stock_take/init.php": self.init,
            "/admin/modules/bibliography/item_export.php": self.export,
            "/admin/modules/reporting/customs/loan_history.php": self.loan_history,
            "/admin/modules/reporting/xlsoutput.php": self.xlsoutput,
            "/admin/modules/stock_take/st_report.php": self.st_report,
            "/admin/modules/stock_take/index.php": self.st_history,
            "/admin/modules/master_file/item_status.php": self.item_status,
        }.get(path)
        if route is None:
            self._send(404, "<h1>Not Found</h1>")
            return
        if fake.flavour.needs_query_string and not query and self._reads_query(path, form):
            status, text, headers = 500, _php_warning('Undefined array key "QUERY_STRING"'), {}
        else:
            status, text, headers = route(method, params, form)
        if fault == "reset_after":
            self._reset()
            return
        if fault == "truncate":  # did the work, then the answer breaks off halfway
            data = text.encode() if isinstance(text, str) else text
            self.send_response(status)
            self.send_header("Content-Length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._reset()
            return
        if fault in ("cut", "cut_rows") and taken is not None:
            self._cut(text, taken.keep, rows=fault == "cut_rows")
            return
        if fault == "hold_after":  # done the work; now wait (e.g. to be killed) before answering
            fake.held.set()
            fake.release.wait(30)
            self._reset()
            return
        self._send(status, text, headers)

    def _reads_query(self, path: str, form: dict[str, Any]) -> bool:
        """Whether this page builds a form action from the query string."""
        if path == "/admin/modules/stock_take/st_report.php":
            return True
        return path == "/admin/modules/master_file/item_status.php" and bool(form.get("detail"))

    def _cut(self, text: str | bytes, keep: float, *, rows: bool) -> None:
        """Send part of the answer with no Content-Length, then close cleanly (no error)."""
        data = text.encode() if isinstance(text, str) else text
        part = data[: int(len(data) * keep)]
        if rows:
            part = part[: part.rfind(b"\n") + 1]
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-type", "text/plain;charset=UTF-8")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(part)
        self.wfile.flush()

    def _reset(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, text: str | bytes, headers: dict[str, str] | None = None) -> None:
        data = text.encode() if isinstance(text, str) else text
        self.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-type", "text/html; charset=UTF-8")
        for k, v in headers.items():
            self.send_header(k, v)
        for c in getattr(self, "cookies_out", []):
            self.send_header("Set-Cookie", c)
        self.send_header("Content-Length", str(len(data)))
        if not self.fake.keep_alive:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _form(self, body: bytes) -> dict[str, Any]:
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            msg = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
            )
            out: dict[str, Any] = {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                out[str(name)] = (filename, payload) if filename else payload.decode()
            return out
        return dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))

    def _cookies(self) -> dict[str, str]:
        jar = SimpleCookie(self.headers.get("Cookie", ""))
        return {k: m.value for k, m in jar.items()}

    def _session(self) -> dict[str, Any] | None:
        sid = self._cookies().get("SenayanAdmin")
        with self.fake.lock:
            return self.fake.sessions.get(sid or "")

    def _can(self, module: str) -> bool:
        sess = self._session()
        return sess is not None and module in self.fake.users[sess["user"]].rights

    def _session_check(self) -> tuple[int, str, dict[str, str]] | None:
        if self._session() is None:
            self.cookies_out += [
                "SenayanAdmin=deleted; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; path=/admin; HttpOnly",
                "admin_logged_in=deleted; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; path=/; HttpOnly; SameSite=Lax",
            ]
            return (
                200,
                SESSION_SCRIPT.replace(_SESSION_EN, _box_text(self.fake, "not_authorized")),
                {},
            )
        return None

    def _gate(
        self, module: str, *, stocktake: bool = False
    ) -> tuple[int, str, dict[str, str]] | None:
        """SLiMS's checks in its order: a session, the module right, an active stock take."""
        lost = self._session_check()
        if lost:
            return lost
        if not self._can(module):
            return 200, _box(self.fake, "no_rights"), {}
        with self.fake.lock:
            if stocktake and not self.fake.active:
                return 200, _box(self.fake, "no_stocktake"), {}
        return None

    # -- pages ----------------------------------------------------------------------
    def login(self, method: str, params: dict[str, str], form: dict[str, Any]):
        fake = self.fake
        api = re.fullmatch(r"api/item/total/(all|lent|available)", params.get("p", ""))
        if api and fake.api_enabled:
            with fake.lock:
                lent = sum(1 for it in fake.items.values() if it.on_loan)
                n = {"all": len(fake.items), "lent": lent}.get(api.group(1), len(fake.items) - lent)
                n = fake.api_totals.get(api.group(1), n)
            return 200, f'{{"data":"{n}"}}', {"Content-type": "application/json"}
        if params.get("p") == "slimsinfo":
            return 200, self.about(), {}
        if params.get("p") != "login":
            return 200, _opac("OPAC", fake.flavour.product), {}
        cookies = self._cookies()
        if method == "GET":
            if "admin_logged_in" in cookies:
                return 302, "", {"Location": "admin/index.php"}
            if params.get("wrongpass"):
                return 302, "", {"Location": f"://{self.headers.get('Host')}/?p=login"}
            mid = cookies.get("SenayanMember")
            with fake.lock:
                if mid not in fake.member_sessions:
                    mid = secrets.token_hex(13)
                    self.cookies_out.append(f"SenayanMember={mid}; Max-Age=43200; path=/; HttpOnly")
                    fake.member_sessions[mid] = (
                        f"_csrf_token_{secrets.token_hex(16)[:31]}={secrets.token_hex(20)}"
                    )
                name, value = fake.member_sessions[mid].split("=")
            return 200, _login_page(name, value), {}
        mid = cookies.get("SenayanMember", "")
        with fake.lock:
            token = fake.member_sessions.pop(mid, None)
        script = fake.flavour.login == "script"
        if token is None or form.get(token.split("=")[0]) != token.split("=")[1]:
            if script:  # not translated in these releases
                return (
                    200,
                    _js("alert(\"Invalid login form!\");location.href = 'index.php?p=login';"),
                    {},
                )
            return 302, "", {"Location": f"://{self.headers.get('Host')}/index.php?p=login"}
        user = fake.users.get(form.get("userName", ""))
        if user is None or user.password != form.get("passWord"):
            self.cookies_out.append(
                "SenayanAdmin=deleted; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; path=/admin; HttpOnly; SameSite=Lax"
            )
            wrong = _TEXTS[fake.language]["wrong_password"]
            if script:
                back = "history.back();" if fake.flavour.back_on_refusal else ""
                return 200, _js(f"alert('{wrong}');{back}"), {}
            return 302, wrong, {"Location": "?p=login&wrongpass=true"}
        sid = secrets.token_hex(13)
        with fake.lock:
            fake.sessions[sid] = {"user": form["userName"], "t": time.time()}
            fake.logins += 1
        self.cookies_out += [
            "SenayanMember=deleted; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; path=/; HttpOnly; SameSite=Lax",
            f"SenayanAdmin={sid}; Max-Age=86400; path=/admin/; HttpOnly",
            "admin_logged_in=1; Max-Age=14400; path=/; HttpOnly; SameSite=Lax",
        ]
        welcome = (
            f"alert('{_TEXTS[fake.language]['welcome']}{user.realname}');"
            if fake.login_message
            else ""
        )
        if script:
            return 200, _js(f"{welcome}location.href = '/admin/index.php';"), {}
        return 302, _js(welcome) if welcome else "", {"Location": "admin/index.php"}

    def about(self) -> str:
        """SLiMS's public about page (``?p=slimsinfo``) inside the OPAC page."""
        return _opac(
            '<div style="padding-left: 10px;">\n<h2>SLiMS Version 9 codename Bulian '
            f"<small>({self.fake.flavour.tag})</small></h2>\n<p>&nbsp;</p>\n</div>",
            self.fake.flavour.product,
        )

    def admin_index(self, method: str, params: dict[str, str], form: dict[str, Any]):
        return self._session_check() or (200, "<html><body>admin</body></html>", {})

    def action(self, method: str, params: dict[str, str], form: dict[str, Any]):
        fake = self.fake
        if not self._can("stock_take"):
            return 200, _box(self.fake, "no_rights"), {}
        if "itemCode" not in form:
            return 200, "", {}
        code = fake.canonical(form["itemCode"].strip(PHP_TRIM))
        out = "<!DOCTYPE html><html><body>"

        def err(msg: str) -> str:
            return (
                out
                + '<script type="text/javascript">\n'
                + f"parent.$('#stError').html('{msg}')"
                + ".css( {'display': 'block'} );\n"
                + "parent.$('#itemCode').val('').focus();\n"
                + "</script></body></html>"
            )

        with fake.lock:
            state = (fake.stocktake or {}).get(code)
            if state == "l":
                return 200, err(_t(fake, "loan", code)), {}
            if state == "e":
                return 200, err(_t(fake, "scanned", code)), {}
            if state == "m":
                fake.stocktake[code] = "e"
                list_show = form.get("listShow", "0")
                return (
                    200,
                    out
                    + '<script type="text/javascript">\n'
                    + f"parent.$('#mainContent').simbioAJAX('/admin/modules/stock_take/current.php?listShow={list_show}');\n"
                    + "</script></body></html>",
                    {},
                )
            item = fake.items.get(code)
        if item is not None and fake.skipped(item):
            return 200, err(_t(fake, "skip", code)), {}
        return 200, err(_t(fake, "missing", code)), {}

    def current(self, method: str, params: dict[str, str], form: dict[str, Any]):
        fake = self.fake
        refused = self._gate("stock_take", stocktake=True)
        if refused:
            return refused
        with fake.lock:
            view = params.get("view", "e")
            words = params.get("keywords", "").split()
            rows = [
                c
                for c, st in fake.stocktake.items()
                if st == view
                and all(w.casefold() in (c + " " + _title(fake, c)).casefold() for w in words)
            ]
        if params.get("datatablefld") == "Item Code":
            rows.sort(reverse=params.get("dir") == "DESC")
        page = max(1, int(params.get("page", "1") or 1))
        per = 20
        pages = max(1, -(-len(rows) // per))
        shown = rows[(page - 1) * per : page * per]
        base = f"/admin/modules/stock_take/current.php?view={view}"
        td = '<td valign="top" style="width: 10%;">'
        trs = "".join(
            f'<tr class="{"alterCell" if i % 2 else "alterCell2"}">{td}{c}</td>'
            f'<td valign="top" style="width: 60%;">{_title(fake, c)}</td>{td}</td>{td}</td>{td}</td>'
            f'<td valign="top">{ {"e": "Exists", "l": "On Loan"}.get(view, "Missing") }</td></tr>\n'
            for i, c in enumerate(shown)
        )
        links = "".join(
            f"<b>{p}</b>\n" if p == page else f'<a href="{base}&page={p}" target="_self">{p}</a>\n'
            for p in range(1, min(pages, 5) + 1)
        )
        if page < pages:
            links += f'<a href="{base}&page={page + 1}" target="_self" class="next_link">Next</a>\n'
            links += (
                f'<a href="{base}&page={pages}" target="_self" class="last_link">Last Page</a>\n'
            )
        paging = (
            '<table cellspacing="0" cellpadding="5" class="notprinted"><tr><td><span class="pagingList">'
            f"{links}</span>\n</td></tr></table>"
            if pages > 1
            else ""
        )
        header = "".join(
            f'<td ><a href="{base}&datatablefld={h.replace(" ", "+")}&dir=DESC">{h}</a></td>'
            for h in (
                "Item Code",
                "Title",
                "Call Number",
                "Collection Type",
                "Classification",
                "Status",
            )
        )
        return (
            200,
            '<div class="menuBox">Stock Take Proccess</div>\n'
            '<div id="stError" class="errorBox" style="display: none;">&nbsp;</div>\n'
            f'{paging}<table id="dataList" class="s-table table">\n'
            f'<tr class="dataListHeader" style="font-weight: bold;">{header}</tr>\n{trs}</table>',
            {},
        )

    def upload(self, method: str, params: dict[str, str], form: dict[str, Any]):
        fake = self.fake
        refused = self._gate("stock_take", stocktake=True)
        if refused:
            return refused
        if method != "POST" or "stUpload" not in form or "stFile" not in form:
            return 200, '<div class="menuBox">Stock Take Upload</div>', {}
        filename, data = form["stFile"]
        if not str(filename).endswith(".txt") or len(data) > fake.max_upload_kb * 1024:
            error = (
                "Filetype is forbidden"
                if not str(filename).endswith(".txt")
                else "Filesize is too big"
            )
            return (
                200,
                '<script type="text/javascript">\n'
                f"parent.$('#stUploadMsg').html('Failed to upload stock take file! <div>Error : {error}</div>')"
                ".toggleClass('errorBox').css( {'display': 'block'} );\n</script>",
                {},
            )
        n = 0
        codes = []
        with fake.lock:
            for raw in php_fgets(data, fake.flavour.upload_line):
                line = raw.decode("latin-1").strip(PHP_TRIM)
                if fake.flavour.upload_filter:
                    line = re.sub(r"<[^>]*>", "", line)  # strip_tags
                    if not UPLOAD_PATTERN.match(line):
                        continue
                code = fake.canonical(line)
                if not code:
                    continue
                codes.append(code)
                if fake.stocktake.get(code) == "m":
                    fake.stocktake[code] = "e"
                    n += 1
            fake.uploads.append(codes)
        stored = re.sub(r"\s", "_", str(filename))
        msg = (
            "Succesfully upload stock take file"
            if fake.language == "en"
            else "Unggahan berkas inventarisasi berhasil"
        )
        tail = " item codes scanned!" if fake.language == "en" else " kode eksemplar terpindai!"
        return (
            200,
            '<script type="text/javascript">\n'
            f"parent.$('#stUploadMsg').html('{msg}{stored}, <b>{n}</b>{tail}')"
            ".css( {'display': 'block'} );\n</script>",
            {},
        )

    def init(self, method: str, params: dict[str, str], form: dict[str, Any]):
        fake = self.fake
        refused = self._gate("stock_take")
        if refused:
            return refused
        sess = self._session()
        assert sess is not None
        if fake.users[sess["user"]].uid != 1:
            return (
                200,
                _box(fake, "must_admin"),
                {},
            )
        with fake.lock:
            if fake.active:
                return (
                    200,
                    _box(fake, "running"),
                    {},
                )
        if "saveData" not in form:
            locs = sorted({it.location for it in fake.items.values()})
            opts = '<option value="0">ALL</option>' + "".join(
                f'<option value="L{i}">{_html(loc)}</option>' for i, loc in enumerate(locs)
            )
            return (
                200,
                f'<form><input name="name"/><select name="gmdID"><option value="0">ALL</option></select>'
                f'<select name="collTypeID"><option value="0">ALL</option></select><select name="location">{opts}</select></form>',
                {},
            )
        if not form.get("name"):
            return (
                200,
                "<script type=\"text/javascript\">alert('Stock Take Name must be filled!');</script>",
                {},
            )
        locs = sorted({it.location for it in fake.items.values()})
        wanted = form.get("location", "0")
        chosen = None if wanted == "0" else locs[int(wanted[1:])]
        with fake.lock:
            fake.stocktake_name = form["name"]
            fake.stocktake_started = time.strftime("%Y-%m-%d %H:%M:%S")
            fake.active = True
            fake.stocktake = {
                it.code: ("l" if it.on_loan else "m")
                for it in fake.items.values()
                if not fake.skipped(it) and (chosen is None or it.location == chosen)
            }
        return (
            200,
            "<script type=\"text/javascript\">alert('Stock Taking Initialized');</script>"
            "<script type=\"text/javascript\">parent.location.href = '/admin/index.php?mod=stock_take';</script>",
            {},
        )

    def st_report(self, method: str, params: dict[str, str], form: dict[str, Any]):
        """The current stock take's report: rows of "label : value", as SLiMS draws them."""
        fake = self.fake
        refused = self._gate("stock_take", stocktake=True)
        if refused:
            return refused
        with fake.lock:
            states = list(fake.stocktake.values())
            total = len(states)
            lost, loan = states.count("m"), states.count("l")
            name, started = fake.stocktake_name, fake.stocktake_started
        labels = _REPORT_LABELS[fake.language]
        checked = total - lost
        share = checked * 100 // total if total else 0
        bar = f'<div style="height: 15px; background-color: red;"><div style="height: 15px; width: {share}%; background-color: #3161ff;">&nbsp;</div></div>'
        values = (
            _html(name),
            str(total),
            str(lost) if lost else labels[-1],
            str(loan) if loan else labels[-1],
            f"{checked} ({share}%) {bar}",
            "Librarian",
            "<ul></ul>",
            started,
            "",
        )
        rows = "".join(
            f'<tr><td class="alterCell" style="width: 170px;">{label}</td>'
            f'<td class="alterCell" style="width: 1%;">:</td>'
            f'<td class="alterCell2" style="width: auto;">{value}</td></tr>\n'
            for label, value in zip(labels, values, strict=False)
        )
        return (
            200,
            '<div class="menuBox"><div class="menuBoxInner reportIcon"><div class="per_title">'
            "<h2>Current Stock Take Report</h2></div></div></div>\n"
            f'<table align="center" class="table" id="dataList" cellpadding="3" cellspacing="0">\n{rows}</table>',
            {},
        )

    def st_history(self, method: str, params: dict[str, str], form: dict[str, Any]):
        """Stock Take History: every stock take, newest first, as SLiMS's datagrid draws it."""
        refused = self._gate("stock_take")
        if refused:
            return refused
        with self.fake.lock:
            rows = list(reversed(self.fake.history))
        heads = _HISTORY_HEADS[self.fake.language]
        header = "".join(f"<td >{h}</td>" for h in heads)
        body = "".join(
            '<tr class="alterCell2"><td valign="top"><a class="fa fa-search" '
            f'href="/admin/modules/stock_take/index.php?itemID={len(rows) - i}&amp;detail=true">&nbsp;</a></td>'
            f'<td valign="top">{_html(name)}</td><td valign="top">{start}</td>'
            f'<td valign="top">{end}</td><td valign="top"></td></tr>\n'
            for i, (name, start, end) in enumerate(rows)
        )
        return (
            200,
            '<table id="dataList" class="s-table table">\n'
            f'<tr class="dataListHeader" style="font-weight: bold;">{header}</tr>\n{body}</table>',
            {},
        )

    def item_status(self, method: str, params: dict[str, str], form: dict[str, Any]):
        """Master File → Item Status: the list, or one status's form with its rules."""
        fake = self.fake
        refused = self._gate("master_file")
        if refused:
            return refused
        with fake.lock:
            statuses = sorted(fake.statuses.values(), key=lambda st: st.name)
        if method == "POST" and form.get("detail"):
            st = fake.statuses.get(form.get("itemID", ""))
            code, name, skip = (st.code, st.name, st.skip) if st else ("", "", False)
            old_form = fake.flavour.form_checks_every_rule
            boxes = "".join(
                f'<div ><input type="checkbox" id="simbio-checkbox-{value}" name="rules[]" value="{value}" style="border: 0;" {"checked" if on else ""} /> <label>{label}</label></div>\n'
                for value, label, on in (
                    ("1", "No Loan Transaction", bool(st)),
                    ("2", "Skipped By Stock Take", skip or (st is not None and old_form)),
                )
            )
            return (
                200,
                '<form name="mainForm" id="mainForm" method="post"><table id="dataList" class="s-table table">'
                f'<tr><td>Item Status Code*</td><td>:</td><td><input type="text" name="itemStatusID" value="{_html(code)}" maxlength="3" class="form-control" /></td></tr>'
                f'<tr><td>Item Status Name*</td><td>:</td><td><input type="text" name="itemStatus" value="{_html(name)}" class="form-control" /></td></tr>'
                f"<tr><td>Rules</td><td>:</td><td>{boxes}</td></tr></table></form>",
                {},
            )
        rows = "".join(
            f'<tr class="alterCell"><td><input class="selected-row" type="checkbox" name="itemID[]" value="{st.code}" id="cbRow{i}" /></td>'
            f'<td><a class="editLink" href="/admin/modules/master_file/item_status.php?itemID={st.code}&amp;detail=true" postdata="itemID={st.code}&amp;detail=true" title="Edit">&nbsp;</a></td>'
            f"<td>{st.code}</td><td>{_html(st.name)}</td><td>2020-01-02</td></tr>\n"
            for i, st in enumerate(statuses)
        )
        header = '<tr class="dataListHeader"><td>DELETE</td><td>EDIT</td><td>Item Status Code</td><td>Item Status Name</td><td>Last Update</td></tr>'
        return 200, f'<table id="dataList" class="s-table table">{header}\n{rows}</table>', {}

    def loan_history(self, method: str, params: dict[str, str], form: dict[str, Any]):
        refused = self._gate("reporting")
        if refused:
            return refused
        sess = self._session()
        assert sess is not None
        with self.fake.lock:
            sess["report"] = sorted(c for c, it in self.fake.items.items() if it.on_loan)
        return 200, '<table id="dataList"></table>', {}

    def xlsoutput(self, method: str, params: dict[str, str], form: dict[str, Any]):
        sess = self._session()
        rows = (sess or {}).get("report", [])
        text = _LOAN_HEADER[self.fake.language]
        text += "".join(f"M0001\tAnggota\t{c}\tTitle\t2026-11-10\t2026-11-17\t0\n" for c in rows)
        return 200, text, {"Content-Type": "application/xls"}

    def export(self, method: str, params: dict[str, str], form: dict[str, Any]):
        fake = self.fake
        if not self._can("bibliography"):
            return 200, _box(fake, "not_authorized"), {}
        if "doExport" not in form:
            return 200, '<div class="menuBox">Item Export Tool</div>', {}
        with fake.lock:
            items = list(fake.items.values())
        rec = "\r" if form.get("recordSep") == "RETURN" else "\n"
        text = export_text(
            items,
            sep=form.get("fieldSep", ",").strip(PHP_TRIM),
            enc=form.get("fieldEnc", '"').strip(PHP_TRIM),
            rec=rec,
            header="header" in form,
        )
        return (
            200,
            text,
            {
                "Content-type": "text/plain;charset=UTF-8",
                "Content-Disposition": 'attachment; filename="senayan_item_export.csv"',
            },
        )


PHP_TRIM = " \t\n\r\0\x0b"  # what PHP's trim() removes (not the ASCII separators)


def _title(fake: FakeSlims, code: str) -> str:
    item = fake.items.get(code)
    return item.title if item is not None else ""  # SLiMS does not escape titles here


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TEXTS = {
    "en": {
        "loan": "Item {} is currently ON LOAN",
        "scanned": "Item {} is already SCANNED!",
        "skip": "Item Code {} have rule to skipped by stock take",
        "missing": "Item Code {} doesnt exists in stock take data.\\nInvalid Item Code OR Maybe out of Stock Take range",
        "wrong_password": WRONG_PASSWORD,
        "welcome": "Welcome to Library Automation, ",
        "no_rights": "You don't have enough privileges to access this area!",
        "not_authorized": _SESSION_EN,
        "no_stocktake": "NO stock taking proccess initialized yet!",
        "must_admin": "You must be an admin to run initialization process!",
        "running": "There is already stock taking proccess running!",
    },
    "id": {
        "loan": "Eksemplar {} MASIH DIPINJAM",
        "scanned": "Eksemplar {} TELAH DIPINDAI!",
        "skip": "Kode Eksemplar {} diatur untuk dilewatkan ketika inventarisasi",
        "missing": "Stock take tidak menemukan data Kode Eksemplar {}.\\nMungkin salah Kode Eksemplar atau di luar ketentuan Stock Take",
        "wrong_password": "Nama Pengguna atau Kata Sandi Salah. AKSES DITOLAK",
        "welcome": "Selamat Datang di Otomatisasi Perpustakaan, ",
        "no_rights": "Anda tidak punya hak akses ke bagian ini!",
        "not_authorized": "Anda tidak memiliki wewenang untuk masuk ke bagian ini",
        "no_stocktake": "BELUM ADA inisialisasi inventarisasi koleksi!",
        "must_admin": "Proses ini memerlukan akun Super Admin!",
        "running": "Ada proses inventarisasi yang sedang berjalan!",
    },
}


def _box_text(fake: FakeSlims, key: str) -> str:
    return _TEXTS[fake.language if fake.language in _TEXTS else "en"][key]


def _box(fake: FakeSlims, key: str) -> str:
    """One of SLiMS's ``errorBox`` answers, in the fake's language."""
    return f'<div class="errorBox">{_box_text(fake, key)}</div>'


def _php_warning(message: str) -> str:
    """The error page 9.7.0 shows for a PHP warning (its title is the warning)."""
    return f"<!DOCTYPE Html>\n<html>\n    <head>\n        <title>{message}</title>\n    </head>\n<body></body></html>"


def _js(code: str) -> str:
    return f'<script type="text/javascript">{code}</script>'


def _opac(content: str, product: str) -> str:
    return (
        f'<!DOCTYPE html><html><head><meta name="generator" content="{product}">'
        f"<title>Library</title></head><body>{content}</body></html>"
    )


#: st_report.php's row labels, in its order; the last word is what an empty count shows.
_REPORT_LABELS = {
    "en": (
        "Stock Take Name",
        "Total Item Stock Taked",
        "Total Item Lost",
        "Total Item On Loan",
        "Total Checked/Scanned Items",
        "Initializer",
        "Stock Take Participants",
        "Start Date",
        "End Date",
        "None",
    ),
    "id": (
        "Nama Stok Opname",
        "Jumlah Eksemplar Diinventarisasi",
        "Jumlah Eksemplar Hilang",
        "Jumlah Eksemplar Dipinjam",
        "Jumlah Eksemplar Diperiksa/Dipindai",
        "Pemrakarsa",
        "Peserta Stok Opname",
        "Tanggal Mulai",
        "Tanggal Selesai",
        "Tidak ada",
    ),
}


#: The stock-take history list's column heads (index.php), as 9.4.2 and 9.7.0 show them.
_HISTORY_HEADS = {
    "en": ("View", "Stock Take Name", "Start Date", "End Date", "Report"),
    "id": ("Lihat", "Nama Inventariasi", "Tanggal Mulai", "Tanggal Selesai", "Laporan"),
}

#: The loan report's spreadsheet header (xlsoutput.php), as SLiMS 9.4.2 and develop send it.
_LOAN_HEADER = {
    "en": "Member ID\tMember Name\tItem Code\tTitle\tLoan Date\tDue Date\tLoan Status\t\n",
    "id": "ID Anggota\tNama Anggota\tKode Eksemplar\tJudul\tTanggal Pinjam\tTanggal Kembali\tStatus peminjaman\t\n",
}


def _t(fake: FakeSlims, key: str, code: str) -> str:
    return _TEXTS[fake.language][key].format(code)


def _login_page(name: str, value: str) -> str:
    return f"""<!DOCTYPE html><html><head><title>Login</title></head><body>
<form class="" action="index.php" method="get"><input type="hidden" name="search" value="search"></form>
<div id="loginForm">
    <form action="index.php?p=login" method="post">
            <div class="heading1">Username</div>
            <div class="login_input"><input type="text" name="userName" id="userName" class="login_input" required /></div>
            <div class="heading1">Password</div>
            <div class="login_input"><input type="password" name="passWord" class="login_input" autocomplete="off" required /></div>
            <input type="hidden" name="{name}" value="{value}"/>
            <div class="marginTop">
                <div class="remember_forgot"><div class="remember">
                <input type="checkbox" id="remember_me" name="remember" value="1">
                <label for="remember_me">Remember me</label></div></div>
                <input type="submit" name="logMeIn" value="Login" class="loginButton" />
                <input type="button" value="Home" class="homeButton" onclick="javascript: location.href = 'index.php';" />
            </div>
    </form>
</div>
<form><input type="hidden" ref="csrf_token" value=""><input type="hidden" name="csrf_token" value=""></form>
</body></html>"""
