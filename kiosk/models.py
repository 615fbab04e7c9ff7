"""Plain data shared by every stage: items, verdicts, scans.

Kept free of behaviour so the decoder, engine, store, feedback and uploader
can all depend on it without depending on each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar


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
    #: SLiMS holds the item as lost ("Missing" after an earlier count), yet it is here.
    FOUND_AGAIN = "found_again"
    COMMAND = "command"  # a command barcode was accepted
    ERROR = "error"  # the scan could not be handled (e.g. store full)

    @property
    def counts_as_found(self) -> bool:
        """Whether the scanned item is physically here and should reach SLiMS."""
        return self in _FOUND


_FOUND = frozenset(
    {Verdict.OK, Verdict.ON_LOAN, Verdict.WRONG_LOCATION, Verdict.MISSHELVED, Verdict.FOUND_AGAIN}
)


class Command(StrEnum):
    """What a command barcode (``KIOSK:<command>[:arg]``) asks the cart to do."""

    UNDO = "undo"
    RUN = "run"  # start a new shelf run
    LOCATION = "location"  # set the location (needs an argument), and start a new run
    SYNC = "sync"
    NOLABEL = "nolabel"  # tally a book that has no barcode label
    PAUSE = "pause"
    RESUME = "resume"
    WEB = "web"  # show the cart page's address (a QR code) and a login PIN on the screen

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
    CATALOG = "catalog"  # the offline catalogue is empty or too old
    LOCATION = "location"  # a location barcode names no location in the catalogue


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


class Item(NamedTuple):
    """One copy (eksemplar) from the SLiMS catalogue."""

    code: str
    call_number: str = ""
    title: str = ""
    location: str = ""
    coll_type: str = ""
    status: str = ""
    site: str = ""
    on_loan: bool = False
    #: Due date (``YYYY-MM-DD``) of the open loan, when SLiMS's loan list gave one.
    due: str = ""

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Item:
        return cls(**{k: d[k] for k in cls._fields if k in d})


def mixed_case_codes(codes: Iterable[str]) -> dict[str, str]:
    """Codes that mix capitals and small letters, by their casefolded form.

    SLiMS finds an item whatever the case of the code it is given; a code in
    one case only is found again by trying the scanned code in capitals and
    in small letters, these few need this map.
    """
    return {c.casefold(): c for c in codes if c.upper() != c != c.lower()}


class Barcode(NamedTuple):
    """A complete barcode as read from one scanner, before any judgement."""

    text: str
    scanner: str
    ts: float  # wall-clock seconds (time.time())


class Neighbours(NamedTuple):
    """Where a misshelved book belongs: the books it should stand between."""

    after: str | None = None  # item code of the book it belongs after
    before: str | None = None
    after_call: str | None = None  # their call numbers, for the screen and the report
    before_call: str | None = None
    found_after: str | None = None  # the book it was actually found after


class ScanDetail(NamedTuple):
    """What the engine knew about a scan beyond its verdict, for screen, report and log.

    Stored inside each scan as a flat JSON object (the keys of :meth:`to_dict`),
    so only fields that say something are written.
    """

    call_number: str = ""
    title: str = ""
    location: str = ""  # the item's own location in the catalogue
    status: str = ""  # excluded: the item status SLiMS skips
    expected_location: str = ""  # wrong_location: where the book belongs
    reason: str = ""  # invalid: why the code was refused
    command: Command | None = None
    arg: str = ""  # the command's argument (a location name)
    belongs: Neighbours | None = None  # misshelved

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("call_number", "title", "location"):
            if value := getattr(self, key):
                out[key] = value
        if self.status:
            out["status"] = self.status
        if self.expected_location:
            out["expected_location"] = self.expected_location
        if self.reason:
            out["reason"] = self.reason
        if self.command is not None:
            out["command"] = str(self.command)
        if self.arg:
            out["arg"] = self.arg
        if (b := self.belongs) is not None:
            out |= {
                "belongs_after": b.after,
                "belongs_before": b.before,
                "belongs_after_call": b.after_call,
                "belongs_before_call": b.before_call,
            }
            if b.found_after:
                out["found_after"] = b.found_after
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScanDetail:
        """Read a stored detail; keys this version does not know are ignored."""
        if d.keys() <= _TEXT_FIELDS and all(type(v) is str for v in d.values()):
            return cls(**d)  # an item scan's few texts: a sync reads thousands
        command = d.get("command")
        belongs = None
        if "belongs_after" in d or "belongs_before" in d:
            belongs = Neighbours(
                after=d.get("belongs_after"),
                before=d.get("belongs_before"),
                after_call=d.get("belongs_after_call"),
                before_call=d.get("belongs_before_call"),
                found_after=d.get("found_after"),
            )
        return cls(
            call_number=str(d.get("call_number") or ""),
            title=str(d.get("title") or ""),
            location=str(d.get("location") or ""),
            status=str(d.get("status") or ""),
            expected_location=str(d.get("expected_location") or ""),
            reason=str(d.get("reason") or ""),
            command=Command(command) if command in _COMMAND_VALUES else None,
            arg=str(d.get("arg") or ""),
            belongs=belongs,
        )


_COMMAND_VALUES = frozenset(str(c) for c in Command)
_TEXT_FIELDS = frozenset(
    ("call_number", "title", "location", "status", "expected_location", "reason", "arg")
)
#: Shared by every scan stored without detail (it cannot be changed).
_NO_DETAIL = ScanDetail()
#: Enum members by stored value (see :func:`_member`).
_VERDICTS = {str(v): v for v in Verdict}
_OUTCOMES = {str(o): o for o in SyncOutcome}
_E = TypeVar("_E", bound=StrEnum)


def _member(members: Mapping[str, _E], enum: type[_E], value: Any) -> _E:
    """``enum(value)``, found by a dict lookup: the enum's own call costs a microsecond."""
    member = members.get(value) if isinstance(value, str) else None
    return member if member is not None else enum(value)


class Scan(NamedTuple):
    """A stored scan: the barcode, its verdict and where it stands in the sync.

    ``sync`` is ``None`` until SLiMS (or the export file) has dealt with it.
    """

    seq: int
    code: str
    verdict: Verdict
    scanner: str
    ts: float
    location: str = ""
    run: int = 0
    detail: ScanDetail = ScanDetail()
    sync: SyncOutcome | None = None
    voided: bool = False
    #: Clock reading at the scan (wall, mono, boot, synced): see kiosk.clock.
    stamp: dict[str, Any] | None = None
    #: The cart's session (stock take) the scan was made in: see Store.start_session.
    session: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "code": self.code,
            "verdict": str(self.verdict),
            "scanner": self.scanner,
            "ts": self.ts,
            "location": self.location,
            "run": self.run,
            "detail": self.detail.to_dict(),
            "sync": self.sync,
            "voided": self.voided,
            "stamp": self.stamp,
            "session": self.session,
        }

    @property
    def command(self) -> Command | None:
        """The command a command barcode carried (``None`` for item scans)."""
        return self.detail.command if self.verdict is Verdict.COMMAND else None

    @property
    def undoable(self) -> bool:
        """Item scans and the no-label tally can be taken back; other commands cannot."""
        return self.command is None or self.command.undoable

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scan:
        verdict, detail, sync = d["verdict"], d.get("detail"), d.get("sync")
        return cls(
            seq=int(d["seq"]),
            code=str(d["code"]),
            verdict=_member(_VERDICTS, Verdict, verdict),
            scanner=str(d.get("scanner", "")),
            ts=float(d["ts"]),
            location=str(d.get("location", "")),
            run=int(d.get("run", 0)),
            detail=ScanDetail.from_dict(detail) if detail else _NO_DETAIL,
            sync=None if sync is None else _member(_OUTCOMES, SyncOutcome, sync),
            voided=bool(d.get("voided", False)),
            stamp=d.get("stamp"),
            session=int(d.get("session") or 0),
        )
