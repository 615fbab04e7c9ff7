"""``kiosk catalog pull`` / ``kiosk catalog import FILE``: load the item list.

Both replace the whole catalogue in the store: a pull fetches SLiMS's item
export and the active stock take's on-loan list; an import reads the same
export saved by hand from SLiMS (Bibliography → Item Export).

Nothing is replaced until the new list is judged whole: a pull must bring as
many rows as SLiMS counts and end on a whole row, and most rows must be
readable. Otherwise the old catalogue stays, the reason is one line on
standard error, and the exit status is 1. The on-loan list is checked against
SLiMS's own count of open loans and against the catalogue.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.cli.common import load_config, print_json
from kiosk.cli.session import follow_stocktake
from kiosk.cli.texts import say
from kiosk.config import Config, slims_environment
from kiosk.engine.verdicts import DEFAULT_LOST
from kiosk.exc import (
    CatalogError,
    SlimsForbidden,
    SlimsNoStockTake,
    SlimsProtocolError,
    StoreError,
)
from kiosk.models import Item
from kiosk.slims.admin_pages import LOST_STATUS_CODE
from kiosk.slims.export import ExportReport, check_complete, decode_text, read_export_file
from kiosk.store import Store
from kiosk.text import printable
from kiosk.textfmt import parse_day

if TYPE_CHECKING:
    from kiosk.slims.client import SlimsClient, StockTakeInfo

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "catalog",
        help="load the catalogue (item list) from SLiMS or an export file",
        description="Replace the cart's catalogue with SLiMS's item list.",
    )
    verbs = p.add_subparsers(dest="catalog_verb", metavar="ACTION", required=True)
    imp = verbs.add_parser(
        "import",
        help="read an item export saved from SLiMS (Bibliography → Item Export)",
        description="Any separator/encloser chosen in SLiMS's export form works; "
        "the header row is optional.",
    )
    imp.add_argument("file", metavar="FILE", help="the exported .csv file")
    imp.add_argument(
        "--on-loan",
        metavar="FILE",
        help="optional text file of item codes currently on loan, one a line "
        "(optionally followed by the due date, YYYY-MM-DD)",
    )
    imp.add_argument("--json", action="store_true", help="machine-readable summary")
    imp.set_defaults(func=cmd_import)
    pull = verbs.add_parser(
        "pull",
        help="fetch the item list and on-loan items from SLiMS",
        description="Needs slims.url and credentials (or SLIMS_URL/SLIMS_USER/SLIMS_PASSWORD).",
    )
    pull.add_argument("--json", action="store_true", help="machine-readable summary")
    pull.add_argument("--no-progress", action="store_true", help="no progress bar")
    pull.set_defaults(func=cmd_pull)


@dataclass(frozen=True)
class _Loans:
    """On-loan codes with their due dates, where they came from, and SLiMS's count of loans."""

    dues: dict[str, str]  # item code -> due date (YYYY-MM-DD, "" when unknown)
    source: str  # "stock take", "loan report", "file" or "none"
    lent: int | None = None

    @property
    def codes(self) -> set[str]:
        return set(self.dues)


def cmd_import(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    report = ExportReport()
    try:
        items = read_export_file(args.file, report=report)
    except CatalogError as e:
        raise CatalogError(f"{e}; {_kept(cfg)}") from None
    _verify(cfg, report, items, whole_rows=False)
    loans = _Loans(_read_loans(Path(args.on_loan)), "file") if args.on_loan else _Loans({}, "none")
    return _store(cfg, items, loans, report, source=f"import:{args.file}", as_json=args.json)


def _read_loans(path: Path) -> dict[str, str]:
    """``CODE`` or ``CODE YYYY-MM-DD`` a line, in whatever encoding the file was saved."""
    try:
        text, _ = decode_text(path.read_bytes())
    except OSError as e:
        raise CatalogError(f"cannot read on-loan list {path}: {e.strerror}") from None
    except CatalogError as e:
        raise CatalogError(f"on-loan list {path}: {e}") from None
    rows = [line.split() for line in text.splitlines() if line.strip()]
    return {r[0]: r[1] if len(r) > 1 and parse_day(r[1]) else "" for r in rows}


def cmd_pull(args: argparse.Namespace) -> int:
    from kiosk.slims.connect import client_from_config  # noqa: PLC0415  (loads requests)

    cfg = load_config(args)
    client = client_from_config(cfg.slims, env=slims_environment())
    if client is None:
        raise CatalogError(
            "no SLiMS is configured (slims.url or SLIMS_URL); export the items in SLiMS and "
            "use `kiosk catalog import FILE` instead"
        )
    bar = _Bar(enabled=not args.no_progress and not args.json and sys.stderr.isatty())
    report = ExportReport()
    t0 = time.perf_counter()
    with client:
        try:
            items = list(
                client.export_items(
                    report=report, on_progress=lambda got, total: bar.show("items", got, total)
                )
            )
        finally:
            bar.done()
        _verify(cfg, report, items, whole_rows=True)
        if report.expected is None:
            log.warning(
                "SLiMS did not say how many items it holds (api/item/total/all); the pull "
                "was checked for a cut-off row only"
            )
        bar.show("on loan", 0, None)
        try:
            loans = _on_loan(client)
        finally:
            bar.done()
        statuses = _statuses(client, items)
        try:
            stocktake: StockTakeInfo | None = client.stocktake_info()
        except (SlimsForbidden, SlimsProtocolError) as e:
            log.warning("cannot tell which stock take SLiMS runs (%s); the session is kept", e)
            stocktake = None
    log.info("pulled %d items in %.2f s", len(items), time.perf_counter() - t0)
    return _store(
        cfg,
        items,
        loans,
        report,
        source=f"slims:{client.base}",
        as_json=args.json,
        statuses=statuses,
        stocktake=stocktake,
    )


def _statuses(client: SlimsClient, items: list[Item]) -> dict[str, list[str]] | None:
    """The statuses SLiMS's stock take skips and the one it gives lost items, from SLiMS.

    None (with a warning) when SLiMS will not show them to this user: then
    only ``stocktake.excluded_statuses`` excludes anything, and SLiMS's own
    answer at sync time ("skipped by stock take") still keeps the count right.
    A rule the status form shows is checked against the active stock take.
    """
    try:
        statuses = client.item_statuses()
    except (SlimsForbidden, SlimsProtocolError) as e:
        log.warning(
            "cannot read SLiMS's item statuses (%s): the cart cannot tell which statuses the "
            "stock take skips; give the user Master File rights or set "
            "stocktake.excluded_statuses",
            e,
        )
        return None
    lost = [st.name for st in statuses if st.code.upper() == LOST_STATUS_CODE]
    skipped = [st.name for st in statuses if st.skip]
    held = _held_by_stocktake(client, items, skipped)
    return {
        "skipped": [name for name in skipped if name not in held],
        "lost": lost or list(DEFAULT_LOST),
    }


def _held_by_stocktake(client: SlimsClient, items: list[Item], skipped: list[str]) -> set[str]:
    """Statuses shown as skipped whose items the active stock take holds all the same.

    SLiMS 9.4 to 9.5 show "Skipped By Stock Take" checked on every status's
    form, whatever the rule says; their stock take holds "No Loan" and
    "Repair" items. One item of each status, looked up in the stock take,
    tells the truth on every release.
    """
    held: set[str] = set()
    for name in skipped:
        sample = next((it for it in items if it.status.casefold() == name.casefold()), None)
        if sample is None:
            continue  # no item has it: nothing to exclude either way
        try:
            if client.in_stocktake(sample.code):
                held.add(name)
        except SlimsNoStockTake:
            log.warning(
                "no active stock take to check SLiMS's skip rules against; SLiMS 9.4 to 9.5 "
                "show every rule set, so pull again once the stock take has started"
            )
            return held
    if held:
        log.info("SLiMS's stock take holds items of %s: they are counted", ", ".join(sorted(held)))
    return held


def _verify(cfg: Config, report: ExportReport, items: list[Item], *, whole_rows: bool) -> None:
    """Refuse an incomplete list before anything is replaced, saying what was kept."""
    try:
        check_complete(report, len(items), whole_rows=whole_rows)
    except CatalogError as e:
        again = "; pull again" if whole_rows else ""
        raise CatalogError(f"{e}; {_kept(cfg)}{again}") from None


def _kept(cfg: Config) -> str:
    try:
        with Store.open_readonly(cfg.state_path) as store:
            info = store.catalog_info()
    except StoreError:
        return "no catalogue was stored"
    if not info["count"]:
        return "no catalogue was stored"
    source = printable(str(info.get("source") or "unknown"))
    return f"the catalogue was left unchanged ({info['count']} items from {source})"


def _on_loan(client: SlimsClient) -> _Loans:
    """On-loan codes and due dates: the active stock take's list, else the loan report.

    Due dates are only in the loan report (Reporting rights); without them the
    loans are still marked, and the report says the due dates are missing.
    """
    try:
        codes: set[str] | None = client.on_loan_codes()
    except SlimsNoStockTake:
        codes = None
    try:
        dues = client.loans_from_reports()
    except (SlimsForbidden, SlimsProtocolError) as e:
        if codes is None:
            log.warning(
                "no active stock take, and user %r may not read SLiMS's loan report: "
                "on-loan items are not marked in the catalogue",
                client.username,
            )
            return _Loans({}, "none", client.api_total("lent"))
        log.warning("on-loan items have no due date: SLiMS's loan report gave none (%s)", e)
        dues = {}
    if codes is None:
        return _Loans(dues, "loan report", client.api_total("lent"))
    return _Loans({c: dues.get(c, "") for c in codes}, "stock take", client.api_total("lent"))


def _reconcile(loans: _Loans, unknown: list[str]) -> None:
    """Say where the on-loan list and SLiMS's count of open loans disagree."""
    n = len(loans.codes)
    if loans.lent is not None and loans.source == "loan report" and n != loans.lent:
        log.warning(
            "SLiMS counts %d open loans but its loan report listed %d: %s",
            loans.lent,
            n,
            "items on loan may be reported missing" if n < loans.lent else "check the report",
        )
    elif loans.lent is not None and loans.source == "stock take" and n > loans.lent:
        log.warning(
            "the stock take lists %d items on loan but SLiMS counts only %d open loans "
            "(loans returned since the stock take began?)",
            n,
            loans.lent,
        )
    elif loans.lent is not None and loans.source == "stock take" and n < loans.lent:
        log.info(
            "SLiMS counts %d open loans, the stock take lists %d (loans outside its scope)",
            loans.lent,
            n,
        )
    if unknown:
        log.warning(
            "%d on-loan codes are not in the catalogue (first: %s)",
            len(unknown),
            ", ".join(sorted(unknown)[:5]),
        )


def _store(
    cfg: Config,
    items: list[Item],
    loans: _Loans,
    report: ExportReport,
    *,
    source: str,
    as_json: bool,
    statuses: dict[str, list[str]] | None = None,
    stocktake: StockTakeInfo | None = None,
) -> int:
    codes = {it.code.casefold() for it in items}
    folded = {c.casefold(): due for c, due in loans.dues.items()}
    unknown = [c for c in loans.dues if c.casefold() not in codes]
    _reconcile(loans, unknown)
    items = [
        it._replace(on_loan=True, due=folded[it.code.casefold()])
        if it.code.casefold() in folded
        else it
        for it in items
    ]
    loaned = sum(1 for it in items if it.on_loan)
    meta = {} if statuses is None else {"statuses": statuses}
    lang = cfg.report.language
    with Store.open(cfg.state_path) as store:
        count = store.replace_catalog(items, source=source, **meta)
        session = _follow(store, stocktake, lang)
    summary: dict[str, Any] = {
        "items": count,
        "on_loan": loaned,
        "rows": report.rows,
        "expected": report.expected,
        "encoding": report.encoding,
        "skipped": report.skipped,
        "duplicates": report.duplicates,
        "problems": report.problems,
        "on_loan_source": loans.source,
        "on_loan_listed": len(loans.codes),
        "on_loan_not_in_catalog": len(unknown),
        "lent_in_slims": loans.lent,
        "source": source,
        "statuses": statuses,
        "session": session,
    }
    if as_json:
        print_json(summary)
        return 0
    print(f"catalogue: {count} items ({loaned} on loan) from {printable(source)}")
    if report.expected is not None:
        print(f"checked: SLiMS counts {report.expected} items, the export brought {report.rows}")
    if report.encoding not in ("utf-8", "text"):
        print(f"read as {report.encoding} text")
    if report.skipped or report.duplicates:
        print(f"skipped {report.skipped} unreadable rows, {report.duplicates} repeated codes:")
        for p in report.problems:
            print(f"  {printable(p)}")
    if statuses is not None:
        skipped = ", ".join(statuses["skipped"]) or "-"
        print(f"SLiMS skips items with status: {printable(skipped)}")
        if cfg.stocktake.excluded_statuses:
            override = ", ".join(cfg.stocktake.excluded_statuses)
            print(f"  overridden by stocktake.excluded_statuses: {printable(override)}")
    if session["message"]:
        print(session["message"])
    return 0


def _follow(store: Store, stocktake: StockTakeInfo | None, lang: str) -> dict[str, Any]:
    """Keep the cart's session on SLiMS's active stock take (a pull only; an import cannot)."""
    message = ""
    if stocktake is not None and stocktake.identity is not None:
        message = follow_stocktake(store, stocktake.identity, lang)
    elif stocktake is not None:
        message = say(lang, "session.no_stocktake", id=store.current_session())
    return {"id": store.current_session(), "message": message}


class _Bar:
    """A one-line progress bar on standard error (only on a terminal)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._last = 0.0

    def show(self, what: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.1:
            return
        self._last = now
        if total:
            width = 30
            fill = int(width * min(done, total) / total)
            sys.stderr.write(
                f"\r{what:<9}[{'#' * fill}{'.' * (width - fill)}] {done * 100 // total:3d}%"
            )
        else:
            sys.stderr.write(f"\r{what:<9}{done:>8}" if done else f"\r{what:<9}...     ")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 50 + "\r")
            sys.stderr.flush()
