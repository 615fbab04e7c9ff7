"""``kiosk commands``: print the sheet of command barcodes."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kiosk.cli.common import cannot_write, load_config
from kiosk.cli.texts import say
from kiosk.exc import StoreError
from kiosk.feedback.patterns import with_overrides
from kiosk.printing import card
from kiosk.printing.sheet import build_sheet, write_sheet
from kiosk.store import Store

log = logging.getLogger(__name__)

#: The sounds-and-lights card, written beside the command sheet.
CARD_FILE = "sounds-and-lights.html"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "commands",
        help="write a printable sheet of command barcodes",
        description="Undo, new shelf run, sync, no-label, pause/resume and one code per "
        "location, as Code 128 barcodes: commands.html (print it) plus one PNG per code; "
        "and sounds-and-lights.html, the card saying what each sound and light means.",
    )
    p.add_argument("--out", type=Path, required=True, help="folder to write the sheet into")
    p.add_argument("--language", choices=("en", "id"), help="default: [report] language")
    p.add_argument(
        "--location",
        action="append",
        default=[],
        metavar="NAME",
        help="add a location code (repeatable); catalogue locations are added too",
    )
    p.set_defaults(func=cmd_commands)


def catalogue_locations(state_dir: Path) -> list[str]:
    """Locations of the stored catalogue, or none when nothing is stored yet."""
    if not state_dir.is_dir():
        return []
    try:
        with Store.open_readonly(state_dir) as store:
            return sorted({it.location for it in store.catalog().values()})
    except StoreError as e:
        log.warning("catalogue locations left out: %s", e)
        return []


def cmd_commands(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    wanted = [" ".join(n.split()) for n in args.location]
    sheet = build_sheet(
        cfg.stocktake.command_prefix,
        locations=[*wanted, *catalogue_locations(cfg.state_path)],
        language=args.language or cfg.report.language,
        max_length=cfg.scanner.max_length,
    )
    lang = sheet.language
    for problem in sheet.problems:
        print(f"kiosk: {say(lang, 'commands.left_out', problem=problem)}", file=sys.stderr)
    # The card describes this cart's own patterns and buzzer, overrides included.
    patterns = with_overrides(cfg.buzzer.patterns, cfg.leds.patterns)
    pitched = cfg.buzzer.kind == "passive"
    muted = cfg.buzzer.kind == "none" or cfg.buzzer.mute or cfg.buzzer.volume <= 0
    rows = card.build_card(
        patterns, sheet.language, pitched=pitched, screen_language=cfg.display.language
    )
    sheet.appendix = card.render_card(rows, sheet.language, pitched=pitched, muted=muted)
    page = args.out / CARD_FILE
    try:
        paths = write_sheet(sheet, args.out)
        page.write_text(
            card.render_page(rows, sheet.language, pitched=pitched, muted=muted), "utf-8"
        )
    except OSError as e:
        raise cannot_write("the command sheet", args.out, e, folder=True) from None
    written = {"n": len(sheet.codes), "out": args.out, "file": paths[0].name}
    print(say(lang, "commands.written", **written))
    print(say(lang, "commands.card", page=page.name, sheet=paths[0].name))
    printed = {c.arg for c in sheet.locations}
    return 1 if any(n and n not in printed for n in wanted) else 0
