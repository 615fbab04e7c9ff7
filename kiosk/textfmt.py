"""Numbers, percentages and dates the way an English or Indonesian reader writes them.

One formatter for the report, the OLED screens and the CLI, so "1.234",
"5,1%" and "30 November 2026" read the same everywhere in Indonesian (and
"1,234", "5.1%", "30 November 2026" in English). A leaf: it imports nothing
of the kiosk, so every stage may use it.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

#: Month names per language (January first).
MONTHS: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
}


def num(n: int, lang: str) -> str:
    """Thousands grouped: ``1,234`` in English, ``1.234`` in Indonesian."""
    text = f"{n:,}"
    return text.replace(",", ".") if lang == "id" else text


def pct(share: float, lang: str, digits: int = 1) -> str:
    """A share (0..1) as a percentage: ``5.1%`` in English, ``5,1%`` in Indonesian."""
    text = f"{share * 100:,.{digits}f}"
    if lang == "id":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return f"{text}%"


def date(day: dt.date, lang: str) -> str:
    """A day with its month written out: ``30 November 2026`` (``30 Desember 2026``)."""
    return f"{day.day} {MONTHS[lang if lang in MONTHS else 'en'][day.month - 1]} {day.year}"


def timestamp(ts: float, lang: str) -> str:
    """A wall-clock moment in local time: ``30 November 2026, 14:05`` (``…, 14.05`` in id)."""
    moment = dt.datetime.fromtimestamp(ts)
    sep = "." if lang == "id" else ":"
    return f"{date(moment.date(), lang)}, {moment.hour:02d}{sep}{moment.minute:02d}"


def parse_day(text: str) -> dt.date | None:
    """An ISO day (``2026-11-30``, a time after it is ignored); None when absent or unreadable."""
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
