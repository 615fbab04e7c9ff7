"""Simulated scanner: one barcode per line from a stream (standard input).

This is the backend of ``kiosk run --simulate``: a pipe or a person typing
stands in for a USB scanner that sends the code followed by Enter.

Whatever arrives is read as bytes and judged one line at a time, as a real
scanner's decoder judges one code at a time: a byte that is not UTF-8 is
replaced (and reported) in its own line only, and a line longer than
``max_length`` is reported and dropped without being held in memory whole.
Nothing in one bad line can end or skip the lines after it.

A real file descriptor is read with ``os.read``, not through Python's
buffered reader: a thread blocked in that reader holds its lock, and the
interpreter aborts at exit when it cannot take it (after SIGTERM, say).
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

from kiosk.models import Barcode
from kiosk.scanner import Sink
from kiosk.text import printable

#: Bytes read at a time.
_CHUNK = 1 << 16


class StdinSource:
    """Reads lines from ``stream``; its end finishes the source.

    ``stream`` is a binary or text stream (a real file descriptor is read
    directly), or any iterable of lines, ``str`` or ``bytes``.
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
        self._stream: Any = stream if stream is not None else sys.stdin
        self._thread: threading.Thread | None = None

    def start(self, sink: Sink) -> None:
        self._thread = threading.Thread(
            target=self._read, args=(sink,), name=f"scanner-{self.name}", daemon=True
        )
        self._thread.start()

    def _read(self, sink: Sink) -> None:
        try:
            lines = _split(_chunks(self._stream), self._byte_limit())
            for number, (raw, length) in enumerate(lines, start=1):
                self._line(sink, number, raw, length)
        except (OSError, ValueError) as e:  # closed stream on shutdown
            sink.problem(f"input ended: {e}")
        finally:
            sink.finished(self.name)

    def _line(self, sink: Sink, number: int, raw: bytes, length: int) -> None:
        where = f"{self.name} line {number}"
        if length > self._byte_limit():
            sink.problem(
                f"{where}: {length} bytes, longer than scanner.max_length "
                f"({self.max_length}); not a barcode, dropped"
            )
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            text = raw.decode("utf-8", errors="replace")
            sink.problem(
                f"{where}: byte 0x{raw[e.start]:02x} is not UTF-8; read as \ufffd "
                "(check the scanner's keyboard layout or the file's encoding)"
            )
        text = text.strip()
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

    def stop(self) -> None:
        # A thread blocked in a read cannot be interrupted portably; it is a
        # daemon thread and ends with the process.
        pass


def _chunks(stream: Any) -> Iterator[bytes]:
    """The bytes of ``stream`` as they arrive, whatever kind of stream it is."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        fd = None
    if fd is not None:
        while chunk := os.read(fd, _CHUNK):
            yield chunk
        return
    raw = getattr(stream, "buffer", stream)
    if isinstance(raw, io.IOBase) and hasattr(raw, "read1"):
        while chunk := raw.read1(_CHUNK):
            yield chunk
        return
    if isinstance(raw, io.TextIOBase):
        while text := raw.read(_CHUNK):
            yield text.encode("utf-8", errors="surrogateescape")
        return
    for line in raw:  # a generator of lines
        yield line if isinstance(line, bytes) else line.encode("utf-8", errors="surrogateescape")


def _split(chunks: Iterable[bytes], limit: int) -> Iterator[tuple[bytes, int]]:
    """``(line, its full length)`` per line; only the first ``limit + 1`` bytes are kept."""
    line = bytearray()
    length = 0
    for chunk in chunks:
        start = 0
        while start < len(chunk):
            nl = chunk.find(b"\n", start)
            end = len(chunk) if nl < 0 else nl + 1
            length += end - start
            room = limit + 1 - len(line)
            if room > 0:
                line += chunk[start : min(end, start + room)]
            start = end
            if nl >= 0:
                yield bytes(line), length
                line.clear()
                length = 0
    if length:
        yield bytes(line), length
