"""The OLED on its own thread: latest screen wins, failures retried with backoff.

Nothing here runs on the scan path. Callers post screens (:meth:`show`,
:meth:`set_base`) and return at once; the thread renders only the newest one,
so a slow or broken I²C bus costs frames, never scans. A display that is
missing or raises later is closed and re-opened with exponential backoff; the
problem is logged once and its recovery once, never per frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.feedback.gallery import enlarge
from kiosk.feedback.screens import Screen, Starting, render

log = logging.getLogger(__name__)

#: Makes the screen (and its seconds on show) that stands in for a named one.
StandIn = Callable[[], tuple[Screen, float | None]]

#: Contrast used while dimmed (SSD1306/SH1106 never go fully dark at 0).
DIM_CONTRAST = 8


class DisplayWorker:
    """Owns one luma device (opened by ``opener``) and draws posted screens.

    :param opener: returns a ready luma device; may raise when the panel is absent.
    :param dim_after_s: idle seconds before lowering contrast (0 disables).
    :param blank_after_s: idle seconds before switching the panel off (0 disables).
    :param frames_dir: if given, each drawn frame is also saved there as an
        enlarged PNG named ``NNNN-<screen>.png`` (what the simulated OLED showed).
    :param wait_for_screen: open the panel only once a first screen is posted,
        not at once: opening it (luma, PIL) then does not compete with the
        daemon's start for the interpreter.
    """

    def __init__(
        self,
        opener: Callable[[], Any],
        *,
        language: str = "en",
        contrast: int = 255,
        dim_after_s: float = 60.0,
        blank_after_s: float = 600.0,
        frames_dir: Path | None = None,
        retry_first_s: float = 1.0,
        retry_max_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wait_for_screen: bool = False,
    ) -> None:
        self.language = language
        self._opener = opener
        self._contrast = contrast
        self._dim_after = dim_after_s
        self._blank_after = blank_after_s
        self._frames_dir = frames_dir
        self._retry_first = retry_first_s
        self._retry_max = retry_max_s
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._base: Screen = Starting()
        self._overlay: Screen | None = None
        self._overlay_until: float | None = None
        self._last_activity = clock()
        self._final: Screen | None = None
        self._stand_ins: dict[str, StandIn] = {}
        self._closing = False
        self.device: Any = None
        self._shown: Screen | None = None
        self._power = "on"
        self._retry_at = 0.0
        self._retry_delay = retry_first_s
        self._failing = False
        self._frames = 0
        self.frames_drawn = threading.Semaphore(0)  # released once per drawn frame (tests)
        if frames_dir is not None:
            frames_dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="feedback-display", daemon=True)
        self._started = False
        if not wait_for_screen:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
            self._thread.start()

    # -- called from any thread; never block -------------------------------------
    def set_base(self, screen: Screen) -> None:
        """The screen shown when nothing more urgent is (the idle screen)."""
        with self._lock:
            self._base = screen
        self._start()
        self._wake.set()

    def stand_in(self, name: str, make: StandIn) -> None:
        """Show what ``make`` returns whenever a screen named ``name`` is to be shown.

        How a part outside the panel fills in a screen only it knows: the cart's
        page puts its address and a fresh PIN in place of ``command-web``.
        """
        self._stand_ins[name] = make

    def show(self, screen: Screen, hold_s: float | None = None) -> None:
        """Show ``screen`` now; after ``hold_s`` seconds (``None``: never) fall back to the base."""
        make = self._stand_ins.get(screen.name)
        if make is not None:
            try:
                screen, hold_s = make()
            except Exception:
                log.exception("cannot make the screen shown for %s", screen.name)
        with self._lock:
            now = self._clock()
            self._overlay = screen
            self._overlay_until = None if hold_s is None else now + hold_s
            self._last_activity = now
        self._start()
        self._wake.set()

    @property
    def shown(self) -> Screen | None:
        """The screen last drawn on the panel (``None`` before the first frame)."""
        return self._shown

    def wake(self) -> None:
        """Count as user activity: undim / unblank."""
        with self._lock:
            self._last_activity = self._clock()
        self._start()
        self._wake.set()

    def close(self, final: Screen, timeout: float = 3.0) -> None:
        """Draw ``final``, make it survive process exit, and stop the thread."""
        with self._lock:
            self._final = final
            self._closing = True
        self._start()
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("display did not stop within %.1f s; leaving it as it is", timeout)

    # -- the display thread -------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                if self._overlay_until is not None and now >= self._overlay_until:
                    self._overlay, self._overlay_until = None, None
                screen = self._base if self._overlay is None else self._overlay
                idle_for = now - self._last_activity
                closing, final = self._closing, self._final
                overlay_until = self._overlay_until
            if closing:
                self._finish(final)
                return
            self._ensure_device(now)
            if self.device is not None:
                power = self._power_for(idle_for)
                if power != "off" and not _same(screen, self._shown):
                    self._draw(screen)
                if self.device is not None and power != self._power:
                    self._set_power(power)
            timeout = self._next_timeout(now, idle_for, overlay_until)
            self._wake.wait(timeout)
            self._wake.clear()

    def _next_timeout(self, now: float, idle_for: float, overlay_until: float | None) -> float:
        deadlines = []
        if overlay_until is not None:
            deadlines.append(overlay_until - now)
        if self.device is None:
            deadlines.append(self._retry_at - now)
        for limit in (self._dim_after, self._blank_after):
            if limit > 0 and idle_for < limit:
                deadlines.append(limit - idle_for)
        return max(0.01, min(deadlines)) if deadlines else 3600.0

    def _power_for(self, idle_for: float) -> str:
        if self._blank_after > 0 and idle_for >= self._blank_after:
            return "off"
        if self._dim_after > 0 and idle_for >= self._dim_after:
            return "dim"
        return "on"

    def _ensure_device(self, now: float) -> None:
        if self.device is not None or now < self._retry_at:
            return
        try:
            # Held before the first command so that a failure releases it: a device left
            # behind would blank the panel from luma's exit hook.
            self.device = self._opener()
            self.device.contrast(self._contrast)
        except Exception as e:
            self._fail("cannot be opened", e, now)
            return
        # Recovery is declared after the first frame gets through, not on open:
        # a panel with a loose data line opens fine and fails on every write.
        self._shown, self._power = None, "on"

    def _draw(self, screen: Screen) -> None:
        try:
            image = render(screen, self.language, (self.device.width, self.device.height))
        except Exception:
            # A rendering bug must not take the display thread down; show the base next time.
            log.exception("cannot render the %s screen", screen.name)
            self._shown = screen
            return
        try:
            self.device.display(image.convert(self.device.mode))
        except Exception as e:
            self._fail("stopped answering", e, self._clock())
            return
        self._shown = screen
        self._retry_delay = self._retry_first
        if self._failing:
            self._failing = False
            log.info("display is back")
        self._frames += 1
        if self._frames_dir is not None:
            path = self._frames_dir / f"{self._frames:04d}-{screen.name}.png"
            try:
                enlarge(image, 4).save(path)
            except OSError as e:
                log.warning("cannot save frame %s: %s", path, e)
        self.frames_drawn.release()

    def _set_power(self, power: str) -> None:
        try:
            if power == "off":
                self.device.hide()
            else:
                if self._power == "off":
                    self.device.show()
                self.device.contrast(DIM_CONTRAST if power == "dim" else self._contrast)
        except Exception as e:
            self._fail("stopped answering", e, self._clock())
            return
        self._power = power

    def _fail(self, what: str, e: Exception, now: float) -> None:
        if not self._failing:
            self._failing = True
            log.warning(
                "display %s (%s: %s); scanning goes on, retrying in the background",
                what,
                type(e).__name__,
                e,
            )
        else:
            log.debug("display still failing: %s", e)
        self._drop_device()
        self._retry_at = now + self._retry_delay
        self._retry_delay = min(self._retry_max, self._retry_delay * 2)

    def _drop_device(self) -> None:
        device, self.device = self.device, None
        if device is not None:
            _release(device)

    def _finish(self, final: Screen | None) -> None:
        self._retry_at = 0.0
        self._ensure_device(self._clock())
        if self.device is None:
            return
        if final is not None:
            if self._power == "off":
                self._set_power("on")
            if self.device is not None:
                self._draw(final)
        if self.device is not None:
            _release(self.device)


def _same(screen: Screen, shown: Screen | None) -> bool:
    """Whether ``screen`` is already on the panel: of the same kind, with the same fields.

    Screens are named tuples, which compare equal across kinds when their fields do.
    """
    return type(screen) is type(shown) and screen == shown


def _release(device: Any) -> None:
    # luma clears and switches the panel off at exit unless persist is set; the
    # stopped screen must stay visible after the process has gone.
    device.persist = True
    try:
        device.cleanup()
    except Exception as e:
        log.debug("display cleanup failed: %s", e)
