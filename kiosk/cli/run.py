"""``kiosk run``: the daemon."""

from __future__ import annotations

import argparse
import gc
import logging
import queue
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

from kiosk.cli.common import load_config
from kiosk.control import ControlServer, Handler
from kiosk.store import Store
from kiosk.systemd import Notifier

if TYPE_CHECKING:
    from kiosk.daemon import Daemon

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run the scanning daemon",
        description="Read scanners, decide a verdict per scan, store it, give feedback. "
        "SIGTERM/SIGINT stop it; SIGUSR1 asks it to sync (as its sync button does).",
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
    # What start-up makes (modules, the catalogue's index, the scan summaries)
    # lives as long as the daemon: collecting garbage meanwhile only walks it
    # again and again. Once the cart is built it is frozen out of every later
    # collection, and collecting resumes for what the scan loop makes.
    gc.disable()
    try:
        from kiosk import app  # noqa: PLC0415  (after the line above: start-up is mostly imports)

        cfg = load_config(args)
        if not args.verbose:
            logging.getLogger().setLevel(cfg.log_level.upper())
        simulate = app.simulated(cfg, args.simulate)
        signals = Signals()
        signals.install()  # before the lock: from then on others may take us for the daemon
        with Store.open(cfg.state_path) as store:
            log.info("store %s open; building the cart", cfg.state_path)
            out = sys.stdout if args.json else None
            daemon = app.build_cart(cfg, store, simulate=simulate, out=out, notify=Notifier())
            gc.freeze()
            gc.enable()
            signals.attach(daemon)
            with ControlServer(cfg.state_path, answer_requests(daemon)):
                return daemon.run()
    finally:
        gc.enable()


class Signals:
    """The daemon's signal handlers, in place before the store lock is taken.

    A SIGTERM or SIGUSR1 that comes while the cart is still being built (the
    catalogue loading on a Pi Zero) is remembered and acted on once the
    daemon exists, instead of killing it by the default action.
    """

    def __init__(self) -> None:
        self._daemon: Daemon | None = None
        self._stop = False
        self._sync = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGUSR1, self._on_sync)

    def attach(self, daemon: Daemon) -> None:
        self._daemon = daemon
        if self._stop:
            daemon.stop()
        if self._sync:
            daemon.request_sync()

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        if self._daemon is None:
            self._stop = True
        else:
            self._daemon.stop()

    def _on_sync(self, _signum: int, _frame: FrameType | None) -> None:
        if self._daemon is None:
            self._sync = True
        else:
            self._daemon.request_sync()


def answer_requests(daemon: Daemon) -> Handler:
    """The control socket's answers: ``sync`` runs the cart's sync and reports it."""

    def answer(request: dict[str, Any], wait: float) -> dict[str, Any]:
        if request.get("cmd") == "session":
            return _session(daemon, str(request.get("name") or ""), wait)
        if request.get("cmd") != "sync":
            return {"event": "failed", "error": f"unknown request {request.get('cmd')!r}"}
        worker = daemon.sync
        if worker is None:
            return {"event": "failed", "error": "this daemon runs without a sync worker"}
        if wait <= 0:
            daemon.request_sync()
            return {"event": "asked"}
        outcome = worker.sync_and_wait(daemon.request_sync, wait)
        if outcome is None:
            if worker.closed:
                return {"event": "failed", "error": "the daemon is stopping"}
            return {"event": "timeout"}
        result, error = outcome
        if error is not None or result is None:
            return {"event": "failed", "error": error or "the sync ended without a result"}
        return {"event": "done", "result": result.to_dict()}

    return answer


def _session(daemon: Daemon, name: str, wait: float) -> dict[str, Any]:
    """``kiosk session new`` while the daemon owns the store: the scan loop starts it."""
    if not name.strip():
        return {"event": "failed", "error": "a session needs a name"}
    try:
        got = daemon.new_session(name).get(timeout=max(wait, 1.0))
    except queue.Empty:
        return {"event": "timeout"}
    if isinstance(got, str):
        return {"event": "failed", "error": got}
    return {"event": "done", "archived": got[0], "session": got[1]}
