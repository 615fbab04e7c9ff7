"""The one place that wires the cart together from its configuration.

Every stage below takes plain values or a small settings protocol; only this
module (and the CLI verbs that call it) turns a :class:`~kiosk.config.Config`
into scanners, feedback, a sync worker and the scan loop. ``kiosk run``, the
demo and the benchmarks all build their cart here, so they run the same thing.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from kiosk import config, feedback
from kiosk.config import Config
from kiosk.daemon import Daemon, Notify
from kiosk.engine import Statuses
from kiosk.exc import KioskError
from kiosk.models import Barcode
from kiosk.scanner import Source
from kiosk.scanner.stdin import StdinSource
from kiosk.store import Store
from kiosk.sync_worker import SyncWorker

log = logging.getLogger(__name__)


def simulated(cfg: Config, flag: bool = False) -> bool:
    """Simulated hardware: ``--simulate``, or ``hardware = "simulated"`` (``KIOSK_SIMULATE=1``)."""
    return flag or cfg.hardware == "simulated"


def build_sources(cfg: Config, *, simulate: bool) -> list[Source]:
    """Scanner sources for this run: stdin lines when simulated, evdev otherwise."""
    if simulate or cfg.scanner.backend == "stdin":
        return [StdinSource(sys.stdin, max_length=cfg.scanner.max_length)]
    from kiosk.scanner.evdev import EvdevSource  # noqa: PLC0415  (needs Linux evdev)

    return [EvdevSource.from_config(cfg.scanner, selectors=config.scanner_selectors(cfg.scanner))]


def with_page(
    cfg: Config,
    store: Store,
    fb: feedback.Feedback,
    submit: Callable[[Barcode], None],
    new_session: Callable[[str], object] | None = None,
) -> feedback.Feedback:
    """``fb`` with the cart's page listening beside it, serving on ``[web]`` address and port.

    A page that cannot start (address in use, a credentials file others can
    read) is logged and left out: the cart scans on without it.
    """
    from kiosk import web  # noqa: PLC0415 (only when the page is on)

    try:
        page = web.start(
            cfg.web,
            store,
            submit,
            credentials_file=cfg.slims.credentials_file,
            command_prefix=cfg.stocktake.command_prefix,
            excluded_statuses=Statuses.resolve(
                cfg.stocktake.excluded_statuses, store.catalog_info().get("statuses")
            ).not_expected,
            report_language=cfg.report.language,
            new_session=new_session,
        )
    except (OSError, KioskError) as e:
        log.error("the cart's page is off: %s", e)
        return fb
    return page.feedback(fb)


def build_cart(
    cfg: Config,
    store: Store,
    *,
    simulate: bool,
    sources: Sequence[Source] | None = None,
    out: TextIO | None = None,
    frames_dir: Path | None = None,
    notify: Notify | None = None,
) -> Daemon:
    """The whole cart on ``store``: scanners, buzzer/LEDs/OLED, sync worker and scan loop.

    ``sources`` replaces the configured scanners (the demo's scripted walk, a
    benchmark's pipe); ``out`` receives one JSON line per stored scan;
    ``frames_dir`` keeps every simulated OLED frame as a PNG.
    """
    daemon: Daemon | None = None

    def on_button(name: str) -> None:  # gpiozero's thread; may come before the daemon exists
        if daemon is not None:
            daemon.button(name)

    def submit(barcode: Barcode) -> None:  # the page's actions, as if scanned
        if daemon is not None:
            daemon.barcode(barcode)

    def new_session(name: str) -> None:  # the page's "new stock take", on the scan loop
        if daemon is not None:
            daemon.new_session(name)

    config.check_pins(cfg)  # two parts on one pin: refused before any is driven
    fb = feedback.build(cfg, simulate=simulate, frames_dir=frames_dir, on_button=on_button)
    if cfg.web.enabled:
        fb = with_page(cfg, store, fb, submit, new_session)
    if sources is None:
        sources = build_sources(cfg, simulate=simulate)
    sync = SyncWorker(cfg, store, fb)
    daemon = Daemon(cfg, store, sources, fb, out=out, sync=sync, notify=notify)
    return daemon
