"""Barcode sources: each turns some input into :class:`~kiosk.models.Barcode` s.

A source runs its own thread(s) and hands results to a :class:`Sink`; the
daemon never blocks on a device. Backends live beside each other: ``evdev``
(USB HID scanners on a Pi) and ``stdin`` (one barcode per line, simulation).
"""

from __future__ import annotations

from typing import Protocol

from kiosk.models import Barcode


class Sink(Protocol):
    """Where a source delivers what it reads. Called from the source's threads."""

    def barcode(self, barcode: Barcode) -> None:
        """A complete barcode was read."""

    def problem(self, message: str) -> None:
        """Something a technician should know (scanner gone, partial code dropped)."""

    def finished(self, source: str) -> None:
        """The source has ended for good (end of input); no more barcodes will come."""

    def scanners(self, count: int) -> None:
        """How many scanners are read now; 0 means the cart cannot scan."""


class Source(Protocol):
    """A producer of barcodes."""

    name: str

    def start(self, sink: Sink) -> None:
        """Begin reading in background thread(s); return at once."""

    def stop(self) -> None:
        """Stop reading, release devices (ungrab), join threads."""
