"""``catalog.idx``: the catalogue as the daemon needs it, made once per pull.

``catalog.json`` (TinyDB) stays the catalogue's truth. Parsing it into 50,000
items, and sorting their call numbers into shelf order, took the daemon
seconds at every start (tens of seconds on a Pi Zero). So each pull or
import also writes this file beside it, and a start maps it instead: an item
is decoded when it is looked up, and a location's shelf order is read back.

Layout: ``MAGIC``, the header's length and the CRC-32 of everything after
these 16 bytes, then the header (JSON: format version, byte order, which
catalogue it was made from, locations, statuses, where each section starts),
then 8-byte aligned sections:

``keys``/``key_off``   item codes (UTF-8, sorted bytewise) and their offsets
``recs``/``rec_off``   each item as a JSON array of its fields, same order
``codes.L``            location L's placed books, in shelf order (a JSON list of codes)
``pos.L``, ``loan.L``, ``stat.L``, ``prev.L``, ``next.L``
                       the rest of :class:`~kiosk.engine.shelf.ShelfParts`
``extra.L``            unplaced codes and call-number problems (JSON)
``mixed``              codes that mix upper and lower case, by casefolded code (JSON)

The file is derived data: missing, made from another catalogue, of another
version or byte order, or failing its checksum, it is ignored (and the store
makes it again from ``catalog.json``), so it can never give a verdict the
catalogue would not.
"""

from __future__ import annotations

import json
import logging
import mmap
import struct
import sys
import zlib
from array import array
from collections.abc import ItemsView, Iterable, Iterator, Mapping, ValuesView
from pathlib import Path
from typing import Any

from kiosk.engine.shelf import ShelfOrder, ShelfParts
from kiosk.fileio import atomic_write
from kiosk.models import Item, mixed_case_codes

log = logging.getLogger(__name__)

MAGIC = b"KIOSKIDX"
VERSION = 2
_HEAD = struct.Struct("<8sII")  # magic, header length, CRC-32 of the rest
_ALIGN = 8


def identity(meta: Mapping[str, Any]) -> str:
    """What ties an index to one catalogue: its meta document (a pull always sets a new time)."""
    return json.dumps(dict(meta), sort_keys=True)


# -- writing ---------------------------------------------------------------------------------
def write(path: Path, items: Iterable[Item], made_from: str) -> None:
    """Write the index of ``items`` atomically (old file or new, never a mix)."""
    by_key = sorted(((_encode(it.code), it) for it in items), key=lambda kv: kv[0])
    statuses: dict[str, int] = {}
    sections: dict[str, bytes] = {}
    sections["keys"], sections["key_off"] = _blob(k for k, _ in by_key)
    sections["recs"], sections["rec_off"] = _blob(
        json.dumps(it).encode()
        for _, it in by_key  # a named tuple: a JSON array
    )
    sections["mixed"] = json.dumps(mixed_case_codes(it.code for _, it in by_key)).encode()
    locations = sorted({it.location for _, it in by_key})
    try:
        orders: dict[str, ShelfOrder] | None = ShelfOrder.by_location(it for _, it in by_key)
    except Exception:  # a catalogue the sorter fails on still loads; the daemon says so
        log.exception("cannot put the catalogue in shelf order; the index is made without it")
        orders = None
    for j, order in enumerate(orders[loc] for loc in locations if orders is not None):
        parts = order.parts
        sections[f"codes.{j}"] = json.dumps(list(parts.codes)).encode()
        sections[f"pos.{j}"] = array("i", parts.positions).tobytes()
        sections[f"loan.{j}"] = array("b", parts.on_loan).tobytes()
        ids = [statuses.setdefault(s, len(statuses)) for s in parts.statuses]
        sections[f"stat.{j}"] = array("i", ids).tobytes()
        sections[f"prev.{j}"] = array("i", parts.prev_avail).tobytes()
        sections[f"next.{j}"] = array("i", parts.next_avail).tobytes()
        extra = {"unplaced": parts.unplaced, "problems": parts.problems}
        sections[f"extra.{j}"] = json.dumps(extra).encode()
    where: dict[str, list[int]] = {}
    body = bytearray()
    for name, data in sections.items():
        body += b"\0" * (-len(body) % _ALIGN)
        where[name] = [len(body), len(data)]
        body += data
    header = {
        "version": VERSION,
        "byteorder": sys.byteorder,
        "catalog": made_from,
        "count": len(by_key),
        "locations": locations,
        "shelf": orders is not None,
        "statuses": list(statuses),
        "sections": where,
    }
    head = json.dumps(header).encode()
    head += b" " * (-(_HEAD.size + len(head)) % _ALIGN)
    rest = head + body
    atomic_write(path, [_HEAD.pack(MAGIC, len(head), zlib.crc32(rest)), rest])


def _encode(code: str) -> bytes:
    return code.encode("utf-8", "surrogatepass")  # a code is kept whatever the export held


def _decode(key: bytes) -> str:
    return key.decode("utf-8", "surrogatepass")


def _blob(chunks: Iterable[bytes]) -> tuple[bytes, bytes]:
    """Chunks end to end, and the offsets (n + 1) where each begins and the last ends."""
    out = bytearray()
    offsets = array("I", [0])
    for chunk in chunks:
        out += chunk
        offsets.append(len(out))
    return bytes(out), offsets.tobytes()


# -- reading ---------------------------------------------------------------------------------
class CatalogIndex(Mapping[str, Item]):
    """Item code → item, read from ``catalog.idx`` as asked (a binary search, one decode).

    Open it with :meth:`open`; ``None`` from there means "make it again".
    """

    def __init__(self, mm: mmap.mmap, header: dict[str, Any], base: int) -> None:
        self._mm = mm
        self._base = base
        self._where: dict[str, list[int]] = header["sections"]
        self._count = int(header["count"])
        self.locations: tuple[str, ...] = tuple(header["locations"])
        self._shelf = bool(header["shelf"])
        self._statuses: tuple[str, ...] = tuple(header["statuses"])
        self._keys = self._span("keys")
        self._recs = self._span("recs")
        self._key_off = self._array("key_off", "I")
        self._rec_off = self._array("rec_off", "I")
        if len(self._key_off) != self._count + 1 or len(self._rec_off) != self._count + 1:
            raise ValueError("offset tables do not match the item count")

    @classmethod
    def open(cls, path: Path, made_from: str) -> CatalogIndex | None:
        """The index at ``path`` if it is whole and made from catalogue ``made_from``."""
        try:
            with path.open("rb") as f:
                magic, head_len, crc = _HEAD.unpack(f.read(_HEAD.size))
                if magic != MAGIC:
                    raise ValueError("not a catalogue index")
                got = 0
                while chunk := f.read(1 << 20):  # checked without mapping it: RSS stays low
                    got = zlib.crc32(chunk, got)
                if got != crc:
                    raise ValueError("checksum mismatch")
                f.seek(_HEAD.size)
                header = json.loads(f.read(head_len))
                if header.get("version") != VERSION or header.get("byteorder") != sys.byteorder:
                    raise ValueError("another version or byte order")
                if header.get("catalog") != made_from:
                    log.info("%s was made from another catalogue; making it again", path)
                    return None
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                return cls(mm, header, _HEAD.size + head_len)
            except BaseException:
                mm.close()
                raise
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, struct.error) as e:
            log.warning("catalogue index %s not used (%s); making it again", path, e)
            return None

    def _span(self, name: str) -> tuple[int, int]:
        start, length = self._where[name]
        start += self._base
        if start + length > len(self._mm):
            raise ValueError(f"section {name} runs past the end")
        return start, start + length

    def _array(self, name: str, code: str) -> array[int]:
        start, end = self._span(name)
        out = array(code)
        out.frombytes(self._mm[start:end])
        return out

    def _json(self, name: str) -> Any:
        start, end = self._span(name)
        return json.loads(self._mm[start:end])

    def _key(self, i: int) -> bytes:
        start = self._keys[0]
        return self._mm[start + self._key_off[i] : start + self._key_off[i + 1]]

    def _find(self, code: str) -> int | None:
        key = _encode(code)
        lo, hi = 0, self._count
        while lo < hi:
            mid = (lo + hi) // 2
            if self._key(mid) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < self._count and self._key(lo) == key else None

    def _item(self, i: int) -> Item:
        start = self._recs[0]
        raw = self._mm[start + self._rec_off[i] : start + self._rec_off[i + 1]]
        return Item(*json.loads(raw))

    def __getitem__(self, code: str) -> Item:
        i = self._find(code) if isinstance(code, str) else None
        if i is None:
            raise KeyError(code)
        return self._item(i)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self._find(code) is not None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        for i in range(self._count):
            yield _decode(self._key(i))

    def values(self) -> ValuesView[Item]:
        """Every item, decoded one at a time in code order (for reports; the scan loop looks up)."""
        return _Values(self)

    def items(self) -> ItemsView[str, Item]:
        return _Items(self)

    def mixed_case_codes(self) -> dict[str, str]:
        """The catalogue's :func:`~kiosk.models.mixed_case_codes`, made at pull time."""
        return dict(self._json("mixed"))

    def shelf_orders(self) -> Mapping[str, ShelfOrder] | None:
        """Each location's shelf order, read back when first asked for (``None``: not made)."""
        return _Orders(self) if self._shelf else None

    def shelf_parts(self, location: str) -> ShelfParts | None:
        try:
            j = self.locations.index(location)
        except ValueError:
            return None
        codes = tuple(self._json(f"codes.{j}"))
        extra = self._json(f"extra.{j}")
        stat = self._statuses
        return ShelfParts(
            codes=codes,
            places=dict(zip(codes, range(len(codes)), strict=True)),
            positions=self._array(f"pos.{j}", "i"),
            on_loan=self._array(f"loan.{j}", "b"),
            statuses=tuple(stat[s] for s in self._array(f"stat.{j}", "i")),
            prev_avail=self._array(f"prev.{j}", "i"),
            next_avail=self._array(f"next.{j}", "i"),
            unplaced=tuple(extra["unplaced"]),
            problems={k: tuple(v) for k, v in extra["problems"].items()},
        )


class _Values(ValuesView[Item]):
    """Read in file order, not looked up one by one."""

    _mapping: CatalogIndex

    def __iter__(self) -> Iterator[Item]:
        index = self._mapping
        return (index._item(i) for i in range(len(index)))


class _Items(ItemsView[str, Item]):
    """Read in file order, not looked up one by one."""

    _mapping: CatalogIndex

    def __iter__(self) -> Iterator[tuple[str, Item]]:
        index = self._mapping
        return ((it.code, it) for it in index.values())


class _Orders(Mapping[str, ShelfOrder]):
    """Location → shelf order, each read from the index once, on first use."""

    def __init__(self, index: CatalogIndex) -> None:
        self._index = index
        self._made: dict[str, ShelfOrder] = {}

    def __getitem__(self, location: str) -> ShelfOrder:
        order = self._made.get(location)
        if order is None:
            parts = self._index.shelf_parts(location)
            if parts is None:
                raise KeyError(location)
            order = self._made[location] = ShelfOrder.from_parts(parts, location=location)
        return order

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.locations)

    def __len__(self) -> int:
        return len(self._index.locations)
