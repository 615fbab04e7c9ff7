"""What the OLED shows: screen descriptions and a pure renderer to 1-bit images.

Screens are plain frozen dataclasses, so the display thread can tell whether a
redraw is needed by comparing them, and ``kiosk screens`` and the tests can
render every one without any hardware. Text uses Pillow's bundled scalable
font (Aileron, CC0; Pillow >= 10.1), which covers ASCII only: other letters are
folded to their base letter (``é`` -> ``e``) rather than drawn as boxes.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from kiosk import textfmt
from kiosk.feedback import Status
from kiosk.feedback.i18n import has, tr
from kiosk.models import Item, ProblemKind, Scan, Verdict

WIDTH, HEIGHT = 128, 64
#: Verdicts drawn on a lit band: anything but ``ok`` must stand out at a glance.
_QUIET = frozenset({Verdict.OK, Verdict.COMMAND})

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class Starting:
    version: str = ""
    name = "starting"


@dataclass(frozen=True)
class Idle:
    status: Status = field(default_factory=Status)
    last: Scan | None = None
    muted: bool = False
    problems: tuple[ProblemKind, ...] = ()
    name = "idle"


@dataclass(frozen=True)
class VerdictScreen:
    scan: Scan
    item: Item | None = None

    @property
    def name(self) -> str:
        command = self.scan.command
        return str(self.scan.verdict) if command is None else f"command-{command}"


@dataclass(frozen=True)
class Progress:
    title: str
    done: int
    total: int
    name = "sync"


@dataclass(frozen=True)
class ProblemScreen:
    kind: ProblemKind
    message: str = ""

    @property
    def name(self) -> str:
        return f"problem-{self.kind}"


@dataclass(frozen=True)
class Stopped:
    name = "stopped"


Screen = Starting | Idle | VerdictScreen | Progress | ProblemScreen | Stopped


@functools.cache
def font(size: int) -> Font:
    return ImageFont.load_default(size=size)


_EXTRA = frozenset("…·°")


def fold(text: str) -> str:
    """Make ``text`` drawable with the bundled font (ASCII plus a few signs)."""
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(ch):
            continue
        if " " <= ch <= "~" or ch in _EXTRA:
            out.append(ch)
        elif ch.isspace():
            out.append(" ")
        else:
            out.append("?")
    return "".join(out)


class _Canvas:
    """A 1-bit image with the few drawing moves the screens need."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.image = Image.new("1", (width, height), 0)
        self.draw = ImageDraw.Draw(self.image)
        self.width, self.height = width, height

    def width_of(self, text: str, f: Font) -> float:
        return self.draw.textlength(text, font=f)

    def fit(self, text: str, sizes: tuple[int, ...], max_w: float) -> Font:
        for size in sizes:
            if self.width_of(text, font(size)) <= max_w:
                return font(size)
        return font(sizes[-1])

    def clip(self, text: str, f: Font, max_w: float) -> str:
        if self.width_of(text, f) <= max_w:
            return text
        while text and self.width_of(text + "…", f) > max_w:
            text = text[:-1]
        return text.rstrip() + "…"

    def wrap(self, text: str, f: Font, max_w: float, lines: int) -> list[str]:
        """Greedy word wrap into at most ``lines`` lines; the last may be clipped later."""
        out: list[str] = []
        cur = ""
        for word in text.split():
            trial = f"{cur} {word}" if cur else word
            if not cur or self.width_of(_spaced(trial), f) <= max_w:
                cur = trial
            else:
                out.append(cur)
                cur = word
        if cur:
            out.append(cur)
        if len(out) > lines:
            out = [*out[: lines - 1], " ".join(out[lines - 1 :])]
        return out

    def text(
        self, xy: tuple[float, float], text: str, f: Font, *, fill: int = 1, anchor: str = "ls"
    ) -> None:
        self.draw.text(xy, text, font=f, fill=fill, anchor=anchor)

    def line(self, baseline: float, text: str, size: int = 11, *, fill: int = 1) -> None:
        f = font(size)
        self.text((1, baseline), self.clip(_spaced(fold(text)), f, self.width - 2), f, fill=fill)

    def band(self, text: str, height: int, sizes: tuple[int, ...], *, invert: bool) -> None:
        """A full-width title; lit background when ``invert`` so it reads as an alert."""
        if invert:
            self.draw.rectangle((0, 0, self.width - 1, height - 1), fill=1)
        text = fold(text)
        f = self.fit(text, sizes, self.width - 4)
        text = self.clip(text, f, self.width - 4)
        self.text((self.width / 2, height / 2), text, f, fill=0 if invert else 1, anchor="mm")


#: Baselines of the three small lines under a title band.
_ROWS = (34, 47, 60)
_BIG = (22, 20, 18, 16, 14, 12)


def render(
    screen: Screen, lang: str = "en", size: tuple[int, int] = (WIDTH, HEIGHT)
) -> Image.Image:
    """Draw ``screen`` in ``lang`` as a 1-bit image (lit pixels are 1)."""
    c = _Canvas(*size)
    match screen:
        case Starting():
            _starting(c, screen, lang)
        case Idle():
            _idle(c, screen, lang)
        case VerdictScreen():
            _verdict(c, screen, lang)
        case Progress():
            _progress(c, screen, lang)
        case ProblemScreen():
            _problem(c, screen, lang)
        case Stopped():
            _stopped(c, lang)
    return c.image


def _starting(c: _Canvas, s: Starting, lang: str) -> None:
    c.band("kiosk", 30, (26,), invert=False)
    c.draw.line((16, 32, c.width - 17, 32), fill=1)
    c.line(_ROWS[1], tr(lang, "starting"), 12)
    if s.version:
        c.line(_ROWS[2], s.version, 10)


def _idle(c: _Canvas, s: Idle, lang: str) -> None:
    st = s.status
    flags = " ".join(tr(lang, k) for k, on in (("paused", st.paused), ("muted", s.muted)) if on)
    c.draw.rectangle((0, 0, c.width - 1, 12), fill=1)
    f = font(10)
    flag_w = c.width_of(flags, f) + 4 if flags else 0
    title = _spaced(fold(st.stocktake or tr(lang, "stocktake")))
    c.text((2, 10), c.clip(title, f, c.width - 4 - flag_w), f, fill=0)
    if flags:
        c.text((c.width - 2, 10), flags, f, fill=0, anchor="rs")
    where = st.location or tr(lang, "no_location")
    if st.run:
        where = f"{where} · {tr(lang, 'run', n=st.run)}"
    c.line(24, where, 11)
    big = font(18)
    count = _num(st.scanned, lang)
    c.text((1, 41), count, big)
    c.text((c.width_of(count, big) + 5, 41), tr(lang, "scanned"), font(11))
    if s.problems:
        text = "! " + tr(lang, f"banner.{s.problems[0]}")
        c.draw.rectangle((0, 44, c.width - 1, 53), fill=1)
        c.line(52, text, 10, fill=0)
    else:
        synced = (
            tr(lang, "unsynced", n=_num(st.unsynced, lang))
            if st.unsynced
            else tr(lang, "all_synced")
        )
        c.line(52, synced, 10)
    if s.last is None:
        c.line(63, tr(lang, "ready"), 10)
    else:
        verdict = tr(lang, str(s.last.verdict))
        c.line(63, tr(lang, "last", v=verdict, code=s.last.code), 10)


def _num(n: int, lang: str) -> str:
    """Thousands grouped the way the reader expects (1,234 / 1.234)."""
    return textfmt.num(n, lang)


def _spaced(text: str) -> str:
    # The bundled font's space is two pixels wide: words run together on a 1-bit
    # panel unless spaces are doubled.
    return text.replace(" ", "  ")


def _title_of(scan: Scan, lang: str) -> str:
    if scan.command is not None:
        return tr(lang, f"cmd.{scan.command}")
    return tr(lang, str(scan.verdict))


def _verdict(c: _Canvas, s: VerdictScreen, lang: str) -> None:
    scan, item, d = s.scan, s.item, s.scan.detail
    c.band(_title_of(scan, lang), 24, _BIG, invert=scan.verdict not in _QUIET)
    head = scan.code if not item or not item.call_number else f"{scan.code}  {item.call_number}"
    title = item.title if item else ""
    lines: list[str] = [head]
    v = scan.verdict
    if v == Verdict.MISSHELVED and (b := d.belongs) is not None:
        after = b.after_call or b.after
        before = b.before_call or b.before
        lines += [tr(lang, "after", x=after)] if after else []
        lines += [tr(lang, "before", x=before)] if before else []
    elif v == Verdict.WRONG_LOCATION and d.expected_location:
        lines.append(tr(lang, "belongs", where=d.expected_location))
    elif v == Verdict.EXCLUDED:
        lines.append(tr(lang, "hint.excluded", status=(item.status if item else "") or "-"))
    elif scan.command is not None:
        # The location a LOCATION barcode sets, else what the command did.
        lines = [d.arg or tr(lang, f"hint.cmd.{scan.command}")]
    elif has(f"hint.{v}"):
        lines.append(tr(lang, f"hint.{v}"))
    if title and len(lines) < len(_ROWS):
        f = font(11)
        lines += c.wrap(fold(title), f, c.width - 2, len(_ROWS) - len(lines))
    for baseline, text in zip(_ROWS, lines, strict=False):
        c.line(baseline, text, 11)


def _progress(c: _Canvas, s: Progress, lang: str) -> None:
    key = s.title.lower()
    c.band(tr(lang, key) if has(key) else s.title.upper(), 16, (14, 12), invert=True)
    f = font(14)
    c.text((c.width / 2, 36), f"{_num(s.done, lang)} / {_num(s.total, lang)}", f, anchor="ms")
    c.draw.rectangle((2, 42, c.width - 3, 52), outline=1)
    frac = 0.0 if s.total <= 0 else min(1.0, max(0.0, s.done / s.total))
    inner = round((c.width - 8) * frac)
    if inner:
        c.draw.rectangle((4, 44, 4 + inner - 1, 50), fill=1)
    c.text((c.width / 2, 63), f"{round(frac * 100)} %", font(10), anchor="ms")


def _problem(c: _Canvas, s: ProblemScreen, lang: str) -> None:
    c.band("! " + tr(lang, f"problem.{s.kind}"), 24, _BIG, invert=True)
    f = font(11)
    text = fold(s.message or s.kind)
    for baseline, line in zip(_ROWS, c.wrap(text, f, c.width - 2, len(_ROWS)), strict=False):
        c.line(baseline, line, 11)


def _stopped(c: _Canvas, lang: str) -> None:
    c.band(tr(lang, "stopped"), 34, _BIG, invert=False)
    c.draw.line((16, 36, c.width - 17, 36), fill=1)
    c.line(_ROWS[2] - 4, tr(lang, "stopped.hint"), 11)
