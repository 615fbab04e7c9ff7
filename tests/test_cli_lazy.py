"""The command line imports only the verb it runs, and still lists every verb the same way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kiosk.cli import VERBS, build_parser, verb_of
from kiosk.store import Store
from tests.helpers import shelf_items


def test_help_lists_verbs_as_their_modules_do() -> None:
    """`kiosk --help` without importing the verbs reads exactly as with all of them imported."""
    assert build_parser([]).format_help() == build_parser(None).format_help()


def test_verb_is_found_after_global_options() -> None:
    """The verb is the first word after the global options, whose values are skipped."""
    assert verb_of(["--config", "status", "-v", "--state-dir", "d", "scans", "--all"]) == "scans"
    assert verb_of(["-vv", "--version"]) is None


def test_version_and_a_verb_import_only_what_they_need() -> None:
    """`kiosk --version` loads no verb module, and `kiosk status --help` only the status verb's."""
    probe = (
        "import sys\n"
        "from kiosk.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(m for m in sys.modules if m.startswith('kiosk.cli.')), file=sys.stderr)"
    )

    def loaded(*argv: str) -> set[str]:
        res = subprocess.run(
            [sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True
        )
        return {m.removeprefix("kiosk.cli.") for m in res.stderr.split()}

    assert not loaded("--version") & set(VERBS)
    assert loaded("status", "--help") & set(VERBS) == {"status"}


def _status(state: Path, *argv: str) -> tuple[str, set[str]]:
    """`kiosk status ARGV` over a stored catalogue: its output and the modules it loaded."""
    with Store.open(state) as store:
        store.replace_catalog(shelf_items(), source="test")
    probe = (
        "import sys\n"
        "from kiosk.cli import main\n"
        "main(sys.argv[1:])\n"
        "print(' '.join(sys.modules), file=sys.stderr)"
    )
    res = subprocess.run(
        [sys.executable, "-c", probe, "--state-dir", str(state), "status", *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    return res.stdout, set(res.stderr.split())


def test_status_reads_no_catalogue_index_and_no_engine(tmp_path: Path) -> None:
    """`kiosk status` tells the catalogue's size without loading its index, engine or parts."""
    out, loaded = _status(tmp_path, "--json")
    assert json.loads(out)["catalog"]["count"] == len(shelf_items())
    assert not loaded & {
        "kiosk.store.catindex",
        "kiosk.engine",
        "kiosk.feedback",  # the configuration checks the buzzer's and LEDs' parts only when built
        "kiosk.scanner.discovery",
    }


def test_status_in_words_takes_only_the_report_words(tmp_path: Path) -> None:
    """`kiosk status` in words loads the report's words, not its engine, rows or renderers."""
    _out, loaded = _status(tmp_path)
    assert "kiosk.report.texts" in loaded
    assert not loaded & {
        "kiosk.engine",
        "kiosk.report.analysis",
        "kiosk.report.formats",
        "kiosk.report.rows",
    }


def test_the_cart_loads_gpiozero_without_its_metadata_reader() -> None:
    """The panel's start skips gpiozero's metadata reader; a factory named by its user is found."""
    probe = (
        "import os, sys\n"
        "import kiosk.feedback.factory\n"
        "print(sorted({'importlib.metadata', 'importlib_metadata', 'email'} & set(sys.modules)))\n"
        "from gpiozero import Device\n"
        "from gpiozero.pins.mock import MockFactory, MockPWMPin\n"
        "print(MockFactory(pin_class='mockpwmpin').pin_class is MockPWMPin)\n"
        "os.environ['GPIOZERO_PIN_FACTORY'] = 'mock'\n"
        "print(type(Device._default_pin_factory()).__name__)\n"
    )
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert res.stdout.split("\n")[:3] == ["[]", "True", "MockFactory"]
