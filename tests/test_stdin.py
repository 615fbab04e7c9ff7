"""Standard input as a scanner: one bad line costs only that line."""

from __future__ import annotations

import io
import threading

from kiosk.models import Barcode
from kiosk.scanner.stdin import StdinSource


class Recorder:
    """A sink that keeps what the source delivers."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.problems: list[str] = []
        self.done = threading.Event()

    def barcode(self, barcode: Barcode) -> None:
        self.codes.append(barcode.text)

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def finished(self, source: str) -> None:
        self.done.set()

    def scanners(self, count: int) -> None:
        pass


def read(stream: object, max_length: int = 64) -> Recorder:
    sink = Recorder()
    StdinSource(stream, max_length=max_length).start(sink)  # type: ignore[arg-type]
    assert sink.done.wait(10)
    return sink


def test_invalid_utf8_is_replaced_in_its_line_and_reported() -> None:
    """A byte that is not UTF-8 becomes U+FFFD in its line only, is reported; reading goes on."""
    sink = read(io.BytesIO(b"B0001\nB\xff02\r\nB0003\n"))
    assert sink.codes == ["B0001", "B\ufffd02", "B0003"]
    assert len(sink.problems) == 1 and "line 2" in sink.problems[0]
    assert "0xff" in sink.problems[0]


def test_text_stdin_is_decoded_per_line_from_its_buffer() -> None:
    """A strict text wrapper around the bytes (as sys.stdin is) loses no line to one bad byte."""
    raw = io.BytesIO(b"A1\n" * 5000 + b"\xc3(\n" + b"Z9\n")
    stdin = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
    sink = read(stdin)
    assert len(sink.codes) == 5002 and sink.codes[-1] == "Z9"
    assert len(sink.problems) == 1


def test_line_longer_than_max_length_is_dropped_and_reported() -> None:
    """A 100 KB line is not a barcode: it is reported, not stored, and the next line still reads."""
    sink = read(io.BytesIO(b"B0001\n" + b"7" * 100_000 + b"\nB0003\n"), max_length=64)
    assert sink.codes == ["B0001", "B0003"]
    assert len(sink.problems) == 1 and "max_length" in sink.problems[0]


def test_max_length_counts_characters_not_bytes() -> None:
    """A code of exactly max_length characters is kept, even in a script of multi-byte letters."""
    code = "ق" * 8
    sink = read(io.BytesIO(f"{code}\n{code}x\n".encode()), max_length=8)
    assert sink.codes == [code]
    assert len(sink.problems) == 1 and "9 characters" in sink.problems[0]


def test_overlong_line_at_the_end_without_newline() -> None:
    """An unterminated overlong last line ends the input cleanly, reported once."""
    sink = read(io.BytesIO(b"B0001\n" + b"x" * 300_000), max_length=16)
    assert sink.codes == ["B0001"] and len(sink.problems) == 1
