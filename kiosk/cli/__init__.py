"""Command line: ``kiosk VERB``.

Each verb lives in its own module under ``kiosk.cli`` exposing
``register(subparsers)``; the handler is stored as ``func`` on the parsed
arguments and returns the exit status. Errors derived from
:class:`~kiosk.exc.KioskError` become one clear line on standard error.

Only the chosen verb's module is imported: the others (and what they import:
the store, the report, the display) would cost ``kiosk --version`` and every
``kiosk status`` most of a second on a Pi Zero. ``kiosk --help`` lists the
verbs from :data:`VERBS`, which a test keeps equal to the modules' own help.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from kiosk import __version__
from kiosk.exc import KioskError
from kiosk.systemd import JournalFormatter, under_journald
from kiosk.text import PrintableLog

#: Verb modules and their help lines, in the order ``kiosk --help`` lists them.
VERBS = {
    "run": "run the scanning daemon",
    "demo": "run a simulated stock-take day with the bundled sample library",
    "scans": "list stored scans",
    "status": "summarise the store",
    "store": "repair the scan store",
    "catalog": "load the catalogue (item list) from SLiMS or an export file",
    "session": "list the cart's stock takes, start a new one, archive the current one",
    "sync": "send found scans to SLiMS's active stock take (or write the upload file)",
    "report": "write the stock-take report",
    "commands": "write a printable sheet of command barcodes",
    "devices": "list input devices and which are read as scanners; record raw captures",
    "replay": "decode raw input-event captures into barcodes",
    "screens": "render every OLED screen to PNG files",
    "doctor": "check groups, devices, scanners, display, store, clock and SLiMS",
    "bench": "measure the kiosk on this machine",
}
#: Options before the verb that take a value (skipped when looking for the verb).
_VALUED = ("--config", "--state-dir")

log = logging.getLogger("kiosk")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given ``argv``, only its verb's module is imported."""
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
    chosen = None if argv is None else verb_of(argv)
    for name, help_line in VERBS.items():
        if argv is None or name == chosen:
            importlib.import_module(f"kiosk.cli.{name}").register(sub)
        else:
            sub.add_parser(name, help=help_line)
    return parser


def verb_of(argv: Sequence[str]) -> str | None:
    """The verb ``argv`` asks for, if any (the first word that is not a global option)."""
    args = iter(argv)
    for arg in args:
        if arg in _VALUED:
            next(args, None)
        elif arg == "--":
            return next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
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


def run() -> NoReturn:
    """The ``kiosk`` program: :func:`main`, then an exit without a last garbage collection.

    The interpreter's collection at exit walks every object the run made, only
    to free memory the system takes back anyway: 60–100 ms after ``kiosk
    status`` or a sync, more than some whole commands take. Nothing of kiosk's
    waits for it: the store writes unbuffered and syncs, and output and logs
    are flushed at exit as before.
    """
    status = main()
    gc.freeze()  # what is frozen is left out of every collection, the last one too
    raise SystemExit(status)


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
