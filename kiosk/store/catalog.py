"""The catalogue half of the store: ``catalog.json`` and its index, replaced whole.

A pull or import replaces the catalogue atomically; nothing else writes it.
``catalog.idx`` (:mod:`kiosk.store.catindex`) is derived from it, written
first, and made again from ``catalog.json`` whenever it does not match, so
it can never give a verdict the catalogue would not. The caller (the
:class:`~kiosk.store.Store`) holds the store's lock around every call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.exc import StoreError
from kiosk.models import Item
from kiosk.store.adapter import KioskDB, open_db, rows_of
from kiosk.store.records import first_table

if TYPE_CHECKING:  # the index (and the engine's shelf order) load when the catalogue is read
    from kiosk.engine.shelf import ShelfOrder
    from kiosk.store.catindex import CatalogIndex

__all__ = ["Catalogue"]

log = logging.getLogger(__name__)


class Catalogue:
    """The catalogue of one state directory, read when first asked for."""

    def __init__(self, state_dir: Path, *, readonly: bool) -> None:
        self.path = state_dir / "catalog.json"
        self.index_path = state_dir / "catalog.idx"
        self.readonly = readonly
        self._items: Mapping[str, Item] | None = None
        self._index: CatalogIndex | None = None
        self._meta: dict[str, Any] = {}

    @contextmanager
    def _file(self) -> Iterator[KioskDB]:
        """``catalog.json``, open only while read or replaced.

        Once its rows are turned into :class:`Item` s the file's own copy is
        dropped: for 50,000 items that is ~10 MB the daemon need not carry.
        """
        db = open_db(self.path, readonly=self.readonly)
        try:
            yield db
        finally:
            db.close()

    def replace(self, items: Iterable[Item], *, source: str, **meta: Any) -> int:
        """Replace the whole catalogue atomically (a pull or import is always complete).

        ``meta`` (plain JSON values, e.g. the item statuses SLiMS skips) is kept
        with it and returned by :meth:`info`. The index is written first: a
        cut before ``catalog.json`` is replaced leaves an index of a catalogue
        that is not there, which is ignored and made again from the old one.
        """
        rows = {it.code: it for it in items}
        info = meta | {"source": source, "loaded": time.time(), "count": len(rows)}
        docs = {str(i): it.to_dict() for i, it in enumerate(rows.values(), start=1)}
        self._index = self._items = None
        from kiosk.store import catindex  # noqa: PLC0415

        try:
            catindex.write(self.index_path, rows.values(), catindex.identity(info))
        except OSError as e:
            raise StoreError(f"cannot write {self.index_path}: {e.strerror}") from e
        with self._file() as db:  # meta first: info() reads only that far
            db.storage.write({"meta": {"1": info}, "items": docs})
        self._items, self._meta = rows, info
        return len(rows)

    def items(self) -> Mapping[str, Item]:
        """Item code → item, for constant-time lookups.

        Read through the index when it matches ``catalog.json`` (nothing is
        parsed at start); otherwise ``catalog.json`` is read whole and, by a
        writer, the index made again from it. The mapping stays readable
        after the store is closed (a report is rendered after that): its file
        is unmapped when the last reference goes.
        """
        if self._items is None:
            self._items = self._open_index() or self._load()
        return self._items

    def shelf_orders(self) -> Mapping[str, ShelfOrder] | None:
        """Each location's shelf order as made at pull time (``None``: none was made)."""
        self.items()
        return None if self._index is None else self._index.shelf_orders()

    def locations(self) -> list[str]:
        """The catalogue's locations, without reading its items when the index has them."""
        items = self.items()
        if self._index is not None:
            return [loc for loc in self._index.locations if loc]
        return sorted({it.location for it in items.values() if it.location})

    def info(self) -> dict[str, Any]:
        """Source, time and size of the catalogue, without loading its items if not loaded."""
        if self._items is None:
            meta = first_table(self.path, "meta").get(1)
            if meta is not None and isinstance(meta.get("count"), int):
                return meta
        count = len(self.items())
        return self._meta | {"count": count}

    def _open_index(self) -> CatalogIndex | None:
        meta = first_table(self.path, "meta").get(1)
        if meta is None:
            return None
        from kiosk.store import catindex  # noqa: PLC0415

        self._index = catindex.CatalogIndex.open(self.index_path, catindex.identity(meta))
        if self._index is not None:
            self._meta = meta
        return self._index

    def _load(self) -> Mapping[str, Item]:
        with self._file() as db:
            rows = rows_of(db.table("items", cache_size=0))
            items = {d["code"]: Item.from_dict(d) for _, d in rows.items()}
            meta = db.table("meta").get(doc_id=1)
        self._meta = dict(meta) if meta else {"source": None, "loaded": None}
        if meta is None or self.readonly:
            return items
        from kiosk.store import catindex  # noqa: PLC0415

        try:
            catindex.write(self.index_path, items.values(), catindex.identity(meta))
        except OSError as e:  # scanning works from memory; the next start tries again
            log.warning("cannot write the catalogue index %s: %s", self.index_path, e)
            return items
        log.info("catalogue index made again: %d items", len(items))
        return self._open_index() or items
