"""The catalogue index: made at import, read at start, never trusted over catalog.json."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.config import StockTake
from kiosk.engine import Engine
from kiosk.engine.shelf import ShelfOrder
from kiosk.exc import StoreError
from kiosk.fileio import atomic_write
from kiosk.models import Item
from kiosk.store import Store, catindex
from kiosk.store.catindex import CatalogIndex
from kiosk.store.journal import JournalStorage
from tests.helpers import shelf_items

ODD = [
    Item("Ä-01", "001 ÄRZ k", "Ärzte ohne Grenzen", "Rak Umum", status="Repair"),
    Item("B 7", "", "No call number", "Rak Umum"),
    Item("Z\u2603", "???", "Snowman", "Gudang", on_loan=True, due="2026-12-01"),
]


def items() -> list[Item]:
    return [*shelf_items(), *ODD]


def load(state: Path, its: list[Item]) -> None:
    with Store.open(state) as store:
        store.replace_catalog(its, source="test")


def test_restarted_cart_finds_every_item_as_imported_and_no_other(tmp_path: Path) -> None:
    """After a restart every imported item is found exactly as imported; other codes are unknown."""
    load(tmp_path, items())
    with Store.open(tmp_path) as store:
        catalog = store.catalog()
        assert isinstance(catalog, CatalogIndex)
        assert {code: catalog.get(code) for code in catalog} == {it.code: it for it in items()}
        assert len(catalog) == len(items())
        for missing in ("", "B00", "B0001 ", "Z", "ZZZ", "b0001"):
            assert catalog.get(missing) is None and missing not in catalog
        assert store.locations() == ["Fiksi", "Gudang", "Rak Umum"]


def test_restarted_cart_finds_a_mixed_case_code_read_in_capitals(tmp_path: Path) -> None:
    """A code SLiMS stores in mixed case is found from its capitals after a restart too."""
    load(tmp_path, [*items(), Item("Ref-0007a", "030 ENS", "Ensiklopedia", "Rak Umum")])
    with Store.open(tmp_path) as store:
        catalog = store.catalog()
        assert isinstance(catalog, CatalogIndex)
        engine = Engine(catalog, StockTake())
        assert [engine.decide(c).code for c in ("REF-0007A", "ä-01")] == ["Ref-0007a", "Ä-01"]


def test_shelf_order_read_back_is_the_sorted_one(tmp_path: Path) -> None:
    """A restarted cart judges shelf order exactly as sorting the catalogue would."""
    load(tmp_path, items())
    sorted_now = ShelfOrder.by_location(items())
    with Store.open(tmp_path) as store:
        orders = store.shelf_orders()
        assert orders is not None and set(orders) == set(sorted_now)
        for loc, want in sorted_now.items():
            got = orders[loc]
            assert tuple(got.codes) == tuple(want.codes)
            assert got.unplaced == want.unplaced and dict(got.problems) == dict(want.problems)
            assert list(got.statuses) == list(want.statuses)
            for code in [*want.codes, *want.unplaced, "nope"]:
                assert got.position(code) == want.position(code)
                assert got.neighbours(code) == want.neighbours(code)
                assert got.on_loan(code) == want.on_loan(code)
            assert got.expected_counts({"B0003"}) == want.expected_counts({"B0003"})


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def _foreign(path: Path) -> None:
    """An index made from another catalogue (a copy from another cart, or a stale one)."""
    other = path.parent.parent / "other"
    load(other, [Item("B0001", "999 ZZZ", "Another book", "Elsewhere")])
    shutil.copy(other / "catalog.idx", path)


DAMAGE = {
    "bit-flipped": _flip,
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "not-an-index": lambda p: p.write_bytes(b"hello\n" * 100),
    "foreign": _foreign,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_or_foreign_index_is_ignored_and_made_again(tmp_path: Path, damage: str) -> None:
    """A damaged or foreign index changes no verdict: catalog.json is read, the index remade."""
    state = tmp_path / "state"
    load(state, items())
    DAMAGE[damage](state / "catalog.idx")
    want = {it.code: it for it in items()}
    with Store.open_readonly(state) as store:  # a reader uses catalog.json and writes nothing
        assert dict(store.catalog()) == want
    with Store.open(state) as store:
        assert dict(store.catalog()) == want
        orders = store.shelf_orders()
        want_order = ShelfOrder.by_location(items())["Rak Umum"]
        assert orders is not None and tuple(orders["Rak Umum"].codes) == tuple(want_order.codes)
    with Store.open(state) as store:
        assert isinstance(store.catalog(), CatalogIndex)  # remade whole


OLD = [
    Item("A0001", "100 OLD a", "Old one", "Rak Umum"),
    Item("A0002", "200 OLD b", "Old two", "Rak Umum"),
]


def _old_then_new(state: Path) -> dict[str, Item]:
    """Replace the OLD catalogue by the new one; the test has broken the replace in the middle."""
    with Store.open(state) as store, pytest.raises((OSError, StoreError)):
        store.replace_catalog(items(), source="new")
    return {it.code: it for it in OLD}


def _whole(state: Path, want: dict[str, Item]) -> None:
    with Store.open(state) as store:
        assert dict(store.catalog()) == want
        orders = store.shelf_orders()
        assert orders is not None and tuple(orders["Rak Umum"].codes) == tuple(sorted(want))
    with Store.open(state) as store:
        assert isinstance(store.catalog(), CatalogIndex)


def test_cut_while_the_index_is_written_keeps_the_old_catalogue_and_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import cut while writing the new index leaves the old catalogue and its index in use."""

    def cut(path: Path, chunks: object, **kw: object) -> int:
        (path.parent / (path.name + ".tmp")).write_bytes(b"half an index")
        raise OSError(5, "power cut")

    load(tmp_path, OLD)
    monkeypatch.setattr(catindex, "atomic_write", cut)
    want = _old_then_new(tmp_path)
    monkeypatch.setattr(catindex, "atomic_write", atomic_write)
    _whole(tmp_path, want)


def test_cut_between_index_and_catalogue_keeps_the_old_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import cut after the new index but before catalog.json gives the old catalogue, whole."""
    real = JournalStorage.write

    def cut(self: JournalStorage, data: object) -> None:
        raise OSError(5, "power cut")

    load(tmp_path, OLD)
    monkeypatch.setattr(JournalStorage, "write", cut)
    want = _old_then_new(tmp_path)
    monkeypatch.setattr(JournalStorage, "write", real)
    _whole(tmp_path, want)
    load(tmp_path, items())  # and the next import goes through
    with Store.open(tmp_path) as store:
        assert dict(store.catalog()) == {it.code: it for it in items()}


def test_walking_the_whole_catalogue_gives_every_item_once(tmp_path: Path) -> None:
    """Reports and the cart's page that read every item see each imported item exactly once."""
    load(tmp_path, items())
    with Store.open_readonly(tmp_path) as store:
        catalog = store.catalog()
        assert isinstance(catalog, CatalogIndex)
        assert sorted(catalog.values(), key=lambda it: it.code) == sorted(
            items(), key=lambda it: it.code
        )
        assert dict(catalog.items()) == {it.code: it for it in items()}


def test_catalogue_stays_readable_after_the_store_is_closed(tmp_path: Path) -> None:
    """A report rendered after its store was closed still finds every item."""
    load(tmp_path, items())
    with Store.open_readonly(tmp_path) as store:
        catalog = store.catalog()
    assert isinstance(catalog, CatalogIndex)
    assert catalog.get("B0001") == shelf_items()[0]
