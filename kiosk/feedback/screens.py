"""What the OLED shows: screen descriptions and a pure renderer to 1-bit images.

Screens are named tuples (cheap to define at every start), so the display
thread can tell whether a redraw is needed by comparing them (with their kind),
and ``kiosk screens`` and the tests can render every one without any hardware.
Text uses Pillow's bundled scalable font (Aileron, CC0; Pillow >= 10.1), which
covers ASCII only: other letters are folded to their base letter (``é`` ->
``e``) rather than drawn as boxes.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from kiosk import textfmt
from kiosk.feedback import Status, qr
from kiosk.feedback.i18n import has, tr
from kiosk.models import Command, Item, ProblemKind, Scan, Verdict

WIDTH, HEIGHT = 128, 64
#: Verdicts drawn on a lit band: anything but ``ok`` must stand out at a glance.
_QUIET = frozenset({Verdict.OK, Verdict.COMMAND})

if TYPE_CHECKING:  # PIL is imported when a screen is first drawn, on the display's thread
    from PIL import Image, ImageFont

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class Starting(NamedTuple):
    version: str = ""

    @property
    def name(self) -> str:
        return "starting"


class Idle(NamedTuple):
    status: Status = Status()
    last: Scan | None = None
    muted: bool = False
    problems: tuple[ProblemKind, ...] = ()

    @property
    def name(self) -> str:
        return "idle"


class VerdictScreen(NamedTuple):
    scan: Scan
    item: Item | None = None
    #: The cart after this scan: run number, span, no-label tally for command screens.
    status: Status = Status()

    @property
    def name(self) -> str:
        command = self.scan.command
        return str(self.scan.verdict) if command is None else f"command-{command}"


class Progress(NamedTuple):
    title: str
    done: int
    total: int

    @property
    def name(self) -> str:
        return "sync"


class ProblemScreen(NamedTuple):
    kind: ProblemKind
    message: str = ""  # the English account, for the log; the screen says it in its language
    details: tuple[str, ...] = ()  # filled into the screen's text (see ``body.*`` in i18n)

    @property
    def name(self) -> str:
        return f"problem-{self.kind}"


class Stopped(NamedTuple):
    @property
    def name(self) -> str:
        return "stopped"


class WebAddress(NamedTuple):
    """The cart page's address as a QR code for a phone, with a one-time login PIN."""

    url: str
    pin: str = ""

    @property
    def name(self) -> str:
        return "web"


Screen = Starting | Idle | VerdictScreen | Progress | ProblemScreen | Stopped | WebAddress


@functools.cache
def font(size: int) -> Font:
    from PIL import ImageFont  # noqa: PLC0415

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
        from PIL import Image, ImageDraw  # noqa: PLC0415

        self.image = Image.new("1", (width, height), 0)
        self.draw = ImageDraw.Draw(self.image)
        self.width, self.height = width, height
        #: Words that had to be cut ("…") though they are not data: a layout defect.
        self.cut: list[str] = []

    def width_of(self, text: str, f: Font) -> float:
        return self.draw.textlength(text, font=f)

    def fit(self, text: str, sizes: tuple[int, ...], max_w: float) -> Font:
        for size in sizes:
            if self.width_of(text, font(size)) <= max_w:
                return font(size)
        return font(sizes[-1])

    def clip(self, text: str, f: Font, max_w: float, *, data: bool = False) -> str:
        """``text`` cut to ``max_w`` with "…"; cutting anything but ``data`` is noted."""
        if self.width_of(text, f) <= max_w:
            return text
        if not data:
            self.cut.append(text)
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

    def line(
        self, baseline: float, text: str, size: int = 11, *, fill: int = 1, data: bool = False
    ) -> None:
        """One left-aligned line; ``data`` (a title, a call number) may be cut, words may not."""
        f = font(size)
        shown = self.clip(_spaced(fold(text)), f, self.width - 2, data=data)
        self.text((1, baseline), shown, f, fill=fill)

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
    return _draw(screen, lang, size).image


def cut_words(screen: Screen, lang: str = "en") -> list[str]:
    """Lines of ``screen`` that had to be cut short though they are words, not data."""
    return _draw(screen, lang, (WIDTH, HEIGHT)).cut


def _draw(screen: Screen, lang: str, size: tuple[int, int]) -> _Canvas:
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
        case WebAddress():
            _web(c, screen, lang)
    return c


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
    c.text((2, 10), c.clip(title, f, c.width - 4 - flag_w, data=True), f, fill=0)
    if flags:
        c.text((c.width - 2, 10), flags, f, fill=0, anchor="rs")
    where = st.location or tr(lang, "no_location")
    if st.run:
        where = f"{where} · {tr(lang, 'run', n=st.run)}"
    c.line(24, where, 11, data=bool(st.location))
    big = font(18)
    count = _num(st.scanned, lang)
    c.text((1, 41), count, big)
    c.text((c.width_of(count, big) + 5, 41), tr(lang, "scanned"), font(11))
    if s.problems:
        text = "! " + tr(lang, f"banner.{s.problems[0]}")
        c.draw.rectangle((0, 44, c.width - 1, 53), fill=1)
        c.line(52, text, 10, fill=0)
    else:
        # Big numbers: a smaller font, then a shorter text; never cut.
        for text in _sync_state(st, lang):
            state = _spaced(fold(text))
            f = c.fit(state, (10, 9, 8), c.width - 2)
            if c.width_of(state, f) <= c.width - 2:
                break
        c.text((1, 52), c.clip(state, f, c.width - 2), f)
    if s.last is None:
        c.line(63, tr(lang, "ready"), 10)
    else:
        verdict = tr(lang, str(s.last.verdict))
        c.line(63, tr(lang, "last", v=verdict, code=s.last.code), 10, data=True)


def _sync_state(st: Status, lang: str) -> list[str]:
    """Where the found scans stand (only what SLiMS confirmed is "in SLiMS"), longest first."""
    unsent = st.unsynced - st.exported
    if not st.unsynced:
        return [tr(lang, "all_synced")]
    if not unsent:
        return [tr(lang, "exported", n=_num(st.exported, lang))]
    if not st.exported:
        return [tr(lang, "unsynced", n=_num(st.unsynced, lang))]
    both = tr(lang, "unsynced_exported", n=_num(unsent, lang), m=_num(st.exported, lang))
    return [both, tr(lang, "not_in_slims", n=_num(st.unsynced, lang))]


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
    scan, item = s.scan, s.item
    c.band(_title_of(scan, lang), 24, _BIG, invert=scan.verdict not in _QUIET)
    if scan.command is not None:
        _command_lines(c, s, lang)
        return
    head = scan.code if not item or not item.call_number else f"{scan.code}  {item.call_number}"
    lines = [head, *_verdict_hints(s, lang)]
    for baseline, text in zip(_ROWS, lines, strict=False):
        c.line(baseline, text, 11, data=text is head)
    title = item.title if item else ""
    if title and len(lines) < len(_ROWS):
        rows = _ROWS[len(lines) :]
        wrapped = c.wrap(fold(title), font(11), c.width - 2, len(rows))
        for baseline, text in zip(rows, wrapped, strict=False):
            c.line(baseline, text, 11, data=True)


def _verdict_hints(s: VerdictScreen, lang: str) -> list[str]:
    """What the verdict means for this book, then what to do with it (data lines may be cut)."""
    scan, item, d = s.scan, s.item, s.scan.detail
    v = scan.verdict
    if v == Verdict.MISSHELVED and (b := d.belongs) is not None:
        after = b.after_call or b.after
        before = b.before_call or b.before
        out = [tr(lang, "after", x=after)] if after else []
        return out + ([tr(lang, "before", x=before)] if before else [])
    if v == Verdict.WRONG_LOCATION and d.expected_location:
        return [tr(lang, "belongs", where=d.expected_location)]
    if v == Verdict.EXCLUDED:
        return [tr(lang, "hint.excluded", status=(item.status if item else "") or "-")]
    if v == Verdict.FOUND_AGAIN:
        status = d.status or (item.status if item else "") or "-"
        return [tr(lang, "hint.found_again", status=status), tr(lang, "todo.found_again")]
    return [tr(lang, k) for k in (f"hint.{v}", f"todo.{v}") if has(k)]


def verdict_lines(s: VerdictScreen, lang: str = "en") -> list[str]:
    """A verdict screen's title and hint lines as words, without code and book title.

    For a terminal or log standing in for the panel (the demo's narration), so
    it says what the panel says.
    """
    if s.scan.command is not None:
        lines = [text for text, _ in _command_texts(s, lang)]
    else:
        lines = _verdict_hints(s, lang)
    return [_title_of(s.scan, lang), *lines]


def _command_lines(c: _Canvas, s: VerdictScreen, lang: str) -> None:
    """What a command did and what comes next: the run, its span, the tally."""
    lines = _command_texts(s, lang)
    if len(lines) == 1 and not lines[0][1]:  # one sentence: it may take every line
        words = c.wrap(fold(lines[0][0]), font(11), c.width - 2, len(_ROWS))
        lines = [(w, False) for w in words]
    for baseline, (text, data) in zip(_ROWS, lines[: len(_ROWS)], strict=False):
        c.line(baseline, text, 11, data=data)


def _command_texts(s: VerdictScreen, lang: str) -> list[tuple[str, bool]]:
    """``(text, is data)`` lines of a command screen."""
    scan, st = s.scan, s.status
    command = scan.command
    lines: list[tuple[str, bool]] = []  # (text, is data)
    if command is Command.LOCATION:
        lines.append((scan.detail.arg, True))
    if command in (Command.RUN, Command.LOCATION):
        lines.append((tr(lang, f"hint.cmd.{command}", n=st.run), False))
        first, last = st.last_span
        if command is Command.RUN and first and st.run > 1:
            # Call numbers are data: a long one may be cut, the words around it not.
            lines.append((tr(lang, "span.from", n=st.run - 1, x=first), True))
            lines.append((tr(lang, "span.to", x=last), True))
        else:
            lines.append((tr(lang, "next.run"), False))
    elif command is Command.NOLABEL:
        lines.append((tr(lang, "hint.cmd.nolabel", n=_num(st.nolabel, lang)), False))
        lines.append((tr(lang, "todo.nolabel"), False))
    elif command is not None:
        lines.append((tr(lang, f"hint.cmd.{command}"), False))
    return lines


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


def problem_words(s: ProblemScreen, lang: str = "en") -> tuple[str, str]:
    """A problem screen's title and text as words (unfolded), for narration and drawing."""
    key = f"body.{s.kind}"
    if not s.details and has(f"{key}.bare"):
        key = f"{key}.bare"
    try:
        text = tr(lang, key, *s.details) if has(key) else s.message or s.kind
    except IndexError:  # fewer details than the text names: the English account then
        text = s.message or s.kind
    return "! " + tr(lang, f"problem.{s.kind}"), text


def _problem(c: _Canvas, s: ProblemScreen, lang: str) -> None:
    title, body = problem_words(s, lang)
    c.band(title, 24, _BIG, invert=True)
    text = fold(body)
    f = font(11)
    lines = c.wrap(text, f, c.width - 2, len(_ROWS))
    for baseline, line in zip(_ROWS, lines, strict=False):
        # Details (a location, a code) are data; the words around them must fit.
        c.line(baseline, line, 11, data=bool(s.details) and line is lines[-1])


def _stopped(c: _Canvas, lang: str) -> None:
    c.band(tr(lang, "stopped"), 34, _BIG, invert=False)
    c.draw.line((16, 36, c.width - 17, 36), fill=1)
    c.line(_ROWS[2] - 4, tr(lang, "stopped.hint"), 11)


def _web(c: _Canvas, s: WebAddress, lang: str) -> None:
    """QR code on the left (dark modules on a lit field), address and PIN on the right."""
    try:
        sym = qr.symbol(s.url, c.height)
    except ValueError:  # no address fits: the words alone still tell what to type
        sym = None
    if sym is not None:
        qr.place(c.image, sym, 0, (c.height - sym.side) // 2)
    x = sym.side + 3 if sym is not None else 1
    w = c.width - x - 1
    small = font(9)
    c.text((x, 9), c.clip(_spaced(fold(tr(lang, "web"))), small, w), small)
    where = urlsplit(s.url)
    host, port = where.hostname or s.url, f":{where.port}" if where.port else ""
    lines = [host + port] if c.width_of(host + port, small) <= w else [host, port]
    for baseline, text in zip((21, 31), lines, strict=False):
        f = c.fit(text, (9, 8, 7), w)
        c.text((x, baseline), c.clip(text, f, w, data=True), f)
    if s.pin:
        c.text((x, 44), c.clip(_spaced(fold(tr(lang, "web.pin"))), small, w), small)
        c.text((x, 61), s.pin, c.fit(s.pin, (18, 16, 14, 12), w))
