"""Every use of TinyDB's private API, in one place.

TinyDB's public API gives documents, tables and queries, but each change
goes through ``Table._update_table``, which copies the whole table and hands
it to the storage to write back: O(table) per insert. The journal needs the
change alone. This module reaches into TinyDB (``Table._update_table``,
``_get_next_id``, ``_next_id``, ``_read_table``, ``TinyDB._storage``) so
nothing else in kiosk does; ``pyproject.toml`` pins TinyDB's major version
because these internals may change with it.

:class:`JournalTable` (a TinyDB ``Table`` subclass, installed by
:class:`KioskDB`) computes each change as a small delta and hands it to
:meth:`~kiosk.store.journal.JournalStorage.append`; :func:`rows_of` gives a
table's compact :class:`~kiosk.store.rows.Rows` for reads that need no
document copies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, cast

from tinydb import TinyDB
from tinydb.table import Table

from kiosk.store.journal import JournalStorage
from kiosk.store.rows import Rows
from kiosk.store.summary import Summary


class _Delta(MutableMapping[int, dict[str, Any]]):
    """What a TinyDB updater sees as "the table": the stored rows plus pending changes.

    Documents are copied on first access, so an updater that fails half-way
    (or a journal write that fails) leaves the stored rows untouched. The
    stored version read then is kept (:attr:`old`): the change is found, and
    the storage's summaries take the old document back, without reading it again.
    """

    def __init__(self, base: Mapping[str, dict[str, Any]]) -> None:
        self.base: Mapping[Any, dict[str, Any]] = base
        self.cleared = False
        self.puts: dict[int, dict[str, Any]] = {}
        self.touched: dict[int, dict[str, Any]] = {}
        self.dels: set[int] = set()
        self.old: dict[int, dict[str, Any]] = {}

    def _in_base(self, key: int) -> bool:
        return not self.cleared and key not in self.dels and key in self.base

    def __getitem__(self, key: int) -> dict[str, Any]:
        if key in self.puts:
            return self.puts[key]
        if key in self.touched:
            return self.touched[key]
        if not self._in_base(key):
            raise KeyError(key)
        old = self.old[key] = self.base[str(key)]
        doc: dict[str, Any] = _copied(old)
        self.touched[key] = doc
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
        out = {k: v for k, v in self.touched.items() if v != self.old[k]}
        out.update(self.puts)
        return out


def _copied(value: Any) -> Any:
    """A deep copy of a JSON document (no cycles, so none of ``copy.deepcopy``'s bookkeeping).

    Stored documents are built of plain dicts and lists, so only those are
    looked into: a shallow copy first, then its few nested values (a third
    of the time of rebuilding every pair; a sync copies thousands).
    """
    kind = type(value)
    if kind is dict:
        out = value.copy()
        for k, v in value.items():
            if type(v) is dict or type(v) is list:
                out[k] = _copied(v)
        return out
    if kind is list:
        return [_copied(v) if type(v) is dict or type(v) is list else v for v in value]
    return value


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
                storage.append(
                    self.name, puts=puts, deletes=delta.dels, clear=delta.cleared, old=delta.old
                )
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


def open_db(
    path: Path,
    *,
    readonly: bool = False,
    compact: bool = True,
    cold: tuple[str, ...] = (),
    summaries: Mapping[str, Callable[[bytes | None], Summary]] | None = None,
) -> KioskDB:
    """Open (or create) one journaled TinyDB database at ``path``; ``cold`` tables stay on disk.

    ``summaries`` are kept by the storage for those tables; ``compact``: whether
    a grown journal is folded into a snapshot now (see JournalStorage).
    """
    return KioskDB(
        path,
        storage=JournalStorage,
        readonly=readonly,
        compact=compact,
        cold=cold,
        summaries=summaries,
    )


def rows_of(table: Table) -> Rows:
    """The stored documents of ``table``, compact and read-only (empty if not journaled)."""
    rows: object = table._read_table()
    return rows if isinstance(rows, Rows) else Rows()
