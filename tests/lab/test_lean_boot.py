"""The lab's lean boot stays off the cart's path (runs in the normal suite, no VM)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.lab import lab as lab_mod

REPO = Path(__file__).resolve().parent.parent.parent


def _cmdline(monkeypatch: pytest.MonkeyPatch, full: bool) -> str:
    monkeypatch.setenv("KIOSK_LAB_FULL_BOOT", "1" if full else "0")
    return lab_mod.Lab(Path("unused")).cmdline()


def test_lean_boot_masks_no_unit_the_service_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """No unit kiosk.service is ordered after or wants is masked by the lean boot."""
    masked = set(re.findall(r"systemd\.mask=(\S+)", _cmdline(monkeypatch, full=False)))
    assert masked, "the lean boot masks nothing"
    unit = (REPO / "systemd/kiosk.service").read_text()
    needed = {"kiosk.service", "kiosk-sync.timer", "lab-agent.service", "lab-journal.service"}
    for key in ("After", "Wants", "Requires", "BindsTo"):
        for line in re.findall(rf"^{key}=(.*)$", unit, re.M):
            needed.update(line.split())
    assert not masked & needed, masked & needed


def test_lean_boot_keeps_the_drivers_of_scanners_display_and_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The USB gadget, input, I2C and virtio disk drivers are never blacklisted."""
    line = _cmdline(monkeypatch, full=False)
    m = re.search(r"modprobe\.blacklist=(\S+)", line)
    assert m
    blacklisted = set(m[1].split(","))
    needed = {
        "evdev", "hid_generic", "usbhid", "libcomposite", "dummy_hcd", "usb_f_hid",
        "i2c_dev", "i2c_stub", "virtio_blk", "virtio_pci", "virtio_console", "ext4",
    }  # fmt: skip
    assert not blacklisted & needed, blacklisted & needed


def test_full_boot_is_the_plain_kernel_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """KIOSK_LAB_FULL_BOOT=1 boots with nothing masked and no driver kept out."""
    line = _cmdline(monkeypatch, full=True)
    assert "systemd.mask=" not in line and "modprobe.blacklist=" not in line
    assert "root=/dev/vda" in line
