"""Sound and light patterns, one per verdict, and the small text format for them.

A pattern is two independent timelines (buzzer tones, LED states) merged into
steps at play time, so a config override can change the sound without touching
the lights. The same rhythm must identify a verdict on an active buzzer (which
only knows on/off), so no two defaults share an on/off rhythm; a passive buzzer
adds pitch and loudness on top. ``ok`` is the shortest and quietest: it is what
the librarian hears hundreds of times an hour.

Text format (used in ``buzzer.patterns`` / ``leds.patterns``, ``"verdict = spec"``):

* sound: space-separated steps, ``MS@HZ`` a tone (``MS@HZ~LEVEL`` with level
  0..1 of the configured volume), a bare ``MS`` silence. ``"40@2700~0.25"``.
* light: ``MS:COLOURS`` LEDs on (``g`` green, ``y`` yellow, ``r`` red), a bare
  ``MS`` all off, and optionally a last ``latch:COLOURS`` for LEDs left lit until
  the next verdict or an acknowledgement. ``"150:y 50 150:r latch:y"``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, TypeVar

from kiosk.models import Verdict

#: LED colours, in the order their letters are written.
COLOURS = ("green", "yellow", "red")
_LETTERS = {"g": "green", "y": "yellow", "r": "red"}

#: The pattern played by :meth:`Feedback.problem` (not a verdict).
PROBLEM = "problem"


class Tone(NamedTuple):
    """One buzzer step: ``hz == 0`` is silence; ``level`` scales the volume."""

    ms: int
    hz: float = 0.0
    level: float = 1.0


class Light(NamedTuple):
    """One LED step: the colours lit for ``ms`` milliseconds."""

    ms: int
    on: frozenset[str] = frozenset()


_T = TypeVar("_T", Tone, Light)


class Step(NamedTuple):
    """A merged moment of both timelines, as the player applies it."""

    seconds: float
    hz: float
    level: float
    leds: frozenset[str]


class Pattern(NamedTuple):
    """What one verdict sounds and looks like."""

    name: str
    sound: tuple[Tone, ...] = ()
    light: tuple[Light, ...] = ()
    latch: frozenset[str] = frozenset()

    def steps(self) -> list[Step]:
        """Merge the two timelines at every change point of either."""
        cuts: set[int] = {0}
        for timeline in (self.sound, self.light):
            t = 0
            for s in timeline:
                t += s.ms
                cuts.add(t)
        edges = sorted(cuts)
        steps: list[Step] = []
        for start, end in itertools.pairwise(edges):
            tone = _at(self.sound, start)
            light = _at(self.light, start)
            hz = tone.hz if tone else 0.0
            level = tone.level if tone and hz else 0.0
            steps.append(Step((end - start) / 1000, hz, level, light.on if light else frozenset()))
        return steps

    def describe(self) -> tuple[str, str]:
        """The sound and light specs in the config text format (for logs and docs)."""
        return format_sound(self.sound), format_light(self.light, self.latch)


def _at(timeline: Sequence[_T], t: int) -> _T | None:
    start = 0
    for s in timeline:
        if start <= t < start + s.ms:
            return s
        start += s.ms
    return None


def parse_sound(spec: str) -> tuple[Tone, ...]:
    """Parse ``"70@1800 70 70@1800"``; ``ValueError`` says which step is wrong."""
    tones: list[Tone] = []
    for token in spec.split():
        try:
            if "@" in token:
                ms_s, rest = token.split("@", 1)
                hz_s, _, level_s = rest.partition("~")
                tone = Tone(int(ms_s), float(hz_s), float(level_s) if level_s else 1.0)
                if tone.hz <= 0 or not 0.0 <= tone.level <= 1.0:
                    raise ValueError(token)
            else:
                tone = Tone(int(token))
        except ValueError:
            raise ValueError(
                f"cannot read sound step {token!r}; write MS@HZ "
                f"(tone), MS@HZ~LEVEL (level 0..1) or MS (silence), e.g. '40@2700~0.25'"
            ) from None
        if tone.ms <= 0 or tone.ms > 10_000:
            raise ValueError(f"step {token!r} must last 1..10000 ms")
        tones.append(tone)
    return tuple(tones)


def parse_light(spec: str) -> tuple[tuple[Light, ...], frozenset[str]]:
    """Parse ``"150:y 50 150:r latch:y"`` into steps and latched colours."""
    lights: list[Light] = []
    latch: frozenset[str] = frozenset()
    tokens = spec.split()
    for i, token in enumerate(tokens):
        head, sep, letters = token.partition(":")
        try:
            colours = frozenset(_LETTERS[c] for c in letters.lower()) if sep else frozenset()
            if head == "latch" and sep:
                if i != len(tokens) - 1:
                    raise ValueError(token)
                latch = colours
                continue
            light = Light(int(head), colours)
        except (KeyError, ValueError):
            raise ValueError(
                f"cannot read light step {token!r}; write MS:COLOURS "
                f"(g green, y yellow, r red), MS (all off), and optionally a last "
                f"latch:COLOURS, e.g. '150:y 50 150:r latch:y'"
            ) from None
        if light.ms <= 0 or light.ms > 10_000:
            raise ValueError(f"step {token!r} must last 1..10000 ms")
        lights.append(light)
    return tuple(lights), latch


def format_sound(sound: Iterable[Tone]) -> str:
    out = []
    for t in sound:
        if not t.hz:
            out.append(str(t.ms))
        else:
            level = "" if t.level == 1.0 else f"~{t.level:g}"
            out.append(f"{t.ms}@{t.hz:g}{level}")
    return " ".join(out)


def format_light(light: Iterable[Light], latch: frozenset[str] = frozenset()) -> str:
    out = [f"{x.ms}:{_letters(x.on)}" if x.on else str(x.ms) for x in light]
    if latch:
        out.append(f"latch:{_letters(latch)}")
    return " ".join(out)


def _letters(colours: frozenset[str]) -> str:
    return "".join(c[0] for c in COLOURS if c in colours)


def pattern(name: str, sound: str, light: str) -> Pattern:
    name = str(name)
    lights, latch = parse_light(light)
    return Pattern(name, parse_sound(sound), lights, latch)


#: Built-in patterns. Rhythms differ on an active buzzer; yellow means "found,
#: but look", red means "not counted / something is wrong"; latched LEDs stay on
#: until the next scan so a glance at the cart tells what the last scan was.
DEFAULTS: dict[str, Pattern] = {
    p.name: p
    for p in (
        pattern(Verdict.OK, "40@2700~0.25", "150:g"),
        pattern(Verdict.DUPLICATE, "70@1800 70 70@1800", "120:gy 80 120:gy"),
        pattern(Verdict.UNKNOWN, "100@1000 80 100@1000 80 100@1000", "600:r latch:r"),
        pattern(Verdict.ON_LOAN, "300@1500 100 80@1500", "500:y latch:y"),
        pattern(Verdict.WRONG_LOCATION, "80@1200 100 300@1200", "150:y 100 150:y latch:y"),
        pattern(
            Verdict.MISSHELVED,
            "150@800 50 150@1600 250 150@800 50 150@1600",
            "150:y 50 150:r 250 150:y 50 150:r latch:yr",
        ),
        pattern(Verdict.INVALID, "500@400", "500:r latch:r"),
        pattern(Verdict.EXCLUDED, "200@1000", "300:y"),
        # Good news that still needs the desk: rising, green then yellow, yellow kept.
        pattern(Verdict.FOUND_AGAIN, "80@2000 60 80@2000 120 250@2600", "200:g 100 300:y latch:y"),
        pattern(Verdict.COMMAND, "50@2000 30 50@3000", "100:g 50 100:g"),
        pattern(Verdict.ERROR, "700@300 150 700@300", "1000:r latch:r"),
        pattern(PROBLEM, "400@300 100 400@300 100 400@300", "1200:r latch:r"),
    )
}


def apply_override(patterns: dict[str, Pattern], entry: str, *, sound: bool) -> None:
    """Apply one ``"verdict = spec"`` override in place; ``ValueError`` says what is wrong."""
    name, sep, spec = entry.partition("=")
    name = name.strip()
    if not sep or name not in patterns:
        raise ValueError(
            f"must look like 'verdict = spec' with verdict one of {', '.join(patterns)}; "
            f"got {entry!r}"
        )
    old = patterns[name]
    if sound:
        patterns[name] = Pattern(name, parse_sound(spec), old.light, old.latch)
    else:
        light, latch = parse_light(spec)
        patterns[name] = Pattern(name, old.sound, light, latch)


def with_overrides(
    sounds: Sequence[str],
    lights: Sequence[str],
    base: Mapping[str, Pattern] = DEFAULTS,
) -> dict[str, Pattern]:
    """The patterns with ``buzzer.patterns`` / ``leds.patterns`` overrides applied.

    Config loading has already refused malformed overrides, naming the key.
    """
    out = dict(base)
    for entry in sounds:
        apply_override(out, entry, sound=True)
    for entry in lights:
        apply_override(out, entry, sound=False)
    return out
