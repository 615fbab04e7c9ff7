"""Shared fixtures: a state directory with a small catalogue, an environment for the CLI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.store import Store
from tests.helpers import ROOT, shelf_items


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
