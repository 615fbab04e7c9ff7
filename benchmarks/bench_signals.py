"""How closely buzzer and LEDs keep their patterns' times on the real clock.

Plays every built-in pattern through the real :class:`SignalPlayer` on
gpiozero's mock pins (their states carry the time of each change) and
compares each change with the time the pattern defines. The unit tests prove
the order of changes and, on a fake clock, the exact times; how late a
loaded machine makes them is measured here.

Usage: python benchmarks/bench_signals.py [--repeats N]
Prints one JSON object; exit status 1 if a change comes more than 5 ms early
or the p99 lateness exceeds 30 ms (a beep later than that is heard as lag).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading

from gpiozero import LED, DigitalOutputDevice
from gpiozero.pins.mock import MockFactory, MockPWMPin

from kiosk.feedback.patterns import COLOURS, DEFAULTS, Pattern
from kiosk.feedback.signals import ActiveBuzzer, SignalPlayer

PINS = {"buzzer": "GPIO18", "green": "GPIO23", "yellow": "GPIO24", "red": "GPIO25"}
EARLY_LIMIT = 0.005
LATE_P99_LIMIT = 0.030


def defined(pattern: Pattern, pin: str) -> list[float]:
    """Seconds after hand-over at which the pattern changes ``pin``'s level."""
    if pin == "buzzer":
        levels = [(s.seconds, s.hz > 0 and s.level > 0) for s in pattern.steps()]
        after = False
    else:
        levels = [(s.seconds, pin in s.leds) for s in pattern.steps()]
        after = pin in pattern.latch
    times, t, previous = [], 0.0, False
    for seconds, level in [*levels, (0.0, after)]:
        if level != previous:
            times.append(t)
            previous = level
        t += seconds
    return times


def offsets(
    factory: MockFactory, player: SignalPlayer, done: threading.Event, p: Pattern
) -> list[float]:
    """Each change's time minus its defined time, for one play of ``p``."""
    for gpio in PINS.values():
        factory.pin(gpio).clear_states()
    done.clear()
    player.play(p)
    if not done.wait(10):
        raise SystemExit(f"pattern {p.name} did not finish")
    out = []
    for name, gpio in PINS.items():
        t, got = 0.0, []
        for state in factory.pin(gpio).states[1:]:
            t += state.timestamp  # mock pins stamp the time since the previous change
            got.append(t)
        want = defined(p, name)
        if len(got) != len(want):
            raise SystemExit(f"pattern {p.name}: {name} changed {len(got)} times, not {len(want)}")
        out += [g - w for g, w in zip(got, want, strict=True)]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    factory = MockFactory(pin_class=MockPWMPin)
    done = threading.Event()
    player = SignalPlayer(
        ActiveBuzzer(DigitalOutputDevice(PINS["buzzer"], pin_factory=factory)),
        {c: LED(PINS[c], pin_factory=factory) for c in COLOURS},
        on_finished=lambda _name, completed: done.set() if completed else None,
    )
    per: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for name, pattern in DEFAULTS.items():
            per.setdefault(str(name), []).extend(offsets(factory, player, done, pattern))
            player.acknowledge()  # latched LEDs off before the next pattern's first change
            player.idle.wait()
    player.close()
    every = sorted(x for xs in per.values() for x in xs)
    p99 = every[min(len(every) - 1, int(len(every) * 0.99))]
    result = {
        "benchmark": "signals",
        "python": platform.python_version(),
        "repeats": args.repeats,
        "changes": len(every),
        "early_max_ms": round(max(0.0, -min(every)) * 1000, 2),
        "late_p50_ms": round(statistics.median(every) * 1000, 2),
        "late_p99_ms": round(p99 * 1000, 2),
        "late_max_ms": round(max(every) * 1000, 2),
        "late_max_ms_per_pattern": {k: round(max(v) * 1000, 2) for k, v in per.items()},
        "limits_ms": {"early": EARLY_LIMIT * 1000, "late_p99": LATE_P99_LIMIT * 1000},
    }
    result["pass"] = -min(every) <= EARLY_LIMIT and p99 <= LATE_P99_LIMIT
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
