"""A QR code of the cart page's address, laid out for the 128x64 one-bit panel.

The encoding is segno's (pure Python, no dependencies, kept up to date, and
it picks the smallest version and the strongest error correction that fits).
This module only decides how big the symbol can be drawn and puts its modules
on the panel: as dark squares on a lit field, the way phone cameras expect
them (an OLED's lit pixels are the light ones), inside a lit quiet zone.

An IPv4 address with a port (``http://255.255.255.255:65535/``, 29 bytes)
fits a version 2 symbol (25 modules) at 2 pixels a module: 62 pixels with a
3-module quiet zone, the largest a phone reads from a 0.96" panel. Longer
addresses fall back to 1 pixel a module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from PIL import Image

#: Quiet zone around the symbol, in modules: the standard's 4 where it fits, never under 2.
QUIET = (4, 3, 2)
#: Pixels per module, the largest first.
SCALES = (2, 1)


class Symbol(NamedTuple):
    """A QR symbol and how it is drawn: ``matrix[row][col]`` true for a dark module."""

    matrix: tuple[tuple[bool, ...], ...]
    version: int
    error: str
    scale: int
    quiet: int

    @property
    def modules(self) -> int:
        return len(self.matrix)

    @property
    def side(self) -> int:
        """Pixels across, quiet zone included."""
        return (self.modules + 2 * self.quiet) * self.scale


def symbol(text: str, max_side: int) -> Symbol:
    """``text`` as the largest symbol whose side (quiet zone included) fits ``max_side`` px.

    :raises ValueError: ``text`` does not fit in ``max_side`` pixels even at 1 px a module.
    """
    import segno  # noqa: PLC0415 (only when a code is shown: it costs a start ~30 ms)

    try:
        qr = segno.make_qr(text, error="l", boost_error=True)
    except segno.DataOverflowError as e:
        raise ValueError(f"too long for a QR code: {text!r}") from e
    matrix = tuple(tuple(bool(m) for m in row) for row in qr.matrix)
    version = int(qr.version)
    for scale in SCALES:
        for quiet in QUIET:
            if (len(matrix) + 2 * quiet) * scale <= max_side:
                return Symbol(matrix, version, qr.error or "", scale, quiet)
    raise ValueError(f"a QR code of {text!r} needs more than {max_side} pixels")


def place(image: Image.Image, sym: Symbol, x: int, y: int) -> None:
    """Draw ``sym`` with its top-left quiet-zone corner at ``(x, y)``: lit field, dark modules."""
    from PIL import ImageDraw  # noqa: PLC0415

    draw = ImageDraw.Draw(image)
    draw.rectangle((x, y, x + sym.side - 1, y + sym.side - 1), fill=1)
    s = sym.scale
    left, top = x + sym.quiet * s, y + sym.quiet * s
    for r, row in enumerate(sym.matrix):
        for c, dark in enumerate(row):
            if dark:
                px, py = left + c * s, top + r * s
                draw.rectangle((px, py, px + s - 1, py + s - 1), fill=0)
