"""Buzzer and LEDs on gpiozero mock pins: what plays, for how long, and pre-emption."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import pytest
from gpiozero import LED, DigitalOutputDevice, PWMOutputDevice
from gpiozero.pins.mock import MockFactory, MockPWMPin, PinState

from kiosk.feedback.patterns import COLOURS, DEFAULTS, Pattern
from kiosk.feedback.signals import ActiveBuzzer, PassiveBuzzer, SignalPlayer
from kiosk.models import Verdict

PINS = {"buzzer": "GPIO18", "green": "GPIO23", "yellow": "GPIO24", "red": "GPIO25"}

#: ``(seconds since the pattern was handed over, level the pin changed to)``.
Change = tuple[float, bool]


class FakeTime:
    """A clock that only moves when the player sleeps; ``hook`` runs inside each sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.hook: Callable[[int], None] | None = None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float, wake: threading.Event) -> bool:
        self.sleeps.append(seconds)
        if self.hook is not None:
            self.hook(len(self.sleeps))
        self.now += seconds
        return wake.is_set()


class Finished:
    """Collects (pattern, completed) and lets a test wait for a given one."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []
        self._cond = threading.Condition()

    def __call__(self, name: str, completed: bool) -> None:
        with self._cond:
            self.seen.append((name, completed))
            self._cond.notify_all()

    def wait_for(self, name: str, completed: bool = True) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: (name, completed) in self.seen, timeout=5)


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


def _leds(factory: MockFactory, active_high: bool = True) -> dict[str, Any]:
    return {
        c: LED(PINS[c], active_high=active_high, pin_factory=factory)
        for c in ("green", "yellow", "red")
    }


def _levels(factory: MockFactory, name: str) -> list[bool]:
    """The pin's recorded states as on/off (its first entry is the initial state)."""
    return [bool(s.state) for s in factory.pin(PINS[name]).states]


def _player(
    factory: MockFactory, time: FakeTime | None, **kw: Any
) -> tuple[SignalPlayer, Finished]:
    done = Finished()
    buzzer = ActiveBuzzer(DigitalOutputDevice(PINS["buzzer"], pin_factory=factory))
    extra: dict[str, Any] = {} if time is None else {"clock": time.clock, "sleep": time.sleep}
    player = SignalPlayer(buzzer, _leds(factory), on_finished=done, **extra, **kw)
    return player, done


def _expected_changes(levels: Iterable[tuple[float, bool]], after: bool) -> list[Change]:
    """Where a pin's level changes, from ``(step seconds, level)`` and the level left after."""
    changes: list[Change] = []
    t, previous = 0.0, False
    for seconds, level in levels:
        if level != previous:
            changes.append((t, level))
            previous = level
        t += seconds
    if after != previous:
        changes.append((t, after))
    return changes


def _led_changes(pattern: Pattern, colour: str) -> list[Change]:
    """The changes the pattern's light timeline and latch make to one LED."""
    levels = ((s.seconds, colour in s.leds) for s in pattern.steps())
    return _expected_changes(levels, colour in pattern.latch)


def _buzzer_changes(pattern: Pattern) -> list[Change]:
    """The changes the pattern's sound timeline makes to an active buzzer."""
    return _expected_changes(
        ((s.seconds, s.hz > 0 and s.level > 0) for s in pattern.steps()), False
    )


def _assert_levels(name: str, states: Sequence[PinState], want: list[Change]) -> None:
    """The pin took the pattern's levels in order (how late: ``benchmarks/bench_signals.py``)."""
    assert [bool(s.state) for s in states[1:]] == [level for _, level in want], name


def _record(
    factory: MockFactory, player: SignalPlayer, done: Finished, pattern: Pattern
) -> dict[str, list[PinState]]:
    """Play ``pattern`` on the real clock; each pin's history from hand-over to its end."""
    for pin in PINS.values():
        factory.pin(pin).clear_states()
    player.play(pattern)
    done.wait_for(pattern.name)
    return {name: list(factory.pin(pin).states) for name, pin in PINS.items()}


def test_signals_step_durations_follow_the_pattern(factory: MockFactory) -> None:
    """A duplicate beeps twice and blinks green+yellow twice, for exactly the pattern's times."""
    time = FakeTime()
    player, done = _player(factory, time)
    player.play(DEFAULTS[Verdict.DUPLICATE])
    done.wait_for(Verdict.DUPLICATE)
    player.close()
    expected = [s.seconds for s in DEFAULTS[Verdict.DUPLICATE].steps()]
    assert time.sleeps == pytest.approx(expected)
    assert sum(time.sleeps) == pytest.approx(0.32)
    assert _levels(factory, "buzzer") == [False, True, False, True, False]
    assert _levels(factory, "green") == [False, True, False, True, False]
    assert _levels(factory, "yellow") == [False, True, False, True, False]
    assert _levels(factory, "red") == [False]


def test_signals_ok_blinks_green_once(factory: MockFactory) -> None:
    """An OK scan is one short beep and one green flash, and nothing stays lit."""
    time = FakeTime()
    player, done = _player(factory, time)
    player.play(DEFAULTS[Verdict.OK])
    done.wait_for(Verdict.OK)
    assert time.sleeps == pytest.approx([0.04, 0.11])
    assert _levels(factory, "buzzer") == [False, True, False]
    assert _levels(factory, "green") == [False, True, False]
    assert _levels(factory, "yellow") == _levels(factory, "red") == [False]
    player.close()


def test_signals_new_verdict_preempts(factory: MockFactory) -> None:
    """A scan during a long alert cuts the alert short and plays at once."""
    time = FakeTime()
    player, done = _player(factory, time)

    def arrive(n: int) -> None:
        if n == 1:  # the next scan arrives during the first tone of the error
            player.play(DEFAULTS[Verdict.OK])

    time.hook = arrive
    player.play(DEFAULTS[Verdict.ERROR])
    done.wait_for(Verdict.OK)
    player.close()
    assert done.seen == [(Verdict.ERROR, False), (Verdict.OK, True)]
    # the error's latched red LED never came on; only its first moment showed.
    assert _levels(factory, "red") == [False, True, False]
    assert _levels(factory, "green") == [False, True, False]
    assert len(time.sleeps) == 1 + len(DEFAULTS[Verdict.OK].steps())


def test_signals_preempt_with_real_clock(factory: MockFactory) -> None:
    """With the real clock too, a new scan does not wait for a 1.5 s alert to end."""
    player, done = _player(factory, None)
    player.play(DEFAULTS[Verdict.ERROR])
    player.play(DEFAULTS[Verdict.OK])
    done.wait_for(Verdict.OK)
    player.close()
    assert (Verdict.ERROR, True) not in done.seen


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_signals_fake_clock_timeline_is_exact(factory: MockFactory, name: str) -> None:
    """On a fake clock every built-in pattern switches buzzer and LEDs at exactly its times."""
    pattern = DEFAULTS[name]
    time = FakeTime()
    player, done = _player(factory, time)
    seen: dict[str, list[Change]] = {pin: [] for pin in PINS}
    level = dict.fromkeys(PINS, False)

    def look(_: int = 0) -> None:
        for pin, gpio in PINS.items():
            now = bool(factory.pin(gpio).state)
            if now != level[pin]:
                seen[pin].append((round(time.now, 6), now))
                level[pin] = now

    time.hook = look
    player.play(pattern)
    done.wait_for(pattern.name)
    look()  # the latch, applied after the last step
    player.close()

    def exact(changes: list[Change]) -> list[Change]:
        return [(round(t, 6), on) for t, on in changes]

    assert seen["buzzer"] == exact(_buzzer_changes(pattern))
    for colour in COLOURS:
        assert seen[colour] == exact(_led_changes(pattern, colour)), colour


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_signals_real_clock_plays_every_change(factory: MockFactory, name: str) -> None:
    """On the real clock every built-in pattern switches buzzer and LEDs through all its levels."""
    pattern = DEFAULTS[name]
    player, done = _player(factory, None)
    history = _record(factory, player, done, pattern)
    player.close()
    _assert_levels("buzzer", history["buzzer"], _buzzer_changes(pattern))
    for colour in COLOURS:
        _assert_levels(colour, history[colour], _led_changes(pattern, colour))


def test_signals_latch_until_acknowledged(factory: MockFactory) -> None:
    """After an unknown item the red LED stays lit until acknowledged."""
    time = FakeTime()
    player, done = _player(factory, time)
    player.play(DEFAULTS[Verdict.UNKNOWN])
    done.wait_for(Verdict.UNKNOWN)
    assert factory.pin(PINS["red"]).state
    player.acknowledge()
    done.wait_for("acknowledge")
    assert not factory.pin(PINS["red"]).state
    assert not factory.pin(PINS["buzzer"]).state
    player.close()


def test_signals_muted_lights_only(factory: MockFactory) -> None:
    """Muted, the buzzer stays silent while the LEDs still blink the verdict's timing."""
    pattern = DEFAULTS[Verdict.MISSHELVED]
    player, done = _player(factory, None, muted=True)
    history = _record(factory, player, done, pattern)
    player.close()
    _assert_levels("buzzer", history["buzzer"], [])
    for colour in COLOURS:
        _assert_levels(colour, history[colour], _led_changes(pattern, colour))


def test_signals_close_switches_everything_off(factory: MockFactory) -> None:
    """Stopping leaves no LED lit and the buzzer silent, even with a latched alert."""
    time = FakeTime()
    player, done = _player(factory, time)
    player.play(DEFAULTS[Verdict.MISSHELVED])
    done.wait_for(Verdict.MISSHELVED)
    assert factory.pin(PINS["yellow"]).state
    player.close()
    for name, pin in PINS.items():
        assert not factory.pin(pin).state, name


def test_signals_passive_tone_and_volume(factory: MockFactory) -> None:
    """A passive buzzer plays the pattern's pitch, at a duty cycle set by level and volume."""
    time = FakeTime()
    done = Finished()
    pwm = PWMOutputDevice(PINS["buzzer"], initial_value=0, frequency=1000, pin_factory=factory)
    pin = factory.pin(PINS["buzzer"])
    heard: list[tuple[float, float]] = []
    time.hook = lambda n: heard.append((pin.frequency, pin.state))
    player = SignalPlayer(
        PassiveBuzzer(pwm, volume=0.5), {}, clock=time.clock, sleep=time.sleep, on_finished=done
    )
    player.play(DEFAULTS[Verdict.MISSHELVED])
    done.wait_for(Verdict.MISSHELVED)
    player.close()
    tones = [(f, d) for f, d in heard if d]
    assert tones == [(800, 0.25), (1600, 0.25), (800, 0.25), (1600, 0.25)]
    assert pin.state == 0


def test_signals_active_low_wiring(factory: MockFactory) -> None:
    """With active-low wiring, "on" drives the pin low and "off" leaves it high."""
    time = FakeTime()
    done = Finished()
    buzzer = ActiveBuzzer(
        DigitalOutputDevice(
            PINS["buzzer"], active_high=False, initial_value=False, pin_factory=factory
        )
    )
    player = SignalPlayer(
        buzzer,
        _leds(factory, active_high=False),
        clock=time.clock,
        sleep=time.sleep,
        on_finished=done,
    )
    player.play(DEFAULTS[Verdict.OK])
    done.wait_for(Verdict.OK)
    player.close()
    assert _levels(factory, "buzzer")[-3:] == [True, False, True]
    assert _levels(factory, "green")[-3:] == [True, False, True]


def test_signals_broken_output_does_not_stop_others(
    factory: MockFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A buzzer that raises is logged once and the LEDs keep working."""

    class Broken:
        def tone(self, hz: float, level: float) -> None:
            raise OSError("gpiochip gone")

        def off(self) -> None:
            raise OSError("gpiochip gone")

    pattern = DEFAULTS[Verdict.DUPLICATE]
    done = Finished()
    player = SignalPlayer(Broken(), _leds(factory), on_finished=done)
    history = _record(factory, player, done, pattern)
    player.play(Pattern("second", (), ()))
    done.wait_for("second")
    player.close()
    for colour in COLOURS:
        _assert_levels(colour, history[colour], _led_changes(pattern, colour))
    assert sum("buzzer cannot be driven" in r.message for r in caplog.records) == 1
