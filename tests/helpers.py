"""Helpers shared by the tests: a small catalogue and the CLI as a subprocess.

They live here rather than in conftest.py so tests import them from a normal
module; conftest.py keeps only fixtures (which may use these).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kiosk.models import Item

ROOT = Path(__file__).resolve().parent.parent

#: Headless Chromium with nothing of its own going to the network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def slims_cli_env(
    url: str, password: str, config: Path, slims: str = "", *, user: str = "admin", **extra: str
) -> dict[str, str]:
    """The CLI's environment against the SLiMS at ``url``, credentials from the environment.

    Writes ``config`` with a ``[slims]`` table that reads no credentials file,
    plus ``slims`` (more of its lines); ``extra`` adds variables.
    """
    config.write_text('[slims]\ncredentials_file = ""\n' + slims)
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "KIOSK_CONFIG": str(config),
        "SLIMS_URL": url,
        "SLIMS_USER": user,
        "SLIMS_PASSWORD": password,
        **extra,
    }


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
