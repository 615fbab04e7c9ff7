"""Configuration: one TOML file, validated at start.

Each section is a named tuple whose defaults are the embedded defaults
(so ``kiosk demo`` and ``kiosk run --simulate`` need no file at all). Unknown
keys and wrong types stop the program with a message naming ``section.key``:
a typo in the stacks must not silently fall back to a default.

The stages below the wiring never see this module: they take plain values or
their own small settings protocols (which these sections satisfy) and raise
``ValueError`` about a value. Only here is such an error turned into one that
names the key: while loading where the value alone decides, and in
:func:`scanner_selectors` / :func:`check_pins` for the checks the wiring runs
when it builds that part (so ``kiosk doctor`` can still load such a file and
report each part on its own).
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
import types
import typing
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from kiosk.exc import ConfigError
from kiosk.scanner import keymaps

if typing.TYPE_CHECKING:  # the parts' own checks load when a part is checked
    from kiosk.scanner.discovery import Selector

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")
DEFAULT_STATE_DIR = Path("/var/lib/kiosk")


class StockTake(NamedTuple):
    name: str = ""
    location: str = ""
    #: An override of the statuses SLiMS skips (learned by ``kiosk catalog pull``); empty: SLiMS's.
    excluded_statuses: tuple[str, ...] = ()
    item_code_pattern: str = r"^[A-Za-z0-9_.\-]{3,32}$"
    command_prefix: str = "KIOSK:"
    misshelf_check: bool = True
    misshelf_max_gap: int = 3
    #: A catalogue pulled longer ago than this is a problem on the screen and in the doctor.
    catalog_max_age_days: float = 14.0


class Scanner(NamedTuple):
    backend: str = "auto"
    devices: tuple[str, ...] = ("auto",)
    grab: bool = True
    layout: str = "us"
    terminators: tuple[str, ...] = ("enter", "kpenter")
    timeout_ms: int = 300
    on_timeout: str = "flush"
    prefix: str = ""
    suffix: str = ""
    aim: str = "strip"
    max_length: int = 64


class Buzzer(NamedTuple):
    pin: str = "GPIO18"
    kind: str = "active"
    active_high: bool = True
    volume: float = 1.0
    mute: bool = False
    #: Sound overrides, "verdict = spec" (see kiosk/feedback/patterns.py), e.g. "ok = 30@2700~0.2".
    patterns: tuple[str, ...] = ()


class Leds(NamedTuple):
    green: str = "GPIO23"
    yellow: str = "GPIO24"
    red: str = "GPIO25"
    active_high: bool = True
    #: Light overrides, "verdict = spec" (see kiosk/feedback/patterns.py), e.g. "ok = 100:g".
    patterns: tuple[str, ...] = ()


class Buttons(NamedTuple):
    mute: str = "GPIO5"
    sync: str = "GPIO6"
    shutdown: str = "GPIO13"
    pull_up: bool = True
    bounce_ms: int = 30
    shutdown_hold_s: float = 3.0


class Display(NamedTuple):
    driver: str = "ssd1306"
    interface: str = "i2c"
    i2c_port: int = 1
    i2c_address: int = 0x3C
    spi_port: int = 0
    spi_device: int = 0
    spi_dc: str = "GPIO27"
    spi_reset: str = "GPIO22"
    rotate: int = 0
    contrast: int = 255
    language: str = "en"
    dim_after_s: float = 60.0
    blank_after_s: float = 600.0


class Slims(NamedTuple):
    url: str = ""
    username: str = ""
    credentials_file: str = "/etc/kiosk/credentials.toml"
    verify_tls: bool = True
    ca_bundle: str = ""
    timeout_s: float = 15.0
    retries: int = 4
    sync_mode: str = "auto"
    upload_chunk: int = 2000
    #: Where upload files go first: mount points matching these (a USB stick);
    #: else the state directory's ``exports`` folder.
    export_dirs: tuple[str, ...] = ("/media/*/*", "/media/*")


class Report(NamedTuple):
    language: str = "en"


class Web(NamedTuple):
    enabled: bool = False
    address: str = "0.0.0.0"  # noqa: S104 (the phone reaches the cart over the library's Wi-Fi)
    port: int = 8080
    language: str = "en"


class Config(NamedTuple):
    state_dir: str = str(DEFAULT_STATE_DIR)
    hardware: str = "auto"
    log_level: str = "info"
    stocktake: StockTake = StockTake()
    scanner: Scanner = Scanner()
    buzzer: Buzzer = Buzzer()
    leds: Leds = Leds()
    buttons: Buttons = Buttons()
    display: Display = Display()
    slims: Slims = Slims()
    report: Report = Report()
    web: Web = Web()

    @property
    def state_path(self) -> Path:
        return Path(self.state_dir)

    @property
    def exports_path(self) -> Path:
        """Where upload files go when no USB stick is mounted."""
        return self.state_path / "exports"


#: Allowed values for string keys that name a choice.
CHOICES: dict[str, tuple[str, ...]] = {
    "hardware": ("auto", "simulated"),
    "log_level": ("debug", "info", "warning", "error"),
    "scanner.backend": ("auto", "evdev", "stdin"),
    "scanner.on_timeout": ("flush", "discard"),
    "scanner.aim": ("strip", "keep", "require"),
    "buzzer.kind": ("active", "passive", "none"),
    "display.driver": ("ssd1306", "sh1106", "none"),
    "display.interface": ("i2c", "spi"),
    "display.language": ("en", "id"),
    "report.language": ("en", "id"),
    "web.language": ("en", "id"),
    "slims.sync_mode": ("auto", "item", "upload", "file"),
}

RANGES: dict[str, tuple[float, float]] = {
    "buzzer.volume": (0.0, 1.0),
    "display.contrast": (0, 255),
    "display.i2c_address": (0x03, 0x77),
    "scanner.timeout_ms": (10, 60_000),
    "stocktake.misshelf_max_gap": (0, 50),
    "stocktake.catalog_max_age_days": (0, 3650),
    "scanner.max_length": (1, 4096),
    "slims.retries": (0, 20),
    "slims.timeout_s": (0.5, 600.0),
    "slims.upload_chunk": (1, 100_000),
    "web.port": (1, 65_535),
}


def load(
    path: Path | str | None = None,
    *,
    state_dir: Path | str | None = None,
    env: typing.Mapping[str, str] | None = None,
) -> Config:
    """Load the configuration.

    The file is ``path``, else ``$KIOSK_CONFIG``, else ``/etc/kiosk/kiosk.toml``
    if it exists, else embedded defaults. The state directory is ``state_dir``,
    else ``$KIOSK_STATE_DIR``, else the file's ``state_dir``.
    """
    env = os.environ if env is None else env
    explicit = path if path is not None else env.get("KIOSK_CONFIG") or None
    data: dict[str, Any] = {}
    if explicit is not None:
        data = read_toml(Path(explicit))
    elif DEFAULT_PATH.is_file():
        data = read_toml(DEFAULT_PATH)
    cfg = from_dict(data)
    override = state_dir if state_dir is not None else env.get("KIOSK_STATE_DIR") or None
    if override is not None:
        cfg = cfg._replace(state_dir=str(override))
    if env.get("KIOSK_SIMULATE", "") not in ("", "0"):
        cfg = cfg._replace(hardware="simulated")
    return cfg


#: Environment variables that carry SLiMS credentials; they win over the files.
SLIMS_ENVIRONMENT = ("SLIMS_URL", "SLIMS_USER", "SLIMS_PASSWORD")


def slims_environment(env: typing.Mapping[str, str] | None = None) -> dict[str, str]:
    """The SLiMS credentials set in the environment, for :func:`kiosk.slims.connect`.

    Read here, with the rest of the configuration, so that no stage below the
    wiring looks at the process environment on its own.
    """
    env = os.environ if env is None else env
    return {key: env[key] for key in SLIMS_ENVIRONMENT if env.get(key)}


def read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except PermissionError:
        raise ConfigError(f"config file {path} is not readable by this user") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory") from None
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    nul = data.find(b"\0")
    if nul >= 0:
        raise ConfigError(
            f"config file {path} is not a text file (a NUL byte at offset {nul}); "
            "start again from a copy of config/kiosk.toml"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"config file {path} is not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
            f"{e.start}); TOML must be UTF-8: save it again as UTF-8 in the editor"
        ) from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None


def from_dict(data: typing.Mapping[str, Any]) -> Config:
    """Build a :class:`Config` from parsed TOML, checking every key and type."""
    cfg = typing.cast(Config, _build(Config, data, ""))
    _check_values(cfg)
    return cfg


def _check_values(cfg: Config) -> None:
    """Values that are wrong whatever else is configured (checked by their own stage)."""
    _as_key("scanner.layout", keymaps.get, cfg.scanner.layout)
    _as_key("stocktake.item_code_pattern", _regex, cfg.stocktake.item_code_pattern)
    for i, name in enumerate(cfg.scanner.terminators):
        _as_key(f"scanner.terminators[{i}]", keymaps.terminator_codes, [name])
    if cfg.buzzer.patterns or cfg.leds.patterns:
        _check_patterns(cfg)
    _as_key("web.address", ipaddress.ip_address, cfg.web.address)
    if cfg.display.rotate not in (0, 2):
        raise ConfigError(
            f"config key display.rotate must be 0 or 2 (upside down); got {cfg.display.rotate}. "
            "The screens are laid out for a landscape 128x64 panel."
        )


def _check_patterns(cfg: Config) -> None:
    from kiosk.feedback import patterns  # noqa: PLC0415  (only a file with overrides needs it)

    overridden = dict(patterns.DEFAULTS)
    for i, entry in enumerate(cfg.buzzer.patterns):
        _as_key(
            f"buzzer.patterns[{i}]", partial(patterns.apply_override, overridden, sound=True), entry
        )
    for i, entry in enumerate(cfg.leds.patterns):
        _as_key(
            f"leds.patterns[{i}]", partial(patterns.apply_override, overridden, sound=False), entry
        )


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as e:  # not a ValueError
        raise ValueError(f"{pattern!r} is not a valid regular expression: {e}") from None


_T = typing.TypeVar("_T")
_R = typing.TypeVar("_R")


def _as_key(key: str, check: typing.Callable[[_T], _R], value: _T) -> _R:
    """``check(value)``, its ``ValueError`` turned into a :class:`ConfigError` naming ``key``."""
    try:
        return check(value)
    except ConfigError:
        raise
    except ValueError as e:
        raise ConfigError(f"config key {key}: {e}") from None


def scanner_selectors(scanner: Scanner) -> list[Selector]:
    """``scanner.devices`` parsed; a :class:`ConfigError` naming an entry that is no selector."""
    from kiosk.scanner.discovery import parse_selector  # noqa: PLC0415

    return [
        _as_key(f"scanner.devices[{i}]", parse_selector, text)
        for i, text in enumerate(scanner.devices)
    ]


def check_pins(cfg: Config) -> None:
    """Refuse a configuration where two fitted parts share a GPIO pin.

    Run by the wiring before it builds the feedback parts; not while loading,
    because ``kiosk doctor`` judges the rest of such a file on its own.
    """
    from kiosk.feedback import pins  # noqa: PLC0415

    claims: list[tuple[str, int | None]] = []
    d = cfg.display
    if d.driver != "none":
        port = d.i2c_port if d.interface == "i2c" else d.spi_port
        bus = pins.bus_pins(d.interface, port, d.spi_device)
        claims += [(f"display ({d.interface} bus {port})", n) for n in bus]
        if d.interface == "spi":
            claims.append(("display.spi_dc", _as_key("display.spi_dc", pins.bcm, d.spi_dc)))
            if d.spi_reset:
                number = _as_key("display.spi_reset", pins.bcm, d.spi_reset)
                claims.append(("display.spi_reset", number))
    if cfg.buzzer.kind != "none" and cfg.buzzer.pin:
        claims.append(("buzzer.pin", pins.bcm_or_none(cfg.buzzer.pin)))
    leds = {"green": cfg.leds.green, "yellow": cfg.leds.yellow, "red": cfg.leds.red}
    b = cfg.buttons
    buttons = {"mute": b.mute, "sync": b.sync, "shutdown": b.shutdown}
    for section, wired in (("leds", leds), ("buttons", buttons)):
        claims += [
            (f"{section}.{part}", pins.bcm_or_none(pin)) for part, pin in wired.items() if pin
        ]
    clash = pins.first_clash(claims)
    if clash is not None:
        first, second, number = clash
        raise ConfigError(
            f"config keys {first} and {second} both use GPIO{number}; give each part "
            f'its own pin, or set one to "" if it is not fitted'
        )


def _build(cls: type[Any], data: typing.Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = set(cls._fields)
    unknown = sorted(set(data) - names)
    if unknown:
        where = f"[{prefix.rstrip('.')}]" if prefix else "the top level"
        raise ConfigError(
            f"unknown config key {prefix}{unknown[0]!s} in {where}; "
            f"known keys: {', '.join(sorted(names))}"
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        key = prefix + name
        hint = hints[name]
        if _is_section(hint):
            if not isinstance(value, dict):
                raise ConfigError(f"config key {key} must be a [{key}] table")
            kwargs[name] = _build(typing.cast(type, hint), value, key + ".")
        else:
            kwargs[name] = _check(key, hint, value)
    return cls(**kwargs)


def _is_section(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields")


def _check(key: str, hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:  # a TOML array, kept immutable
        inner = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ConfigError(f"config key {key} must be a list of {inner.__name__}")
        return tuple(_check(f"{key}[{i}]", inner, v) for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        raise AssertionError("unions are not used in config")  # pragma: no cover
    ok = isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(
            f"config key {key} must be {_TYPE_WORDS.get(hint, hint.__name__)}, "
            f"got {type(value).__name__} {value!r}"
        )
    base = key.split("[", maxsplit=1)[0]
    if base in CHOICES and value not in CHOICES[base]:
        raise ConfigError(
            f"config key {key} must be one of {', '.join(CHOICES[base])}; got {value!r}"
        )
    if base in RANGES:
        lo, hi = RANGES[base]
        if not lo <= value <= hi:
            raise ConfigError(f"config key {key} must be between {lo} and {hi}; got {value!r}")
    return value


_TYPE_WORDS = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
