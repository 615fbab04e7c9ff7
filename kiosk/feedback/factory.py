"""Build the panel from configuration: real gpiozero/luma parts or their doubles.

Simulation uses gpiozero's ``MockFactory`` (passed as ``pin_factory=``, never
installed globally) and luma's ``dummy`` device. On real hardware each part is
optional: one that cannot be set up is logged once and left out, because a
cart that scans without a buzzer is better than a cart that does not start.
Wiring mistakes that would make two parts fight over a pin are config errors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpiozero import LED, Device, DigitalOutputDevice, PWMOutputDevice
from gpiozero.pins.mock import MockFactory, MockPWMPin
from luma.core.device import dummy
from luma.core.interface.serial import i2c, spi
from luma.oled.device import sh1106, ssd1306

from kiosk.config import Config, Display
from kiosk.exc import ConfigError
from kiosk.feedback.buttons import ACTIONS, ButtonPanel
from kiosk.feedback.display import DisplayWorker
from kiosk.feedback.panel import PanelFeedback
from kiosk.feedback.patterns import COLOURS, with_overrides
from kiosk.feedback.signals import ActiveBuzzer, PassiveBuzzer, SignalPlayer, ToneOutput

log = logging.getLogger(__name__)

_PIN = re.compile(r"^(?:GPIO|BCM)?(\d{1,2})$", re.IGNORECASE)
_BOARD = re.compile(r"^(?:BOARD|J8:)(\d{1,2})$", re.IGNORECASE)
#: 40-pin header position -> BCM number (the same on every 40-pin Pi).
_HEADER = {
    3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10,
    21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19,
    36: 16, 37: 26, 38: 20, 40: 21,
}  # fmt: skip
#: Pins the display bus itself uses (I²C-1 SDA/SCL; SPI0 CE1, CE0, MISO, MOSI, SCLK).
_BUS_PINS: dict[str, dict[int, tuple[int, ...]]] = {
    "i2c": {1: (2, 3)},
    "spi": {0: (7, 8, 9, 10, 11)},
}


def bcm(pin: str, key: str) -> int:
    """``"GPIO24"`` / ``"BCM24"`` / ``"24"`` / ``"BOARD18"`` / ``"J8:18"`` -> 24."""
    number = _bcm_or_none(pin)
    if number is None:
        raise ConfigError(
            f"config key {key} must name a GPIO pin like 'GPIO24' or 'BOARD18'; got {pin!r}"
        )
    return number


def _bcm_or_none(pin: str) -> int | None:
    text = pin.strip()
    if m := _PIN.match(text):
        return int(m.group(1))
    if m := _BOARD.match(text):
        return _HEADER.get(int(m.group(1)))
    return None


def check_pins(cfg: Config) -> None:
    """Refuse a configuration where two fitted parts share a GPIO pin."""
    used: dict[int, str] = {}

    def claim(number: int | None, key: str) -> None:
        if number is None:  # a name only gpiozero knows; it checks the pin itself
            return
        if number in used:
            raise ConfigError(
                f"config keys {used[number]} and {key} both use GPIO{number}; give each part "
                f'its own pin, or set one to "" if it is not fitted'
            )
        used[number] = key

    d = cfg.display
    if d.driver != "none":
        port = d.i2c_port if d.interface == "i2c" else d.spi_port
        for n in _BUS_PINS[d.interface].get(port, ()):
            claim(n, f"display ({d.interface} bus {port})")
        if d.interface == "spi":
            claim(bcm(d.spi_dc, "display.spi_dc"), "display.spi_dc")
            if d.spi_reset:
                claim(bcm(d.spi_reset, "display.spi_reset"), "display.spi_reset")
    if cfg.buzzer.kind != "none" and cfg.buzzer.pin:
        claim(_bcm_or_none(cfg.buzzer.pin), "buzzer.pin")
    for colour in COLOURS:
        pin = getattr(cfg.leds, colour)
        if pin:
            claim(_bcm_or_none(pin), f"leds.{colour}")
    for action in ACTIONS:
        pin = getattr(cfg.buttons, action)
        if pin:
            claim(_bcm_or_none(pin), f"buttons.{action}")
    if d.rotate not in (0, 2):
        raise ConfigError(
            f"config key display.rotate must be 0 or 2 (upside down); got {d.rotate}. "
            "The screens are laid out for a landscape 128x64 panel."
        )


def build(
    cfg: Config,
    *,
    simulate: bool,
    frames_dir: Path | None = None,
    on_button: Callable[[str], None] | None = None,
) -> PanelFeedback:
    """The cart's feedback from ``cfg``; see :func:`kiosk.feedback.build`."""
    check_pins(cfg)
    patterns = with_overrides(cfg.buzzer.patterns, cfg.leds.patterns)
    # PWM-capable mock pins so a passive buzzer can be simulated too.
    factory = MockFactory(pin_class=MockPWMPin) if simulate else _real_factory()
    devices: list[Any] = []

    buzzer = _buzzer(cfg, factory, devices) if factory is not None else None
    leds = _leds(cfg, factory, devices) if factory is not None else {}
    player = SignalPlayer(buzzer, leds, muted=cfg.buzzer.mute or cfg.buzzer.volume <= 0)

    display = None
    if cfg.display.driver != "none":
        opener = _dummy_opener(cfg.display.rotate) if simulate else _luma_opener(cfg.display)
        display = DisplayWorker(
            opener,
            language=cfg.display.language,
            contrast=cfg.display.contrast,
            dim_after_s=cfg.display.dim_after_s,
            blank_after_s=cfg.display.blank_after_s,
            frames_dir=frames_dir,
        )

    def close_devices() -> None:
        for device in devices:
            device.close()

    panel = PanelFeedback(
        patterns,
        player=player,
        display=display,
        on_button=on_button,
        echo=simulate,
        closers=[close_devices],
    )
    panel.pin_factory = factory
    if factory is not None:
        buttons = ButtonPanel(cfg.buttons, panel.button, pin_factory=factory)
        panel.add_closer(buttons.close)
    return panel


def _real_factory() -> Any:
    try:
        return Device.ensure_pin_factory()
    except Exception as e:
        log.warning("no GPIO on this machine (%s); buzzer, LEDs and buttons are off", e)
        return None


def _buzzer(cfg: Config, factory: Any, devices: list[Any]) -> ToneOutput | None:
    b = cfg.buzzer
    if b.kind == "none" or not b.pin:
        return None
    try:
        if b.kind == "passive":
            pwm = PWMOutputDevice(
                b.pin,
                active_high=b.active_high,
                initial_value=0,
                frequency=2000,
                pin_factory=factory,
            )
            devices.append(pwm)
            return PassiveBuzzer(pwm, b.volume)

        out = DigitalOutputDevice(
            b.pin, active_high=b.active_high, initial_value=False, pin_factory=factory
        )
        devices.append(out)
        return ActiveBuzzer(out)
    except Exception as e:
        log.warning("buzzer on %s is not usable (%s); going on without sound", b.pin, e)
        return None


def _leds(cfg: Config, factory: Any, devices: list[Any]) -> dict[str, Any]:
    leds: dict[str, Any] = {}
    for colour in COLOURS:
        pin = getattr(cfg.leds, colour)
        if not pin:
            continue
        try:
            led = LED(
                pin, active_high=cfg.leds.active_high, initial_value=False, pin_factory=factory
            )
        except Exception as e:
            log.warning("%s LED on %s is not usable (%s); going on without it", colour, pin, e)
            continue
        devices.append(led)
        leds[colour] = led
    return leds


def _dummy_opener(rotate: int) -> Callable[[], Any]:
    return lambda: dummy(width=128, height=64, rotate=rotate, mode="1")


def _luma_opener(d: Display) -> Callable[[], Any]:
    dc = bcm(d.spi_dc, "display.spi_dc") if d.interface == "spi" else 0
    rst = bcm(d.spi_reset, "display.spi_reset") if d.interface == "spi" and d.spi_reset else None

    def open_luma() -> Any:
        if d.interface == "i2c":
            serial = i2c(port=d.i2c_port, address=d.i2c_address)
        else:
            serial = spi(port=d.spi_port, device=d.spi_device, gpio_DC=dc, gpio_RST=rst)
        driver = ssd1306 if d.driver == "ssd1306" else sh1106
        try:
            return driver(serial, width=128, height=64, rotate=d.rotate)
        except Exception:
            # An absent panel fails its init commands; without this every retry
            # would leak the bus file descriptor.
            serial.cleanup()
            raise

    return open_luma
