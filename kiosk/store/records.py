"""The two on-disk formats of a database: the snapshot and the journal's lines.

Kept apart from the code that decides *when* to write (``journal.py``) so the
bytes on the SD card can be read, checked and explained in one place.

``NAME.json`` — the *snapshot*
    The complete state at some moment, one line per document
    (``["table", "id", {doc}]``) between a header line (format, version,
    generation, table names) and a footer line (document count and CRC-32 of
    everything before it).

``NAME.log`` — the *journal*
    Every change since that snapshot, one line per change:
    ``CRC32HEX JSON\\n``, where the JSON says which table it touches
    (``"t"``), which documents it sets (``"p"``, whole documents, so replaying
    is idempotent), which it deletes (``"d"``), whether it cleared the
    table (``"c"``) and its change number (``"n"``, counted from the store's
    first change; absent in journals of earlier kiosks). The first line is a
    header naming the snapshot *generation* the journal applies to.

A file written by TinyDB's own ``JSONStorage`` (an earlier kiosk) is still
read and converted.

Both headers carry a high-water mark (format unchanged; older kiosks ignore
the extra keys): the snapshot's ``changes`` counts every change ever folded
into it and ``count`` its documents, the journal's ``base`` the changes made
before it, and ``losses`` in the snapshot keeps the record of damage found
earlier until ``kiosk store recover`` settles it.
"""

from __future__ import annotations

import mmap
import os
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from kiosk.background import Background
from kiosk.exc import StoreError
from kiosk.store.rows import NewRows, Rows, Tables, dump_json, dump_many, load_json
from kiosk.store.summary import Known
from kiosk.store.verified import vouched

SNAPSHOT_FORMAT = "kiosk-snapshot"
JOURNAL_FORMAT = "kiosk-journal"
FORMAT_VERSION = 1


#: Documents in one change from which it is encoded by :func:`~kiosk.store.rows.dump_many`.
MANY = 64

#: Told each document a snapshot read gave: table, document id, document.
Seen = Callable[[str, int, dict[str, Any]], None]


class Damaged(Exception):
    """A file failed validation (the journal turns it into StoreCorrupt)."""


# -- journal lines -------------------------------------------------------------------------
def frame(payload: bytes) -> bytes:
    """One journal line: checksum, space, payload, newline."""
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def journal_header(gen: int, base: int) -> bytes:
    """The first line of a journal for snapshot generation ``gen``.

    ``base`` counts the changes ever made before this journal (the snapshot
    holds them): with it a journal that lost records can be told from one
    that never had them.
    """
    head = {"format": JOURNAL_FORMAT, "version": FORMAT_VERSION, "generation": gen, "base": base}
    return frame(dump_json(head).encode())


def change_payload(
    table: str,
    puts: Mapping[int, Mapping[str, Any]],
    deletes: list[int],
    clear: bool,
    *,
    number: int | None = None,
) -> bytes:
    """The JSON of one change record (before :func:`frame`).

    ``number`` is the change's place in the count of every change ever made
    (``"n"``): a record missing between readable ones is then known exactly.
    """
    rec: dict[str, Any] = {"t": table}
    if number is not None:
        rec["n"] = number
    if clear:
        rec["c"] = 1
    if puts:
        rec["p"] = {str(k): v for k, v in puts.items()}
    if deletes:
        rec["d"] = deletes
    return dump_many(rec) if len(puts) >= MANY else dump_json(rec).encode()


def parse_line(line: bytes) -> dict[str, Any] | None:
    """The record of one journal line (without its newline), or None if it fails its check."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    payload = line[9:]
    try:
        if int(line[:8], 16) != zlib.crc32(payload):
            return None
        rec = load_json(payload)
    except ValueError:
        return None
    return rec if isinstance(rec, dict) else None


def apply_change(tables: Tables, rec: Mapping[str, Any], new_rows: NewRows, loc: int) -> None:
    """Replay one change record (read from journal location ``loc``) onto ``tables``."""
    name = rec["t"]
    if not isinstance(name, str):
        raise TypeError("table name")
    rows = tables.get(name)
    if rows is None:
        rows = tables[name] = new_rows(name)
    if rec.get("c"):
        rows.clear()
    for d in rec.get("d", ()):
        rows.delete(int(d))
    for k, doc in rec.get("p", {}).items():
        rows.place(int(k), doc, loc)


# -- snapshots ------------------------------------------------------------------------------
def snapshot_lines(
    tables: Tables,
    gen: int,
    *,
    extra: Mapping[str, Any] | None = None,
    placed: Callable[[str, int, int], None] | None = None,
    marks: dict[str, int] | None = None,
    verbatim: bool = False,
) -> Iterator[bytes]:
    """The snapshot of ``tables`` as generation ``gen``, in blocks of lines.

    ``extra`` goes into the header (the change count, losses); ``placed`` is
    told the byte offset of every document line, for tables kept on disk.
    ``marks`` receives where each table begins (``"table:NAME"``), where the
    end marker is (``"end"``) and the checksum (``"crc32"``). ``verbatim``:
    documents still in the previous snapshot, checked intact, are copied as
    their lines are (see :meth:`Rows.lines`).
    """
    marks = {} if marks is None else marks
    crc = 0
    count = 0
    head = {
        "format": SNAPSHOT_FORMAT,
        "version": FORMAT_VERSION,
        "generation": gen,
        "tables": list(tables),
        "count": sum(len(rows) for rows in tables.values()),
    } | dict(extra or {})
    line = dump_json(head).encode() + b"\n"
    crc = zlib.crc32(line, crc)
    offset = len(line)
    yield line
    for name, rows in tables.items():
        marks[f"table:{name}"] = offset
        prefix = dump_json(name).encode()
        chunk: list[bytes] = []
        for doc_id, raw in rows.lines(prefix, verbatim=verbatim):
            if placed is not None:
                placed(name, doc_id, offset)
            offset += len(raw)
            chunk.append(raw)
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
    marks["end"], marks["crc32"] = offset, crc
    yield dump_json({"end": count, "crc32": crc}).encode() + b"\n"


class Snapshot:
    """What a snapshot file held, and what of it could not be read (a plain class: see Known)."""

    __slots__ = ("checksum", "damage", "generation", "head", "known", "legacy", "size", "tables")

    def __init__(
        self,
        tables: Tables,
        generation: int,
        size: int,
        *,
        head: dict[str, Any] | None = None,
        damage: list[tuple[str, int | None]] | None = None,
        legacy: bool = False,
    ) -> None:
        self.tables, self.generation, self.size = tables, generation, size
        self.head = {} if head is None else head
        #: Damage found: (what, documents lost or None if unknown).
        self.damage = [] if damage is None else damage
        #: Plain TinyDB JSON of an earlier kiosk, to be converted.
        self.legacy = legacy
        #: The ``.sum`` the tables on disk were taken from (None: every line was read).
        self.known: Known | None = None
        #: With ``known``: whether the whole file matches its checksum, being found out
        #: on a thread; the opener must see ``True`` before it trusts the snapshot.
        self.checksum: Background[bool] | None = None


def crc_matches(fd: int, length: int, expected: int) -> bool:
    """Whether the first ``length`` bytes of ``fd`` have CRC-32 ``expected``; closes ``fd``.

    Run on a thread (``Snapshot.checksum``, and for the checkpointed start of
    a journal) while the opener loads the summaries and replays the journal:
    checking 50 MB costs tens of milliseconds. The file is mapped and checked
    in one ``zlib.crc32`` call, which lets go of the GIL for all of it; a loop
    over blocks would need the GIL back between blocks and wait for the busy
    opener each time.
    """
    try:
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mm:
            if len(mm) < length:
                return False
            with memoryview(mm)[:length] as view:
                return zlib.crc32(view) == expected
    except (OSError, ValueError):
        return False  # unreadable counts as not matching: the caller reads line by line
    finally:
        os.close(fd)


def snapshot_intact(fd: int) -> bool:
    """Whether the snapshot open on ``fd`` still matches the checksum in its end marker.

    Compaction copies lines of the previous snapshot unparsed, and the new
    file's checksum then covers them: it must not vouch for bytes that changed
    on disk since they were written. Read in blocks, not mapped: compaction
    runs beside the cart, and a mapping would count the whole snapshot in its
    memory meanwhile.
    """
    size = os.fstat(fd).st_size
    tail = os.pread(fd, min(size, 256), max(0, size - 256))
    start = tail.rfind(b"\n", 0, len(tail) - 1) + 1
    if not tail.endswith(b"\n") or not tail.startswith(b'{"end"', start):
        return False
    try:
        crc = load_json(tail[start:])["crc32"]
    except (ValueError, LookupError, TypeError):
        return False
    if not isinstance(crc, int):
        return False
    length = size - len(tail) + start
    pos = value = 0
    while pos < length:
        block = os.pread(fd, min(1 << 20, length - pos), pos)
        if not block:
            return False
        value = zlib.crc32(block, value)
        pos += len(block)
    return value == crc


def read_snapshot(
    path: Path, new_rows: NewRows, *, known: Known | None = None, seen: Seen | None = None
) -> tuple[Snapshot, BinaryIO | None]:
    """The snapshot at ``path``, streamed line by line, and the file left open for reads.

    Damage costs only what is damaged: a line that is not a document is
    skipped and counted, a checksum or end marker that does not match is
    reported, and every readable document is kept. A missing file is an empty
    generation 0 (``None`` for the file).

    With ``known`` (its ``.sum``, see :mod:`kiosk.store.summary`) that matches
    the file, the tables kept on disk are taken from it instead of parsed;
    ``snap.known`` then says so. Else ``seen`` is told every document read.
    """
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return Snapshot({}, 0, 0), None
    try:
        if known is not None:
            snap = _read_known(path, f, new_rows, known)
            if snap is not None:
                return snap, f
            f.seek(0)
        return _read_snapshot(path, f, new_rows, seen), f
    except BaseException:
        f.close()
        raise


def _read_known(path: Path, f: BinaryIO, new_rows: NewRows, known: Known) -> Snapshot | None:
    """The snapshot from its small tables and ``known``, if the file is the one described.

    The small tables are the snapshot's own lines, or a checkpoint's (then
    the journal's first ``known.journal_at`` bytes are already in them). The
    whole file is still checked against its checksum (mapped, not parsed) by
    ``snap.checksum``, on a thread, unless that was done earlier in this boot
    (:mod:`kiosk.store.verified`): the caller must see it match before it
    trusts the snapshot, and read the file line by line if not. Any other
    mismatch returns None at once.
    """
    if os.fstat(f.fileno()).st_size != known.size or not 0 < known.cold_start <= known.footer_at:
        return None
    first = f.readline()
    offset = len(first)
    if offset > known.cold_start:
        return None
    hot = known.hot if known.journal_at else f.read(known.cold_start - offset)
    try:
        f.seek(known.footer_at)
        foot = load_json(f.readline())
        head = load_json(first)
        lines = hot.split(b"\n")
        if foot.get("crc32") != known.crc32 or lines[-1]:
            return None
        if head.get("format") != SNAPSHOT_FORMAT or int(head.get("version", 0)) > FORMAT_VERSION:
            return None
        tables: Tables = {str(n): new_rows(str(n)) for n in head.get("tables", [])}
        for raw in lines[:-1]:
            name, doc_id, doc = load_json(raw)
            if name not in tables:  # made since the snapshot (a checkpoint's)
                tables[name] = new_rows(name)
            tables[name].place(int(doc_id), doc, offset << 1)
            offset += len(raw) + 1
        for name, locs in known.locations.items():
            count, top = known.counts[name]
            tables.setdefault(name, new_rows(name)).adopt(locs, count, top)
    except (ValueError, TypeError, AttributeError, KeyError):
        return None
    snap = Snapshot(tables, int(head.get("generation", 0)), known.size, head=head)
    snap.known = known
    if not vouched(path, f.fileno(), known.crc32):
        fd = os.dup(f.fileno())
        snap.checksum = Background(
            crc_matches, fd, known.footer_at, known.crc32, name="snapshot-crc"
        )
    return snap


def _read_snapshot(path: Path, f: BinaryIO, new_rows: NewRows, seen: Seen | None) -> Snapshot:
    first = f.readline()
    if first.startswith(b"{") and not first.startswith(b'{"format"'):
        return read_legacy(path, first + f.read())
    if not first:
        return Snapshot({}, 0, 0, damage=[(f"{path.name} is empty", None)])
    snap = Snapshot({}, 0, len(first))
    try:
        head = load_json(first)
        if not isinstance(head, dict) or head.get("format") != SNAPSHOT_FORMAT:
            raise ValueError("not a snapshot header")
    except ValueError:
        head = {}
        snap.damage.append((f"{path.name}: its header is damaged", None))
    if int(head.get("version", 0)) > FORMAT_VERSION:
        raise StoreError(f"{path} was written by a newer kiosk (format {head['version']})")
    snap.head = head
    snap.generation = int(head.get("generation", 0))
    tables = snap.tables
    for n in head.get("tables", []):
        tables[str(n)] = new_rows(str(n))
    crc = zlib.crc32(first)
    count = bad = 0
    foot: Any = None
    offset = len(first)
    for raw in f:
        here, offset = offset, offset + len(raw)
        if raw.startswith(b'{"end"') and raw.endswith(b"\n"):
            try:
                foot = load_json(raw)
            except ValueError:
                foot = None
            if isinstance(foot, dict):
                break
        crc = zlib.crc32(raw, crc)
        try:
            if not raw.endswith(b"\n"):
                raise ValueError("cut off")
            name, doc_id, doc = load_json(raw)
            rows = tables.get(name)
            if rows is None:
                rows = tables[name] = new_rows(name)
            rows.place(int(doc_id), doc, here << 1)
            if seen is not None:
                seen(name, int(doc_id), doc)
            count += 1
        except (ValueError, TypeError, AttributeError):
            bad += 1
    snap.size = offset
    expected = head.get("count")
    if not isinstance(foot, dict):
        lost = max(0, expected - count) if isinstance(expected, int) else (bad or None)
        snap.damage.append((f"{path.name} is cut off (no end marker)", lost))
        return snap
    snap.size += len(f.read())
    end = foot.get("end")
    missing = end - count if isinstance(end, int) else None
    if bad:
        snap.damage.append((f"{path.name}: {bad} damaged line(s) skipped", max(bad, missing or 0)))
    elif missing:
        snap.damage.append((f"{path.name} holds {count} documents, its end says {end}", missing))
    elif foot.get("crc32") != crc:
        # Every line parsed, yet something changed: the documents are kept, but flagged.
        snap.damage.append((f"{path.name} fails its checksum; its documents are unverified", 0))
    return snap


def read_legacy(path: Path, data: bytes) -> Snapshot:
    """Tables of a file written by TinyDB's own JSONStorage (an earlier kiosk)."""
    try:
        raw = load_json(data)
        if not isinstance(raw, dict):
            raise TypeError("not an object")
        tables: Tables = {str(n): Rows.from_mapping(t) for n, t in raw.items()}
    except (ValueError, TypeError, AttributeError) as e:
        raise Damaged(f"{path} is neither a kiosk snapshot nor TinyDB JSON") from e
    return Snapshot(tables, 0, len(data), legacy=True)


def first_table(path: Path, name: str) -> dict[int, dict[str, Any]]:
    """Documents of table ``name`` if the snapshot at ``path`` begins with it, else nothing.

    Reads only as far as that table goes (the catalogue's ``meta`` before its
    50,000 items): for a summary, not for checking the file, which its full
    readers do.
    """
    out: dict[int, dict[str, Any]] = {}
    prefix = b"[" + dump_json(name).encode() + b","
    try:
        with path.open("rb") as f:
            f.readline()
            for raw in f:
                if not raw.startswith(prefix):
                    break
                _, doc_id, doc = load_json(raw)
                out[int(doc_id)] = doc
    except (OSError, ValueError, TypeError):
        return {}
    return out
