"""Code 128 B: what is printed is what a scanner reads back."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from kiosk.exc import BarcodeError
from kiosk.printing import barcode


def runs(row: list[bool]) -> list[tuple[bool, int]]:
    """(is_black, length) runs of one row of pixels."""
    out: list[tuple[bool, int]] = []
    for px in row:
        if out and out[-1][0] == px:
            out[-1] = (px, out[-1][1] + 1)
        else:
            out.append((px, 1))
    return out


def decode_row(row: list[bool], quiet: int = 10) -> str:
    """A tiny Code 128 B reader: bar widths from one row of pixels, back to text.

    It checks what a real scanner checks: quiet zones, start B, the check
    symbol and the stop pattern.
    """
    r = runs(row)
    assert not r[0][0] and not r[-1][0], "the row must start and end in white"
    lead, trail = r[0][1], r[-1][1]
    elements = [n for _, n in r[1:-1]]
    module = sum(elements[:6]) / 11  # the start symbol is 11 modules wide
    assert lead >= quiet * module and trail >= quiet * module, "quiet zone too small"
    w = [round(n / module) for n in elements]
    assert all(abs(n - k * module) < 0.5 for n, k in zip(elements, w, strict=True))
    assert len(w) % 6 == 1 and "".join(map(str, w[-7:])) == "2331112", "no stop pattern"
    table = {p: v for v, p in enumerate(barcode.PATTERNS)}
    values = [table["".join(map(str, w[i : i + 6]))] for i in range(0, len(w) - 7, 6)]
    assert values[0] == 104, "not code set B"
    data, check = values[1:-1], values[-1]
    assert (values[0] + sum(i * v for i, v in enumerate(data, 1))) % 103 == check, "bad check"
    return "".join(chr(v + 32) for v in data)


def image_row(img: Image.Image, y: int | None = None) -> list[bool]:
    gray = img.convert("L")
    y = gray.height // 2 if y is None else y
    return [gray.getpixel((x, y)) < 128 for x in range(gray.width)]  # type: ignore[operator]


def svg_row(svg: str) -> list[bool]:
    """Rasterise an SVG made of unit-height rects, one pixel per module."""
    total = int(re.search(r'viewBox="0 0 (\d+) 1"', svg).group(1))  # type: ignore[union-attr]
    row = [False] * total
    for x, w in re.findall(r'<rect x="(\d+)" width="(\d+)" height="1"/>', svg):
        for i in range(int(x), int(x) + int(w)):
            row[i] = True
    return row


def test_pattern_table_has_code128_shape() -> None:
    """Every symbol is 3 bars and 3 spaces, 11 modules, an even bar total, and all differ."""
    assert len(barcode.PATTERNS) == 106
    assert len(set(barcode.PATTERNS)) == 106
    for p in barcode.PATTERNS:
        w = [int(c) for c in p]
        assert len(w) == 6 and sum(w) == 11 and all(1 <= x <= 4 for x in w)
        assert sum(w[0::2]) % 2 == 0
    assert barcode.PATTERNS[0] == "212222"  # space
    assert barcode.PATTERNS[104] == "211214"  # start B
    assert sum(int(c) for c in barcode.STOP) == 13


def test_checksum_matches_the_worked_example() -> None:
    """'PJJ123C' in code set B has check symbol 55, as computed by hand in the standard's way."""
    assert barcode.encode("PJJ123C") == [104, 48, 42, 42, 17, 18, 19, 35, 55]


@pytest.mark.parametrize("module", [1, 2, 3, 5])
@pytest.mark.parametrize(
    "text", ["KIOSK:undo", "KIOSK:location:Rak Umum", "~!{}|`^_ 0", "B00001", "x"]
)
def test_rendered_image_reads_back(text: str, module: int) -> None:
    """A rendered barcode decodes back to its text at any bar width."""
    img = barcode.render(text, module=module, height=20)
    assert decode_row(image_row(img)) == text
    assert img.width == (sum(barcode.widths(text)) + 2 * barcode.QUIET) * module


def test_svg_reads_back_and_is_sized_in_millimetres() -> None:
    """The inline SVG used on the printed sheet decodes to the same text, at a known scale."""
    text = "KIOSK:location:Koleksi Anak"
    svg = barcode.svg(text, module_mm=0.5, height_mm=12)
    assert decode_row(svg_row(svg)) == text
    modules = sum(barcode.widths(text)) + 2 * barcode.QUIET
    assert f'width="{modules * 0.5:.2f}mm"' in svg and 'height="12.00mm"' in svg


def test_wrong_check_symbol_is_caught_by_the_reader() -> None:
    """The test reader is strict: one changed symbol fails the check, so passing means something."""
    img = barcode.render("KIOSK:run", module=2, height=4)
    row = image_row(img)
    # Re-draw the first data symbol as a different character.
    good = barcode.widths("KIOSK:run")
    bad = barcode.widths("LIOSK:run")
    assert good[6:12] != bad[6:12]
    rebuilt = [False] * (barcode.QUIET * 2)
    for i, n in enumerate(good[:6] + bad[6:12] + good[12:]):
        rebuilt += [i % 2 == 0] * (n * 2)
    rebuilt += [False] * (barcode.QUIET * 2)
    assert len(rebuilt) == len(row)
    with pytest.raises(AssertionError, match="bad check"):
        decode_row(rebuilt)


@pytest.mark.parametrize("text", ["Café", "tab\there", "", "line\n"])
def test_unprintable_text_is_refused_with_the_character(text: str) -> None:
    """Text outside printable ASCII is refused with a message naming the character."""
    with pytest.raises(BarcodeError) as err:
        barcode.encode(text)
    assert "barcode" in str(err.value)
