"""The stock-take report: what was found, missing, on loan and out of place."""

from kiosk.report.report import FORMATS, TEXT, Report, build, render

__all__ = ["FORMATS", "TEXT", "Report", "build", "render"]
