"""Buzzer and LEDs: a player thread that runs one pattern at a time.

The scan loop only hands a pattern over (:meth:`SignalPlayer.play` returns at
once); a newer verdict pre-empts the one still playing, so a fast librarian
always hears the latest scan, never a queue of old ones. The player keeps time
with an injected ``clock`` and ``sleep`` so tests can run patterns on a fake
clock; the default sleep is an :class:`threading.Event` wait that a new pattern
interrupts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from kiosk.feedback.patterns import Pattern

log = logging.getLogger(__name__)

#: ``sleep(seconds, wake) -> interrupted``: wait up to ``seconds`` or until ``wake`` is set.
Sleeper = Callable[[float, threading.Event], bool]


def event_sleep(seconds: float, wake: threading.Event) -> bool:
    return wake.wait(seconds)


class ToneOutput(Protocol):
    """A buzzer as the player sees it."""

    def tone(self, hz: float, level: float) -> None:
        """Sound ``hz`` (> 0) at ``level`` (0..1; 0 is silence)."""

    def off(self) -> None:
        """Silence."""


class ActiveBuzzer:
    """A buzzer with its own oscillator: only on/off, so rhythm carries the meaning."""

    def __init__(self, device: Any) -> None:
        self.device = device  # gpiozero DigitalOutputDevice

    def tone(self, hz: float, level: float) -> None:
        if level > 0:
            self.device.on()
        else:
            self.device.off()

    def off(self) -> None:
        self.device.off()


class PassiveBuzzer:
    """A piezo driven by PWM: pitch from the frequency, loudness from the duty cycle.

    A piezo is loudest at 50 % duty, so ``level * volume`` scales 0..50 %.
    """

    def __init__(self, device: Any, volume: float = 1.0) -> None:
        self.device = device  # gpiozero PWMOutputDevice
        self.volume = volume

    def tone(self, hz: float, level: float) -> None:
        duty = 0.5 * level * self.volume
        if duty <= 0:
            self.device.value = 0
            return
        self.device.frequency = hz
        self.device.value = duty

    def off(self) -> None:
        self.device.value = 0


class SignalPlayer:
    """Plays patterns on a buzzer and LEDs from its own thread.

    :param buzzer: a :class:`ToneOutput`, or ``None`` when none is fitted.
    :param leds: colour name to gpiozero ``LED`` (only fitted ones).
    :param on_finished: called with ``(pattern name, completed)`` after each
        pattern; ``completed`` is false when a newer one pre-empted it.
    """

    def __init__(
        self,
        buzzer: ToneOutput | None,
        leds: Mapping[str, Any],
        *,
        muted: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleeper = event_sleep,
        on_finished: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.buzzer = buzzer
        self.leds = dict(leds)
        self.muted = muted
        self._clock = clock
        self._sleep = sleep
        self._on_finished = on_finished
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: Pattern | None = None
        self._stopping = False
        self._broken: set[str] = set()
        #: Set while nothing is playing or waiting to play (lets callers and tests wait).
        self.idle = threading.Event()
        self.idle.set()
        self._thread = threading.Thread(target=self._run, name="feedback-signals", daemon=True)
        self._thread.start()

    def play(self, pattern: Pattern) -> None:
        """Start ``pattern`` now, cutting short whatever is playing. Never blocks."""
        with self._lock:
            self._pending = pattern
            self.idle.clear()
            self._wake.set()

    def acknowledge(self) -> None:
        """Stop the current sound and switch off latched LEDs."""
        self.play(Pattern("acknowledge"))

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread and leave buzzer and LEDs off."""
        with self._lock:
            self._stopping = True
            self._wake.set()
        self._thread.join(timeout)
        self._apply(0.0, 0.0, frozenset())

    def _run(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                if self._stopping:
                    return
                pattern, self._pending = self._pending, None
                self._wake.clear()
            if pattern is not None:
                self._play(pattern)
            with self._lock:
                if self._pending is None:
                    self.idle.set()

    def _play(self, pattern: Pattern) -> None:
        deadline = self._clock()
        completed = True
        for step in pattern.steps():
            self._apply(step.hz, step.level, step.leds)
            deadline += step.seconds
            remaining = deadline - self._clock()
            interrupted = remaining > 0 and self._sleep(remaining, self._wake)
            if interrupted or self._wake.is_set():
                completed = False
                break
        if completed:
            self._apply(0.0, 0.0, pattern.latch)
        if self._on_finished is not None:
            self._on_finished(pattern.name, completed)

    def _apply(self, hz: float, level: float, leds: frozenset[str]) -> None:
        # A failing output must not silence the others, and must not spam the log.
        if self.buzzer is not None:
            try:
                if self.muted or hz <= 0:
                    self.buzzer.off()
                else:
                    self.buzzer.tone(hz, level)
            except Exception as e:
                self._fault("buzzer", e)
        for colour, led in self.leds.items():
            try:
                if colour in leds:
                    led.on()
                else:
                    led.off()
            except Exception as e:
                self._fault(f"{colour} LED", e)

    def _fault(self, what: str, e: Exception) -> None:
        if what not in self._broken:
            self._broken.add(what)
            log.warning("%s cannot be driven (%s); scanning goes on without it", what, e)
