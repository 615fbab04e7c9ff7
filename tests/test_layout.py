"""The package layout keeps its one-way dependency rule.

The stages (scanner, engine, store, feedback, slims, report, printing) are
read and tested without the wiring: they never import the configuration, the
command line, the app or the daemon; those pass plain values or settings in.
The engine and the barcode decoder are the pure heart: they import nothing of
the kiosk but the shared models and errors. Read with ``ast`` (no module is
imported), so an import hidden in a function or a ``TYPE_CHECKING`` block
counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "kiosk"

#: Stage packages that must not reach up to the wiring.
STAGES = ("scanner", "engine", "store", "feedback", "slims", "report", "printing", "web")
#: What a stage may not import (the modules and everything under them).
WIRING = ("kiosk.config", "kiosk.cli", "kiosk.app", "kiosk.daemon")
#: The one slims module allowed to build a client from the configuration.
SLIMS_WIRING = "kiosk/slims/connect.py"
#: Shared leaves the pure modules may use besides their own package.
PURE_ALLOWED = ("kiosk.models", "kiosk.exc")


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every module ``path`` imports (``from a import b`` counts as ``a`` and ``a.b``).

    ``root`` is the directory holding the ``kiosk`` package, for relative imports.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _cases(paths: list[Path]) -> list[object]:
    return [pytest.param(path, id=_rel(path)) for path in paths]


STAGE_MODULES = sorted(
    path
    for stage in STAGES
    for path in (PACKAGE / stage).rglob("*.py")
    if _rel(path) != SLIMS_WIRING
)
PURE_MODULES = sorted([*(PACKAGE / "engine").rglob("*.py"), PACKAGE / "scanner" / "decode.py"])


def test_layout_finds_the_stages() -> None:
    """The walk sees every stage package (a rename must not empty the checks)."""
    assert {path.relative_to(PACKAGE).parts[0] for path in STAGE_MODULES} == set(STAGES)
    assert PACKAGE / "scanner" / "decode.py" in PURE_MODULES


def test_layout_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Plain, from, relative and function-local imports are all found."""
    module = tmp_path / "kiosk" / "scanner" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import kiosk.app\nfrom . import keymaps\nfrom ..exc import ConfigError\n"
        "def f():\n    from kiosk.config import Config\n"
    )
    found = imports(module, tmp_path)
    assert {"kiosk.app", "kiosk.scanner.keymaps", "kiosk.exc", "kiosk.config"} <= found


@pytest.mark.parametrize("path", _cases(STAGE_MODULES))
def test_stages_do_not_import_the_wiring(path: Path) -> None:
    """No stage module imports kiosk.config, kiosk.cli, kiosk.app or kiosk.daemon."""
    bad = sorted(name for name in imports(path) if _within(name, WIRING))
    assert not bad, f"{_rel(path)} imports {', '.join(bad)}"


@pytest.mark.parametrize("path", _cases(PURE_MODULES))
def test_pure_modules_import_only_models_and_errors(path: Path) -> None:
    """The engine and the decoder use only kiosk.models, kiosk.exc and their own package."""
    own = _module_name(path).split(".")[:2]
    allowed = (*PURE_ALLOWED, ".".join(own))
    kiosk = [name for name in imports(path) if _within(name, ("kiosk",))]
    bad = sorted(name for name in kiosk if not _within(name, allowed))
    assert not bad, f"{_rel(path)} imports {', '.join(bad)}"


#: Modules that may read the process environment: config loading, systemd's own
#: protocol variables, and the CLI (which hands the environment to config).
ENV_READERS = ("kiosk/config.py", "kiosk/systemd.py", "kiosk/cli/")


def reads_environment(path: Path) -> bool:
    """Whether a module touches ``os.environ`` or calls ``os.getenv``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.Attribute)
        and node.attr in ("environ", "getenv")
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
        for node in ast.walk(tree)
    )


def test_environment_probe_sees_os_environ(tmp_path: Path) -> None:
    """The probe notices a module that reads an environment variable."""
    module = tmp_path / "probe.py"
    module.write_text("import os\nX = os.environ.get('HOME')\n")
    assert reads_environment(module)
    module.write_text("import os\nX = os.getcwd()\n")
    assert not reads_environment(module)


@pytest.mark.parametrize(
    "path",
    _cases(sorted(p for p in PACKAGE.rglob("*.py") if not _rel(p).startswith(ENV_READERS))),
)
def test_only_config_loading_reads_the_environment(path: Path) -> None:
    """Environment variables are read in config loading only, never by a stage on its own."""
    assert not reads_environment(path), f"{_rel(path)} reads os.environ"
