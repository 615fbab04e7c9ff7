"""Sound and light patterns in words, and one narrated line per scan.

A pattern is timings and frequencies (:mod:`kiosk.feedback.patterns`); a
librarian hears "two short beeps" and sees "yellow flashes twice". The printed
card and the simulated cart's narration both come from here, from the patterns
actually configured, so neither can drift from what the cart does.

Words follow what a person notices: the rhythm first (count, short or long,
single or double beeps, pauses of 200 ms or more separate groups), then the
pitch in brackets, which only a passive buzzer has (an active buzzer knows
on/off only, so ``pitched=False`` leaves pitch out).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from kiosk.feedback import Status
from kiosk.feedback.patterns import COLOURS, Light, Pattern, Tone
from kiosk.feedback.screens import ProblemScreen, VerdictScreen, problem_words, verdict_lines
from kiosk.models import Item, ProblemKind, Scan

#: A pause at least this long (ms) separates two groups of beeps or flashes.
GROUP_GAP_MS = 200
#: Beeps up to VERY_SHORT_MS long are "very short", up to SHORT_MS "short",
#: longer than LONG_MS "long" (``ok`` and ``command`` must not sound like ``duplicate``).
VERY_SHORT_MS, SHORT_MS, LONG_MS = 60, 100, 250
#: Upper bounds (Hz) of the pitch words, lowest first; anything above is "high".
PITCHES = ((500, "very_low"), (1000, "low"), (1500, "medium"))
#: Tones below this share of the volume are "soft".
SOFT_LEVEL = 0.5

#: key -> (English, Indonesian)
WORDS: dict[str, tuple[str, str]] = {
    "n1": ("one", "satu"),
    "n2": ("two", "dua"),
    "n3": ("three", "tiga"),
    "n4": ("four", "empat"),
    "n5": ("five", "lima"),
    "x1": ("once", "sekali"),
    "x2": ("twice", "dua kali"),
    "x3": ("three times", "tiga kali"),
    "xn": ("{n} times", "{n} kali"),
    "very_short": ("very short", "sangat pendek"),
    "short": ("short", "pendek"),
    "long": ("long", "panjang"),
    "beep": ("{n} {len} beep", "{n} bip {len}"),
    "beeps": ("{n} {len} beeps", "{n} bip {len}"),
    "double": ("{n} {len} double beep", "{n} bip ganda {len}"),
    "doubles": ("{n} {len} double beeps", "{n} bip ganda {len}"),
    "triple": ("{n} {len} triple beep", "{n} bip rangkap tiga {len}"),
    "triples": ("{n} {len} triple beeps", "{n} bip rangkap tiga {len}"),
    "then": ("{a}, then {b}", "{a}, lalu {b}"),
    "pitch": ("{p} pitch", "nada {p}"),
    "very_low": ("very low", "sangat rendah"),
    "low": ("low", "rendah"),
    "medium": ("medium", "sedang"),
    "high": ("high", "tinggi"),
    "moving": ("{way} {p}", "{p} {way}"),
    "rising": ("rising", "naik"),
    "falling": ("falling", "turun"),
    "soft": ("soft", "pelan"),
    "no_sound": ("no sound", "tanpa bunyi"),
    "muted": ("no sound (muted)", "tanpa bunyi (senyap)"),
    "green": ("green", "hijau"),
    "yellow": ("yellow", "kuning"),
    "red": ("red", "merah"),
    "and": ("{a} and {b}", "{a} dan {b}"),
    "flash1": ("{c} flashes {x}", "{c} berkedip {x}"),
    "flash2": ("{c} flash {x}", "{c} berkedip {x}"),
    "stay1": ("{c} stays lit", "{c} tetap menyala"),
    "stay2": ("{c} stay lit", "{c} tetap menyala"),
    "lit1": ("{c} lights and stays lit", "{c} menyala terus"),
    "lit2": ("{c} light and stay lit", "{c} menyala terus"),
    "no_light": ("no light", "tanpa lampu"),
    "sound": ("sound", "bunyi"),
    "light": ("light", "lampu"),
}


def word(lang: str, key: str, **fmt: object) -> str:
    """``key`` in ``lang`` (English unless ``"id"``), with ``{…}`` fields filled."""
    text = WORDS[key][1 if lang == "id" else 0]
    return " ".join(text.format(**fmt).split()) if fmt else text


def _number(lang: str, n: int) -> str:
    return word(lang, f"n{n}") if f"n{n}" in WORDS else str(n)


def _times(lang: str, n: int) -> str:
    return word(lang, f"x{n}") if f"x{n}" in WORDS else word(lang, "xn", n=n)


# -- sound -------------------------------------------------------------------------------
class _Beep(NamedTuple):
    ms: int
    hz: float
    level: float

    @property
    def length(self) -> str:
        if self.ms <= VERY_SHORT_MS:
            return "very_short"
        return "short" if self.ms <= SHORT_MS else "long" if self.ms > LONG_MS else ""


def _groups(steps: Sequence[tuple[int, bool]]) -> list[list[int]]:
    """Indices of the ``on`` steps, grouped where an ``off`` pause is long enough."""
    groups: list[list[int]] = []
    gap = GROUP_GAP_MS
    for i, (ms, on) in enumerate(steps):
        if not on:
            gap += ms
            continue
        if gap >= GROUP_GAP_MS or not groups:
            groups.append([])
        groups[-1].append(i)
        gap = 0
    return groups


def sound_words(sound: Sequence[Tone], lang: str = "en", *, pitched: bool = True) -> str:
    """``"40@2700~0.25"`` -> ``"one short beep (high, soft)"``; no pitch when not ``pitched``."""
    index = _groups([(t.ms, t.hz > 0) for t in sound])
    if not index:
        return word(lang, "no_sound")
    groups = [[_Beep(sound[i].ms, sound[i].hz, sound[i].level) for i in g] for g in index]
    rhythm = _rhythm(groups, lang)
    if not pitched:
        return rhythm
    extra = [word(lang, "pitch", p=_pitch(groups, lang))]
    if all(b.level < SOFT_LEVEL for g in groups for b in g):
        extra.append(word(lang, "soft"))
    return f"{rhythm} ({', '.join(extra)})"


def _rhythm(groups: list[list[_Beep]], lang: str) -> str:
    def shape(g: list[_Beep]) -> tuple[str, ...]:
        return tuple(b.length for b in g)

    one = groups[0]
    same_length = len({b.length for b in one}) == 1
    singles = all(len(g) == 1 for g in groups) and len({g[0].length for g in groups}) == 1
    if singles or (len(groups) == 1 and same_length):
        n = len(groups) if singles else len(one)
        key = "beep" if n == 1 else "beeps"
        return word(lang, key, n=_number(lang, n), len=_length(lang, one[0]))
    if same_length and len(one) in (2, 3) and all(shape(g) == shape(one) for g in groups):
        base = "double" if len(one) == 2 else "triple"
        key = base if len(groups) == 1 else base + "s"
        return word(lang, key, n=_number(lang, len(groups)), len=_length(lang, one[0]))
    parts = [
        word(lang, "beep", n=_number(lang, 1), len=_length(lang, b)) for g in groups for b in g
    ]
    text = parts[0]
    for part in parts[1:]:
        text = word(lang, "then", a=text, b=part)
    return text


def _length(lang: str, beep: _Beep) -> str:
    return word(lang, beep.length) if beep.length else ""


def _pitch_class(hz: float) -> str:
    for limit, name in PITCHES:
        if hz < limit:
            return name
    return "high"


def _pitch(groups: list[list[_Beep]], lang: str) -> str:
    """The pitch of a group: one word, ``low-high`` for a change, or rising/falling."""
    group = (
        groups[0]
        if all(len(g) == len(groups[0]) for g in groups)
        else [b for g in groups for b in g]
    )
    classes = list(dict.fromkeys(_pitch_class(b.hz) for b in group))
    if len(classes) > 1:
        return "-".join(word(lang, c) for c in classes)
    first, last = group[0].hz, group[-1].hz
    if len(group) > 1 and first != last:
        way = word(lang, "rising" if last > first else "falling")
        return word(lang, "moving", p=word(lang, classes[0]), way=way)
    return word(lang, classes[0])


# -- light -------------------------------------------------------------------------------
def _colours(on: frozenset[str], lang: str) -> tuple[str, bool]:
    """The colours lit together in words, and whether that is more than one."""
    names = [word(lang, c) for c in COLOURS if c in on]
    text = names[0]
    for name in names[1:]:
        text = word(lang, "and", a=text, b=name)
    return text, len(names) > 1


def light_words(
    light: Sequence[Light], latch: frozenset[str] = frozenset(), lang: str = "en"
) -> str:
    """``"150:y 50 150:r 250 150:y 50 150:r latch:yr"`` -> ``"yellow-red flashes twice, …"``."""
    index = _groups([(x.ms, bool(x.on)) for x in light])
    groups = [[light[i].on for i in g] for g in index]
    if not groups:
        if not latch:
            return word(lang, "no_light")
        c, many = _colours(latch, lang)
        return word(lang, "lit2" if many else "lit1", c=c)
    if len(groups) == 1 and len(groups[0]) == 1 and groups[0][0] == latch:
        c, many = _colours(latch, lang)
        return word(lang, "lit2" if many else "lit1", c=c)
    text = _flashes(groups, lang)
    if latch:
        c, many = _colours(latch, lang)
        text = word(lang, "then", a=text, b=word(lang, "stay2" if many else "stay1", c=c))
    return text


def _flashes(groups: list[list[frozenset[str]]], lang: str) -> str:
    one = groups[0]
    if len(groups) == 1 and len(set(one)) == 1:
        c, many = _colours(one[0], lang)
        return word(lang, "flash2" if many else "flash1", c=c, x=_times(lang, len(one)))
    if all(g == one for g in groups):
        c = "-".join(_colours(on, lang)[0] for on in one)
        return word(lang, "flash1", c=c, x=_times(lang, len(groups)))
    parts = [_flashes([g], lang) for g in groups]
    text = parts[0]
    for part in parts[1:]:
        text = word(lang, "then", a=text, b=part)
    return text


# -- screen and narration ----------------------------------------------------------------
def screen_words(
    scan: Scan, item: Item | None, lang: str = "en", status: Status | None = None
) -> str:
    """The verdict screen's words on one line: ``"MISSHELVED: after 020 PRA m, before …"``.

    ``status`` is the cart after the scan (run number, span, tally on command screens).
    """
    screen = VerdictScreen(scan, item, status or Status())
    title, *lines = verdict_lines(screen, lang)
    return f"{title}: {', '.join(lines)}" if lines else title


class Narrator(NamedTuple):
    """One line per signal saying what a librarian at the cart sees and hears.

    :param lang: the screen's language.
    :param pitched: the buzzer plays pitches (a passive buzzer).
    """

    lang: str = "en"
    pitched: bool = True

    def signals(self, pattern: Pattern | None, *, muted: bool = False) -> str:
        """``"sound: … | light: …"`` for ``pattern``."""
        if pattern is None:
            sound, light = word(self.lang, "no_sound"), word(self.lang, "no_light")
        else:
            sound = (
                word(self.lang, "muted")
                if muted and pattern.sound
                else sound_words(pattern.sound, self.lang, pitched=self.pitched)
            )
            light = light_words(pattern.light, pattern.latch, self.lang)
        return f"{word(self.lang, 'sound')}: {sound} | {word(self.lang, 'light')}: {light}"

    def scan(
        self,
        scan: Scan,
        item: Item | None,
        pattern: Pattern | None,
        *,
        muted: bool,
        status: Status | None = None,
    ) -> str:
        """``"B0012  020 SUL p  ->  MISSHELVED: after 020 PRA m | sound: … | light: …"``."""
        call = item.call_number if item else ""
        head = f"{scan.code:<10} {call:<17}" if call else f"{scan.code:<28}"
        screen = screen_words(scan, item, self.lang, status)
        return f"{head} -> {screen} | {self.signals(pattern, muted=muted)}"

    def problem(
        self,
        kind: ProblemKind,
        message: str,
        pattern: Pattern | None,
        *,
        muted: bool,
        details: tuple[str, ...] = (),
    ) -> str:
        """``"! NO SCANNER: Plug a barcode scanner … | sound: … | light: …"``."""
        title, body = problem_words(ProblemScreen(kind, message, details), self.lang)
        return f"{title}: {body} | {self.signals(pattern, muted=muted)}"
