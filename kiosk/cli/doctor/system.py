"""Checks of the machine under the cart: groups, device access, free disk, clock, service.

These are what install.sh sets up and what a root-run command or a dead RTC
battery quietly breaks; each finding names the one command that fixes it.
"""

from __future__ import annotations

import grp
import os
import shutil
import stat
import time
from pathlib import Path

from kiosk import clock
from kiosk.cli.doctor.host import SERVICE, Account, System
from kiosk.cli.doctor.report import Finding, Level
from kiosk.config import Config

#: Free space below which new scans are at risk (the store rewrites whole files).
DISK_FAIL_BYTES = 50 * 1024 * 1024
DISK_WARN_BYTES = 200 * 1024 * 1024


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
        out.append(_access(label, present, acct))
    return out


def _access(label: str, present: list[Path], acct: Account) -> Finding:
    """Whether ``acct`` can open every node of one class, naming the first it cannot."""
    denied = [p for p in present if not can_read_write(p.stat(), acct)]
    if not denied:
        return Finding(
            f"devices:{label}",
            Level.OK,
            f"{acct.name} can open all {len(present)} {label} node(s)",
        )
    first = denied[0]
    st = first.stat()
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return Finding(
        f"devices:{label}",
        Level.FAIL,
        f"{acct.name} cannot open {len(denied)} of {len(present)} {label} node(s), "
        f"e.g. {first} (group {group}, mode {stat.S_IMODE(st.st_mode):04o})",
        f"add {acct.name} to group {group} (sudo usermod -aG {group} {acct.name}) "
        "or fix the udev rule that creates the node",
    )


def check_disk(path: Path) -> Finding:
    """Free space where the store lives (part of the ``store`` check)."""
    usage = shutil.disk_usage(path)
    free_mb = usage.free // (1024 * 1024)
    if usage.free < DISK_FAIL_BYTES:
        return Finding(
            "disk", Level.FAIL, f"only {free_mb} MB free on {path}", "free disk space now"
        )
    if usage.free < DISK_WARN_BYTES:
        return Finding("disk", Level.WARN, f"{free_mb} MB free on {path}", "free disk space")
    return Finding("disk", Level.OK, f"{free_mb} MB free on {path}")


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
