"""``kiosk doctor``: check a cart the way a technician would.

Exit status 0 when nothing failed (warnings allowed), 1 when a check failed,
so ``kiosk doctor && echo ready`` works in scripts and after install.sh.
The checks live beside this verb, one module per area (:mod:`.system`,
:mod:`.hardware`, :mod:`.config_store`, :mod:`.slims`), run by :mod:`.runner`.
"""

from __future__ import annotations

import argparse
import sys

from kiosk.cli.common import print_json
from kiosk.cli.doctor.host import System
from kiosk.cli.doctor.report import Level, to_json, worst, write_text
from kiosk.cli.doctor.runner import NAMES, run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "doctor",
        help="check groups, devices, scanners, display, store, clock and SLiMS",
        description=(
            "Check what the cart needs: the service user's groups and device access, "
            "scanners, the display on I²C/SPI, the configuration, the store and free "
            "disk, the clock, and SLiMS with the stored credentials."
        ),
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--only",
        action="append",
        choices=NAMES,
        metavar="CHECK",
        help=f"run only this check (repeatable): {', '.join(NAMES)}",
    )
    p.add_argument(
        "--user",
        default="kiosk",
        help="the service user whose access is judged (default: kiosk)",
    )
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    system = System(service_user=args.user)
    findings = run(args.config, args.state_dir, system=system, only=args.only or ())
    if args.json:
        print_json(to_json(findings))
    else:
        write_text(findings, sys.stdout)
    return 1 if worst(findings) is Level.FAIL else 0
