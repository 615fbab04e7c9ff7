"""Command line: ``kiosk VERB``.

Each verb lives in its own module under ``kiosk.cli`` exposing
``register(subparsers)``; the handler is stored as ``func`` on the parsed
arguments and returns the exit status. Errors derived from
:class:`~kiosk.exc.KioskError` become one clear line on standard error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from kiosk import __version__
from kiosk.exc import KioskError
from kiosk.systemd import JournalFormatter, under_journald
from kiosk.text import PrintableLog

#: Verb modules, in the order ``kiosk --help`` lists them.
VERBS = (
    "run",
    "demo",
    "scans",
    "status",
    "store",
    "catalog",
    "session",
    "sync",
    "report",
    "commands",
    "devices",
    "replay",
    "screens",
    "doctor",
    "bench",
)

log = logging.getLogger("kiosk")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Stock-take scanning cart for SLiMS libraries.",
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: $KIOSK_CONFIG or /etc/kiosk/kiosk.toml)",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where scans and the catalogue are kept (default: $KIOSK_STATE_DIR or config)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for name in VERBS:
        importlib.import_module(f"kiosk.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return int(args.func(args))
    except KioskError as e:
        print(f"kiosk: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def setup_logging(verbosity: int) -> None:
    """Log to stderr; under systemd, with priorities journald understands."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(PrintableLog())  # scanned text never forges a line or moves the cursor
    if under_journald():
        handler.setFormatter(JournalFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
