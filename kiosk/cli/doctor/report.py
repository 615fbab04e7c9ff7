"""The doctor's findings and how they are shown, kept apart from how they are found.

A technician reads the text lines; scripts read ``--json``; both come from the
same :class:`Finding` list, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TextIO


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but someone should look
    FAIL = "fail"  # the cart will not work as it should
    SKIP = "skip"  # not applicable to this configuration


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the doctor's report."""

    name: str
    level: Level
    message: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "level": str(self.level),
            "message": self.message,
            "fix": self.fix,
        }


_MARK = {
    Level.OK: "ok  ",
    Level.WARN: "WARN",
    Level.FAIL: "FAIL",
    Level.SKIP: "--  ",
}


def worst(findings: Iterable[Finding]) -> Level:
    """The overall result: fail beats warn beats ok (skips never count)."""
    levels = {f.level for f in findings}
    for level in (Level.FAIL, Level.WARN):
        if level in levels:
            return level
    return Level.OK


def write_text(findings: list[Finding], out: TextIO) -> None:
    """One aligned line per finding, its fix under warnings and failures, then the result."""
    width = max((len(f.name) for f in findings), default=0)
    for f in findings:
        out.write(f"{_MARK[f.level]}  {f.name:<{width}}  {f.message}\n")
        if f.fix and f.level in (Level.WARN, Level.FAIL):
            out.write(f"      {'':<{width}}  fix: {f.fix}\n")
    out.write(f"\nresult: {worst(findings)}\n")


def to_json(findings: list[Finding]) -> dict[str, object]:
    """The ``--json`` document: the overall result and every finding in order."""
    return {"result": str(worst(findings)), "checks": [f.to_dict() for f in findings]}
