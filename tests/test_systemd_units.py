"""The systemd units: valid for systemd, hardened, and shaped as the design needs.

``systemd-analyze`` checks the units as installed by ``install.sh --root``
(CI installs the ``systemd`` package; skipped where the tool is absent).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
UNITS = ("kiosk.service", "kiosk-sync.service", "kiosk-sync.timer")
#: The exposure score the issue allows (systemd-analyze security, 0 best .. 10 worst).
MAX_EXPOSURE = 2.5

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze not installed (apt-get install systemd)"
)


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections → keys → every value (systemd allows repeated keys)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit[section][key]
    assert len(values) == 1, f"{key} given {len(values)} times"
    return values[0]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root tree as install.sh leaves it, plus the system's own units to resolve against."""
    r = tmp_path_factory.mktemp("root")
    subprocess.run(
        ["bash", str(REPO / "install.sh"), "--root", str(r), "--no-venv"],
        check=True,
        capture_output=True,
        cwd=r,
    )
    exe = r / "opt/kiosk/venv/bin/kiosk"  # stands in for the venv (--no-venv)
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    for system_units in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")):
        if system_units.is_dir():
            shutil.copytree(system_units, r / "usr/lib/systemd/system", symlinks=True)
            break
    return r


def verify(root: Path, *names: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, "verify", "--man=no", f"--root={root}"]
        + [f"/etc/systemd/system/{n}" for n in names],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_analyze
def test_units_verify_without_a_single_warning(root):
    """systemd accepts all three units as installed, with no warning at all."""
    proc = verify(root, *UNITS)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "" and proc.stderr.strip() == "", proc.stderr


@needs_analyze
def test_verify_catches_a_mistyped_directive(root, tmp_path):
    """The verification above is real: a misspelt hardening option is reported."""
    unit = root / "etc/systemd/system/kiosk-typo.service"
    text = (REPO / "systemd/kiosk.service").read_text()
    unit.write_text(text.replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    try:
        proc = verify(root, "kiosk-typo.service")
    finally:
        unit.unlink()
    assert "NoNewPrivilege" in proc.stderr


def exposure(root: Path, unit: str) -> float:
    assert ANALYZE is not None
    proc = subprocess.run(
        [ANALYZE, "security", "--offline=true", f"--root={root}", "--no-pager", unit],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    match = re.search(rf"Overall exposure level for {re.escape(unit)}: ([0-9.]+)", proc.stdout)
    assert match, proc.stdout + proc.stderr
    return float(match.group(1))


@needs_analyze
@pytest.mark.parametrize("unit", ["kiosk.service", "kiosk-sync.service"])
def test_exposure_score_stays_low(root, unit):
    """systemd-analyze security rates each service at 2.5 or better (lower is safer)."""
    score = exposure(root, unit)
    assert score <= MAX_EXPOSURE, f"{unit}: exposure {score}"


def test_daemon_unit_shape():
    """The daemon is notify-typed, watched, restarted, unprivileged and sees only its devices."""
    u = parse_unit(REPO / "systemd/kiosk.service")
    s = u["Service"]
    assert one(u, "Service", "Type") == "notify"
    assert int(one(u, "Service", "WatchdogSec")) > 0
    assert one(u, "Service", "Restart") == "on-failure"
    assert one(u, "Service", "User") == "kiosk"
    assert one(u, "Service", "ExecStart") == (
        "/opt/kiosk/venv/bin/kiosk --config /etc/kiosk/kiosk.toml run"
    )
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert one(u, "Service", key) == "yes"
    assert one(u, "Service", "ProtectSystem") == "strict"
    assert one(u, "Service", "DevicePolicy") == "closed"
    allowed = {v.split()[0] for v in s["DeviceAllow"]}
    assert allowed == {"char-input", "char-gpiochip", "char-i2c", "char-spi"}
    assert "PrivateDevices" not in s  # it would hide /dev/input
    assert one(u, "Service", "StateDirectory") == "kiosk"
    assert one(u, "Service", "ConfigurationDirectory") == "kiosk"
    # lgpio writes its notification files in the working directory: it must be writable.
    workdir = one(u, "Service", "WorkingDirectory")
    writable = {"/run/" + v for v in s.get("RuntimeDirectory", [])}
    writable |= {"/var/lib/" + v for v in s.get("StateDirectory", [])}
    assert workdir in writable
    assert one(u, "Unit", "StartLimitIntervalSec") == "0"
    assert "network-online.target" not in " ".join(u["Unit"].get("After", []))


def test_sync_timer_runs_the_sync_service_daily_and_catches_up():
    """The end-of-day sync runs every day and after a boot that missed it."""
    timer = parse_unit(REPO / "systemd/kiosk-sync.timer")
    assert one(timer, "Timer", "OnCalendar").startswith("*-*-* ")
    assert one(timer, "Timer", "Persistent") == "true"
    assert "Unit" not in timer["Timer"]  # defaults to kiosk-sync.service
    sync = parse_unit(REPO / "systemd/kiosk-sync.service")
    assert one(sync, "Service", "Type") == "oneshot"
    assert one(sync, "Service", "User") == "kiosk"
    assert one(sync, "Service", "ExecStart").endswith(" sync")
    assert "network-online.target" in one(sync, "Unit", "Wants")


def test_udev_rule_only_touches_usb_keyboard_event_nodes():
    """The scanner rule matches USB keyboard event nodes and gives them to group input."""
    text = (REPO / "systemd/99-kiosk-scanners.rules").read_text()
    rules = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert any('SUBSYSTEM!="input"' in ln for ln in rules)
    assert any('ENV{ID_INPUT_KEYBOARD}!="1"' in ln for ln in rules)
    assert any('GROUP="input"' in ln and 'MODE="0660"' in ln for ln in rules)
    labels = {m for ln in rules for m in re.findall(r'LABEL="([^"]+)"', ln)}
    gotos = {m for ln in rules for m in re.findall(r'GOTO="([^"]+)"', ln)}
    assert gotos and gotos <= labels
