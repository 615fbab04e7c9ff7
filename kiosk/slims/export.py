"""Read SLiMS's item export (Bibliography → Item Export) as it really is.

SLiMS does not write RFC 4180 CSV. Each value goes through
``mysqli::escape_string`` and then ``stripslashes`` and is wrapped in the
encloser as is, so:

- a quote inside a value is *not* doubled: ``"Say "hi", then go"`` is one title;
- a line break inside a value comes out as the letter ``n`` (``\\r`` as ``r``),
  so a record never spans two lines;
- the header row ends with a stray separator; data rows do not;
- the separator, encloser and record separator (``\\n`` or ``\\r``) are chosen
  in the export form, and the header row is optional (off by default).

The ``csv`` module would split or glue such rows wrongly, so this parser cuts
each line on ``encloser + separator + encloser``. When a value itself contains
that sequence, the extra pieces are given back to the one free-text column
(title first) that leaves every date column looking like a date. Rows that
cannot be read are reported with their line number and skipped; they never
stop the import of the rest.

Before a parse may replace a catalogue, :func:`check_complete` judges the
whole: the rows must be as many as SLiMS counts (its item export has no
Content-Length and can break off cleanly), the last row must be whole, and
most rows must be readable. The bytes are decoded as what they are (UTF-8
with or without BOM, UTF-16 as Excel's "Unicode text" writes it, Windows-1252
or Latin-1 from old installs); a binary file is refused with the fix.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.exc import CatalogError
from kiosk.models import Item

__all__ = [
    "COLUMNS",
    "ExportDialect",
    "ExportReport",
    "check_complete",
    "decode_text",
    "parse_export",
    "read_export_file",
]

#: Columns of SLiMS 9 item export, in order (the header names SLiMS writes).
COLUMNS: tuple[str, ...] = (
    "item_code",
    "call_number",
    "coll_type_name",
    "inventory_code",
    "received_date",
    "supplier_name",
    "order_no",
    "location_name",
    "order_date",
    "item_status_name",
    "site",
    "source",
    "invoice",
    "price",
    "price_currency",
    "invoice_date",
    "input_date",
    "last_update",
    "title",
)

_DATE_COLUMNS = ("received_date", "order_date", "invoice_date", "input_date", "last_update")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?)?$")
_NUMBER = re.compile(r"^(-?\d+(\.\d*)?)?$")
#: Where stray separator sequences most likely come from, most likely first.
_FREE_TEXT = (
    "title",
    "call_number",
    "location_name",
    "supplier_name",
    "coll_type_name",
    "item_status_name",
    "site",
    "invoice",
    "order_no",
    "inventory_code",
)
_MAX_EXTRA = 4
_PROBLEM_SAMPLE = 20
#: Longest line taken as an item row. SLiMS keeps a title in a TEXT column
#: (64 KiB); a longer line is not a row of an item export.
MAX_LINE = 256 * 1024
#: Share of unreadable rows above which a file is not taken for an item export.
_MAX_BAD_SHARE = 0.5
#: Signatures of files people save instead of a CSV, and the fix for each.
_NOT_TEXT = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another ZIP file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF file"),
)
#: What counts as blank around a line: not str.strip()'s default, which also
#: eats the ASCII separator controls the kiosk asks SLiMS to export with.
_BLANK = " \t\r\n"


@dataclass(frozen=True)
class ExportDialect:
    """How one export file was written (as chosen in SLiMS's export form)."""

    separator: str = ","
    encloser: str = '"'
    header: bool = False


@dataclass
class ExportReport:
    """What a parse found besides the items: for the person who runs the import."""

    dialect: ExportDialect = field(default_factory=ExportDialect)
    encoding: str = "utf-8"
    rows: int = 0
    skipped: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)
    #: Whether the last row ended with a record separator (SLiMS ends every row so).
    ended: bool = True
    #: How many items SLiMS says it holds, when it said (set by the client).
    expected: int | None = None

    def problem(self, line: int, message: str) -> None:
        self.skipped += 1
        if len(self.problems) < _PROBLEM_SAMPLE:
            self.problems.append(f"line {line}: {message}")


def read_export_file(path: Path | str, *, report: ExportReport | None = None) -> list[Item]:
    """Parse an export file saved from SLiMS's item export form."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(f"catalogue file {path} does not exist") from None
    except OSError as e:
        raise CatalogError(f"cannot read catalogue file {path}: {e.strerror}") from None
    try:
        return list(parse_export(data, report=report))
    except CatalogError as e:
        raise CatalogError(f"{path}: {e}") from None


def parse_export(
    data: bytes | str,
    *,
    report: ExportReport | None = None,
    on_row: Callable[[int], None] | None = None,
) -> Iterator[Item]:
    """Yield the items of one export, first occurrence of each item code only.

    ``on_row(n)`` is called every 1000 rows (progress); problems go to ``report``.
    """
    report = report if report is not None else ExportReport()
    text, report.encoding = decode_text(data)
    report.ended = text.rstrip(" \t").endswith(("\n", "\r"))
    lines = _split_records(text)
    _refuse_long_lines(lines)
    first = next((i for i, line in enumerate(lines) if line.strip(_BLANK)), None)
    if first is None:
        raise CatalogError("the item export is empty (did SLiMS say there are no items?)")
    head = lines[first].strip(_BLANK)
    if head.startswith("<") or "errorBox" in head or "toastr" in head:
        raise CatalogError(
            "this is an HTML page, not an item export (the SLiMS session may have "
            f"expired or lacks Bibliography rights): {head[:120]!r}"
        )
    dialect, columns = _sniff(head)
    report.dialect = dialect
    start = first + 1 if dialect.header else first
    split = _splitter(dialect, columns)
    index = {name: i for i, name in enumerate(columns)}
    if "item_code" not in index:
        raise CatalogError("the export has no item_code column; export items, not bibliographies")
    seen: set[str] = set()
    for lineno in range(start, len(lines)):
        line = lines[lineno]
        if not line.strip(_BLANK):
            continue
        report.rows += 1
        if on_row is not None and report.rows % 1000 == 0:
            on_row(report.rows)
        values = split(line)
        if isinstance(values, str):
            report.problem(lineno + 1, values)
            continue
        item = _item(values, index)
        if not item.code:
            report.problem(lineno + 1, "no item code")
            continue
        if item.code in seen:
            report.duplicates += 1
            report.problem(lineno + 1, f"item code {item.code!r} appears again; first kept")
            report.skipped -= 1
            continue
        seen.add(item.code)
        yield item


def check_complete(report: ExportReport, items: int, *, whole_rows: bool = False) -> None:
    """Refuse a parse that must not replace a catalogue, saying why in one line.

    ``items`` is how many items the parse gave; ``whole_rows`` asks that the
    text end with a record separator (true of every export SLiMS sends).
    """
    if report.expected is not None and report.rows < report.expected:
        raise CatalogError(
            f"SLiMS holds {report.expected} items but its export brought only "
            f"{report.rows} rows: the download broke off"
        )
    if whole_rows and not report.ended:
        raise CatalogError(
            f"the export ends in the middle of row {report.rows}: the download broke off"
        )
    first = f" ({report.problems[0]})" if report.problems else ""
    if items == 0:
        if report.rows == 0:
            raise CatalogError("the export holds a header but no item rows")
        raise CatalogError(
            f"none of the {report.rows} rows could be read{first}: they are not rows of "
            "SLiMS's item export (Bibliography, Item Export)"
        )
    if report.skipped > _MAX_BAD_SHARE * report.rows:
        raise CatalogError(
            f"{report.skipped} of {report.rows} rows could not be read{first}: this does "
            "not look like SLiMS's item export; export the items again"
        )


def decode_text(data: bytes | str) -> tuple[str, str]:
    """``(text, encoding name)`` of a file written by SLiMS, a spreadsheet or an editor.

    A byte order mark decides; UTF-16 without one is told by its zero bytes;
    then UTF-8; then Windows-1252 (Latin-1 where that has no character), which
    every byte decodes as, so it comes last. Binary files are refused.
    """
    if isinstance(data, str):
        return _text_only(data.removeprefix("\ufeff")), "text"
    for magic, what in _NOT_TEXT:
        if data.startswith(magic):
            raise CatalogError(
                f'this is {what}, not a CSV: save it as "CSV UTF-8" (or export the items '
                "from SLiMS again) and import that file"
            )
    encoding = _utf16(data)
    if encoding is not None:
        try:
            text = data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError as e:
            raise CatalogError(
                f"this file looks like UTF-16 but byte {e.start} breaks it: save it again "
                'as "CSV UTF-8" and import that file'
            ) from None
        return _text_only(text), encoding
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return _text_only(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    # Old installs keep latin1 tables, and spreadsheet round trips save cp1252.
    try:
        return _text_only(data.decode("cp1252")), "windows-1252"
    except UnicodeDecodeError:
        return _text_only(data.decode("latin-1")), "latin-1"


def _utf16(data: bytes) -> str | None:
    """The UTF-16 codec for ``data``, when it is UTF-16 (a BOM, or zero bytes in step)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # the BOM tells the byte order, and is dropped
    head = data[:512]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    # ASCII text in UTF-16 has a zero in every other byte; binary data does not
    # keep that rhythm for long.
    if odd.count(0) > 0.9 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _text_only(text: str) -> str:
    """``text``, unless its NUL characters show it is binary data read as text.

    A stray NUL can sit in a title (SLiMS exports it raw), so a few are
    allowed; binary files (workbooks, images, compressed data) hold one in
    every few hundred bytes. Other control characters are left alone: titles
    pasted from PDFs carry them, and SLiMS exports them as they are.
    """
    nuls = text.count("\0")
    if nuls > 2 + len(text) // 10_000:
        raise CatalogError(
            f"this is not a text file ({nuls} NUL bytes, the first at character "
            f"{text.index(chr(0))}): export the items from SLiMS (Bibliography, Item Export) "
            "and import that .csv"
        )
    return text


def _refuse_long_lines(lines: list[str]) -> None:
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE:
            raise CatalogError(
                f"line {number} is {len(line)} characters long, more than any item row "
                f"({MAX_LINE}): this is not SLiMS's item export"
            )


def _split_records(text: str) -> list[str]:
    if "\n" in text:
        # SLiMS never emits a raw CR inside a value, so a CR before LF is a line ending.
        return [line.removesuffix("\r") for line in text.split("\n")]
    return text.split("\r")


def _sniff(head: str) -> tuple[ExportDialect, tuple[str, ...]]:
    """Find separator, encloser and columns from the first line."""
    m = re.match(r"^(\W*?)item_code(\W+?)call_number", head)
    if m and m.group(1) and len(m.group(2)) > 2 * len(m.group(1)):
        enc = m.group(1)
        sep = m.group(2)[len(enc) : len(m.group(2)) - len(enc)]
        body = head.removesuffix(sep)
        names = [n.strip(_BLANK).strip(enc) for n in body.split(enc + sep + enc)]
        return ExportDialect(sep, enc, header=True), tuple(names)
    if m and not m.group(1):
        # Re-saved by a spreadsheet: plain CSV with a header row.
        sep = m.group(2)
        names = next(csv.reader([head], delimiter=sep[0]))
        return ExportDialect(sep, "", header=True), tuple(n.strip() for n in names if n.strip())
    if head[:1].isalnum() or head[:1] in "_-.":
        sep = max(",;\t", key=head.count)  # a tie keeps the comma
        return ExportDialect(sep, "", header=False), COLUMNS
    enc = head[0]
    close = head.find(enc, 1)
    if close < 0:
        raise CatalogError(f"cannot recognise the export format of the first line: {head[:120]!r}")
    rest = head[close + 1 :]
    sep = rest[: rest.find(enc)] if enc in rest else ","
    return ExportDialect(sep or ",", enc, header=False), COLUMNS


def _splitter(dialect: ExportDialect, columns: tuple[str, ...]) -> Callable[[str], list[str] | str]:
    ncols = len(columns)
    if not dialect.encloser:
        delim = dialect.separator[0]

        def split_plain(line: str) -> list[str] | str:
            try:
                values = next(csv.reader([line], delimiter=delim))
            except csv.Error as e:
                return f"not a CSV row: {e}"
            if len(values) < ncols:
                return f"{len(values)} values, expected {ncols}"
            return [*values[: ncols - 1], delim.join(values[ncols - 1 :])]

        return split_plain

    enc, cut = dialect.encloser, dialect.encloser + dialect.separator + dialect.encloser
    dates = [columns.index(c) for c in _DATE_COLUMNS if c in columns]
    free = [columns.index(c) for c in _FREE_TEXT if c in columns]
    numbers = [columns.index(c) for c in ("price",) if c in columns]

    def split(line: str) -> list[str] | str:
        line = line.strip(_BLANK)
        if line.endswith(dialect.separator) and not line.endswith(enc):
            line = line.removesuffix(dialect.separator)
        if not (line.startswith(enc) and line.endswith(enc) and len(line) >= 2 * len(enc)):
            return f"not enclosed in {enc}: {line[:60]!r}"
        pieces = line[len(enc) : len(line) - len(enc)].split(cut)
        extra = len(pieces) - ncols
        if extra < 0:
            return f"{len(pieces)} values, expected {ncols} (truncated row?)"
        if extra == 0:
            return pieces
        if extra > _MAX_EXTRA:
            return f"{len(pieces)} values, expected {ncols}: too many to regroup"
        best: tuple[tuple[int, int, int, int], list[str]] | None = None
        for order, spread in enumerate(_spreads(extra, len(free))):
            glued = _regroup(pieces, cut, dict(zip(free, spread, strict=True)))
            values = [glued[d].strip() for d in dates]
            if not all(_DATE.match(v) for v in values):
                continue
            if not all(_NUMBER.match(glued[n].strip()) for n in numbers):
                continue
            # Most real dates in date columns, then no value that starts or ends
            # with the cut (an empty neighbour swallowed), then fewest columns
            # touched, then the likeliest column (title first).
            edges = sum(
                1
                for c, n in zip(free, spread, strict=True)
                if n and (glued[c].startswith(cut) or glued[c].endswith(cut))
            )
            score = (sum(1 for v in values if v), -edges, -sum(1 for n in spread if n), -order)
            if best is None or score > best[0]:
                best = (score, glued)
        if best is None:
            return f"{len(pieces)} values, expected {ncols}, and no way to regroup them"
        return best[1]

    return split


def _spreads(extra: int, slots: int) -> Iterator[tuple[int, ...]]:
    """Ways to hand ``extra`` surplus pieces to ``slots`` columns, single columns first."""
    singles = [tuple(extra if i == j else 0 for i in range(slots)) for j in range(slots)]
    yield from singles
    seen = set(singles)
    for combo in itertools.combinations_with_replacement(range(slots), extra):
        spread = tuple(combo.count(i) for i in range(slots))
        if spread not in seen:
            yield spread


def _regroup(pieces: list[str], cut: str, extra_at: dict[int, int]) -> list[str]:
    out: list[str] = []
    i = 0
    col = 0
    while i < len(pieces):
        take = extra_at.get(col, 0) + 1
        out.append(cut.join(pieces[i : i + take]))
        i += take
        col += 1
    return out


def _item(values: list[str], index: dict[str, int]) -> Item:
    def get(name: str) -> str:
        i = index.get(name)
        return " ".join(values[i].split()) if i is not None and i < len(values) else ""

    return Item(
        code=get("item_code"),
        call_number=get("call_number"),
        title=get("title"),
        location=get("location_name"),
        coll_type=get("coll_type_name"),
        status=get("item_status_name"),
        site=get("site"),
    )
