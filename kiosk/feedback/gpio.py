"""gpiozero's parts, imported without the package-metadata reader it loads for nothing.

gpiozero 2 imports ``importlib.metadata`` (and with it ``email``, ``zipfile``
and ``csv``) as it is imported, only to find a pin factory or mock pin class
named in ``GPIOZERO_PIN_FACTORY`` or ``GPIOZERO_MOCK_PIN_CLASS``; the cart
names none. That is a third of gpiozero's import: 35 ms on a 2-core x86
machine, so some 0.3 s of every start on a Pi Zero 2 W, which runs Python
8–10 times slower. gpiozero takes ``entry_points`` from
the ``importlib_metadata`` backport where one is installed, so while it is
imported here a stand-in of that name is offered, whose ``entry_points``
imports the real reader when it is called. Where the backport is installed,
or gpiozero is already loaded, nothing is offered. The stand-in is withdrawn
as soon as gpiozero is loaded, before the cart starts any thread.
"""

from __future__ import annotations

import sys
import types
from importlib.util import find_spec
from typing import Any


def _entry_points(**params: Any) -> Any:
    from importlib.metadata import entry_points  # noqa: PLC0415  (only when a name is looked up)

    return entry_points(**params)


def _load_gpiozero() -> None:
    if "gpiozero" in sys.modules or find_spec("importlib_metadata") is not None:
        return
    stand_in = types.ModuleType("importlib_metadata")
    stand_in.entry_points = _entry_points  # type: ignore[attr-defined]
    sys.modules["importlib_metadata"] = stand_in
    try:
        import gpiozero.pins.mock  # noqa: F401, PLC0415
    finally:
        del sys.modules["importlib_metadata"]


_load_gpiozero()

from gpiozero import LED, Button, Device, DigitalOutputDevice, PWMOutputDevice  # noqa: E402
from gpiozero.pins.mock import MockFactory, MockPWMPin  # noqa: E402

__all__ = [
    "LED",
    "Button",
    "Device",
    "DigitalOutputDevice",
    "MockFactory",
    "MockPWMPin",
    "PWMOutputDevice",
]
