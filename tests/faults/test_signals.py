"""Signals and requests reach only the daemon, and a second `kiosk sync` never hurts the first.

The daemon is found by its control socket, never by who holds the store
lock; its signal handlers are in place before it takes that lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.control import ControlServer, ask, socket_path
from kiosk.models import Verdict
from kiosk.store import Store
from tests.fakeslims import FakeItem, FakeSlims, User
from tests.faults.proxy import FaultProxy
from tests.helpers import kiosk, slims_cli_env

PASSWORD = "pw-signals"
CODES = [f"C{i:04d}" for i in range(8)]


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_until(stream: object, text: str) -> list[str]:
    """Lines of ``stream`` up to and including the first holding ``text`` (all of it if none)."""
    seen = []
    for line in stream:  # type: ignore[attr-defined]
        seen.append(line)
        if text in line:
            break
    return seen


def start_daemon(
    state_dir: Path, env: dict[str, str], until: str = "building the cart"
) -> subprocess.Popen[str]:
    """The daemon with its start-up logged, returned once it logged ``until``.

    "building the cart" comes right after it took the store lock, "scans stored"
    once it scans and answers on its control socket.
    """
    proc = start(env, "-v", "--state-dir", str(state_dir), "run", "--simulate", "--json")
    assert proc.stderr is not None
    seen = read_until(proc.stderr, until)
    assert seen and until in seen[-1], "".join(seen)
    return proc


def test_sigusr1_during_startup_is_a_sync_request(
    state_dir: Path, kiosk_env: dict[str, str]
) -> None:
    """SIGUSR1 while the daemon is still starting (lock held, cart not built) syncs, not kills."""
    proc = start_daemon(state_dir, kiosk_env)
    proc.send_signal(signal.SIGUSR1)
    out, err = proc.communicate("B0001\n", timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out.splitlines()[0])["code"] == "B0001"
    assert "sync done" in err


def test_sigterm_during_startup_stops_cleanly(state_dir: Path, kiosk_env: dict[str, str]) -> None:
    """SIGTERM while the daemon is still starting ends it with status 0, its store intact."""
    proc = start_daemon(state_dir, kiosk_env)
    proc.send_signal(signal.SIGTERM)
    assert proc.stdin is not None
    assert proc.wait(timeout=60) == 0  # standard input still open: the signal alone stopped it
    proc.communicate()
    with Store.open(state_dir) as store:
        assert len(store.catalog()) == 15


def test_sync_after_a_killed_daemon_finds_the_new_one(
    state_dir: Path, kiosk_env: dict[str, str]
) -> None:
    """A socket left by a SIGKILLed daemon misleads nobody: the next daemon answers `kiosk sync`."""
    first = start_daemon(state_dir, kiosk_env, until="scans stored")
    first.kill()
    first.communicate()
    assert socket_path(state_dir).exists()  # left behind
    alone = kiosk("--state-dir", str(state_dir), "sync", "--wait", "0", env=kiosk_env)
    assert alone.returncode == 0, alone.stderr  # no daemon: it syncs itself
    assert "daemon" not in alone.stdout + alone.stderr
    second = start_daemon(state_dir, kiosk_env, until="scans stored")
    assert second.stdin and second.stdout
    second.stdin.write("B0002\n")
    second.stdin.flush()
    second.stdout.readline()
    res = kiosk("--state-dir", str(state_dir), "sync", env=kiosk_env)
    second.communicate(timeout=60)
    assert second.returncode == 0
    assert res.returncode == 0, res.stderr
    assert f"by the daemon (pid {second.pid}): 1 of 1 scans in the upload file" in res.stdout


# -- two `kiosk sync` at once, and a daemon whose sync takes long ----------------
@pytest.fixture
def slims() -> Iterator[FakeSlims]:
    with FakeSlims([FakeItem(c) for c in CODES], users={"admin": User(PASSWORD)}) as fake:
        fake.start_stocktake()
        yield fake


@pytest.fixture
def env(tmp_path: Path, proxy: FaultProxy) -> dict[str, str]:
    state = tmp_path / "state"
    with Store.open(state) as store:
        for i, code in enumerate(CODES):
            store.add_scan(code=code, verdict=Verdict.OK, scanner="s1", ts=1000.0 + i)
    settings = 'retries = 0\nsync_mode = "item"\n'
    return slims_cli_env(
        proxy.url, PASSWORD, tmp_path / "kiosk.toml", settings, KIOSK_STATE_DIR=str(state)
    )


def synced(state: Path) -> list[str | None]:
    with Store.open(state) as store:
        return [s.sync for s in store.scans()]


def test_second_sync_waits_for_the_first_and_never_signals_it(
    slims: FakeSlims, proxy: FaultProxy, env: dict[str, str]
) -> None:
    """A second `kiosk sync` beside a running one says it waits, then finds nothing left to do."""
    proxy.inject("stock_take_action", "hold", after=2)
    first = start(env, "sync")
    assert proxy.held.wait(60), first.communicate(timeout=5)
    second = start(env, "sync", "--wait", "120")
    assert second.stderr is not None
    seen = read_until(second.stderr, "waiting up to 120 s")
    assert seen and f"(pid {first.pid})" in seen[-1], "".join(seen)
    proxy.release.set()
    out1, err1 = first.communicate(timeout=60)
    out2, err2 = second.communicate(timeout=60)
    assert first.returncode == 0, err1  # not killed (it used to end with 138, SIGUSR1)
    assert out1.startswith(f"sync (item): {len(CODES)} of {len(CODES)} scans confirmed")
    assert second.returncode == 0, err2
    assert out2.startswith("sync (item): 0 of 0 scans confirmed")
    assert slims.found() == set(CODES)
    assert synced(Path(env["KIOSK_STATE_DIR"])) == ["accepted"] * len(CODES)


def test_second_sync_without_waiting_refuses_in_one_line(
    slims: FakeSlims, proxy: FaultProxy, env: dict[str, str]
) -> None:
    """`kiosk sync --wait 0` beside a running sync refuses clearly and leaves the first alone."""
    proxy.inject("stock_take_action", "hold", after=2)
    first = start(env, "sync")
    assert proxy.held.wait(60), first.communicate(timeout=5)
    second = kiosk("sync", "--wait", "0", env=env)
    proxy.release.set()
    first.communicate(timeout=60)
    assert first.returncode == 0
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [
        f"kiosk: error: the store in {env['KIOSK_STATE_DIR']} is in use by another kiosk "
        f"process (pid {first.pid}), not the daemon: run `kiosk sync` again when it has finished"
    ]
    assert slims.found() == set(CODES)


def test_sync_says_honestly_when_the_daemons_sync_outlasts_the_wait(
    slims: FakeSlims, proxy: FaultProxy, env: dict[str, str]
) -> None:
    """When the daemon's sync outlasts --wait, `kiosk sync` says so honestly and exits 3."""
    daemon = start(env, "-v", "run", "--simulate")
    assert daemon.stderr is not None
    read_until(daemon.stderr, "scans stored")
    proxy.inject("stock_take_action", "hold", after=2)
    res = kiosk("sync", "--wait", "1", env=env)
    assert proxy.held.is_set()
    proxy.release.set()
    assert res.returncode == 3, res.stderr
    assert res.stdout.strip() == (
        f"the daemon (pid {daemon.pid}) was asked to sync but had not finished after 1 s; "
        "follow it on the cart's screen or in its log"
    )
    again = kiosk("sync", env=env)  # the daemon's sync has ended: this one reports the next
    daemon.communicate("", timeout=60)
    assert again.returncode == 0, again.stderr
    assert f"by the daemon (pid {daemon.pid})" in again.stdout
    assert slims.found() == set(CODES)
    assert synced(Path(env["KIOSK_STATE_DIR"])) == ["accepted"] * len(CODES)


# -- the control socket itself ---------------------------------------------------
def test_control_socket_works_in_a_deep_state_directory(tmp_path: Path) -> None:
    """A state directory whose socket path is longer than AF_UNIX allows still answers."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    assert len(str(socket_path(deep))) > 108
    with ControlServer(deep, lambda request, wait: {"event": "done", "echo": request["cmd"]}):
        answer = ask(deep, {"cmd": "sync"}, wait=5)
    assert answer is not None
    assert answer.pid == os.getpid() and answer.final == {"event": "done", "echo": "sync"}
    assert not socket_path(deep).exists()
    assert ask(deep, {"cmd": "sync"}, wait=5) is None  # nobody listens: no daemon


def test_end_of_day_unit_can_reach_the_daemon() -> None:
    """The timer's sync service may talk to the daemon's socket and outwaits `kiosk sync`."""
    from kiosk.cli.sync import WAIT_S
    from tests.test_systemd_units import REPO, one, parse_unit

    daemon = parse_unit(REPO / "systemd/kiosk.service")
    sync = parse_unit(REPO / "systemd/kiosk-sync.service")
    assert "AF_UNIX" in one(sync, "Service", "RestrictAddressFamilies").split()
    assert "AF_UNIX" in one(daemon, "Service", "RestrictAddressFamilies").split()
    for key in ("User", "StateDirectory"):  # same socket file, same owner
        assert one(sync, "Service", key) == one(daemon, "Service", key)
    timeout = one(sync, "Service", "TimeoutStartSec")
    assert timeout.endswith("min") and int(timeout[:-3]) * 60 > WAIT_S


def test_a_socket_that_cannot_be_made_does_not_stop_the_daemon(tmp_path: Path) -> None:
    """If the control socket cannot be bound the daemon scans on; `kiosk sync` finds no daemon."""
    socket_path(tmp_path).mkdir()  # something in the way that is not a stale socket
    with ControlServer(tmp_path, lambda request, wait: {"event": "done"}):
        assert ask(tmp_path, {"cmd": "sync"}, wait=1) is None
