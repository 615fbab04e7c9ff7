"""A table whose documents stay on disk, so memory does not grow with the scans.

A stock take stores one document per scan. Held in memory (even compactly,
see :mod:`kiosk.store.rows`) that is ~0.7 KB a scan: 189 MB after 100,000
scans, too much for a 512 MB Pi Zero 2 W. Every scan document is already on
disk, once in the snapshot or the journal, so :class:`DiskRows` keeps only
*where* each one is: one 8-byte integer per document id (byte offset times
two, plus which file), and reads the line back when a document is asked for.

Documents are asked for rarely and mostly in order (the newest for undo,
the unsynced ones for a sync, all of them for a report), so a small
read-ahead window makes sequential reads cost one ``pread`` per 64 KiB.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator, Mapping
from typing import Any

from kiosk.exc import StoreCorrupt
from kiosk.store.rows import Rows, doc_line, load_json

#: Where a document lives: bit 0 of its location.
SNAPSHOT, JOURNAL = 0, 1
_ABSENT = -1
_WINDOW = 1 << 16


def where(src: int, offset: int) -> int:
    """One location: the file (:data:`SNAPSHOT` or :data:`JOURNAL`) and a byte offset."""
    return offset << 1 | src


class Files:
    """Read descriptors of a database's snapshot and journal, with a read-ahead window.

    The storage swaps the descriptors when it writes a new snapshot or starts
    a new journal; a reader keeps the files it opened even after a writer
    renamed new ones over them.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.fds: list[int | None] = [None, None]
        self._buf: list[tuple[int, bytes]] = [(0, b""), (0, b"")]
        self._parsed: tuple[int, Any] | None = None

    def set(self, src: int, fd: int | None) -> None:
        old = self.fds[src]
        if old is not None and old != fd:
            os.close(old)
        self.fds[src] = fd
        self.forget(src)

    def forget(self, src: int) -> None:
        """Drop what was read ahead from ``src`` (its bytes may change at the end)."""
        self._buf[src] = (0, b"")
        if self._parsed is not None and self._parsed[0] & 1 == src:
            self._parsed = None

    def close(self) -> None:
        for src in (SNAPSHOT, JOURNAL):
            self.set(src, None)

    def twin(self) -> Files:
        """The same files through descriptors of its own, for reads on another thread."""
        out = Files(self.name)
        out.fds = [None if fd is None else os.dup(fd) for fd in self.fds]
        return out

    def line(self, loc: int) -> bytes:
        """The line (without newline) starting at location ``loc``."""
        src, off = loc & 1, loc >> 1
        fd = self.fds[src]
        if fd is None:
            raise StoreCorrupt(f"{self.name}: a document points into a file that is not open")
        start, buf = self._buf[src]
        rel = off - start
        if 0 <= rel < len(buf):
            end = buf.find(b"\n", rel)
            if end >= 0:
                return buf[rel:end]
        buf = os.pread(fd, _WINDOW, off)
        while b"\n" not in buf:
            more = os.pread(fd, _WINDOW, off + len(buf))
            if not more:
                raise StoreCorrupt(f"{self.name}: a stored document at byte {off} is cut off")
            buf += more
        self._buf[src] = (off, buf)
        return buf[: buf.find(b"\n")]

    def document(self, loc: int, doc_id: int) -> dict[str, Any]:
        """A fresh copy of document ``doc_id`` stored at ``loc`` (snapshot line or journal change).

        A journal change may hold many documents (a sync's answers): its parse
        is kept until the next one, so reading them in order parses it once.
        Each document is handed out of that parse (not copied): asked for again,
        the change is parsed again.
        """
        try:
            if loc & 1 == SNAPSHOT:
                doc = load_json(self.line(loc))[2]
            else:
                key = str(doc_id)
                if self._parsed is None or self._parsed[0] != loc or key not in self._parsed[1]:
                    self._parsed = (loc, load_json(self.line(loc)[9:])["p"])
                doc = self._parsed[1].pop(key, None)
        except (ValueError, LookupError, TypeError) as e:
            raise StoreCorrupt(self._damaged(doc_id)) from e
        if not isinstance(doc, dict):
            raise StoreCorrupt(self._damaged(doc_id))
        return doc

    def _damaged(self, doc_id: int) -> str:
        return (
            f"{self.name}: document {doc_id} was damaged on disk after it was stored; "
            "stop the daemon and run 'kiosk store recover'"
        )


class DiskRows(Rows):
    """One table's documents left on disk; memory holds a location per document id."""

    __slots__ = ("_count", "_files", "_loc")

    def __init__(self, files: Files) -> None:
        super().__init__()
        self._files = files
        self._loc = array("q")
        self._count = 0

    @property
    def files(self) -> Files:
        return self._files

    # -- Mapping --------------------------------------------------------------------------
    def _at(self, key: object) -> int:
        try:
            i = int(key)  # type: ignore[call-overload]
        except (ValueError, TypeError):
            return _ABSENT
        return self._loc[i] if 0 <= i < len(self._loc) else _ABSENT

    def __getitem__(self, key: object) -> dict[str, Any]:
        loc = self._at(key)
        if loc == _ABSENT:
            raise KeyError(key)
        return self._files.document(loc, int(key))  # type: ignore[call-overload]

    def __contains__(self, key: object) -> bool:
        return self._at(key) != _ABSENT

    def __iter__(self) -> Iterator[str]:
        return (str(i) for i in self.ids())

    def __len__(self) -> int:
        return self._count

    def ids(self) -> Iterator[int]:
        """Document ids in ascending order."""
        loc = self._loc
        return (i for i in range(len(loc)) if loc[i] != _ABSENT)

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:  # type: ignore[override]
        i = 0
        while i < len(self._loc):  # by index: no list of every id, and safe while one is added
            loc = self._loc[i]
            if loc != _ABSENT:
                yield str(i), self._files.document(loc, i)
            i += 1

    def lines(self, prefix: bytes, *, verbatim: bool = False) -> Iterator[tuple[int, bytes]]:
        """With ``verbatim``, a document still where the snapshot put it keeps its line.

        A compaction then costs a copy of the snapshot, not a parse and an
        encoding of every scan (a third of the time at 200,000 scans); only
        documents changed since, in the journal, are encoded again.
        """
        files = self._files
        i = 0
        while i < len(self._loc):
            loc = self._loc[i]
            if loc != _ABSENT:
                line = files.line(loc) if verbatim and loc & 1 == SNAPSHOT else b""
                if line.startswith(b'[%s,"%d",' % (prefix, i)) and line.endswith(b"]"):
                    yield i, line + b"\n"
                else:
                    yield i, doc_line(prefix, i, files.document(loc, i))
            i += 1

    def columns(self, *keys: str) -> Iterator[tuple[Any, ...]]:
        for k, doc in self.items():
            yield (int(k), *(doc.get(key) for key in keys))

    @property
    def max_id(self) -> int:
        return self._max

    def frozen(self) -> DiskRows:
        """A copy of the locations, read through :meth:`Files.twin` (safe on another thread)."""
        out = DiskRows(self._files.twin())
        out.adopt(array("q", self._loc), self._count, self._max)
        return out

    # -- changes ----------------------------------------------------------------------------
    def pack(self, doc: Mapping[str, Any]) -> tuple[Any, ...]:
        """Nothing to keep: the document's JSON (checked as it is encoded) is on disk."""
        return ()

    def place(self, doc_id: int, doc: Mapping[str, Any], loc: int) -> None:
        self.put_at(doc_id, loc)

    def adopt(self, locations: Any, count: int, top: int) -> None:
        """Take the locations saved with a snapshot (its ``.sum``) instead of reading them."""
        self._loc = locations
        self._count = count
        self._max = top

    def locations(self) -> array[int]:
        return self._loc

    def put_at(self, doc_id: int, loc: int) -> None:
        need = doc_id + 1 - len(self._loc)
        if need > 0:
            self._loc.extend([_ABSENT] * max(need, len(self._loc) // 2, 64))
        if self._loc[doc_id] == _ABSENT:
            self._count += 1
        self._loc[doc_id] = loc
        self._max = max(self._max, doc_id)

    def put(self, doc_id: int, row: tuple[Any, ...]) -> None:
        raise TypeError("documents of a table on disk are placed by location")

    def delete(self, doc_id: int) -> None:
        if self._at(doc_id) != _ABSENT:
            self._loc[doc_id] = _ABSENT
            self._count -= 1

    def clear(self) -> None:
        self._loc = array("q")
        self._count = 0
        self._max = 0
