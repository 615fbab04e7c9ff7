"""Simulated scanner: one barcode per line from a text stream (standard input).

This is the backend of ``kiosk run --simulate``: a pipe or a person typing
stands in for a USB scanner that sends the code followed by Enter.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable

from kiosk.models import Barcode
from kiosk.scanner import Sink


class StdinSource:
    """Reads lines from ``stream`` (any iterable of lines); its end finishes the source."""

    def __init__(self, stream: Iterable[str] | None = None, name: str = "stdin") -> None:
        self.name = name
        self._stream = stream if stream is not None else sys.stdin
        self._thread: threading.Thread | None = None

    def start(self, sink: Sink) -> None:
        self._thread = threading.Thread(
            target=self._read, args=(sink,), name=f"scanner-{self.name}", daemon=True
        )
        self._thread.start()

    def _read(self, sink: Sink) -> None:
        try:
            for line in self._stream:
                text = line.rstrip("\r\n")
                if text.strip():
                    sink.barcode(Barcode(text=text.strip(), scanner=self.name, ts=time.time()))
                else:
                    sink.problem("empty barcode line ignored")
        except (OSError, ValueError) as e:  # closed stream on shutdown
            sink.problem(f"input ended: {e}")
        finally:
            sink.finished(self.name)

    def stop(self) -> None:
        # A thread blocked in readline() cannot be interrupted portably; it is a
        # daemon thread and ends with the process.
        pass
