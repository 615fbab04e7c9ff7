"""Key events in, barcodes out: the pure heart of scanner input.

A USB HID scanner "types" each barcode as key presses followed by a
terminator key (usually Enter). :class:`Decoder` turns the integer
``(type, code, value)`` triples of Linux input events back into text for one
scanner. It knows no devices, threads or clocks: time is whatever the caller
passes (kernel event time in a replay, a monotonic clock in the daemon), so
the same code decodes live scanners, raw captures and test input.

Only key-down events (value 1) produce characters; modifier releases
(value 0) are tracked; auto-repeat (value 2) and every non-key event are
ignored. Integer comparisons only, because evdev's ``KeyEvent.keycode`` can be
a tuple of names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple, Protocol

from kiosk.scanner import keymaps
from kiosk.scanner.keymaps import ALTGR, EV_KEY, EV_SYN, PLAIN, SHIFT, Layout

#: AIM symbology identifier: "]", a symbology letter, a modifier character (ISO/IEC 15424).
AIM_RE = re.compile(r"\][A-Za-z][0-9A-Za-z]")

#: Dead-key accents and the combining marks they put on the next letter.
_COMBINING = {"^": "\u0302", "`": "\u0300", "´": "\u0301", "¨": "\u0308", "~": "\u0303"}

_TABLE_SIZE = 256  # every key a scanner types has a code below 256
SYN_DROPPED = 0x03  # EV_SYN code: the kernel dropped events for this reader

# Modifier bits kept in Decoder._mods.
_LSHIFT, _RSHIFT, _LCTRL, _RCTRL, _LALT, _ALTGR = 1, 2, 4, 8, 16, 32
_MOD_BITS = {
    keymaps.KEY_LEFTSHIFT: _LSHIFT,
    keymaps.KEY_RIGHTSHIFT: _RSHIFT,
    keymaps.KEY_LEFTCTRL: _LCTRL,
    keymaps.KEY_RIGHTCTRL: _RCTRL,
    keymaps.KEY_LEFTALT: _LALT,
    keymaps.KEY_RIGHTALT: _ALTGR,
}
_SHIFT_MASK = _LSHIFT | _RSHIFT
_CTRL_MASK = _LCTRL | _RCTRL
_KEYPAD_DIGIT = {code: str(d) for d, code in enumerate(keymaps.KEYPAD_DIGITS)}


class ScannerSettings(Protocol):
    """The decoding settings (the ``[scanner]`` config section satisfies this)."""

    @property
    def layout(self) -> str: ...
    @property
    def terminators(self) -> Sequence[str]: ...
    @property
    def timeout_ms(self) -> int: ...
    @property
    def on_timeout(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def suffix(self) -> str: ...
    @property
    def aim(self) -> str: ...
    @property
    def max_length(self) -> int: ...


def _ignore(_message: str) -> None:
    pass


class Decoder:
    """Decodes the key events of one scanner into barcodes.

    :param layout: keyboard layout the scanner is set up for (name or :class:`Layout`).
    :param terminators: key names ending a barcode (see ``keymaps.TERMINATOR_KEYS``).
    :param timeout_s: a barcode with no key for this long is complete (or dropped).
    :param on_timeout: ``"flush"`` delivers such a barcode, ``"discard"`` drops it.
    :param prefix, suffix: removed from a barcode when present (scanner-added text).
    :param aim: ``"strip"`` removes a leading AIM identifier (``]C1``), ``"keep"``
        leaves it, ``"require"`` drops barcodes without one.
    :param max_length: longest barcode accepted; longer ones are dropped whole.
    :param on_problem: told, in words for a technician, about every dropped input.
    :raises ValueError: a setting no scanner can have (unknown layout or terminator key).
    """

    def __init__(
        self,
        layout: Layout | str = "us",
        *,
        terminators: Sequence[str] = ("enter", "kpenter"),
        timeout_s: float = 0.3,
        on_timeout: str = "flush",
        prefix: str = "",
        suffix: str = "",
        aim: str = "strip",
        max_length: int = 64,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        if on_timeout not in ("flush", "discard"):
            raise ValueError(f"on_timeout must be flush or discard; got {on_timeout!r}")
        if aim not in ("strip", "keep", "require"):
            raise ValueError(f"aim must be strip, keep or require; got {aim!r}")
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1; got {max_length}")
        self.layout = keymaps.get(layout) if isinstance(layout, str) else layout
        self.terminators = keymaps.terminator_codes(list(terminators))
        self.timeout_s = float(timeout_s)
        self.flush_on_timeout = on_timeout == "flush"
        self.prefix = prefix
        self.suffix = suffix
        self.aim = aim
        self.max_length = max_length
        self.on_problem = on_problem or _ignore
        #: AIM identifier of the last barcode returned ("" when it had none).
        self.last_aim = ""
        # What the scanner may type around the barcode itself still fits in the buffer.
        self._raw_limit = max_length + len(prefix) + len(suffix) + 3

        self._chars: list[tuple[str, str, str] | None] = [None] * _TABLE_SIZE
        self._caps_flips = [False] * _TABLE_SIZE
        self._term = [False] * _TABLE_SIZE
        for code, entry in self.layout.keys.items():
            if code < _TABLE_SIZE:
                self._chars[code] = entry
                plain, shifted = entry[PLAIN], entry[SHIFT]
                self._caps_flips[code] = plain.isalpha() and shifted == plain.upper() != plain
        for code in self.terminators:
            self._term[code] = True
            self._chars[code] = None  # a terminator never types a character
        self._dead = self.layout.dead - {(c, lvl) for c in self.terminators for lvl in range(3)}

        self._mods = 0
        self._caps = False
        self._buf: list[str] = []
        self._n = 0
        self._overflow = False
        self._lost = False
        self._dead_key = ""  # accent of a pressed dead key waiting for the next key
        self._alt_code = ""  # keypad digits typed while left Alt is held
        self._last = 0.0  # time of the last key press while something is pending

    @classmethod
    def from_config(
        cls, cfg: ScannerSettings, on_problem: Callable[[str], None] | None = None
    ) -> Decoder:
        """A decoder set up from scanner settings (such as the ``[scanner]`` section)."""
        return cls(
            cfg.layout,
            terminators=cfg.terminators,
            timeout_s=cfg.timeout_ms / 1000.0,
            on_timeout=cfg.on_timeout,
            prefix=cfg.prefix,
            suffix=cfg.suffix,
            aim=cfg.aim,
            max_length=cfg.max_length,
            on_problem=on_problem,
        )

    # -- state ---------------------------------------------------------------------
    @property
    def pending(self) -> str:
        """What has been typed since the last barcode (with any waiting accent)."""
        return "".join(self._buf) + self._dead_key + self._alt_code

    def _busy(self) -> bool:
        return bool(self._n or self._overflow or self._lost or self._dead_key or self._alt_code)

    def deadline(self) -> float | None:
        """When the partial barcode times out (in the caller's clock), or None if idle."""
        return self._last + self.timeout_s if self._busy() else None

    # -- input ---------------------------------------------------------------------
    def feed(self, type_: int, code: int, value: int, ts: float) -> str | None:
        """Take one input event; return a barcode when one is complete.

        A key press more than ``timeout_s`` after the previous one first ends
        the stale partial barcode (as :meth:`expire` would), so replaying a
        capture honours timeouts without a timer.
        """
        if type_ == EV_SYN and code == SYN_DROPPED:
            # The kernel's buffer for this reader overflowed and threw key events
            # away: the barcode being typed has holes, so it is dropped at its
            # terminator (or timeout) instead of being stored with keys missing.
            self._lost = True
            self._last = ts
            self._mods = 0
            return None
        if type_ != EV_KEY:
            return None
        if value == 0:
            bit = _MOD_BITS.get(code)
            if bit is not None:
                self._mods &= ~bit
                if bit == _LALT and self._alt_code:
                    self._alt_release()
            return None
        if value != 1:  # 2 = auto-repeat; anything else is not a key press
            return None

        out = None
        if ts - self._last > self.timeout_s and self._busy():
            out = self._timed_out()
        self._last = ts

        if not 0 <= code < _TABLE_SIZE:
            return out
        if self._term[code]:
            return self._finish() or out
        entry = self._chars[code]
        mods = self._mods
        if entry is None:
            bit = _MOD_BITS.get(code)
            if bit is not None:
                self._mods = mods | bit
            elif code == keymaps.KEY_CAPSLOCK:
                self._caps = not self._caps
            return out
        if mods & (_CTRL_MASK | _LALT):
            # Ctrl shortcuts type nothing; Alt + keypad digits is a character code.
            if mods & _LALT and not mods & _CTRL_MASK and code in _KEYPAD_DIGIT:
                self._alt_code += _KEYPAD_DIGIT[code]
            return out
        if mods & _ALTGR:
            level = ALTGR
        else:
            level = SHIFT if mods & _SHIFT_MASK else PLAIN
            if self._caps and self._caps_flips[code]:
                level = PLAIN if level else SHIFT
        ch = entry[level]
        if not ch:
            return out
        if self._dead and (code, level) in self._dead:
            if self._dead_key:
                self._add(self._dead_key)
            self._dead_key = ch
            return out
        if self._dead_key:
            ch = self._compose(self._dead_key, ch)
            self._dead_key = ""
        self._add(ch)
        return out

    def expire(self, now: float) -> str | None:
        """End a partial barcode whose scanner went quiet; the barcode if flushed."""
        if self._busy() and now - self._last >= self.timeout_s:
            return self._timed_out()
        return None

    def reset(self) -> str | None:
        """Forget everything (scanner gone); return the partial barcode dropped, if any."""
        partial = self.pending if self._busy() else None
        self._clear()
        self._mods = 0
        self._caps = False
        return partial

    # -- internals -----------------------------------------------------------------
    def _add(self, ch: str) -> None:
        n = self._n + len(ch)
        if n > self._raw_limit:
            self._overflow = True
        else:
            self._buf.append(ch)
            self._n = n

    @staticmethod
    def _compose(accent: str, ch: str) -> str:
        if ch == " ":
            return accent
        mark = _COMBINING.get(accent)
        if mark is not None:
            composed = unicodedata.normalize("NFC", ch + mark)
            if len(composed) == 1:
                return composed
        return accent + ch

    def _alt_release(self) -> None:
        digits, self._alt_code = self._alt_code, ""
        n = int(digits) % 256
        ch = bytes([n]).decode("cp1252" if digits.startswith("0") else "cp437", "replace")
        if ch.isprintable():
            self._add(ch)

    def _clear(self) -> None:
        self._buf.clear()
        self._n = 0
        self._overflow = False
        self._lost = False
        self._dead_key = ""
        self._alt_code = ""

    def _take(self) -> str | None:
        """The typed text, checked for length, with the buffer cleared; None if dropped."""
        if self._dead_key:
            self._add(self._dead_key)
        overflow, lost = self._overflow, self._lost
        raw = "".join(self._buf)
        self._clear()
        if lost:
            what = f"barcode {raw!r}" if raw else "a barcode (none of its keys arrived)"
            self.on_problem(
                f"keys were lost (the reader fell behind the scanner): {what} "
                "dropped; scan the last items again"
            )
            return None
        if overflow:
            self._too_long(raw)
            return None
        return raw

    def _too_long(self, text: str) -> None:
        self.on_problem(
            f"barcode longer than {self.max_length} characters dropped "
            f"(began {text[:20]!r}); raise scanner.max_length if such codes are real"
        )

    def _finish(self) -> str | None:
        raw = self._take()
        return self._clean(raw) if raw else None

    def _timed_out(self) -> str | None:
        raw = self._take()
        if not raw:
            return None
        if self.flush_on_timeout:
            return self._clean(raw)
        ms = round(self.timeout_s * 1000)
        self.on_problem(
            f"partial barcode {raw!r} dropped: no terminator key within {ms} ms "
            "(scan it again; if the scanner sends no Enter, set scanner.on_timeout = flush)"
        )
        return None

    def _clean(self, raw: str) -> str | None:
        """Strip scanner-added prefix, suffix and AIM identifier; None if not acceptable."""
        text = raw
        if self.prefix and text.startswith(self.prefix):
            text = text[len(self.prefix) :]
        if self.suffix and text.endswith(self.suffix):
            text = text[: -len(self.suffix)]
        aim = text[:3] if AIM_RE.match(text) else ""
        if aim and self.aim != "keep":
            text = text[3:]
        elif not aim and self.aim == "require":
            self.on_problem(
                f"barcode {raw!r} dropped: it has no AIM symbology identifier (like ]C1) "
                "but scanner.aim = require; enable AIM IDs on the scanner or set aim = strip"
            )
            return None
        if not text:
            self.on_problem(f"scan {raw!r} held no barcode once prefix/suffix/AIM were removed")
            return None
        if len(text) > self.max_length:
            self._too_long(text)
            return None
        self.last_aim = aim
        return text


class Decoded(NamedTuple):
    """One barcode out of a recorded event stream."""

    text: str
    ts: float  # event time of the key that completed it
    aim: str  # its AIM symbology identifier, if the scanner sent one


def iter_decoded(
    events: Iterable[tuple[int, int, int, float]], decoder: Decoder, *, end: bool = True
) -> Iterator[Decoded]:
    """Every barcode in a finished sequence of ``(type, code, value, ts)`` events.

    With ``end``, input that stops mid-barcode is treated as a timeout (flushed
    or dropped by the decoder's rule), as a scanner going quiet would be.
    """
    last = 0.0
    for type_, code, value, ts in events:
        last = ts
        text = decoder.feed(type_, code, value, ts)
        if text is not None:
            yield Decoded(text, ts, decoder.last_aim)
    if end:
        text = decoder.expire(float("inf"))
        if text is not None:
            yield Decoded(text, last, decoder.last_aim)


def decode_events(
    events: Iterable[tuple[int, int, int, float]], decoder: Decoder, *, end: bool = True
) -> list[str]:
    """The barcodes' texts in a finished event sequence (see :func:`iter_decoded`)."""
    return [d.text for d in iter_decoded(events, decoder, end=end)]
