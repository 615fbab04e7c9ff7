"""What a database lost, and the evidence that lets it notice a loss at all.

Damage costs only what is damaged: the journal skips a bad record and keeps
its neighbours, a bad snapshot line costs that document. Every loss is kept
as a :class:`Loss` in the next snapshot's header until ``kiosk store
recover`` settles it, so ``status``, ``report``, ``doctor`` and the cart's
screen can all say what is missing.

A journal that vanished or was cut short leaves nothing to read, so a
second witness keeps count: ``NAME.mark``, rewritten atomically when a
journal starts and after its 1st, 65th, 129th … change, notes how many
changes had been acknowledged. A journal holding fewer than that lost
acknowledged data, and the opener says so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kiosk.fileio import atomic_write
from kiosk.store.rows import dump_json, load_json

log = logging.getLogger(__name__)

#: The mark is rewritten after every this many changes (and after the first).
MARK_EVERY = 64


@dataclass(frozen=True)
class Loss:
    """One piece of damage found on opening: what, how many documents/changes, where kept."""

    what: str
    lost: int | None  # None: unknown
    kept: str = ""  # name of the damaged file set aside, in the same folder
    when: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Any) -> Loss | None:
        if not isinstance(d, dict) or not isinstance(d.get("what"), str):
            return None
        lost = d.get("lost")
        return cls(
            d["what"],
            lost if isinstance(lost, int) else None,
            str(d.get("kept", "")),
            float(d.get("when", 0.0) or 0.0),
        )

    def line(self) -> str:
        """One line for a person: what, how much, where the rest is."""
        n = "an unknown number of" if self.lost is None else str(self.lost)
        where = f" (kept in {self.kept})" if self.kept else ""
        return f"{self.what}: {n} record(s) lost{where}"


def losses_of(head: dict[str, Any]) -> list[Loss]:
    raw = head.get("losses", [])
    found = [Loss.from_dict(d) for d in raw] if isinstance(raw, list) else []
    return [loss for loss in found if loss is not None]


def total_lost(losses: list[Loss]) -> int | None:
    """Records lost in all, or None if any loss is of unknown size."""
    if any(loss.lost is None for loss in losses):
        return None
    return sum(loss.lost or 0 for loss in losses)


# -- the mark ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mark:
    """The last acknowledged change count for a journal generation."""

    generation: int
    acked: int


def mark_path(snapshot: Path) -> Path:
    return snapshot.with_suffix(".mark")


def read_mark(snapshot: Path) -> Mark | None:
    try:
        d = load_json(mark_path(snapshot).read_bytes())
        return Mark(int(d["generation"]), int(d["acked"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_mark(snapshot: Path, mark: Mark) -> None:
    """Replace the mark atomically; a failure is logged, never raised (it is a witness only)."""
    try:
        atomic_write(mark_path(snapshot), [dump_json(asdict(mark)).encode() + b"\n"])
    except OSError as e:
        log.warning("cannot update %s: %s", mark_path(snapshot).name, e.strerror or e)


# -- setting damaged files aside -----------------------------------------------------------------
def set_aside(path: Path, kind: str = "corrupt") -> str:
    """Keep the current ``path`` as ``path.KIND-STAMP`` (a hard link: no extra space); its name.

    The file itself stays where it is, so a failure later (a full disk
    during the rewrite) leaves everything as it was found.
    """
    target = path.with_name(f"{path.name}.{kind}-{stamp()}")
    try:
        os.link(path, target)
    except FileNotFoundError:
        return ""
    except OSError:
        try:
            shutil.copy2(path, target)
        except OSError as e:
            with contextlib.suppress(OSError):
                target.unlink()
            log.error("cannot keep a copy of damaged %s: %s", path.name, e.strerror or e)
            return ""
    return target.name


def stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
