"""A new snapshot written from the tables as they were at one moment, on a thread if need be.

Compaction reads every scan (1 s at 200,000 scans here, ten on a Pi Zero): done
in the scan loop it froze the cart, done at start-up it held back ``READY=1``.
So the tables are frozen first (the small ones copied, those on disk as a copy
of their locations, read through descriptors of their own), and the snapshot
of that moment is written to ``NAME.json.tmp`` while the cart goes on
appending to the journal. The storage then puts it in place with the
journal's records made since (:meth:`~kiosk.store.journal.JournalStorage._install`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kiosk.fileio import write_file
from kiosk.store.cold import SNAPSHOT, DiskRows, Files, where
from kiosk.store.records import snapshot_intact, snapshot_lines
from kiosk.store.rows import Tables

__all__ = ["Abandoned", "Next", "freeze", "write_next"]


class Abandoned(Exception):
    """The compaction was called off (the store closes, or compacts at once)."""


class Next:
    """The next snapshot: the tables as they were when the journal was ``at`` bytes long.

    A plain class, as the store's other records (see :class:`~kiosk.store.summary.Known`).
    """

    __slots__ = ("at", "changes", "extra", "fresh", "frozen", "gen", "marks", "size", "stop",
                 "tables")  # fmt: skip

    def __init__(
        self,
        gen: int,
        at: int,
        changes: int,
        extra: dict[str, Any],
        tables: Tables,
        *,
        frozen: Tables,
    ) -> None:
        self.gen, self.at, self.changes, self.extra = gen, at, changes, extra
        #: The tables this snapshot is of: made live when it is put in place.
        self.tables = tables
        #: Their frozen copies, written out.
        self.frozen = frozen
        #: Filled in by :func:`write_next`: the file's size, its marks (see
        #: :func:`~kiosk.store.records.snapshot_lines`) and where each document of a
        #: table on disk is in it.
        self.size = 0
        self.marks: dict[str, int] = {}
        self.fresh: dict[str, DiskRows] = {}
        self.stop = threading.Event()


def freeze(tables: Tables, gen: int, at: int, changes: int, extra: dict[str, Any]) -> Next:
    """The snapshot of ``tables`` as they are now, to be written as generation ``gen``.

    Tables on disk go last: an opener with the ``.sum`` reads only what comes
    before them.
    """
    ordered = sorted(tables.items(), key=lambda kv: isinstance(kv[1], DiskRows))
    frozen: Tables = {name: rows.frozen() for name, rows in ordered}
    return Next(gen, at, changes, extra, tables, frozen=frozen)


def write_next(nxt: Next, tmp: Path, files: Files) -> Next:
    """Write ``nxt`` to ``tmp`` (fsynced); ``files``: what its fresh locations are read through.

    Lines of the previous snapshot, once it is checked intact, are copied as
    they are. Raises :class:`Abandoned` once ``nxt.stop`` is set, OSError if
    the disk fails; ``tmp`` is then removed.
    """
    nxt.fresh = {n: DiskRows(files) for n, r in nxt.frozen.items() if isinstance(r, DiskRows)}

    def placed(name: str, doc_id: int, offset: int) -> None:
        if (rows := nxt.fresh.get(name)) is not None:
            rows.put_at(doc_id, where(SNAPSHOT, offset))

    own = [r.files for r in nxt.frozen.values() if isinstance(r, DiskRows)]
    try:
        old = own[0].fds[SNAPSHOT] if own else None
        verbatim = old is not None and snapshot_intact(old)
        lines = snapshot_lines(
            nxt.frozen, nxt.gen, extra=nxt.extra, placed=placed, marks=nxt.marks, verbatim=verbatim
        )
        nxt.size = write_file(tmp, _until(nxt.stop, lines))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        for f in own:
            f.close()
    return nxt


def _until(stop: threading.Event, blocks: Iterator[bytes]) -> Iterator[bytes]:
    for block in blocks:
        if stop.is_set():
            raise Abandoned
        yield block
