"""The cart's pages as HTML: small, server-rendered, readable without JavaScript.

Each page is a frame (header, navigation) around one live region; the
region's HTML comes from a ``*_region`` function, which the page's script
fetches again when the cart says something changed. Every value from the
store goes through :func:`html.escape`; nothing here ever sees a password.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from html import escape

from kiosk.models import Item, Scan
from kiosk.web.board import Now
from kiosk.web.views import Todo

NAV = (("now", "/"), ("todo", "/todo"), ("find", "/find"), ("report", "/report"))


def frame(
    t: Mapping[str, str],
    lang: str,
    *,
    active: str,
    body: str,
    region: str = "",
    csrf: str = "",
) -> str:
    """A whole page; ``region`` is the URL its live region is refreshed from."""
    nav = "".join(
        f'<a href="{href}"{" aria-current=page" if name == active else ""}>'
        f"{escape(t['nav_' + name])}</a>"
        for name, href in (*NAV, ("actions", "/actions"))
    )
    other = "id" if lang == "en" else "en"
    logout = ""
    if csrf:
        logout = (
            f'<form method="post" action="/logout" class="inline">{_csrf(csrf)}'
            f'<button class="link">{escape(t["logout"])}</button></form>'
        )
    live = f' data-region="{escape(region)}"' if region else ""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(t['title'])}</title>"
        '<link rel="stylesheet" href="/static/app.css">'
        '<script src="/static/app.js" defer></script></head><body>'
        f"<header><strong>{escape(t['title'])}</strong>"
        f'<span id="live-state" data-on="{escape(t["live_on"])}" '
        f'data-off="{escape(t["live_off"])}"></span>'
        f'<a href="?lang={other}" class="lang">{escape(t["lang_switch"])}</a>{logout}</header>'
        f"<nav>{nav}</nav>"
        f'<main id="live"{live}>{body}</main></body></html>'
    )


def login(t: Mapping[str, str], lang: str, *, csrf: str, message: str = "") -> str:
    note = f'<p class="alert" role="alert">{escape(message)}</p>' if message else ""
    body = (
        f"<h1>{escape(t['login_title'])}</h1>{note}<p>{escape(t['login_help'])}</p>"
        f'<form method="post" action="/login" class="login">{_csrf(csrf)}'
        f'<label>{escape(t["token"])} <input name="token" type="password" '
        'autocomplete="current-password" autocapitalize="off" required autofocus></label>'
        f'<button type="submit">{escape(t["login"])}</button></form>'
    )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(t['title'])}</title>"
        '<link rel="stylesheet" href="/static/app.css"></head><body>'
        f"<main>{body}</main></body></html>"
    )


def now_region(now: Now, t: Mapping[str, str]) -> str:
    st = now.status
    facts = (
        ("stocktake", st.stocktake or t["none"]),
        ("location", st.location or t["any_location"]),
        ("run", str(st.run)),
        ("today", str(now.today)),
        ("total", str(now.total)),
    )
    dl = "".join(f"<div><dt>{escape(t[k])}</dt><dd>{escape(v)}</dd></div>" for k, v in facts)
    counts = "".join(
        f'<li class="v-{escape(v)}">{escape(_verdict(t, v))} <b>{n}</b></li>'
        for v, n in sorted(st.counts.items(), key=lambda kv: -kv[1])
    )
    s = now.sync
    sync = (
        f'<ul class="sync"><li>{escape(t["unsynced"])} <b>{s.unsynced}</b></li>'
        f"<li>{escape(t['exported'])} <b>{s.exported}</b></li>"
        f"<li>{escape(t['confirmed'])} <b>{s.confirmed}</b></li>"
        f"<li>{escape(t['refused'])} <b>{s.refused}</b></li></ul>"
    )
    progress = ""
    if now.syncing is not None:
        done, total = now.syncing
        progress = _progress(t, done, total)
    problems = "".join(
        f'<p class="alert" role="alert">{escape(t["problem"])}: {escape(msg)}</p>'
        for msg in now.problems.values()
    )
    rows = [
        (
            _clock(s.ts),
            f'<span class="v v-{s.verdict}">{escape(_verdict(t, str(s.verdict)))}</span>',
            escape(s.detail.call_number),
            escape(s.detail.title or _command_text(s)),
            f"<code>{escape(s.code)}</code>",
        )
        for s in now.recent
    ]
    head = ("time", "verdict", "call_number", "book_title", "code")
    scans = _table(t, head, rows) if rows else f"<p>{escape(t['no_scans'])}</p>"
    return (
        f'{problems}<dl class="facts">{dl}</dl>'
        f"<section><h2>{escape(t['sync_state'])}</h2>{sync}"
        f'<div id="sync-progress">{progress}</div></section>'
        f'<section><h2>{escape(t["verdicts"])}</h2><ul class="counts">{counts}</ul></section>'
        f"<section><h2>{escape(t['last_scans'])}</h2>{scans}</section>"
    )


def todo_region(entries: Sequence[Todo], t: Mapping[str, str]) -> str:
    if not entries:
        return f"<p>{escape(t['todo_empty'])}</p>"
    open_n = sum(not e.done for e in entries)
    items = []
    for e in sorted(entries, key=lambda e: (e.done, e.seq)):
        where = f" <b>{escape(e.where)}</b>" if e.where else ""
        done = f' <span class="tick">✓ {escape(t["done"])}</span>' if e.done else ""
        items.append(
            f'<li class="todo k-{e.kind}{" done" if e.done else ""}" data-code="{escape(e.code)}">'
            f'<span class="what">{escape(t["kind_" + e.kind])}{where}</span>{done}<br>'
            f"<code>{escape(e.code)}</code> {escape(e.call_number)} "
            f'<span class="title">{escape(e.title)}</span></li>'
        )
    return (
        f'<p><b id="todo-open">{escape(t["todo_open"].format(n=open_n))}</b> · '
        f"{escape(t['todo_help'])}</p>"
        f'<ul class="todos">{"".join(items)}</ul>'
    )


def find_region(location: str, items: Sequence[Item], t: Mapping[str, str]) -> str:
    loc = location or t["any_location"]
    intro = f"<p>{escape(t['find_help'].format(loc=loc))}</p>"
    if not items:
        return f"{intro}<p>{escape(t['find_empty'])}</p>"
    rows = [
        (escape(it.call_number), escape(it.title), f"<code>{escape(it.code)}</code>")
        for it in items
    ]
    count = escape(t["find_count"].format(n=len(items)))
    return (
        f'{intro}<p><b id="find-count">{count}</b> '
        f'<button type="button" class="print" data-print>{escape(t["print"])}</button></p>'
        + _table(t, ("call_number", "book_title", "code"), rows)
    )


def report_page(t: Mapping[str, str], pending: int) -> str:
    links = (
        ("/report.html", "report_html"),
        ("/report.csv", "report_csv"),
        ("/report.json", "report_json"),
        ("/upload.txt", "upload_file"),
    )
    lis = "".join(f'<li><a href="{h}" download>{escape(t[k])}</a></li>' for h, k in links)
    return (
        f"<h1>{escape(t['nav_report'])}</h1><p>{escape(t['report_help'])}</p>"
        f'<ul class="downloads">{lis}</ul><p>{escape(t["upload_help"].format(n=pending))}</p>'
    )


def actions_page(
    t: Mapping[str, str], *, csrf: str, locations: Sequence[str], current: str, message: str = ""
) -> str:
    note = f'<p class="note" role="status">{escape(message)}</p>' if message else ""

    def button(name: str) -> str:
        return (
            f'<form method="post" action="/action/{name}" class="action">{_csrf(csrf)}'
            f'<button type="submit" id="act-{name}">{escape(t["act_" + name])}</button>'
            f"<small>{escape(t['act_' + name + '_help'])}</small></form>"
        )

    options = "".join(
        f"<option{' selected' if loc == current else ''}>{escape(loc)}</option>"
        for loc in locations
    )
    location = (
        f'<form method="post" action="/action/location" class="action">{_csrf(csrf)}'
        f'<label>{escape(t["location"])} <select name="location" id="location">{options}'
        f'</select></label><button type="submit" id="act-location">'
        f"{escape(t['act_location'])}</button>"
        f"<small>{escape(t['act_location_help'])}</small></form>"
    )
    session = (
        f'<form method="post" action="/action/session" class="action">{_csrf(csrf)}'
        f'<label>{escape(t["act_session_name"])} <input name="name" id="session-name" '
        f'maxlength="120"></label><button type="submit" id="act-session">'
        f"{escape(t['act_session'])}</button>"
        f"<small>{escape(t['act_session_help'])}</small></form>"
    )
    return (
        f"<h1>{escape(t['nav_actions'])}</h1>{note}"
        f'<div id="sync-progress"></div>'
        f"{button('sync')}{button('run')}{location}{button('undo')}{session}"
    )


def _progress(t: Mapping[str, str], done: int, total: int) -> str:
    text = escape(t["syncing"].format(done=done, total=total))
    return f'<progress max="{max(total, 1)}" value="{done}"></progress> {text}'


def _csrf(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{escape(token)}">'


def _table(t: Mapping[str, str], head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    th = "".join(f"<th>{escape(t[h])}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f'<td data-label="{escape(t[h])}">{c}</td>' for h, c in zip(head, r, strict=True))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _verdict(t: Mapping[str, str], verdict: str) -> str:
    return t.get("verdict_" + verdict, verdict)


def _command_text(s: Scan) -> str:
    if s.command is None:
        return ""
    return f"{s.command}: {s.detail.arg}" if s.detail.arg else str(s.command)


def _clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))
