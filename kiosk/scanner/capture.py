"""Raw captures of kernel ``input_event`` records: read, detect, write, record.

``cat /dev/input/eventN > file`` stores the kernel's ``struct input_event``
records as-is, in the layout of the reading process: 24 bytes on 64-bit
systems (``long`` seconds and microseconds, then ``u16 type, u16 code,
s32 value``) and 16 bytes on 32-bit Raspberry Pi OS (4-byte longs). Such a
file is the most faithful bug report a library can send: ``kiosk replay``
decodes it exactly as the daemon would have.

Everything is little-endian (both x86 and the Pi).
"""

from __future__ import annotations

import errno
import os
import select
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kiosk.exc import CaptureError, ScannerDisconnected
from kiosk.scanner import keymaps

#: ``struct input_event`` as 64-bit and 32-bit userland see it.
FORMATS: dict[int, struct.Struct] = {64: struct.Struct("<qqHHi"), 32: struct.Struct("<llHHi")}

#: Word size of this process, hence the layout its reads of /dev/input deliver.
NATIVE_BITS = 8 * struct.calcsize("l")

#: One event as the decoder takes it: (type, code, value, seconds).
Event = tuple[int, int, int, float]

_MAX_SEC = 1 << 40  # far beyond any real clock; rules out misaligned 64-bit reads


def _bad_record(fields: tuple[int, int, int, int, int]) -> bool:
    sec, usec, type_, _code, _value = fields
    return not (0 <= sec < _MAX_SEC and 0 <= usec < 1_000_000 and type_ <= keymaps.EV_MAX)


def _first_bad(data: bytes, bits: int) -> int:
    """Index of the first implausible record in ``data`` read as ``bits`` (-1 if none)."""
    for i, fields in enumerate(FORMATS[bits].iter_unpack(data)):
        if _bad_record(fields):
            return i
    return -1


def detect_bits(data: bytes, source: str = "capture") -> int:
    """Whether ``data`` holds 64-bit (24-byte) or 32-bit (16-byte) records.

    Both layouts are tried; a layout is plausible when every record has
    microseconds below one million and a known event type. When both are
    plausible (tiny files) the one with SYN_REPORT events, else this
    machine's own layout, wins.
    """
    if not data:
        return NATIVE_BITS
    fits = [b for b in (64, 32) if len(data) % FORMATS[b].size == 0]
    if not fits:
        raise CaptureError(
            f"{source}: {len(data)} bytes is neither a whole number of 24-byte (64-bit) "
            "nor of 16-byte (32-bit) input_event records; the capture is cut or not a capture"
        )
    bad = {b: _first_bad(data, b) for b in fits}
    good = [b for b in fits if bad[b] < 0]
    if len(good) == 1:
        return good[0]
    if not good:
        b = max(fits, key=lambda b: bad[b])
        size = FORMATS[b].size
        raise CaptureError(
            f"{source}: not a raw input_event capture (as {b}-bit records, the record at "
            f"byte {bad[b] * size} makes no sense); record one with "
            "`kiosk devices --record DEVICE --out FILE`"
        )

    def syn_count(b: int) -> int:
        return sum(1 for f in FORMATS[b].iter_unpack(data) if f[2:] == (0, 0, 0))

    return max(good, key=lambda b: (syn_count(b), b == NATIVE_BITS))


def parse(data: bytes, bits: int | None = None, source: str = "capture") -> list[Event]:
    """The events in ``data``; ``bits`` is 64, 32 or None to detect it."""
    if bits is None:
        bits = detect_bits(data, source)
    if bits not in FORMATS:
        raise CaptureError(f"{source}: record layout must be 64 or 32 bits, not {bits}")
    fmt = FORMATS[bits]
    if len(data) % fmt.size:
        raise CaptureError(
            f"{source}: {len(data)} bytes is not a whole number of {fmt.size}-byte records"
        )
    return [
        (type_, code, value, sec + usec / 1e6)
        for sec, usec, type_, code, value in fmt.iter_unpack(data)
    ]


def read_capture(path: str | Path, bits: int | None = None) -> list[Event]:
    """The events of a capture file (layout detected unless ``bits`` is given)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CaptureError(f"cannot read capture {path}: {e.strerror or e}") from e
    return parse(data, bits, str(path))


def encode(events: Iterable[Event], bits: int = NATIVE_BITS) -> bytes:
    """Kernel-format bytes for ``events`` (what reading the device would give)."""
    fmt = FORMATS[bits]
    out = bytearray()
    for type_, code, value, ts in events:
        sec = int(ts)
        usec = min(round((ts - sec) * 1e6), 999_999)
        out += fmt.pack(sec, usec, type_, code, value)
    return bytes(out)


def key_events(
    keystrokes: Iterable[tuple[int, int]], t0: float = 0.0, step: float = 0.001
) -> list[Event]:
    """Realistic events for ``(code, value)`` key strokes, as a HID keyboard sends them.

    Each stroke comes as MSC_SCAN (the HID usage), EV_KEY and SYN_REPORT,
    ``step`` seconds apart, so tests and benchmarks see the noise a real
    scanner makes around its key events.
    """
    out: list[Event] = []
    ts = t0
    for code, value in keystrokes:
        out += [
            (keymaps.EV_MSC, 4, 0x70000 + code, ts),
            (keymaps.EV_KEY, code, value, ts),
            (keymaps.EV_SYN, 0, 0, ts),
        ]
        ts += step
    return out


def barcode_events(
    text: str,
    layout: keymaps.Layout | str = "us",
    *,
    t0: float = 0.0,
    step: float = 0.001,
    terminator: int = keymaps.KEY_ENTER,
) -> list[Event]:
    """The events a scanner sends for ``text`` followed by a terminator key."""
    lay = keymaps.get(layout) if isinstance(layout, str) else layout
    strokes = [*lay.keystrokes(text), (terminator, 1), (terminator, 0)]
    return key_events(strokes, t0, step)


@dataclass
class RecordStats:
    """What a recording captured."""

    events: int = 0
    barcodes: int = 0
    bytes: int = 0
    ended: str = ""  # why it stopped: "time", "barcodes", "interrupted", "disconnected"


def record(
    fd: int,
    out: BinaryIO,
    *,
    seconds: float | None = None,
    barcodes: int | None = None,
    on_barcode: Callable[[str], None] | None = None,
    decode: Callable[[int, int, int, float], str | None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RecordStats:
    """Copy raw records from an input device's ``fd`` to ``out`` until told to stop.

    The bytes are written exactly as read (``cat`` would give the same file).
    Stops after ``seconds``, after ``barcodes`` barcodes (counted with
    ``decode``, typically :meth:`Decoder.feed`), at end of input, when the
    device disappears, or on Ctrl-C.
    """
    fmt = FORMATS[NATIVE_BITS]
    stats = RecordStats()
    end = None if seconds is None else clock() + seconds
    rest = b""
    try:
        while True:
            wait = None if end is None else max(0.0, end - clock())
            readable, _, _ = select.select([fd], [], [], wait)
            if not readable:
                stats.ended = "time"
                break
            try:
                chunk = os.read(fd, 64 * fmt.size)
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno in (errno.ENODEV, errno.EIO):
                    stats.ended = "disconnected"
                    break
                raise ScannerDisconnected(f"reading the device failed: {e.strerror}") from e
            if not chunk:
                stats.ended = "disconnected"
                break
            out.write(chunk)
            out.flush()
            stats.bytes += len(chunk)
            rest += chunk
            whole = len(rest) - len(rest) % fmt.size
            for sec, usec, type_, code, value in fmt.iter_unpack(rest[:whole]):
                stats.events += 1
                text = decode(type_, code, value, sec + usec / 1e6) if decode else None
                if text is not None:
                    stats.barcodes += 1
                    if on_barcode is not None:
                        on_barcode(text)
            rest = rest[whole:]
            if barcodes is not None and stats.barcodes >= barcodes:
                stats.ended = "barcodes"
                break
    except KeyboardInterrupt:
        stats.ended = "interrupted"
    return stats
