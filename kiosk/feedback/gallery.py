"""One example of every screen, shared by ``kiosk screens``, the gallery and the tests.

Keeping the examples in one place means the published gallery and the
reference images the tests compare against are the same pictures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.feedback import Status
from kiosk.feedback.i18n import LANGUAGES
from kiosk.feedback.screens import (
    Idle,
    ProblemScreen,
    Progress,
    Screen,
    Starting,
    Stopped,
    VerdictScreen,
    WebAddress,
    render,
)
from kiosk.models import Command, Item, Neighbours, ProblemKind, Scan, ScanDetail, Verdict

if TYPE_CHECKING:
    from PIL import Image

STATUS = Status(
    stocktake="Stock opname 2025",
    location="Referensi",
    run=3,
    counts={"ok": 1190, "misshelved": 12},
    scanned=1234,
    unsynced=56,
    exported=20,
    catalog_size=20000,
)

#: The cart just after a command: run 4 begins, run 3 walked 020 SUL p to 027.1 ANW s.
AFTER_COMMAND = Status(
    stocktake=STATUS.stocktake,
    location="Referensi",
    run=4,
    scanned=1235,
    nolabel=3,
    last_span=("020 SUL p", "027.1 ANW s"),
)

#: The cart page's address as a phone on the library's Wi-Fi would reach it.
WEB_URL = "http://192.168.1.20:8080/"

ITEM = Item(
    code="B0012345",
    call_number="020 SUL p",
    title="Pengantar ilmu perpustakaan dan kearsipan",
    location="Referensi",
    status="Available",
)


def _scan(verdict: Verdict, code: str = ITEM.code, detail: ScanDetail | None = None) -> Scan:
    detail = detail or ScanDetail()
    return Scan(seq=1235, code=code, verdict=verdict, scanner="sim", ts=0.0, detail=detail)


def examples() -> Iterator[Screen]:
    """Every screen the kiosk can show, with realistic data."""
    yield Starting(version="v0.1.0")
    yield Idle(STATUS, last=_scan(Verdict.OK))
    yield VerdictScreen(_scan(Verdict.OK), ITEM)
    yield VerdictScreen(_scan(Verdict.DUPLICATE), ITEM)
    yield VerdictScreen(_scan(Verdict.UNKNOWN, "B0099999"), None)
    yield VerdictScreen(_scan(Verdict.ON_LOAN), ITEM)
    yield VerdictScreen(
        _scan(Verdict.WRONG_LOCATION, detail=ScanDetail(expected_location="Sirkulasi")),
        Item("B0020001", "813 HEM o", "The old man and the sea", "Sirkulasi"),
    )
    yield VerdictScreen(
        _scan(
            Verdict.MISSHELVED,
            detail=ScanDetail(
                belongs=Neighbours(
                    after="B0011111",
                    before="B0011112",
                    after_call="020 PRA m",
                    before_call="020.3 ANW s",
                )
            ),
        ),
        ITEM,
    )
    yield VerdictScreen(_scan(Verdict.INVALID, "12#4"), None)
    yield VerdictScreen(
        _scan(Verdict.EXCLUDED),
        Item("B0030003", "297 QUR", "Tafsir Al-Mishbah jilid 1", status="Weeded"),
    )
    yield VerdictScreen(
        _scan(Verdict.FOUND_AGAIN, "B0040004", ScanDetail(status="Missing")),
        Item("B0040004", "899.221 TOE b", "Bumi Manusia", status="Missing"),
    )
    for command in Command:
        arg = "Referensi" if command is Command.LOCATION else ""
        code = f"KIOSK:{command.upper()}" + (f":{arg}" if arg else "")
        detail = ScanDetail(command=command, arg=arg)
        yield VerdictScreen(_scan(Verdict.COMMAND, code, detail), None, AFTER_COMMAND)
    yield VerdictScreen(_scan(Verdict.ERROR), ITEM)
    yield Progress("sync", 1234, 2000)
    yield WebAddress(WEB_URL, pin="482913")
    for kind, (message, details) in PROBLEMS.items():
        yield ProblemScreen(kind, message, details)
    yield Stopped()


#: The messages (for the log) and details (for the screen) the daemon gives with
#: each problem (see kiosk.daemon).
PROBLEMS: dict[ProblemKind, tuple[str, tuple[str, ...]]] = {
    ProblemKind.NO_SCANNER: ("no scanner connected: plug one in", ()),
    ProblemKind.STORE: ("earlier scans set aside: scans.log.corrupt-20261130-101500", ()),
    ProblemKind.LOW_DISK: (
        "disk full: cannot append to /var/lib/kiosk/scans.log; "
        "free space on the SD card, scans are not stored",
        (),
    ),
    ProblemKind.SLIMS: (
        "SLiMS at https://slims.example.org is unreachable: connection refused "
        "(after 4 attempts to index.php)",
        (),
    ),
    ProblemKind.PAUSED: ("scanning is paused; scan RESUME to go on", ()),
    ProblemKind.UNDO: ("B0012345 already sent to SLiMS: fix it there", ("B0012345",)),
    ProblemKind.CATALOG: (
        "the catalogue is 21 days old (limit 14): verdicts may be wrong",
        ("21",),
    ),
    ProblemKind.LOCATION: (
        "no location 'Refrensi' in the catalogue; closest: Referensi",
        ("Refrensi", "Referensi"),
    ),
}


def enlarge(image: Image.Image, scale: int) -> Image.Image:
    """Blow a 1-bit frame up with nearest neighbour so every pixel stays sharp."""
    if scale == 1:
        return image
    from PIL import Image  # noqa: PLC0415 (the display imports this module; PIL comes later)

    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)


def write_all(out: Path, *, scale: int = 4, languages: tuple[str, ...] = LANGUAGES) -> list[Path]:
    """Render every example in every language to ``out/<lang>-<screen>.png``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in languages:
        for screen in examples():
            path = out / f"{lang}-{screen.name}.png"
            enlarge(render(screen, lang), scale).save(path)
            written.append(path)
    return written
