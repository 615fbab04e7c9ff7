"""Read what SLiMS's admin pages answer, without a network in sight.

SLiMS has no API for stock taking: its answers are small HTML/JavaScript
snippets whose words pass through SLiMS's translator. So they are read by
their structure first (which element the script writes to, whether it
reloads the list) and by words only to tell the error kinds apart, in English
and Indonesian. Keeping every such reading here, as functions from a page's
text to values, lets them be tested on saved pages and keeps the HTTP code
free of regular expressions. The one file SLiMS reads back (the stock-take
upload) is written here too.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from kiosk.exc import SlimsError, SlimsForbidden, SlimsNoStockTake, SlimsProtocolError
from kiosk.models import SyncOutcome

__all__ = [
    "ACTION",
    "CURRENT",
    "EXPORT",
    "INIT",
    "LOAN_HISTORY",
    "LOGIN",
    "SLIMSINFO",
    "UPLOAD",
    "UPLOAD_CODE",
    "XLS_OUTPUT",
    "LoginAnswer",
    "LoginReading",
    "SessionLost",
    "UnknownMessage",
    "choose_option",
    "classify_action",
    "first_column",
    "init_allowed",
    "init_error",
    "is_error_box",
    "loan_codes",
    "loan_dues",
    "login_fields",
    "looks_like_login",
    "page_count",
    "raise_error_box",
    "read_generator",
    "read_login",
    "read_version",
    "select_options",
    "sort_field",
    "strip_tags",
    "upload_count",
    "upload_file_bytes",
]

ACTION = "admin/modules/stock_take/stock_take_action.php"
CURRENT = "admin/modules/stock_take/current.php"
UPLOAD = "admin/modules/stock_take/st_upload.php"
INIT = "admin/modules/stock_take/init.php"
EXPORT = "admin/modules/bibliography/item_export.php"
LOGIN = "index.php?p=login"
SLIMSINFO = "index.php?p=slimsinfo"
LOAN_HISTORY = "admin/modules/reporting/customs/loan_history.php"
XLS_OUTPUT = "admin/modules/reporting/xlsoutput.php"

#: Codes every SLiMS's stock-take upload reads back intact: 9.7.0 drops lines
#: outside this pattern and reads 79 bytes a line (up to 9.6.1: 511, unfiltered).
UPLOAD_CODE = re.compile(r"^[a-zA-Z0-9_\-\.]{1,79}$")


class UnknownMessage(Exception):
    """A stock-take error message in words the kiosk does not know (another language)."""

    def __init__(self, text: str, *, login: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.login = login  # the answer was the login page itself, not a refusal


class SessionLost(Exception):
    """The answer is SLiMS's reaction to a missing or expired session."""

    def __init__(self, text: str, *, login: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.login = login  # the answer was the login page itself, not a refusal


# Words that tell the stock-take error messages apart (English, Indonesian).
_KINDS: tuple[tuple[SyncOutcome, re.Pattern[str]], ...] = (
    (SyncOutcome.ON_LOAN, re.compile(r"ON LOAN|DIPINJAM", re.I)),
    (SyncOutcome.ALREADY_SCANNED, re.compile(r"already SCANNED|TELAH DIPINDAI", re.I)),
    (SyncOutcome.SKIPPED_RULE, re.compile(r"skipped by stock take|dilewatkan", re.I)),
    (SyncOutcome.NOT_IN_STOCKTAKE, re.compile(r"doesn'?t exists?|tidak menemukan", re.I)),
)
_BLANK = re.compile(r"BLANK code|TIDAK ADA kode", re.I)
_ST_ERROR = re.compile(r"#stError'\)\.html\('(?P<msg>.*?)'\)", re.S)
_RELOAD = re.compile(r"simbioAJAX\([^)]*stock_take/current\.php")
_ERROR_BOX = re.compile(r'^\s*<div class="errorBox">(?P<msg>.*?)</div>\s*$', re.S)
_NO_STOCKTAKE = re.compile(r"NO stock taking|BELUM ADA inisialisasi|TIDAK ADA inventarisasi", re.I)
_NO_RIGHTS = re.compile(
    r"privilege|hak akses|not authorized|wewenang|must be an admin|Super Admin|harus", re.I
)
_UPLOAD_MSG = re.compile(r"#stUploadMsg'\)\.html\('(?P<msg>.*?)'\)(?P<rest>[^\n]*)", re.S)
_CSRF = re.compile(r'name="(_csrf_token_[0-9A-Za-z]+)"\s+value="([^"]*)"')
_LOGIN_FORM = re.compile(r'<form[^>]*action="[^"]*p=login"[^>]*>(?P<body>.*?)</form>', re.S | re.I)
_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_ATTR = re.compile(r'(\w[\w-]*)\s*=\s*"([^"]*)"')
_SORT = re.compile(r'dataListHeader.*?datatablefld=([^&"]+)', re.S)
_ROW = re.compile(r"<tr\b(?P<attrs>[^>]*)>(?P<body>.*?)</tr>", re.S | re.I)
_CELL = re.compile(r"<td\b[^>]*>(.*?)</td>", re.S | re.I)
_SELECT = re.compile(r'<select[^>]*name="(?P<name>[^"]+)"[^>]*>(?P<body>.*?)</select>', re.S | re.I)
_OPTION = re.compile(
    r'<option[^>]*value="(?P<value>[^"]*)"[^>]*>(?P<label>.*?)</option>', re.S | re.I
)


def strip_tags(text: str) -> str:
    """The words of an HTML snippet, tags dropped and whitespace folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def looks_like_login(body: str) -> bool:
    """A login page, or a script that jumps to it: SLiMS has forgotten the session."""
    return "p=login" in body and ("top.location" in body or 'name="passWord"' in body)


def is_error_box(body: str) -> bool:
    """The whole answer is one of SLiMS's ``errorBox`` messages."""
    return _ERROR_BOX.match(body) is not None


def classify_action(body: str) -> SyncOutcome:
    """Read ``stock_take_action.php``'s answer; raise for anything but a verdict."""
    if _RELOAD.search(body):
        return SyncOutcome.ACCEPTED
    m = _ST_ERROR.search(body)
    if m:
        msg = html.unescape(m.group("msg"))
        for outcome, words in _KINDS:
            if words.search(msg):
                return outcome
        if _BLANK.search(msg):
            raise SlimsError("SLiMS received an empty item code")
        raise UnknownMessage(msg)
    if _ERROR_BOX.match(body) or looks_like_login(body):
        raise SessionLost(strip_tags(body), login=looks_like_login(body))
    raise SlimsProtocolError(f"unexpected answer from {ACTION}: {strip_tags(body)[:200]!r}")


def raise_error_box(body: str, base: str) -> None:
    """Raise for SLiMS's ``errorBox`` answers: no active stock take, or a lost session."""
    m = _ERROR_BOX.match(body)
    if m and _NO_STOCKTAKE.search(m.group("msg")):
        raise SlimsNoStockTake(
            f"no stock take is active in SLiMS at {base}; start one in SLiMS "
            "(Stock Take → Initialize) or with `kiosk sync --init NAME`"
        )
    if m:
        raise SessionLost(strip_tags(body))


def login_fields(page: str) -> dict[str, str] | None:
    """The login form's hidden fields (CSRF token included); None without such a form."""
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


class LoginAnswer(StrEnum):
    """What SLiMS made of a login form post."""

    ADMIN = "admin"  # logged in: the browser is sent to the admin page
    WRONG_PASSWORD = "wrong_password"  # noqa: S105
    TWO_FACTOR = "two_factor"
    OLD_PASSWORD = "old_password"  # noqa: S105  (an md5 password SLiMS wants changed first)
    FORM_REFUSED = "form_refused"  # the form's CSRF token did not match its session
    BACK_TO_FORM = "back_to_form"  # sent back to the form without a reason
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class LoginReading:
    """A login answer read: the verdict, SLiMS's style of answering, its alert text."""

    answer: LoginAnswer
    style: str  # "redirect" (9.5.2 on: HTTP 302) or "script" (up to 9.5.1: HTTP 200 + script)
    message: str = ""


# Words of the refusals SLiMS shows in an alert (English, Indonesian).
_WRONG_PASSWORD = re.compile(r"Wrong Username or Password|Kata Sandi Salah|AKSES DITOLAK", re.I)
_FORM_REFUSED = re.compile(r"Invalid login form|Salah laman masuk", re.I)
_ALERT = re.compile(r"""alert\(\s*(?P<q>['"])(?P<msg>(?:\\.|(?!(?P=q)).)*)(?P=q)\s*\)""", re.S)
_JS_GOTO = re.compile(r"""location\.href\s*=\s*(?P<q>['"])(?P<to>[^'"]*)(?P=q)""")


def _is_admin_page(target: str) -> bool:
    return urllib.parse.urlsplit(target).path.endswith("admin/index.php")


def read_login(status: int, location: str, body: str) -> LoginReading:
    """Read SLiMS's answer to a login post, in either of its styles and either language.

    From 9.5.2 SLiMS answers with a redirect: to ``admin/index.php`` when the
    user is in, to ``?p=login&wrongpass=true`` on a wrong password. Up to 9.5.1
    it answers HTTP 200 with a small script: ``location.href`` to the admin
    page (after an optional welcome alert), or only an alert when refused. The
    redirect target is structure and needs no words; words only tell the
    refusals apart.
    """
    if status in (301, 302, 303, 307, 308):
        if _is_admin_page(location):
            return LoginReading(LoginAnswer.ADMIN, "redirect")
        if "wrongpass" in location:
            return LoginReading(LoginAnswer.WRONG_PASSWORD, "redirect")
        if "p=2fa" in location:
            return LoginReading(LoginAnswer.TWO_FACTOR, "redirect")
        if "update=" in location:
            return LoginReading(LoginAnswer.OLD_PASSWORD, "redirect")
        if "p=login" in location or not location:
            return LoginReading(LoginAnswer.BACK_TO_FORM, "redirect", strip_tags(body))
        return LoginReading(LoginAnswer.OTHER, "redirect", location)
    alerts = [html.unescape(re.sub(r"\\(.)", r"\1", m.group("msg"))) for m in _ALERT.finditer(body)]
    message = " ".join(alerts)
    if status != 200:
        return LoginReading(LoginAnswer.OTHER, "script", message or strip_tags(body))
    if any(_is_admin_page(m.group("to")) for m in _JS_GOTO.finditer(body)):
        return LoginReading(LoginAnswer.ADMIN, "script", message)
    if _WRONG_PASSWORD.search(message):
        return LoginReading(LoginAnswer.WRONG_PASSWORD, "script", message)
    if _FORM_REFUSED.search(message):
        return LoginReading(LoginAnswer.FORM_REFUSED, "script", message)
    return LoginReading(LoginAnswer.OTHER, "script", message or strip_tags(body)[:200])


_SLIMSINFO_TAG = re.compile(
    r"SLiMS\s+Version\s+\d+\s+codename\s+[^<]*<small>\s*\(\s*v?(?P<v>\d+(?:\.\d+)+[\w.+-]*)\s*\)",
    re.I,
)
_GENERATOR = re.compile(r'<meta\s+name="generator"\s+content="(?P<v>[^"]+)"', re.I)


def read_version(page: str) -> str | None:
    """The release SLiMS's public "about" page (``?p=slimsinfo``) names, e.g. ``9.4.2``.

    Every SLiMS 9 shows its release tag there, to anyone; the develop branch
    shows the tag of the release it grew from.
    """
    m = _SLIMSINFO_TAG.search(page)
    return m.group("v") if m else None


def read_generator(page: str) -> str | None:
    """The product name an OPAC page gives in its generator meta tag, e.g. ``SLiMS 9 (Bulian)``."""
    m = _GENERATOR.search(page)
    if m is None:
        return None
    return html.unescape(m.group("v")).strip() or None


def upload_count(body: str, base: str) -> int:
    """How many codes ``st_upload.php`` says it newly marked found."""
    raise_error_box(body, base)
    if looks_like_login(body):
        raise SessionLost(strip_tags(body), login=True)
    m = _UPLOAD_MSG.search(body)
    if not m:
        raise SlimsProtocolError(f"unexpected answer from {UPLOAD}: {strip_tags(body)[:200]!r}")
    if "errorBox" in m.group("rest"):
        raise SlimsError(
            f"SLiMS refused the stock-take file: {strip_tags(m.group('msg'))[:200]!r} "
            "(too large for SLiMS's upload limit? lower slims.upload_chunk)"
        )
    count = re.search(r"<b>\s*(\d+)\s*</b>", m.group("msg"))
    if not count:
        raise SlimsProtocolError(
            f"SLiMS's upload answer has no count: {strip_tags(m.group('msg'))!r}"
        )
    return int(count.group(1))


def upload_file_bytes(codes: Iterable[str]) -> bytes:
    """The ``.txt`` SLiMS's stock-take upload reads: one code a line."""
    return "".join(c + "\n" for c in codes).encode("ascii")


def page_count(body: str) -> int:
    """How many pages a SLiMS datagrid has (its highest ``page=`` link)."""
    pages = [int(p) for p in re.findall(r"[?&;]page=(\d+)", body)]
    return max(pages, default=1)


def sort_field(body: str) -> str | None:
    """The field behind the datagrid's first column header, to sort the pages by it."""
    m = _SORT.search(body)
    return urllib.parse.unquote_plus(html.unescape(m.group(1))) if m else None


def first_column(body: str) -> list[str]:
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
        if cells and (code := strip_tags(cells[0])):
            codes.append(code)
    return codes


def select_options(body: str) -> dict[str, dict[str, str]]:
    """Each ``<select>`` of a form: its name → {shown label (casefolded) → value}."""
    out: dict[str, dict[str, str]] = {}
    for sel in _SELECT.finditer(body):
        out[sel.group("name")] = {
            strip_tags(o.group("label")).casefold(): html.unescape(o.group("value"))
            for o in _OPTION.finditer(sel.group("body"))
        }
    return out


def choose_option(options: dict[str, dict[str, str]], field: str, wanted: str) -> str:
    """The value to post for ``field``: ``wanted`` as an id, else looked up as a label."""
    choices = options.get(field, {})
    if wanted in choices.values() or not choices:
        return wanted
    value = choices.get(wanted.casefold())
    if value is None:
        known = ", ".join(sorted(k for k in choices if k))
        raise SlimsError(f"SLiMS has no {field} {wanted!r}; choose one of: {known}")
    return value


def init_error(text: str, user: str) -> SessionLost | SlimsError:
    """What an ``init.php`` refusal means: a lost session, missing rights or another error."""
    # A lost session first: its login script also says "not authorized".
    if looks_like_login(text):
        return SessionLost(text)
    if _NO_RIGHTS.search(text):
        return SlimsForbidden(
            f"SLiMS user {user!r} may not start a stock take ({text[:120]!r}); "
            "only SLiMS's first administrator account can"
        )
    return SlimsError(f"SLiMS did not start the stock take: {text[:200]!r}")


_RUNNING = re.compile(r"already stock taking|Ada proses inventarisasi", re.I)


def init_allowed(body: str) -> bool:
    """Whether ``init.php`` (opened, not posted) would let this user start a stock take.

    SLiMS checks the Stock Take rights, then that the user is its first admin,
    and only then whether one is already running: so "already running" and the
    form itself both mean "allowed".
    """
    if looks_like_login(body):
        raise SessionLost(strip_tags(body), login=True)
    m = _ERROR_BOX.match(body)
    return m is None or _RUNNING.search(m.group("msg")) is not None


def loan_codes(text: str) -> set[str] | None:
    """Item codes from the loan report's spreadsheet export (tab-separated); None if not one."""
    loans = loan_dues(text)
    return None if loans is None else set(loans)


#: Headers of the loan report's due-date column (English and Indonesian installs: SLiMS
#: translates "Due Date" as "Tanggal Kembali"; the export has no return-date column).
_DUE_HEADER = re.compile(r"due|kembali|jatuh tempo|batas", re.I)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def loan_dues(text: str) -> dict[str, str] | None:
    """Item code → due date (``YYYY-MM-DD``; "" if unreadable) from the loan report's export.

    None if the text is not that spreadsheet (tab-separated with a header). The
    report lists Loan Date before Due Date; the due column is found by its
    header in either language.
    """
    lines = text.splitlines()
    if not lines or "\t" not in lines[0]:
        return None
    head = lines[0].split("\t")
    col = next(
        (i for i, h in enumerate(head) if "code" in h.casefold() or "kode" in h.casefold()),
        2,
    )
    due = next((i for i, h in enumerate(head) if _DUE_HEADER.search(h)), None)
    out: dict[str, str] = {}
    for line in lines[1:]:
        f = line.split("\t")
        if len(f) > col and (code := f[col].strip()):
            day = f[due].strip()[:10] if due is not None and len(f) > due else ""
            out[code] = day if _ISO_DAY.fullmatch(day) and day != "0000-00-00" else ""
    return out
