"""Running the doctor's checks in report order, each one unable to crash the rest.

A check never raises: whatever goes wrong while checking becomes a finding,
because the doctor is what people run when things are already broken.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from kiosk.cli.doctor.config_store import check_store, load_config
from kiosk.cli.doctor.hardware import check_display, check_scanners
from kiosk.cli.doctor.host import System
from kiosk.cli.doctor.report import Finding, Level
from kiosk.cli.doctor.slims import check_credentials, check_slims
from kiosk.cli.doctor.system import check_clock, check_devices, check_groups, check_service
from kiosk.config import Config

log = logging.getLogger(__name__)

Check = Callable[[Config, System], list[Finding]]

#: Checks in report order (``config`` always comes first, from loading).
CHECKS: tuple[tuple[str, Check], ...] = (
    ("groups", check_groups),
    ("devices", check_devices),
    ("scanners", check_scanners),
    ("display", check_display),
    ("store", check_store),
    ("clock", check_clock),
    ("credentials", check_credentials),
    ("slims", check_slims),
    ("service", check_service),
)

NAMES = ("config", *(name for name, _ in CHECKS))


def run(
    config_path: str | Path | None = None,
    state_dir: str | Path | None = None,
    *,
    system: System | None = None,
    only: Iterable[str] = (),
) -> list[Finding]:
    """Run every check (or those named in ``only``) and return the findings in order."""
    system = System() if system is None else system
    cfg, config_finding = load_config(config_path, state_dir, system)
    wanted = set(only)
    findings = [config_finding] if not wanted or "config" in wanted else []
    for name, check in CHECKS:
        if wanted and name not in wanted:
            continue
        try:
            findings.extend(check(cfg, system))
        except Exception as e:  # a doctor must not die of the disease it diagnoses
            log.debug("check %s crashed", name, exc_info=True)
            findings.append(
                Finding(name, Level.FAIL, f"the check itself failed: {type(e).__name__}: {e}")
            )
    return findings
