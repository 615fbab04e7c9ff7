"""One entry point for every output format, so callers never pick a renderer.

``sections`` choose what a human reads (HTML and text): the work first, the
summary and the short lists by default; the long lists (every book found,
every book not scanned yet) on request. CSV and JSON are for spreadsheets and
scripts and always hold every list.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Final

from kiosk.models import Item
from kiosk.report.html_page import to_html
from kiosk.report.rows import Report
from kiosk.report.tabular import to_csv, to_text

FORMATS: Final = ("html", "csv", "json", "text")
#: File name endings → format, for ``--out FILE`` without ``--format``.
EXTENSIONS: Final = {
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".json": "json",
    ".txt": "text",
    ".text": "text",
}
#: Parts of the report in page order: to-do list, summary, short lists, then long lists.
SECTIONS: Final = ("todo", "summary", "lists", "on_loan", "not_covered", "found")
DEFAULT_SECTIONS: Final = ("todo", "summary", "lists", "on_loan")


def format_for(path: Path | None, fmt: str | None) -> str:
    """The format asked for, else the one ``path``'s ending names, else text.

    Raises ValueError for an ending that names no format (a report written as
    text into ``report.pdf`` would mislead).
    """
    if fmt:
        return fmt
    if path is None or not path.suffix:
        return "text"
    try:
        return EXTENSIONS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(EXTENSIONS)
        raise ValueError(
            f"cannot tell the report format from {path.name!r}: end the name with one of "
            f"{known}, or give --format"
        ) from None


def parse_sections(spec: str) -> tuple[str, ...]:
    """``todo,summary`` → those sections in page order; ``all`` is every one.

    Raises ValueError naming the unknown section and the known ones.
    """
    names = [s.strip().lower() for s in spec.split(",") if s.strip()]
    if not names:
        raise ValueError(f"no section named; choose from all, {', '.join(SECTIONS)}")
    if "all" in names:
        return SECTIONS
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise ValueError(
            f"unknown report section {unknown[0]!r}; choose from all, {', '.join(SECTIONS)}"
        )
    return tuple(s for s in SECTIONS if s in names)


def left_out(rep: Report, sections: Iterable[str]) -> dict[str, int]:
    """Sections not shown that hold something: section → its size, to say so on the page."""
    sizes = {
        "todo": rep.todo_size(),
        "on_loan": len(rep.on_loan),
        "not_covered": len(rep.not_covered),
        "found": len(rep.found),
    }
    shown = set(sections)
    return {k: n for k, n in sizes.items() if k not in shown and n}


def render(
    rep: Report,
    catalog: Mapping[str, Item],
    fmt: str,
    language: str = "en",
    sections: Collection[str] = DEFAULT_SECTIONS,
) -> str:
    """The report as ``html``, ``csv``, ``json`` or ``text``, in ``en`` or ``id``."""
    if fmt == "json":
        return json.dumps(rep.to_dict(), ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        return to_csv(rep, catalog)
    if fmt == "html":
        return to_html(rep, catalog, language, sections, left_out(rep, sections))
    return to_text(rep, catalog, language, sections)
