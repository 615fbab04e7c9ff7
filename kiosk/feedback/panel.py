"""The cart's front panel: one :class:`Feedback` made of buzzer, LEDs, buttons and OLED.

Every public method only records state and hands work to the signal and
display threads, and swallows (and logs once) anything that goes wrong: the
scan loop calls it and must never wait for, or be stopped by, a panel part.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kiosk.feedback import Status
from kiosk.feedback.describe import Narrator
from kiosk.feedback.display import DisplayWorker
from kiosk.feedback.patterns import PROBLEM, Pattern
from kiosk.feedback.screens import Idle, ProblemScreen, Progress, Starting, Stopped, VerdictScreen
from kiosk.feedback.signals import SignalPlayer
from kiosk.models import Item, ProblemKind, Scan, Verdict

log = logging.getLogger("kiosk.feedback")
#: The simulated cart's one line per scan (what the librarian would see and hear).
narration = logging.getLogger("kiosk.feedback.narration")

#: Seconds a verdict screen stays before the idle screen returns (a new scan
#: replaces it at once). Alerts stay longer: the librarian may be re-shelving.
HOLD_S: dict[str, float] = {Verdict.OK: 2.0, Verdict.COMMAND: 3.0}
ALERT_HOLD_S = 8.0
PROBLEM_HOLD_S = 15.0
PROGRESS_DONE_HOLD_S = 5.0
#: Problems that describe one refused action rather than a lasting state.
TRANSIENT = frozenset({ProblemKind.PAUSED, ProblemKind.UNDO, ProblemKind.LOCATION})


class PanelFeedback:
    """Implements :class:`kiosk.feedback.Feedback` on real or simulated parts.

    :param narrator: also log one line per scan and problem in words on
        :data:`narration` (simulation: the terminal is the cart), and each raw
        pattern as ``buzzer …`` / ``leds …`` debug lines.
    :param closers: called last by :meth:`close` (release gpiozero devices).
    """

    def __init__(
        self,
        patterns: Mapping[str, Pattern],
        *,
        player: SignalPlayer | None = None,
        display: DisplayWorker | None = None,
        on_button: Callable[[str], None] | None = None,
        narrator: Narrator | None = None,
        closers: Iterable[Callable[[], None]] = (),
    ) -> None:
        self.patterns = dict(patterns)
        self.player = player
        self.display = display
        self.pin_factory: Any = None  # set by build(); tests drive mock pins through it
        self._on_button = on_button
        self._narrator = narrator
        self._closers = list(closers)
        self._lock = threading.Lock()
        self._status = Status()
        self._last: Scan | None = None
        self._problems: dict[ProblemKind, str] = {}
        self._signalled = ""  # the last pattern played: whose latched LEDs are lit
        self._closed = False
        self._failed: set[str] = set()

    # -- Feedback protocol ----------------------------------------------------------
    def starting(self, version: str = "") -> None:
        """Show the start screen until the first :meth:`status`."""
        if self.display is not None:
            display = self.display
            self._safe("display", lambda: display.set_base(Starting(version)))

    def scan(self, scan: Scan, item: Item | None, status: Status) -> None:
        with self._lock:
            self._status, self._last = status, scan
        verdict = str(scan.verdict)
        if self._narrator is not None:
            pattern = self.patterns.get(verdict)
            line = self._narrator.scan(scan, item, pattern, muted=self.muted, status=status)
            narration.info("%s", line)
        self._signal(verdict)
        if self.display is not None:
            hold = HOLD_S.get(verdict, ALERT_HOLD_S)
            display = self.display

            def post() -> None:
                display.set_base(self._idle())
                display.show(VerdictScreen(scan, item, status), hold)

            self._safe("display", post)

    def status(self, status: Status) -> None:
        with self._lock:
            self._status = status
        self._refresh()

    def progress(self, title: str, done: int, total: int) -> None:
        if self.display is not None:
            hold = PROGRESS_DONE_HOLD_S if total > 0 and done >= total else None
            display = self.display
            self._safe("display", lambda: display.show(Progress(title, done, total), hold))

    def problem(self, kind: ProblemKind, message: str, *details: str) -> None:
        """Alert once per new problem; the idle screen keeps a banner until :meth:`resolve`.

        Transient kinds (``paused``: a scan refused while paused; ``undo`` refused; an unknown
        ``location``) alert every time and leave no banner: each refused scan must be heard.
        """
        transient = kind in TRANSIENT
        with self._lock:
            new = transient or self._problems.get(kind) != message
            if not transient:
                self._problems[kind] = message
        if not transient:
            self._refresh()
        if not new:
            return
        if self._narrator is not None:
            pattern = self.patterns.get(PROBLEM)
            line = self._narrator.problem(kind, message, pattern, muted=self.muted, details=details)
            narration.info("%s", line)
        self._signal(PROBLEM)
        if self.display is not None:
            display = self.display
            hold = ALERT_HOLD_S if transient else PROBLEM_HOLD_S
            screen = ProblemScreen(kind, message, details)
            self._safe("display", lambda: display.show(screen, hold))

    def resolve(self, kind: ProblemKind) -> None:
        """The problem ``kind`` is over: drop its banner and latched red LED."""
        with self._lock:
            known = self._problems.pop(kind, None) is not None
            # Only the problem's own red LED goes out: a later scan's latched LED stays.
            acknowledge = known and self._signalled == PROBLEM and not self._problems
        if acknowledge and self.player is not None:
            self._safe("buzzer", self.player.acknowledge)
        if known:
            self._refresh()

    def close(self) -> None:
        """Stopped screen (kept after exit), LEDs and buzzer off, pins released."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self.display is not None:
            display = self.display
            self._safe("display", lambda: display.close(Stopped()))
        if self.player is not None:
            self._safe("buzzer", self.player.close)
        for closer in self._closers:
            self._safe("pins", closer)

    def add_closer(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` first on :meth:`close` (buttons before the pins they use)."""
        self._closers.insert(0, closer)

    # -- buttons ----------------------------------------------------------------------
    @property
    def muted(self) -> bool:
        return self.player.muted if self.player is not None else False

    def button(self, name: str) -> None:
        """A button action: ``mute`` toggles sound and acknowledges; all are reported."""
        if name == "mute" and self.player is not None:
            self.player.muted = not self.player.muted
            self.player.acknowledge()
            log.info("sound %s", "off" if self.player.muted else "on")
            self._refresh()
        if self.display is not None:
            self.display.wake()
        if self._on_button is not None:
            try:
                self._on_button(name)
            except Exception:
                log.exception("the %s button action failed", name)

    # -- helpers ------------------------------------------------------------------------
    def _idle(self) -> Idle:
        with self._lock:
            return Idle(self._status, self._last, self.muted, tuple(self._problems))

    def _refresh(self) -> None:
        if self.display is not None:
            display = self.display
            self._safe("display", lambda: display.set_base(self._idle()))

    def _signal(self, name: str) -> None:
        pattern = self.patterns.get(name)
        if pattern is None:
            return
        with self._lock:
            self._signalled = name
        if self._narrator is not None:
            sound, light = pattern.describe()
            log.debug("buzzer %s %s%s", name, sound or "-", " (muted)" if self.muted else "")
            log.debug("leds %s %s", name, light or "-")
        player = self.player
        if player is not None:
            self._safe("buzzer", lambda: player.play(pattern))

    def _safe(self, part: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:
            if part not in self._failed:
                self._failed.add(part)
                log.exception("%s feedback failed; scanning goes on without it", part)
