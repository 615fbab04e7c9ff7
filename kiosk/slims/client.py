"""Talk to SLiMS's admin pages over HTTP, the way its own browser forms do.

SLiMS has no API for stock taking: the kiosk logs in through the login form,
keeps the ``SenayanAdmin`` cookie in one keep-alive session and posts the same
forms a librarian would. What comes back are small HTML/JavaScript snippets
whose words pass through SLiMS's translator, so answers are read by their
structure first (which element the script writes to, whether it reloads the
list) and by words only to tell the error kinds apart, in English and
Indonesian.

A lost session does not look like one: ``stock_take_action.php`` then answers
"not enough privileges", other pages a script that jumps to the login page.
Either way the client logs in again once and repeats the request; only if the
fresh session gets the same answer is it a real lack of rights.
"""

from __future__ import annotations

import html
import logging
import os
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests

from kiosk.config import Config, Slims
from kiosk.exc import (
    CatalogError,
    SlimsAuthError,
    SlimsError,
    SlimsForbidden,
    SlimsNoStockTake,
    SlimsProtocolError,
    SlimsUnreachable,
)
from kiosk.models import Item
from kiosk.slims.credentials import Credentials, Secret, check_url, load_credentials
from kiosk.slims.export import ExportReport, parse_export

__all__ = [
    "UPLOAD_CODE",
    "Outcome",
    "SlimsClient",
    "StockTakeInfo",
    "check_login",
    "classify_action",
    "upload_file_bytes",
]

log = logging.getLogger(__name__)

#: Codes SLiMS's stock-take upload file may hold (design notes, measured).
UPLOAD_CODE = re.compile(r"^[a-zA-Z0-9_\-\.]+$")

ACTION = "admin/modules/stock_take/stock_take_action.php"
CURRENT = "admin/modules/stock_take/current.php"
UPLOAD = "admin/modules/stock_take/st_upload.php"
INIT = "admin/modules/stock_take/init.php"
EXPORT = "admin/modules/bibliography/item_export.php"
LOGIN = "index.php?p=login"
LOAN_HISTORY = "admin/modules/reporting/customs/loan_history.php"
XLS_OUTPUT = "admin/modules/reporting/xlsoutput.php"
#: Separator and encloser asked of the item export: ASCII unit and record
#: separators, which never occur in catalogue data.
EXPORT_SEP, EXPORT_ENC = "\x1f", "\x1e"
_MAX_BACKOFF = 30.0

_T = TypeVar("_T")


class Outcome(StrEnum):
    """SLiMS's verdict on one item code sent to the active stock take."""

    ACCEPTED = "accepted"
    ALREADY_SCANNED = "already_scanned"
    NOT_IN_STOCKTAKE = "not_in_stocktake"
    ON_LOAN = "on_loan"
    SKIPPED_RULE = "skipped_rule"


@dataclass(frozen=True)
class StockTakeInfo:
    """The active stock take as seen from ``current.php``."""

    active: bool


class _UnknownError(Exception):
    """A stock-take error message in words the kiosk does not know (another language)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class _SessionLost(Exception):
    """The answer is SLiMS's reaction to a missing or expired session."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


# Words that tell the stock-take error messages apart (English, Indonesian).
_KINDS: tuple[tuple[Outcome, re.Pattern[str]], ...] = (
    (Outcome.ON_LOAN, re.compile(r"ON LOAN|DIPINJAM", re.I)),
    (Outcome.ALREADY_SCANNED, re.compile(r"already SCANNED|TELAH DIPINDAI", re.I)),
    (Outcome.SKIPPED_RULE, re.compile(r"skipped by stock take|dilewatkan", re.I)),
    (Outcome.NOT_IN_STOCKTAKE, re.compile(r"doesn'?t exists?|tidak menemukan", re.I)),
)
_BLANK = re.compile(r"BLANK code|TIDAK ADA kode", re.I)
_ST_ERROR = re.compile(r"#stError'\)\.html\('(?P<msg>.*?)'\)", re.S)
_RELOAD = re.compile(r"simbioAJAX\([^)]*stock_take/current\.php")
_ERROR_BOX = re.compile(r'^\s*<div class="errorBox">(?P<msg>.*?)</div>\s*$', re.S)
_NO_STOCKTAKE = re.compile(r"NO stock taking|BELUM ADA inisialisasi|TIDAK ADA inventarisasi", re.I)
_NO_RIGHTS = re.compile(r"privilege|hak akses|not authorized|wewenang|must be an admin|harus", re.I)
_UPLOAD_MSG = re.compile(r"#stUploadMsg'\)\.html\('(?P<msg>.*?)'\)(?P<rest>[^\n]*)", re.S)
_CSRF = re.compile(r'name="(_csrf_token_[0-9A-Za-z]+)"\s+value="([^"]*)"')
_LOGIN_FORM = re.compile(r'<form[^>]*action="[^"]*p=login"[^>]*>(?P<body>.*?)</form>', re.S | re.I)
_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_ATTR = re.compile(r'(\w[\w-]*)\s*=\s*"([^"]*)"')


def _looks_like_login(body: str) -> bool:
    return "p=login" in body and ("top.location" in body or 'name="passWord"' in body)


def classify_action(body: str) -> Outcome:
    """Read ``stock_take_action.php``'s answer; raise for anything but a verdict."""
    if _RELOAD.search(body):
        return Outcome.ACCEPTED
    m = _ST_ERROR.search(body)
    if m:
        msg = html.unescape(m.group("msg"))
        for outcome, words in _KINDS:
            if words.search(msg):
                return outcome
        if _BLANK.search(msg):
            raise SlimsError("SLiMS received an empty item code")
        raise _UnknownError(msg)
    if _ERROR_BOX.match(body) or _looks_like_login(body):
        raise _SessionLost(_strip_tags(body))
    raise SlimsProtocolError(f"unexpected answer from {ACTION}: {_strip_tags(body)[:200]!r}")


def _strip_tags(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


class SlimsClient:
    """One logged-in conversation with one SLiMS.

    :param verify: ``True`` (system CAs), ``False`` or a CA bundle path.
    :param retries: how often a request is repeated after a connection error,
        timeout or 5xx answer, waiting ``backoff * 2**n`` seconds (capped).
    """

    def __init__(
        self,
        url: str,
        username: str,
        password: Secret,
        *,
        verify: bool | str = True,
        timeout: float = 15.0,
        retries: int = 4,
        backoff: float = 0.5,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_url(url)
        self.base = url.rstrip("/") + "/"
        self.username = username
        self._password = password
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self.session = session if session is not None else requests.Session()
        self.verify = verify
        self.session.verify = verify
        self.session.headers["User-Agent"] = "kiosk-stocktake (+requests)"
        self.logged_in = False
        self.logins = 0
        #: HTTP attempts the last request needed (> 1: an earlier one may have landed).
        self.last_attempts = 0

    @classmethod
    def from_credentials(
        cls,
        creds: Credentials,
        *,
        verify_tls: bool = True,
        ca_bundle: str = "",
        timeout: float = 15.0,
        retries: int = 4,
    ) -> SlimsClient:
        verify: bool | str = ca_bundle if (verify_tls and ca_bundle) else verify_tls
        if not verify_tls:
            log.warning(
                "TLS verification is OFF for %s: anyone on the network can read the login",
                creds.url,
            )
        elif _in_clear(creds.url):
            log.warning(
                "%s is plain http: the SLiMS password crosses the network unencrypted; use https",
                creds.url,
            )
        return cls(
            creds.url,
            creds.username,
            creds.password,
            verify=verify,
            timeout=timeout,
            retries=retries,
        )

    def __repr__(self) -> str:
        return f"SlimsClient({self.base!r}, user={self.username!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SlimsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------------
    def _url(self, path: str) -> str:
        return urljoin(self.base, path)

    def _request(self, method: str, path: str, **kw: Any) -> requests.Response:
        """One request with retries; connection errors and 5xx become SlimsUnreachable."""
        url = self._url(path)
        kw.setdefault("timeout", self.timeout)
        kw.setdefault("allow_redirects", False)
        # Per request: requests lets REQUESTS_CA_BUNDLE override a session's CA file.
        kw.setdefault("verify", self.verify)
        attempt = 0
        self.last_attempts = 1
        while True:
            problem: str
            try:
                resp = self.session.request(method, url, **kw)
            except requests.exceptions.SSLError as e:
                raise SlimsUnreachable(
                    f"TLS check of {self.base} failed ({_reason(e)}); if SLiMS uses a private CA, "
                    "set slims.ca_bundle to its certificate file"
                ) from None
            except requests.exceptions.Timeout:
                problem = f"no answer within {self.timeout:g} s"
            except requests.exceptions.ConnectionError as e:
                problem = f"connection failed ({_reason(e)})"
            except requests.exceptions.ChunkedEncodingError as e:
                problem = f"the answer broke off ({_reason(e)})"
            else:
                if resp.status_code < 500:
                    return resp
                problem = f"HTTP {resp.status_code}"
                resp.close()
            if attempt >= self.retries:
                raise SlimsUnreachable(
                    f"SLiMS at {self.base} is unreachable: {problem} "
                    f"(after {attempt + 1} attempts to {path.split('?', maxsplit=1)[0]})"
                )
            delay = min(_MAX_BACKOFF, self.backoff * 2**attempt) * random.uniform(0.8, 1.0)
            log.info("%s %s: %s; retrying in %.1f s", method, path, problem, delay)
            self._sleep(delay)
            attempt += 1
            self.last_attempts = attempt + 1

    def _with_session(self, call: Callable[[], _T]) -> _T:
        """Run ``call``; when SLiMS shows a lost session, log in once and repeat it."""
        if not self.logged_in:
            self.login()
        try:
            return call()
        except _SessionLost:
            log.info("SLiMS session expired; logging in again")
        self.login()
        try:
            return call()
        except _SessionLost as e:
            raise SlimsForbidden(
                f"SLiMS user {self.username!r} may not do this even after a fresh login "
                f"(SLiMS said: {e.text[:160]!r}); give the user the needed module rights "
                "(read and write for Stock Take, read for Bibliography)"
            ) from None

    # -- login ----------------------------------------------------------------
    def login(self) -> None:
        """Log in through the form; raises SlimsAuthError on refused credentials."""
        self.session.cookies.clear()  # a stale admin_logged_in cookie would skip the form
        self.logged_in = False
        form = self._request("GET", LOGIN, allow_redirects=True)
        if form.status_code != 200:
            raise SlimsProtocolError(
                f"{self._url(LOGIN)} answered HTTP {form.status_code}; is {self.base} a SLiMS?"
            )
        data = _login_fields(form.text)
        if data is None:
            raise SlimsProtocolError(
                f"{self._url(LOGIN)} has no SLiMS login form with a CSRF token; "
                f"is {self.base} the SLiMS base address?"
            )
        data.update(userName=self.username, passWord=self._password.reveal(), logMeIn="Login")
        resp = self._request("POST", LOGIN, data=data)
        where = resp.headers.get("Location", "")
        cookie = resp.cookies.get("SenayanAdmin") or self.session.cookies.get("SenayanAdmin")
        if (
            resp.status_code in (301, 302, 303)
            and where.endswith("admin/index.php")
            and cookie
            and cookie != "deleted"
        ):
            self.logged_in = True
            self.logins += 1
            return
        if "wrongpass" in where:
            raise SlimsAuthError(
                f"SLiMS at {self.base} refused user {self.username!r}: wrong user name or password "
                "(check the credentials file or SLIMS_USER/SLIMS_PASSWORD)"
            )
        if "p=2fa" in where:
            raise SlimsAuthError(
                f"SLiMS user {self.username!r} has two-factor login, which the kiosk cannot do; "
                "use a staff account without 2FA for the cart"
            )
        if "update=" in where:
            raise SlimsAuthError(
                f"SLiMS asks user {self.username!r} to change an old (md5) password; "
                "log in once in a browser and set a new password"
            )
        text = _strip_tags(resp.text)
        raise SlimsAuthError(
            f"SLiMS at {self.base} did not accept the login of {self.username!r} "
            f"(HTTP {resp.status_code}, Location {where!r}{', ' + text[:100] if text else ''}); "
            "a CAPTCHA on the login form or a reverse proxy can cause this"
        )

    # -- stock take -------------------------------------------------------------
    def action(self, item_code: str) -> Outcome:
        """Send one scanned item code to the active stock take; return SLiMS's verdict.

        An error message in an unknown language is resolved without words by
        looking the code up in the stock take's found and on-loan lists.
        """
        if not item_code.strip():
            raise ValueError("an empty item code cannot be sent to SLiMS")

        def call() -> Outcome:
            resp = self._request("POST", ACTION, data={"itemCode": item_code})
            body = resp.text
            if resp.status_code != 200:
                raise SlimsProtocolError(f"{ACTION} answered HTTP {resp.status_code}")
            _raise_error_box(body, self.base)
            return classify_action(body)

        # SLiMS checks no active stock take here (a finished one's list still
        # answers), so callers check current_stocktake() before a run.
        try:
            return self._with_session(call)
        except _UnknownError as e:
            return self._probe(item_code, e.text)

    def _probe(self, code: str, text: str) -> Outcome:
        log.warning("unknown SLiMS stock-take message %r; checking %s in the lists", text, code)
        for view, outcome in (("e", Outcome.ALREADY_SCANNED), ("l", Outcome.ON_LOAN)):
            listed = self.stocktake_codes(view, keywords=code.strip())
            if code.strip().casefold() in {c.casefold() for c in listed}:
                return outcome
        # Neither found nor on loan: not in the stock take (a skip rule looks the same).
        return Outcome.NOT_IN_STOCKTAKE

    def upload(self, codes: Sequence[str], *, name: str = "kiosk.txt") -> int:
        """Upload codes as a stock-take file; return how many SLiMS newly marked found."""
        bad = [c for c in codes if not UPLOAD_CODE.match(c)]
        if bad:
            raise ValueError(f"codes not allowed in an upload file: {bad[:5]}")
        payload = upload_file_bytes(codes)

        def call() -> int:
            resp = self._request(
                "POST",
                UPLOAD,
                data={"stUpload": "Upload File"},
                files={"stFile": (name, payload, "text/plain")},
            )
            return _upload_count(resp, self.base)

        return self._with_session(call)

    def current_stocktake(self) -> StockTakeInfo:
        """Whether a stock take is active in SLiMS."""

        def call() -> StockTakeInfo:
            try:
                _raise_error_box(self._get_page(CURRENT, params={"view": "l"}), self.base)
            except SlimsNoStockTake:
                return StockTakeInfo(active=False)
            return StockTakeInfo(active=True)

        return self._with_session(call)

    def on_loan_codes(self) -> set[str]:
        """Item codes the active stock take holds as on loan (status ``l``)."""
        return set(self.stocktake_codes("l"))

    def stocktake_codes(
        self, view: str, *, keywords: str = "", max_pages: int | None = None
    ) -> list[str]:
        """Codes in the active stock take with status ``view`` (e found, m missing, l loan).

        SLiMS lists 20 a page; the pages are sorted by item code (by the first
        column's own sort link) because the default order ties and may shuffle.
        """
        codes: list[str] = []
        page, pages = 1, 1
        order: dict[str, str] = {}
        while page <= pages and (max_pages is None or page <= max_pages):
            params: dict[str, Any] = {"view": view, "page": page, "keywords": keywords}

            def call(params: dict[str, Any] = params, order: dict[str, str] = order) -> str:
                body = self._get_page(CURRENT, params={**params, **order})
                _raise_error_box(body, self.base)
                return body

            body = self._with_session(call)
            if page == 1:
                pages = _page_count(body)
                sort = re.search(r'dataListHeader.*?datatablefld=([^&"]+)', body, re.S)
                if sort and pages > 1:
                    order.update(datatablefld=_unquote(sort.group(1)), dir="ASC")
                    body = self._with_session(call)  # page 1 again, now in that order
            codes.extend(_first_column(body))
            page += 1
        return codes

    def _get_page(self, path: str, *, params: Mapping[str, Any] | None = None) -> str:
        resp = self._request("GET", path, params=params)
        if resp.status_code != 200:
            raise SlimsProtocolError(f"{path} answered HTTP {resp.status_code}")
        if _looks_like_login(resp.text):
            raise _SessionLost(_strip_tags(resp.text))
        return resp.text

    def init_stocktake(
        self,
        name: str,
        *,
        gmd: str = "0",
        coll_type: str = "0",
        location: str = "0",
        site: str = "",
        classification: str = "",
    ) -> None:
        """Start a stock take (SLiMS allows this to its first admin only).

        ``gmd``, ``coll_type`` and ``location`` take the ids or the names shown in
        SLiMS's form; ``"0"`` means all. ``classification`` is SLiMS's comma list
        with ``*`` wildcards.
        """
        if not name.strip():
            raise SlimsError("a stock take needs a name")

        def form() -> dict[str, dict[str, str]]:
            body = self._get_page(INIT, params={"skip_backup": "1"})
            if _ERROR_BOX.match(body):
                _raise_init_error(_strip_tags(body), self.username)
            return _select_options(body)

        options = self._with_session(form)
        data = {
            "name": name,
            "gmdID": _option(options, "gmdID", gmd),
            "collTypeID": _option(options, "collTypeID", coll_type),
            "location": _option(options, "location", location),
            "itemSite": site,
            "classification": classification,
            "saveData": "Initialize Stock Take",
        }

        def post() -> None:
            resp = self._request("POST", INIT + "?action=new", data=data)
            body = resp.text
            if "mod=stock_take" in body and "location.href" in body:
                return
            if _ERROR_BOX.match(body) or _looks_like_login(body):
                _raise_init_error(_strip_tags(body), self.username)
            raise SlimsError(f"SLiMS did not start the stock take: {_strip_tags(body)[:200]!r}")

        self._with_session(post)

    # -- catalogue ----------------------------------------------------------------
    def export_items(
        self,
        *,
        report: ExportReport | None = None,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> Iterator[Item]:
        """The whole item list from SLiMS's item export, parsed.

        Asks for unit/record-separator control characters as separator and
        encloser, which no title contains, so every row splits into exactly its
        columns (SLiMS escapes nothing). ``on_progress(items, total_or_None)``
        follows the parse; the total comes from SLiMS's public item count.
        """

        def call() -> bytes:
            resp = self._request(
                "POST",
                EXPORT,
                data={
                    "fieldSep": EXPORT_SEP,
                    "fieldEnc": EXPORT_ENC,
                    "recordSep": "NEWLINE",
                    "recordNum": "0",
                    "recordOffset": "1",
                    "header": "1",
                    "doExport": "Export Now",
                },
            )
            if resp.status_code != 200:
                raise SlimsProtocolError(f"{EXPORT} answered HTTP {resp.status_code}")
            body = resp.content
            if resp.headers.get("Content-Type", "").startswith("text/plain"):
                return body
            head = body[:400].decode("utf-8", "replace")
            if _ERROR_BOX.match(head) or _looks_like_login(head):
                raise _SessionLost(_strip_tags(head))
            raise CatalogError(
                f"SLiMS at {self.base} exported no items: {_strip_tags(head)[:160]!r}"
            )

        if on_progress is None:
            return parse_export(self._with_session(call), report=report)
        total = self.api_total("all")
        on_progress(0, total)
        body = self._with_session(call)
        return parse_export(body, report=report, on_row=lambda n: on_progress(n, total))

    def api_total(self, what: str) -> int | None:
        """SLiMS's public item counts (``all``, ``lent``, ``available``); None if absent."""
        try:
            resp = self._request("GET", f"index.php?p=api/item/total/{what}")
            return int(resp.json()["data"]) if resp.status_code == 200 else None
        except (SlimsUnreachable, ValueError, KeyError, TypeError):
            return None

    def loan_codes_from_reports(self) -> set[str]:
        """Codes on loan from Reporting → Loan History (needs Reporting rights).

        For when no stock take is active: the report's spreadsheet export
        (``xlsoutput.php``, tab-separated text) lists every open loan at once.
        """

        def call() -> set[str]:
            body = self._get_page(
                LOAN_HISTORY,
                params={"reportView": "true", "loanStatus": "0", "recsEachPage": "200"},
            )
            if _ERROR_BOX.match(body):
                raise _SessionLost(_strip_tags(body))
            resp = self._request("GET", XLS_OUTPUT)
            lines = resp.content.decode("utf-8", "replace").splitlines()
            if resp.status_code != 200 or not lines or "\t" not in lines[0]:
                raise SlimsProtocolError(f"{XLS_OUTPUT} gave no loan list")
            col = next(
                (
                    i
                    for i, h in enumerate(lines[0].split("\t"))
                    if "code" in h.casefold() or "kode" in h.casefold()
                ),
                2,
            )
            return {
                f[col].strip()
                for line in lines[1:]
                if len(f := line.split("\t")) > col and f[col].strip()
            }

        return self._with_session(call)


def _reason(e: BaseException) -> str:
    """The innermost cause of a requests error, without URLs or credentials."""
    inner: BaseException = e
    while (nxt := inner.__cause__ or inner.__context__) is not None:
        inner = nxt
    text = str(inner) or type(inner).__name__
    text = text.split(": ", 1)[-1] if "object at 0x" in text else text
    return text[:160]


def _raise_error_box(body: str, base: str) -> None:
    """Raise for SLiMS's ``errorBox`` answers: no active stock take, or a lost session."""
    m = _ERROR_BOX.match(body)
    if m and _NO_STOCKTAKE.search(m.group("msg")):
        raise SlimsNoStockTake(
            f"no stock take is active in SLiMS at {base}; start one in SLiMS "
            "(Stock Take → Initialize) or with `kiosk sync --init NAME`"
        )
    if m:
        raise _SessionLost(_strip_tags(body))


def _login_fields(page: str) -> dict[str, str] | None:
    m = _LOGIN_FORM.search(page)
    scope = m.group("body") if m else page
    if not _CSRF.search(scope):
        return None
    fields: dict[str, str] = {}
    for tag in _INPUT.findall(scope):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("type", "").lower() == "hidden" and attrs.get("name"):
            fields[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return fields


def _upload_count(resp: requests.Response, base: str) -> int:
    body = resp.text
    if resp.status_code != 200:
        raise SlimsProtocolError(f"{UPLOAD} answered HTTP {resp.status_code}")
    _raise_error_box(body, base)
    if _looks_like_login(body):
        raise _SessionLost(_strip_tags(body))
    m = _UPLOAD_MSG.search(body)
    if not m:
        raise SlimsProtocolError(f"unexpected answer from {UPLOAD}: {_strip_tags(body)[:200]!r}")
    if "errorBox" in m.group("rest"):
        raise SlimsError(
            f"SLiMS refused the stock-take file: {_strip_tags(m.group('msg'))[:200]!r} "
            "(too large for SLiMS's upload limit? lower slims.upload_chunk)"
        )
    count = re.search(r"<b>\s*(\d+)\s*</b>", m.group("msg"))
    if not count:
        raise SlimsProtocolError(
            f"SLiMS's upload answer has no count: {_strip_tags(m.group('msg'))!r}"
        )
    return int(count.group(1))


def upload_file_bytes(codes: Iterable[str]) -> bytes:
    """The ``.txt`` SLiMS's stock-take upload reads: one code a line."""
    return "".join(c + "\n" for c in codes).encode("ascii")


def _unquote(text: str) -> str:
    return urllib.parse.unquote_plus(html.unescape(text))


def _page_count(body: str) -> int:
    pages = [int(p) for p in re.findall(r"[?&;]page=(\d+)", body)]
    return max(pages, default=1)


_ROW = re.compile(r"<tr\b(?P<attrs>[^>]*)>(?P<body>.*?)</tr>", re.S | re.I)
_CELL = re.compile(r"<td\b[^>]*>(.*?)</td>", re.S | re.I)


def _first_column(body: str) -> list[str]:
    """Item codes from a SLiMS datagrid (``table#dataList``), first data column."""
    start = body.find('id="dataList"')
    if start < 0:
        return []
    end = body.find("</table>", start)
    codes = []
    for row in _ROW.finditer(body[start : end if end > 0 else len(body)]):
        if "dataListHeader" in row.group("attrs"):
            continue
        cells = _CELL.findall(row.group("body"))
        if cells and (code := _strip_tags(cells[0])):
            codes.append(code)
    return codes


_SELECT = re.compile(r'<select[^>]*name="(?P<name>[^"]+)"[^>]*>(?P<body>.*?)</select>', re.S | re.I)
_OPTION = re.compile(
    r'<option[^>]*value="(?P<value>[^"]*)"[^>]*>(?P<label>.*?)</option>', re.S | re.I
)


def _select_options(body: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for sel in _SELECT.finditer(body):
        out[sel.group("name")] = {
            _strip_tags(o.group("label")).casefold(): html.unescape(o.group("value"))
            for o in _OPTION.finditer(sel.group("body"))
        }
    return out


def _option(options: dict[str, dict[str, str]], field: str, wanted: str) -> str:
    choices = options.get(field, {})
    if wanted in choices.values() or not choices:
        return wanted
    value = choices.get(wanted.casefold())
    if value is None:
        known = ", ".join(sorted(k for k in choices if k))
        raise SlimsError(f"SLiMS has no {field} {wanted!r}; choose one of: {known}")
    return value


def _raise_init_error(text: str, user: str) -> None:
    # A lost session first: its login script also says "not authorized".
    if _looks_like_login(text):
        raise _SessionLost(text)
    if _NO_RIGHTS.search(text):
        raise SlimsForbidden(
            f"SLiMS user {user!r} may not start a stock take ({text[:120]!r}); "
            "only SLiMS's first administrator account can"
        )
    raise SlimsError(f"SLiMS did not start the stock take: {text[:200]!r}")


def check_login(cfg: Config, creds: Credentials) -> None:
    """For ``kiosk doctor``: log in and read the stock-take page, or raise why not."""
    with SlimsClient.from_credentials(
        creds,
        verify_tls=cfg.slims.verify_tls,
        ca_bundle=cfg.slims.ca_bundle,
        timeout=cfg.slims.timeout_s,
        retries=0,
    ) as client:
        client.login()
        client.current_stocktake()


def client_from_config(cfg: Slims, *, env: Mapping[str, str] | None = None) -> SlimsClient | None:
    """A client for the configured SLiMS, or ``None`` when none is configured."""
    creds = load_credentials(
        url=cfg.url,
        username=cfg.username,
        credentials_file=cfg.credentials_file,
        env=os.environ if env is None else env,
    )
    if creds is None:
        return None
    return SlimsClient.from_credentials(
        creds,
        verify_tls=cfg.verify_tls,
        ca_bundle=cfg.ca_bundle,
        timeout=cfg.timeout_s,
        retries=cfg.retries,
    )


def _in_clear(url: str) -> bool:
    """Plain http to another machine (loopback is this machine: nothing crosses a network)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return (
        parts.scheme == "http" and host not in ("localhost", "::1") and not host.startswith("127.")
    )
