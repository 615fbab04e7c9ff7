"""Keyboard layouts as plain tables of Linux key codes, for the barcode decoder.

A USB HID scanner does not send characters: it sends the key presses a person
would make on a keyboard of the layout it was set up for. The decoder needs
the same layout to turn those presses back into text. The Linux
``input-event-codes.h`` integers are written out here (and checked against
``evdev.ecodes`` by the tests) so decoding needs neither evdev nor a device.

Only the keys a scanner types are described: the main block, space and the
keypad. Keypad keys give their digit whatever the Num Lock state, because a
grabbed scanner has no console keeping that state and scanners in "keypad
emulation" send keypad digits on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

# -- linux/input-event-codes.h ---------------------------------------------------
EV_SYN = 0x00
EV_KEY = 0x01
EV_MSC = 0x04
EV_LED = 0x11
EV_MAX = 0x1F

KEY_ESC = 1
KEY_1 = 2
KEY_0 = 11
KEY_MINUS = 12
KEY_EQUAL = 13
KEY_TAB = 15
KEY_Q = 16
KEY_LEFTBRACE = 26
KEY_RIGHTBRACE = 27
KEY_ENTER = 28
KEY_LEFTCTRL = 29
KEY_A = 30
KEY_SEMICOLON = 39
KEY_APOSTROPHE = 40
KEY_GRAVE = 41
KEY_LEFTSHIFT = 42
KEY_BACKSLASH = 43
KEY_Z = 44
KEY_COMMA = 51
KEY_DOT = 52
KEY_SLASH = 53
KEY_RIGHTSHIFT = 54
KEY_KPASTERISK = 55
KEY_LEFTALT = 56
KEY_SPACE = 57
KEY_CAPSLOCK = 58
KEY_KP7 = 71
KEY_KP8 = 72
KEY_KP9 = 73
KEY_KPMINUS = 74
KEY_KP4 = 75
KEY_KP5 = 76
KEY_KP6 = 77
KEY_KPPLUS = 78
KEY_KP1 = 79
KEY_KP2 = 80
KEY_KP3 = 81
KEY_KP0 = 82
KEY_KPDOT = 83
KEY_102ND = 86
KEY_KPENTER = 96
KEY_RIGHTCTRL = 97
KEY_KPSLASH = 98
KEY_RIGHTALT = 100

#: Keypad digit keys, in the order 0..9 (used for Alt+keypad character codes).
KEYPAD_DIGITS: tuple[int, ...] = (
    KEY_KP0,
    KEY_KP1,
    KEY_KP2,
    KEY_KP3,
    KEY_KP4,
    KEY_KP5,
    KEY_KP6,
    KEY_KP7,
    KEY_KP8,
    KEY_KP9,
)

#: Every keypad key that types a character.
KEYPAD_KEYS = frozenset(KEYPAD_DIGITS) | {
    KEY_KPDOT,
    KEY_KPSLASH,
    KEY_KPASTERISK,
    KEY_KPMINUS,
    KEY_KPPLUS,
}

#: Key names usable in ``scanner.terminators``.
TERMINATOR_KEYS: dict[str, int] = {
    "enter": KEY_ENTER,
    "kpenter": KEY_KPENTER,
    "tab": KEY_TAB,
    "esc": KEY_ESC,
}

# Rows of the main block, as (first code, count) — codes within a row are consecutive.
_NUMBER_ROW = KEY_1  # 1 2 3 4 5 6 7 8 9 0 - =   (12 keys)
_TOP_ROW = KEY_Q  # q w e r t y u i o p [ ]     (12 keys)
_HOME_ROW = KEY_A  # a s d f g h j k l ; ' `    (12 keys: ends with KEY_GRAVE)
_BOTTOM_ROW = KEY_Z  # z x c v b n m , . /      (10 keys)

#: Level of a character: plain, with Shift, with AltGr (right Alt).
PLAIN, SHIFT, ALTGR = 0, 1, 2


class Layout(NamedTuple):
    """One keyboard layout: what each key types at each level.

    ``keys`` maps a key code to ``(plain, shift, altgr)``, ``""`` where the
    level types nothing. ``dead`` holds the ``(code, level)`` pairs that are
    dead keys (the accent waits for the next key; accent then space types the
    accent itself).
    """

    name: str
    description: str
    keys: dict[int, tuple[str, str, str]]
    dead: frozenset[tuple[int, int]] = frozenset()

    def keystrokes(self, text: str) -> list[tuple[int, int]]:
        """The ``(code, value)`` key events a scanner set to this layout sends for ``text``.

        The inverse of decoding, used to test the decoder and to build
        benchmark input. Raises :class:`ValueError` for a character this
        layout cannot type.
        """
        where = self._reverse()
        out: list[tuple[int, int]] = []
        for ch in text:
            if ch not in where:
                raise ValueError(f"layout {self.name} cannot type {ch!r}")
            code, level = where[ch]
            mod = {SHIFT: KEY_LEFTSHIFT, ALTGR: KEY_RIGHTALT}.get(level)
            if mod is not None:
                out.append((mod, 1))
            out += [(code, 1), (code, 0)]
            if mod is not None:
                out.append((mod, 0))
            if (code, level) in self.dead:
                out += [(KEY_SPACE, 1), (KEY_SPACE, 0)]
        return out

    def _reverse(self) -> dict[str, tuple[int, int]]:
        where: dict[str, tuple[int, int]] = {}
        # Main block before keypad (as scanners do), then plain before Shift before AltGr.
        main = sorted(c for c in self.keys if c not in KEYPAD_KEYS)
        for codes in (main, sorted(KEYPAD_KEYS & self.keys.keys())):
            for level in (PLAIN, SHIFT, ALTGR):
                for code in codes:
                    ch = self.keys[code][level]
                    if ch and ch not in where:
                        where[ch] = (code, level)
        return where


def _rows(
    table: dict[int, tuple[str, str, str]],
    first: int,
    plain: str,
    shift: str,
    altgr: str = "",
) -> None:
    altgr = altgr.ljust(len(plain))
    for i, (p, s, a) in enumerate(zip(plain, shift, altgr, strict=True)):
        table[first + i] = (p, s, a.strip())


def _keypad(decimal: str) -> dict[int, tuple[str, str, str]]:
    table = {code: (str(d), str(d), "") for d, code in enumerate(KEYPAD_DIGITS)}
    for code, ch in (
        (KEY_KPDOT, decimal),
        (KEY_KPSLASH, "/"),
        (KEY_KPASTERISK, "*"),
        (KEY_KPMINUS, "-"),
        (KEY_KPPLUS, "+"),
    ):
        table[code] = (ch, ch, "")
    return table


def _us() -> Layout:
    k = _keypad(".")
    _rows(k, _NUMBER_ROW, "1234567890-=", "!@#$%^&*()_+")
    _rows(k, _TOP_ROW, "qwertyuiop[]", "QWERTYUIOP{}")
    _rows(k, _HOME_ROW, "asdfghjkl;'`", 'ASDFGHJKL:"~')
    _rows(k, _BOTTOM_ROW, "zxcvbnm,./", "ZXCVBNM<>?")
    k[KEY_BACKSLASH] = ("\\", "|", "")
    k[KEY_102ND] = ("<", ">", "")
    k[KEY_SPACE] = (" ", " ", "")
    return Layout("us", "US English (QWERTY)", k)


def _de() -> Layout:
    k = _keypad(",")
    _rows(k, _NUMBER_ROW, "1234567890ß´", '!"§$%&/()=?`', " ²³   {[]}\\ ")
    _rows(k, _TOP_ROW, "qwertzuiopü+", "QWERTZUIOPÜ*", "@ €        ~")
    _rows(k, _HOME_ROW, "asdfghjklöä^", "ASDFGHJKLÖÄ°")
    _rows(k, _BOTTOM_ROW, "yxcvbnm,.-", "YXCVBNM;:_", "      µ   ")
    k[KEY_BACKSLASH] = ("#", "'", "")
    k[KEY_102ND] = ("<", ">", "|")
    k[KEY_SPACE] = (" ", " ", "")
    dead = frozenset({(KEY_EQUAL, PLAIN), (KEY_EQUAL, SHIFT), (KEY_GRAVE, PLAIN)})
    return Layout("de", "German (QWERTZ)", k, dead)


def _fr() -> Layout:
    k = _keypad(".")
    _rows(k, _NUMBER_ROW, "&é\"'(-è_çà)=", "1234567890°+", " ~#{[|`\\^@]}")
    _rows(k, _TOP_ROW, "azertyuiop^$", "AZERTYUIOP¨£", "  €        ¤")
    _rows(k, _HOME_ROW, "qsdfghjklmù²", "QSDFGHJKLM% ")
    _rows(k, _BOTTOM_ROW, "wxcvbn,;:!", "WXCVBN?./§")
    k[KEY_BACKSLASH] = ("*", "µ", "")
    k[KEY_102ND] = ("<", ">", "")
    k[KEY_SPACE] = (" ", " ", "")
    dead = frozenset({(KEY_LEFTBRACE, PLAIN), (KEY_LEFTBRACE, SHIFT)})
    return Layout("fr", "French (AZERTY)", k, dead)


#: Every layout selectable by ``scanner.layout``.
LAYOUTS: dict[str, Layout] = {lay.name: lay for lay in (_us(), _de(), _fr())}


def get(name: str) -> Layout:
    """The layout called ``name``; a :class:`ValueError` naming the choices otherwise."""
    try:
        return LAYOUTS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown keyboard layout {name!r}; "
            f"choose one of {', '.join(LAYOUTS)} (the layout the scanner is set up for)"
        ) from None


def terminator_codes(names: Iterable[str]) -> frozenset[int]:
    """Key codes for terminator key names; :class:`ValueError` for an unknown one."""
    codes = set()
    for name in names:
        try:
            codes.add(TERMINATOR_KEYS[name.lower()])
        except KeyError:
            raise ValueError(
                f"unknown terminator key {name!r}; known keys: {', '.join(TERMINATOR_KEYS)}"
            ) from None
    return frozenset(codes)
