"""Feedback to the librarian: buzzer, LEDs and OLED, driven by verdicts.

The daemon only calls the :class:`Feedback` methods below; each must return at
once (work happens on feedback's own thread) and must never raise into the scan
loop: a loose I²C cable must not stop scanning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, Protocol

from kiosk.models import Item, ProblemKind, Scan

if TYPE_CHECKING:
    from kiosk.feedback.factory import FeedbackSettings

log = logging.getLogger(__name__)


class Status(NamedTuple):
    """What the idle screen summarises."""

    stocktake: str = ""
    location: str = ""
    run: int = 0
    counts: Mapping[str, int] = MappingProxyType({})
    scanned: int = 0
    #: Found scans SLiMS has not confirmed yet, of which ``exported`` sit in an upload file.
    unsynced: int = 0
    exported: int = 0
    catalog_size: int = 0
    paused: bool = False
    #: Books without a label counted at ``location``.
    nolabel: int = 0
    #: First and last call number of the shelf run that ended last ("" if unknown).
    last_span: tuple[str, str] = ("", "")


class Feedback(Protocol):
    def starting(self, version: str = "") -> None:
        """Show the start screen until the first :meth:`status`."""

    def scan(self, scan: Scan, item: Item | None, status: Status) -> None:
        """Signal one stored scan's verdict (sound, light, screen)."""

    def status(self, status: Status) -> None:
        """Refresh the idle screen."""

    def progress(self, title: str, done: int, total: int) -> None:
        """Show progress of a long action (sync)."""

    def problem(self, kind: ProblemKind, message: str, *details: str) -> None:
        """Show an error state: ``no_scanner``, ``store``, ``low_disk``, ``slims``, ….

        ``message`` is the full English account (for the log); the screen says
        what happened and what to do in its own language, filled in with the
        short ``details`` (a location name, an item code, a number of days).
        Alerts (sound, red LED, full screen) once per new ``kind``/``message``;
        repeating the same call is cheap and silent. The idle screen keeps a
        banner until :meth:`resolve`.
        """

    def resolve(self, kind: ProblemKind) -> None:
        """The problem ``kind`` is over (scanner back, SLiMS reachable again)."""

    def close(self) -> None:
        """Show the stopped screen, switch LEDs and buzzer off, release pins."""


class LogFeedback:
    """Feedback as log lines: the terminal stand-in for buzzer, LEDs and screen."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or log

    def starting(self, version: str = "") -> None:
        self._log.debug("feedback starting %s", version)

    def scan(self, scan: Scan, item: Item | None, status: Status) -> None:
        where = f" {item.call_number}" if item and item.call_number else ""
        self._log.info("feedback %s %s%s", scan.verdict, scan.code, where)

    def status(self, status: Status) -> None:
        self._log.debug("feedback idle scanned=%d unsynced=%d", status.scanned, status.unsynced)

    def progress(self, title: str, done: int, total: int) -> None:
        self._log.info("feedback %s %d/%d", title, done, total)

    def problem(self, kind: ProblemKind, message: str, *details: str) -> None:
        self._log.warning("feedback problem %s: %s", kind, message)

    def resolve(self, kind: ProblemKind) -> None:
        self._log.info("feedback problem %s resolved", kind)

    def close(self) -> None:
        self._log.debug("feedback stopped")


def build(
    cfg: FeedbackSettings,
    *,
    simulate: bool,
    frames_dir: Path | None = None,
    on_button: Callable[[str], None] | None = None,
) -> Feedback:
    """Buzzer, LEDs, buttons and OLED as configured.

    ``simulate=True`` uses gpiozero mock pins and a luma ``dummy`` display, logs
    one line per scan in words on ``kiosk.feedback.narration`` (each raw pattern
    as ``buzzer …``/``leds …`` debug lines) and, with ``frames_dir``, saves every
    drawn frame there as an enlarged PNG. Otherwise real devices are built and
    any part that is absent is logged once and left out. Button actions reach
    ``on_button`` as ``"mute"``, ``"sync"`` or ``"shutdown"`` (from gpiozero's
    thread; ``mute`` also toggles the sound here).

    ``cfg`` is the whole configuration (anything with its ``buzzer``, ``leds``,
    ``buttons`` and ``display`` sections); check it with
    ``kiosk.config.check_pins`` first, as pins shared by two parts are not refused here.

    :raises ValueError: a pattern override is malformed (config loading refuses those first).
    """
    from kiosk.feedback.factory import build as build_panel  # noqa: PLC0415 (heavy, optional)

    return build_panel(cfg, simulate=simulate, frames_dir=frames_dir, on_button=on_button)
