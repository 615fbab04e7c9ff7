"""The engine's verdicts, one per situation a librarian meets."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pytest

from kiosk.config import StockTake
from kiosk.engine import Engine, Statuses, shelf_order
from kiosk.engine.shelf import ShelfOrder
from kiosk.models import Command, Item, Scan, Verdict
from tests.helpers import shelf_items

_seq = itertools.count(1)


def engine(**kw: object) -> Engine:
    catalog = {it.code: it for it in shelf_items()}
    return Engine(catalog, StockTake(), **kw)  # type: ignore[arg-type]


def scan(e: Engine, code: str) -> Scan:
    """Decide and commit one barcode, as the daemon does after storing it."""
    d = e.decide(code)
    s = Scan(next(_seq), d.code, d.verdict, "t", 0.0, e.location, 1, d.detail)
    e.apply(s)
    return s


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        ("B0001", Verdict.OK),
        ("B9999", Verdict.UNKNOWN),
        ("B0101", Verdict.ON_LOAN),
        ("B0102", Verdict.FOUND_AGAIN),
        ("B0100", Verdict.WRONG_LOCATION),
        ("x!", Verdict.INVALID),
        ("", Verdict.INVALID),
        ("KIOSK:undo", Verdict.COMMAND),
        ("KIOSK:frobnicate", Verdict.INVALID),
    ],
)
def test_first_scan_verdicts(code: str, verdict: Verdict) -> None:
    """Each kind of barcode gets its own verdict on the cart at Rak Umum."""
    assert engine(location="Rak Umum").decide(code).verdict is verdict


def test_catalogue_codes_outside_the_pattern_are_found() -> None:
    """A book whose SLiMS code has a slash or a space is found, not called a misread label."""
    odd = [
        Item("B 00211", "540 KIM k", "Kimia"),
        Item("P2019/001", "959.8 BAB", "Babad Tanah Jawi"),
    ]
    e = Engine({it.code: it for it in [*shelf_items(), *odd]}, StockTake())
    assert [e.decide(it.code).verdict for it in odd] == [Verdict.OK, Verdict.OK]
    assert e.decide("P2019/002").verdict is Verdict.INVALID


def test_a_code_read_in_another_case_is_the_book_slims_finds() -> None:
    """A label read in capitals finds the book SLiMS stores in small letters, as SLiMS does."""
    books = [
        Item("b00105", "540 KIM k", "Kimia", location="Rak Umum"),
        Item("Ref-0007a", "030 ENS", "Ensiklopedia", location="Rak Umum"),
    ]
    e = Engine({it.code: it for it in [*shelf_items(), *books]}, StockTake())
    first = scan(e, "B00105")
    assert (first.code, first.verdict) == ("b00105", Verdict.OK)  # stored, and synced, as SLiMS's
    assert scan(e, "b00105").verdict is Verdict.DUPLICATE  # one book, whatever the case
    assert e.decide("REF-0007A").code == "Ref-0007a"  # mixed case in SLiMS, capitals on the label
    assert e.decide("B00106").verdict is Verdict.UNKNOWN


def test_second_scan_of_a_found_item_is_a_duplicate() -> None:
    """Scanning the same book twice says duplicate the second time."""
    e = engine()
    assert scan(e, "B0001").verdict is Verdict.OK
    assert scan(e, "B0001").verdict is Verdict.DUPLICATE


def test_items_found_before_a_restart_are_duplicates() -> None:
    """A book found yesterday is a duplicate today (the store seeds the engine)."""
    assert engine(found=["B0003"]).decide("B0003").verdict is Verdict.DUPLICATE


def test_undo_forgets_the_scan() -> None:
    """After undo, the same book can be scanned again without a duplicate alarm."""
    e = engine()
    s = scan(e, "B0001")
    e.undo(s)
    assert e.decide("B0001").verdict is Verdict.OK


def test_no_location_check_until_a_location_is_set() -> None:
    """Without a current location, a novel is not flagged as out of place."""
    assert engine().decide("B0100").verdict is Verdict.OK


def test_location_command_sets_location() -> None:
    """Scanning a location command makes items from elsewhere wrong_location."""
    e = engine()
    detail = scan(e, "KIOSK:location:Fiksi").detail
    assert (detail.command, detail.arg) == (Command.LOCATION, "Fiksi")
    assert e.decide("B0001").verdict is Verdict.WRONG_LOCATION
    assert e.decide("B0100").verdict is Verdict.OK


def test_misshelved_book_in_a_shelf_run() -> None:
    """A book from the far end of the shelf, scanned among the first books, is misshelved."""
    e = engine(location="Rak Umum")
    for code in ("B0001", "B0002", "B0003"):
        assert scan(e, code).verdict is Verdict.OK
    out = scan(e, "B0011")
    assert out.verdict is Verdict.MISSHELVED
    assert out.detail.belongs is not None
    assert out.detail.belongs.after == "B0010"
    assert scan(e, "B0004").verdict is Verdict.OK


def test_books_skipped_by_status_are_not_a_gap() -> None:
    """Walking past a row of books SLiMS skips (e.g. under repair) raises no misshelf alarm."""
    items = [
        Item(f"C{i:03d}", f"{100 + i} ABC a", location="Rak", status="Repair" if 3 <= i < 9 else "")
        for i in range(12)
    ]
    skipped = Statuses(skipped=("Repair",))
    e = Engine({it.code: it for it in items}, StockTake(), location="Rak", statuses=skipped)
    verdicts = [scan(e, it.code).verdict for it in items if not it.status]
    assert verdicts == [Verdict.OK] * 6


def test_scans_while_shelf_order_is_prepared_still_count() -> None:
    """Books scanned before a big catalogue is in shelf order still anchor the shelf run."""
    e = engine(location="Rak Umum")
    e.await_shelf_order()  # stands in for 50,000 call numbers being sorted on a Pi Zero
    early = [scan(e, c) for c in ("B0001", "B0002", "B0011")]
    assert [s.verdict for s in early] == [Verdict.OK] * 3  # no shelf order yet: no alarm
    e.undo(early[-1])  # the stray book is taken back while the order is still building
    e.set_shelf_order(shelf_order(e.catalog.values()))
    assert scan(e, "B0011").verdict is Verdict.MISSHELVED  # judged against B0002
    assert scan(e, "B0003").verdict is Verdict.OK


def test_new_run_while_shelf_order_is_prepared_starts_fresh() -> None:
    """A new shelf run's first book is never misshelved, even while shelf order is building."""
    e = engine(location="Rak Umum")
    e.await_shelf_order()
    assert scan(e, "B0011").verdict is Verdict.OK
    assert scan(e, "KIOSK:run").verdict is Verdict.COMMAND
    e.set_shelf_order(shelf_order(e.catalog.values()))
    assert scan(e, "B0001").verdict is Verdict.OK
    assert scan(e, "B0002").verdict is Verdict.OK


def test_scanning_without_misshelf_check_never_orders_the_shelf(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the misshelf check off, scans never wait for the catalogue to be put in shelf order."""

    def refuse(items: Iterable[Item]) -> dict[str, ShelfOrder]:
        raise AssertionError("shelf order built although misshelf_check is off")

    monkeypatch.setattr(ShelfOrder, "by_location", staticmethod(refuse))
    e = Engine({it.code: it for it in shelf_items()}, StockTake(misshelf_check=False))
    verdicts = [scan(e, c).verdict for c in ("B0001", "B0011", "B0002")]
    assert verdicts == [Verdict.OK] * 3
    e.undo(scan(e, "B0003"))
    assert e.decide("B0003").verdict is Verdict.OK


def test_location_barcodes_match_the_catalogue_case_insensitively() -> None:
    """KIOSK:location:FIKSI sets the catalogue's own spelling, and its books are in place."""
    e = engine()
    detail = scan(e, "KIOSK:location:fIKSI").detail
    assert detail.arg == "Fiksi" and e.location == "Fiksi"
    assert e.decide("B0100").verdict is Verdict.OK


def test_wrong_place_comparison_ignores_case() -> None:
    """A cart set to 'rak umum' (from the config) does not flag books of 'Rak Umum'."""
    e = engine(location="rak umum")
    assert e.location == "Rak Umum"
    assert e.decide("B0001").verdict is Verdict.OK


def test_unknown_location_is_refused_naming_the_closest() -> None:
    """A location that no catalogue item has is refused, with the nearest real names."""
    e = engine()
    d = e.decide("KIOSK:location:Rak Umun")
    assert d.unknown_location and d.verdict is Verdict.INVALID
    assert d.near[0] == "Rak Umum" and "Rak Umun" in d.detail.reason
    assert e.location == ""  # nothing changed: the next book is not WRONG PLACE
    assert e.decide("B0001").verdict is Verdict.OK


def test_skip_flags_learned_from_slims_decide_exclusion() -> None:
    """A status SLiMS flags skip-stock-take is excluded; an unflagged one is in the stock take."""
    items = [Item("B9001", "100 A", status="Repair"), Item("B9002", "100 B", status="No Loan")]
    cfg = StockTake(excluded_statuses=())
    learned = {"skipped": ["Repair"], "lost": ["Missing"]}
    e = Engine({it.code: it for it in items}, cfg, statuses=Statuses.resolve([], learned))
    assert e.decide("B9001").verdict is Verdict.EXCLUDED
    assert e.decide("B9002").verdict is Verdict.OK  # SLiMS 9.4/9.5: "No Loan" is in the stock take


def test_config_override_replaces_what_slims_said() -> None:
    """stocktake.excluded_statuses, when set, is the whole list of skipped statuses."""
    statuses = Statuses.resolve(["No Loan"], {"skipped": ["Repair"]})
    assert statuses.skipped == ("No Loan",)
    assert Statuses.resolve([], {"skipped": ["Repair"]}).skipped == ("Repair",)
    assert Statuses.resolve([], None).skipped == ()


def test_a_lost_book_found_again_counts_as_found_once() -> None:
    """A book SLiMS holds as Missing is FOUND AGAIN, counts as found; a rescan is a duplicate."""
    e = engine(location="Rak Umum")
    first = scan(e, "B0102")
    assert first.verdict is Verdict.FOUND_AGAIN and first.verdict.counts_as_found
    assert first.detail.status == "Missing"
    assert e.decide("B0102").verdict is Verdict.DUPLICATE


def test_lost_status_learned_from_slims_is_used_in_any_language() -> None:
    """The lost status is SLiMS's own name for it, e.g. "Hilang" on an Indonesian install."""
    items = [Item("B9003", "100 A", status="Hilang"), Item("B9004", "100 B", status="Missing")]
    statuses = Statuses.resolve([], {"skipped": ["Hilang"], "lost": ["Hilang"]})
    e = Engine({it.code: it for it in items}, StockTake(), statuses=statuses)
    assert e.decide("B9003").verdict is Verdict.FOUND_AGAIN
    assert e.decide("B9004").verdict is Verdict.OK
