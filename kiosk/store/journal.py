"""TinyDB storage that survives power cuts and keeps inserts cheap.

TinyDB's ``JSONStorage`` rewrites its whole file in place on every change and
never fsyncs: each insert costs time proportional to the store, and a power
cut mid-write loses everything. A stock take is tens of thousands of scans,
each of which must be on disk before the cart beeps "OK". This module keeps
TinyDB (documents, tables, queries) and changes only how its data reaches the
disk.

Design
======

Each database is two files in one directory:

``NAME.json`` — the *snapshot*
    The complete state at some moment, one line per document
    (``["table", "id", {doc}]``) between a header line (format, version,
    generation, table names) and a footer line (document count and CRC-32 of
    everything before it). It is only ever replaced whole: written to
    ``NAME.json.tmp``, fsynced, renamed over the old one, directory fsynced.
    A reader therefore sees either the old or the new snapshot, never a mix.

``NAME.log`` — the *journal*
    Every change since that snapshot, appended as one line per change:
    ``CRC32HEX JSON\\n``, where the JSON says which table it touches, which
    documents it sets (whole documents, so replaying is idempotent), which it
    deletes and whether it cleared the table. Each append is followed by
    ``fsync`` before the caller returns, so a change that returned is on disk.
    The journal starts with a header naming the snapshot *generation* it
    applies to.

Writing a change costs one ``write`` + ``fsync`` of that change alone, so the
cost stays flat however many scans are stored. :class:`JournalTable` (a TinyDB
``Table`` subclass, installed by :class:`KioskDB`) computes each change as a
small delta instead of TinyDB's whole-table copy and hands it to
:meth:`JournalStorage.append`. A plain TinyDB ``Table`` still works with this
storage through ``read()``/``write()``: ``write()`` replaces the snapshot
atomically (that is also how compaction works), correct but O(n).

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
disk: the in-memory tables change only after the fsync returned. A failed
append is cut back off the journal; if even that fails the storage refuses
further writes until it is reopened. ``ENOSPC``/``EDQUOT`` raise
:class:`~kiosk.exc.StoreFull`, other errors :class:`~kiosk.exc.StoreError`.

Memory: documents are held as compact tuples (shared key tuples, repeated
short strings interned, nested values kept as JSON text) in :class:`Rows`,
a read-only mapping that builds a fresh ``dict`` per document on access. A
100,000-scan store then needs about a third of the memory of plain dicts.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, NoReturn, cast

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from kiosk.exc import StoreCorrupt, StoreError, StoreFull

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = "kiosk-snapshot"
JOURNAL_FORMAT = "kiosk-journal"
FORMAT_VERSION = 1

#: Journal size at which a writer compacts on open (bytes).
COMPACT_ON_OPEN = 1 << 20
#: Journal size at which compaction happens during work (safety net, bytes).
COMPACT_DURING_WORK = 16 << 20

_DUMP = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_LOAD = json.loads
_INTERN_LIMIT = 4096
_INTERN_MAX_LEN = 64


class _Json(str):
    """A nested value (dict or list) kept as its JSON text to save memory."""

    __slots__ = ()


_EMPTY: dict[type, _Json] = {dict: _Json("{}"), list: _Json("[]")}


class Rows(Mapping[str, dict[str, Any]]):
    """One table's documents, compact in memory, read-only to TinyDB.

    Keys are document ids as strings (as TinyDB's JSON storage has them);
    ``rows["7"]`` builds a new ``dict`` each time, so callers can never
    change stored data behind the journal's back.
    """

    __slots__ = ("_interns", "_max", "_rows", "_shapes")

    def __init__(self) -> None:
        self._rows: dict[int, tuple[Any, ...]] = {}
        self._shapes: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._interns: dict[str, dict[Any, Any]] = {}
        self._max = 0

    @classmethod
    def from_mapping(cls, table: Mapping[Any, Mapping[str, Any]]) -> Rows:
        rows = cls()
        for doc_id, doc in table.items():
            rows.put(int(doc_id), rows.pack(doc))
        return rows

    # -- Mapping -------------------------------------------------------------------
    def __getitem__(self, key: object) -> dict[str, Any]:
        try:
            row = self._rows[int(key)]  # type: ignore[call-overload]
        except (ValueError, TypeError):
            raise KeyError(key) from None
        return _unpack(row)

    def __contains__(self, key: object) -> bool:
        try:
            return int(key) in self._rows  # type: ignore[call-overload]
        except (ValueError, TypeError):
            return False

    def __iter__(self) -> Iterator[str]:
        return map(str, list(self._rows))

    def __len__(self) -> int:
        return len(self._rows)

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:  # type: ignore[override]
        for doc_id, row in list(self._rows.items()):
            yield str(doc_id), _unpack(row)

    @property
    def max_id(self) -> int:
        return self._max

    # -- changes (only JournalStorage calls these) ----------------------------------------
    def pack(self, doc: Mapping[str, Any]) -> tuple[Any, ...]:
        """Compact form of ``doc``; raises ``TypeError``/``ValueError`` if not JSON."""
        keys = tuple(doc)
        shape = self._shapes.get(keys)
        if shape is None:
            shape = self._shapes[keys] = keys
        values: list[Any] = [shape]
        interns = self._interns
        for key in shape:
            value = doc[key]
            kind = type(value)
            if kind is str:
                if len(value) <= _INTERN_MAX_LEN:
                    cache = interns.get(key)
                    if cache is None:
                        cache = interns[key] = {}
                    hit = cache.get(value)
                    if hit is not None:
                        value = hit
                    elif len(cache) < _INTERN_LIMIT:
                        cache[value] = value
            elif kind is dict or kind is list:
                value = _EMPTY.get(kind) if not value else _Json(_DUMP(value))
            elif kind is float:
                if math.isnan(value):
                    raise ValueError(f"field {key!r} is NaN, which JSON cannot hold")
            elif not (value is None or kind is int or kind is bool):
                for base in (str, int, float):  # subclasses such as a StrEnum verdict
                    if isinstance(value, base):
                        value = base(value)
                        break
                else:
                    raise TypeError(f"field {key!r} holds {kind.__name__}, not JSON data")
            values.append(value)
        return tuple(values)

    def columns(self, *keys: str) -> Iterator[tuple[Any, ...]]:
        """``(doc_id, doc[key], …)`` per document, without building dicts (fast scans)."""
        for doc_id, row in list(self._rows.items()):
            shape = row[0]
            yield (doc_id, *(row[shape.index(k) + 1] if k in shape else None for k in keys))

    def put(self, doc_id: int, row: tuple[Any, ...]) -> None:
        self._rows[doc_id] = row
        self._max = max(self._max, doc_id)

    def delete(self, doc_id: int) -> None:
        self._rows.pop(doc_id, None)

    def clear(self) -> None:
        self._rows.clear()
        self._max = 0


def _unpack(row: tuple[Any, ...]) -> dict[str, Any]:
    doc = dict(zip(row[0], row[1:], strict=True))
    for key, value in doc.items():
        if isinstance(value, _Json):
            doc[key] = _LOAD(value)
    return doc


Tables = dict[str, Rows]


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
        rec: dict[str, Any] = {"t": table}
        if clear:
            rec["c"] = 1
        if packed:
            rec["p"] = {str(k): v for k, v in (puts or {}).items()}
        if dels:
            rec["d"] = dels
        if self._fd is None:
            self._start_journal(self._gen)
        self._append_line(_DUMP(rec).encode())
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
        line = b"%08x %s\n" % (zlib.crc32(payload), payload)
        start = self._log_size
        try:
            _write_all(self._fd, line)
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
        gen = self._gen + 1
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            size = _write_file(tmp, _snapshot_lines(tables, gen))
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
            _fsync_dir(self.path.parent)
        except OSError as e:
            raise _store_error(e, f"cannot write snapshot {self.path}") from e
        self._start_journal(gen)
        self._next_compact = COMPACT_DURING_WORK

    def _start_journal(self, gen: int) -> None:
        header = _DUMP({"format": JOURNAL_FORMAT, "version": FORMAT_VERSION, "generation": gen})
        payload = header.encode()
        line = b"%08x %s\n" % (zlib.crc32(payload), payload)
        tmp = self.log_path.with_name(self.log_path.name + ".tmp")
        try:
            _write_file(tmp, [line])
            os.replace(tmp, self.log_path)
            _fsync_dir(self.path.parent)
            self._fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        except OSError as e:
            _unlink_quietly(tmp)
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
                self._tables, self._gen, self._snapshot_size = _read_snapshot(self.path)
                if self._gen < 0:
                    self._import_legacy()
                stale = self._replay()
            except _Damaged as e:
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
        _write_file(keep, [self.path.read_bytes()])
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
            rec = _parse_line(data[pos:end]) if end >= 0 else None
            if rec is None:
                rest = data[pos:]
                if rest.count(b"\n") > 1 or (b"\n" in rest and not rest.endswith(b"\n")):
                    raise _Damaged(f"{self.log_path} line {lineno} is damaged and not the last")
                self._torn(data, good)
                break
            if header:
                header = False
                if rec.get("format") != JOURNAL_FORMAT:
                    raise _Damaged(f"{self.log_path} is not a kiosk journal")
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
                    raise _Damaged(
                        f"{self.log_path} belongs to snapshot generation {gen} but "
                        f"{self.path} is generation {self._gen}"
                    )
            else:
                try:
                    _apply(self._tables, rec)
                except (KeyError, TypeError, ValueError, AttributeError) as e:
                    raise _Damaged(f"{self.log_path} line {lineno} is not a valid change") from e
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
        _write_file(keep, [data[good:]])
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.ftruncate(fd, good)
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(self.path.parent)
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
            _fsync_dir(self.path.parent)
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


class _Damaged(Exception):
    """Internal: a file failed validation (turned into StoreCorrupt)."""


_FULL = (errno.ENOSPC, errno.EDQUOT)


def _store_error(e: OSError, what: str) -> StoreError:
    if e.errno in _FULL:
        return StoreFull(
            errno.ENOSPC, f"disk full: {what}; free space on the SD card, scans are not stored"
        )
    return StoreError(f"{what}: {e.strerror or e}")


def _parse_line(line: bytes) -> dict[str, Any] | None:
    if len(line) < 10 or line[8:9] != b" ":
        return None
    payload = line[9:]
    try:
        if int(line[:8], 16) != zlib.crc32(payload):
            return None
        rec = _LOAD(payload)
    except ValueError:
        return None
    return rec if isinstance(rec, dict) else None


def _apply(tables: Tables, rec: Mapping[str, Any]) -> None:
    name = rec["t"]
    if not isinstance(name, str):
        raise TypeError("table name")
    rows = tables.get(name)
    if rows is None:
        rows = tables[name] = Rows()
    if rec.get("c"):
        rows.clear()
    for d in rec.get("d", ()):
        rows.delete(int(d))
    for k, doc in rec.get("p", {}).items():
        rows.put(int(k), rows.pack(doc))


def _snapshot_lines(tables: Tables, gen: int) -> Iterator[bytes]:
    crc = 0
    count = 0
    head = {
        "format": SNAPSHOT_FORMAT,
        "version": FORMAT_VERSION,
        "generation": gen,
        "tables": list(tables),
    }
    line = _DUMP(head).encode() + b"\n"
    crc = zlib.crc32(line, crc)
    yield line
    for name, rows in tables.items():
        prefix = _DUMP(name).encode()
        chunk: list[bytes] = []
        for doc_id, doc in rows.items():
            chunk.append(b'[%s,"%s",%s]\n' % (prefix, doc_id.encode(), _DUMP(doc).encode()))
            count += 1
            if len(chunk) >= 512:
                block = b"".join(chunk)
                crc = zlib.crc32(block, crc)
                yield block
                chunk = []
        if chunk:
            block = b"".join(chunk)
            crc = zlib.crc32(block, crc)
            yield block
    yield _DUMP({"end": count, "crc32": crc}).encode() + b"\n"


def _read_snapshot(path: Path) -> tuple[Tables, int, int]:
    """Stream the snapshot line by line (no whole-file copy in memory)."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return {}, 0, 0
    with f:
        first = f.readline()
        if first.startswith(b"{") and not first.startswith(b'{"format"'):
            return _read_legacy(path, first + f.read())
        if not first:
            raise _Damaged(f"{path} is empty")
        try:
            head = _LOAD(first)
        except ValueError as e:
            raise _Damaged(f"{path} header is not JSON") from e
        if not isinstance(head, dict) or head.get("format") != SNAPSHOT_FORMAT:
            raise _Damaged(f"{path} is not a kiosk snapshot")
        if int(head.get("version", 0)) > FORMAT_VERSION:
            raise StoreError(f"{path} was written by a newer kiosk (format {head['version']})")
        tables: Tables = {str(n): Rows() for n in head.get("tables", [])}
        crc = zlib.crc32(first)
        size = len(first)
        count = 0
        for lineno, raw in enumerate(f, start=2):
            size += len(raw)
            if not raw.startswith(b"["):
                foot_line = raw
                break
            crc = zlib.crc32(raw, crc)
            try:
                name, doc_id, doc = _LOAD(raw)
                rows = tables.get(name)
                if rows is None:
                    rows = tables[name] = Rows()
                rows.put(int(doc_id), rows.pack(doc))
            except (ValueError, TypeError, AttributeError) as e:
                raise _Damaged(f"{path} line {lineno} is not a document") from e
            count += 1
        else:
            raise _Damaged(f"{path} is incomplete (no end marker)")
        rest = f.read()
    try:
        foot = _LOAD(foot_line)
    except ValueError as e:
        raise _Damaged(f"{path} end marker is not JSON") from e
    if rest or not foot_line.endswith(b"\n") or not isinstance(foot, dict):
        raise _Damaged(f"{path} has data after its end marker")
    if foot.get("crc32") != crc:
        raise _Damaged(f"{path} fails its checksum")
    if foot.get("end") != count:
        raise _Damaged(f"{path} holds {count} documents, its end marker says {foot.get('end')}")
    return tables, int(head.get("generation", 0)), size


def _read_legacy(path: Path, data: bytes) -> tuple[Tables, int, int]:
    """Tables of a file written by TinyDB's own JSONStorage (generation -1 marks it)."""
    try:
        raw = _LOAD(data)
        if not isinstance(raw, dict):
            raise TypeError("not an object")
        return {str(n): Rows.from_mapping(t) for n, t in raw.items()}, -1, len(data)
    except (ValueError, TypeError, AttributeError) as e:
        raise _Damaged(f"{path} is neither a kiosk snapshot nor TinyDB JSON") from e


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _write_file(path: Path, chunks: Iterable[bytes]) -> int:
    """Write, fsync and close a new file; returns its size."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o640)
    size = 0
    try:
        for chunk in chunks:
            _write_all(fd, chunk)
            size += len(chunk)
        os.fsync(fd)
    finally:
        os.close(fd)
    return size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"


# -- TinyDB table that journals deltas -------------------------------------------------------
class _Delta(MutableMapping[int, dict[str, Any]]):
    """What a TinyDB updater sees as "the table": the stored rows plus pending changes.

    Documents are copied on first access, so an updater that fails half-way
    (or a journal write that fails) leaves the stored rows untouched.
    """

    def __init__(self, base: Mapping[str, dict[str, Any]]) -> None:
        self.base: Mapping[Any, dict[str, Any]] = base
        self.cleared = False
        self.puts: dict[int, dict[str, Any]] = {}
        self.touched: dict[int, dict[str, Any]] = {}
        self.dels: set[int] = set()

    def _in_base(self, key: int) -> bool:
        return not self.cleared and key not in self.dels and key in self.base

    def __getitem__(self, key: int) -> dict[str, Any]:
        if key in self.puts:
            return self.puts[key]
        if key in self.touched:
            return self.touched[key]
        if not self._in_base(key):
            raise KeyError(key)
        doc = self.touched[key] = self.base[str(key)]
        return doc

    def __setitem__(self, key: int, value: dict[str, Any]) -> None:
        self.touched.pop(key, None)
        self.dels.discard(key)
        self.puts[key] = value

    def __delitem__(self, key: int) -> None:
        if key not in self:
            raise KeyError(key)
        self.puts.pop(key, None)
        self.touched.pop(key, None)
        if not self.cleared:
            self.dels.add(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and (key in self.puts or self._in_base(key))

    def __iter__(self) -> Iterator[int]:
        if not self.cleared:
            for k in self.base:
                i = int(k)
                if i not in self.dels and i not in self.puts:
                    yield i
        yield from list(self.puts)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def clear(self) -> None:
        self.cleared = True
        self.puts.clear()
        self.touched.clear()
        self.dels.clear()

    def changes(self) -> dict[int, dict[str, Any]]:
        out = {k: v for k, v in self.touched.items() if v != self.base[str(k)]}
        out.update(self.puts)
        return out


class JournalTable(Table):
    """TinyDB table whose changes cost O(size of the change), not O(table).

    With any other storage (e.g. TinyDB's ``MemoryStorage``) it behaves
    exactly like ``Table``.
    """

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        storage = self._storage
        if not isinstance(storage, JournalStorage):
            super()._update_table(updater)
            return
        tables = storage.read() or {}
        delta = _Delta(tables.get(self.name, Rows()))
        updater(delta)  # type: ignore[arg-type]
        puts = delta.changes()
        if delta.cleared or puts or delta.dels:
            try:
                storage.append(self.name, puts=puts, deletes=delta.dels, clear=delta.cleared)
            except BaseException:
                self._next_id = None  # an id handed out for a failed insert is free again
                raise
        self.clear_cache()

    def _get_next_id(self) -> int:
        if self._next_id is None:
            rows: object = self._read_table()
            if isinstance(rows, Rows):
                self._next_id = rows.max_id + 1  # type: ignore[assignment]
        return int(super()._get_next_id())  # type: ignore[no-untyped-call]


class KioskDB(TinyDB):
    """TinyDB with :class:`JournalStorage` and :class:`JournalTable` by default."""

    table_class = JournalTable
    default_storage_class = JournalStorage  # type: ignore[assignment]

    @property
    def storage(self) -> JournalStorage:
        return cast(JournalStorage, self._storage)


def open_db(path: Path, *, readonly: bool = False) -> KioskDB:
    """Open (or create) one journaled TinyDB database at ``path``."""
    return KioskDB(path, storage=JournalStorage, readonly=readonly)
