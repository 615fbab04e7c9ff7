"""``kiosk catalog pull`` / ``kiosk catalog import FILE``: load the item list.

Both replace the whole catalogue in the store: a pull fetches SLiMS's item
export and the active stock take's on-loan list; an import reads the same
export saved by hand from SLiMS (Bibliography → Item Export).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kiosk.cli.common import load_config, print_json
from kiosk.config import Config, slims_environment
from kiosk.exc import CatalogError, SlimsForbidden, SlimsNoStockTake, SlimsProtocolError
from kiosk.models import Item
from kiosk.slims.export import ExportReport, read_export_file
from kiosk.store import Store
from kiosk.textfmt import parse_day

if TYPE_CHECKING:
    from kiosk.slims.client import SlimsClient

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


def cmd_import(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    report = ExportReport()
    items = read_export_file(args.file, report=report)
    on_loan: dict[str, str] = {}
    if args.on_loan:
        try:
            with open(args.on_loan, encoding="utf-8") as f:
                rows = [line.split() for line in f if line.strip()]
        except OSError as e:
            raise CatalogError(f"cannot read on-loan list {args.on_loan}: {e.strerror}") from None
        # "CODE" or "CODE DUE-DATE" (YYYY-MM-DD) a line.
        on_loan = {r[0]: r[1] if len(r) > 1 and parse_day(r[1]) else "" for r in rows}
    return _store(cfg, items, on_loan, report, source=f"import:{args.file}", as_json=args.json)


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
        items = list(
            client.export_items(
                report=report, on_progress=lambda got, total: bar.show("items", got, total)
            )
        )
        bar.show("on loan", 0, None)
        on_loan = _on_loan(client)
    bar.done()
    log.info("pulled %d items in %.2f s", len(items), time.perf_counter() - t0)
    return _store(cfg, items, on_loan, report, source=f"slims:{client.base}", as_json=args.json)


def _on_loan(client: SlimsClient) -> dict[str, str]:
    """On-loan codes → due date: the active stock take's list, else the loan report.

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
            return {}
        log.warning("on-loan items have no due date: SLiMS's loan report gave none (%s)", e)
        dues = {}
    loans = dues if codes is None else {c: dues.get(c, "") for c in codes}
    lent = client.api_total("lent")
    if lent is not None and lent != len(loans):
        log.warning(
            "SLiMS counts %d open loans, the kiosk got %d on-loan codes "
            "(loans outside the stock take's scope are not listed)",
            lent,
            len(loans),
        )
    return loans


def _store(
    cfg: Config,
    items: list[Item],
    on_loan: Mapping[str, str],
    report: ExportReport,
    *,
    source: str,
    as_json: bool,
) -> int:
    if not items:
        raise CatalogError("the export holds no items; the catalogue was left unchanged")
    folded = {c.casefold(): due for c, due in on_loan.items()}
    items = [
        dataclasses.replace(it, on_loan=True, due=folded[it.code.casefold()])
        if it.code.casefold() in folded
        else it
        for it in items
    ]
    loaned = sum(1 for it in items if it.on_loan)
    with Store.open(cfg.state_path) as store:
        count = store.replace_catalog(items, source=source)
    summary = {
        "items": count,
        "on_loan": loaned,
        "rows": report.rows,
        "skipped": report.skipped,
        "duplicates": report.duplicates,
        "problems": report.problems,
        "source": source,
    }
    if as_json:
        print_json(summary)
    else:
        print(f"catalogue: {count} items ({loaned} on loan) from {source}")
        if report.skipped or report.duplicates:
            print(f"skipped {report.skipped} unreadable rows, {report.duplicates} repeated codes:")
            for p in report.problems:
                print(f"  {p}")
    return 0


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
