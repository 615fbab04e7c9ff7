"""The report's contract: typed rows the analysis fills and the renderers only format.

Every row knows its JSON shape (``to_dict``), so ``kiosk report --format json``
keeps the keys and key order people and scripts already read, while the code
on both sides works with named fields instead of string-keyed dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Literal

from kiosk.models import Item, SyncOutcome


class Category(StrEnum):
    """Where one catalogue item stands at the end of the day (chart colours, tallies)."""

    FOUND = "found"
    MISSING = "missing"
    ON_LOAN = "on_loan"
    EXCLUDED = "excluded"
    NOT_COVERED = "not_covered"


#: Item categories of the charts and per-group tallies, in stacking order.
CATEGORIES: Final = tuple(Category)

#: A found item that no sync has dealt with yet.
PENDING: Final = "pending"
#: Where a found item stands with SLiMS: an outcome, or not synced yet.
SyncState = SyncOutcome | Literal["pending"]


#: What SLiMS answered for items it did not count: each needs a look in SLiMS.
SYNC_REFUSED: Final = frozenset(
    {SyncOutcome.NOT_IN_STOCKTAKE, SyncOutcome.ON_LOAN, SyncOutcome.SKIPPED_RULE}
)


def is_confirmed(state: SyncState) -> bool:
    """SLiMS holds the item as found (``exported`` is only in a file SLiMS has not seen)."""
    return isinstance(state, SyncOutcome) and state.confirmed


@dataclass(frozen=True, slots=True)
class MisshelvedRow:
    """A book out of call-number order, with the neighbours it belongs between."""

    code: str
    call_number: str
    location: str  # where it was scanned
    belongs_after: str | None
    belongs_after_call: str | None
    belongs_before: str | None
    belongs_before_call: str | None
    found_after: str | None = None  # the book it actually stood after

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "call_number": self.call_number,
            "location": self.location,
            "belongs_after": self.belongs_after,
            "belongs_after_call": self.belongs_after_call,
            "belongs_before": self.belongs_before,
            "belongs_before_call": self.belongs_before_call,
        }
        if self.found_after:
            out["found_after"] = self.found_after
        return out


@dataclass(frozen=True, slots=True)
class WrongLocationRow:
    """A book scanned in another location than the catalogue's."""

    code: str
    call_number: str
    belongs_in: str  # the catalogue location
    found_in: str  # the location of the scan

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "call_number": self.call_number,
            "belongs_in": self.belongs_in,
            "found_in": self.found_in,
        }


@dataclass(frozen=True, slots=True)
class UnknownRow:
    """A barcode the catalogue does not hold."""

    code: str
    found_in: str  # location of its first scan
    times: int

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "found_in": self.found_in, "times": self.times}


@dataclass(frozen=True, slots=True)
class LoanRow:
    """A book on loan in SLiMS and not on the shelf, with its due date when known."""

    code: str
    call_number: str
    due: str  # YYYY-MM-DD, or "" when the catalogue pull could not read it
    #: Days past the due date on the report's day (0 when due today or later; None unknown).
    overdue_days: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "call_number": self.call_number,
            "due": self.due,
            "overdue_days": self.overdue_days,
        }


@dataclass(frozen=True, slots=True)
class SpanRow:
    """The call-number span one shelf run walked in one location."""

    location: str
    run: int
    first_code: str
    first_call: str
    last_code: str
    last_call: str
    books: int  # books that stood in order inside it

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "run": self.run,
            "first_code": self.first_code,
            "first_call": self.first_call,
            "last_code": self.last_code,
            "last_call": self.last_call,
            "books": self.books,
        }


@dataclass(frozen=True, slots=True)
class GapRow:
    """A stretch of shelf not covered yet: still to walk."""

    location: str
    first_code: str
    first_call: str
    last_code: str
    last_call: str
    items: int

    def to_dict(self) -> dict[str, Any]:
        return {  # key order as the report has always written it
            "location": self.location,
            "first_code": self.first_code,
            "first_call": self.first_call,
            "items": self.items,
            "last_code": self.last_code,
            "last_call": self.last_call,
        }


@dataclass(frozen=True, slots=True)
class FixRow:
    """A call number to correct in SLiMS."""

    code: str
    call_number: str
    location: str
    title: str
    problems: tuple[str, ...]
    unplaced: bool  # cannot be placed on a shelf at all

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "call_number": self.call_number,
            "location": self.location,
            "title": self.title,
            "problems": list(self.problems),
            "unplaced": self.unplaced,
        }


@dataclass(frozen=True, slots=True)
class SyncRow:
    """What SLiMS said about one found item."""

    code: str
    call_number: str
    outcome: SyncState

    @property
    def confirmed(self) -> bool:
        return is_confirmed(self.outcome)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "call_number": self.call_number, "outcome": str(self.outcome)}


@dataclass(frozen=True, slots=True)
class DamageRow:
    """Damage the scan store found and could not repair: scans may be missing from the report."""

    what: str  # which file and what was wrong with it, as the store describes it
    lost: int | None  # records lost; None when the count cannot be known
    kept: str = ""  # the damaged file kept beside the store, for ``kiosk store recover``

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "lost": self.lost, "kept": self.kept}


@dataclass(slots=True)
class GroupTally:
    """Counts of one location or DDC class."""

    catalog: int = 0
    covered: int = 0
    counts: dict[Category, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))

    @property
    def share_covered(self) -> float:
        return self.covered / self.catalog if self.catalog else 0.0

    def to_dict(self) -> dict[str, int]:
        return {
            "catalog": self.catalog,
            "covered": self.covered,
            **{str(k): v for k, v in self.counts.items()},
        }


@dataclass
class Report:
    """Every list is of item codes unless said otherwise; lists of catalogue items
    are in shelf (call-number) order."""

    stocktake: str
    generated: float
    catalog_size: int
    scans: int = 0
    #: Every catalogue item scanned as present, wherever it stood.
    found: list[str] = field(default_factory=list)
    #: Not scanned, not on loan, inside a walked call-number span of its location.
    missing: list[str] = field(default_factory=list)
    #: On loan in SLiMS and not scanned.
    on_loan: list[str] = field(default_factory=list)
    #: The rows of ``on_loan``, with due date and days overdue.
    on_loan_detail: list[LoanRow] = field(default_factory=list)
    #: On loan in SLiMS, yet scanned on the shelf (fix the loan in SLiMS).
    on_loan_on_shelf: list[str] = field(default_factory=list)
    #: Items SLiMS holds as lost that were scanned on the shelf: change their status in
    #: SLiMS. Filled by the analysis from the FOUND_AGAIN verdict; the to-do list of every
    #: renderer already has its place.
    found_again: list[str] = field(default_factory=list)
    misshelved: list[MisshelvedRow] = field(default_factory=list)
    wrong_location: list[str] = field(default_factory=list)
    wrong_location_detail: list[WrongLocationRow] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    unknown_detail: list[UnknownRow] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    #: Item code → times scanned, for the codes in ``duplicates``.
    duplicate_counts: dict[str, int] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    #: Scanned items whose status the stock take skips (not sent to SLiMS).
    excluded: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    #: Stretches still to walk.
    to_walk: list[GapRow] = field(default_factory=list)
    #: Location → items counted with the no-label command.
    no_label: dict[str, int] = field(default_factory=dict)
    #: Share of the catalogue found or inside a walked span.
    coverage: float = 0.0
    covered: int = 0
    ranges: list[SpanRow] = field(default_factory=list)
    #: Sync state → item codes, in the order of the sync table.
    sync: dict[SyncState, list[str]] = field(default_factory=dict)
    sync_items: list[SyncRow] = field(default_factory=list)
    call_numbers_to_fix: list[FixRow] = field(default_factory=list)
    #: Location (or DDC group) → its tallies.
    by_location: dict[str, GroupTally] = field(default_factory=dict)
    by_class: dict[str, GroupTally] = field(default_factory=dict)
    #: Damage to the scan store: scans lost to it are in none of the lists above.
    store_damage: list[DamageRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: plain lists and dicts, keys in the documented order."""
        return {
            "stocktake": self.stocktake,
            "generated": self.generated,
            "catalog_size": self.catalog_size,
            "scans": self.scans,
            "found": list(self.found),
            "missing": list(self.missing),
            "on_loan": list(self.on_loan),
            "on_loan_on_shelf": list(self.on_loan_on_shelf),
            "misshelved": [r.to_dict() for r in self.misshelved],
            "wrong_location": list(self.wrong_location),
            "wrong_location_detail": [r.to_dict() for r in self.wrong_location_detail],
            "unknown": list(self.unknown),
            "unknown_detail": [r.to_dict() for r in self.unknown_detail],
            "duplicates": list(self.duplicates),
            "duplicate_counts": dict(self.duplicate_counts),
            "invalid": list(self.invalid),
            "excluded": list(self.excluded),
            "not_covered": list(self.not_covered),
            "to_walk": [r.to_dict() for r in self.to_walk],
            "no_label": dict(self.no_label),
            "coverage": self.coverage,
            "covered": self.covered,
            "ranges": [r.to_dict() for r in self.ranges],
            "sync": {str(k): list(v) for k, v in self.sync.items()},
            "sync_items": [r.to_dict() for r in self.sync_items],
            "call_numbers_to_fix": [r.to_dict() for r in self.call_numbers_to_fix],
            "by_location": {k: v.to_dict() for k, v in self.by_location.items()},
            "by_class": {k: v.to_dict() for k, v in self.by_class.items()},
            "on_loan_detail": [r.to_dict() for r in self.on_loan_detail],
            "found_again": list(self.found_again),
            "store_damage": [r.to_dict() for r in self.store_damage],
        }

    @property
    def sync_refused(self) -> list[SyncRow]:
        """Found items SLiMS did not take (not in its stock take, on loan, status rule)."""
        return [r for r in self.sync_items if r.outcome in SYNC_REFUSED]

    @property
    def records_lost(self) -> int | None:
        """Store records lost to damage in all; None if any loss is of unknown size."""
        if any(r.lost is None for r in self.store_damage):
            return None
        return sum(r.lost or 0 for r in self.store_damage)

    def todo_size(self) -> int:
        """Lines of the to-do list: every book that needs a second look or a fix."""
        return sum(
            len(x)
            for x in (
                self.missing,
                self.misshelved,
                self.wrong_location_detail,
                self.on_loan_on_shelf,
                self.unknown_detail,
                self.found_again,
                self.sync_refused,
            )
        )


def item_of(catalog: Mapping[str, Item], code: str) -> Item:
    """The catalogue item, or a blank one for a code the catalogue does not hold."""
    return catalog.get(code) or Item(code)
