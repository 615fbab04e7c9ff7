"""The stock-take report: what was found, missing, on loan and out of place.

``build`` (kiosk.report.analysis) turns catalogue and scans into a typed
``Report`` (kiosk.report.rows); ``render`` (kiosk.report.formats) writes it as
HTML, CSV, JSON or text in the words of kiosk.report.texts.
"""

from kiosk.report.analysis import build
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

__all__ = [
    "DEFAULT_SECTIONS",
    "FORMATS",
    "SECTIONS",
    "TEXT",
    "DamageRow",
    "Report",
    "build",
    "format_for",
    "parse_sections",
    "render",
]
