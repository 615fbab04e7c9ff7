"""Checks of what is plugged into the cart: the barcode scanners and the display.

Scanners are found with the daemon's own discovery, so the doctor and the
daemon agree on which input devices are scanners; the display is asked to
answer on its bus, because a node being present does not mean it is wired.
"""

from __future__ import annotations

import errno

from kiosk.cli.doctor.host import System
from kiosk.cli.doctor.report import Finding, Level
from kiosk.config import Config, scanner_selectors
from kiosk.exc import ConfigError
from kiosk.scanner import discovery


def check_scanners(cfg: Config, system: System) -> list[Finding]:
    if cfg.hardware == "simulated" or cfg.scanner.backend == "stdin":
        return [Finding("scanners", Level.SKIP, "scanner input comes from standard input")]
    try:
        selectors = scanner_selectors(cfg.scanner)
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
