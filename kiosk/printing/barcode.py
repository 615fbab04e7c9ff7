"""Code 128 (code set B) for the printed command sheet, with no extra dependency.

Code set B covers printable ASCII, which is all a command barcode needs
(``KIOSK:location:Rak Umum``). A symbol is a start character, one symbol per
character, a modulo-103 check symbol and the stop pattern; every symbol is
three bars and three spaces, eleven modules wide (the stop is thirteen). The
quiet zone of ten modules on each side is part of what is rendered: scanners
will not read a code printed too close to the next one.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PIL import Image, ImageDraw

from kiosk.exc import BarcodeError

__all__ = [
    "PATTERNS",
    "QUIET",
    "START_B",
    "STOP",
    "checksum",
    "encode",
    "render",
    "svg",
    "widths",
]

#: Bar/space widths in modules of symbol values 0…105 (103–105: start A, B, C).
PATTERNS: tuple[str, ...] = tuple(
    """
    212222 222122 222221 121223 121322 131222 122213 122312 132212 221213
    221312 231212 112232 122132 122231 113222 123122 123221 223211 221132
    221231 213212 223112 312131 311222 321122 321221 312212 322112 322211
    212123 212321 232121 111323 131123 131321 112313 132113 132311 211313
    231113 231311 112133 112331 132131 113123 113321 133121 313121 211331
    231131 213113 213311 213131 311123 311321 331121 312113 312311 332111
    314111 221411 431111 111224 111422 121124 121421 141122 141221 112214
    112412 122114 122411 142112 142211 241211 221114 413111 241112 134111
    111242 121142 121241 114212 124112 124211 411212 421112 421211 212141
    214121 412121 111143 111341 131141 114113 114311 411113 411311 113141
    114131 311141 411131 211412 211214 211232
    """.split()  # noqa: SIM905 (rows of ten read better than 106 quoted strings)
)

START_B = 104
#: The stop pattern: the stop symbol plus its two-module termination bar.
STOP = "2331112"
#: Quiet zone on each side, in modules (the standard's minimum).
QUIET = 10


def _value(ch: str, pos: int, text: str) -> int:
    code = ord(ch)
    if not 32 <= code <= 126:
        raise BarcodeError(
            f"cannot print {text!r} as a Code 128 barcode: character {pos + 1} ({ch!r}) is not "
            "printable ASCII; rename it using letters, digits and punctuation only"
        )
    return code - 32


def checksum(values: Sequence[int]) -> int:
    """Check symbol of ``values`` (start first): start + Σ position × value, modulo 103."""
    return (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103


def encode(text: str) -> list[int]:
    """Symbol values of ``text`` in code set B: start, data, check (the stop is implied)."""
    if not text:
        raise BarcodeError("cannot print an empty barcode")
    values = [START_B, *(_value(ch, i, text) for i, ch in enumerate(text))]
    return [*values, checksum(values)]


def widths(text: str) -> list[int]:
    """Element widths in modules, bar first, from start to stop (no quiet zones)."""
    return [int(w) for w in "".join(PATTERNS[v] for v in encode(text)) + STOP]


def _bars(text: str) -> tuple[int, list[tuple[int, int]]]:
    """Total width in modules, quiet zones included, and each bar's (start, width)."""
    bars = []
    x = QUIET
    for i, w in enumerate(widths(text)):
        if i % 2 == 0:
            bars.append((x, w))
        x += w
    return x + QUIET, bars


def render(text: str, *, module: int = 3, height: int = 120) -> Image.Image:
    """The barcode as a black-on-white 1-bit image, quiet zones included.

    ``module`` is the narrowest bar in pixels: 3 px at 300 dpi is 0.25 mm, which
    ordinary handheld scanners read from arm's length.
    """
    total, bars = _bars(text)
    img = Image.new("1", (total * module, height), 1)
    draw = ImageDraw.Draw(img)
    for x, w in bars:
        draw.rectangle((x * module, 0, (x + w) * module - 1, height - 1), fill=0)
    return img


def svg(text: str, *, module_mm: float = 0.33, height_mm: float = 14.0) -> str:
    """The barcode as inline SVG sized in millimetres, so it prints at a known scale."""
    total, bars = _bars(text)
    rects = "".join(f'<rect x="{x}" width="{w}" height="1"/>' for x, w in bars)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total * module_mm:.2f}mm" '
        f'height="{height_mm:.2f}mm" viewBox="0 0 {total} 1" preserveAspectRatio="none" '
        f'shape-rendering="crispEdges" role="img" '
        f'aria-label="{html.escape(text)}"><rect width="{total}" height="1" fill="#fff"/>'
        f'<g fill="#000">{rects}</g></svg>'
    )
