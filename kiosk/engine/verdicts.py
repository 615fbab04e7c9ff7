"""The stock-take engine: one verdict per barcode, from the offline catalogue.

It knows no hardware, HTTP or screen. ``decide`` is side-effect free so a
verdict can be computed, stored durably, and only then committed to the
engine's state with ``apply``; if storing fails, the engine has not moved.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from kiosk.engine.shelf import Misshelf, ShelfOrder, ShelfRun
from kiosk.models import Command, Item, Neighbours, Scan, ScanDetail, Verdict, mixed_case_codes

log = logging.getLogger(__name__)


class Rules(Protocol):
    """The stock-take rules the engine applies (``[stocktake]`` in the config)."""

    @property
    def item_code_pattern(self) -> str: ...
    @property
    def command_prefix(self) -> str: ...
    @property
    def excluded_statuses(self) -> Sequence[str]: ...
    @property
    def misshelf_check(self) -> bool: ...
    @property
    def misshelf_max_gap(self) -> int: ...


#: The status SLiMS gives every item still missing when a stock take is finished
#: (``MIS``, named "Missing" by its installers): the fallback when a pull could not ask.
DEFAULT_LOST = ("Missing",)


class Statuses(NamedTuple):
    """Item statuses by what the stock take does with them, as SLiMS says.

    ``skipped``: statuses carrying SLiMS's skip-stock-take flag (SLiMS leaves
    their items out of the stock take); ``lost``: the statuses SLiMS gives
    items lost in an earlier count. Learned by ``kiosk catalog pull`` from
    SLiMS's own item status table, so the cart skips exactly what SLiMS skips.
    """

    skipped: tuple[str, ...] = ()
    lost: tuple[str, ...] = DEFAULT_LOST

    @property
    def not_expected(self) -> tuple[str, ...]:
        """Statuses whose items nobody expects on the shelf: skipped, or lost in an earlier count.

        What a report must never call missing (SLiMS's own lost list has them).
        """
        return tuple(dict.fromkeys((*self.skipped, *self.lost)))

    @classmethod
    def resolve(cls, override: Sequence[str], learned: Mapping[str, Any] | None) -> Statuses:
        """The config override (``stocktake.excluded_statuses``) when set, else what SLiMS said."""
        learned = learned or {}
        lost = tuple(str(s) for s in learned.get("lost") or DEFAULT_LOST)
        skipped = override if override else learned.get("skipped") or ()
        return cls(skipped=tuple(str(s) for s in skipped), lost=lost)


class Decision(NamedTuple):
    """What the engine concluded about one barcode, before it is stored."""

    code: str
    verdict: Verdict
    item: Item | None = None
    detail: ScanDetail = ScanDetail()
    #: A refused location barcode: the catalogue's locations closest to what it named.
    near: tuple[str, ...] = ()

    @property
    def command(self) -> Command | None:
        return self.detail.command if self.verdict is Verdict.COMMAND else None

    @property
    def unknown_location(self) -> bool:
        """A location barcode naming no location of the catalogue (refused, not stored)."""
        return self.verdict is Verdict.INVALID and self.detail.command is Command.LOCATION


class Engine:
    """Decides verdicts and keeps the per-stock-take memory they need.

    Shelf order (every call number parsed and sorted, per location) is built
    by whoever wires the cart and handed over with :meth:`set_shelf_order`;
    until then scans get every verdict but ``misshelved``, and the books
    accepted meanwhile are replayed into their shelf once it is known. An
    engine nobody promised an order to (:meth:`await_shelf_order`) builds it
    itself on first need.
    """

    def __init__(
        self,
        catalog: Mapping[str, Item],
        rules: Rules,
        *,
        location: str = "",
        found: Iterable[str] = (),
        statuses: Statuses | None = None,
        locations: Iterable[str] | None = None,
    ) -> None:
        self.catalog = catalog
        self.rules = rules
        if statuses is None:
            statuses = Statuses(skipped=tuple(rules.excluded_statuses))
        #: The catalogue's locations by their casefolded name, in SLiMS's spelling.
        self.locations: dict[str, str] = {}
        if locations is None:  # read from the items, unless the caller knows them already
            locations = (item.location for item in catalog.values())
        for name in locations:
            if name:
                self.locations.setdefault(name.casefold(), name)
        self.location = self.locations.get(location.casefold(), location)
        self.paused = False
        self._found = set(found)
        self._pattern = re.compile(rules.item_code_pattern)
        self._excluded = {s.casefold() for s in statuses.skipped}
        self._lost = {s.casefold() for s in statuses.lost}
        self._shelves: dict[str, ShelfRun] = {}
        self._orders: Mapping[str, ShelfOrder] | None = None
        self._awaiting = False
        self._early: list[str] = []  # in order while shelf order was being prepared
        #: Catalogue codes that mix upper and lower case, by casefolded code (made on need).
        self._mixed: dict[str, str] | None = None

    # -- deciding -------------------------------------------------------------
    def decide(self, code: str) -> Decision:
        command = self._parse_command(code)
        if command is not None:
            return command
        item = self.catalog.get(code) or self._in_any_case(code)
        if item is not None:
            code = item.code  # SLiMS's spelling: "b00105" and "B00105" are one book
        # SLiMS's own codes are plausible by definition: real catalogues hold "P2019/001"
        # and "B 00211", which the pattern (made to catch misreads) would refuse.
        if item is None and not self._pattern.fullmatch(code):
            return Decision(
                code, Verdict.INVALID, detail=ScanDetail(reason="not a plausible item code")
            )
        if code in self._found:
            return Decision(code, Verdict.DUPLICATE, item, _describe(item))
        if item is None:
            return Decision(code, Verdict.UNKNOWN)
        detail = _describe(item)
        if item.status.casefold() in self._lost:
            # Before the skip rule: SLiMS skips its lost items too, yet this one is here.
            return Decision(code, Verdict.FOUND_AGAIN, item, detail._replace(status=item.status))
        if self._is_excluded(item):
            return Decision(code, Verdict.EXCLUDED, item, detail._replace(status=item.status))
        if item.on_loan:
            return Decision(code, Verdict.ON_LOAN, item, detail)
        if self.location and item.location.casefold() != self.location.casefold():
            return Decision(
                code, Verdict.WRONG_LOCATION, item, detail._replace(expected_location=item.location)
            )
        shelf = self._shelf(item)
        if shelf is not None:
            misshelf = shelf.check(code)
            if misshelf is not None:
                where = detail._replace(belongs=self._where(misshelf))
                return Decision(code, Verdict.MISSHELVED, item, where)
        return Decision(code, Verdict.OK, item, detail)

    def _in_any_case(self, code: str) -> Item | None:
        """The item SLiMS finds for ``code``: it compares item codes ignoring case.

        Code 39 labels, the usual kind, read back in capitals whatever case
        SLiMS stores; some scanners force one case. An all-capital or
        all-small code in SLiMS is tried directly; codes that mix both are
        looked up in a map of them (see :func:`~kiosk.models.mixed_case_codes`).
        """
        for variant in (code.upper(), code.lower()):
            if variant != code and (item := self.catalog.get(variant)) is not None:
                return item
        if self._mixed is None:  # made at pull time with the catalogue index, if there is one
            made = getattr(self.catalog, "mixed_case_codes", None)
            self._mixed = made() if made is not None else mixed_case_codes(self.catalog)
        real = self._mixed.get(code.casefold())
        return self.catalog.get(real) if real is not None else None

    def _where(self, m: Misshelf) -> Neighbours:
        """Where a misshelved book belongs, by code and call number (for screen and report)."""
        after = self.catalog.get(m.belongs_after or "")
        before = self.catalog.get(m.belongs_before or "")
        return Neighbours(
            after=m.belongs_after,
            before=m.belongs_before,
            after_call=after.call_number if after else None,
            before_call=before.call_number if before else None,
            found_after=m.found_after or None,
        )

    def _parse_command(self, code: str) -> Decision | None:
        prefix = self.rules.command_prefix
        if not prefix or not code.upper().startswith(prefix.upper()):
            return None
        body = code[len(prefix) :]
        name, _, arg = body.partition(":")
        try:
            command = Command(name.strip().lower())
        except ValueError:
            command = None
        if command is None or (command is Command.LOCATION and not arg.strip()):
            reason = f"unknown command {body!r}"
            return Decision(code, Verdict.INVALID, detail=ScanDetail(reason=reason))
        arg = arg.strip()
        if command is Command.LOCATION and self.locations:
            known = self.locations.get(arg.casefold())
            if known is None:
                near = self.closest_locations(arg)
                reason = f"no location {arg!r} in the catalogue" + (
                    f"; closest: {', '.join(near)}" if near else ""
                )
                detail = ScanDetail(command=command, arg=arg, reason=reason)
                return Decision(code, Verdict.INVALID, detail=detail, near=near)
            arg = known
        return Decision(code, Verdict.COMMAND, detail=ScanDetail(command=command, arg=arg))

    def closest_locations(self, name: str, n: int = 2) -> tuple[str, ...]:
        """The catalogue's locations that look most like ``name`` (a typo, a short form)."""
        import difflib  # noqa: PLC0415 (only for a refused location barcode)

        keys = difflib.get_close_matches(name.casefold(), self.locations, n=n, cutoff=0.5)
        if not keys:  # nothing alike: at least say what exists
            keys = sorted(self.locations)[:n]
        return tuple(self.locations[k] for k in keys)

    # -- remembering ------------------------------------------------------------
    def apply(self, scan: Scan) -> None:
        """Commit a stored scan to the engine's memory."""
        if scan.verdict.counts_as_found:
            self._found.add(scan.code)
        item = self.catalog.get(scan.code)
        shelf = self._shelf(item) if item is not None else None
        if scan.verdict in (Verdict.OK, Verdict.MISSHELVED):
            if shelf is not None:
                shelf.accept(scan.code)
            elif item is not None and self.rules.misshelf_check:
                self._early.append(scan.code)
        elif shelf is not None and scan.verdict.counts_as_found:
            # Found elsewhere: no longer a book its own shelf should expect.
            shelf.mark_seen(scan.code)
        if scan.command is not None:
            self._apply_command(scan.command, scan.detail.arg)

    def _apply_command(self, command: Command, arg: str) -> None:
        if command in (Command.RUN, Command.LOCATION):
            if command is Command.LOCATION:
                self.location = arg
            for shelf in self._shelves.values():
                shelf.new_run()
            # Shelves built later start the new run too; found books stay in _found.
            self._early.clear()
        elif command in (Command.PAUSE, Command.RESUME):
            self.paused = command is Command.PAUSE

    def new_session(self) -> None:
        """A new stock take began: nothing is found yet, every shelf is walked afresh."""
        self._found.clear()
        self._shelves.clear()
        self._early.clear()

    def undo(self, scan: Scan) -> None:
        """Forget a scan that the librarian took back."""
        if scan.verdict.counts_as_found:
            self._found.discard(scan.code)
        item = self.catalog.get(scan.code)
        shelf = self._shelf(item) if item is not None else None
        if scan.verdict in (Verdict.OK, Verdict.MISSHELVED):
            if shelf is not None:
                shelf.undo(scan.code)
            elif scan.code in self._early:
                self._early.remove(scan.code)

    def _is_excluded(self, item: Item) -> bool:
        return item.status.casefold() in self._excluded

    def await_shelf_order(self) -> None:
        """Someone is building the shelf order: scan on without it until it is handed over."""
        self._awaiting = True

    def set_shelf_order(self, orders: Mapping[str, ShelfOrder]) -> None:
        """Take the catalogue's shelf order, per location (see :func:`shelf_order`)."""
        self._orders = orders
        self._awaiting = False

    def prepare(self) -> None:
        """Set up the current location's shelf walk now, not at its first scan."""
        if self.location in self.locations.values():
            self._shelf_at(self.location)

    def _shelf(self, item: Item) -> ShelfRun | None:
        """The shelf walk of the item's location; ``None`` while shelf order is prepared."""
        return self._shelf_at(item.location)

    def _shelf_at(self, location: str) -> ShelfRun | None:
        if not self.rules.misshelf_check:
            return None
        shelf = self._shelves.get(location)
        if shelf is None:
            if self._orders is None:
                if self._awaiting:
                    return None
                self._orders = shelf_order(self.catalog.values())
            order = self._orders.get(location) or ShelfOrder([], location=location)
            # Books SLiMS skips (excluded statuses) or holds as lost are never expected
            # on the shelf: any number of them in a row is not a gap.
            never = self._excluded | self._lost
            skipped = {
                order.codes[i] for i, s in enumerate(order.statuses) if s.casefold() in never
            }
            shelf = self._shelves[location] = ShelfRun(
                order, seen=self._found | skipped, max_gap=self.rules.misshelf_max_gap
            )
            for code in self._early:  # books scanned in order before it was ready
                if self.catalog[code].location == location:
                    shelf.accept(code)
        return shelf


_IMPLAUSIBLE = ScanDetail(reason="not a plausible item code")


def shelf_order(items: Iterable[Item]) -> dict[str, ShelfOrder]:
    """Every location's books in call-number order.

    Parsing every call number takes a while for a large catalogue (about 0.7 s
    for 50,000 items here, several seconds on a Pi Zero): the store does it
    once per pull or import and keeps the result (``catalog.idx``); the
    daemon hands that to :meth:`Engine.set_shelf_order`, and runs this, off
    its scan loop, only for a catalogue that has none.
    """
    return ShelfOrder.by_location(items)


def _describe(item: Item | None) -> ScanDetail:
    if item is None:
        return ScanDetail()
    return ScanDetail(call_number=item.call_number, title=item.title, location=item.location)
