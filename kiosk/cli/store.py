"""``kiosk store recover``: rebuild the most complete store from what is left after damage."""

from __future__ import annotations

import argparse

from kiosk.cli.common import load_config
from kiosk.exc import StoreError
from kiosk.store import exclusive
from kiosk.store.recover import recover


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "store",
        help="repair the scan store",
        description="Repairs of the scan store. Stop the daemon first.",
    )
    verbs = p.add_subparsers(dest="store_verb", metavar="ACTION", required=True)
    r = verbs.add_parser(
        "recover",
        help="rebuild the store from every copy left after damage",
        description="Read the current scan store and every damaged copy set aside earlier "
        "(*.corrupt-*), keep each scan's newest readable version, and say what is lost. "
        "The files it reads are kept in a recovered-* folder.",
    )
    r.add_argument("--dry-run", action="store_true", help="only say what would be recovered")
    r.set_defaults(func=cmd_recover)


def cmd_recover(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    with exclusive(cfg.state_path):  # refuses while the daemon holds the store
        try:
            rep = recover(cfg.state_path, dry_run=args.dry_run)
        except OSError as e:
            raise StoreError(f"recovery stopped, nothing was removed: {e.strerror or e}") from e
    for line in rep.lines():
        print(line)
    if args.dry_run:
        print("dry run: nothing was changed")
    return 1 if rep.missing else 0
