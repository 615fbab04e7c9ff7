"""``kiosk report``: the stock-take report."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from kiosk import report
from kiosk.cli.common import cannot_write, load_config
from kiosk.config import Config, slims_environment
from kiosk.engine import Statuses
from kiosk.exc import ConfigError, SlimsNoStockTake
from kiosk.fileio import atomic_write
from kiosk.store import Store
from kiosk.text import printable

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="write the stock-take report",
        description="The work first (books to look at again, with where they belong), then "
        "the summary and the short lists, from the stored scans.",
    )
    p.add_argument(
        "--format",
        choices=report.FORMATS,
        help="default: from the --out file's ending (.html, .csv, .json, .txt), else text",
    )
    p.add_argument("--language", choices=("en", "id"), help="default: [report] language")
    p.add_argument(
        "--sections",
        type=_sections,
        default=report.DEFAULT_SECTIONS,
        metavar="LIST",
        help="comma-separated parts of the HTML and text report, or all: "
        f"{', '.join(report.SECTIONS)} (default: {','.join(report.DEFAULT_SECTIONS)}); "
        "CSV and JSON always hold every list",
    )
    p.add_argument("--out", type=Path, help="write to this file instead of standard output")
    p.add_argument(
        "--session",
        type=int,
        metavar="ID",
        help="the report of an earlier (archived) stock take; see `kiosk session list`",
    )
    p.add_argument(
        "--from-slims",
        action="store_true",
        help="merge what SLiMS holds from every cart (found, missing, on loan) into this "
        "cart's report: the whole library's stock take (needs SLiMS)",
    )
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    try:
        fmt = report.format_for(args.out, args.format)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    language = args.language or cfg.report.language
    with Store.open_readonly(cfg.state_path) as store:
        catalog = store.catalog()
        session = store.current_session() if args.session is None else args.session
        record = store.session(session)
        if not record:
            known = ", ".join(str(s["id"]) for s in store.sessions()) or "none"
            raise ConfigError(f"there is no session {session} (sessions: {known})")
        statuses = Statuses.resolve(
            cfg.stocktake.excluded_statuses, store.catalog_info().get("statuses")
        )
        holds = _from_slims(cfg, record) if args.from_slims else None
        losses = store.losses()
        rep = report.build(
            catalog,
            store.iter_scans(session=session),
            stocktake=_title(store, record),
            excluded_statuses=statuses.not_expected,
            slims=holds,
            damage=[report.DamageRow(x.what, x.lost, x.kept) for x in losses],
        )
    for loss in losses:  # in the report too; here for whoever writes it to a file
        print(f"kiosk: warning: store damage: {loss.line()}", file=sys.stderr)
    text = report.render(rep, catalog, fmt, language, args.sections)
    if args.out:
        # Whole or not at all: a report cut short by a full disk must not look finished.
        try:
            atomic_write(args.out, [text.encode("utf-8")], mode=0o644)
        except OSError as e:
            raise cannot_write("the report", args.out, e) from None
        written = report.TEXT[language]["written"]
        print(written.format(path=printable(str(args.out)), format=fmt), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _from_slims(cfg: Config, record: dict[str, Any]) -> report.SlimsHolds:
    """Every cart's work as SLiMS holds it: its stock take's found, missing and on-loan lists.

    Refused when SLiMS runs another stock take than the session's: the lists
    would belong to another count.
    """
    from kiosk.slims.admin_pages import StockTakeIdentity  # noqa: PLC0415  (loads requests)
    from kiosk.slims.connect import client_from_config  # noqa: PLC0415

    client = client_from_config(cfg.slims, env=slims_environment())
    if client is None:
        raise ConfigError("--from-slims needs SLiMS: set slims.url (or SLIMS_URL) and credentials")
    with client:
        info = client.stocktake_info()
        if not info.active or info.identity is None:
            raise SlimsNoStockTake(f"no stock take is active in SLiMS at {client.base}")
        tied = record.get("slims") or {}
        wanted = StockTakeIdentity(str(tied.get("name", "")), str(tied.get("started", "")))
        if tied and not wanted.same_as(info.identity):
            raise ConfigError(
                f"session {record['id']} is SLiMS's stock take {wanted}, but SLiMS now runs "
                f"{info.identity}: its lists are another count's"
            )
        lists = {view: client.stocktake_codes(view) for view in ("e", "m", "l")}
    log.info(
        "SLiMS holds %d found, %d missing, %d on loan",
        len(lists["e"]),
        len(lists["m"]),
        len(lists["l"]),
    )
    return report.SlimsHolds.of(info.identity.name, lists["e"], lists["m"], lists["l"])


def _title(store: Store, record: dict[str, Any]) -> str:
    """The stock take's name as SLiMS calls it, else the session's own name."""
    slims = record.get("slims") or {}
    if record["id"] == store.current_session() and not slims:
        return str(store.state().get("stocktake", "") or record.get("name", ""))
    return str(slims.get("name") or record.get("name", ""))


def _sections(spec: str) -> tuple[str, ...]:
    try:
        return report.parse_sections(spec)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
