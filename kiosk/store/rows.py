"""Documents held compactly in memory, so a long stock take fits a Raspberry Pi.

Documents are held as tuples (key tuples shared between documents of the
same shape, repeated short strings interned, nested values kept as JSON
text) in :class:`Rows`, a read-only mapping that builds a fresh ``dict`` per
document on access. A 100,000-scan store then needs about a third of the
memory of plain dicts, and no caller can change stored data behind the
journal's back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

#: Compact JSON text, as written to the snapshot and the journal.
dump_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
#: Lines a process reads with the standard library before it turns to orjson.
FAST_AFTER = 2000
_loads: Callable[[bytes | str], Any] = json.loads
_until_fast = FAST_AFTER


def load_json(data: bytes | str) -> Any:
    """One stored JSON text, read by orjson once a process has read enough of them.

    orjson reads a journal line three times as fast, but importing it (and the
    uuid and platform modules it brings) costs what ~2,000 lines save: a start
    or ``kiosk status`` reads fewer, a sync or a long journal's replay more.
    """
    global _loads, _until_fast  # noqa: PLW0603  (a module-wide switch, raced harmlessly)
    if _until_fast:
        _until_fast -= 1
        if not _until_fast:
            _loads = fast_loads()
    return _loads(data)


def fast_loads() -> Callable[[bytes | str], Any]:
    """orjson's reader where it has wheels (x86_64, aarch64, armv7l); else the standard one."""
    try:
        from orjson import loads  # noqa: PLC0415  (see load_json)
    except ImportError:  # a Pi on armv6l
        return json.loads
    return loads


def dump_many(value: Any) -> bytes:
    """The JSON of a change holding many documents (a sync's answers), as :data:`dump_json`.

    orjson writes it some 30 times as fast (2,000 scans: 0.85 ms against
    27 ms). It writes NaN and infinities as ``null``, so those are refused
    here first, as the standard encoder refuses them (3 ms for those 2,000);
    what orjson cannot write at all (an integer past 64 bits) is left to the
    standard encoder, which writes it or says why not.
    """
    _refuse_nonfinite(value)
    try:
        from orjson import dumps  # noqa: PLC0415  (see load_json)
    except ImportError:  # a Pi on armv6l
        return dump_json(value).encode()
    try:
        return dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        return dump_json(value).encode()


def _refuse_nonfinite(value: Any) -> None:
    for v in value.values() if isinstance(value, dict) else value:
        if isinstance(v, (dict, list, tuple)):
            _refuse_nonfinite(v)
        elif isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"Out of range float values are not JSON compliant: {v!r}")


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

    def frozen(self) -> Rows:
        """A copy that later changes do not reach, for a snapshot written meanwhile."""
        out = Rows()
        out._rows = dict(self._rows)  # rows are tuples: sharing them is safe
        out._max = self._max
        return out

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
                value = _EMPTY.get(kind) if not value else _Json(dump_json(value))
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

    def lines(self, prefix: bytes, *, verbatim: bool = False) -> Iterator[tuple[int, bytes]]:
        """Each document's snapshot line (``prefix``: the table's name in JSON), by id.

        ``verbatim`` lets a table on disk copy lines of the snapshot it reads
        from instead of encoding them again; documents in memory have no line.
        """
        for doc_id, doc in self.items():
            yield int(doc_id), doc_line(prefix, int(doc_id), doc)

    def columns(self, *keys: str) -> Iterator[tuple[Any, ...]]:
        """``(doc_id, doc[key], …)`` per document, without building dicts (fast scans)."""
        for doc_id, row in list(self._rows.items()):
            shape = row[0]
            yield (doc_id, *(row[shape.index(k) + 1] if k in shape else None for k in keys))

    def place(self, doc_id: int, doc: Mapping[str, Any], loc: int) -> None:
        """Store ``doc``, read from byte location ``loc`` (only a table on disk keeps that)."""
        self.put(doc_id, self.pack(doc))

    def adopt(self, locations: Any, count: int, top: int) -> None:
        """Take saved locations (only a table on disk keeps them)."""
        raise TypeError("documents of a table in memory are not placed by location")

    def put(self, doc_id: int, row: tuple[Any, ...]) -> None:
        self._rows[doc_id] = row
        self._max = max(self._max, doc_id)

    def delete(self, doc_id: int) -> None:
        self._rows.pop(doc_id, None)

    def clear(self) -> None:
        self._rows.clear()
        self._max = 0


def doc_line(prefix: bytes, doc_id: int, doc: Mapping[str, Any]) -> bytes:
    """A document's snapshot line, ``[table,"id",document]`` (``prefix``: the table in JSON)."""
    return b'[%s,"%d",%s]\n' % (prefix, doc_id, dump_json(doc).encode())


def _unpack(row: tuple[Any, ...]) -> dict[str, Any]:
    doc = dict(zip(row[0], row[1:], strict=True))
    for key, value in doc.items():
        if isinstance(value, _Json):
            doc[key] = json.loads(value)  # orjson takes no str subclass
    return doc


#: A database's tables by name.
Tables = dict[str, Rows]
#: A new, empty table of a given name (in memory or on disk, as the database wants it).
NewRows = Callable[[str], Rows]
