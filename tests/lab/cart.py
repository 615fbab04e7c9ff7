"""The cart inside the lab VM: install it, plug scanners, read what it stored.

Helpers shared by the lab tests (tests/lab/test_lab.py); they drive a
:class:`tests.lab.lab.Lab` and keep every wait bound to a console pattern.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

from tests.lab.lab import GUEST, Lab, LabError, LogWatch

SRC = "/home/pi/kiosk"
WHEELS = "/srv/lab/wheels"
#: install.sh offline, as on a Pi whose packages and wheels were fetched earlier.
INSTALL = f"cd {SRC} && KIOSK_PIP_ARGS='--no-index --find-links {WHEELS}' ./install.sh"
DROPIN = "/etc/systemd/system/kiosk.service.d"
TOOLS = "/usr/local/lib/kiosk-lab"
#: The lab's own drop-in: GPIO on gpiozero's mock pins (no gpio-sim in Debian's
#: kernel), and --json so the host sees each scan the moment it is acknowledged.
LAB_DROPIN = """[Service]
Environment=GPIOZERO_PIN_FACTORY=mock
ExecStart=
ExecStart=/opt/kiosk/venv/bin/kiosk --config /etc/kiosk/kiosk.toml run --json
"""
#: Two scanners (different vendors) and a plain keyboard, on dummy_udc.0/1/2.
GADGETS = {
    0: ("05e0:1200", "Symbol Bar Code Scanner", "S0001"),
    1: ("0c2e:0b61", "Honeywell Imaging Scanner", "H0002"),
    2: ("046d:c31c", "Logitech USB Keyboard", "K0003"),
}
STARTED = r"Started kiosk\.service"
ACK = r'kiosk\[\d+\]: (\{"seq".*\})$'


@dataclass
class Cart:
    lab: Lab
    added: set[int] = field(default_factory=set)

    def sh(self, cmd: str, timeout: float = 600) -> str:
        return self.lab.run(cmd, timeout=timeout).check(cmd).out

    def install(self, extra: str = "") -> str:
        self.lab.top_up_wheels()
        r = self.lab.run(f"{INSTALL} {extra} 2>&1", timeout=3600)  # TCG on a busy host: 20+ min
        if r.rc != 0:
            raise LabError(f"install.sh failed (rc {r.rc}):\n{r.out[-4000:]}")
        return r.out

    def refresh_guest_tools(self) -> None:
        """The working tree's agent-side tools (hid.py), not the image's older copy."""
        for name in ("hid.py",):
            self.lab.put((GUEST / name).read_bytes(), f"{TOOLS}/{name}", 0o755)

    def lab_dropin(self, extra: str = "") -> None:
        self.lab.put((LAB_DROPIN + extra).encode(), f"{DROPIN}/lab.conf")
        self.sh("systemctl daemon-reload")

    def boot_id(self) -> str:
        return self.sh("cat /proc/sys/kernel/random/boot_id").strip()

    def reboot(self, timeout: float = 240) -> LogWatch:
        """Reboot the guest; returns a journal watch from the new boot's start."""
        old = self.boot_id()
        watch = self.lab.journal()
        self.lab.run("systemctl reboot")
        self.lab.close()
        deadline = time.monotonic() + timeout
        while self.lab.wait_agent(max(1.0, deadline - time.monotonic())) == old:
            if time.monotonic() > deadline:
                raise LabError("the guest did not reboot")
            self.lab.close()
        self.added.clear()
        return watch

    def restart(self) -> LogWatch:
        watch = self.lab.journal()
        self.sh("systemctl restart kiosk.service")
        return watch

    def scanners(self, *numbers: int, watch: LogWatch | None = None) -> LogWatch:
        """Make and plug gadgets; waits until the daemon reports each connected."""
        watch = watch or self.lab.journal()
        for n in numbers:
            if n not in self.added:
                usb_id, name, serial = GADGETS[n]
                self.lab.hid("add", str(n), usb_id, name, serial).check("hid add")
                self.added.add(n)
            # Out and in again: a gadget still bound from an earlier test makes no
            # new "connected" line to wait for.
            self.lab.hid("unplug", str(n))  # fails harmlessly when not plugged
            self.lab.hid("plug", str(n)).check("hid plug")
        return watch

    def type(self, n: int, text: str) -> None:
        self.lab.hid("type", str(n), text).check(f"type on {n}")

    def scans(self) -> list[dict[str, object]]:
        out = self.sh("kiosk scans --json")
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def main_pid(self) -> int:
        return int(self.sh("systemctl show -p MainPID --value kiosk.service").strip())


def acks(text: str) -> list[dict[str, object]]:
    """The scans the daemon printed (after storing them) in a stretch of journal."""
    return [json.loads(m[1]) for m in re.finditer(ACK, text, re.M)]
