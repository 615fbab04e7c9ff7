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
from kiosk.cli.texts import say
from kiosk.config import CHOICES, slims_environment
from kiosk.exc import StoreLocked, SyncError
from kiosk.report.texts import TEXT
from kiosk.store import Store
from kiosk.textfmt import num

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
    lang = cfg.report.language
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
            sys.stderr.write("\r" + say(lang, "sync.progress", done=done, total=total))
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
            print(say(lang, "sync.started", name=args.init), file=sys.stderr)
        try:
            store = Store.open(cfg.state_path)
        except StoreLocked as e:
            return _ask_daemon(e, lang)
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
        _summary(result, lang, removable=removable)
    return 0 if result.complete else 3


def _summary(result: SyncResult, lang: str, *, removable: bool) -> None:
    """What happened, in words: only what SLiMS confirmed is "in SLiMS"."""
    if result.mode == "file":
        print(say(lang, "sync.result_file", exported=result.exported, pending=result.pending))
    else:
        done = {"confirmed": result.confirmed, "pending": result.pending}
        print(say(lang, "sync.result", mode=result.mode, **done))
    t = TEXT[lang]
    for outcome, n in sorted(result.outcomes.items(), key=lambda kv: -kv[1]):
        print(f"  {t.get(f's.{outcome}', outcome):<42}{num(n, lang):>7}")
    if result.file:
        path = Path(result.file)
        print(say(lang, "sync.file", path=path))
        if removable:
            print(say(lang, "sync.usb", folder=path.parent))
        else:
            print(say(lang, "sync.copy", host=socket.gethostname(), path=path))
        print(say(lang, "sync.then"))
    if result.left:
        print(say(lang, "sync.left", n=result.left))


def _ask_daemon(locked: StoreLocked, lang: str) -> int:
    """The daemon owns the store: ask it to sync (as its sync button would)."""
    if locked.pid is None:
        raise locked
    try:
        os.kill(locked.pid, signal.SIGUSR1)
    except OSError as e:
        raise SyncError(f"the daemon (pid {locked.pid}) holds the store: {e.strerror}") from e
    print(say(lang, "sync.daemon", pid=str(locked.pid)), file=sys.stderr)
    return 0
