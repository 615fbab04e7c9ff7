"""Sound and light patterns: the built-in set and the config text format."""

from __future__ import annotations

import pytest

from kiosk import config
from kiosk.exc import ConfigError
from kiosk.feedback.patterns import (
    COLOURS,
    DEFAULTS,
    PROBLEM,
    Light,
    Tone,
    parse_light,
    parse_sound,
    with_overrides,
)
from kiosk.models import Verdict


def _rhythm(name: str) -> tuple[tuple[bool, float], ...]:
    """What an active buzzer (on/off only) makes of a pattern."""
    merged: list[tuple[bool, float]] = []
    for step in DEFAULTS[name].steps():
        on = step.hz > 0
        if merged and merged[-1][0] == on:
            merged[-1] = (on, merged[-1][1] + step.seconds)
        else:
            merged.append((on, step.seconds))
    while merged and not merged[-1][0]:
        merged.pop()
    return tuple(merged)


def test_patterns_every_verdict_has_one() -> None:
    """Every verdict the engine can give makes a sound and a light."""
    for verdict in Verdict:
        p = DEFAULTS[str(verdict)]
        assert p.sound and p.light, verdict


def test_patterns_distinct_on_an_active_buzzer() -> None:
    """Even an on/off buzzer gives each verdict its own rhythm."""
    rhythms = {name: _rhythm(name) for name in DEFAULTS}
    assert len(set(rhythms.values())) == len(rhythms)


def test_patterns_distinct_lights() -> None:
    """No two verdicts blink the LEDs the same way."""
    lights = {(p.light, p.latch) for p in DEFAULTS.values()}
    assert len(lights) == len(DEFAULTS)


def test_patterns_ok_is_shortest_and_quietest() -> None:
    """The common case is the shortest sound and the softest one."""
    ok = DEFAULTS[Verdict.OK]
    ok_sound = sum(t.ms for t in ok.sound)
    ok_level = max(t.level for t in ok.sound if t.hz)
    for name, p in DEFAULTS.items():
        if name == Verdict.OK:
            continue
        assert sum(t.ms for t in p.sound) > ok_sound, name
        assert max(t.level for t in p.sound if t.hz) > ok_level, name
    assert not ok.latch


def test_patterns_alerts_latch_a_light() -> None:
    """After a problem scan a lit LED still says so once the sound has ended."""
    for name in (Verdict.UNKNOWN, Verdict.MISSHELVED, Verdict.INVALID, Verdict.ERROR, PROBLEM):
        assert DEFAULTS[name].latch, name


def test_patterns_steps_merge_both_timelines() -> None:
    """Sound and light changes line up in one step list at every change point."""
    steps = DEFAULTS[Verdict.OK].steps()
    assert [(round(s.seconds, 3), s.hz, s.leds) for s in steps] == [
        (0.04, 2700.0, frozenset({"green"})),
        (0.11, 0.0, frozenset({"green"})),
    ]


def test_patterns_steps_keep_every_duration() -> None:
    """Merging never stretches or cuts a tone, a pause or a light: each colour stays lit as long."""
    for name, p in DEFAULTS.items():
        steps = p.steps()
        sound_ms = sum(t.ms for t in p.sound)
        light_ms = sum(x.ms for x in p.light)
        assert sum(s.seconds for s in steps) == pytest.approx(max(sound_ms, light_ms) / 1000), name
        tone_ms = sum(t.ms for t in p.sound if t.hz)
        assert sum(s.seconds for s in steps if s.hz) == pytest.approx(tone_ms / 1000), name
        for colour in COLOURS:
            lit_ms = sum(x.ms for x in p.light if colour in x.on)
            lit = sum(s.seconds for s in steps if colour in s.leds)
            assert lit == pytest.approx(lit_ms / 1000), (name, colour)


def test_patterns_text_round_trip() -> None:
    """Every built-in pattern can be written in the config format and read back."""
    for p in DEFAULTS.values():
        sound, light = p.describe()
        assert parse_sound(sound) == p.sound
        assert parse_light(light) == (p.light, p.latch)


def test_patterns_parse_examples() -> None:
    """The documented examples mean what the documentation says."""
    assert parse_sound("40@2700~0.25 80") == (Tone(40, 2700.0, 0.25), Tone(80))
    assert parse_light("150:y 50 150:R latch:yr") == (
        (Light(150, frozenset({"yellow"})), Light(50), Light(150, frozenset({"red"}))),
        frozenset({"yellow", "red"}),
    )


@pytest.mark.parametrize("spec", ["40@", "x", "40@2700~2", "0@100", "-5", "40@-3", "20000@100"])
def test_patterns_bad_sound_names_the_key(spec: str) -> None:
    """A typo in a sound override stops the start with the config key in the message."""
    with pytest.raises(ConfigError, match=r"config key buzzer.patterns\[0\]: "):
        config.from_dict({"buzzer": {"patterns": [f"ok = {spec}"]}})


@pytest.mark.parametrize("spec", ["150:b", "latch:r 100", "abc:g", "0:g"])
def test_patterns_bad_light_names_the_key(spec: str) -> None:
    """A typo in a light override stops the start with the config key in the message."""
    with pytest.raises(ConfigError, match=r"config key leds.patterns\[0\]: "):
        config.from_dict({"leds": {"patterns": [f"ok = {spec}"]}})


def test_patterns_override_unknown_verdict() -> None:
    """An override for a verdict that does not exist is refused, listing the real ones."""
    with pytest.raises(ValueError, match="misshelved"):
        with_overrides(["okay = 40@2000"], [])
    with pytest.raises(ConfigError, match=r"config key buzzer.patterns\[1\]: .*misshelved"):
        config.from_dict({"buzzer": {"patterns": ["ok = 40@2000", "okay = 40@2000"]}})


def test_patterns_override_from_config_file() -> None:
    """An override in the TOML file changes only that verdict's sound."""
    cfg = config.from_dict({"buzzer": {"patterns": ["ok = 20@3000~0.1"]}})
    out = with_overrides(cfg.buzzer.patterns, cfg.leds.patterns)
    assert out[Verdict.OK].sound == (Tone(20, 3000.0, 0.1),)
    assert out[Verdict.OK].light == DEFAULTS[Verdict.OK].light
    assert out[Verdict.DUPLICATE] == DEFAULTS[Verdict.DUPLICATE]
    assert out[Verdict.OK]._replace(sound=DEFAULTS[Verdict.OK].sound) == DEFAULTS["ok"]
