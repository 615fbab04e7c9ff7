"""``kiosk screens --out DIR``: render every OLED screen in both languages to PNG.

For people (the gallery in docs/screens/, enlarged 4x) and for the tests (the
reference images in tests/reference/, at the panel's own 128x64: ``--scale 1``).
No configuration or hardware is needed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kiosk.cli.common import print_json
from kiosk.feedback.gallery import write_all
from kiosk.feedback.i18n import LANGUAGES


def register(sub: Any) -> None:
    p = sub.add_parser(
        "screens",
        help="render every OLED screen to PNG files",
        description="Render every OLED screen (English and Indonesian) to DIR/<lang>-<screen>.png.",
    )
    p.add_argument("--out", metavar="DIR", required=True, type=Path, help="output directory")
    p.add_argument(
        "--scale",
        type=int,
        default=4,
        choices=range(1, 17),
        metavar="N",
        help="enlarge N times, nearest neighbour (default 4; 1 = panel pixels, for tests)",
    )
    p.add_argument(
        "--language",
        choices=(*LANGUAGES, "all"),
        default="all",
        help="only this language (default: all)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    languages = LANGUAGES if args.language == "all" else (args.language,)
    written = write_all(args.out, scale=args.scale, languages=languages)
    print_json({"out": str(args.out), "scale": args.scale, "files": [p.name for p in written]})
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the verb on its own (``python -m kiosk.cli.screens``)."""
    parser = argparse.ArgumentParser(prog="kiosk")
    register(parser.add_subparsers(dest="verb", required=True))
    args = parser.parse_args(["screens", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
