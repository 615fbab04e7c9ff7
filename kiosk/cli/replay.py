"""``kiosk replay FILE…``: decode raw input_event captures as the daemon would.

Turns a capture from a library (``cat /dev/input/eventN > file`` or
``kiosk devices --record``) into the barcodes it holds, using the
configuration's layout, terminators, timeout and stripping rules, so a
"the cart read the wrong code" report can be checked without the cart.
"""

from __future__ import annotations

import argparse
import sys

from kiosk.cli.common import load_config, print_json
from kiosk.exc import CaptureError
from kiosk.scanner import capture
from kiosk.scanner.decode import Decoder, iter_decoded
from kiosk.scanner.keymaps import LAYOUTS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "replay",
        help="decode raw input-event captures into barcodes",
        description=(
            "Decode captures of kernel input_event records (64-bit 24-byte or 32-bit "
            "16-byte layout, detected) with the configured scanner settings and print "
            "one barcode per line. Problems go to standard error."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="raw capture file(s)")
    p.add_argument("--json", action="store_true", help="one JSON object per barcode")
    p.add_argument(
        "--bits",
        choices=("auto", "64", "32"),
        default="auto",
        help="record layout of the capture (default: detect)",
    )
    p.add_argument(
        "--layout", choices=sorted(LAYOUTS), help="keyboard layout (default: scanner.layout)"
    )
    p.set_defaults(func=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    cfg = load_config(args).scanner
    if args.layout:
        cfg = cfg._replace(layout=args.layout)
    bits = None if args.bits == "auto" else int(args.bits)
    status = 0
    for path in args.files:
        try:
            data = capture.read_capture(path, bits)
        except CaptureError as e:
            print(f"kiosk: error: {e}", file=sys.stderr)
            status = 1
            continue

        def problem(message: str, path: str = path) -> None:
            print(f"kiosk: {path}: {message}", file=sys.stderr)

        decoder = Decoder.from_config(cfg, on_problem=problem)
        for index, (text, ts, aim) in enumerate(iter_decoded(data, decoder), 1):
            if args.json:
                print_json({"file": path, "index": index, "barcode": text, "ts": ts, "aim": aim})
            else:
                sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return status
