"""The virtual Raspberry Pi lab: a Debian bookworm guest under QEMU.

    python3 tests/lab/lab.py build            build the image once (cached)
    python3 tests/lab/lab.py boot [--fresh]   start the VM and wait for its agent
    python3 tests/lab/lab.py run CMD...       run a command in the guest (root)
    python3 tests/lab/lab.py copy SRC DST     copy a host file into the guest
    python3 tests/lab/lab.py plug N | unplug N | type N TEXT
    python3 tests/lab/lab.py power-cut [--kill]
    python3 tests/lab/lab.py stop

The guest has no network. The host talks to it over two virtio serial ports:
``lab.ctl`` (a request/answer agent, :mod:`guest/agent.py`) and ``lab.log``
(the guest's journal, streamed into ``run/journal.log``); the kernel console
goes to ``run/console.log``. Everything lives in ``$KIOSK_LAB_DIR`` (default
``~/.cache/kiosk-lab``); nothing the lab builds belongs in the repository.
docs/lab.md has the whole story.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GUEST = HERE / "guest"
QEMU = "qemu-system-x86_64"

#: Debian packages of the image: a bookworm userland like Raspberry Pi OS Lite's,
#: its own kernel, and the tools the lab needs (libeatmydata: fsync off on demand).
IMAGE_PACKAGES = [
    "systemd-sysv",
    "udev",
    "dbus",
    "linux-image-amd64",
    "initramfs-tools",
    "kmod",
    "e2fsprogs",
    "python3",
    "python3-venv",
    "sudo",
    "procps",
    "libeatmydata1",
    "zstd",
    "sysbench",
]
#: What install.sh asks apt for: downloaded into the guest's local apt
#: repository, not installed, so install.sh's own apt-get installs them.
INSTALL_PACKAGES = [
    "python3-dev",
    "gcc",
    "i2c-tools",
    "python3-evdev",
    "python3-smbus2",
    "python3-pil",
    "python3-spidev",
]
MIRRORS = [
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
]
IMAGE_SIZE = "4G"
#: Units of a Pi OS boot that are not on the cart's path (console logins,
#: logind, daily timers): masked on the kernel command line for a lean boot,
#: since under TCG each costs seconds of the guest's one CPU.
LEAN_UNITS = (
    "getty@tty1.service",
    "serial-getty@ttyS0.service",
    "systemd-logind.service",
    "systemd-update-utmp.service",
    "systemd-update-utmp-runlevel.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "dpkg-db-backup.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
    "systemd-tmpfiles-clean.timer",
    "modprobe@drm.service",
    "systemd-binfmt.service",
)
#: Drivers udev would load for the emulated PC (floppy, IDE, PS/2 mouse, KVM
#: for the emulated CPU's SVM flag, crypto accelerators): no cart has them.
LEAN_MODULES = (
    "floppy",
    "ata_piix",
    "ata_generic",
    "libata",
    "psmouse",
    "serio_raw",
    "pcspkr",
    "i2c_piix4",
    "kvm",
    "kvm_amd",
    "kvm_intel",
    "ccp",
    "powernow_k8",
    "aesni_intel",
    "ghash_clmulni_intel",
    "crc32_pclmul",
    "crct10dif_pclmul",
    "sha1_ssse3",
    "sha256_ssse3",
    "sha512_ssse3",
    "drm",
)
#: Bump when the image recipe changes: a cached image of another version is rebuilt.
IMAGE_VERSION = "5"


class LabError(RuntimeError):
    pass


def lab_dir() -> Path:
    return Path(os.environ.get("KIOSK_LAB_DIR") or Path.home() / ".cache" / "kiosk-lab")


def say(msg: str) -> None:
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def nice(cmd: Sequence[str]) -> list[str]:
    """Builds and QEMU share two cores with other work: run them niced."""
    return ["nice", "-n", "10", *cmd]


# --------------------------------------------------------------------------- build


def image_ready(d: Path | None = None) -> bool:
    d = d or lab_dir()
    stamp = d / "image" / "VERSION"
    return stamp.exists() and stamp.read_text().strip() == IMAGE_VERSION


def available() -> str:
    """Why the lab cannot run here ("" when it can): the tests skip with this."""
    if shutil.which(QEMU) is None or shutil.which("qemu-img") is None:
        return f"{QEMU}/qemu-img not installed (apt-get install qemu-system-x86 qemu-utils)"
    if not image_ready():
        return f"no lab image in {lab_dir()} (build it: python3 tests/lab/lab.py build)"
    return ""


def _wheels(dest: Path) -> None:
    """kiosk's dependencies (and its build backend) as wheels for an offline pip."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--dest",
            str(dest),
            str(REPO),
            "setuptools>=68",
            "wheel",
        ],
        check=True,
    )
    for f in dest.glob("kiosk-*"):
        f.unlink()


def _apt_index(debs: Path) -> None:
    """A Packages index for a flat local apt repository (no apt-utils needed)."""
    stanzas = []
    for deb in sorted(debs.glob("*.deb")):
        control = subprocess.run(
            ["dpkg-deb", "-f", str(deb)], check=True, capture_output=True, text=True
        ).stdout.rstrip("\n")
        data = deb.read_bytes()
        stanzas.append(
            f"{control}\nFilename: ./{deb.name}\nSize: {len(data)}\n"
            f"SHA256: {hashlib.sha256(data).hexdigest()}\n"
        )
    (debs / "Packages").write_text("\n".join(stanzas))


def _guest_files(root: Path) -> None:
    """The lab's own pieces in the image: agent, journal stream, modules, gadgets."""
    lib = root / "usr/local/lib/kiosk-lab"
    lib.mkdir(parents=True, exist_ok=True)
    for name in ("agent.py", "hid.py"):
        shutil.copy(GUEST / name, lib / name)
        (lib / name).chmod(0o755)
    units = root / "etc/systemd/system"
    (units / "lab-agent.service").write_text(
        "[Unit]\nDescription=kiosk lab: host control agent\nDefaultDependencies=no\n"
        "StartLimitIntervalSec=0\n"
        "After=systemd-udevd.service\n\n[Service]\nExecStart=/usr/bin/python3 "
        "/usr/local/lib/kiosk-lab/agent.py\nRestart=always\nRestartSec=1\n\n"
        "[Install]\nWantedBy=sysinit.target\n"
    )
    # The whole boot's journal (-n all), once udev has made the port's link.
    (units / "lab-journal.service").write_text(
        "[Unit]\nDescription=kiosk lab: stream the journal to the host\n"
        "DefaultDependencies=no\nAfter=systemd-journald.service\nStartLimitIntervalSec=0\n\n"
        "[Service]\nExecStart=/bin/sh -c 'until [ -e /dev/virtio-ports/lab.log ]; do sleep 0.1; "
        "done; exec journalctl -f -b -n all --no-hostname -o short-monotonic "
        ">/dev/virtio-ports/lab.log'\nRestart=always\nRestartSec=1\n\n"
        "[Install]\nWantedBy=sysinit.target\n"
    )
    (root / "etc/modprobe.d/kiosk-lab.conf").write_text(
        "# Three virtual USB buses (two scanners and a keyboard), an I2C bus with a\n"
        "# chip at the OLED's address.\noptions dummy_hcd num=3\n"
        "options i2c-stub chip_addr=0x3c\n"
    )
    (root / "etc/modules-load.d/kiosk-lab.conf").write_text(
        "libcomposite\ndummy_hcd\nusb_f_hid\ni2c-dev\ni2c-stub\n"
    )
    (root / "etc/fstab").write_text("/dev/vda / ext4 defaults,errors=remount-ro 0 1\n")
    (root / "etc/hostname").write_text("kiosk-lab\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n127.0.1.1 kiosk-lab\n")
    # The only apt source: the local repository of pre-fetched packages.
    (root / "etc/apt/sources.list").write_text("deb [trusted=yes] file:/srv/lab/debs ./\n")
    for f in (root / "etc/apt/sources.list.d").glob("*"):
        f.unlink()
    # Not needed in a throw-away VM, and 15 s of a TCG boot.
    (units / "e2scrub_reap.service").symlink_to("/dev/null")
    # A serial login for a person looking at the console (root, no password).
    subprocess.run(["chroot", str(root), "passwd", "-d", "root"], check=True)
    subprocess.run(
        ["chroot", str(root), "systemctl", "enable", "lab-agent.service", "lab-journal.service"],
        check=True,
        capture_output=True,
    )


def build(force: bool = False) -> Path:
    d = lab_dir()
    img = d / "image"
    if image_ready(d) and not force:
        say(f"image is cached in {img} (--force rebuilds it)")
        return img
    for tool in ("mmdebstrap", "mke2fs", "qemu-img", QEMU):
        if shutil.which(tool) is None:
            raise LabError(
                f"{tool} is missing: apt-get install mmdebstrap qemu-system-x86 qemu-utils"
            )
    if os.geteuid() != 0:
        raise LabError("building the image needs root (mmdebstrap, mke2fs -d with owners)")
    t0 = time.monotonic()
    work = d / "build"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    say("downloading wheels")
    _wheels(work / "wheels")
    root = work / "rootfs"
    say("mmdebstrap: bookworm userland and kernel (a few minutes)")
    # A small initramfs (the root disk's drivers only): it boots faster under TCG.
    setup = (
        'mkdir -p "$1/etc/initramfs-tools/conf.d" && '
        'echo MODULES=list > "$1/etc/initramfs-tools/conf.d/kiosk-lab.conf" && '
        'printf "virtio_pci\\nvirtio_blk\\next4\\ncrc32c_generic\\n" '
        '> "$1/etc/initramfs-tools/modules"'
    )
    hook = (
        'chroot "$1" apt-get install --download-only -y --no-install-recommends '
        + " ".join(INSTALL_PACKAGES)
        + ' && mkdir -p "$1/srv/lab/debs" && cp "$1"/var/cache/apt/archives/*.deb '
        '"$1/srv/lab/debs/"'
    )
    subprocess.run(
        nice(
            [
                "mmdebstrap",
                "--quiet",
                "--variant=minbase",
                "--include=" + ",".join(IMAGE_PACKAGES),
                "--skip=cleanup/apt/cache",
                f"--essential-hook={setup}",
                f"--customize-hook={hook}",
                "bookworm",
                str(root),
                *MIRRORS,
            ]
        ),
        check=True,
    )
    _apt_index(root / "srv/lab/debs")
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True)
    shutil.copytree(work / "wheels", root / "srv/lab/wheels")
    _guest_files(root)
    new = d / "image.new"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    boot = root / "boot"
    shutil.copy(next(boot.glob("vmlinuz-*")), new / "vmlinuz")
    shutil.copy(next(boot.glob("initrd.img-*")), new / "initrd.img")
    say("mke2fs: the root file system")
    subprocess.run(
        nice(
            [
                "mke2fs",
                "-q",
                "-t",
                "ext4",
                "-L",
                "kiosk-root",
                "-d",
                str(root),
                str(new / "root.img"),
                IMAGE_SIZE,
            ]
        ),
        check=True,
    )
    (new / "VERSION").write_text(IMAGE_VERSION + "\n")
    shutil.rmtree(img, ignore_errors=True)
    new.rename(img)
    shutil.rmtree(work)
    say(f"image built in {time.monotonic() - t0:.0f} s: {img}")
    return img


# --------------------------------------------------------------------------- the VM


def kvm_unusable() -> str:
    """Why KVM cannot boot the image here ("" when it can).

    Measured on the build machines: /dev/kvm is there, but it is PVM
    (``kvm_pvm``, a nested hypervisor without VT-x/AMD-V) which runs only
    kernels built as PVM guests; Debian's kernel prints nothing under it, with
    any ``-cpu`` model (``max`` even aborts on MSR 0x10a).
    """
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "no usable /dev/kvm"
    if Path("/sys/module/kvm_pvm").exists():
        return "/dev/kvm is PVM (kvm_pvm): it boots only PVM guest kernels, not Debian's"
    flags = Path("/proc/cpuinfo").read_text()
    if not re.search(r"^flags\s*:.*\b(vmx|svm)\b", flags, re.M):
        return "the CPU has no vmx/svm flag"
    return ""


@dataclass
class Paths:
    base: Path

    @property
    def image(self) -> Path:
        return self.base / "image"

    @property
    def run(self) -> Path:
        return self.base / "run"

    @property
    def disk(self) -> Path:
        return self.run / "disk.qcow2"

    @property
    def ctl(self) -> Path:
        return self.run / "ctl.sock"

    @property
    def mon(self) -> Path:
        return self.run / "mon.sock"

    @property
    def pidfile(self) -> Path:
        return self.run / "qemu.pid"

    @property
    def console(self) -> Path:
        return self.run / "console.log"

    @property
    def journal(self) -> Path:
        return self.run / "journal.log"


class LogWatch:
    """New lines of a growing file from a mark on; wait for a pattern with a timeout."""

    def __init__(self, path: Path, offset: int | None = None) -> None:
        self.path = path
        self.offset = self.size() if offset is None else offset

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def text(self) -> str:
        """Everything since the mark (complete lines only)."""
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return ""
        end = data.rfind(b"\n")
        return data[: end + 1].decode("utf-8", "replace")

    def wait(self, pattern: str, timeout: float, *, count: int = 1) -> list[re.Match[str]]:
        """Wait until ``pattern`` matched ``count`` lines after the mark."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            found = list(rx.finditer(self.text()))
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                tail = self.text()[-3000:]
                raise LabError(
                    f"timed out after {timeout:.0f} s waiting for /{pattern}/ "
                    f"in {self.path.name}; last output:\n{tail}"
                )
            # The file is written by QEMU; a 20 ms poll is how "tail -f" waits too.
            time.sleep(0.02)


@dataclass
class Result:
    rc: int
    out: str
    err: str

    def check(self, what: str = "") -> Result:
        if self.rc != 0:
            raise LabError(f"guest command failed (rc {self.rc}) {what}\n{self.out}\n{self.err}")
        return self


class Lab:
    """One VM: start, talk to, cut the power of, stop."""

    def __init__(self, base: Path | None = None) -> None:
        self.p = Paths(base or lab_dir())
        self._ids = itertools.count(1)
        self._sock: socket.socket | None = None
        self._buf = b""

    # ----- lifecycle

    def pid(self) -> int | None:
        try:
            pid = int(self.p.pidfile.read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def accel(self) -> list[str]:
        """KVM where it can run Debian's kernel, else TCG (``KIOSK_LAB_ACCEL`` forces one)."""
        want = os.environ.get("KIOSK_LAB_ACCEL", "auto")
        if want == "kvm" or (want == "auto" and not kvm_unusable()):
            return ["-accel", "kvm", "-cpu", "host,-arch-capabilities"]
        return ["-accel", "tcg", "-cpu", "max"]

    def cmdline(self) -> str:
        """The guest kernel's command line; lean unless ``KIOSK_LAB_FULL_BOOT=1``."""
        args = "root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1 quiet"
        args += " systemd.show_status=false i8042.noaux"
        if os.environ.get("KIOSK_LAB_FULL_BOOT") == "1":
            return args
        args += " modprobe.blacklist=" + ",".join(LEAN_MODULES)
        return args + "".join(f" systemd.mask={u}" for u in LEAN_UNITS)

    def boot(self, *, fresh: bool = False, timeout: float = 180, memory: str = "1024") -> float:
        """Start QEMU (a new disk from the image when ``fresh``); seconds to the agent."""
        if not image_ready(self.p.base):
            raise LabError(available() or "no image")
        if self.running():
            raise LabError("the lab VM is already running (stop it first)")
        self.p.run.mkdir(parents=True, exist_ok=True)
        if fresh or not self.p.disk.exists():
            self.p.disk.unlink(missing_ok=True)
            subprocess.run(
                [
                    "qemu-img",
                    "create",
                    "-q",
                    "-f",
                    "qcow2",
                    "-F",
                    "raw",
                    "-b",
                    str(self.p.image / "root.img"),
                    str(self.p.disk),
                ],
                check=True,
            )
        for f in (self.p.ctl, self.p.mon, self.p.pidfile):
            f.unlink(missing_ok=True)
        journal = LogWatch(self.p.journal)
        t0 = time.monotonic()
        cmd = [
            QEMU, *self.accel(), "-m", memory, "-smp", "1", "-nic", "none",
            "-display", "none", "-vga", "none", "-no-user-config", "-nodefaults",
            "-kernel", str(self.p.image / "vmlinuz"),
            "-initrd", str(self.p.image / "initrd.img"),
            "-append", self.cmdline(),
            # writeback honours the guest's flushes (fsync reaches the qcow2 file);
            # cache=unsafe would not, and power cuts would prove nothing.
            "-drive", f"file={self.p.disk},if=virtio,format=qcow2,cache=writeback,discard=unmap",
            "-serial", f"file:{self.p.console}",
            "-monitor", f"unix:{self.p.mon},server=on,wait=off",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=ctl,path={self.p.ctl},server=on,wait=off",
            "-device", "virtserialport,chardev=ctl,name=lab.ctl",
            "-chardev", f"file,id=log,path={self.p.journal}",
            "-device", "virtserialport,chardev=log,name=lab.log",
            "-pidfile", str(self.p.pidfile), "-daemonize",
        ]  # fmt: skip
        subprocess.run(nice(cmd), check=True)
        self.wait_agent(timeout)
        say(f"guest up in {time.monotonic() - t0:.1f} s ({' '.join(self.accel()[1:4:2])})")
        del journal
        return time.monotonic() - t0

    def wait_agent(self, timeout: float) -> str:
        """Wait until the guest's agent answers; returns the guest's boot id."""
        deadline = time.monotonic() + timeout
        while True:
            self.close()
            try:
                r = self._call({"op": "ping"}, timeout=2)
                return str(r["boot_id"])
            except (OSError, LabError, TimeoutError):
                if time.monotonic() > deadline or not self.running():
                    raise LabError(
                        f"the guest's agent did not answer in {timeout:.0f} s; console:\n"
                        + LogWatch(self.p.console, 0).text()[-3000:]
                    ) from None

    def monitor(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(self.p.mon))
            out = b""
            while b"(qemu)" not in out:
                out += s.recv(4096)
            s.sendall(command.encode() + b"\n")
            out = b""
            with contextlib.suppress(OSError):
                while out.count(b"(qemu)") < 1:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    out += chunk
            return out.decode("utf-8", "replace")

    def power_cut(self, *, kill: bool = False) -> None:
        """Cut the power: a hard reset (the guest boots again) or QEMU killed."""
        self.close()
        if kill:
            pid = self.pid()
            if pid:
                os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    while True:
                        os.kill(pid, 0)
                        time.sleep(0.05)
            self.p.pidfile.unlink(missing_ok=True)
        else:
            self.monitor("system_reset")

    def stop(self, timeout: float = 30) -> None:
        self.close()
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(OSError):
            self.monitor("quit")
        deadline = time.monotonic() + timeout
        with contextlib.suppress(ProcessLookupError):
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.05)
            os.kill(pid, signal.SIGKILL)
        self.p.pidfile.unlink(missing_ok=True)

    # ----- the agent

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._buf = b""

    def _connect(self) -> socket.socket:
        if self._sock is None:
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(self.p.ctl))
            self._sock = s
        return self._sock

    def _call(self, req: dict[str, object], timeout: float) -> dict[str, object]:
        req = {**req, "id": next(self._ids)}
        s = self._connect()
        s.settimeout(timeout)
        try:
            s.sendall(json.dumps(req).encode() + b"\n")
            while True:
                while b"\n" not in self._buf:
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        raise LabError("the guest's agent closed the connection")
                    self._buf += chunk
                line, self._buf = self._buf.split(b"\n", 1)
                with contextlib.suppress(ValueError):
                    resp = json.loads(line)
                    if isinstance(resp, dict) and resp.get("id") == req["id"]:
                        return resp
        except (OSError, LabError):
            self.close()
            raise

    def run(self, cmd: str, *, timeout: float = 600, stdin: bytes = b"") -> Result:
        """Run ``cmd`` (a shell command line) in the guest as root."""
        r = self._call(
            {"op": "run", "cmd": cmd, "timeout": timeout,
             "stdin": base64.b64encode(stdin).decode()},
            timeout=timeout + 30,
        )  # fmt: skip
        return Result(
            int(str(r["rc"])),
            base64.b64decode(str(r["out"])).decode("utf-8", "replace"),
            base64.b64decode(str(r["err"])).decode("utf-8", "replace"),
        )

    def put(self, data: bytes, dst: str, mode: int = 0o644) -> None:
        r = self._call(
            {"op": "put", "path": dst, "data": base64.b64encode(data).decode(), "mode": mode},
            timeout=120,
        )
        if r.get("rc") != 0:
            raise LabError(f"copy to {dst} failed: {r}")

    def copy(self, src: Path, dst: str) -> None:
        self.put(src.read_bytes(), dst, src.stat().st_mode & 0o777)

    def top_up_wheels(self, dst: str = "/srv/lab/wheels") -> list[str]:
        """Put wheels the tree now needs but the cached image lacks into the guest.

        The image's wheels are those of the tree it was built from; a dependency
        added since (segno, for one) would make the offline install.sh fail. The
        host fetches them as a Pi's owner would before going offline.
        """
        cache = self.p.base / "wheels"
        _wheels(cache)
        have = set(self.run(f"ls {dst}").check("ls wheels").out.split())
        new = sorted(f.name for f in cache.iterdir() if f.name not in have)
        for name in new:
            self.copy(cache / name, f"{dst}/{name}")
        if new:
            say(f"wheels added to the guest: {', '.join(new)}")
        return new

    def copy_repo(self, dst: str = "/home/pi/kiosk") -> None:
        """The working tree's tracked and new files (as ``git clone`` would give them)."""
        files = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO, check=True, capture_output=True,
        ).stdout.split(b"\0")  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            tar = Path(tmp) / "repo.tar.gz"
            names = [f.decode() for f in files if f and (REPO / f.decode()).is_file()]
            subprocess.run(
                ["tar", "-czf", str(tar), "-C", str(REPO), "--null", "-T", "-"],
                input="\0".join(names).encode(), check=True,
            )  # fmt: skip
            self.put(tar.read_bytes(), "/tmp/repo.tar.gz")
        self.run(f"rm -rf {dst} && mkdir -p {dst} && tar -xzf /tmp/repo.tar.gz -C {dst}").check()

    # ----- scanners

    def hid(self, *args: str) -> Result:
        quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in args)
        return self.run(f"/usr/local/lib/kiosk-lab/hid.py {quoted}")

    def journal(self, offset: int | None = None) -> LogWatch:
        return LogWatch(self.p.journal, offset)

    def console(self, offset: int | None = None) -> LogWatch:
        return LogWatch(self.p.console, offset)


@contextlib.contextmanager
def booted(*, fresh: bool = True) -> Iterator[Lab]:
    lab = Lab()
    lab.boot(fresh=fresh)
    try:
        yield lab
    finally:
        lab.stop()


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="lab.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="verb", required=True)
    sub.add_parser("build", help="build the image (cached)").add_argument(
        "--force", action="store_true"
    )
    b = sub.add_parser("boot", help="start the VM, wait for its agent")
    b.add_argument("--fresh", action="store_true", help="a new disk from the image")
    r = sub.add_parser("run", help="run a command in the guest")
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    r.add_argument("--timeout", type=float, default=600)
    c = sub.add_parser("copy", help="copy a host file into the guest")
    c.add_argument("src", type=Path)
    c.add_argument("dst")
    sub.add_parser("copy-repo", help="copy this working tree to /home/pi/kiosk in the guest")
    for verb in ("plug", "unplug"):
        sub.add_parser(verb, help=f"{verb} gadget scanner N").add_argument("n")
    t = sub.add_parser("type", help="type TEXT on gadget scanner N (<enter> is Enter)")
    t.add_argument("n")
    t.add_argument("text")
    a = sub.add_parser("add", help="make gadget N: add N VID:PID NAME [SERIAL]")
    a.add_argument("n")
    a.add_argument("usb_id")
    a.add_argument("name")
    a.add_argument("serial", nargs="?", default="")
    pc = sub.add_parser("power-cut", help="hard reset (or --kill QEMU)")
    pc.add_argument("--kill", action="store_true")
    sub.add_parser("stop", help="power the VM off")
    sub.add_parser("status", help="is the lab usable and running")
    args = p.parse_args(argv)
    lab = Lab()
    try:
        if args.verb == "build":
            build(force=args.force)
        elif args.verb == "boot":
            lab.boot(fresh=args.fresh)
        elif args.verb == "run":
            res = lab.run(" ".join(args.cmd), timeout=args.timeout)
            sys.stdout.write(res.out)
            sys.stderr.write(res.err)
            return res.rc
        elif args.verb == "copy":
            lab.copy(args.src, args.dst)
        elif args.verb == "copy-repo":
            lab.copy_repo()
            lab.top_up_wheels()
        elif args.verb in ("plug", "unplug", "type", "add"):
            extra = {"type": [args.text] if args.verb == "type" else []}.get(args.verb, [])
            if args.verb == "add":
                extra = [args.usb_id, args.name] + ([args.serial] if args.serial else [])
            res = lab.hid(args.verb, args.n, *extra)
            sys.stdout.write(res.out)
            sys.stderr.write(res.err)
            return res.rc
        elif args.verb == "power-cut":
            lab.power_cut(kill=args.kill)
        elif args.verb == "stop":
            lab.stop()
        elif args.verb == "status":
            why = available()
            print(json.dumps({"usable": not why, "why": why, "running": lab.running(),
                              "dir": str(lab.p.base)}))  # fmt: skip
    except LabError as e:
        say(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
