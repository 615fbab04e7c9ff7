"""``kiosk doctor``: check a cart the way a technician would.

Exit status 0 when nothing failed (warnings allowed), 1 when a check failed,
so ``kiosk doctor && echo ready`` works in scripts and after install.sh.
"""

from __future__ import annotations

import argparse
import sys

from kiosk.cli import checks as doctor
from kiosk.cli.common import print_json

_MARK = {
    doctor.Level.OK: "ok  ",
    doctor.Level.WARN: "WARN",
    doctor.Level.FAIL: "FAIL",
    doctor.Level.SKIP: "--  ",
}


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
        choices=doctor.NAMES,
        metavar="CHECK",
        help=f"run only this check (repeatable): {', '.join(doctor.NAMES)}",
    )
    p.add_argument(
        "--user",
        default="kiosk",
        help="the service user whose access is judged (default: kiosk)",
    )
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    system = doctor.System(service_user=args.user)
    findings = doctor.run(args.config, args.state_dir, system=system, only=args.only or ())
    verdict = doctor.worst(findings)
    if args.json:
        print_json({"result": str(verdict), "checks": [f.to_dict() for f in findings]})
    else:
        out = sys.stdout
        width = max((len(f.name) for f in findings), default=0)
        for f in findings:
            out.write(f"{_MARK[f.level]}  {f.name:<{width}}  {f.message}\n")
            if f.fix and f.level in (doctor.Level.WARN, doctor.Level.FAIL):
                out.write(f"      {'':<{width}}  fix: {f.fix}\n")
        out.write(f"\nresult: {verdict}\n")
    return 1 if verdict is doctor.Level.FAIL else 0
