"""``kiosk sync``: bring the found scans into SLiMS's stock take (or a file).

Safe to interrupt and repeat: a scan is marked synced only on SLiMS's
confirmation, and SLiMS never counts an item twice.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.cli.common import load_config, print_json
from kiosk.config import CHOICES, slims_environment
from kiosk.exc import StoreLocked, SyncError
from kiosk.store import Store

if TYPE_CHECKING:
    from kiosk.slims.ledger import SyncResult


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sync",
        help="send found scans to SLiMS's active stock take (or write the upload file)",
        description="Modes: item (one request per scan, SLiMS's verdict per scan), "
        "upload (bulk file upload, verified), file (write the .txt for a librarian); "
        "auto picks file without SLiMS, else item, or upload for 1000+ codes.",
    )
    p.add_argument(
        "--mode",
        choices=CHOICES["slims.sync_mode"],
        help="default: slims.sync_mode from the config",
    )
    p.add_argument(
        "--out",
        metavar="PATH",
        help="file mode: where to write the .txt (file or directory); default: a mounted "
        "USB stick (slims.export_dirs), else the state directory's exports folder",
    )
    p.add_argument(
        "--init",
        metavar="NAME",
        help="first start a stock take called NAME in SLiMS (SLiMS admin only)",
    )
    p.add_argument("--location", default="0", help="--init: location id or name (default all)")
    p.add_argument("--coll-type", default="0", help="--init: collection type id or name")
    p.add_argument("--gmd", default="0", help="--init: GMD id or name")
    p.add_argument("--site", default="", help="--init: site/placement (SQL LIKE pattern)")
    p.add_argument(
        "--classification", default="", help="--init: classes, comma separated, * wildcard"
    )
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    from kiosk.slims.connect import client_from_config  # noqa: PLC0415  (loads requests)
    from kiosk.slims.file_export import export_dir  # noqa: PLC0415
    from kiosk.slims.uploader import Uploader  # noqa: PLC0415

    cfg = load_config(args)
    mode = args.mode or cfg.slims.sync_mode
    client = None if mode == "file" else client_from_config(cfg.slims, env=slims_environment())
    if args.init and client is None:
        raise SyncError("--init needs SLiMS: set slims.url and credentials (or SLIMS_URL)")
    show = not args.json and sys.stderr.isatty()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if show and (now - last[0] >= 0.1 or done == total):
            last[0] = now
            sys.stderr.write(f"\rsync {done}/{total}")
            sys.stderr.flush()

    try:
        if client is not None and args.init:
            client.init_stocktake(
                args.init,
                gmd=args.gmd,
                coll_type=args.coll_type,
                location=args.location,
                site=args.site,
                classification=args.classification,
            )
            print(f"started stock take {args.init!r} in SLiMS", file=sys.stderr)
        try:
            store = Store.open(cfg.state_path)
        except StoreLocked as e:
            return _ask_daemon(e)
        with store:
            out, removable = (
                (Path(args.out), False)
                if args.out
                else export_dir(cfg.slims.export_dirs, cfg.exports_path)
            )
            uploader = Uploader(
                store,
                client,
                mode=mode,
                journal=cfg.state_path / "sync.journal",
                chunk=cfg.slims.upload_chunk,
                out=out,
                on_progress=progress,
            )
            result = uploader.run()
    finally:
        if show:
            sys.stderr.write("\n")
        if client is not None:
            client.close()
    if args.json:
        print_json(result.to_dict())
    else:
        _summary(result, removable=removable)
    return 0 if result.complete else 3


def _summary(result: SyncResult, *, removable: bool) -> None:
    """What happened, in words: only what SLiMS confirmed is "in SLiMS"."""
    if result.mode == "file":
        print(
            f"sync (file): {result.exported} of {result.pending} scans in the upload file, "
            "not yet in SLiMS"
        )
    else:
        print(
            f"sync ({result.mode}): {result.confirmed} of {result.pending} scans confirmed in SLiMS"
        )
    for outcome, n in sorted(result.outcomes.items(), key=lambda kv: -kv[1]):
        print(f"  {outcome:<17}{n:>7}")
    if result.file:
        for line in _file_hints(Path(result.file), removable=removable):
            print(line)
    if result.left:
        print(f"not synced: {result.left} (run `kiosk sync` again, or use --mode item)")


def _file_hints(path: Path, *, removable: bool) -> list[str]:
    """Where the upload file is, how to take it off the cart, and what makes it count."""
    lines = [f"file: {path}"]
    if removable:
        lines.append(
            f"on the USB stick: run `sync; sudo umount {path.parent}` before pulling it out"
        )
    else:
        lines.append(
            f"copy it off the cart: scp {socket.gethostname()}:{path} . "
            "(or plug in a USB stick and run `kiosk sync --mode file` again)"
        )
    lines.append(
        "then: in SLiMS, Stock Take → Upload, choose the file; the next online "
        "`kiosk sync` confirms each scan"
    )
    return lines


def _ask_daemon(locked: StoreLocked) -> int:
    """The daemon owns the store: ask it to sync (as its sync button would)."""
    if locked.pid is None:
        raise locked
    try:
        os.kill(locked.pid, signal.SIGUSR1)
    except OSError as e:
        raise SyncError(f"the daemon (pid {locked.pid}) holds the store: {e.strerror}") from e
    print(
        f"the daemon (pid {locked.pid}) is running: asked it to sync now with its "
        "configuration; follow it on the cart's screen or in its log",
        file=sys.stderr,
    )
    return 0
