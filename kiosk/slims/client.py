"""What the kiosk asks of SLiMS: stock-take verdicts, uploads, lists, the item export.

Each operation posts the same form a librarian's browser would, over an
:class:`~kiosk.slims.session.AdminSession` (which logs in and retries), and
hands the answer to :mod:`kiosk.slims.pages` to read. This module only knows
which page to ask and what to do with the reading.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.exc import (
    CatalogError,
    SlimsError,
    SlimsForbidden,
    SlimsNoStockTake,
    SlimsProtocolError,
    SlimsUnreachable,
)
from kiosk.models import Item, SyncOutcome
from kiosk.slims.admin_pages import (
    ITEM_STATUS,
    ST_HISTORY,
    ST_REPORT,
    ST_REPORT_QUERY,
    ItemStatus,
    StockTakeIdentity,
    running_stocktake,
    status_codes,
    status_rules,
    stocktake_identity,
)
from kiosk.slims.export import ExportReport, parse_export
from kiosk.slims.pages import (
    ACTION,
    CURRENT,
    EXPORT,
    INIT,
    LOAN_HISTORY,
    SLIMSINFO,
    UPLOAD,
    UPLOAD_CODE,
    XLS_OUTPUT,
    SessionLost,
    UnknownMessage,
    choose_option,
    classify_action,
    first_column,
    init_allowed,
    init_error,
    is_error_box,
    loan_dues,
    looks_like_login,
    page_count,
    raise_error_box,
    read_generator,
    read_version,
    select_options,
    sort_field,
    strip_tags,
    upload_count,
    upload_file_bytes,
)
from kiosk.slims.session import AdminSession

__all__ = ["SlimsClient", "SlimsProbe", "StockTakeInfo"]

#: Words of SLiMS's "not enough privileges" box (English, Indonesian).
_NO_RIGHTS = re.compile(r"privilege|hak akses|not authorized|wewenang", re.I)

log = logging.getLogger(__name__)

#: Separator and encloser asked of the item export: ASCII unit and record
#: separators, which never occur in catalogue data.
EXPORT_SEP, EXPORT_ENC = "\x1f", "\x1e"


@dataclass(frozen=True)
class StockTakeInfo:
    """The active stock take as seen from ``current.php`` (and its report, for the identity)."""

    active: bool
    #: Its name and start time, when asked for (:meth:`SlimsClient.stocktake_info`).
    identity: StockTakeIdentity | None = None


@dataclass(frozen=True)
class SlimsProbe:
    """What ``kiosk doctor`` learns of a SLiMS by reading, never posting: nothing changes."""

    version: str  # "9.7.0"; the product name ("SLiMS 9 (Bulian)") if no release shows; ""
    login_style: str  # "redirect" (9.5.2 on) or "script" (up to 9.5.1)
    may_scan: bool  # Stock Take read and write: sync works
    stocktake_active: bool | None  # None: unknown without Stock Take rights
    may_pull: bool  # Bibliography read: the catalogue pull works
    may_init: bool  # SLiMS's first admin: may start a stock take
    may_read_rules: bool = False  # Master File read and write: the statuses' skip rules
    may_read_loans: bool = False  # Reporting read: due dates of on-loan books


class SlimsClient(AdminSession):
    """One logged-in conversation with one SLiMS, and the operations the kiosk needs."""

    def __repr__(self) -> str:
        return f"SlimsClient({self.base!r}, user={self.username!r})"

    # -- stock take -------------------------------------------------------------
    def action(self, item_code: str) -> SyncOutcome:
        """Send one scanned item code to the active stock take; return SLiMS's verdict.

        An error message in an unknown language is resolved without words by
        looking the code up in the stock take's found and on-loan lists.
        """
        if not item_code.strip():
            raise ValueError("an empty item code cannot be sent to SLiMS")

        sent = 0  # times the code went out, over a re-login too: SLiMS may have taken it

        def call() -> SyncOutcome:
            nonlocal sent
            resp = self.request("POST", ACTION, data={"itemCode": item_code})
            sent += self.last_attempts
            self.last_attempts = sent
            body = resp.text
            if resp.status_code != 200:
                raise SlimsProtocolError(f"{ACTION} answered HTTP {resp.status_code}")
            raise_error_box(body, self.base)
            return classify_action(body)

        # SLiMS checks no active stock take here (a finished one's list still
        # answers), so callers check current_stocktake() before a run.
        try:
            return self.with_session(call)
        except UnknownMessage as e:
            return self._probe(item_code, e.text)

    def _probe(self, code: str, text: str) -> SyncOutcome:
        log.warning("unknown SLiMS stock-take message %r; checking %s in the lists", text, code)
        for view, outcome in (("e", SyncOutcome.ALREADY_SCANNED), ("l", SyncOutcome.ON_LOAN)):
            listed = self.stocktake_codes(view, keywords=code.strip())
            if code.strip().casefold() in {c.casefold() for c in listed}:
                return outcome
        # Neither found nor on loan: not in the stock take (a skip rule looks the same).
        return SyncOutcome.NOT_IN_STOCKTAKE

    def in_stocktake(self, code: str) -> bool:
        """Whether the active stock take holds ``code`` (missing, found or on loan)."""
        wanted = code.strip().casefold()
        for view in ("m", "e", "l"):
            listed = self.stocktake_codes(view, keywords=code.strip())
            if wanted in {c.casefold() for c in listed}:
                return True
        return False

    def upload(self, codes: Sequence[str], *, name: str = "kiosk.txt") -> int:
        """Upload codes as a stock-take file; return how many SLiMS newly marked found."""
        bad = [c for c in codes if not UPLOAD_CODE.match(c)]
        if bad:
            raise ValueError(f"codes not allowed in an upload file: {bad[:5]}")
        payload = upload_file_bytes(codes)

        def call() -> int:
            resp = self.request(
                "POST",
                UPLOAD,
                data={"stUpload": "Upload File"},
                files={"stFile": (name, payload, "text/plain")},
            )
            if resp.status_code != 200:
                raise SlimsProtocolError(f"{UPLOAD} answered HTTP {resp.status_code}")
            return upload_count(resp.text, self.base)

        return self.with_session(call)

    def current_stocktake(self) -> StockTakeInfo:
        """Whether a stock take is active in SLiMS."""

        def call() -> StockTakeInfo:
            try:
                raise_error_box(self.get_page(CURRENT, params={"view": "l"}), self.base)
            except SlimsNoStockTake:
                return StockTakeInfo(active=False)
            return StockTakeInfo(active=True)

        return self.with_session(call)

    def stocktake_info(self) -> StockTakeInfo:
        """Whether a stock take is active, and which one (name and start time).

        Read from the stock-take history list (the newest row, while it has no
        end), which needs only the stock-take read right and is cheap; the
        report page, which counts the whole stock take, only if that list
        cannot be read. A sync looks at this before and during its run.
        """

        def call() -> StockTakeInfo:
            body = self.get_page(ST_HISTORY)
            raise_error_box(body, self.base)
            try:
                identity = running_stocktake(body)
            except ValueError:
                if looks_like_login(body):
                    raise SessionLost(strip_tags(body), login=True) from None
                return self._stocktake_from_report()
            return StockTakeInfo(active=identity is not None, identity=identity)

        return self.with_session(call)

    def _stocktake_from_report(self) -> StockTakeInfo:
        body = self.get_page(ST_REPORT, params=ST_REPORT_QUERY)
        try:
            raise_error_box(body, self.base)
        except SlimsNoStockTake:
            return StockTakeInfo(active=False)
        identity = stocktake_identity(body)
        if identity is None:
            if looks_like_login(body):
                raise SessionLost(strip_tags(body), login=True)
            raise SlimsProtocolError(
                f"{ST_REPORT} did not name the active stock take: {strip_tags(body)[:160]!r}"
            )
        return StockTakeInfo(active=True, identity=identity)

    def item_statuses(self) -> list[ItemStatus]:
        """SLiMS's item statuses with their "Skipped By Stock Take" rule.

        The list comes from Master File → Item Status and each rule from the
        status's own form, which SLiMS shows to users who may edit master
        files; others get :class:`SlimsForbidden`.
        """

        def listing() -> list[str]:
            codes: list[str] = []
            page, pages = 1, 1
            while page <= pages:
                body = self.get_page(ITEM_STATUS, params={"page": page})
                _refused(body, self.base, self.username)
                pages = page_count(body) if page == 1 else pages
                codes.extend(status_codes(body))
                page += 1
            return codes

        def rules(code: str) -> ItemStatus:
            # As SLiMS's edit link does: the same fields in the address and the form.
            fields = {"itemID": code, "detail": "true"}
            resp = self.request("POST", ITEM_STATUS, params=fields, data=fields)
            body = resp.text
            _refused(body, self.base, self.username)
            status = status_rules(body)
            if status is None:
                raise SlimsProtocolError(
                    f"{ITEM_STATUS} showed no rules for status {code!r}: {strip_tags(body)[:160]!r}"
                )
            return status

        codes = self.with_session(listing)
        return [self.with_session(functools.partial(rules, code)) for code in codes]

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
                body = self.get_page(CURRENT, params={**params, **order})
                raise_error_box(body, self.base)
                return body

            body = self.with_session(call)
            if page == 1:
                pages = page_count(body)
                field = sort_field(body)
                if field and pages > 1:
                    order.update(datatablefld=field, dir="ASC")
                    body = self.with_session(call)  # page 1 again, now in that order
            codes.extend(first_column(body))
            page += 1
        return codes

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
            body = self.get_page(INIT, params={"skip_backup": "1"})
            if is_error_box(body):
                raise init_error(strip_tags(body), self.username)
            return select_options(body)

        options = self.with_session(form)
        data = {
            "name": name,
            "gmdID": choose_option(options, "gmdID", gmd),
            "collTypeID": choose_option(options, "collTypeID", coll_type),
            "location": choose_option(options, "location", location),
            "itemSite": site,
            "classification": classification,
            "saveData": "Initialize Stock Take",
        }

        def post() -> None:
            resp = self.request("POST", INIT + "?action=new", data=data)
            body = resp.text
            if "mod=stock_take" in body and "location.href" in body:
                return
            if is_error_box(body) or looks_like_login(body):
                raise init_error(strip_tags(body), self.username)
            raise SlimsError(f"SLiMS did not start the stock take: {strip_tags(body)[:200]!r}")

        self.with_session(post)

    # -- what this SLiMS is and allows ------------------------------------------------
    def version(self) -> str:
        """The release SLiMS names on its public about page (``9.4.2``), else its product name.

        Needs no login. ``""`` when neither shows (a heavily customised OPAC).
        """
        resp = self.request("GET", SLIMSINFO)
        if resp.status_code != 200:
            return ""
        return read_version(resp.text) or read_generator(resp.text) or ""

    def probe(self) -> SlimsProbe:
        """Log in and find out, by opening pages only, what this user may do here."""
        version = self.version()
        self.login()
        try:
            active: bool | None = self.current_stocktake().active
            may_scan = True
        except SlimsForbidden:
            active, may_scan = None, False

        def pull() -> bool:
            return not is_error_box(self.get_page(EXPORT))

        def init() -> bool:
            return init_allowed(self.get_page(INIT, params={"skip_backup": "1"}))

        def readable(read: Callable[[], object]) -> bool:
            try:
                read()
            except (SlimsForbidden, SlimsProtocolError):
                return False
            return True

        may_pull = self.with_session(pull)
        may_init = may_scan and self.with_session(init)
        rules, loans = readable(self.item_statuses), readable(self.loans_from_reports)
        return SlimsProbe(
            version, self.login_style, may_scan, active, may_pull, may_init, rules, loans
        )

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
        follows the parse. The total comes from SLiMS's public item count and is
        kept in ``report.expected``, so that
        :func:`~kiosk.slims.export.check_complete` can tell a cut-off download
        (the export is sent without a Content-Length) from a whole one.
        """

        def call() -> bytes:
            resp = self.request(
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
            # Not the export: SLiMS's own page. Look at all of it (a login form's
            # markers can come after a long page head), not just its first line.
            page = body[:65536].decode("utf-8", "replace")
            head = page[:400]
            if is_error_box(head) or looks_like_login(page):
                raise SessionLost(strip_tags(head), login=looks_like_login(page))
            raise CatalogError(
                f"SLiMS at {self.base} exported no items: {strip_tags(head)[:160]!r}"
            )

        report = report if report is not None else ExportReport()
        total = report.expected = self.api_total("all")
        if on_progress is None:
            return parse_export(self.with_session(call), report=report)
        on_progress(0, total)
        body = self.with_session(call)
        return parse_export(body, report=report, on_row=lambda n: on_progress(n, total))

    def api_total(self, what: str) -> int | None:
        """SLiMS's public item counts (``all``, ``lent``, ``available``); None if absent."""
        try:
            resp = self.request("GET", f"index.php?p=api/item/total/{what}")
            n = int(resp.json()["data"]) if resp.status_code == 200 else None
        except (SlimsUnreachable, ValueError, KeyError, TypeError):
            return None
        return n if n is None or n >= 0 else None

    def loan_codes_from_reports(self) -> set[str]:
        """Codes on loan from Reporting → Loan History (needs Reporting rights)."""
        return set(self.loans_from_reports())

    def loans_from_reports(self) -> dict[str, str]:
        """Open loans from Reporting → Loan History: code → due date (needs Reporting rights).

        The only place with due dates (the stock take's list has none), and the
        list of loans when no stock take is active: the report's spreadsheet
        export (``xlsoutput.php``, tab-separated text) lists every open loan at once.
        """

        def call() -> dict[str, str]:
            body = self.get_page(
                LOAN_HISTORY,
                params={"reportView": "true", "loanStatus": "0", "recsEachPage": "200"},
            )
            if is_error_box(body):
                raise SessionLost(strip_tags(body))
            resp = self.request("GET", XLS_OUTPUT)
            text = resp.content.decode("utf-8", "replace")
            loans = loan_dues(text) if resp.status_code == 200 else None
            if loans is None:
                raise SlimsProtocolError(f"{XLS_OUTPUT} gave no loan list")
            return loans

        return self.with_session(call, rights="read for Reporting")


def _refused(body: str, base: str, user: str) -> None:
    """Raise for a lost session or missing rights on a master-file page."""
    if is_error_box(body):
        if _NO_RIGHTS.search(body):
            raise SlimsForbidden(
                f"SLiMS user {user!r} may not read item statuses at {base} (Master File rights)"
            )
        raise SessionLost(strip_tags(body))
    if looks_like_login(body):
        raise SessionLost(strip_tags(body), login=True)
