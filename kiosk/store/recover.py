"""Rebuild the most complete scan store from every copy that is left.

Damage on opening costs only the damaged records, and the damaged files are
kept beside the store (``scans.json.corrupt-*``, ``scans.log.corrupt-*``).
Those files may still hold what the current pair lost: a journal set aside
before a compaction, the readable lines of a snapshot. :func:`recover`
reads every one of them, tolerating damage line by line, and replays them
oldest first (snapshot generation, then its journal's records in order), so
each document ends as its newest readable version. Scan numbers are dense,
so what is still missing afterwards is known exactly.

The rebuilt pair replaces the current one; every file it was built from is
moved into ``recovered-STAMP/`` beside it, never deleted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.fileio import atomic_write, fsync_dir, write_file
from kiosk.store.damage import Loss, Mark, stamp, write_mark
from kiosk.store.records import (
    JOURNAL_FORMAT,
    apply_change,
    journal_header,
    parse_line,
    read_snapshot,
    snapshot_lines,
)
from kiosk.store.rows import Rows, Tables

NAME = "scans"


@dataclass
class Recovery:
    """What a recovery found, rebuilt and could not get back."""

    sources: list[str] = field(default_factory=list)
    scans: int = 0
    #: Scan numbers no copy holds, as inclusive ranges.
    missing: list[tuple[int, int]] = field(default_factory=list)
    skipped: int = 0  # damaged lines and records that could not be read
    unacknowledged: list[str] = field(default_factory=list)  # torn tails (*.torn-*)
    kept_in: str = ""

    @property
    def missing_count(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.missing)

    def lines(self) -> Iterator[str]:
        yield f"read {len(self.sources)} file(s): {', '.join(self.sources) or '-'}"
        yield f"recovered: {self.scans} scan(s)"
        if self.missing:
            spans = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in self.missing[:20])
            more = " …" if len(self.missing) > 20 else ""
            yield f"lost: {self.missing_count} scan(s), numbers {spans}{more}"
        else:
            yield "lost: no scan is missing"
        if self.skipped:
            yield f"unreadable lines skipped: {self.skipped}"
        if self.unacknowledged:
            yield (
                "left out (incomplete last records cut off after an interrupted write): "
                + ", ".join(self.unacknowledged)
            )
        if self.kept_in:
            yield f"the files it was built from are kept in {self.kept_in}"


def _sources(state: Path) -> tuple[list[Path], list[Path]]:
    snaps = [state / f"{NAME}.json", *sorted(state.glob(f"{NAME}.json.corrupt-*"))]
    logs = [state / f"{NAME}.log", *sorted(state.glob(f"{NAME}.log.corrupt-*"))]
    return [p for p in snaps if p.is_file()], [p for p in logs if p.is_file()]


def _journal(path: Path) -> tuple[int, list[dict[str, Any]], int]:
    """(generation, readable change records, unreadable lines) of one journal file."""
    gen, records, bad = -1, [], 0
    for n, line in enumerate(path.read_bytes().split(b"\n")):
        if not line:
            continue
        rec = parse_line(line)
        if rec is None:
            bad += 1
        elif n == 0 and rec.get("format") == JOURNAL_FORMAT:
            gen = int(rec.get("generation", -1))
        else:
            records.append(rec)
    return gen, records, bad


def rebuild(state: Path) -> tuple[Tables, Recovery, int, int]:
    """Every readable copy replayed oldest first: (tables, report, generation, changes)."""
    rep = Recovery()
    snaps, logs = _sources(state)
    steps: list[tuple[tuple[int, int], Any]] = []
    changes = 0
    for p in snaps:
        snap, f = read_snapshot(p, lambda _n: Rows())
        if f is not None:
            f.close()
        rep.skipped += sum(n or 0 for what, n in snap.damage if "damaged line" in what)
        changes = max(changes, int(snap.head.get("changes", 0) or 0))
        steps.append(((snap.generation, 0), snap.tables))
        rep.sources.append(p.name)
    for p in logs:
        gen, records, bad = _journal(p)
        rep.skipped += bad
        steps.append(((max(gen, 0), 1), records))
        rep.sources.append(p.name)
    tables: Tables = {}
    for _key, step in sorted(steps, key=lambda s: s[0]):
        if isinstance(step, dict):  # a snapshot: each document, newer than what came before
            for name, rows in step.items():
                target = tables.setdefault(name, Rows())
                for doc_id, doc in rows.items():
                    target.put(int(doc_id), target.pack(doc))
        else:
            for rec in step:
                try:
                    apply_change(tables, rec, lambda _n: Rows(), 0)
                    changes += 1
                except (KeyError, TypeError, ValueError, AttributeError):
                    rep.skipped += 1
    scans = tables.get(NAME, Rows())
    rep.scans = len(scans)
    rep.missing = _gaps(scans)
    rep.unacknowledged = sorted(p.name for p in state.glob(f"{NAME}.log.torn-*"))
    gen = max((k[0] for k, _s in steps), default=0) + 1
    return tables, rep, gen, changes


def _gaps(rows: Rows) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = None
    for seq in range(1, rows.max_id + 1):
        if str(seq) in rows:
            if start is not None:
                out.append((start, seq - 1))
                start = None
        elif start is None:
            start = seq
    return out


def recover(state: Path, *, dry_run: bool = False) -> Recovery:
    """Rebuild ``scans.json``/``scans.log`` from every copy; the caller holds the store lock."""
    tables, rep, gen, changes = rebuild(state)
    if dry_run:
        return rep
    losses = (
        [Loss("scans no copy holds (after kiosk store recover)", rep.missing_count)]
        if rep.missing
        else []
    )
    extra = {"changes": changes, "losses": [x.to_dict() for x in losses]}
    keep = state / f"recovered-{stamp()}"
    keep.mkdir()
    snapshot, journal = state / f"{NAME}.json", state / f"{NAME}.log"
    used = [state / name for name in rep.sources]
    for p in used:  # kept first (a link costs no space); removed from the store last
        os.link(p, keep / p.name)
    for p in state.glob(f"{NAME}.log.torn-*"):
        os.replace(p, keep / p.name)
    tmp = snapshot.with_name(snapshot.name + ".tmp")
    write_file(tmp, snapshot_lines(tables, gen, extra=extra))
    os.replace(tmp, snapshot)
    fsync_dir(state)
    atomic_write(journal, [journal_header(gen, changes)])
    write_mark(snapshot, Mark(gen, changes))
    for p in used:
        if p not in (snapshot, journal):
            p.unlink()
    fsync_dir(state)
    rep.kept_in = keep.name
    return rep
