"""The stock-take report: what was found, missing, on loan and out of place.

``build`` (kiosk.report.analysis) turns catalogue and scans into a typed
``Report`` (kiosk.report.rows); ``render`` (kiosk.report.formats) writes it as
HTML, CSV, JSON or text in the words of kiosk.report.texts.

The names below are imported when first used: ``kiosk status`` and ``kiosk
sync`` take only words from kiosk.report.texts, and importing this package
must not bring the engine, the renderers and the rows with them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.report.analysis import SlimsHolds, build
    from kiosk.report.formats import (
        DEFAULT_SECTIONS,
        FORMATS,
        SECTIONS,
        format_for,
        parse_sections,
        render,
    )
    from kiosk.report.rows import DamageRow, Report
    from kiosk.report.texts import TEXT

#: Where each name lives.
_MODULES = {
    "SlimsHolds": "analysis",
    "build": "analysis",
    "DEFAULT_SECTIONS": "formats",
    "FORMATS": "formats",
    "SECTIONS": "formats",
    "format_for": "formats",
    "parse_sections": "formats",
    "render": "formats",
    "DamageRow": "rows",
    "Report": "rows",
    "TEXT": "texts",
}

__all__ = [
    "DEFAULT_SECTIONS",
    "FORMATS",
    "SECTIONS",
    "TEXT",
    "DamageRow",
    "Report",
    "SlimsHolds",
    "build",
    "format_for",
    "parse_sections",
    "render",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
