"""Red-team cases for `kiosk sync` and `kiosk catalog pull` through a faulty network.

Each case runs the real CLI against the fake SLiMS behind :class:`FaultProxy`
and checks what a librarian relies on: no scan is marked synced that SLiMS did
not accept, the run says what went wrong in one line with the right exit
status, and a re-run once the network is back completes, counting every item
exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.models import SyncOutcome, Verdict
from kiosk.store import Store
from tests.fakeslims import FakeItem, FakeSlims, User
from tests.faults.proxy import FaultProxy
from tests.helpers import slims_cli_env

PASSWORD = "pw-faults"
N = 24
CODES = [f"C{i:04d}" for i in range(N)]
ON_LOAN, SKIPPED = "C0003", "C0004"
#: What SLiMS ends up holding as found when every scan got through.
FOUND = set(CODES) - {ON_LOAN, SKIPPED}
#: The client gives up on an answer after this long (slims.timeout_s).
TIMEOUT_S = 1.0


@pytest.fixture
def slims(request: pytest.FixtureRequest) -> Iterator[FakeSlims]:
    version, language = getattr(request, "param", ("9.6.1", "en"))
    items = [FakeItem(c, f"Title {c}", f"{i:03d} X") for i, c in enumerate(CODES)]
    items[3].on_loan = True
    items[4].skip_stock_take = True
    users = {"admin": User(PASSWORD)}
    with FakeSlims(items, users=users, version=version, language=language) as fake:
        fake.start_stocktake()
        yield fake


@dataclass
class World:
    """SLiMS, the proxy in front of it, and a cart's state and environment pointing there."""

    slims: FakeSlims
    proxy: FaultProxy
    env: dict[str, str]
    state: Path


@pytest.fixture
def world(slims: FakeSlims, proxy: FaultProxy, env: dict[str, str], tmp_path: Path) -> World:
    return World(slims, proxy, env, tmp_path / "state")


@pytest.fixture
def env(tmp_path: Path, proxy: FaultProxy) -> dict[str, str]:
    """The CLI's environment: SLiMS behind the proxy, a short timeout, one retry."""
    settings = f"timeout_s = {TIMEOUT_S}\nretries = 1\nupload_chunk = 5\n"
    return slims_cli_env(
        proxy.url,
        PASSWORD,
        tmp_path / "kiosk.toml",
        settings,
        KIOSK_STATE_DIR=str(tmp_path / "state"),
    )


def scan_all(state: Path) -> None:
    with Store.open(state) as store:
        for i, code in enumerate(CODES):
            verdict = Verdict.ON_LOAN if code == ON_LOAN else Verdict.OK
            store.add_scan(code=code, verdict=verdict, scanner="s1", ts=1000.0 + i)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def outcomes(state: Path) -> dict[str, str | None]:
    with Store.open(state) as store:
        return {s.code: s.sync for s in store.scans()}


def assert_nothing_pretended(state: Path, slims: FakeSlims) -> None:
    """Every scan the store holds as confirmed is one SLiMS has as found."""
    pretended = {
        code: sync
        for code, sync in outcomes(state).items()
        if sync is not None and SyncOutcome(sync).confirmed and slims.status(code) != "e"
    }
    assert not pretended, f"marked synced but not found in SLiMS: {pretended}"


def assert_exactly_once(state: Path, slims: FakeSlims) -> None:
    """All found items are in SLiMS, each credited to one scan, none left pending."""
    final = outcomes(state)
    assert slims.found() == FOUND
    counts = Counter(final.values())
    assert counts["accepted"] + counts["uploaded"] == len(FOUND), counts
    assert counts["already_scanned"] == 0 and counts[None] == 0, counts
    assert final[ON_LOAN] == "on_loan" and final[SKIPPED] == "skipped_rule"


def assert_one_line_error(res: subprocess.CompletedProcess[str], *words: str) -> None:
    assert res.returncode == 1, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kiosk: error: "), res.stderr
    for word in words:
        assert word in lines[0], lines[0]


#: (fault, what the one-line error names) for faults that outlast the client's retry.
LASTING = [
    ("reset", "connection failed"),
    ("reset_after", "connection failed"),
    ("500", "HTTP 500"),
    ("delay", f"no answer within {TIMEOUT_S:g} s"),
    ("truncate", "broke off"),
    ("cut", "unexpected answer"),
    ("login_page", "log-in page again right after a successful log in"),
    ("login_page_after", "log-in page again right after a successful log in"),
]


@pytest.mark.parametrize("mode", ["item", "upload"])
@pytest.mark.parametrize(("kind", "words"), LASTING, ids=[k for k, _ in LASTING])
def test_lasting_fault_fails_in_one_line_and_rerun_completes_once(
    world: World, mode: str, kind: str, words: str
) -> None:
    """A fault outlasting the retries: one error line, nothing pretended, a re-run finishes."""
    slims, proxy, env, state = world.slims, world.proxy, world.env, world.state
    scan_all(state)
    proxy.inject("/stock_take/", kind, after=4, times=1000, seconds=3 * TIMEOUT_S)
    res = cli(env, "sync", "--mode", mode)
    assert_one_line_error(res, words)
    assert kind in {k for _m, _p, k in proxy.seen}
    proxy.clear()
    proxy.release.set()  # delayed requests land now, late, as they would on a slow network
    assert proxy.wait_idle()
    assert_nothing_pretended(state, slims)
    again = cli(env, "sync", "--mode", mode)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"sync ({mode}): ")
    assert_exactly_once(state, slims)


@pytest.mark.parametrize("mode", ["item", "upload"])
@pytest.mark.parametrize("kind", ["reset", "reset_after", "500", "truncate", "login_page_after"])
def test_passing_fault_is_ridden_out(world: World, mode: str, kind: str) -> None:
    """One dropped or garbled answer is retried and the sync still completes exactly once."""
    slims, proxy, env, state = world.slims, world.proxy, world.env, world.state
    scan_all(state)
    proxy.inject("/stock_take/", kind, after=4)
    res = cli(env, "sync", "--mode", mode)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert kind in {k for _m, _p, k in proxy.seen}
    assert_exactly_once(state, slims)


@pytest.mark.parametrize(
    "slims", [("9.6.1", "en"), ("9.4.2", "id")], indirect=True, ids=["9.6-en", "9.4-id"]
)
@pytest.mark.parametrize("mode", ["item", "upload"])
def test_stocktake_closed_mid_sync_counts_nothing_after_it(world: World, mode: str) -> None:
    """A stock take finished in SLiMS mid-sync stops the sync; nothing after it is marked synced."""
    slims, proxy, env, state = world.slims, world.proxy, world.env, world.state
    scan_all(state)
    proxy.inject("/stock_take/", "call", after=6, call=lambda _i, _p: slims.finish_stocktake())
    res = cli(env, "sync", "--mode", mode)
    assert_one_line_error(res, "stock take")
    assert_nothing_pretended(state, slims)
    assert any(sync is None for sync in outcomes(state).values())
    again = cli(env, "sync", "--mode", mode)
    assert_one_line_error(again, "stock take")
    assert_nothing_pretended(state, slims)


@pytest.mark.parametrize("mode", ["item", "upload"])
def test_sigkill_at_a_random_request_then_rerun_completes_once(world: World, mode: str) -> None:
    """`kiosk sync` killed at random requests, before or after SLiMS saw them, loses nothing."""
    slims, proxy, env, state = world.slims, world.proxy, world.env, world.state
    scan_all(state)
    rnd = random.Random(f"sigkill-{mode}")
    cmd = [sys.executable, "-m", "kiosk", "sync", "--mode", mode]
    kills = 0
    for _round in range(4):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        target = proxy.count("") + rnd.randint(2, 12)
        after = rnd.random() < 0.5  # SLiMS has done the work, the answer never comes

        def kill(index: int, _path: str, target: int = target, pid: int = proc.pid) -> None:
            if index == target:
                os.kill(pid, signal.SIGKILL)

        if after:
            proxy.inject("", "call", after=target - proxy.count(""), call=kill)
        else:
            proxy.on_request = kill
        proc.communicate(timeout=120)
        proxy.on_request = None
        proxy.clear()
        assert proxy.wait_idle()
        assert_nothing_pretended(state, slims)
        if proc.returncode == 0:
            break  # the whole sync fitted in before the chosen request
        assert proc.returncode == -signal.SIGKILL
        kills += 1
    assert kills
    done = cli(env, "sync", "--mode", mode)
    assert done.returncode == 0, done.stderr
    assert_exactly_once(state, slims)


# -- catalogue pulls ------------------------------------------------------------
def catalog_count(state: Path) -> int:
    with Store.open(state) as store:
        return len(store.catalog())


PULL_LASTING: list[object] = [
    ("reset", "connection failed"),
    ("500", "HTTP 500"),
    ("delay", f"no answer within {TIMEOUT_S:g} s"),
    ("truncate", "broke off"),
    ("login_page", "log in"),
]


@pytest.mark.parametrize(("kind", "words"), PULL_LASTING)
def test_failed_pull_keeps_the_old_catalogue(world: World, kind: str, words: str) -> None:
    """A pull broken by the network says so in one line and leaves the catalogue as it was."""
    slims, proxy, env, state = world.slims, world.proxy, world.env, world.state
    first = cli(env, "catalog", "pull")
    assert first.returncode == 0, first.stderr
    assert catalog_count(state) == N
    slims.items["C9999"] = FakeItem("C9999", "New book")
    proxy.inject("item_export", kind, times=1000, seconds=3 * TIMEOUT_S)
    res = cli(env, "catalog", "pull")
    assert_one_line_error(res, words)
    assert kind in {k for _m, _p, k in proxy.seen}
    assert catalog_count(state) == N
    proxy.clear()
    proxy.release.set()
    again = cli(env, "catalog", "pull")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"catalogue: {N + 1} items")
    assert catalog_count(state) == N + 1


def test_pull_cut_off_cleanly_is_refused(world: World) -> None:
    """An export ending early with no Content-Length to betray it never replaces the catalogue."""
    proxy, env, state = world.proxy, world.env, world.state
    assert cli(env, "catalog", "pull").returncode == 0
    proxy.inject("item_export", "cut")
    res = cli(env, "catalog", "pull")
    assert res.returncode == 1 and catalog_count(state) == N
