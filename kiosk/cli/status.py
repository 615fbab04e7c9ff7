"""``kiosk status``: counts per verdict, unsynced scans, catalogue size."""

from __future__ import annotations

import argparse

from kiosk.cli.common import load_config, print_json
from kiosk.cli.texts import say
from kiosk.store import Store
from kiosk.text import printable
from kiosk.textfmt import num


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "status", help="summarise the store", description="Counts per verdict and sync state."
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    with Store.open_readonly(cfg.state_path) as store:
        catalog = store.catalog_info()
        counts = store.counts()
        unsynced = store.pending_count()
        exported = store.exported_count()
        state = store.state()
        losses = store.losses()
    if args.json:
        print_json(
            {
                "state_dir": str(cfg.state_path),
                "catalog": catalog,
                "counts": counts,
                "unsynced": unsynced,
                "exported": exported,
                "state": state,
                "losses": [x.to_dict() for x in losses],
            }
        )
        return 0
    from kiosk.report.texts import TEXT  # noqa: PLC0415  (only the words)

    lang = cfg.report.language
    t = TEXT[lang]
    source = catalog.get("source") or say(lang, "status.no_source")
    print(say(lang, "status.state_dir", path=cfg.state_path))
    print(say(lang, "status.catalog", n=catalog["count"], source=source))
    print(say(lang, "status.where", location=state.get("location") or "-", run=state.get("run", 1)))
    print(say(lang, "status.scans", n=sum(counts.values())))
    for verdict, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {printable(t.get(f'v.{verdict}', verdict)):<26}{num(n, lang):>7}")
    print(say(lang, "status.unsynced", n=unsynced))
    if exported:
        print(say(lang, "status.exported", n=exported, path=cfg.exports_path))
    for loss in losses:
        print(f"DAMAGE: {printable(loss.line())}")
    if losses:
        print("run 'kiosk store recover' with the daemon stopped to rebuild what can be rebuilt")
    return 0
