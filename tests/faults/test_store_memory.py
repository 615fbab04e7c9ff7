"""The daemon's memory does not grow with the scans it stores (a Pi Zero has 512 MB)."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

from kiosk.models import ScanDetail, Verdict
from kiosk.store import Store


def _add(store: Store, first: int, n: int) -> None:
    for seq in range(first, first + n):
        store.add_scan(
            code=f"X{seq:08d}",
            verdict=Verdict.UNKNOWN,
            scanner="scanner-1",
            ts=1_780_000_000.0 + seq,
            location="Perpustakaan Utama",
            run=1,
            detail=ScanDetail(),
            stamp={"wall": 1_780_000_000.0 + seq, "mono": float(seq), "boot": "b" * 32},
        )


def test_memory_held_per_stored_scan_is_a_few_bytes(tmp_path: Path) -> None:
    """Scans stay on disk: each one costs the open store bytes, not the ~0.7 KB it used to."""
    with Store.open(tmp_path) as store:
        _add(store, 1, 200)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        _add(store, 201, 1500)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert grown / 1500 < 64, f"{grown / 1500:.0f} bytes held per scan"
        assert store.scan(1000) is not None and store.scan(1000).code == "X00001000"  # type: ignore[union-attr]


def test_streamed_scans_read_back_exactly_what_was_stored(tmp_path: Path) -> None:
    """Scans read back from disk, before and after compaction, are the ones stored, in order."""
    with Store.open(tmp_path) as store:
        _add(store, 1, 50)
        store.set_sync({3: "accepted", 4: "accepted"})
        store.void(5)
        before = [s.to_dict() for s in store.iter_scans(include_voided=True)]
        store._scans_db.storage.compact()
        after = [s.to_dict() for s in store.iter_scans(include_voided=True)]
        assert before == after and len(after) == 50
        assert after[2]["sync"] == "accepted" and after[4]["voided"] is True
    with Store.open_readonly(tmp_path) as store:
        assert [s.to_dict() for s in store.iter_scans(include_voided=True)] == before
        assert store.counts() == {"unknown": 49}
