"""``kiosk demo``: a whole stock-take day on simulated hardware.

Loads the bundled sample catalogue (as SLiMS exports it), walks a shelf with
planted mistakes through the real daemon (simulated scanner, buzzer, LEDs and
OLED), writes the SLiMS upload file and the report. Nothing here is faked
beyond the hardware: the same code paths run on the cart.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

from kiosk import report
from kiosk.app import build_cart
from kiosk.cli.texts import say
from kiosk.config import Config
from kiosk.engine import Statuses
from kiosk.engine.callnumber import sort_key
from kiosk.feedback.panel import narration
from kiosk.models import Item
from kiosk.scanner.stdin import StdinSource
from kiosk.slims.export import read_export_file
from kiosk.slims.uploader import export_file
from kiosk.store import Store

log = logging.getLogger(__name__)

LOCATION = "Rak Umum"
#: Seconds between scans: a brisk librarian, slow enough for the screen to show each one.
PACE_S = 0.05
#: What a pull from a SLiMS 9.6 install learns about the sample's statuses.
SAMPLE_STATUSES = {"skipped": ["Repair", "No Loan", "Missing"], "lost": ["Missing"]}


@dataclass(frozen=True)
class DemoResult:
    out: Path
    upload_file: Path
    report_html: Path
    report_json: Path
    frames: Path
    counts: Mapping[str, int]


def load_sample(today: datetime.date | None = None) -> list[Item]:
    """The sample library, its loans due around ``today`` (some overdue) as SLiMS lists them."""
    data = resources.files("kiosk") / "data"
    with resources.as_file(data / "sample_catalog.csv") as csv_path:
        items = read_export_file(csv_path)
    loans = (data / "sample_loans.txt").read_text().split()
    day = today or datetime.date.today()
    # Seven-day loans spread over the last five weeks: about two in three are overdue.
    due = {c: day + datetime.timedelta(days=(i * 11) % 35 - 21) for i, c in enumerate(loans)}
    return [
        it._replace(on_loan=True, due=due[it.code].isoformat()) if it.code in due else it
        for it in items
    ]


def shelf_walk(items: list[Item], cfg: Config) -> list[str]:
    """A morning's scanning at one location, with one of every kind of event."""
    p = cfg.stocktake.command_prefix
    shelf = sorted(
        (it for it in items if it.location == LOCATION), key=lambda it: sort_key(it.call_number)
    )

    def plain(it: Item) -> bool:
        return not it.on_loan and not it.status

    walk = shelf[:150]
    in_order = [it for it in walk if plain(it)]
    loaned = next(it for it in walk if it.on_loan)
    statuses = Statuses.resolve(cfg.stocktake.excluded_statuses, SAMPLE_STATUSES)
    excluded = next(
        it for it in shelf if it.status in statuses.skipped and it.status not in statuses.lost
    )
    lost = next(it for it in shelf if it.status in statuses.lost)
    elsewhere = next(it for it in items if it.location == "Fiksi" and plain(it))
    far_away, mistaken = [it for it in shelf if plain(it)][-2:]
    codes = [f"{p}location:{LOCATION}"]
    for i, it in enumerate(in_order):
        if i % 17 == 5:
            continue  # a book nobody finds: missing
        codes.append(it.code)
        if i == 10:
            codes.append(it.code)  # scanned twice: duplicate
        elif i == 20:
            codes.append(loaned.code)  # on the shelf, but SLiMS says on loan
        elif i == 30:
            codes.append(far_away.code)  # from the far end of the shelf: misshelved
        elif i == 40:
            codes.append(elsewhere.code)  # a novel among the textbooks: wrong location
        elif i == 50:
            codes.append("B99999")  # not in the catalogue: unknown
        elif i == 60:
            codes.append("#$%")  # a smudged label read as garbage: invalid
        elif i == 70:
            codes.append(excluded.code)  # status says skip: excluded
        elif i == 75:
            codes.append(lost.code)  # lost in an earlier count, on the shelf: found again
        elif i == 80:
            codes.append(f"{p}nolabel")  # a book without a label, counted
        elif i == 91:  # (90 is a missing book's turn)
            codes += [mistaken.code, f"{p}undo"]  # scanned by mistake, taken back
        elif i == 100:
            codes.append(f"{p}run")  # next shelf unit
    return codes


def _paced(codes: list[str], interval: float) -> Iterator[str]:
    for code in codes:
        time.sleep(interval)
        yield code + "\n"


@contextlib.contextmanager
def narrated(stream: TextIO) -> Iterator[None]:
    """Print the simulated cart's narration (one line per scan, in words) to ``stream``."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    saved = narration.level, narration.propagate
    narration.addHandler(handler)
    narration.setLevel(logging.INFO)
    narration.propagate = False
    try:
        yield
    finally:
        narration.removeHandler(handler)
        narration.setLevel(saved[0])
        narration.propagate = saved[1]


def run_demo(out: Path, cfg: Config, narrate_to: TextIO | None = None) -> DemoResult:
    """Run the day into ``out``; what the cart shows and sounds per scan goes to ``narrate_to``."""
    out.mkdir(parents=True, exist_ok=True)
    state = out / "state"
    frames = out / "frames"
    for d in (state, frames):
        shutil.rmtree(d, ignore_errors=True)
    cfg = cfg._replace(state_dir=str(state))
    items = load_sample()
    print(say(cfg.report.language, "demo.catalog", n=len(items)))
    with Store.open(state) as store:
        store.replace_catalog(items, source="sample", statuses=SAMPLE_STATUSES)
        store.set_state(stocktake="Demo stock take")
        walk = [StdinSource(_paced(shelf_walk(items, cfg), PACE_S), "demo-scanner")]
        print("what the cart showed and sounded, one line per scan:")
        with narrated(narrate_to or sys.stdout):
            build_cart(cfg, store, simulate=True, sources=walk, frames_dir=frames).run()
        print()
        upload = export_file(store, out / "stocktake-upload.txt")
        catalog = store.catalog()
        rep = report.build(
            catalog,
            store.scans(),
            stocktake="Demo stock take",
            excluded_statuses=Statuses.resolve(
                cfg.stocktake.excluded_statuses, SAMPLE_STATUSES
            ).not_expected,
        )
        counts = store.counts()
    html_path, json_path = out / "report.html", out / "report.json"
    html_path.write_text(report.render(rep, catalog, "html", cfg.report.language), "utf-8")
    json_path.write_text(report.render(rep, catalog, "json"), "utf-8")
    # On the console the work and the figures; the on-loan recap is in report.html.
    console = ("todo", "summary", "lists")
    print(report.render(rep, catalog, "text", cfg.report.language, console), end="")
    return DemoResult(out, upload, html_path, json_path, frames, counts)
