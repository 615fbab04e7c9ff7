"""One entry point for every output format, so callers never pick a renderer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from kiosk.models import Item
from kiosk.report.html_page import to_html
from kiosk.report.rows import Report
from kiosk.report.tabular import to_csv, to_text
from kiosk.report.texts import TEXT

FORMATS: Final = ("html", "csv", "json", "text")


def render(rep: Report, catalog: Mapping[str, Item], fmt: str, language: str = "en") -> str:
    """The report as ``html``, ``csv``, ``json`` or ``text``, in ``en`` or ``id``."""
    if fmt == "json":
        return json.dumps(rep.to_dict(), ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        return to_csv(rep, catalog)
    if fmt == "html":
        return to_html(rep, catalog, language)
    return to_text(rep, TEXT[language])
