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

Compaction writes a snapshot of generation g+1 of the tables as they were
when the journal was some length (:mod:`kiosk.store.compaction`), then a
journal for g+1 of the records appended since, and renames both into place,
the snapshot first. If a crash falls between the renames, the journal left on
disk is for generation g: an opener replays its records numbered past the
new snapshot's change count and ignores the others, which the snapshot holds.
A writer compacts on a thread, while scans go on into the journal, from its
first change if it opened a database whose journal has grown (unless it
opens with ``compact=False``: a short-lived command leaves that to the
daemon) and when the journal outgrows ``COMPACT_DURING_WORK``; it puts the
result in place at its next change (or on close), and calls it off if closed
before it is done.
Asked (:meth:`JournalStorage.compact`), after damage, for a young store, or
when opened without the summary saved with its snapshot (so that even a
one-command writer leaves one), it compacts at once. Documents still in an
intact snapshot are copied as their lines are.

Every :data:`CHECKPOINT_EVERY` bytes of journal a writer saves its
summaries, locations and small tables with the journal's length and CRC so
far (:mod:`kiosk.store.summary`): an opener replays only what follows.

Recovery on open (what damage costs, and how it is recorded) is in
:mod:`kiosk.store.replay`.

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
import logging
import os
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from kiosk.background import Background
from kiosk.exc import StoreError
from kiosk.fileio import atomic_write, fsync_dir, write_all, write_file
from kiosk.store.cold import JOURNAL, SNAPSHOT, DiskRows, Files, where
from kiosk.store.compaction import Next, freeze, write_next
from kiosk.store.damage import MARK_EVERY, Loss, Mark, MarkWriter, set_aside
from kiosk.store.records import apply_change, change_payload, frame, journal_header, parse_line
from kiosk.store.replay import FULL, JournalReader, store_error
from kiosk.store.rows import Rows, Tables, dump_json
from kiosk.store.summary import Known, Summary, sum_path, write_known

log = logging.getLogger(__name__)

#: Journal size at which a writer compacts on open (bytes).
COMPACT_ON_OPEN = 1 << 20
#: Journal size at which compaction happens during work (safety net, bytes).
COMPACT_DURING_WORK = 16 << 20
#: Free space kept beyond a new snapshot's size before compacting (bytes).
COMPACT_RESERVE = 256 << 10
#: Journal grown since the last ``.sum`` at which a writer saves a checkpoint
#: (bytes): an opener replays at most this much, whatever the history.
CHECKPOINT_EVERY = 256 << 10


class JournalStorage(JournalReader, Storage):
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
        compact: bool = True,
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
        self._described: Known | None = None
        self._log_crc = 0
        self._checkpoint_at = 0
        self._pending: tuple[Next, Background[Next]] | None = None  # a compaction on a thread
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
        self._mark = MarkWriter(self.path)
        #: Damage recorded earlier (in the snapshot) and found on this opening.
        self.losses: list[Loss] = []
        self._found: list[tuple[str, int | None, Path]] = []
        try:
            if not readonly:
                _unlink_quietly(self._tmp)  # a compaction's, cut short with its process
            self._load()
            if not readonly:
                if self._found:
                    self._settle_damage()
                else:
                    grown = self._log_size > max(COMPACT_ON_OPEN, self._snapshot_size // 4)
                    # No summary saved with this snapshot (first start after an upgrade,
                    # or it was lost): this opener read every scan; with one, later
                    # openers (short-lived ones too) read none.
                    no_summary = bool(
                        self._make_summary and self._snapshot_size and not self._known
                    )
                    if compact and no_summary:
                        self._compact_quietly()
                    elif compact and grown:
                        # At the first change, on a thread: not while the opener
                        # still gets ready (it would share the interpreter with it).
                        self._next_compact = 0
                    self._mark.adopt()  # it agrees with the journal: keep it counting
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
        if self._pending is not None:
            if self._pending[1].done():
                self._settle()  # written already: put it in place, the next start reads less
            else:
                self._call_off()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._mark.close()
        self._files.close()

    # -- journal -----------------------------------------------------------------------------
    def append(
        self,
        table: str,
        *,
        puts: Mapping[int, Mapping[str, Any]] | None = None,
        deletes: Iterable[int] = (),
        clear: bool = False,
        old: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> None:
        """Make one change to one table durable, then apply it in memory.

        ``old``: stored documents the caller has read already (as stored), so
        the summaries take them back without reading them again.
        """
        self._writable()
        rows = self._tables.get(table)
        scratch = rows if rows is not None else self._new_rows(table)
        packed = {int(k): scratch.pack(v) for k, v in (puts or {}).items()}
        dels = [int(d) for d in deletes]
        summary = self.summaries.get(table)
        gone = self._replaced(rows, [*packed, *dels], clear, old) if summary is not None else {}
        new = {int(k): v for k, v in (puts or {}).items()}
        payload = change_payload(table, new, dels, clear, number=self._changes + 1)
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
            self._summarise(summary, gone, new, clear)
        self._changes += 1
        # The witness follows the fsync, so it never counts what is not on disk.
        if (self._changes - self._base) % MARK_EVERY == 1:
            self._mark.durable(Mark(self._gen, self._changes))
        else:
            self._mark.note(Mark(self._gen, self._changes))
        if self._pending is not None:
            if self._pending[1].done():
                self._settle()
        elif self._log_size > self._next_compact:
            self._compact_later()
        elif self._log_size - self._checkpoint_at >= CHECKPOINT_EVERY and self._make_summary:
            self._checkpoint()

    def compact(self) -> None:
        """Fold the journal into a fresh snapshot now (atomic; O(n))."""
        self._writable()
        self._replace(self._tables)

    def settle(self) -> None:
        """Wait for a compaction running on a thread (or due), and put it in place."""
        if self._pending is None and self._log_size > self._next_compact:
            self._compact_later()
        if self._pending is not None:
            self._settle()

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
            self._log_crc = zlib.crc32(line, self._log_crc)
        except OSError as e:
            self._files.forget(JOURNAL)
            try:
                os.ftruncate(self._fd, start)
                os.fsync(self._fd)
            except OSError as e2:
                self._broken = f"cannot undo a failed journal write: {e2.strerror}"
            else:
                if e.errno not in FULL:
                    # After a failed fsync the page cache cannot be trusted.
                    self._broken = f"journal write failed: {e.strerror}"
            raise store_error(e, f"cannot append to {self.log_path}") from e
        self._log_size = start + len(line)
        return start

    def _replace(self, tables: Tables) -> None:
        """Write ``tables`` as the next snapshot and put it in place, now."""
        self._call_off()
        nxt = self._freeze(tables)
        try:
            write_next(nxt, self._tmp, self._files)
        except OSError as e:
            raise store_error(e, f"cannot write snapshot {self.path}") from e
        self._install(nxt)

    @property
    def _tmp(self) -> Path:
        return self.path.with_name(self.path.name + ".tmp")

    def _freeze(self, tables: Tables) -> Next:
        extra = {"changes": self._changes, "losses": [x.to_dict() for x in self.losses]}
        return freeze(tables, self._gen + 1, self._log_size, self._changes, extra)

    def _compact_later(self) -> None:
        """Start a compaction on a thread: scans go on meanwhile, into the journal."""
        if not self._room_to_compact():
            self._postpone("not enough free space yet")
            return
        nxt = self._freeze(self._tables)
        self._pending = (nxt, Background(write_next, nxt, self._tmp, self._files, name="compact"))

    def _settle(self) -> None:
        assert self._pending is not None
        nxt, job = self._pending
        self._pending = None
        try:
            job.wait()
            self._install(nxt)
        except OSError as e:
            _unlink_quietly(self._tmp)
            self._postpone(str(store_error(e, f"cannot write snapshot {self.path}")))
        except StoreError as e:
            self._postpone(str(e))

    def _call_off(self) -> None:
        """Stop a compaction running on a thread and remove what it wrote."""
        if self._pending is not None:
            nxt, job = self._pending
            self._pending = None
            nxt.stop.set()
            job.wait_quietly()
            _unlink_quietly(self._tmp)

    def _install(self, nxt: Next) -> None:
        """Put snapshot ``nxt`` in place, with a journal of the changes made since it was frozen.

        Renamed one after the other: in between, the old journal still holds
        those changes and an opener replays the ones the snapshot lacks (see
        :mod:`kiosk.store.replay`). From the snapshot's rename on, memory
        follows the new pair whatever fails.
        """
        head = journal_header(nxt.gen, nxt.changes)
        tail = self._journal_since(nxt.at)
        fresh: Tables = dict(nxt.fresh)
        pos = 0
        while pos < len(tail):  # documents changed since: now in the new journal
            end = tail.index(b"\n", pos)
            rec = parse_line(tail[pos:end])
            if rec is None:
                raise StoreError(f"{self.log_path} changed under the writer while it compacted")
            if rec.get("t") in self._cold:
                apply_change(fresh, rec, self._new_rows, where(JOURNAL, len(head) + pos))
            pos = end + 1
        new_log = self.log_path.with_name(self.log_path.name + ".tmp")
        fds: list[int] = []
        try:
            write_file(new_log, [head, tail])
            for path, flags in (
                (self._tmp, os.O_RDONLY),
                (new_log, os.O_RDONLY),
                (new_log, os.O_WRONLY | os.O_APPEND),
            ):
                fds.append(os.open(path, flags | os.O_CLOEXEC))
            os.replace(self._tmp, self.path)
        except OSError as e:
            for fd in fds:
                os.close(fd)
            _unlink_quietly(self._tmp)
            _unlink_quietly(new_log)
            raise store_error(e, f"cannot write snapshot {self.path}") from e
        # The new snapshot is in place: it is the truth from here on, whatever follows.
        snap_fd, read_fd, write_fd = fds
        self._tables = {name: fresh.get(name, rows) for name, rows in nxt.tables.items()}
        self._files.set(SNAPSHOT, snap_fd)
        self._files.set(JOURNAL, read_fd)
        if self._fd is not None:
            os.close(self._fd)
        self._fd = write_fd
        self._gen, self._base, self._snapshot_size = nxt.gen, nxt.changes, nxt.size
        self._log_size = len(head) + len(tail)
        self._log_crc = zlib.crc32(tail, zlib.crc32(head))
        self._checkpoint_at = 0
        self._next_compact = COMPACT_DURING_WORK
        marks = nxt.marks
        cold_start = min((marks[f"table:{n}"] for n in nxt.fresh), default=marks["end"])
        self._described = Known(nxt.gen, nxt.size, marks["crc32"], cold_start, marks["end"])
        try:
            # The snapshot's rename must be durable before the journal's: a journal
            # newer than its snapshot reads as damage.
            fsync_dir(self.path.parent)
            os.replace(new_log, self.log_path)
            fsync_dir(self.path.parent)
        except OSError as e:
            self._broken = f"the new journal is not in place: {e.strerror}"
            raise store_error(e, f"cannot start journal {self.log_path}") from e
        self._mark.durable(Mark(self._gen, self._changes))
        if self._make_summary:
            if tail:
                self._checkpoint()
            else:
                self._save_known(self._described)

    def _journal_since(self, at: int) -> bytes:
        """The journal's records from byte ``at`` on (those made since a snapshot was frozen)."""
        fd = self._files.fds[JOURNAL]
        if self._fd is None or fd is None or at >= self._log_size:
            return b""
        data = os.pread(fd, self._log_size - at, at)
        if len(data) != self._log_size - at or not data.endswith(b"\n"):
            raise StoreError(f"{self.log_path} is shorter than what was written to it")
        return data

    def _checkpoint(self) -> None:
        """Save what the journal holds so far, so the next opener replays only what follows."""
        if self._described is None:
            if not self._snapshot_size:  # a new store: its first snapshot is cheap
                self._compact_quietly()
            return
        known = self._described.snapshot()
        known.journal_at, known.journal_crc, known.changes = (
            self._log_size,
            self._log_crc,
            self._changes,
        )
        known.hot = b"".join(
            line
            for name, rows in self._tables.items()
            if not isinstance(rows, DiskRows)
            for _id, line in rows.lines(dump_json(name).encode())
        )
        self._save_known(known)

    def _save_known(self, known: Known) -> None:
        """Save the summaries and locations as ``known`` says (a cache: failure is fine).

        Beside a new snapshot it is fsynced, so a start after a power cut needs no
        compaction; a checkpoint is not (at worst the next start reads more).
        """
        path = sum_path(self.path)
        for name, rows in self._tables.items():
            if isinstance(rows, DiskRows):
                known.locations[name] = rows.locations()
                known.counts[name] = (len(rows), rows.max_id)
                if (summary := self.summaries.get(name)) is not None:
                    known.summaries[name] = summary.dump()
        self._checkpoint_at = known.journal_at  # tried: not again before the journal grows
        try:
            write_known(path, known, sync=not known.journal_at)
        except OSError as e:
            _unlink_quietly(path)
            log.warning("%s not saved (%s); the next start reads every document", path, e)
        else:
            self._known = True

    def _start_journal(self) -> None:
        line = journal_header(self._gen, self._changes)
        try:
            atomic_write(self.log_path, [line])
            self._fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
            self._files.set(JOURNAL, os.open(self.log_path, os.O_RDONLY | os.O_CLOEXEC))
        except OSError as e:
            raise store_error(e, f"cannot start journal {self.log_path}") from e
        self._base = self._changes
        self._log_size = len(line)
        self._log_crc = zlib.crc32(line)
        self._checkpoint_at = 0
        self._mark.durable(Mark(self._gen, self._changes))

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
            self._postpone("not enough free space yet")
            return
        try:
            self.compact()
        except StoreError as e:
            self._postpone(str(e))

    def _postpone(self, why: str) -> None:
        # The changes themselves are durable in the journal; compaction can wait.
        self._next_compact = self._log_size + COMPACT_DURING_WORK // 4
        log.warning("compaction of %s postponed: %s", self.path, why)

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


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
