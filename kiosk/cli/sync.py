"""``kiosk sync``: bring the found scans into SLiMS's stock take (or a file).

Safe to interrupt and repeat: a scan is marked synced only on SLiMS's
confirmation, and SLiMS never counts an item twice.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kiosk import control
from kiosk.cli.common import load_config, print_json
from kiosk.cli.texts import say
from kiosk.config import CHOICES, slims_environment
from kiosk.exc import StoreLocked, SyncError
from kiosk.slims.ledger import SyncResult
from kiosk.store import Store
from kiosk.textfmt import num

#: How long `kiosk sync` waits by default for a sync already running to end.
WAIT_S = 900.0
#: How often it looks again whether the store came free (or the daemon can be asked).
POLL_S = 0.25


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
    p.add_argument(
        "--wait",
        type=float,
        default=WAIT_S,
        metavar="SECONDS",
        help="how long to wait for a sync already running (another `kiosk sync`, or the "
        f"daemon's) to end; 0 refuses at once, or only asks the daemon (default {WAIT_S:.0f})",
    )
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    from kiosk.slims.connect import client_from_config  # noqa: PLC0415  (loads requests)
    from kiosk.slims.file_export import export_dir  # noqa: PLC0415
    from kiosk.slims.uploader import Uploader  # noqa: PLC0415

    cfg = load_config(args)
    lang = cfg.report.language
    if args.wait < 0:
        raise SyncError(f"--wait must be 0 or more seconds, not {args.wait:g}")
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
        claimed = _claim(cfg.state_path, args.wait, explicit=bool(args.mode or args.out))
        if isinstance(claimed, control.Answer):
            return _daemon_answered(claimed, args.wait, lang, as_json=args.json)
        with claimed as store:
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
    return _report(result, lang, as_json=args.json, removable=removable)


def _report(
    result: SyncResult, lang: str, *, as_json: bool, removable: bool, daemon: int | None = None
) -> int:
    """Print what a sync did (this process's or the daemon's); 0 if nothing is left."""
    if as_json:
        data = result.to_dict()
        print_json(data if daemon is None else {**data, "daemon": daemon})
    else:
        _summary(result, lang, removable=removable, daemon=daemon)
    return 0 if result.complete else 3


def _summary(result: SyncResult, lang: str, *, removable: bool, daemon: int | None = None) -> None:
    """What happened, in words: only what SLiMS confirmed is "in SLiMS"."""
    by = say(lang, "sync.by_daemon", pid=str(daemon)) if daemon is not None else ""
    if result.mode == "file":
        print(
            say(lang, "sync.result_file", by=by, exported=result.exported, pending=result.pending)
        )
    else:
        done = {"confirmed": result.confirmed, "pending": result.pending}
        print(say(lang, "sync.result", mode=result.mode, by=by, **done))
    from kiosk.report.texts import TEXT  # noqa: PLC0415  (only the words)

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


def _result_from(data: dict[str, Any]) -> SyncResult:
    """The daemon's sync result, read back from its JSON form."""
    return SyncResult(
        mode=str(data["mode"]),
        pending=int(data.get("pending", 0)),
        codes=int(data.get("codes", 0)),
        synced=int(data.get("synced", 0)),
        exported=int(data.get("exported", 0)),
        outcomes=Counter({str(k): int(n) for k, n in data.get("outcomes", {}).items()}),
        left=int(data.get("left", 0)),
        file=data.get("file"),
        stopped=bool(data.get("stopped", False)),
        elapsed_s=float(data.get("elapsed_s", 0.0)),
        requests=int(data.get("requests", 0)),
        uploads=int(data.get("uploads", 0)),
        verified_by_count=int(data.get("verified_by_count", 0)),
    )


def _claim(state: Path, wait: float, *, explicit: bool) -> Store | control.Answer:
    """Take the store, or have the daemon that owns it sync; wait out anyone else.

    The daemon is recognised only by its control socket, never by holding
    the lock: another `kiosk sync` (or a catalogue pull) holding it is waited
    for, up to ``wait`` seconds, and then refused; it is never signalled.
    """
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            return Store.open(state, compact=False)  # the daemon folds the journal in
        except StoreLocked as e:
            locked = e

        def accepted(pid: int) -> None:
            if explicit:
                print("note: --mode and --out apply only when no daemon runs", file=sys.stderr)
            how = f"waiting up to {wait:.0f} s for its result" if wait else "not waiting"
            print(
                f"the daemon (pid {pid}) is running: asked it to sync with its "
                f"configuration; {how}",
                file=sys.stderr,
            )

        remaining = max(0.0, deadline - time.monotonic())
        answer = control.ask(state, {"cmd": "sync"}, wait=remaining, on_accepted=accepted)
        if answer is not None:
            return answer
        holder = f"pid {locked.pid}" if locked.pid is not None else "pid unknown"
        if time.monotonic() >= deadline:
            gave_up = f"; gave up after {wait:.0f} s" if wait else ""
            raise SyncError(
                f"the store in {state} is in use by another kiosk process ({holder}), "
                f"not the daemon{gave_up}: run `kiosk sync` again when it has finished"
            )
        if not told:
            print(
                f"the store is in use by another kiosk process ({holder}), perhaps another "
                f"`kiosk sync`: waiting up to {wait:.0f} s for it to finish",
                file=sys.stderr,
            )
            told = True
        time.sleep(POLL_S)


def _daemon_answered(answer: control.Answer, wait: float, lang: str, *, as_json: bool) -> int:
    """Report what the daemon's sync did, or honestly that it was only asked."""
    final = answer.final or {}
    event = final.get("event")
    if event == "done":
        result = _result_from(final["result"])
        # Where the daemon put an upload file: on a USB stick only if it is a mount point.
        removable = result.file is not None and Path(result.file).parent.is_mount()
        return _report(result, lang, as_json=as_json, removable=removable, daemon=answer.pid)
    if event == "asked":
        print(f"asked the daemon (pid {answer.pid}) to sync; follow it on the cart's screen")
        return 0
    if event == "timeout":
        print(
            f"the daemon (pid {answer.pid}) was asked to sync but had not finished after "
            f"{wait:.0f} s; follow it on the cart's screen or in its log"
        )
        return 3
    if event == "failed":
        raise SyncError(f"the daemon's sync (pid {answer.pid}) stopped: {final.get('error')}")
    raise SyncError(
        f"the daemon (pid {answer.pid}) ended before its sync finished: run `kiosk sync` again"
    )
