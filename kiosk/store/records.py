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
    is idempotent), which it deletes (``"d"``) and whether it cleared the
    table (``"c"``). The first line is a header naming the snapshot
    *generation* the journal applies to.

A file written by TinyDB's own ``JSONStorage`` (an earlier kiosk) is still
read; it is marked generation -1 so the opener converts it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kiosk.exc import StoreError
from kiosk.store.rows import Rows, Tables, dump_json, load_json

SNAPSHOT_FORMAT = "kiosk-snapshot"
JOURNAL_FORMAT = "kiosk-journal"
FORMAT_VERSION = 1


class Damaged(Exception):
    """A file failed validation (the journal turns it into StoreCorrupt)."""


# -- journal lines -------------------------------------------------------------------------
def frame(payload: bytes) -> bytes:
    """One journal line: checksum, space, payload, newline."""
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def journal_header(gen: int) -> bytes:
    """The first line of a journal for snapshot generation ``gen``."""
    head = {"format": JOURNAL_FORMAT, "version": FORMAT_VERSION, "generation": gen}
    return frame(dump_json(head).encode())


def change_payload(
    table: str, puts: Mapping[int, Mapping[str, Any]], deletes: list[int], clear: bool
) -> bytes:
    """The JSON of one change record (before :func:`frame`)."""
    rec: dict[str, Any] = {"t": table}
    if clear:
        rec["c"] = 1
    if puts:
        rec["p"] = {str(k): v for k, v in puts.items()}
    if deletes:
        rec["d"] = deletes
    return dump_json(rec).encode()


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


def apply_change(tables: Tables, rec: Mapping[str, Any]) -> None:
    """Replay one change record onto ``tables``."""
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


# -- snapshots ------------------------------------------------------------------------------
def snapshot_lines(tables: Tables, gen: int) -> Iterator[bytes]:
    """The snapshot of ``tables`` as generation ``gen``, in blocks of lines."""
    crc = 0
    count = 0
    head = {
        "format": SNAPSHOT_FORMAT,
        "version": FORMAT_VERSION,
        "generation": gen,
        "tables": list(tables),
    }
    line = dump_json(head).encode() + b"\n"
    crc = zlib.crc32(line, crc)
    yield line
    for name, rows in tables.items():
        prefix = dump_json(name).encode()
        chunk: list[bytes] = []
        for doc_id, doc in rows.items():
            chunk.append(b'[%s,"%s",%s]\n' % (prefix, doc_id.encode(), dump_json(doc).encode()))
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
    yield dump_json({"end": count, "crc32": crc}).encode() + b"\n"


def read_snapshot(path: Path) -> tuple[Tables, int, int]:
    """``(tables, generation, size)`` of a snapshot, streamed line by line.

    A missing file is an empty generation 0; a damaged one raises :class:`Damaged`.
    """
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return {}, 0, 0
    with f:
        first = f.readline()
        if first.startswith(b"{") and not first.startswith(b'{"format"'):
            return read_legacy(path, first + f.read())
        if not first:
            raise Damaged(f"{path} is empty")
        try:
            head = load_json(first)
        except ValueError as e:
            raise Damaged(f"{path} header is not JSON") from e
        if not isinstance(head, dict) or head.get("format") != SNAPSHOT_FORMAT:
            raise Damaged(f"{path} is not a kiosk snapshot")
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
                name, doc_id, doc = load_json(raw)
                rows = tables.get(name)
                if rows is None:
                    rows = tables[name] = Rows()
                rows.put(int(doc_id), rows.pack(doc))
            except (ValueError, TypeError, AttributeError) as e:
                raise Damaged(f"{path} line {lineno} is not a document") from e
            count += 1
        else:
            raise Damaged(f"{path} is incomplete (no end marker)")
        rest = f.read()
    try:
        foot = load_json(foot_line)
    except ValueError as e:
        raise Damaged(f"{path} end marker is not JSON") from e
    if rest or not foot_line.endswith(b"\n") or not isinstance(foot, dict):
        raise Damaged(f"{path} has data after its end marker")
    if foot.get("crc32") != crc:
        raise Damaged(f"{path} fails its checksum")
    if foot.get("end") != count:
        raise Damaged(f"{path} holds {count} documents, its end marker says {foot.get('end')}")
    return tables, int(head.get("generation", 0)), size


def read_legacy(path: Path, data: bytes) -> tuple[Tables, int, int]:
    """Tables of a file written by TinyDB's own JSONStorage (generation -1 marks it)."""
    try:
        raw = load_json(data)
        if not isinstance(raw, dict):
            raise TypeError("not an object")
        return {str(n): Rows.from_mapping(t) for n, t in raw.items()}, -1, len(data)
    except (ValueError, TypeError, AttributeError) as e:
        raise Damaged(f"{path} is neither a kiosk snapshot nor TinyDB JSON") from e
