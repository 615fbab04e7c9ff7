"""The whole panel as the daemon builds it: simulated pins, dummy OLED, buttons."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk import config
from kiosk.config import Buttons
from kiosk.exc import ConfigError
from kiosk.feedback import Status, build
from kiosk.feedback.buttons import ButtonPanel
from kiosk.feedback.panel import PanelFeedback
from kiosk.models import Item, ProblemKind, Scan, Verdict

ITEM = Item("B0001", "020 SUL p", "Pengantar ilmu perpustakaan", "Referensi")


def _scan(verdict: Verdict, code: str = "B0001") -> Scan:
    return Scan(seq=1, code=code, verdict=verdict, scanner="sim", ts=0.0)


class Actions:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.event = threading.Event()

    def __call__(self, name: str) -> None:
        self.names.append(name)
        self.event.set()


@pytest.fixture
def actions() -> Actions:
    return Actions()


@pytest.fixture
def panel(tmp_path: Path, actions: Actions) -> Iterator[PanelFeedback]:
    # Short problem/unknown patterns keep the real-time tests quick; same rhythm shape.
    cfg = config.from_dict(
        {
            "buttons": {"shutdown_hold_s": 0.05, "bounce_ms": 1000},
            "display": {"dim_after_s": 0},
            "buzzer": {"patterns": ["problem = 20@300 10 20@300 10 20@300"]},
            "leds": {"patterns": ["problem = 60:r latch:r", "unknown = 30:r latch:r"]},
        }
    )
    fb = build(cfg, simulate=True, frames_dir=tmp_path / "frames", on_button=actions)
    assert isinstance(fb, PanelFeedback)
    yield fb
    fb.close()


def _state(fb: PanelFeedback, pin: str) -> bool:
    return bool(fb.pin_factory.pin(pin).state)


def _levels(fb: PanelFeedback, pin: str) -> list[bool]:
    return [bool(s.state) for s in fb.pin_factory.pin(pin).states]


def test_build_scan_sounds_lights_and_logs(
    panel: PanelFeedback, caplog: pytest.LogCaptureFixture
) -> None:
    """In simulation an OK scan beeps and flashes green on mock pins and says so in the log.

    One line in words at info level (what the librarian would notice), the raw
    patterns at debug level.
    """
    with caplog.at_level(logging.DEBUG, logger="kiosk.feedback"):
        panel.scan(_scan(Verdict.OK), ITEM, Status(scanned=1))
        assert panel.player is not None and panel.player.idle.wait(5)
    assert _levels(panel, "GPIO18") == [False, True, False]
    assert _levels(panel, "GPIO23") == [False, True, False]
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert info == [
        "B0001      020 SUL p         -> OK"
        " | sound: one very short beep | light: green flashes once"
    ]
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert "buzzer ok 40@2700~0.25" in debug
    assert "leds ok 150:g" in debug


def test_build_frames_show_what_the_oled_showed(panel: PanelFeedback, tmp_path: Path) -> None:
    """Each screen the simulated OLED drew is kept as a numbered PNG named after it."""
    assert panel.display is not None
    panel.starting("v0.1.0")  # the panel is opened for its first screen
    assert panel.display.frames_drawn.acquire(timeout=5)
    panel.scan(_scan(Verdict.MISSHELVED), ITEM, Status(scanned=1))
    frames = tmp_path / "frames"
    for _ in range(4):  # start screen(s), then the verdict
        assert panel.display.frames_drawn.acquire(timeout=5)
        if any(p.name.endswith("-misshelved.png") for p in frames.iterdir()):
            break
    panel.close()
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    screens = [n.split("-", 1)[1] for n in names]
    assert names[0] == "0001-starting.png"
    assert "misshelved.png" in screens
    assert screens[-1] == "stopped.png"
    assert [n[:4] for n in names] == [f"{i:04d}" for i in range(1, len(names) + 1)]


def test_build_close_leaves_stopped_screen_and_dark_leds(panel: PanelFeedback) -> None:
    """On stop the screen says so (and stays), and no LED or buzzer is left on."""
    panel.scan(_scan(Verdict.UNKNOWN), None, Status(scanned=1))
    assert panel.player is not None and panel.player.idle.wait(5)
    assert _state(panel, "GPIO25")  # red latched for the unknown item
    panel.close()
    for pin in ("GPIO18", "GPIO23", "GPIO24", "GPIO25"):
        assert not _state(panel, pin), pin
    assert panel.display is not None and panel.display.device is not None
    assert panel.display.device.persist is True


def test_build_buttons_report_actions(panel: PanelFeedback, actions: Actions) -> None:
    """Pressing sync asks the daemon to sync; a bounce right after is ignored."""
    pin = panel.pin_factory.pin("GPIO6")
    pin.drive_low()
    pin.drive_high()
    pin.drive_low()
    pin.drive_high()
    assert actions.event.wait(5)
    assert actions.names == ["sync"]


def test_build_mute_button_silences(panel: PanelFeedback, actions: Actions) -> None:
    """The mute button silences the buzzer but the LEDs still show each verdict."""
    panel.pin_factory.pin("GPIO5").drive_low()
    assert actions.event.wait(5)
    assert actions.names == ["mute"] and panel.muted
    panel.scan(_scan(Verdict.DUPLICATE), ITEM, Status(scanned=2))
    assert panel.player is not None and panel.player.idle.wait(5)
    assert _levels(panel, "GPIO18") == [False]
    assert _levels(panel, "GPIO24") == [False, True, False, True, False]  # two yellow blinks


def test_build_shutdown_needs_a_long_press(panel: PanelFeedback, actions: Actions) -> None:
    """A tap on the shutdown button does nothing; holding it asks for shutdown."""
    pin = panel.pin_factory.pin("GPIO13")
    pin.drive_low()
    pin.drive_high()
    assert not actions.event.wait(0.3)
    pin.drive_low()
    assert actions.event.wait(5)
    assert actions.names == ["shutdown"]
    pin.drive_high()


def test_buttons_debounce_uses_the_clock() -> None:
    """Presses closer together than bounce_ms count once; a later one counts again."""
    now = [0.0]
    seen: list[str] = []
    factory = MockFactory()
    buttons = ButtonPanel(
        Buttons(bounce_ms=30), seen.append, pin_factory=factory, clock=lambda: now[0]
    )
    pin = factory.pin("GPIO5")
    pin.drive_low()
    pin.drive_high()
    now[0] = 0.02
    pin.drive_low()
    pin.drive_high()
    now[0] = 0.06
    pin.drive_low()
    pin.drive_high()
    buttons.close()
    assert seen == ["mute", "mute"]


def test_build_problem_alerts_once_and_keeps_banner(panel: PanelFeedback) -> None:
    """A repeated problem report alerts once; the banner stays until resolved."""
    assert panel.player is not None and panel.display is not None
    panel.problem(ProblemKind.SLIMS, "cannot reach SLiMS")
    assert panel.player.idle.wait(5)
    first = _levels(panel, "GPIO18")
    panel.problem(ProblemKind.SLIMS, "cannot reach SLiMS")
    assert panel.player.idle.wait(5)
    assert _levels(panel, "GPIO18") == first
    assert _state(panel, "GPIO25")
    panel.resolve(ProblemKind.SLIMS)
    assert panel.player.idle.wait(5)
    assert not _state(panel, "GPIO25")


def test_build_paused_scans_alert_every_time(panel: PanelFeedback) -> None:
    """Every scan refused while paused is heard, not just the first."""
    assert panel.player is not None
    for _ in range(2):
        panel.problem(ProblemKind.PAUSED, "scanning is paused")
        assert panel.player.idle.wait(5)
    assert _levels(panel, "GPIO18").count(True) == 6


def test_build_refuses_shared_pins() -> None:
    """An SPI display wired to the LED pins is a config error naming both keys."""
    cfg = config.from_dict({"display": {"interface": "spi", "spi_dc": "GPIO24"}})
    with pytest.raises(ConfigError, match=r"display.spi_dc and leds.yellow both use GPIO24"):
        config.check_pins(cfg)


def test_check_pins_passes_the_shipped_spi_choice() -> None:
    """Choosing an SPI display in the shipped config needs no other pin changed."""
    shipped = config.read_toml(Path(__file__).parent.parent / "config" / "kiosk.toml")
    shipped["display"]["interface"] = "spi"
    for device in (0, 1):
        shipped["display"]["spi_device"] = device
        config.check_pins(config.from_dict(shipped))


@pytest.mark.parametrize(
    ("display", "clash"),
    [
        ({"interface": "i2c", "i2c_port": 0}, r"display \(i2c bus 0\) and buttons.mute"),
        ({"interface": "spi", "spi_port": 1}, r"display \(spi bus 1\) and buzzer.pin"),
        (
            {"interface": "spi", "spi_reset": "GPIO8"},
            r"display \(spi bus 0\) and display.spi_reset",
        ),
    ],
)
def test_check_pins_knows_every_display_bus(display: dict[str, object], clash: str) -> None:
    """I2C-0 SDA/SCL, SPI1's pins and chip select, and SPI0's CE pins are refused when shared."""
    cfg = config.from_dict({"display": display, "buttons": {"mute": "GPIO1"}})
    with pytest.raises(ConfigError, match=clash):
        config.check_pins(cfg)


def test_build_passive_buzzer_plays_tones(tmp_path: Path) -> None:
    """A passive buzzer in config gets PWM tones at the configured volume."""
    cfg = config.from_dict({"buzzer": {"kind": "passive", "volume": 0.5}})
    fb = build(cfg, simulate=True)
    assert isinstance(fb, PanelFeedback) and fb.player is not None
    fb.scan(_scan(Verdict.OK), ITEM, Status())
    assert fb.player.idle.wait(5)
    pin = fb.pin_factory.pin("GPIO18")
    assert pin.frequency == 2700
    fb.close()
    assert [s.state for s in pin.states][1:] == [pytest.approx(0.0625), 0]


def test_build_without_display(tmp_path: Path) -> None:
    """With no display fitted the buzzer and LEDs still work."""
    cfg = config.from_dict({"display": {"driver": "none"}})
    fb = build(cfg, simulate=True)
    assert isinstance(fb, PanelFeedback) and fb.display is None and fb.player is not None
    fb.scan(_scan(Verdict.OK), ITEM, Status())
    assert fb.player.idle.wait(5)
    fb.close()
    assert _levels(fb, "GPIO23") == [False, True, False]  # one green flash


def test_build_refuses_shared_pins_across_naming_styles() -> None:
    """A button on BOARD12 clashes with the buzzer on GPIO18 (the same pin)."""
    cfg = config.from_dict({"buttons": {"sync": "BOARD12"}})
    with pytest.raises(ConfigError, match=r"buzzer.pin and buttons.sync both use GPIO18"):
        config.check_pins(cfg)


def test_check_pins_names_bad_pins_and_bus_clashes() -> None:
    """A pin that is no pin, or one the display bus owns, is refused naming the key."""
    bad = config.from_dict({"display": {"interface": "spi", "spi_dc": "GPIOX"}})
    with pytest.raises(ConfigError, match=r"config key display.spi_dc: 'GPIOX' is not a GPIO"):
        config.check_pins(bad)
    on_bus = config.from_dict({"leds": {"red": "GPIO3"}})
    with pytest.raises(ConfigError, match=r"display \(i2c bus 1\) and leds.red both use GPIO3"):
        config.check_pins(on_bus)
    unfitted = config.from_dict(
        {"display": {"interface": "spi"}, "leds": {"yellow": "", "red": ""}}
    )
    config.check_pins(unfitted)
    config.check_pins(config.Config())


def test_build_example_config_file() -> None:
    """The shipped example configuration builds a working simulated panel."""
    cfg = config.load(Path(__file__).parent.parent / "config" / "kiosk.toml")
    config.check_pins(cfg)
    fb = build(cfg, simulate=True)
    try:
        assert isinstance(fb, PanelFeedback) and fb.player is not None
        fb.scan(_scan(Verdict.OK), ITEM, Status(scanned=1))
        assert fb.player.idle.wait(5)
        assert _levels(fb, cfg.buzzer.pin) == [False, True, False]
        assert _levels(fb, cfg.leds.green) == [False, True, False]
    finally:
        fb.close()


def test_build_resolved_problem_keeps_the_last_scans_light(panel: PanelFeedback) -> None:
    """A problem resolved in the background leaves the red LED of the unknown item just scanned."""
    assert panel.player is not None
    panel.problem(ProblemKind.SLIMS, "cannot reach SLiMS")
    assert panel.player.idle.wait(5)
    panel.scan(_scan(Verdict.UNKNOWN), None, Status(scanned=1))
    assert panel.player.idle.wait(5)
    panel.resolve(ProblemKind.SLIMS)
    assert panel.player.idle.wait(5)
    assert _state(panel, "GPIO25")
