"""What a snapshot holds, saved beside it so an opener need not parse every document.

Opening a store used to parse every scan in the snapshot (to learn where each
one is) and read them all once more (to count them): seconds at 200,000
scans on a Pi Zero, at every daemon start and every ``kiosk status``. At each
compaction the storage now writes ``NAME.sum`` next to ``NAME.json``:

* the snapshot it describes: generation, size, CRC-32 (its end marker's), and
  where the tables kept on disk begin (the snapshot writes them last);
* per table kept on disk, its location array (8 bytes per document) as raw
  bytes, and its :class:`Summary` (e.g. the scan index) as the summary's own
  bytes.

An opener whose snapshot matches (same generation, size and checksum, the
whole file still read once for the checksum, in blocks, not parsed) parses
only the small tables and the journal. Anything that does not match — a
missing, torn or older ``.sum``, a snapshot damaged since — falls back to
reading the snapshot line by line, as without it. The file is only ever a
cache: deleting it loses nothing.

Replaying the journal costs too, and most in a sync's answers (each reads
back the scan it replaces, for the summary): 1.6 s for a 13 MB journal at
200,000 scans here. So a writer also saves a *checkpoint* every
:data:`~kiosk.store.journal.CHECKPOINT_EVERY` bytes of journal: the same file,
also naming how much of the journal it holds (length and CRC-32 of that
prefix, and the change count there) and carrying the small tables as they
are then. An opener whose journal still begins with exactly those bytes
replays only what follows; one whose journal does not (cut, damaged,
replaced) reads everything, as without it.
"""

from __future__ import annotations

import json
import sys
import zlib
from array import array
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from kiosk.fileio import atomic_write

FORMAT = "kiosk-summary"
VERSION = 2  # 2: checkpoints; files of version 1 are read too
_BYTEORDER = sys.byteorder  # location arrays are raw machine integers


class Summary(Protocol):
    """Running totals over one table's documents, kept by the storage as they change."""

    def add(self, doc_id: int, doc: Mapping[str, Any]) -> None: ...
    def remove(self, doc_id: int, doc: Mapping[str, Any]) -> None: ...
    def replace(self, doc_id: int, old: Mapping[str, Any], new: Mapping[str, Any]) -> None: ...
    def clear(self) -> None: ...
    def dump(self) -> bytes: ...


class Known:
    """A snapshot as its ``.sum`` describes it, with what it saved for each table on disk.

    Like the store's other records, a plain class: every start opens the store,
    and loading the dataclass machinery costs more than opening one with no scans.
    """

    __slots__ = ("changes", "cold_start", "counts", "crc32", "footer_at", "generation", "hot",
                 "journal_at", "journal_crc", "locations", "size", "summaries")  # fmt: skip

    def __init__(
        self, generation: int, size: int, crc32: int, cold_start: int, footer_at: int
    ) -> None:
        self.generation, self.size, self.crc32 = generation, size, crc32
        #: Byte offset of the first line of a table kept on disk, and of the end marker.
        self.cold_start, self.footer_at = cold_start, footer_at
        self.locations: dict[str, array[int]] = {}
        self.counts: dict[str, tuple[int, int]] = {}  # (documents, max id)
        self.summaries: dict[str, bytes] = {}
        #: A checkpoint's (0: none): the first ``journal_at`` bytes of the journal, with
        #: CRC-32 ``journal_crc`` and ``changes`` changes counted in all, are in what
        #: this describes, and ``hot`` holds the small tables (snapshot lines) instead
        #: of the snapshot.
        self.journal_at = self.journal_crc = self.changes = 0
        self.hot = b""

    def snapshot(self) -> Known:
        """The snapshot alone, as this describes it: no tables saved, no checkpoint."""
        return Known(self.generation, self.size, self.crc32, self.cold_start, self.footer_at)


def sum_path(snapshot: Path) -> Path:
    return snapshot.with_suffix(".sum")


def write_known(path: Path, known: Known, *, sync: bool = True) -> None:
    """Save ``known`` atomically as ``path`` (the snapshot's ``.sum``; fsynced if ``sync``)."""
    blobs: list[bytes] = []
    tables: dict[str, list[int]] = {}
    for name, locs in known.locations.items():
        raw = locs.tobytes()
        summary = known.summaries.get(name, b"")
        count, top = known.counts[name]
        tables[name] = [len(raw), len(summary), count, top]
        blobs += [raw, summary]
    head = {
        "format": FORMAT,
        "version": VERSION,
        "byteorder": _BYTEORDER,
        "generation": known.generation,
        "size": known.size,
        "crc32": known.crc32,
        "cold_start": known.cold_start,
        "footer_at": known.footer_at,
        "tables": tables,
    }
    if known.journal_at:
        head["journal"] = [known.journal_at, known.journal_crc, known.changes, len(known.hot)]
        blobs.append(known.hot)
    body = json.dumps(head, separators=(",", ":")).encode() + b"\n" + b"".join(blobs)
    atomic_write(path, [body, b"%08x\n" % zlib.crc32(body)], sync=sync)


def read_known(path: Path) -> Known | None:
    """The ``.sum`` at ``path`` if whole and of this format, else None (then it is ignored)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    # Read through a view: at 200,000 scans a copy of the body costs more than its check.
    with memoryview(data) as whole, whole[: len(data) - 9] as body:
        if len(data) < 9 or data[-1:] != b"\n" or data[-9:-1] != b"%08x" % zlib.crc32(body):
            return None
        return _parse_known(data.find(b"\n", 0, len(body)), body)


def _parse_known(head_end: int, body: memoryview) -> Known | None:
    try:
        head = json.loads(bytes(body[:head_end]))
        if head.get("format") != FORMAT or head.get("version") not in (1, VERSION):
            return None
        if head.get("byteorder") != _BYTEORDER:
            return None
        known = Known(
            int(head["generation"]),
            int(head["size"]),
            int(head["crc32"]),
            int(head["cold_start"]),
            int(head["footer_at"]),
        )
        pos = head_end + 1
        for name, (n_locs, n_sum, count, top) in head["tables"].items():
            locs = array("q")
            locs.frombytes(body[pos : pos + n_locs])
            pos += n_locs
            known.locations[name] = locs
            known.summaries[name] = bytes(body[pos : pos + n_sum])
            known.counts[name] = (int(count), int(top))
            pos += n_sum
        if "journal" in head:
            at, crc, changes, n_hot = head["journal"]
            known.journal_at, known.journal_crc, known.changes = int(at), int(crc), int(changes)
            known.hot = bytes(body[pos : pos + int(n_hot)])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return known
