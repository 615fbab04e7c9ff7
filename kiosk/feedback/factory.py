"""Build the panel from configuration: real gpiozero/luma parts or their doubles.

Simulation uses gpiozero's ``MockFactory`` (passed as ``pin_factory=``, never
installed globally) and luma's ``dummy`` device. On real hardware each part is
optional: one that cannot be set up is logged once and left out, because a
cart that scans without a buzzer is better than a cart that does not start.
Wiring mistakes that would make two parts fight over a pin are refused
before this runs (``kiosk.config.check_pins``), by the wiring that knows the keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from kiosk.feedback.buttons import ButtonPanel, ButtonSettings
from kiosk.feedback.describe import Narrator
from kiosk.feedback.display import DisplayWorker
from kiosk.feedback.gpio import (
    LED,
    Device,
    DigitalOutputDevice,
    MockFactory,
    MockPWMPin,
    PWMOutputDevice,
)
from kiosk.feedback.panel import PanelFeedback
from kiosk.feedback.patterns import COLOURS, with_overrides
from kiosk.feedback.pins import bcm
from kiosk.feedback.signals import ActiveBuzzer, PassiveBuzzer, SignalPlayer, ToneOutput

log = logging.getLogger(__name__)


class BuzzerSettings(Protocol):
    """The buzzer as wired (the ``[buzzer]`` config section fits)."""

    @property
    def pin(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def active_high(self) -> bool: ...
    @property
    def volume(self) -> float: ...
    @property
    def mute(self) -> bool: ...
    @property
    def patterns(self) -> Sequence[str]: ...


class LedSettings(Protocol):
    """The three LEDs as wired (the ``[leds]`` config section fits)."""

    @property
    def green(self) -> str: ...
    @property
    def yellow(self) -> str: ...
    @property
    def red(self) -> str: ...
    @property
    def active_high(self) -> bool: ...
    @property
    def patterns(self) -> Sequence[str]: ...


class DisplaySettings(Protocol):
    """The OLED panel as wired (the ``[display]`` config section fits)."""

    @property
    def driver(self) -> str: ...
    @property
    def interface(self) -> str: ...
    @property
    def i2c_port(self) -> int: ...
    @property
    def i2c_address(self) -> int: ...
    @property
    def spi_port(self) -> int: ...
    @property
    def spi_device(self) -> int: ...
    @property
    def spi_dc(self) -> str: ...
    @property
    def spi_reset(self) -> str: ...
    @property
    def rotate(self) -> int: ...
    @property
    def contrast(self) -> int: ...
    @property
    def language(self) -> str: ...
    @property
    def dim_after_s(self) -> float: ...
    @property
    def blank_after_s(self) -> float: ...


class FeedbackSettings(Protocol):
    """Every feedback part's settings (the whole :class:`kiosk.config.Config` fits)."""

    @property
    def buzzer(self) -> BuzzerSettings: ...
    @property
    def leds(self) -> LedSettings: ...
    @property
    def buttons(self) -> ButtonSettings: ...
    @property
    def display(self) -> DisplaySettings: ...


def led_pins(leds: LedSettings) -> dict[str, str]:
    """Colour -> pin name, in :data:`COLOURS` order ("" for an LED not fitted)."""
    pins = {"green": leds.green, "yellow": leds.yellow, "red": leds.red}
    return {colour: pins[colour] for colour in COLOURS}


def build(
    cfg: FeedbackSettings,
    *,
    simulate: bool,
    frames_dir: Path | None = None,
    on_button: Callable[[str], None] | None = None,
) -> PanelFeedback:
    """The cart's feedback from ``cfg``; see :func:`kiosk.feedback.build`.

    Pin clashes are the wiring's to refuse first (``kiosk.config.check_pins``).
    """
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
            wait_for_screen=True,
        )

    def close_devices() -> None:
        for device in devices:
            device.close()

    panel = PanelFeedback(
        patterns,
        player=player,
        display=display,
        on_button=on_button,
        narrator=Narrator(cfg.display.language, pitched=cfg.buzzer.kind == "passive")
        if simulate
        else None,
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


def _buzzer(cfg: FeedbackSettings, factory: Any, devices: list[Any]) -> ToneOutput | None:
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


def _leds(cfg: FeedbackSettings, factory: Any, devices: list[Any]) -> dict[str, Any]:
    leds: dict[str, Any] = {}
    for colour, pin in led_pins(cfg.leds).items():
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


# luma is imported by the openers, on the display's own thread: the scan loop never needs it.
def _dummy_opener(rotate: int) -> Callable[[], Any]:
    def open_dummy() -> Any:
        from luma.core.device import dummy  # noqa: PLC0415

        return dummy(width=128, height=64, rotate=rotate, mode="1")

    return open_dummy


def _luma_opener(d: DisplaySettings) -> Callable[[], Any]:
    dc = bcm(d.spi_dc) if d.interface == "spi" else 0
    rst = bcm(d.spi_reset) if d.interface == "spi" and d.spi_reset else None

    def open_luma() -> Any:
        from luma.core.interface.serial import i2c, spi  # noqa: PLC0415
        from luma.oled.device import sh1106, ssd1306  # noqa: PLC0415

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
