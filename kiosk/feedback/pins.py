"""GPIO pin names as BCM numbers, and the pins a display bus takes for itself.

Pins may be named the ways gpiozero accepts (``GPIO24``, ``BCM24``, ``24``,
``BOARD18``, ``J8:18``), so two names can mean one pin. Comparing numbers is
the only way to see two parts wired to the same pin before either is built;
this module answers in numbers and leaves naming the settings to the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PIN = re.compile(r"^(?:GPIO|BCM)?(\d{1,2})$", re.IGNORECASE)
_BOARD = re.compile(r"^(?:BOARD|J8:)(\d{1,2})$", re.IGNORECASE)
#: 40-pin header position -> BCM number (the same on every 40-pin Pi).
_HEADER = {
    3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10,
    21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19,
    36: 16, 37: 26, 38: 20, 40: 21,
}  # fmt: skip
#: Pins a display bus itself uses: I²C-0 and I²C-1 SDA/SCL; SPI0 CE1, CE0, MISO,
#: MOSI, SCLK (the spi overlay claims both chip selects); SPI1 MISO, MOSI, SCLK.
_BUS_PINS: dict[str, dict[int, tuple[int, ...]]] = {
    "i2c": {0: (0, 1), 1: (2, 3)},
    "spi": {0: (7, 8, 9, 10, 11), 1: (19, 20, 21)},
}
#: SPI1's chip selects per device (CE0, CE1, CE2): its overlays claim only the ones used.
_SPI1_CS = (18, 17, 16)


def bcm(pin: str) -> int:
    """``"GPIO24"`` / ``"BCM24"`` / ``"24"`` / ``"BOARD18"`` / ``"J8:18"`` -> 24.

    :raises ValueError: ``pin`` names no GPIO pin.
    """
    number = bcm_or_none(pin)
    if number is None:
        raise ValueError(f"{pin!r} is not a GPIO pin; name it like 'GPIO24' or 'BOARD18'")
    return number


def bcm_or_none(pin: str) -> int | None:
    """The BCM number of ``pin``; None for a name only gpiozero itself knows."""
    text = pin.strip()
    if m := _PIN.match(text):
        return int(m.group(1))
    if m := _BOARD.match(text):
        return _HEADER.get(int(m.group(1)))
    return None


def bus_pins(interface: str, port: int, device: int = 0) -> tuple[int, ...]:
    """The BCM pins an ``i2c``/``spi`` bus on ``port`` occupies (none if unknown).

    ``device`` is the SPI chip select the display answers on (SPI1 claims only that one).
    """
    fixed = _BUS_PINS.get(interface, {}).get(port, ())
    if interface == "spi" and port == 1 and 0 <= device < len(_SPI1_CS):
        fixed += (_SPI1_CS[device],)
    return fixed


def first_clash(claims: Iterable[tuple[str, int | None]]) -> tuple[str, str, int] | None:
    """The first two ``(label, pin)`` claims on one pin: ``(earlier, later, pin)``.

    Claims whose pin is None (a name only gpiozero knows) never clash here.
    """
    used: dict[int, str] = {}
    for label, number in claims:
        if number is None:
            continue
        if number in used:
            return used[number], label, number
        used[number] = label
    return None
