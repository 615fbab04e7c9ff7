"""The guides in docs/ agree with the code: pins with the config, alerts with the patterns."""

from __future__ import annotations

import re
import tomllib
import xml.dom.minidom
from pathlib import Path

import pytest

from kiosk import config
from kiosk.feedback import pins
from kiosk.feedback.describe import light_words, sound_words
from kiosk.feedback.i18n import tr
from kiosk.feedback.patterns import DEFAULTS
from kiosk.models import Verdict

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"
#: BCM number -> physical header pin.
HEADER = {bcm: header for header, bcm in pins._HEADER.items()}


def _section(text: str, heading: str, level: int = 2) -> str:
    """From the heading ``heading`` to the next heading of its level."""
    marks = "#" * level
    start = text.index(f"\n{marks} {heading}\n")
    end = text.find(f"\n{marks} ", start + 1)
    return text[start : end if end > 0 else None]


def _rows(section: str) -> list[list[str]]:
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows[2:]]


def test_wiring_pin_table_is_the_default_config() -> None:
    """Every pin in the wiring guide's table is the shipped default, at the right header pin."""
    table = _rows(_section((DOCS / "wiring.md").read_text("utf-8"), "Pins (default configuration)"))
    cfg = config.Config()
    keys = set()
    for _part, key_cell, default, bcm, header in (row for row in table if len(row) == 5):
        key = key_cell.split("`")[1]
        section, name = key.split(".")
        value = default.strip("`")
        if name != "i2c_port":
            assert getattr(getattr(cfg, section), name) == value, key
            assert pins.bcm(value) == int(bcm), key
        else:
            assert int(bcm) in pins.bus_pins("i2c", cfg.display.i2c_port), key
        assert HEADER[int(bcm)] == int(header), f"GPIO{bcm} is header pin {HEADER[int(bcm)]}"
        keys.add(key)
    wired = {f"leds.{c}" for c in ("green", "yellow", "red")}
    wired |= {f"buttons.{b}" for b in ("mute", "sync", "shutdown")} | {"buzzer.pin"}
    assert wired <= keys


def test_wiring_spi_example_is_a_valid_config() -> None:
    """The SPI settings the guide tells you to write pass the daemon's own pin check."""
    text = (DOCS / "wiring.md").read_text("utf-8")
    block = re.search(r"```toml\n(\[display\]\ninterface = \"spi\".*?)```", text, re.S)
    assert block is not None
    cfg = config.from_dict(tomllib.loads(block.group(1)))
    config.check_pins(cfg)  # raises on a clash
    table = _rows(_section(text, "I²C or SPI").split("| OLED pin |")[1].join(["| OLED pin |", ""]))
    doc = {
        row[1].split("`")[1]: (int(row[2]), int(row[3])) for row in table if "`display" in row[1]
    }
    for key in ("display.spi_dc", "display.spi_reset"):
        value = getattr(cfg.display, key.split(".")[1])
        assert doc[key] == (pins.bcm(value), HEADER[pins.bcm(value)]), key


def test_wiring_drawing_is_embedded_and_well_formed() -> None:
    """The guide shows the SVG drawing, and the drawing labels the default GPIO pins."""
    assert "](wiring.svg)" in (DOCS / "wiring.md").read_text("utf-8")
    svg = (DOCS / "wiring.svg").read_text("utf-8")
    xml.dom.minidom.parseString(svg)
    cfg = config.Config()
    for pin in (
        cfg.buzzer.pin,
        cfg.leds.green,
        cfg.leds.yellow,
        cfg.leds.red,
        *cfg.buttons,
    ):
        if isinstance(pin, str) and pin.startswith("GPIO"):
            assert pin in svg, pin


ALERTS = [v for v in Verdict if v not in (Verdict.OK, Verdict.COMMAND)]


@pytest.mark.parametrize("lang", ["en", "id"])
def test_stocktake_day_describes_every_alert_as_the_cart_signals_it(lang: str) -> None:
    """For each alert the day guide gives the screen word, sound and light of its pattern."""
    heading = (
        "What to do at each alert" if lang == "en" else "Yang dilakukan pada setiap peringatan"
    )
    section = _section((DOCS / "stocktake-day.md").read_text("utf-8"), heading, level=3)
    for verdict in [Verdict.OK, *ALERTS]:
        p = DEFAULTS[verdict]
        row = next((r for r in _rows(section) if r[0] == f"**{tr(lang, verdict)}**"), None)
        assert row is not None, f"{verdict} missing in the {lang} table"
        assert row[1] == sound_words(p.sound, lang, pitched=False), verdict
        assert row[2] == light_words(p.light, p.latch, lang), verdict


def test_readme_links_the_guides() -> None:
    """The README's Guides list links every guide."""
    readme = README.read_text("utf-8")
    for doc in ("docs/wiring.md", "docs/stocktake-day.md"):
        assert f"]({doc})" in readme
