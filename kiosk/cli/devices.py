"""``kiosk devices``: which input devices are scanners, and recording raw captures.

Listing answers the first question at a new cart: "is my scanner seen, and
if not, why?" (not a keyboard, another interface of the same device,
permission). ``--record`` saves what a scanner sends, byte for byte, for
``kiosk replay`` or a bug report.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from kiosk.cli.common import load_config, print_json
from kiosk.config import scanner_selectors
from kiosk.exc import ScannerError
from kiosk.scanner import discovery
from kiosk.scanner.decode import Decoder


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "devices",
        help="list input devices and which are read as scanners; record raw captures",
        description=(
            "List every input event device, mark the ones the daemon reads as barcode "
            "scanners (by scanner.devices) and say why the others are not used. "
            "Exits with status 1 when no scanner would be used."
        ),
    )
    p.add_argument("--json", action="store_true", help="one JSON object with every device")
    p.add_argument(
        "--input-dir", default=discovery.INPUT_DIR, metavar="DIR", help=argparse.SUPPRESS
    )
    rec = p.add_argument_group("recording")
    rec.add_argument(
        "--record",
        metavar="DEVICE",
        help="record raw input events from DEVICE (e.g. /dev/input/by-id/…-event-kbd)",
    )
    rec.add_argument("--out", metavar="FILE", help="capture file to write (with --record)")
    rec.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds")
    rec.add_argument("--barcodes", type=int, metavar="N", help="stop after N barcodes")
    rec.add_argument(
        "--no-grab",
        action="store_true",
        help="do not grab the device (its keystrokes then also reach the console)",
    )
    p.set_defaults(func=cmd_devices)


def cmd_devices(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    if args.record:
        if not args.out:
            raise ScannerError("--record needs --out FILE for the capture")
        return _record(args, Decoder.from_config(cfg.scanner))
    selectors = scanner_selectors(cfg.scanner)
    nodes = discovery.discover(selectors, args.input_dir)
    diag = discovery.diagnose(nodes, args.input_dir)
    used = [n for n in nodes if n.use]
    if args.json:
        print_json(
            {
                "devices": [n.to_dict() for n in nodes],
                "scanners": [n.path for n in used],
                "selectors": cfg.scanner.devices,
                "problems": diag.messages,
            }
        )
    else:
        _print_table(nodes)
        print()
        print(f"scanner.devices = {cfg.scanner.devices}")
        if used:
            print(f"{len(used)} scanner(s) would be read: " + ", ".join(n.path for n in used))
        else:
            print("no scanner would be read")
        for msg in diag.messages:
            print(f"note: {msg}")
    return 0 if used else 1


def _print_table(nodes: list[discovery.Node]) -> None:
    for n in nodes:
        mark = "SCANNER" if n.use else "-"
        ident = n.usb_id if not n.error else "????:????"
        name = n.name or "(unknown)"
        print(f"{n.path:<20} {ident}  {mark:<7}  {name}")
        print(f"{'':<20} {n.reason}")
        for link in n.links:
            print(f"{'':<20} {link}")


def _record(args: argparse.Namespace, decoder: Decoder) -> int:
    from kiosk.scanner import capture  # noqa: PLC0415

    path = args.record
    grab = not args.no_grab
    dev = None
    try:
        if grab:
            import evdev  # noqa: PLC0415

            dev = evdev.InputDevice(path)
            fd = dev.fd
            dev.grab()
        else:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        if dev is not None:
            dev.close()
        raise discovery.device_error(e, path, "grab" if dev is not None else "open") from e
    print(
        f"recording {path} to {args.out}"
        + (" (grabbed)" if grab else "")
        + "; scan barcodes, Ctrl-C to stop",
        file=sys.stderr,
    )

    def shown(text: str) -> None:
        print(text, file=sys.stderr)

    try:
        with Path(args.out).open("wb") as out:
            stats = capture.record(
                fd,
                out,
                seconds=args.seconds,
                barcodes=args.barcodes,
                decode=decoder.feed,
                on_barcode=shown,
            )
    except OSError as e:
        if isinstance(e, ScannerError):
            raise
        raise ScannerError(f"cannot write capture {args.out}: {e.strerror or e}") from e
    finally:
        if dev is not None:
            with contextlib.suppress(OSError):
                dev.ungrab()
            dev.close()
        else:
            os.close(fd)
    print(
        f"recorded {stats.events} events ({stats.bytes} bytes, {stats.barcodes} barcodes) "
        f"in {capture.NATIVE_BITS}-bit layout; stopped: {stats.ended}",
        file=sys.stderr,
    )
    return 0
