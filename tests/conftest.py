"""Shared fixtures: a small catalogue, a state directory, the CLI as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.models import Item
from kiosk.store import Store

ROOT = Path(__file__).resolve().parent.parent


def shelf_items() -> list[Item]:
    """Twelve items on one shelf in call-number order, plus a few odd ones."""
    calls = [
        "001.4 ARI p",
        "005.133 KAD p",
        "020 SUL p",
        "100 HAM f",
        "297.3 SUB m",
        "300 KOE p",
        "370.1 NAS s",
        "398.2 DAN c",
        "499.221 ALI t",
        "510 RUS m",
        "599.9 LEA a",
        "899.221 3 HAM t",
    ]
    items = [Item(f"B{i:04d}", c, f"Book {i}", "Rak Umum") for i, c in enumerate(calls, 1)]
    items += [
        Item("B0100", "F HIR l", "Laskar Pelangi", "Fiksi"),
        Item("B0101", "300 LOA n", "On loan book", "Rak Umum", on_loan=True),
        Item("B0102", "300 LOS t", "Book marked missing", "Rak Umum", status="Missing"),
    ]
    return items


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    d = tmp_path / "state"
    with Store.open(d) as store:
        store.replace_catalog(shelf_items(), source="test")
    return d


@pytest.fixture
def kiosk_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    for key in ("KIOSK_CONFIG", "KIOSK_STATE_DIR", "SLIMS_URL", "SLIMS_USER", "SLIMS_PASSWORD"):
        env.pop(key, None)
    env["PYTHONPATH"] = str(ROOT)
    yield env


def kiosk(
    *args: str, env: dict[str, str], input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kiosk ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
