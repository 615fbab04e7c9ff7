"""install.sh: what a technician's one command puts on the Pi, checked file by file.

Every run uses ``--root DIR``, which installs under DIR and runs no package
manager, systemctl or useradd, so these tests never touch the machine itself.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import config

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "install.sh"
IS_ROOT = os.geteuid() == 0
try:
    KIOSK_UID: int | None = pwd.getpwnam("kiosk").pw_uid
except KeyError:
    KIOSK_UID = None

#: path -> (file type, mode, owned by the service user?)
EXPECTED = {
    "etc/kiosk": ("d", 0o755, False),
    "etc/kiosk/kiosk.toml": ("f", 0o644, False),
    "etc/kiosk/kiosk.toml.example": ("f", 0o644, False),
    "etc/kiosk/credentials.toml": ("f", 0o600, True),
    "var/lib/kiosk": ("d", 0o750, True),
    "etc/systemd/system/kiosk.service": ("f", 0o644, False),
    "etc/systemd/system/kiosk-sync.service": ("f", 0o644, False),
    "etc/systemd/system/kiosk-sync.timer": ("f", 0o644, False),
    "etc/udev/rules.d/99-kiosk-scanners.rules": ("f", 0o644, False),
    "usr/local/bin/kiosk": ("f", 0o755, False),
}


def install(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["bash", str(INSTALL), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
        cwd=root.parent,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every path under root with its mode, owner and content hash."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        out[str(path.relative_to(root))] = (st.st_mode, st.st_uid, digest)
    return out


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    install(r, "--no-venv")
    return r


def test_shellcheck_clean():
    """install.sh passes shellcheck (CI installs it; skipped where it is absent)."""
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    proc = subprocess.run(
        ["shellcheck", "--severity=style", str(INSTALL)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout


def test_every_file_lands_with_its_mode_and_owner(root):
    """Config, credentials, state, units, udev rule and wrapper exist with the right modes."""
    for rel, (kind, mode, service_owned) in EXPECTED.items():
        path = root / rel
        st = path.lstat()
        assert stat.S_ISDIR(st.st_mode) if kind == "d" else stat.S_ISREG(st.st_mode), rel
        assert stat.S_IMODE(st.st_mode) == mode, f"{rel}: {stat.S_IMODE(st.st_mode):04o}"
        if IS_ROOT:
            want = KIOSK_UID if service_owned and KIOSK_UID is not None else 0
            assert st.st_uid == want, rel
        else:  # without root nothing can be chowned: the caller owns everything
            assert st.st_uid == os.getuid(), rel


def test_installed_files_match_the_repository(root):
    """Units, udev rule and configuration are the repository's, and the config is valid."""
    for name in ("kiosk.service", "kiosk-sync.service", "kiosk-sync.timer"):
        installed = (root / "etc/systemd/system" / name).read_bytes()
        assert installed == (REPO / "systemd" / name).read_bytes()
    rules = root / "etc/udev/rules.d/99-kiosk-scanners.rules"
    assert rules.read_bytes() == (REPO / "systemd/99-kiosk-scanners.rules").read_bytes()
    toml = root / "etc/kiosk/kiosk.toml"
    assert toml.read_bytes() == (REPO / "config/kiosk.toml").read_bytes()
    assert config.load(toml, env={}).state_dir == "/var/lib/kiosk"
    assert "password" in (root / "etc/kiosk/credentials.toml").read_text()


def test_rerun_is_idempotent_and_keeps_local_edits(root):
    """Upgrading (re-running) changes nothing except what the repository changed."""
    toml = root / "etc/kiosk/kiosk.toml"
    cred = root / "etc/kiosk/credentials.toml"
    toml.write_text(toml.read_text() + "\n# edited by the technician\n")
    cred.write_text('username = "st"\npassword = "x"\n')
    (root / "var/lib/kiosk/scans.json").write_text("{}")
    before = snapshot(root)
    cred.chmod(0o644)  # drift (an editor that reset the mode): the installer repairs it
    out = install(root, "--no-venv")
    assert "kept /etc/kiosk/kiosk.toml" in out
    assert snapshot(root) == before


def test_uninstall_keeps_scans_and_config(root):
    """--uninstall removes the program but not the scans nor kiosk.toml; the password goes."""
    scans = root / "var/lib/kiosk/scans.json"
    scans.write_text('{"scans": {}}')
    install(root, "--uninstall")
    assert scans.read_text() == '{"scans": {}}'
    assert (root / "etc/kiosk/kiosk.toml").is_file()
    for gone in (
        "etc/kiosk/credentials.toml",
        "etc/systemd/system/kiosk.service",
        "etc/systemd/system/kiosk-sync.timer",
        "etc/udev/rules.d/99-kiosk-scanners.rules",
        "usr/local/bin/kiosk",
        "opt/kiosk",
    ):
        assert not (root / gone).exists(), gone
    install(root, "--uninstall", "--purge")
    assert not (root / "var/lib/kiosk").exists()
    assert not (root / "etc/kiosk").exists()


def test_root_mode_runs_no_system_commands(root, tmp_path):
    """With --root the package manager, useradd and systemctl are only announced."""
    out = install(root, "--no-venv")
    for cmd in ("apt-get install", "useradd", "systemctl enable kiosk.service", "udevadm"):
        assert f"skipped (--root): {cmd}" in out


@pytest.fixture
def world_tmp() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="kiosk-install-"))
    d.chmod(0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_root_mode_needs_no_privileges(world_tmp):
    """An unprivileged user can run install.sh --root (as CI may)."""
    if not IS_ROOT:
        install(world_tmp / "r", "--no-venv")  # we are already unprivileged
        return
    if shutil.which("runuser") is None:
        pytest.skip("runuser not available")
    target = world_tmp / "r"
    proc = subprocess.run(
        ["runuser", "-u", "nobody", "--", "bash", str(INSTALL), "--root", str(target), "--no-venv"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=world_tmp,
    )
    if "Permission denied" in proc.stderr and not target.exists():
        pytest.skip("the repository is not readable by 'nobody' here")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    nobody = pwd.getpwnam("nobody").pw_uid
    cred = target / "etc/kiosk/credentials.toml"
    assert cred.stat().st_uid == nobody
    assert stat.S_IMODE(cred.stat().st_mode) == 0o600


def test_real_install_refuses_without_root():
    """Without --root the installer demands root instead of half-installing."""
    cmd = ["bash", str(INSTALL), "--no-apt"]
    if IS_ROOT:
        if shutil.which("runuser") is None:
            pytest.skip("runuser not available")
        cmd = ["runuser", "-u", "nobody", "--", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, cwd="/")
    if IS_ROOT and "Permission denied" in proc.stderr:
        pytest.skip("the repository is not readable by 'nobody' here")
    assert proc.returncode != 0
    assert "run as root" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--frobnicate"], "unknown option"), (["--purge"], "--purge only goes with --uninstall")],
)
def test_bad_options_are_refused(tmp_path, args, message):
    """Mistyped options stop the installer with a message, before it changes anything."""
    proc = subprocess.run(
        ["bash", str(INSTALL), "--root", str(tmp_path / "r"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0 and message in proc.stderr
    assert not (tmp_path / "r" / "etc").exists()


def test_venv_step_installs_a_working_kiosk(tmp_path):
    """The virtual environment gets the kiosk package and its console script.

    Dependencies are skipped (--no-deps) to stay fast and off most of PyPI;
    pip still needs setuptools to build, from PyPI or its cache.
    """
    r = tmp_path / "root"
    install(r, env={"KIOSK_PIP_ARGS": "--no-deps", "PYTHON": sys.executable})
    venv = r / "opt/kiosk/venv"
    assert (venv / "bin/kiosk").is_file() and os.access(venv / "bin/kiosk", os.X_OK)
    proc = subprocess.run(
        [
            str(venv / "bin/python"),
            "-c",
            "import kiosk, sys; print(kiosk.__version__, kiosk.__file__)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    version, where = proc.stdout.split()
    assert version == __import__("kiosk").__version__
    assert where.startswith(str(venv))
    assert stat.S_IMODE((r / "opt/kiosk").stat().st_mode) == 0o755
    if IS_ROOT:
        assert (r / "opt/kiosk").stat().st_uid == 0


@pytest.mark.skipif(shutil.which("dash") is None, reason="dash not installed")
def test_started_with_sh_it_runs_under_bash(tmp_path):
    """`sh install.sh` (dash on Debian) shows the help and installs like `bash install.sh`."""
    helped = subprocess.run(
        ["dash", str(INSTALL), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: install.sh") and helped.stderr == ""

    r = tmp_path / "root"
    proc = subprocess.run(
        ["dash", str(INSTALL), "--root", str(r), "--no-venv"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for rel in EXPECTED:
        assert (r / rel).exists(), rel

    refused = subprocess.run(
        ["dash", str(INSTALL), "--root", str(tmp_path / "r2"), "--frobnicate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0 and "unknown option" in refused.stderr


@pytest.mark.skipif(shutil.which("dash") is None, reason="dash not installed")
def test_piped_into_sh_it_says_how_to_run_it(tmp_path):
    """Fed on standard input (no file to re-run under bash) it stops with a one-line fix."""
    proc = subprocess.run(
        ["dash", "-s", "--", "--help"],
        input=INSTALL.read_text(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == "kiosk-install: error: run it as a file: sudo sh ./install.sh"
