"""Where the doctor looks: the machine's users, groups, devices, clock and services.

Every probe of the real system goes through :class:`System`, so tests point the
doctor at temporary directories and fake answers instead of the test machine.
Permissions are judged for the *service user* (``kiosk``), so the answer is the
same whether the doctor runs as root, as ``kiosk`` or as the technician.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kiosk import clock
from kiosk.scanner import discovery

SERVICE = "kiosk.service"


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
