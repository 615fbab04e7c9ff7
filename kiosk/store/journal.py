"""TinyDB storage that survives power cuts and keeps inserts cheap.

TinyDB's ``JSONStorage`` rewrites its whole file in place on every change and
never fsyncs: each insert costs time proportional to the store, and a power
cut mid-write loses everything. A stock take is tens of thousands of scans,
each of which must be on disk before the cart beeps "OK". This module keeps
TinyDB (documents, tables, queries) and changes only how its data reaches the
disk.

Design
======

Each database is two files in one directory (their formats are in
:mod:`kiosk.store.records`):

``NAME.json`` — the *snapshot*
    The complete state at some moment. It is only ever replaced whole:
    written to ``NAME.json.tmp``, fsynced, renamed over the old one,
    directory fsynced. A reader therefore sees either the old or the new
    snapshot, never a mix.

``NAME.log`` — the *journal*
    Every change since that snapshot, appended as one checksummed line per
    change. Each append is followed by ``fsync`` before the caller returns,
    so a change that returned is on disk. The journal starts with a header
    naming the snapshot *generation* it applies to.

Writing a change costs one ``write`` + ``fsync`` of that change alone, so the
cost stays flat however many scans are stored. The TinyDB adapter
(:mod:`kiosk.store.adapter`) computes each change as a small delta instead of
TinyDB's whole-table copy and hands it to :meth:`JournalStorage.append`. A
plain TinyDB ``Table`` still works with this storage through
``read()``/``write()``: ``write()`` replaces the snapshot atomically (that is
also how compaction works), correct but O(n).

Compaction writes a snapshot of generation g+1, then starts a fresh journal
for g+1 (both atomically). If a crash falls between the two, the journal left
on disk is for generation g and is ignored on the next open, because the new
snapshot already holds its changes. It runs when a writer opens a database
whose journal has grown, when asked (:meth:`JournalStorage.compact`), and, as
a safety net only, when the journal outgrows ``COMPACT_DURING_WORK``.

Recovery on open:

* A *torn last record* (power cut during an append: no final newline, or a
  bad checksum on the very last line) was never acknowledged. Its bytes are
  saved to ``NAME.log.torn-TIMESTAMP``, the journal is cut back to the last
  good record, and a warning is logged.
* Any other damage (a bad record followed by good ones, a snapshot whose
  checksum or structure is wrong, a journal newer than its snapshot) means
  data the kiosk cannot vouch for. Both files are moved aside to
  ``NAME.*.corrupt-TIMESTAMP`` — never overwritten, never trimmed — and
  :class:`~kiosk.exc.StoreCorrupt` says where they are.

Failures while writing (``ENOSPC``, ``EIO``) never leave memory ahead of the
disk: the in-memory tables (compact :class:`~kiosk.store.rows.Rows`) change
only after the fsync returned. A failed append is cut back off the journal;
if even that fails the storage refuses further writes until it is reopened.
``ENOSPC``/``EDQUOT`` raise :class:`~kiosk.exc.StoreFull`, other errors
:class:`~kiosk.exc.StoreError`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from tinydb.storages import Storage

from kiosk.exc import StoreCorrupt, StoreError, StoreFull
from kiosk.fileio import atomic_write, fsync_dir, write_all, write_file
from kiosk.store.records import (
    JOURNAL_FORMAT,
    Damaged,
    apply_change,
    change_payload,
    frame,
    journal_header,
    parse_line,
    read_snapshot,
    snapshot_lines,
)
from kiosk.store.rows import Rows, Tables

log = logging.getLogger(__name__)

#: Journal size at which a writer compacts on open (bytes).
COMPACT_ON_OPEN = 1 << 20
#: Journal size at which compaction happens during work (safety net, bytes).
COMPACT_DURING_WORK = 16 << 20


class JournalStorage(Storage):
    """Snapshot + fsynced journal; see the module docstring.

    :param path: the snapshot file (``scans.json``); the journal is the same
        name with ``.log``.
    :param readonly: never touch the files (for status and reports while the
        daemon runs); torn tails are ignored instead of repaired.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.log_path = self.path.with_suffix(".log")
        self.readonly = readonly
        self._next_compact = COMPACT_DURING_WORK
        self._tables: Tables = {}
        self._gen = 0
        self._fd: int | None = None
        self._log_size = 0
        self._broken: str | None = None
        self._load()
        if not readonly and self._log_size > max(COMPACT_ON_OPEN, self._snapshot_size // 4):
            self.compact()

    # -- TinyDB Storage API ------------------------------------------------------------
    def read(self) -> dict[str, Rows] | None:  # type: ignore[override]
        """The live tables (a new outer dict, shared :class:`Rows`)."""
        return dict(self._tables) if self._tables else None

    def write(self, data: Mapping[str, Mapping[Any, Mapping[str, Any]]]) -> None:
        """Replace everything with ``data`` atomically (O(n): a new snapshot)."""
        self._writable()
        tables = {
            name: t if isinstance(t, Rows) else Rows.from_mapping(t) for name, t in data.items()
        }
        self._replace(tables)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # -- journal -----------------------------------------------------------------------------
    def append(
        self,
        table: str,
        *,
        puts: Mapping[int, Mapping[str, Any]] | None = None,
        deletes: Iterable[int] = (),
        clear: bool = False,
    ) -> None:
        """Make one change to one table durable, then apply it in memory."""
        self._writable()
        rows = self._tables.get(table)
        scratch = rows if rows is not None else Rows()
        packed = {int(k): scratch.pack(v) for k, v in (puts or {}).items()}
        dels = [int(d) for d in deletes]
        payload = change_payload(table, puts or {}, dels, clear)
        if self._fd is None:
            self._start_journal(self._gen)
        self._append_line(payload)
        # On disk: now, and only now, memory follows.
        if rows is None:
            rows = self._tables[table] = scratch
        if clear:
            rows.clear()
        for d in dels:
            rows.delete(d)
        for k, row in packed.items():
            rows.put(k, row)
        if self._log_size > self._next_compact:
            self._compact_quietly()

    def compact(self) -> None:
        """Fold the journal into a fresh snapshot (atomic; O(n))."""
        self._writable()
        self._replace(self._tables)

    @property
    def generation(self) -> int:
        return self._gen

    # -- internals: writing --------------------------------------------------------------
    def _writable(self) -> None:
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only")
        if self._broken is not None:
            raise StoreError(
                f"{self.path}: writing stopped after an earlier failure ({self._broken}); "
                "restart the kiosk to recover from what is on disk"
            )

    def _append_line(self, payload: bytes) -> None:
        assert self._fd is not None
        line = frame(payload)
        start = self._log_size
        try:
            write_all(self._fd, line)
            os.fsync(self._fd)
        except OSError as e:
            try:
                os.ftruncate(self._fd, start)
                os.fsync(self._fd)
            except OSError as e2:
                self._broken = f"cannot undo a failed journal write: {e2.strerror}"
            else:
                if e.errno not in _FULL:
                    # After a failed fsync the page cache cannot be trusted.
                    self._broken = f"journal write failed: {e.strerror}"
            raise _store_error(e, f"cannot append to {self.log_path}") from e
        self._log_size = start + len(line)

    def _replace(self, tables: Tables) -> None:
        # atomic_write's steps one by one: once the rename is done memory must
        # follow the new snapshot, even if the folder's fsync then fails.
        gen = self._gen + 1
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            size = write_file(tmp, snapshot_lines(tables, gen))
            os.replace(tmp, self.path)
        except OSError as e:
            _unlink_quietly(tmp)
            raise _store_error(e, f"cannot write snapshot {self.path}") from e
        # The new snapshot is in place: it is the truth from here on, whatever follows.
        self._tables = dict(tables)
        self._gen = gen
        self._snapshot_size = size
        self.close()
        # The rename must be durable before the new journal's: a journal newer
        # than its snapshot reads as damage.
        try:
            fsync_dir(self.path.parent)
        except OSError as e:
            raise _store_error(e, f"cannot write snapshot {self.path}") from e
        self._start_journal(gen)
        self._next_compact = COMPACT_DURING_WORK

    def _start_journal(self, gen: int) -> None:
        line = journal_header(gen)
        try:
            atomic_write(self.log_path, [line])
            self._fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        except OSError as e:
            raise _store_error(e, f"cannot start journal {self.log_path}") from e
        self._log_size = len(line)

    def _compact_quietly(self) -> None:
        try:
            self.compact()
        except StoreError as e:
            # The change itself is durable in the journal; compaction can wait.
            self._next_compact = self._log_size + COMPACT_DURING_WORK // 4
            log.warning("compaction of %s postponed: %s", self.path, e)

    # -- internals: reading ---------------------------------------------------------------
    def _load(self) -> None:
        for _attempt in range(5):
            try:
                self._tables, self._gen, self._snapshot_size = read_snapshot(self.path)
                if self._gen < 0:
                    self._import_legacy()
                stale = self._replay()
            except Damaged as e:
                self._damaged(str(e))
            except OSError as e:
                raise _store_error(e, f"cannot open {self.path}") from e
            if not (self.readonly and stale):
                return
            # A reader raced a compaction: read the new pair again.
        raise StoreError(f"{self.path} keeps changing while being read; try again")

    def _import_legacy(self) -> None:
        """A plain TinyDB JSON file (an earlier kiosk): keep a copy, rewrite as a snapshot."""
        self._gen = 0
        if self.readonly:
            return
        keep = self.path.with_name(f"{self.path.name}.tinydb-{_stamp()}")
        write_file(keep, [self.path.read_bytes()])
        self._replace(self._tables)
        log.warning(
            "%s: converted from plain TinyDB JSON; the original is kept in %s", self.path, keep.name
        )

    def _replay(self) -> bool:
        """Apply the journal; returns True if it belongs to a newer snapshot."""
        try:
            data = self.log_path.read_bytes()
        except FileNotFoundError:
            if not self.readonly and self._snapshot_size:
                self._start_journal(self._gen)
            return False
        pos = 0
        good = 0
        header = True
        lineno = 0
        while pos < len(data):
            end = data.find(b"\n", pos)
            lineno += 1
            rec = parse_line(data[pos:end]) if end >= 0 else None
            if rec is None:
                rest = data[pos:]
                if rest.count(b"\n") > 1 or (b"\n" in rest and not rest.endswith(b"\n")):
                    raise Damaged(f"{self.log_path} line {lineno} is damaged and not the last")
                self._torn(data, good)
                break
            if header:
                header = False
                if rec.get("format") != JOURNAL_FORMAT:
                    raise Damaged(f"{self.log_path} is not a kiosk journal")
                gen = int(rec.get("generation", -1))
                if gen < self._gen:
                    log.info(
                        "%s is older than its snapshot (compaction was cut short)", self.log_path
                    )
                    if not self.readonly:
                        self._start_journal(self._gen)
                    return False
                if gen > self._gen:
                    if self.readonly:
                        return True
                    raise Damaged(
                        f"{self.log_path} belongs to snapshot generation {gen} but "
                        f"{self.path} is generation {self._gen}"
                    )
            else:
                try:
                    apply_change(self._tables, rec)
                except (KeyError, TypeError, ValueError, AttributeError) as e:
                    raise Damaged(f"{self.log_path} line {lineno} is not a valid change") from e
            pos = end + 1
            good = pos
        if header:  # empty or header torn: never held an acknowledged change
            if not self.readonly:
                self._start_journal(self._gen)
            return False
        if not self.readonly:
            self._fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
            self._log_size = good
        return False

    def _torn(self, data: bytes, good: int) -> None:
        if self.readonly:
            return  # the writer may be in the middle of an append
        stamp = _stamp()
        keep = self.log_path.with_name(f"{self.log_path.name}.torn-{stamp}")
        write_file(keep, [data[good:]])
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.ftruncate(fd, good)
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(self.path.parent)
        log.warning(
            "%s: recovered from an interrupted write: the last record (%d bytes, never "
            "acknowledged) was cut off and kept in %s",
            self.log_path,
            len(data) - good,
            keep.name,
        )

    def _damaged(self, why: str) -> NoReturn:
        if self.readonly:
            raise StoreCorrupt(
                f"{why}. The files were left untouched (read-only); stop the daemon and "
                "start it to have them set aside"
            )
        stamp = _stamp()
        moved = []
        try:
            for p in (self.path, self.log_path):
                if p.exists():
                    target = p.with_name(f"{p.name}.corrupt-{stamp}")
                    os.replace(p, target)
                    moved.append(target.name)
            fsync_dir(self.path.parent)
        except OSError as e:
            raise StoreCorrupt(
                f"{why}. Setting the files aside failed ({e.strerror}); they were left "
                f"in {self.path.parent}; copy them somewhere safe before starting again"
            ) from e
        raise StoreCorrupt(
            f"{why}. Nothing was deleted: the damaged files were moved to "
            f"{', '.join(moved)} in {self.path.parent}; the next start begins an empty "
            "store, so copy those files somewhere safe and ask for help to recover them"
        )


_FULL = (errno.ENOSPC, errno.EDQUOT)


def _store_error(e: OSError, what: str) -> StoreError:
    if e.errno in _FULL:
        return StoreFull(
            errno.ENOSPC, f"disk full: {what}; free space on the SD card, scans are not stored"
        )
    return StoreError(f"{what}: {e.strerror or e}")


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
