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

Recovery on open (damage costs only what is damaged, see :mod:`kiosk.store.damage`):

* A *torn last record* (power cut during an append: no final newline, or a
  bad checksum on the very last line) was never acknowledged. Its bytes are
  saved to ``NAME.log.torn-TIMESTAMP``, the journal is cut back to the last
  good record, and a warning is logged.
* A bad record followed by good ones, a damaged snapshot line, a journal
  newer than its snapshot, a journal shorter than ``NAME.mark`` says: every
  readable record is kept, the damaged file is kept as
  ``NAME.*.corrupt-TIMESTAMP`` (a hard link, no extra space), the loss is
  counted in :attr:`JournalStorage.losses` and the store is compacted at
  once, so the next snapshot carries the record of the loss.
* Only a file that is no store at all is moved aside whole
  (:class:`~kiosk.exc.StoreCorrupt`).

The scans table is kept on disk (:mod:`kiosk.store.cold`): memory holds one
location per scan, not the scan.

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
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from tinydb.storages import Storage

from kiosk.exc import StoreCorrupt, StoreError, StoreFull
from kiosk.fileio import atomic_write, fsync_dir, write_all, write_file
from kiosk.store.cold import JOURNAL, SNAPSHOT, DiskRows, Files, where
from kiosk.store.damage import (
    MARK_EVERY,
    Loss,
    Mark,
    losses_of,
    read_mark,
    set_aside,
    stamp,
    write_mark,
)
from kiosk.store.records import (
    JOURNAL_FORMAT,
    Damaged,
    Snapshot,
    apply_change,
    change_payload,
    frame,
    journal_header,
    parse_line,
    read_snapshot,
    snapshot_lines,
)
from kiosk.store.rows import Rows, Tables
from kiosk.store.summary import Known, Summary, read_known, sum_path, write_known

log = logging.getLogger(__name__)

#: Journal size at which a writer compacts on open (bytes).
COMPACT_ON_OPEN = 1 << 20
#: Journal size at which compaction happens during work (safety net, bytes).
COMPACT_DURING_WORK = 16 << 20
#: Free space kept beyond a new snapshot's size before compacting (bytes).
COMPACT_RESERVE = 256 << 10


class JournalStorage(Storage):
    """Snapshot + fsynced journal; see the module docstring.

    :param path: the snapshot file (``scans.json``); the journal is the same
        name with ``.log``.
    :param readonly: never touch the files (for status and reports while the
        daemon runs); torn tails are ignored instead of repaired.
    :param cold: tables kept on disk (:class:`~kiosk.store.cold.DiskRows`).
    :param summaries: per table kept on disk, how to make its running
        :class:`~kiosk.store.summary.Summary` (from saved bytes, or empty from
        ``None``); kept with every change and saved beside each snapshot.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        readonly: bool = False,
        cold: Iterable[str] = (),
        summaries: Mapping[str, Callable[[bytes | None], Summary]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.log_path = self.path.with_suffix(".log")
        self.readonly = readonly
        self._cold = frozenset(cold)
        self._make_summary = dict(summaries or {})
        #: Running summaries of tables kept on disk (see ``summaries``).
        self.summaries: dict[str, Summary] = {}
        self._known = False  # whether the snapshot was read with its saved summary
        self._files = Files(self.path.name)
        self._next_compact = COMPACT_DURING_WORK
        self._tables: Tables = {}
        self._gen = 0
        self._changes = 0  # changes acknowledged, ever (the snapshot's and the journal's)
        self._base = 0  # of those, made before the current journal
        self._fd: int | None = None
        self._log_size = 0
        self._snapshot_size = 0
        self._broken: str | None = None
        #: Damage recorded earlier (in the snapshot) and found on this opening.
        self.losses: list[Loss] = []
        self._found: list[tuple[str, int | None, Path]] = []
        try:
            self._load()
            if not readonly:
                if self._found:
                    self._settle_damage()
                elif self._log_size > max(COMPACT_ON_OPEN, self._snapshot_size // 4):
                    self._compact_quietly()
                elif self._make_summary and self._snapshot_size and not self._known:
                    # No summary saved with this snapshot (first start after an upgrade,
                    # or it was lost): save one now, so later openers read no scan.
                    self._compact_quietly()
        except BaseException:
            self.close()
            raise

    def _new_rows(self, name: str) -> Rows:
        return DiskRows(self._files) if name in self._cold else Rows()

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
        self._summarise_all(tables)
        self._replace(tables)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._files.close()

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
        scratch = rows if rows is not None else self._new_rows(table)
        packed = {int(k): scratch.pack(v) for k, v in (puts or {}).items()}
        dels = [int(d) for d in deletes]
        summary = self.summaries.get(table)
        gone = self._replaced(rows, [*packed, *dels], clear) if summary is not None else {}
        payload = change_payload(table, puts or {}, dels, clear)
        if self._fd is None:
            self._start_journal()
        loc = where(JOURNAL, self._append_line(payload))
        # On disk: now, and only now, memory follows.
        if rows is None:
            rows = self._tables[table] = scratch
        if clear:
            rows.clear()
        for d in dels:
            rows.delete(d)
        for k, row in packed.items():
            if isinstance(rows, DiskRows):
                rows.put_at(k, loc)
            else:
                rows.put(k, row)
        if summary is not None:
            self._summarise(summary, gone, {int(k): v for k, v in (puts or {}).items()}, clear)
        self._changes += 1
        if (self._changes - self._base) % MARK_EVERY == 1:
            write_mark(self.path, Mark(self._gen, self._changes))
        if self._log_size > self._next_compact:
            self._compact_quietly()

    def _replaced(self, rows: Rows | None, ids: list[int], clear: bool) -> dict[int, Any]:
        """The stored documents a change replaces or deletes (read before it is made)."""
        if rows is None or clear:
            return {}
        out = {}
        for k in ids:
            if str(k) in rows:
                try:
                    out[k] = rows[str(k)]
                except StoreCorrupt:  # unreadable already: its totals cannot be taken back
                    log.warning("%s: document %d unreadable while replaced", self.path, k)
        return out

    def _summarise_all(self, tables: Mapping[str, Rows]) -> None:
        """Summaries anew from whole tables (an import or a wholesale write)."""
        self.summaries = {n: make(None) for n, make in self._make_summary.items()}
        for name, summary in self.summaries.items():
            for k, doc in tables.get(name, Rows()).items():
                summary.add(int(k), doc)

    @staticmethod
    def _summarise(
        summary: Summary, gone: Mapping[int, Any], puts: Mapping[int, Any], clear: bool
    ) -> None:
        if clear:
            summary.clear()
        for k, doc in gone.items():
            summary.remove(k, doc)
        for k, doc in puts.items():
            summary.add(k, doc)

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

    def _append_line(self, payload: bytes) -> int:
        """Append one framed record; returns its offset."""
        assert self._fd is not None
        line = frame(payload)
        start = self._log_size
        try:
            write_all(self._fd, line)
            os.fsync(self._fd)
        except OSError as e:
            self._files.forget(JOURNAL)
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
        return start

    def _replace(self, tables: Tables) -> None:
        # atomic_write's steps one by one: once the rename is done memory must
        # follow the new snapshot, even if the folder's fsync then fails.
        gen = self._gen + 1
        tmp = self.path.with_name(self.path.name + ".tmp")
        fresh = {name: DiskRows(self._files) for name in tables if name in self._cold}

        def placed(name: str, doc_id: int, offset: int) -> None:
            if (rows := fresh.get(name)) is not None:
                rows.put_at(doc_id, where(SNAPSHOT, offset))

        extra = {"changes": self._changes, "losses": [x.to_dict() for x in self.losses]}
        # Tables on disk last: an opener with the .sum reads only what comes before them.
        tables = {n: r for n, r in tables.items() if n not in self._cold} | {
            n: r for n, r in tables.items() if n in self._cold
        }
        marks: dict[str, int] = {}
        rfd = None
        try:
            lines = snapshot_lines(tables, gen, extra=extra, placed=placed, marks=marks)
            size = write_file(tmp, lines)
            rfd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
            os.replace(tmp, self.path)
        except OSError as e:
            if rfd is not None:
                os.close(rfd)
            _unlink_quietly(tmp)
            raise _store_error(e, f"cannot write snapshot {self.path}") from e
        # The new snapshot is in place: it is the truth from here on, whatever follows.
        self._tables = {name: fresh.get(name, rows) for name, rows in tables.items()}
        self._files.set(SNAPSHOT, rfd)
        self._files.set(JOURNAL, None)
        self._gen = gen
        self._base = self._changes
        self._snapshot_size = size
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        # The rename must be durable before the new journal's: a journal newer
        # than its snapshot reads as damage.
        try:
            fsync_dir(self.path.parent)
        except OSError as e:
            raise _store_error(e, f"cannot write snapshot {self.path}") from e
        self._start_journal()
        self._next_compact = COMPACT_DURING_WORK
        if self._make_summary:
            self._save_known(gen, size, marks)

    def _save_known(self, gen: int, size: int, marks: Mapping[str, int]) -> None:
        """Save the summaries and locations beside the new snapshot (a cache: failure is fine)."""
        path = sum_path(self.path)
        disk = {n: r for n, r in self._tables.items() if isinstance(r, DiskRows)}
        starts = [marks[f"table:{n}"] for n in disk]
        known = Known(gen, size, marks["crc32"], min(starts, default=marks["end"]), marks["end"])
        for name, rows in disk.items():
            known.locations[name] = rows.locations()
            known.counts[name] = (len(rows), rows.max_id)
            if (summary := self.summaries.get(name)) is not None:
                known.summaries[name] = summary.dump()
        try:
            write_known(path, known)
        except OSError as e:
            _unlink_quietly(path)
            log.warning("%s not saved (%s); the next start reads every document", path, e)

    def _start_journal(self) -> None:
        line = journal_header(self._gen, self._changes)
        try:
            atomic_write(self.log_path, [line])
            self._fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
            self._files.set(JOURNAL, os.open(self.log_path, os.O_RDONLY | os.O_CLOEXEC))
        except OSError as e:
            raise _store_error(e, f"cannot start journal {self.log_path}") from e
        self._base = self._changes
        self._log_size = len(line)
        write_mark(self.path, Mark(self._gen, self._changes))

    def _room_to_compact(self) -> bool:
        """Whether the new snapshot fits with room to spare (it is written beside the old)."""
        need = self._snapshot_size + self._log_size + COMPACT_RESERVE
        try:
            st = os.statvfs(self.path.parent)
        except OSError:
            return True
        return st.f_bavail * st.f_frsize >= need

    def _compact_quietly(self) -> None:
        if not self._room_to_compact():
            self._next_compact = self._log_size + COMPACT_DURING_WORK // 4
            log.warning("compaction of %s postponed: not enough free space yet", self.path)
            return
        try:
            self.compact()
        except StoreError as e:
            # The change itself is durable in the journal; compaction can wait.
            self._next_compact = self._log_size + COMPACT_DURING_WORK // 4
            log.warning("compaction of %s postponed: %s", self.path, e)

    def _settle_damage(self) -> None:
        """Keep the damaged files, record the loss, and write a clean pair at once."""
        kept: dict[Path, str] = {}
        for what, lost, path in self._found:
            if path not in kept:
                kept[path] = set_aside(path)
            loss = Loss(what, lost, kept[path], time.time())
            self.losses.append(loss)
            log.error("%s: %s", self.path.parent, loss.line())
        self._found = []
        self._compact_quietly()

    # -- internals: reading ---------------------------------------------------------------
    def _load(self) -> None:
        for _attempt in range(5):
            self._files.close()
            self._found = []
            try:
                known = read_known(sum_path(self.path)) if self._make_summary else None
                self.summaries = {n: make(None) for n, make in self._make_summary.items()}
                snap, f = read_snapshot(self.path, self._new_rows, known=known, seen=self._seen)
                self._known = snap.known is not None
                if snap.known is not None:
                    self.summaries = {
                        n: make(snap.known.summaries.get(n) or None)
                        for n, make in self._make_summary.items()
                    }
                if f is not None:
                    with f:
                        self._files.set(SNAPSHOT, os.dup(f.fileno()))
                stale = self._take(snap)
            except Damaged as e:
                self._damaged(str(e))
            except OSError as e:
                raise _store_error(e, f"cannot open {self.path}") from e
            if not (self.readonly and stale):
                if self.readonly:
                    self.losses += [Loss(w, n) for w, n, _p in self._found]
                return
            # A reader raced a compaction: read the new pair again.
        raise StoreError(f"{self.path} keeps changing while being read; try again")

    def _take(self, snap: Snapshot) -> bool:
        self._tables, self._gen, self._snapshot_size = snap.tables, snap.generation, snap.size
        self.losses = losses_of(snap.head)
        self._changes = self._base = int(snap.head.get("changes", 0) or 0)
        self._found = [(what, lost, self.path) for what, lost in snap.damage]
        if snap.legacy:
            self._summarise_all(self._tables)
            if not self.readonly:
                self._import_legacy()
        return self._replay(snap)

    def _import_legacy(self) -> None:
        """A plain TinyDB JSON file (an earlier kiosk): keep a copy, rewrite as a snapshot."""
        keep = self.path.with_name(f"{self.path.name}.tinydb-{stamp()}")
        write_file(keep, [self.path.read_bytes()])
        self._replace(self._tables)
        log.warning(
            "%s: converted from plain TinyDB JSON; the original is kept in %s", self.path, keep.name
        )

    def _replay(self, snap: Snapshot) -> bool:
        """Apply the journal; returns True if it belongs to a newer snapshot (a reader's race)."""
        # The mark before the journal: it only ever lags behind it, so a reader
        # racing the writer never mistakes the writer's progress for a loss.
        mark = read_mark(self.path)
        stale_mark = mark is not None and mark.generation > self._gen
        if self.readonly and stale_mark and self._snapshot_replaced():
            return True  # compacted since the snapshot was read: read again
        try:
            data = self.log_path.read_bytes()
        except FileNotFoundError:
            data = b""
        snap_changes = snap.head.get("changes")
        if data:  # replaying reads replaced documents back, some from the journal itself
            self._files.set(JOURNAL, os.open(self.log_path, os.O_RDONLY | os.O_CLOEXEC))
        pos = good = records = bad = 0
        header: dict[str, Any] | None = None
        while pos < len(data):
            end = data.find(b"\n", pos)
            rec = parse_line(data[pos:end]) if end >= 0 else None
            if rec is None and (end < 0 or end == len(data) - 1):
                self._torn(data, good)  # the last record: never acknowledged
                break
            if header is None:
                header = rec if rec is not None and rec.get("format") == JOURNAL_FORMAT else {}
                if not header:
                    self._found.append(
                        (f"{self.log_path.name}: its header is damaged", 0, self.log_path)
                    )
                gen = int(header.get("generation", self._gen))
                if gen < self._gen:
                    log.info("%s is older than its snapshot (compaction cut short)", self.log_path)
                    data = b""
                    break
                if gen > self._gen:
                    if self.readonly and not snap.damage and self._snapshot_replaced():
                        return True
                    base = header.get("base")
                    lost = (
                        base - snap_changes
                        if isinstance(base, int) and isinstance(snap_changes, int)
                        else None
                    )
                    self._found.append(
                        (
                            f"{self.path.name} is older than its journal ({self._gen} < {gen})",
                            lost,
                            self.log_path,
                        )
                    )
                    self._gen = gen
                base = header.get("base")
                self._changes = self._base = base if isinstance(base, int) else self._changes
            else:
                records += 1
                try:
                    if rec is None:
                        raise ValueError("checksum")
                    self._apply(rec, where(JOURNAL, pos))
                except (KeyError, TypeError, ValueError, AttributeError):
                    bad += 1
            pos = end + 1
            good = pos
        if bad:
            what = f"{self.log_path.name}: {bad} damaged record(s) skipped, their neighbours kept"
            self._found.append((what, bad, self.log_path))
        self._changes = self._base + records
        self._check_mark(mark, have_journal=header is not None and good > 0)
        if self.readonly:
            if header is not None and good:
                self._files.set(JOURNAL, os.open(self.log_path, os.O_RDONLY | os.O_CLOEXEC))
            return False
        if header is None or not good:  # missing, empty, stale, or only a torn header
            self._start_journal()
            return False
        self._fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        self._files.set(JOURNAL, os.open(self.log_path, os.O_RDONLY | os.O_CLOEXEC))
        self._log_size = good
        return False

    def _seen(self, table: str, doc_id: int, doc: dict[str, Any]) -> None:
        if (summary := self.summaries.get(table)) is not None:
            summary.add(doc_id, doc)

    def _apply(self, rec: Mapping[str, Any], loc: int) -> None:
        """Replay one journal record, keeping the summaries in step."""
        name = rec.get("t")
        summary = self.summaries.get(name) if isinstance(name, str) else None
        if summary is None:
            apply_change(self._tables, rec, self._new_rows, loc)
            return
        puts = {int(k): v for k, v in rec.get("p", {}).items()}
        ids = [*puts, *(int(d) for d in rec.get("d", ()))]
        gone = self._replaced(self._tables.get(str(name)), ids, bool(rec.get("c")))
        apply_change(self._tables, rec, self._new_rows, loc)
        self._summarise(summary, gone, puts, bool(rec.get("c")))

    def _snapshot_replaced(self) -> bool:
        """Whether the snapshot on disk is no longer the one this opener read."""
        fd = self._files.fds[SNAPSHOT]
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return False
        return fd is None or os.fstat(fd).st_ino != now.st_ino

    def _check_mark(self, mark: Mark | None, *, have_journal: bool) -> None:
        """Compare with the witness: fewer changes than were acknowledged means a loss."""
        if mark is None or mark.generation < self._gen:
            return
        if mark.generation > self._gen:
            what = (
                f"{self.path.name} is generation {self._gen}, "
                f"but generation {mark.generation} was written"
            )
            self._found.append((what, None, self.path))
        elif mark.acked > self._changes:
            state = "holds fewer changes than were acknowledged" if have_journal else "is missing"
            lost = mark.acked - self._changes
            self._found.append((f"{self.log_path.name} {state}", lost, self.log_path))

    def _torn(self, data: bytes, good: int) -> None:
        if self.readonly:
            return  # the writer may be in the middle of an append
        keep = self.log_path.with_name(f"{self.log_path.name}.torn-{stamp()}")
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
        when = stamp()
        moved = []
        try:
            for p in (self.path, self.log_path):
                if p.exists():
                    target = p.with_name(f"{p.name}.corrupt-{when}")
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
