"""Simulated scanner: one barcode per line from a stream (standard input).

This is the backend of ``kiosk run --simulate``: a pipe or a person typing
stands in for a USB scanner that sends the code followed by Enter.

Whatever arrives is read as bytes and judged one line at a time, as a real
scanner's decoder judges one code at a time: a byte that is not UTF-8 is
replaced (and reported) in its own line only, and a line longer than
``max_length`` is reported and dropped without being held in memory whole.
Nothing in one bad line can end or skip the lines after it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from kiosk.models import Barcode
from kiosk.scanner import Sink
from kiosk.text import printable

#: Bytes read at a time while skipping the rest of an overlong line.
_SKIP_CHUNK = 1 << 16


class StdinSource:
    """Reads lines from ``stream``; its end finishes the source.

    ``stream`` is a binary stream, a text stream (its ``buffer`` is read when
    it has one, so decoding stays per line), or any iterable of lines.
    """

    def __init__(
        self,
        stream: IO[bytes] | IO[str] | Iterable[str] | Iterable[bytes] | None = None,
        name: str = "stdin",
        *,
        max_length: int = 64,
    ) -> None:
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1, got {max_length}")
        self.name = name
        self.max_length = max_length
        stream = stream if stream is not None else sys.stdin
        self._stream: Any = getattr(stream, "buffer", stream)
        self._thread: threading.Thread | None = None

    def start(self, sink: Sink) -> None:
        self._thread = threading.Thread(
            target=self._read, args=(sink,), name=f"scanner-{self.name}", daemon=True
        )
        self._thread.start()

    def _read(self, sink: Sink) -> None:
        try:
            for number, raw, length in self._lines():
                self._line(sink, number, raw, length)
        except (OSError, ValueError) as e:  # closed stream on shutdown
            sink.problem(f"input ended: {e}")
        finally:
            sink.finished(self.name)

    def _line(self, sink: Sink, number: int, raw: bytes | str, length: int) -> None:
        where = f"{self.name} line {number}"
        if length > self._byte_limit():
            sink.problem(
                f"{where}: {length} bytes, longer than scanner.max_length "
                f"({self.max_length}); not a barcode, dropped"
            )
            return
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                text = raw.decode("utf-8", errors="replace")
                sink.problem(
                    f"{where}: byte 0x{raw[e.start]:02x} is not UTF-8; read as \ufffd "
                    "(check the scanner's keyboard layout or the file's encoding)"
                )
        else:
            text = raw
        text = text.rstrip("\r\n").strip()
        if not text:
            sink.problem(f"{where}: empty barcode line ignored")
        elif len(text) > self.max_length:
            sink.problem(
                f"{where}: {len(text)} characters, longer than scanner.max_length "
                f"({self.max_length}); not a barcode, dropped: {printable(text[:40])}..."
            )
        else:
            sink.barcode(Barcode(text=text, scanner=self.name, ts=time.time()))

    def _byte_limit(self) -> int:
        # Room for four UTF-8 bytes a character, padding spaces and CR LF; the
        # exact character count is checked after decoding.
        return 4 * self.max_length + 64

    def _lines(self) -> Iterator[tuple[int, bytes | str, int]]:
        """``(line number, line, its full length)``; an overlong line is cut, its rest skipped."""
        readline: Callable[[int], bytes | str] | None = getattr(self._stream, "readline", None)
        if readline is None:  # a plain iterable (a generator of lines)
            for number, line in enumerate(self._stream, start=1):
                yield number, line, len(line)
            return
        limit = self._byte_limit()
        number = 0
        while True:
            line = readline(limit + 1)
            if not line:
                return
            number += 1
            length = len(line)
            rest = line
            while length > limit and rest[-1:] not in (b"\n", "\n"):
                rest = readline(_SKIP_CHUNK)
                if not rest:
                    break
                length += len(rest)
            yield number, line, length

    def stop(self) -> None:
        # A thread blocked in readline() cannot be interrupted portably; it is a
        # daemon thread and ends with the process.
        pass
