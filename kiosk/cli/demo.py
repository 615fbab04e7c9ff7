"""``kiosk demo``: the whole job on simulated hardware, no Pi and no SLiMS."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kiosk import config
from kiosk.cli.texts import say
from kiosk.report.texts import TEXT
from kiosk.textfmt import num


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="run a simulated stock-take day with the bundled sample library",
        description="Scan a sample shelf on simulated hardware, then sync to a file and report. "
        "Prints what the cart shows and sounds for each scan; with -v also the raw patterns.",
    )
    p.add_argument(
        "--out", type=Path, default=Path("demo-output"), help="output folder (default: %(default)s)"
    )
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from kiosk.cli.demo_day import run_demo  # noqa: PLC0415  (the sample library loads only here)

    cfg = config.load(args.config) if args.config else config.Config()
    if args.verbose:  # the raw patterns (``buzzer ok 40@2700~0.25``) beside the narration
        logging.getLogger("kiosk.feedback").setLevel(logging.DEBUG)
    result = run_demo(args.out, cfg)
    lang = cfg.report.language
    t = TEXT[lang]
    counts = ", ".join(
        f"{t.get(f'v.{v}', v)} {num(n, lang)}" for v, n in sorted(result.counts.items())
    )
    print()
    print(say(lang, "demo.verdicts", counts=counts))
    print(say(lang, "demo.outputs", out=result.out))
    print(f"  {result.upload_file.name:<24} {say(lang, 'demo.upload')}")
    print(f"  {result.report_html.name:<24} {say(lang, 'demo.html')}")
    print(f"  {result.report_json.name:<24} {say(lang, 'demo.json')}")
    print(f"  {result.frames.name + '/':<24} {say(lang, 'demo.frames')}")
    return 0
