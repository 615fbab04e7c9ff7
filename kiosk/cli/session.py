"""``kiosk session list|new|archive``: the cart's stock takes, one session each.

A session holds the scans of one stock take. When SLiMS starts another stock
take, ``kiosk catalog pull`` archives the old session with all its scans and
starts a new one (:func:`follow_stocktake`); these verbs do the same by hand,
without SLiMS. An archived session stays readable (``kiosk report --session
ID``) and its scans are never sent into another stock take.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kiosk import control
from kiosk.cli.common import load_config, print_json
from kiosk.cli.texts import say
from kiosk.exc import StoreError, StoreLocked
from kiosk.slims.admin_pages import StockTakeIdentity
from kiosk.store import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "session",
        help="list the cart's stock takes, start a new one, archive the current one",
        description="Each stock take's scans are kept in a session of their own.",
    )
    verbs = p.add_subparsers(dest="session_verb", metavar="ACTION", required=True)
    ls = verbs.add_parser("list", help="every session, the current one marked")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=cmd_list)
    new = verbs.add_parser(
        "new",
        help="archive the current session and start a new one",
        description="Works without SLiMS; the next sync ties the new session to SLiMS's "
        "active stock take. With the daemon running, it is asked to do it.",
    )
    new.add_argument("name", nargs="?", default="", help="a name (default: today's date)")
    new.set_defaults(func=cmd_new)
    arch = verbs.add_parser(
        "archive",
        help="archive the current session (a new, empty one takes its place)",
    )
    arch.set_defaults(func=cmd_new, name="")


def default_name(now: float | None = None) -> str:
    return f"stock take {time.strftime('%Y-%m-%d', time.localtime(now))}"


def rows(store: Store) -> list[dict[str, Any]]:
    """Every session with its counts: found items, scans not yet in SLiMS."""
    current = store.current_session()
    pending = Counter(s.session for s in store.pending_sync())
    out = []
    for sess in store.sessions():
        sid = int(sess["id"])
        out.append(
            {
                "id": sid,
                "name": str(sess.get("name", "")),
                "slims": sess.get("slims"),
                "started": sess.get("started"),
                "archived": sess.get("archived"),
                "current": sid == current,
                "found": len(store.scanned_codes(sid)),
                "unsynced": pending[sid],
            }
        )
    return out


def cmd_list(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    with Store.open_readonly(cfg.state_path) as store:
        listed = rows(store)
    if args.json:
        print_json(listed)
        return 0
    lang = cfg.report.language
    for r in listed:
        mark = "*" if r["current"] else " "
        slims = r["slims"] or {}
        tied = (
            say(lang, "session.tied", name=slims.get("name", ""), started=slims.get("started", ""))
            if slims
            else say(lang, "session.untied")
        )
        state = say(lang, "session.archived") if r["archived"] else ""
        counts = say(lang, "session.counts", found=r["found"], unsynced=r["unsynced"])
        print(f"{mark} {r['id']:>3}  {r['name'] or '-'}  {tied}  {counts}  {state}".rstrip())
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    name = args.name.strip() or default_name()
    lang = cfg.report.language
    try:
        with Store.open(cfg.state_path) as store:
            old = store.current_session()
            sid = store.start_session(name)
    except StoreLocked as locked:
        old, sid = _ask_daemon(cfg.state_path, name, locked)
    print(say(lang, "session.started", old=old, new=sid, name=name))
    return 0


def _ask_daemon(state: Path, name: str, locked: StoreLocked) -> tuple[int, int]:
    """The running daemon owns the store: it starts the session (one writer)."""
    answer = control.ask(state, {"cmd": "session", "name": name}, wait=10.0)
    if answer is None:
        raise locked  # held by another command, not a daemon we can ask
    final = answer.final or {}
    if final.get("event") != "done":
        why = final.get("error", "no answer")
        raise StoreError(f"the daemon (pid {answer.pid}) did not start a session: {why}")
    return int(final["archived"]), int(final["session"])


def follow_stocktake(store: Store, identity: StockTakeIdentity, lang: str = "en") -> str:
    """Make the cart's session the one for SLiMS's active stock take; say what happened.

    - the current session is that stock take's: nothing changes;
    - it belongs to another stock take: archived with its scans, a new one starts;
    - it is tied to none yet (made offline, or before sessions existed): it is
      tied to this stock take when all its scans were made after the stock
      take began, else archived like the above (those scans were for an
      earlier count).
    """
    sid = store.current_session()
    sess = store.session(sid)
    tied = sess.get("slims")
    if tied:
        if StockTakeIdentity(str(tied.get("name", "")), str(tied.get("started", ""))).same_as(
            identity
        ):
            return say(lang, "session.same", id=sid, name=identity.name)
    else:
        first = next(store.iter_scans(session=sid, include_voided=True), None)
        if first is None or not identity.predates(first.ts):
            store.bind_session(sid, identity.to_dict())
            return say(lang, "session.tie", id=sid, name=identity.name)
    found = len(store.scanned_codes(sid))
    new = store.start_session(identity.name, slims=identity.to_dict())
    return say(lang, "session.switched", old=sid, found=found, new=new, name=identity.name)
