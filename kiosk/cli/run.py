"""``kiosk run``: the daemon."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from kiosk import app
from kiosk.cli.common import load_config
from kiosk.store import Store
from kiosk.systemd import Notifier

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run the scanning daemon",
        description="Read scanners, decide a verdict per scan, store it, give feedback.",
    )
    p.add_argument(
        "--simulate",
        action="store_true",
        help="simulated hardware; read barcodes from standard input, one per line",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per scan on standard output, after it is stored",
    )
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    if not args.verbose:
        logging.getLogger().setLevel(cfg.log_level.upper())
    simulate = app.simulated(cfg, args.simulate)
    with Store.open(cfg.state_path) as store:
        out = sys.stdout if args.json else None
        daemon = app.build_cart(cfg, store, simulate=simulate, out=out, notify=Notifier())

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %d: stopping", signum)
            daemon.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGUSR1, lambda _n, _f: daemon.request_sync())
        return daemon.run()
