"""What a technician checks before trusting a cart, as one list of findings.

Each check returns :class:`Finding` (name, level, message, fix). A check never
raises: whatever goes wrong while checking becomes a finding, because the
doctor is what people run when things are already broken. Scanners are found
with the daemon's own discovery, so the doctor and the daemon agree on them.

Permissions are judged for the *service user* (``kiosk``), from the device
node's owner, group and mode, so the answer is the same whether the doctor
runs as root, as ``kiosk`` or as the technician.
"""

from __future__ import annotations

import dataclasses
import errno
import grp
import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from kiosk import clock
from kiosk import config as config_mod
from kiosk.config import Config
from kiosk.exc import ConfigError, KioskError
from kiosk.scanner import discovery
from kiosk.slims.credentials import Credentials, load_credentials
from kiosk.store import Store

log = logging.getLogger(__name__)

#: Free space below which new scans are at risk (the store rewrites whole files).
DISK_FAIL_BYTES = 50 * 1024 * 1024
DISK_WARN_BYTES = 200 * 1024 * 1024

SERVICE = "kiosk.service"


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but someone should look
    FAIL = "fail"  # the cart will not work as it should
    SKIP = "skip"  # not applicable to this configuration


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the doctor's report."""

    name: str
    level: Level
    message: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "level": str(self.level),
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class Account:
    """A user as the kernel sees it for permission checks."""

    name: str
    uid: int
    gids: frozenset[int]


def lookup_account(name: str) -> Account | None:
    """The user's uid and every gid it gets at login (primary and supplementary)."""
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return None
    gids = {pw.pw_gid}
    gids.update(g.gr_gid for g in grp.getgrall() if name in g.gr_mem)
    return Account(name, pw.pw_uid, frozenset(gids))


def lookup_group(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def tcp_connect(host: str, port: int, timeout: float) -> None:
    with socket.create_connection((host, port), timeout=timeout):
        pass


def systemctl_state(unit: str) -> str | None:
    """``systemctl is-active`` of ``unit``, or ``None`` when systemd is not running."""
    if not Path("/run/systemd/system").is_dir() or shutil.which("systemctl") is None:
        return None
    try:
        out = subprocess.run(
            ["systemctl", "is-active", unit],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


@dataclass(frozen=True)
class System:
    """Where the doctor looks; tests point it at temporary directories."""

    dev: Path = Path("/dev")
    service_user: str = "kiosk"
    account: Callable[[str], Account | None] = lookup_account
    group: Callable[[str], int | None] = lookup_group
    sync_state: Callable[[], clock.SyncState] = clock.sync_state
    wall: Callable[[], float] = time.time
    connect: Callable[[str, int, float], None] = tcp_connect
    service_state: Callable[[str], str | None] = systemctl_state
    discover: Callable[[list[discovery.Selector], str], list[discovery.Node]] = discovery.discover
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    timeout: float = 5.0


# -- running ---------------------------------------------------------------------------


def run(
    config_path: str | Path | None = None,
    state_dir: str | Path | None = None,
    *,
    system: System | None = None,
    only: Iterable[str] = (),
) -> list[Finding]:
    """Run every check (or those named in ``only``) and return the findings in order."""
    system = System() if system is None else system
    cfg, config_finding = _load_config(config_path, state_dir, system)
    wanted = set(only)
    findings = [config_finding] if not wanted or "config" in wanted else []
    for name, check in CHECKS:
        if wanted and name not in wanted:
            continue
        try:
            findings.extend(check(cfg, system))
        except Exception as e:  # a doctor must not die of the disease it diagnoses
            log.debug("check %s crashed", name, exc_info=True)
            findings.append(
                Finding(name, Level.FAIL, f"the check itself failed: {type(e).__name__}: {e}")
            )
    return findings


def worst(findings: Iterable[Finding]) -> Level:
    levels = {f.level for f in findings}
    for level in (Level.FAIL, Level.WARN):
        if level in levels:
            return level
    return Level.OK


def _load_config(
    path: str | Path | None, state_dir: str | Path | None, system: System
) -> tuple[Config, Finding]:
    where = path or system.env.get("KIOSK_CONFIG") or config_mod.DEFAULT_PATH
    try:
        cfg = config_mod.load(path, state_dir=state_dir, env=system.env)
    except KioskError as e:
        fallback = config_mod.Config()
        if state_dir is not None:
            fallback = dataclasses.replace(fallback, state_dir=str(state_dir))
        return fallback, Finding(
            "config",
            Level.FAIL,
            f"{e} (checking the rest with built-in defaults)",
            f"edit {where}; compare with {config_mod.DEFAULT_PATH}.example",
        )
    if (
        path is None
        and not system.env.get("KIOSK_CONFIG")
        and not config_mod.DEFAULT_PATH.is_file()
    ):
        return cfg, Finding(
            "config",
            Level.WARN,
            f"no {config_mod.DEFAULT_PATH}: using built-in defaults",
            "run install.sh, or pass --config FILE",
        )
    return cfg, Finding("config", Level.OK, f"{where} is valid")


# -- individual checks -------------------------------------------------------------


def _needed_groups(cfg: Config) -> dict[str, str]:
    """Groups the service user needs for this configuration, with the reason."""
    need: dict[str, str] = {}
    if cfg.hardware == "simulated":
        return need
    if cfg.scanner.backend != "stdin":
        need["input"] = "read the barcode scanners (/dev/input/event*)"
    need["gpio"] = "drive the buzzer, LEDs and buttons (/dev/gpiochip*)"
    if cfg.display.driver != "none":
        if cfg.display.interface == "i2c":
            need["i2c"] = "talk to the display (/dev/i2c-*)"
        else:
            need["spi"] = "talk to the display (/dev/spidev*)"
    return need


def check_groups(cfg: Config, system: System) -> list[Finding]:
    user = system.service_user
    acct = system.account(user)
    if acct is None:
        return [
            Finding(
                "groups",
                Level.FAIL,
                f"there is no user {user!r} for the service to run as",
                "run install.sh (it creates the user)",
            )
        ]
    need = _needed_groups(cfg)
    if not need:
        return [Finding("groups", Level.SKIP, "simulated hardware: no device groups needed")]
    missing: list[str] = []
    absent: list[str] = []
    for name in need:
        gid = system.group(name)
        if gid is None:
            absent.append(name)
        elif gid not in acct.gids:
            missing.append(name)
    out: list[Finding] = []
    if missing:
        why = "; ".join(f"{g}: {need[g]}" for g in missing)
        out.append(
            Finding(
                "groups",
                Level.FAIL,
                f"user {user!r} is not in group(s) {', '.join(missing)} ({why})",
                f"sudo usermod -aG {','.join(missing)} {user} && sudo systemctl restart {SERVICE}",
            )
        )
    if absent:
        out.append(
            Finding(
                "groups",
                Level.WARN,
                f"this system has no group(s) {', '.join(absent)} (not Raspberry Pi OS?)",
                "device nodes must then be opened up by a udev rule; see docs/deploy.md",
            )
        )
    if not out:
        out.append(Finding("groups", Level.OK, f"user {user!r} is in {', '.join(sorted(need))}"))
    return out


def can_read_write(st: os.stat_result, acct: Account) -> bool:
    """Whether ``acct`` may open the node read-write (classic Unix rules, no ACLs)."""
    mode = stat.S_IMODE(st.st_mode)
    if acct.uid == 0:
        return True
    if st.st_uid == acct.uid:
        return mode & 0o600 == 0o600
    if st.st_gid in acct.gids:
        return mode & 0o060 == 0o060
    return mode & 0o006 == 0o006


def _device_classes(cfg: Config, dev: Path) -> list[tuple[str, list[Path]]]:
    classes: list[tuple[str, list[Path]]] = []
    need = _needed_groups(cfg)
    if "input" in need:
        classes.append(("input", sorted((dev / "input").glob("event*"))))
    if "gpio" in need:
        classes.append(("gpiochip", sorted(dev.glob("gpiochip*"))))
    if "i2c" in need:
        classes.append(("i2c", [dev / f"i2c-{cfg.display.i2c_port}"]))
    if "spi" in need:
        classes.append(("spidev", [dev / f"spidev{cfg.display.spi_port}.{cfg.display.spi_device}"]))
    return classes


def check_devices(cfg: Config, system: System) -> list[Finding]:
    acct = system.account(system.service_user)
    classes = _device_classes(cfg, system.dev)
    if not classes:
        return [Finding("devices", Level.SKIP, "simulated hardware: no device nodes used")]
    out: list[Finding] = []
    for label, paths in classes:
        present = [p for p in paths if p.exists()]
        if not present:
            if label == "input":
                out.append(
                    Finding(
                        "devices:input",
                        Level.WARN,
                        f"no {system.dev}/input/event*",
                        "plug in a scanner (USB keyboard/HID mode)",
                    )
                )
            elif label == "gpiochip":
                out.append(
                    Finding(
                        "devices:gpiochip",
                        Level.FAIL,
                        f"no {system.dev}/gpiochip*",
                        "this is not a Raspberry Pi, or the GPIO driver is missing",
                    )
                )
            # No I²C/SPI node: the display check says how to turn the bus on.
            continue
        if acct is None:
            out.append(
                Finding(
                    f"devices:{label}",
                    Level.SKIP,
                    f"{len(present)} node(s); no user {system.service_user!r} to judge access for",
                )
            )
            continue
        denied = [p for p in present if not can_read_write(p.stat(), acct)]
        if denied:
            first = denied[0]
            st = first.stat()
            try:
                group = grp.getgrgid(st.st_gid).gr_name
            except KeyError:
                group = str(st.st_gid)
            out.append(
                Finding(
                    f"devices:{label}",
                    Level.FAIL,
                    f"{acct.name} cannot open {len(denied)} of {len(present)} {label} node(s), "
                    f"e.g. {first} (group {group}, mode {stat.S_IMODE(st.st_mode):04o})",
                    f"add {acct.name} to group {group} (sudo usermod -aG {group} {acct.name}) "
                    "or fix the udev rule that creates the node",
                )
            )
        else:
            out.append(
                Finding(
                    f"devices:{label}",
                    Level.OK,
                    f"{acct.name} can open all {len(present)} {label} node(s)",
                )
            )
    return out


def check_scanners(cfg: Config, system: System) -> list[Finding]:
    if cfg.hardware == "simulated" or cfg.scanner.backend == "stdin":
        return [Finding("scanners", Level.SKIP, "scanner input comes from standard input")]
    try:
        selectors = config_mod.scanner_selectors(cfg.scanner)
    except ConfigError as e:
        return [Finding("scanners", Level.FAIL, str(e), "correct scanner.devices")]
    input_dir = str(system.dev / "input")
    nodes = system.discover(selectors, input_dir)
    used = [n for n in nodes if n.use]
    diag = discovery.diagnose(nodes, input_dir)
    if not used and diag.permission:
        return [
            Finding(
                "scanners",
                Level.FAIL,
                "; ".join(diag.messages),
                f"run the doctor as {system.service_user} or root; check the 'groups' finding",
            )
        ]
    missing = [
        sel.describe()
        for sel in selectors
        if sel.kind != "auto" and not any(discovery.matches(sel, n) for n in used)
    ]
    if missing:
        return [
            Finding(
                "scanners",
                Level.FAIL,
                f"configured scanner(s) not found: {', '.join(missing)}",
                "plug the scanner in, or correct scanner.devices "
                "(stable paths live in /dev/input/by-id/; `kiosk devices` lists what is there)",
            )
        ]
    if not used:
        keyboards = sorted({n.name for n in nodes if n.keyboard})
        msg = "no scanner found"
        if keyboards:
            msg += f"; keyboard(s) not taken for scanners: {', '.join(keyboards)}"
        msg += "".join(f"; {m}" for m in diag.messages)
        return [
            Finding(
                "scanners",
                Level.FAIL,
                msg,
                "plug in a USB barcode scanner set to USB keyboard (HID) mode, or name it in "
                "scanner.devices; `kiosk devices` says why each input device is not used",
            )
        ]
    return [
        Finding(
            "scanners",
            Level.OK,
            "read as scanner(s): " + ", ".join(f"{n.label} ({n.path})" for n in used),
        )
    ]


def check_display(cfg: Config, system: System) -> list[Finding]:
    d = cfg.display
    if cfg.hardware == "simulated" or d.driver == "none":
        return [Finding("display", Level.SKIP, "no display configured")]
    if d.interface == "spi":
        node = system.dev / f"spidev{d.spi_port}.{d.spi_device}"
        if not node.exists():
            return [
                Finding(
                    "display",
                    Level.FAIL,
                    f"no {node}: SPI is off",
                    "sudo raspi-config nonint do_spi 0, then reboot",
                )
            ]
        return [
            Finding(
                "display",
                Level.OK,
                f"{node} present (an SPI display cannot answer back: look at the screen)",
            )
        ]
    node = system.dev / f"i2c-{d.i2c_port}"
    if not node.exists():
        return [
            Finding(
                "display",
                Level.FAIL,
                f"no {node}: I²C is off",
                "sudo raspi-config nonint do_i2c 0, then reboot",
            )
        ]
    from smbus2 import SMBus  # noqa: PLC0415  (only needed for an I²C display)

    try:
        with SMBus(str(node)) as bus:
            bus.read_byte(d.i2c_address)
    except PermissionError:
        return [
            Finding(
                "display",
                Level.FAIL,
                f"no permission to open {node}",
                f"sudo usermod -aG i2c {system.service_user}",
            )
        ]
    except OSError as e:
        if e.errno in (errno.EREMOTEIO, errno.ENXIO, errno.EIO):
            return [
                Finding(
                    "display",
                    Level.FAIL,
                    f"nothing answers at 0x{d.i2c_address:02X} on {node}",
                    f"check wiring and the address (i2cdetect -y {d.i2c_port}); "
                    'set display.i2c_address, or display.driver = "none"',
                )
            ]
        return [Finding("display", Level.FAIL, f"{node}: {e.strerror or e}")]
    return [Finding("display", Level.OK, f"{d.driver} answers at 0x{d.i2c_address:02X} on {node}")]


def _credentials(cfg: Config, system: System) -> Credentials | None:
    """What sync would log in with (``None``: no SLiMS configured)."""
    return load_credentials(
        url=cfg.slims.url,
        username=cfg.slims.username,
        credentials_file=cfg.slims.credentials_file,
        env=system.env,
    )


def check_credentials(cfg: Config, system: System) -> list[Finding]:
    path = Path(cfg.slims.credentials_file) if cfg.slims.credentials_file else None
    out: list[Finding] = []
    if path is not None and path.exists():
        st = path.stat()
        mode = stat.S_IMODE(st.st_mode)
        acct = system.account(system.service_user)
        if acct is not None and st.st_uid != acct.uid:
            out.append(
                Finding(
                    "credentials",
                    Level.FAIL,
                    f"{path} belongs to uid {st.st_uid}, not {acct.name}: "
                    "the service cannot read it",
                    f"sudo chown {acct.name}: {path} && sudo chmod 600 {path}",
                )
            )
        if mode & 0o077:
            out.append(
                Finding(
                    "credentials",
                    Level.FAIL,
                    f"{path} has mode {mode:04o}: others can read the password",
                    f"sudo chmod 600 {path}",
                )
            )
    if out:  # loading would only repeat these
        return out
    try:
        creds = _credentials(cfg, system)
    except KioskError as e:
        return [Finding("credentials", Level.FAIL, str(e), f"sudoedit {path}" if path else "")]
    if creds is None:
        return [Finding("credentials", Level.SKIP, "no SLiMS configured (slims.url is empty)")]
    return [Finding("credentials", Level.OK, f"user {creds.username!r} for {creds.url}")]


def check_slims(cfg: Config, system: System) -> list[Finding]:
    try:
        creds = _credentials(cfg, system)
    except KioskError:  # reported once, by check_credentials
        return [Finding("slims", Level.SKIP, "no usable credentials: see 'credentials'")]
    if creds is None:
        return [Finding("slims", Level.SKIP, "no SLiMS configured: sync exports files only")]
    url = creds.url
    parts = urlsplit(url)
    if not parts.hostname:
        return [Finding("slims", Level.FAIL, f"{url!r} names no host", "fix slims.url")]
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        system.connect(parts.hostname, port, system.timeout)
    except OSError as e:
        return [
            Finding(
                "slims",
                Level.WARN,
                f"cannot reach {parts.hostname}:{port} now ({e.strerror or e}); "
                "scans wait on the cart until the next sync",
                "bring the cart into Wi-Fi range; check the URL and the network",
            )
        ]
    from kiosk.slims.client import check_login  # noqa: PLC0415  (requests: only when needed)

    try:
        check_login(cfg, creds)
    except KioskError as e:
        return [
            Finding(
                "slims", Level.FAIL, f"{url}: {e}", "check the credentials and the user's rights"
            )
        ]
    return [Finding("slims", Level.OK, f"logged in to {url} as {creds.username!r}")]


def check_store(cfg: Config, system: System) -> list[Finding]:
    path = cfg.state_path
    if not path.is_dir():
        return [
            Finding(
                "store",
                Level.WARN if path.parent.is_dir() else Level.FAIL,
                f"{path} does not exist yet",
                "run install.sh (the service creates it on first start)",
            )
        ]
    out: list[Finding] = []
    acct = system.account(system.service_user)
    if acct is not None and acct.uid != 0:
        foreign = [p for p in [path, *path.iterdir()] if p.exists() and p.stat().st_uid != acct.uid]
        if foreign:
            out.append(
                Finding(
                    "store",
                    Level.FAIL,
                    f"{len(foreign)} file(s) in {path} not owned by {acct.name}, e.g. {foreign[0]} "
                    "(a command run as root?)",
                    f"sudo chown -R {acct.name}: {path}; "
                    f"run commands as 'sudo -u {acct.name} kiosk'",
                )
            )
    usage = shutil.disk_usage(path)
    free_mb = usage.free // (1024 * 1024)
    if usage.free < DISK_FAIL_BYTES:
        out.append(
            Finding("disk", Level.FAIL, f"only {free_mb} MB free on {path}", "free disk space now")
        )
    elif usage.free < DISK_WARN_BYTES:
        out.append(Finding("disk", Level.WARN, f"{free_mb} MB free on {path}", "free disk space"))
    else:
        out.append(Finding("disk", Level.OK, f"{free_mb} MB free on {path}"))
    try:
        with Store.open_readonly(path) as store:
            summary = (
                f"readable: {sum(store.counts().values())} scan(s), "
                f"{store.pending_count()} waiting for sync, "
                f"catalogue {store.catalog_info()['count']} item(s)"
            )
            if damaged := store.damaged_files():
                out.append(
                    Finding(
                        "store",
                        Level.FAIL,
                        f"a damaged store was set aside: {', '.join(p.name for p in damaged)}; "
                        "the scans in it are not in the current store",
                        f"copy {path}/*.corrupt-* somewhere safe and recover them before the "
                        "stock take is reported (docs/deploy.md, 'Troubleshooting')",
                    )
                )
    except KioskError as e:
        out.append(Finding("store", Level.FAIL, str(e), "see docs/deploy.md, 'Troubleshooting'"))
    except OSError as e:
        out.append(Finding("store", Level.FAIL, f"cannot read the store in {path}: {e}"))
    else:
        out.append(Finding("store", Level.OK, summary))
    return out


def check_clock(cfg: Config, system: System) -> list[Finding]:
    now = system.wall()
    state = system.sync_state()
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(now))
    if not clock.plausible(now):
        return [
            Finding(
                "clock",
                Level.WARN,
                f"the clock says {when}, which cannot be right; scans are kept in order "
                "and get their true date once the clock is set",
                "connect the cart to a network with NTP (timedatectl status), "
                "or set it: sudo date -s 'YYYY-MM-DD HH:MM'",
            )
        ]
    if state is clock.SyncState.SYNCED:
        return [Finding("clock", Level.OK, f"{when}, synchronised")]
    return [
        Finding(
            "clock",
            Level.WARN,
            f"{when}, not known to be synchronised ({state}); scans made now are dated "
            "exactly once the clock synchronises during this boot, approximately otherwise",
            "connect to Wi-Fi; check 'timedatectl status' (systemd-timesyncd)",
        )
    ]


def check_service(cfg: Config, system: System) -> list[Finding]:
    state = system.service_state(SERVICE)
    if state is None:
        return [Finding("service", Level.SKIP, "systemd is not running here")]
    if state == "active":
        return [Finding("service", Level.OK, f"{SERVICE} is running")]
    level = Level.FAIL if state == "failed" else Level.WARN
    return [
        Finding(
            "service",
            level,
            f"{SERVICE} is {state}",
            f"journalctl -u {SERVICE} -b; sudo systemctl restart {SERVICE}",
        )
    ]


Check = Callable[[Config, System], list[Finding]]

#: Checks in report order (``config`` always comes first, from loading).
CHECKS: tuple[tuple[str, Check], ...] = (
    ("groups", check_groups),
    ("devices", check_devices),
    ("scanners", check_scanners),
    ("display", check_display),
    ("store", check_store),
    ("clock", check_clock),
    ("credentials", check_credentials),
    ("slims", check_slims),
    ("service", check_service),
)

NAMES = ("config", *(name for name, _ in CHECKS))
