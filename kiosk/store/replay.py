"""Reading a database back on open: the snapshot, the journal replayed on it, and damage.

Split from :mod:`kiosk.store.journal` (which writes) so the code that decides
what a damaged pair still holds can be read in one place.

Recovery on open (damage costs only what is damaged, see :mod:`kiosk.store.damage`):

* A *torn last record* (a last line without its newline: a power cut during
  an append) was not acknowledged: the cart confirms a scan only after the
  whole line is fsynced. Its bytes are saved to ``NAME.log.torn-TIMESTAMP``,
  the journal is cut back to the last good record, and a warning is logged.
  If ``NAME.mark`` counted that record, the file was cut after it was
  written (damage, not a power cut), and the loss is recorded as below.
* A *complete* line that fails its checksum, last or not, was written whole
  and is treated as damage: a complete line is the trace of a finished
  append, most likely acknowledged.
* Records carry their change number, so a stretch of records lost in the
  middle (several merged into one unreadable line, or whole lines gone) is
  counted exactly; lines of an earlier kiosk's journal count one each.
* A bad record followed by good ones, a damaged snapshot line, a journal
  newer than its snapshot, a journal shorter than ``NAME.mark`` says: every
  readable record is kept, the damaged file is kept as
  ``NAME.*.corrupt-TIMESTAMP`` (a hard link, no extra space), the loss is
  counted in :attr:`JournalStorage.losses` and the store is compacted at
  once, so the next snapshot carries the record of the loss.
* Only a file that is no store at all is moved aside whole
  (:class:`~kiosk.exc.StoreCorrupt`).
* A journal one generation older than its snapshot is a compaction cut
  between its two renames: its records numbered past the snapshot's change
  count are replayed (the others are in the snapshot), and a writer folds
  them into a new snapshot before it starts a journal. Older ones are ignored.
"""

from __future__ import annotations

import errno
import logging
import os
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from kiosk.background import Background
from kiosk.exc import StoreCorrupt, StoreError, StoreFull
from kiosk.fileio import fsync_dir, write_file
from kiosk.store.cold import JOURNAL, SNAPSHOT, Files, where
from kiosk.store.damage import Loss, Mark, losses_of, read_mark, stamp
from kiosk.store.records import (
    JOURNAL_FORMAT,
    Damaged,
    Snapshot,
    apply_change,
    crc_matches,
    parse_line,
    read_snapshot,
)
from kiosk.store.rows import Rows, Tables
from kiosk.store.summary import Known, Summary, read_known, sum_path
from kiosk.store.verified import vouch

log = logging.getLogger(__name__)


class JournalReader(ABC):
    """The reading half of :class:`~kiosk.store.journal.JournalStorage`: loading on open.

    Fills the storage's state from the files; the writing half supplies
    :meth:`_replace` and :meth:`_start_journal` (a legacy file is converted and
    a missing journal started while opening for writing).
    """

    path: Path
    log_path: Path
    readonly: bool
    _files: Files
    _tables: Tables
    _gen: int
    _changes: int
    _base: int
    _fd: int | None
    _log_size: int
    _snapshot_size: int
    losses: list[Loss]
    _found: list[tuple[str, int | None, Path]]
    _make_summary: dict[str, Callable[[bytes | None], Summary]]
    summaries: dict[str, Summary]
    _known: bool
    #: The snapshot as its ``.sum`` describes it (None: not known), for checkpoints.
    _described: Known | None
    #: CRC-32 of the journal's bytes so far, and where the last checkpoint ends in it.
    _log_crc: int
    _checkpoint_at: int

    @abstractmethod
    def _new_rows(self, name: str) -> Rows: ...

    @abstractmethod
    def _replace(self, tables: Tables) -> None: ...

    @abstractmethod
    def _start_journal(self) -> None: ...

    def _replaced(
        self,
        rows: Rows | None,
        ids: list[int],
        clear: bool,
        old: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> dict[int, Any]:
        """The stored documents a change replaces or deletes (read before it is made)."""
        if rows is None or clear:
            return {}
        out = {}
        for k in ids:
            if old is not None and k in old:
                out[k] = old[k]
            elif str(k) in rows:
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
            if k in puts:
                summary.replace(k, doc, puts[k])
            else:
                summary.remove(k, doc)
        for k, doc in puts.items():
            if k not in gone:
                summary.add(k, doc)

    def _load(self) -> None:
        use_sum = bool(self._make_summary)
        for _attempt in range(5):
            self._files.close()
            self._found = []
            try:
                known = read_known(sum_path(self.path)) if use_sum else None
                self.summaries = {n: make(None) for n, make in self._make_summary.items()}
                snap, f = read_snapshot(self.path, self._new_rows, known=known, seen=self._seen)
                self._known = snap.known is not None
                self._described = None if snap.known is None else snap.known.snapshot()
                if snap.known is not None:
                    self.summaries = {
                        n: make(snap.known.summaries.get(n) or None)
                        for n, make in self._make_summary.items()
                    }
                if f is not None:
                    with f:
                        self._files.set(SNAPSHOT, os.dup(f.fileno()))
                stale = self._take(snap)
                if snap.checksum is not None and self.readonly and not snap.checksum.wait():
                    use_sum = False  # damaged since it was summarised: read every line
                    continue
            except _Unmatched:
                use_sum = False  # the journal is not the one checkpointed, or the
                continue  # snapshot is not the one summarised: read everything
            except Damaged as e:
                self._damaged(str(e))
            except OSError as e:
                raise store_error(e, f"cannot open {self.path}") from e
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
        snap_changes = snap.head.get("changes")
        checkpoint = snap.known if snap.known is not None and snap.known.journal_at else None
        try:
            data, skip, prefix = self._read_journal(checkpoint)
        except FileNotFoundError:
            data, skip, prefix = b"", 0, None
        if data:  # replaying reads replaced documents back, some from the journal itself
            self._files.set(JOURNAL, os.open(self.log_path, os.O_RDONLY | os.O_CLOEXEC))
        pos = good = records = bad = torn = 0
        applied = 0  # records replayed
        top = after_top = 0  # highest change number read, and lines read after it
        crc_at, crc = 0, 0  # the CRC-32 of the journal's first crc_at bytes
        start = self._base  # changes made before the first record read
        past: int | None = None  # of an older journal, only records numbered past this count
        header: dict[str, Any] | None = None
        while pos < len(data):
            end = data.find(b"\n", pos)
            rec = parse_line(data[pos:end]) if end >= 0 else None
            if end < 0:  # no newline: an append cut short (or a file cut mid-record)
                torn = len(data) - good
                break
            if header is None:
                header = rec if rec is not None and rec.get("format") == JOURNAL_FORMAT else {}
                if not header:
                    self._found.append(
                        (f"{self.log_path.name}: its header is damaged", 0, self.log_path)
                    )
                gen = int(header.get("generation", self._gen))
                if gen == self._gen - 1 and isinstance(snap_changes, int):
                    # A compaction stopped between its two renames: the snapshot holds
                    # this journal's changes up to its count, the rest are only here.
                    log.warning(
                        "%s is one generation older than its snapshot (a compaction was cut "
                        "short): replaying the changes only it holds",
                        self.log_path,
                    )
                    past = snap_changes
                    gen = self._gen
                elif gen < self._gen:
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
                start = self._base if past is None else past
                if checkpoint is not None:  # what it holds is not read again
                    if checkpoint.generation != self._gen or prefix is None:
                        raise _Unmatched  # or too short to hold it: read whole, unchecked
                    pos = good = crc_at = checkpoint.journal_at - skip
                    start, crc = checkpoint.changes, checkpoint.journal_crc
                    continue
            elif past is not None and rec is not None and not _numbered_past(rec, past):
                pass  # in the snapshot already
            else:
                records += 1
                after_top += 1
                try:
                    if rec is None:
                        raise ValueError("checksum")
                    self._apply(rec, where(JOURNAL, pos + skip))
                    applied += 1
                    if isinstance(n := rec.get("n"), int) and n > top:
                        top, after_top = n, 0
                except (KeyError, TypeError, ValueError, AttributeError):
                    bad += 1
            pos = end + 1
            good = pos
        # Numbered records say how many changes the journal held, even where damage
        # merged several lines into one or removed whole lines; lines without a
        # number (an earlier kiosk's) count one each.
        if checkpoint is not None and not crc_at:
            raise _Unmatched  # no journal, a torn header, or an older one
        if prefix is not None and not prefix.wait():
            raise _Unmatched  # the journal's first part is not what was checkpointed
        # The snapshot's checksum was being checked meanwhile (a reader waits for
        # it in _load): a writer must have it before it changes a file.
        if not self.readonly and snap.checksum is not None:
            if not snap.checksum.wait():
                raise _Unmatched
            if snap.known is not None and (fd := self._files.fds[SNAPSHOT]) is not None:
                vouch(self.path, fd, snap.known.crc32)  # for later openers in this boot
        self._changes = max(start + records, top + after_top)
        if lost := self._changes - start - applied:
            name = self.log_path.name
            what = (
                f"{name}: {bad} damaged record(s) skipped, their neighbours kept"
                if bad
                else f"{name}: records are missing between readable ones"
            )
            self._found.append((what, lost, self.log_path))
        if torn:
            # Acknowledged only if the witness counted it: then _check_mark counts it lost.
            acked = mark is not None and mark.generation == self._gen and mark.acked > self._changes
            self._torn(data, good, skip, acknowledged=acked)
        self._check_mark(mark, have_journal=header is not None and good > 0)
        if self.readonly:
            if header is not None and good:
                self._files.set(JOURNAL, os.open(self.log_path, os.O_RDONLY | os.O_CLOEXEC))
            return False
        if past is not None and applied:
            # Its changes must reach a snapshot before a new journal replaces it.
            self._log_size = 0
            self._replace(self._tables)
            return False
        if header is None or not good or past is not None:  # missing, empty, stale, torn header
            self._start_journal()
            return False
        self._fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        self._files.set(JOURNAL, os.open(self.log_path, os.O_RDONLY | os.O_CLOEXEC))
        self._log_size = skip + good
        with memoryview(data) as view:
            self._log_crc = zlib.crc32(view[crc_at:good], crc)
        self._checkpoint_at = skip + crc_at
        return False

    def _read_journal(self, checkpoint: Known | None) -> tuple[bytes, int, Background[bool] | None]:
        """The journal's bytes to replay, how many were skipped after its first line, the check.

        Where ``checkpoint`` holds the start of this journal, that part is neither
        read here nor replayed: only the header line and what follows the
        checkpoint are (a day's answers make a journal of many megabytes). Its
        CRC-32 is checked on a thread meanwhile; ``_replay`` waits for it. A
        journal too short to hold the checkpoint is read whole, with no check:
        it cannot be the one checkpointed.
        """
        with self.log_path.open("rb") as f:
            if checkpoint is None:
                return f.read(), 0, None
            first = f.readline()  # the header: checked with the rest of that part
            at = checkpoint.journal_at
            if not len(first) <= at <= os.fstat(f.fileno()).st_size:
                f.seek(0)
                return f.read(), 0, None
            f.seek(at)
            rest = f.read()
            check = Background(
                crc_matches, os.dup(f.fileno()), at, checkpoint.journal_crc, name="journal-crc"
            )
        return first + rest, at - len(first), check

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

    def _torn(self, data: bytes, good: int, skip: int, *, acknowledged: bool) -> None:
        """Cut an incomplete last record off the journal, keeping its bytes beside it.

        Only a last line without its newline counts: an append cut short by a
        power cut, whose scan the cart never confirmed; unless the mark counted
        it, which means the file was cut later (damage), and the loss is recorded.
        """
        if self.readonly:
            return  # the writer may be in the middle of an append
        keep = self.log_path.with_name(f"{self.log_path.name}.torn-{stamp()}")
        write_file(keep, [data[good:]])
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.ftruncate(fd, skip + good)
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(self.path.parent)
        if acknowledged:
            log.error(
                "%s: the last record is cut off (%d bytes, kept in %s), although it had been "
                "acknowledged: the file was damaged after it was written",
                self.log_path,
                len(data) - good,
                keep.name,
            )
            return
        log.warning(
            "%s: recovered from an interrupted write: the last record was incomplete (%d bytes: "
            "the scan being stored when the power went, which the cart had not confirmed); "
            "it was cut off and kept in %s",
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


#: Errors that mean the disk (or the quota) is full.
FULL = (errno.ENOSPC, errno.EDQUOT)


def store_error(e: OSError, what: str) -> StoreError:
    if e.errno in FULL:
        return StoreFull(
            errno.ENOSPC, f"disk full: {what}; free space on the SD card, scans are not stored"
        )
    return StoreError(f"{what}: {e.strerror or e}")


class _Unmatched(Exception):
    """The journal does not begin as the checkpoint says: it must be read whole."""


def _numbered_past(rec: Mapping[str, Any], count: int) -> bool:
    n = rec.get("n")
    return isinstance(n, int) and n > count
