"""Composition root for hardware: builds scanner sources from config names.

Simulation is chosen by ``--simulate``, ``hardware = "simulated"`` or
``KIOSK_SIMULATE=1``; ``auto`` means real hardware where it exists.
"""

from __future__ import annotations

import os
import sys

from kiosk.config import Config
from kiosk.scanner import Source
from kiosk.scanner.stdin import StdinSource


def simulated(cfg: Config, flag: bool = False) -> bool:
    if flag or os.environ.get("KIOSK_SIMULATE", "") not in ("", "0"):
        return True
    return cfg.hardware == "simulated"


def build_sources(cfg: Config, *, simulate: bool) -> list[Source]:
    """Scanner sources for this run: stdin lines when simulated, evdev otherwise."""
    if simulate or cfg.scanner.backend == "stdin":
        return [StdinSource(sys.stdin)]
    from kiosk.scanner.evdev import EvdevSource  # noqa: PLC0415  (needs Linux evdev)

    return [EvdevSource.from_config(cfg.scanner)]
