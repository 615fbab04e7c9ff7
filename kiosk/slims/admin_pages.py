"""Read the admin pages that say what a stock take covers: its identity and the status rules.

Pure functions from a page's text to values, like :mod:`kiosk.slims.pages`.
Two pages: the current stock take's report (``st_report.php``: its name and
start time, which tell one stock take from the next) and the item status
master file (``item_status.php``: which statuses carry SLiMS's "Skipped By
Stock Take" rule, which :file:`init.php` uses to leave their items out). Words
pass through SLiMS's translator, so rows are read by position and shape, not
by their labels.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass

from kiosk.slims.pages import strip_tags

__all__ = [
    "ITEM_STATUS",
    "LOST_STATUS_CODE",
    "SKIP_STOCK_TAKE",
    "ST_HISTORY",
    "ST_REPORT",
    "ST_REPORT_QUERY",
    "ItemStatus",
    "StockTakeIdentity",
    "running_stocktake",
    "status_codes",
    "status_rules",
    "stocktake_identity",
]

ST_REPORT = "admin/modules/stock_take/st_report.php"
#: The stock-take history list: name, start and end of each, newest first. About 10 ms,
#: where the report counts the whole stock take (0.5 s at 20,000 items on 9.7.0).
ST_HISTORY = "admin/modules/stock_take/index.php"
ITEM_STATUS = "admin/modules/master_file/item_status.php"
#: Both pages build a form from ``$_SERVER['QUERY_STRING']``; without a query PHP's
#: built-in server leaves it unset and 9.7.0 answers HTTP 500, so a query always goes along
#: (the one SLiMS's admin menu carries for the stock-take module; the page ignores it).
ST_REPORT_QUERY = {"mod": "stock_take"}
#: The rule value of "Skipped By Stock Take" in the status form (SLiMS's SKIP_STOCK_TAKE).
SKIP_STOCK_TAKE = "2"
#: The status SLiMS's stock-take completion gives every item still missing.
LOST_STATUS_CODE = "MIS"
#: How far SLiMS's clock (its local time) and the cart's may disagree.
CLOCK_SLACK_S = 86_400.0

_TABLE = re.compile(r'<table[^>]*id="dataList"[^>]*>(?P<body>.*?)</table>', re.S | re.I)
_ROW = re.compile(r"<tr\b(?P<attrs>[^>]*)>(?P<body>.*?)</tr>", re.S | re.I)
_CELL = re.compile(r"<td\b[^>]*>(.*?)</td>", re.S | re.I)
_WHEN = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b")
_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_ATTR = re.compile(r'(\w[\w\[\]-]*)\s*=\s*"([^"]*)"')


@dataclass(frozen=True)
class StockTakeIdentity:
    """What tells one SLiMS stock take from another: its name and start time."""

    name: str
    started: str = ""  # as SLiMS shows it, "YYYY-MM-DD HH:MM:SS" (the server's local time)

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "started": self.started}

    def predates(self, ts: float) -> bool:
        """A scan made at ``ts`` (cart clock) was made before this stock take began.

        SLiMS's start time is its server's local time and the cart's clock may
        be in another zone, so only a scan more than a day older counts: scans
        from an earlier count are months older.
        """
        try:
            began = time.mktime(time.strptime(self.started, "%Y-%m-%d %H:%M:%S"))
        except (ValueError, OverflowError):
            return False
        return ts < began - CLOCK_SLACK_S

    def same_as(self, other: StockTakeIdentity) -> bool:
        """The same stock take; a start time either side could not read compares by name."""
        if self.name.strip() != other.name.strip():
            return False
        return not (self.started and other.started) or self.started == other.started

    def __str__(self) -> str:
        return f"{self.name!r}" + (f" (started {self.started})" if self.started else "")


@dataclass(frozen=True)
class ItemStatus:
    """One row of SLiMS's item status table."""

    code: str
    name: str
    skip: bool  # "Skipped By Stock Take"


def _rows(body: str) -> list[list[str]]:
    """The cells of a ``dataList`` table's data rows, as words (empty cells dropped)."""
    m = _TABLE.search(body)
    if not m:
        return []
    out = []
    for row in _ROW.finditer(m.group("body")):
        if "dataListHeader" in row.group("attrs"):
            continue
        cells = [strip_tags(c) for c in _CELL.findall(row.group("body"))]
        if kept := [c for c in cells if c]:
            out.append(kept)
    return out


def stocktake_identity(body: str) -> StockTakeIdentity | None:
    """Name and start time from ``st_report.php``; None if the page has no report table.

    The report is rows of "label : value": the name is the first row's value,
    the start time the first value shaped like a date and time (the end time
    of an active stock take is empty).
    """
    rows = [r for r in _rows(body) if len(r) >= 2]
    if not rows:
        return None
    name = rows[0][-1] if rows[0][-1] != ":" else ""
    started = next((w.group(0) for r in rows[1:] if (w := _WHEN.search(r[-1]))), "")
    return StockTakeIdentity(name=html.unescape(name), started=started)


def running_stocktake(body: str) -> StockTakeIdentity | None:
    """The running stock take from the history list: its newest row, if it has no end.

    Raises ValueError when the page holds no history table. The columns are
    read by position (view, name, start, end, report), the same in every release.
    """
    m = _TABLE.search(body)
    rows = [] if m is None else list(_ROW.finditer(m.group("body")))
    if not rows or "dataListHeader" not in rows[0].group("attrs"):
        raise ValueError("no stock-take history table")
    for row in rows[1:2]:  # newest first: only one stock take runs, and it is the newest
        cells = [strip_tags(c).strip() for c in _CELL.findall(row.group("body"))]
        if len(cells) < 4 or not _WHEN.fullmatch(cells[2]):
            raise ValueError(f"unexpected stock-take history row: {cells!r}")
        if not cells[3]:
            return StockTakeIdentity(name=html.unescape(cells[1]), started=cells[2])
    return None


def status_codes(body: str) -> list[str]:
    """Status codes from the item status list (the first word of each row)."""
    return [r[0] for r in _rows(body)]


def status_rules(body: str) -> ItemStatus | None:
    """Code, name and skip rule from one status's edit form; None if it is not that form."""
    fields: dict[str, str] = {}
    rules: dict[str, bool] = {}
    for tag in _INPUT.findall(body):
        attrs = dict(_ATTR.findall(tag))
        name = attrs.get("name", "")
        if name == "rules[]":
            rules[attrs.get("value", "")] = re.search(r"\schecked\b", tag) is not None
        elif name in ("itemStatusID", "itemStatus"):
            fields[name] = html.unescape(attrs.get("value", ""))
    if "itemStatusID" not in fields or SKIP_STOCK_TAKE not in rules:
        return None
    return ItemStatus(
        code=fields["itemStatusID"].strip(),
        name=fields.get("itemStatus", "").strip(),
        skip=rules[SKIP_STOCK_TAKE],
    )
