"""The stock-take engine: one verdict per barcode, from the offline catalogue.

It knows no hardware, HTTP or screen. ``decide`` is side-effect free so a
verdict can be computed, stored durably, and only then committed to the
engine's state with ``apply``; if storing fails, the engine has not moved.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kiosk.config import StockTake
from kiosk.engine.shelf import Misshelf, ShelfOrder, ShelfRun
from kiosk.models import Item, Scan, Verdict

log = logging.getLogger(__name__)

#: Commands a command barcode may carry after the configured prefix.
COMMANDS = ("undo", "run", "location", "sync", "nolabel", "pause", "resume")


@dataclass(frozen=True)
class Decision:
    """What the engine concluded about one barcode, before it is stored."""

    code: str
    verdict: Verdict
    item: Item | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> str | None:
        return self.detail.get("command") if self.verdict is Verdict.COMMAND else None


class Engine:
    """Decides verdicts and keeps the per-stock-take memory they need."""

    def __init__(
        self,
        catalog: Mapping[str, Item],
        cfg: StockTake,
        *,
        location: str = "",
        run: int = 1,
        found: Iterable[str] = (),
    ) -> None:
        self.catalog = catalog
        self.cfg = cfg
        self.location = location
        self.run = run
        self.paused = False
        self._found = set(found)
        self._pattern = re.compile(cfg.item_code_pattern)
        self._excluded = {s.casefold() for s in cfg.excluded_statuses}
        self._shelves: dict[str, ShelfRun] = {}
        self._orders: dict[str, ShelfOrder] | None = None
        self._preparing = False
        self._early: list[str] = []  # in order while shelf order was being prepared

    # -- deciding -------------------------------------------------------------
    def decide(self, code: str) -> Decision:
        command = self._parse_command(code)
        if command is not None:
            return command
        if not self._pattern.fullmatch(code):
            return Decision(code, Verdict.INVALID, detail={"reason": "not a plausible item code"})
        item = self.catalog.get(code)
        if code in self._found:
            return Decision(code, Verdict.DUPLICATE, item, _describe(item))
        if item is None:
            return Decision(code, Verdict.UNKNOWN)
        detail = _describe(item)
        if self._is_excluded(item):
            return Decision(code, Verdict.EXCLUDED, item, detail | {"status": item.status})
        if item.on_loan:
            return Decision(code, Verdict.ON_LOAN, item, detail)
        if self.location and item.location != self.location:
            return Decision(
                code, Verdict.WRONG_LOCATION, item, detail | {"expected_location": item.location}
            )
        shelf = self._shelf(item)
        if shelf is not None:
            misshelf = shelf.check(code)
            if misshelf is not None:
                return Decision(code, Verdict.MISSHELVED, item, detail | self._where(misshelf))
        return Decision(code, Verdict.OK, item, detail)

    def _where(self, m: Misshelf) -> dict[str, Any]:
        """Where a misshelved book belongs, by code and call number (for screen and report)."""
        out: dict[str, Any] = {"belongs_after": m.belongs_after, "belongs_before": m.belongs_before}
        for key in ("belongs_after", "belongs_before"):
            neighbour = self.catalog.get(out[key] or "")
            out[f"{key}_call"] = neighbour.call_number if neighbour else None
        if m.found_after:
            out["found_after"] = m.found_after
        return out

    def _parse_command(self, code: str) -> Decision | None:
        prefix = self.cfg.command_prefix
        if not prefix or not code.upper().startswith(prefix.upper()):
            return None
        body = code[len(prefix) :]
        name, _, arg = body.partition(":")
        name = name.strip().lower()
        if name not in COMMANDS or (name == "location" and not arg.strip()):
            return Decision(code, Verdict.INVALID, detail={"reason": f"unknown command {body!r}"})
        detail: dict[str, Any] = {"command": name}
        if arg.strip():
            detail["arg"] = arg.strip()
        return Decision(code, Verdict.COMMAND, detail=detail)

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
            elif item is not None and self.cfg.misshelf_check:
                self._early.append(scan.code)
        elif shelf is not None and scan.verdict.counts_as_found:
            # Found elsewhere: no longer a book its own shelf should expect.
            shelf.mark_seen(scan.code)
        if scan.verdict is Verdict.COMMAND:
            self._apply_command(scan.detail)

    def _apply_command(self, detail: Mapping[str, Any]) -> None:
        name = detail.get("command")
        if name in ("run", "location"):
            if name == "location":
                self.location = str(detail["arg"])
            self.run += 1
            for shelf in self._shelves.values():
                shelf.new_run()
            # Shelves built later start the new run too; found books stay in _found.
            self._early.clear()
        elif name in ("pause", "resume"):
            self.paused = name == "pause"

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

    def prepare_shelves(self, *, background: bool = False) -> threading.Thread | None:
        """Put the catalogue in shelf order, per location.

        Parsing every call number takes a while for a large catalogue (about
        0.7 s for 50,000 items here, several seconds on a Pi Zero), so the
        daemon does it in the ``background``: until it is done, scans get every
        verdict but ``misshelved``, and the run's scans so far are replayed once
        their location's shelf is built.
        """
        if background:
            self._preparing = True
            thread = threading.Thread(target=self.prepare_shelves, name="shelf-order", daemon=True)
            thread.start()
            return thread
        t0 = time.monotonic()
        try:
            self._orders = ShelfOrder.by_location(self.catalog.values())
        except Exception:
            if not self._preparing:
                raise
            # On the background thread nobody would hear of it: say so, scan on.
            log.exception("cannot put the catalogue in shelf order; misshelf alerts are off")
            self._orders = {}
            return None
        log.info(
            "shelf order ready: %d locations in %.2f s", len(self._orders), time.monotonic() - t0
        )
        return None

    def _shelf(self, item: Item) -> ShelfRun | None:
        """The shelf walk of the item's location; ``None`` while shelf order is prepared."""
        if not self.cfg.misshelf_check:
            return None
        shelf = self._shelves.get(item.location)
        if shelf is None:
            if self._orders is None:
                if self._preparing:
                    return None
                self.prepare_shelves()
            assert self._orders is not None
            order = self._orders.get(item.location) or ShelfOrder([], location=item.location)
            # Books SLiMS skips (excluded statuses) are never expected on the shelf:
            # any number of them in a row is not a gap.
            skipped = {c for c in order.codes if self._is_excluded(self.catalog[c])}
            shelf = self._shelves[item.location] = ShelfRun(
                order, seen=self._found | skipped, max_gap=self.cfg.misshelf_max_gap
            )
            for code in self._early:  # books scanned in order before it was ready
                if self.catalog[code].location == item.location:
                    shelf.accept(code)
        return shelf


def _describe(item: Item | None) -> dict[str, Any]:
    if item is None:
        return {}
    return {"call_number": item.call_number, "title": item.title, "location": item.location}
