"""False misshelf alarms per 1,000 scans, with main's call-number reader and with this one.

Librarians stop trusting a cart that beeps at correctly shelved books, so
this counts alarms on walks whose true shelf order is known without asking
either reader, and runs the very same walks through both:

* ``ddc``: the seeded stock-take simulation of ``tests/test_shelf.py`` (plain
  DDC call numbers, planted errors, loans, gaps); false alarms are alarms not
  explained by a planted error, ``unexplained`` leaves out the unavoidable
  ones on the first book after more than ``max_gap`` missing books;
* ``fiction``: generated fiction and children's shelves in the order a
  librarian keeps them (author mark, then title: numeric titles such as
  "1984" or "5 cm" before lettered ones), loans and gaps, no errors at all,
  so every alarm is false;
* ``hand_sorted``: the shelves of ``tests/data/callnumbers.txt`` (sorted by
  hand), walked with loans and short gaps; every alarm is false.

The old reader is taken from git (``git show <base>:kiosk/engine/callnumber.py``)
into a temporary module at run time; no copy of it is kept in the tree.

Usage: python benchmarks/bench_misshelf.py [--json] [--base main] [--seeds 10]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the simulation and the data file live in tests/

from kiosk.engine import callnumber  # noqa: E402
from kiosk.engine.shelf import DEFAULT_MAX_GAP, ShelfOrder, ShelfRun  # noqa: E402
from kiosk.models import Item  # noqa: E402
from tests.test_callnumber import hand_sorted_shelves  # noqa: E402
from tests.test_shelf import shelf_walk, simulate  # noqa: E402

Reader = Callable[[str], Any]

#: Author marks of a fiction shelf and titles that start with a number, as
#: Indonesian libraries hold them.
MARKS = [
    "AHM", "AND", "AYU", "BUD", "CHR", "DEE", "DJE", "EKA", "FUA", "GAR", "HAM", "HIR",
    "KAR", "KHO", "KOE", "LEE", "LUB", "MAR", "MUR", "NAS", "ORW", "PRA", "RAM", "REN",
    "ROW", "SAP", "SIT", "TER", "TOH", "TOL", "WIJ", "ZAR",
]  # fmt: skip
NUMERIC_TITLES = [
    "1", "1984", "5 cm", "99 Cahaya di Langit Eropa", "9 Summers 10 Autumns", "24 Jam",
    "17 Agustus", "3 Srikandi", "5 Sekawan", "1001 Malam", "7 Keajaiban", "2", "12",
]  # fmt: skip
FICTION_PREFIXES = ["F", "F", "F", "Fic", "FIK", "Fiksi"]
CHILDREN_PREFIXES = ["A"]  # ANAK spelled out is left out: main did not know it either


def load_reader(base: str) -> ModuleType:
    """The call-number module as it is on ``base``, imported from a temporary file."""
    src = subprocess.run(
        ["git", "show", f"{base}:kiosk/engine/callnumber.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tmp = Path(tempfile.mkdtemp(prefix="bench-misshelf-"))
    path = tmp / f"callnumber_{base.replace('/', '_')}.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def fiction_shelf(rng: random.Random, n: int, prefixes: Sequence[str]) -> list[str]:
    """Call numbers of a correctly ordered fiction shelf, built from their parts."""
    books: list[tuple[tuple[object, ...], str]] = []
    for _ in range(n):
        mark = rng.choice(MARKS)
        pre = rng.choice(prefixes)
        if rng.random() < 0.08:  # a title that starts with a number
            title = rng.choice(NUMERIC_TITLES)
            number, _, words = title.partition(" ")
            truth: tuple[object, ...] = (mark, 1, int(number), words.lower(), "", 0)
            text = f"{pre} {mark} {title}"
        elif rng.random() < 0.05:  # no title letter
            truth, text = (mark, 0, 0, "", "", 0), f"{pre} {mark}"
        else:
            letter = rng.choice("abcdefghijklmnoprstuw")
            vol = rng.choice([0] * 8 + [1, 2, 3])
            truth = (mark, 2, 0, "", letter, vol)
            text = f"{pre} {mark} {letter}" + (f" {vol}" if vol else "")
        if rng.random() < 0.1:
            text += f" c.{rng.randrange(2, 4)}"
        books.append((truth, text))
    books.sort(key=lambda b: b[0])  # the librarian's order, not either reader's
    return [text for _, text in books]


def walk_shelf(rows: Sequence[str], read: Reader, seed: int) -> tuple[int, int, int]:
    """Scans, alarms, and alarms right after more than max_gap missing books."""
    rng = random.Random(seed)
    items = [
        Item(f"B{i:05d}", cn, location="L", on_loan=rng.random() < 0.06)
        for i, cn in enumerate(rows)
    ]
    order = ShelfOrder(sorted(items, key=lambda it: rng.random()), read=read)
    run = ShelfRun(order)
    scans = alarms = gap_alarms = 0
    streak = 0
    for it in items:
        if it.on_loan:
            continue
        if rng.random() < 0.02 or (streak and rng.random() < 0.3):
            streak += 1  # missing; sometimes a few in a row
            continue
        if scans and scans % 400 == 0:
            run.new_run()
        scans += 1
        if run.accept(it.code) is not None:
            alarms += 1
            gap_alarms += streak > DEFAULT_MAX_GAP
        streak = 0
    return scans, alarms, gap_alarms


def walk_present(rows: Sequence[str], read: Reader, seed: int) -> tuple[int, int]:
    """The hand-sorted shelf walked with loans and short gaps (tests/test_shelf.py)."""
    order, present = shelf_walk("L", rows, seed)
    # The same books (codes are "L-<row>"), shelved by the reader under test.
    items = [
        Item(code, rows[int(code.rpartition("-")[2])], location="L", on_loan=order.on_loan(code))
        for code in order.codes
    ]
    order = ShelfOrder(items, read=read)
    run = ShelfRun(order)
    alarms = sum(run.accept(code) is not None for code in present)
    return len(present), alarms


def per_1000(alarms: int, scans: int) -> float:
    return round(1000 * alarms / scans, 2) if scans else 0.0


def measure(read: Reader, seeds: int) -> dict[str, dict[str, float | int]]:
    out: dict[str, dict[str, float | int]] = {}
    scans = false = gap = 0
    for seed in range(seeds):
        st = simulate(seed, n=5000, error_every=40, separated=False, read=read)
        scans += st.scans
        false += st.false_alarms
        gap += st.gap_alarms
    out["ddc"] = {
        "scans": scans,
        "false_alarms": false,
        "false_per_1000": per_1000(false, scans),
        "unexplained_per_1000": per_1000(false - gap, scans),
    }
    for name, prefixes in (("fiction", FICTION_PREFIXES), ("children", CHILDREN_PREFIXES)):
        scans = alarms = gap = 0
        for seed in range(seeds):
            rows = fiction_shelf(random.Random(1000 + seed), 1200, prefixes)
            s, a, g = walk_shelf(rows, read, seed)
            scans, alarms, gap = scans + s, alarms + a, gap + g
        out[name] = {
            "scans": scans,
            "false_alarms": alarms,
            "false_per_1000": per_1000(alarms, scans),
            "unexplained_per_1000": per_1000(alarms - gap, scans),
        }
    scans = alarms = 0
    for seed in range(seeds):
        for rows in hand_sorted_shelves().values():
            s, a = walk_present(rows, read, seed)
            scans, alarms = scans + s, alarms + a
    out["hand_sorted"] = {
        "scans": scans,
        "false_alarms": alarms,
        "false_per_1000": per_1000(alarms, scans),
        "unexplained_per_1000": per_1000(alarms, scans),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--base", default="main", help="git revision of the 'before' reader")
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args(argv)
    old = load_reader(args.base)
    result = {
        "base": args.base,
        "max_gap": DEFAULT_MAX_GAP,
        "before": measure(old.parse, args.seeds),
        "after": measure(callnumber.parse, args.seeds),
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(f"{'walk':<12}{'scans':>8}  {'before /1000':>14}  {'after /1000':>12}\n")
    for walk in result["before"]:
        b, a = result["before"][walk], result["after"][walk]
        sys.stdout.write(
            f"{walk:<12}{a['scans']:>8}  {b['false_per_1000']:>7} ({b['unexplained_per_1000']})"
            f"  {a['false_per_1000']:>5} ({a['unexplained_per_1000']})\n"
        )
    sys.stdout.write(
        "(in brackets: leaving out alarms right after more than max_gap missing books)\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
