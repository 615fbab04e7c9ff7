"""Configuration: defaults, the example file, and errors that name the key."""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path

import pytest

from kiosk import config
from kiosk.exc import ConfigError
from tests.helpers import ROOT, kiosk

EXAMPLE = ROOT / "config" / "kiosk.toml"


def test_example_config_states_every_default() -> None:
    """The shipped example file sets every key, each to the value used when it is absent."""
    data = tomllib.loads(EXAMPLE.read_text())
    assert config.from_dict(data) == config.Config()

    def keys(cls: type, prefix: str = "") -> set[str]:
        out: set[str] = set()
        for name, hint in typing.get_type_hints(cls).items():
            if hasattr(hint, "_fields"):  # a section
                out |= keys(typing.cast(type, hint), f"{prefix}{name}.")
            else:
                out.add(prefix + name)
        return out

    def present(d: dict[str, object], prefix: str = "") -> set[str]:
        out: set[str] = set()
        for k, v in d.items():
            out |= present(v, f"{k}.") if isinstance(v, dict) else {prefix + k}
        return out

    assert present(data) == keys(config.Config)


def test_no_file_means_embedded_defaults(tmp_path: Path) -> None:
    """Without any file the kiosk runs on its embedded defaults."""
    cfg = config.load(None, env={})
    assert cfg.display.contrast == 255
    assert cfg.scanner.terminators == ("enter", "kpenter")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("colour = 1", "unknown config key colour"),
        ("[display]\ncontrst = 10", "unknown config key display.contrst"),
        ("[display]\ncontrast = 'bright'", "display.contrast must be an integer"),
        ("[display]\ncontrast = 999", "display.contrast must be between"),
        ("[buzzer]\nmute = 1", "buzzer.mute must be true or false"),
        ("[scanner]\ndevices = 'auto'", "scanner.devices must be a list"),
        ("[scanner]\nlayout = 3", "scanner.layout must be a string"),
        ("hardware = 'laptop'", "hardware must be one of"),
        (
            "[scanner]\nlayout = 'dvorak'",
            "config key scanner.layout: unknown keyboard layout 'dvorak'; choose one of us, de, fr",
        ),
        (
            "[scanner]\nterminators = ['enter', 'return']",
            "config key scanner.terminators[1]: unknown terminator key 'return'; known keys:",
        ),
        ("[scanner]\naim = 'maybe'", "scanner.aim must be one of strip, keep, require"),
        ("[display]\nrotate = 1", "config key display.rotate must be 0 or 2"),
        ("display = 3", "display must be a [display] table"),
        ("[display\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml: str, message: str) -> None:
    """A malformed config stops the start with a message naming the offending key."""
    path = tmp_path / "kiosk.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        config.load(path, env={})


def test_state_dir_precedence(tmp_path: Path) -> None:
    """--state-dir beats KIOSK_STATE_DIR, which beats the file's state_dir."""
    path = tmp_path / "kiosk.toml"
    path.write_text('state_dir = "/from/file"')
    assert config.load(path, env={}).state_dir == "/from/file"
    env = {"KIOSK_STATE_DIR": "/from/env"}
    assert config.load(path, env=env).state_dir == "/from/env"
    assert config.load(path, state_dir="/from/flag", env=env).state_dir == "/from/flag"


def test_simulate_from_environment(tmp_path: Path) -> None:
    """KIOSK_SIMULATE=1 means hardware = "simulated"; 0 or unset keeps the file's choice."""
    assert config.load(None, env={"KIOSK_SIMULATE": "1"}).hardware == "simulated"
    assert config.load(None, env={"KIOSK_SIMULATE": "0"}).hardware == "auto"
    assert config.load(None, env={}).hardware == "auto"


def test_scanner_selectors_name_the_entry() -> None:
    """The wiring's selector check names the scanner.devices entry that is no selector."""
    scanner = config.Scanner(devices=("auto", "0c2e:0b61", "Honeywell"))
    with pytest.raises(ConfigError, match=r"config key scanner.devices\[2\]: 'Honeywell' is not"):
        config.scanner_selectors(scanner)
    kinds = [s.kind for s in config.scanner_selectors(config.Scanner(devices=("auto", "/x")))]
    assert kinds == ["auto", "path"]


def test_config_path_from_environment(tmp_path: Path) -> None:
    """KIOSK_CONFIG points the kiosk at another file."""
    path = tmp_path / "other.toml"
    path.write_text("[display]\nlanguage = 'id'")
    assert config.load(None, env={"KIOSK_CONFIG": str(path)}).display.language == "id"


def test_cli_reports_bad_config_in_one_line(tmp_path: Path, kiosk_env: dict[str, str]) -> None:
    """The CLI turns a config error into one line on stderr and exit status 1."""
    path = tmp_path / "kiosk.toml"
    path.write_text("[scanner]\nlayuot = 'us'")
    res = kiosk("--config", str(path), "status", env=kiosk_env)
    assert res.returncode == 1
    assert len(res.stderr.strip().splitlines()) == 1
    assert "scanner.layuot" in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_config_file_is_an_error(tmp_path: Path, kiosk_env: dict[str, str]) -> None:
    """Naming a config file that does not exist is an error, not a silent default."""
    res = kiosk("--config", str(tmp_path / "nope.toml"), "status", env=kiosk_env)
    assert res.returncode == 1
    assert "does not exist" in res.stderr
