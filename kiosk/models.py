"""Plain data shared by every stage: items, verdicts, scans.

Kept free of behaviour so the decoder, engine, store, feedback and uploader
can all depend on it without depending on each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """What the cart says about one scan (names as in the design notes)."""

    OK = "ok"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown"
    ON_LOAN = "on_loan"
    WRONG_LOCATION = "wrong_location"
    MISSHELVED = "misshelved"
    INVALID = "invalid"
    EXCLUDED = "excluded"
    COMMAND = "command"  # a command barcode was accepted
    ERROR = "error"  # the scan could not be handled (e.g. store full)

    @property
    def counts_as_found(self) -> bool:
        """Whether the scanned item is physically here and should reach SLiMS."""
        return self in _FOUND


_FOUND = frozenset({Verdict.OK, Verdict.ON_LOAN, Verdict.WRONG_LOCATION, Verdict.MISSHELVED})


class Command(StrEnum):
    """What a command barcode (``KIOSK:<command>[:arg]``) asks the cart to do."""

    UNDO = "undo"
    RUN = "run"  # start a new shelf run
    LOCATION = "location"  # set the location (needs an argument), and start a new run
    SYNC = "sync"
    NOLABEL = "nolabel"  # tally a book that has no barcode label
    PAUSE = "pause"
    RESUME = "resume"

    @property
    def undoable(self) -> bool:
        """Only the no-label tally counts a book; other commands cannot be taken back."""
        return self is Command.NOLABEL


class ProblemKind(StrEnum):
    """A state the cart shows until it is over (idle banner) or once (refusal)."""

    NO_SCANNER = "no_scanner"
    STORE = "store"
    LOW_DISK = "low_disk"
    SLIMS = "slims"
    PAUSED = "paused"
    UNDO = "undo"


class SyncOutcome(StrEnum):
    """Where one scan stands with SLiMS once a sync has dealt with it."""

    ACCEPTED = "accepted"  # SLiMS marked the item found for this scan
    ALREADY_SCANNED = "already_scanned"  # SLiMS had it found already
    NOT_IN_STOCKTAKE = "not_in_stocktake"
    ON_LOAN = "on_loan"
    SKIPPED_RULE = "skipped_rule"  # the item's status is skipped by SLiMS's stock take
    UPLOADED = "uploaded"  # sent in a bulk upload that SLiMS counted
    EXPORTED = "exported"  # written to the upload file; SLiMS has not seen it yet

    @property
    def confirmed(self) -> bool:
        """SLiMS holds the item as found (not merely written to a file)."""
        return self in _CONFIRMED


_CONFIRMED = frozenset({SyncOutcome.ACCEPTED, SyncOutcome.ALREADY_SCANNED, SyncOutcome.UPLOADED})


@dataclass(frozen=True, slots=True)
class Item:
    """One copy (eksemplar) from the SLiMS catalogue."""

    code: str
    call_number: str = ""
    title: str = ""
    location: str = ""
    coll_type: str = ""
    status: str = ""
    site: str = ""
    on_loan: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Item:
        return cls(**{k: d[k] for k in _ITEM_FIELDS if k in d})


_ITEM_FIELDS = tuple(Item.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Barcode:
    """A complete barcode as read from one scanner, before any judgement."""

    text: str
    scanner: str
    ts: float  # wall-clock seconds (time.time())


@dataclass(slots=True)
class Scan:
    """A stored scan: the barcode, its verdict and where it stands in the sync.

    ``sync`` is ``None`` until SLiMS (or the export file) confirms it; then a
    short outcome such as ``accepted``, ``already_scanned``, ``exported``.
    """

    seq: int
    code: str
    verdict: Verdict
    scanner: str
    ts: float
    location: str = ""
    run: int = 0
    detail: dict[str, Any] = field(default_factory=dict)
    sync: str | None = None
    voided: bool = False
    #: Clock reading at the scan (wall, mono, boot, synced): see kiosk.clock.
    stamp: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = str(self.verdict)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scan:
        return cls(
            seq=int(d["seq"]),
            code=str(d["code"]),
            verdict=Verdict(d["verdict"]),
            scanner=str(d.get("scanner", "")),
            ts=float(d["ts"]),
            location=str(d.get("location", "")),
            run=int(d.get("run", 0)),
            detail=dict(d.get("detail") or {}),
            sync=d.get("sync"),
            voided=bool(d.get("voided", False)),
            stamp=d.get("stamp"),
        )
