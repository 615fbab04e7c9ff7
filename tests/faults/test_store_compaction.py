"""Compaction runs beside the cart: it holds up neither a start nor a scan, and loses nothing."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import kiosk
from kiosk.exc import StoreError
from kiosk.models import SyncOutcome, Verdict
from kiosk.store import Store, compaction, journal
from kiosk.store.compaction import Next
from kiosk.store.summary import read_known
from tests.faults.store_kit import as_read, as_read_whole


def _scan(store: Store, i: int) -> None:
    store.add_scan(code=f"B{i:04d}", verdict=Verdict.OK, scanner="t", ts=float(i))


@pytest.fixture
def grown(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store whose journal has outgrown its snapshot: its next writer compacts."""
    with Store.open(state_dir) as store:
        for i in range(1, 31):
            _scan(store, i)
        store._scans_db.storage.compact()
        for i in range(31, 61):
            _scan(store, i)
    monkeypatch.setattr(journal, "COMPACT_ON_OPEN", 1024)
    return state_dir


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Compactions on a thread wait for this event before they write."""
    go = threading.Event()
    real = compaction.write_next

    def gated(nxt: Next, *args: Any) -> Next:
        if threading.current_thread() is not threading.main_thread():
            go.wait()
        return real(nxt, *args)

    monkeypatch.setattr(journal, "write_next", gated)
    return go


def _work(store: Store) -> None:
    """What a cart does while a compaction runs: scans, answers, an undo, a new session."""
    for i in range(61, 71):
        _scan(store, i)
    store.set_sync({s.seq: SyncOutcome.ACCEPTED for s in store.pending_sync()[:45]})
    store.void(65)
    store.start_session("Second floor")
    _scan(store, 71)


def test_changes_made_while_compacting_are_kept_in_the_new_journal(
    grown: Path, held: threading.Event
) -> None:
    """The first scan starts a compaction on a thread; the work done meanwhile all survives it."""
    with Store.open(grown) as store:
        assert "compact" not in {t.name for t in threading.enumerate()}  # not while starting
        storage = store._scans_db.storage
        gen = storage.generation
        _work(store)  # the compaction waits meanwhile
        assert storage.generation == gen
        held.set()
        storage.settle()
        assert storage.generation == gen + 1
        assert not list(grown.glob("*.tmp"))
        seen_live = store.scans(include_voided=True)
        _scan(store, 72)
    head, *records = (grown / "scans.log").read_bytes().splitlines()
    base = json.loads(head[9:])["base"]
    assert base == json.loads((grown / "scans.json").read_bytes().split(b"\n")[0])["changes"]
    numbers = [json.loads(r[9:])["n"] for r in records]
    assert numbers == list(range(base + 1, base + 1 + len(records)))  # only the work since
    assert b'"p":{"62":' in records[0]  # the first change after the compaction's start
    seen = as_read(grown)
    assert seen == as_read_whole(grown)
    assert seen["scans"][:-1] == seen_live and len(seen["scans"]) == 72
    assert len(seen["pending"]) == 72 - 45 - 1 and not seen["losses"]


def test_a_store_closed_while_compacting_keeps_its_files_as_they_were(
    grown: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopping the cart mid-compaction leaves no half snapshot behind and loses nothing."""
    real = compaction.write_next

    def until_called_off(nxt: Next, *args: Any) -> Next:
        if threading.current_thread() is not threading.main_thread():
            nxt.stop.wait()
        return real(nxt, *args)

    monkeypatch.setattr(journal, "write_next", until_called_off)
    snapshot = (grown / "scans.json").read_bytes()
    with Store.open(grown) as store:
        _work(store)
    assert (grown / "scans.json").read_bytes() == snapshot
    assert not list(grown.glob("*.tmp"))
    seen = as_read(grown)
    assert len(seen["scans"]) == 71 and not seen["losses"]


def test_a_compaction_cut_between_its_two_renames_loses_nothing(
    grown: Path, held: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New snapshot in place, old journal still there: what only it holds is read and kept."""
    real = os.replace

    def no_new_journal(src: Any, dst: Any) -> None:
        if str(src).endswith("scans.log.tmp"):
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    with Store.open(grown) as store:
        storage = store._scans_db.storage
        gen = storage.generation
        _work(store)
        monkeypatch.setattr(os, "replace", no_new_journal)
        held.set()
        storage.settle()
        with pytest.raises(StoreError, match="restart"):
            _scan(store, 72)
        monkeypatch.setattr(os, "replace", real)
    assert b'"generation":%d' % (gen + 1) in (grown / "scans.json").read_bytes()[:200]
    seen = as_read(grown)
    assert len(seen["scans"]) == 71 and not seen["losses"]
    assert len(seen["pending"]) == 71 - 45 - 1
    with Store.open(grown) as store:  # the writer folds those changes into a snapshot at once
        assert store._scans_db.storage.generation == gen + 2
        _scan(store, 72)
    seen = as_read(grown)
    assert len(seen["scans"]) == 72 and not seen["losses"] and seen == as_read_whole(grown)


_CART = """
import os, signal, sys, threading
from pathlib import Path
from kiosk.models import Verdict
from kiosk.store import Store, journal

journal.COMPACT_ON_OPEN, journal.COMPACT_DURING_WORK = 4096, 32 << 10
journal.CHECKPOINT_EVERY = 8192
state, first, die = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "between-renames"
write_next, replace = journal.write_next, os.replace
started, go = threading.Event(), threading.Event()

def after_five_more_scans(*args):  # so the new journal has confirmed scans to carry
    if threading.current_thread() is not threading.main_thread():
        started.set()
        go.wait()
    return write_next(*args)

def new_journal_then_die(src, dst):
    if str(src).endswith("scans.log.tmp") and go.is_set():
        os.kill(os.getpid(), signal.SIGKILL)  # the new snapshot is in place, its journal not
    replace(src, dst)

journal.write_next = after_five_more_scans
if die:
    os.replace = new_journal_then_die
store = Store.open(state)
waited = 0
for i in range(first, first + 300):
    store.add_scan(code=f"C{i:05d}", verdict=Verdict.OK, scanner="t", ts=float(i))
    print(i, flush=True)
    if started.is_set():
        waited += 1
        if waited == 5:
            waited = 0
            started.clear()
            go.set()
    elif go.is_set() and not die:
        go.clear()
"""


@pytest.mark.parametrize("kill", ["between-renames", "at-random"])
def test_a_cart_killed_while_compacting_keeps_every_acknowledged_scan(
    tmp_path: Path, kill: str
) -> None:
    """SIGKILL at any moment of a compaction, even between its renames, loses no confirmed scan."""
    env = dict(os.environ, PYTHONPATH=str(Path(kiosk.__file__).resolve().parent.parent))
    rnd = random.Random(7)
    state = tmp_path / "state"
    acknowledged: list[int] = []
    for round_ in range(6):
        first = 1 + 1000 * round_
        proc = subprocess.Popen(
            [sys.executable, "-c", _CART, str(state), str(first), kill],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        stop_after = rnd.randint(20, 280)
        for line in proc.stdout:
            acknowledged.append(int(line))
            if kill == "at-random" and acknowledged[-1] - first == stop_after:
                proc.kill()
                break
        proc.wait()
        acknowledged += [int(line) for line in proc.stdout.read().split()]
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        with Store.open_readonly(state) as store:
            stored = [int(s.code[1:]) for s in store.scans()]
            assert not store.losses()
        assert set(acknowledged) <= set(stored) and len(stored) == len(set(stored))


def test_a_writer_that_finds_no_summary_leaves_one_however_briefly_it_runs(grown: Path) -> None:
    """After an upgrade or a lost ``scans.sum``, even a one-command writer saves the summary."""
    (grown / "scans.sum").unlink()
    with Store.open(grown):
        pass
    known = read_known(grown / "scans.sum")
    assert known is not None and known.size == (grown / "scans.json").stat().st_size
