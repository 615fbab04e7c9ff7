"""What a database lost, and the evidence that lets it notice a loss at all.

Damage costs only what is damaged: the journal skips a bad record and keeps
its neighbours, a bad snapshot line costs that document. Every loss is kept
as a :class:`Loss` in the next snapshot's header until ``kiosk store
recover`` settles it, so ``status``, ``report``, ``doctor`` and the cart's
screen can all say what is missing.

A journal that vanished or was cut short leaves nothing to read, so a
second witness keeps count: ``NAME.mark`` notes how many changes had been
acknowledged. It is rewritten atomically and fsynced when a journal starts
and after its 1st, 65th, 129th … change, and overwritten in place without
an fsync after every other change (one ``pwrite`` into the page cache, which
the kernel writes back within seconds). A journal holding fewer changes than
the mark lost acknowledged data, and the opener says so.

The mark is only ever written after the journal's fsync for the change it
counts returned, so on an honest disk it can lag behind the journal but never
run ahead of it: a mark above the journal is a loss, never a false alarm.
What each witness can and cannot see is in ``docs/deploy.md``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
import zlib
from pathlib import Path
from typing import Any, NamedTuple

from kiosk.fileio import atomic_write
from kiosk.store.rows import dump_json, load_json

log = logging.getLogger(__name__)

#: The mark is rewritten after every this many changes (and after the first).
MARK_EVERY = 64


class Loss(NamedTuple):
    """One piece of damage found on opening: what, how many documents/changes, where kept."""

    what: str
    lost: int | None  # None: unknown
    kept: str = ""  # name of the damaged file set aside, in the same folder
    when: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()

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
class Mark(NamedTuple):
    """The last acknowledged change count for a journal generation."""

    generation: int
    acked: int


def mark_path(snapshot: Path) -> Path:
    return snapshot.with_suffix(".mark")


def _check(mark: Mark) -> str:
    return f"{zlib.crc32(b'%d:%d' % (mark.generation, mark.acked)):08x}"


def _encode(mark: Mark) -> bytes:
    """The mark's line; never shorter than an earlier one of its generation (counts only grow)."""
    return dump_json(mark._asdict() | {"check": _check(mark)}).encode() + b"\n"


def read_mark(snapshot: Path) -> Mark | None:
    """The mark, or None if absent or unreadable (then no loss can be told from it)."""
    try:
        raw = mark_path(snapshot).read_bytes()
        d = load_json(raw[: raw.find(b"\n") + 1 or None])
        mark = Mark(int(d["generation"]), int(d["acked"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    # A reader racing an in-place update may see half of it: the check refuses the mix.
    return mark if d.get("check", _check(mark)) == _check(mark) else None


def write_mark(snapshot: Path, mark: Mark) -> None:
    """Replace the mark atomically; a failure is logged, never raised (it is a witness only)."""
    try:
        atomic_write(mark_path(snapshot), [_encode(mark)])
    except OSError as e:
        log.warning("cannot update %s: %s", mark_path(snapshot).name, e.strerror or e)


class MarkWriter:
    """The writer's side of the mark: durable now and then, in place after every change."""

    def __init__(self, snapshot: Path) -> None:
        self.snapshot = snapshot
        self._fd: int | None = None
        self._dirty = False  # counted in place since the last fsync

    def durable(self, mark: Mark) -> None:
        """Replace the mark atomically and fsynced (a journal's start, every MARK_EVERY changes)."""
        self.close(sync=False)
        write_mark(self.snapshot, mark)
        self.adopt()

    def adopt(self) -> None:
        """Update the mark already on disk in place from now on (it was checked on opening)."""
        if self._fd is None:
            try:
                self._fd = os.open(mark_path(self.snapshot), os.O_WRONLY | os.O_CLOEXEC)
            except OSError:
                self._fd = None  # none yet: the next durable write makes one

    def note(self, mark: Mark) -> None:
        """Overwrite the mark in place, no fsync: costs a ``pwrite``, seen once written back."""
        if self._fd is None:
            return
        try:
            os.pwrite(self._fd, _encode(mark), 0)
            self._dirty = True
        except OSError as e:
            log.warning("cannot update %s: %s", mark_path(self.snapshot).name, e.strerror or e)
            self.close(sync=False)

    def close(self, *, sync: bool = True) -> None:
        """Stop writing; ``sync`` makes the last in-place count durable (a clean stop)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        dirty, self._dirty = self._dirty, False
        try:
            if sync and dirty:
                os.fsync(fd)
        except OSError as e:
            log.warning("cannot update %s: %s", mark_path(self.snapshot).name, e.strerror or e)
        finally:
            os.close(fd)


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
