"""The cart's page: login, live updates, to-do list, pull list, actions, downloads, safety."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.models import Verdict
from kiosk.web import texts
from kiosk.web.auth import OVERALL, PER_ADDRESS, WINDOW_S, Gate, load_token
from kiosk.web.hub import MAILBOX_SIZE, RELOAD, Event, Hub
from kiosk.web.views import TodoKind, TodoList, pull_list
from tests.helpers import ROOT, shelf_items
from tests.test_layout import WIRING, imports
from tests.web_cart import TOKEN, Cart, Client, running_cart, write_credentials

SLIMS_PASSWORD = "slims-pass-Xy9"


@pytest.fixture
def cart(tmp_path: Path) -> Iterator[Cart]:
    cred = write_credentials(
        tmp_path / "credentials.toml", f'username = "librarian"\npassword = "{SLIMS_PASSWORD}"'
    )
    with running_cart(tmp_path / "state", shelf_items(), credentials=cred) as c:
        yield c


def logged_in(cart: Cart) -> Client:
    client = cart.client()
    status, headers, _ = client.login()
    assert status == 303 and headers["Location"] == "/"
    return client


# -- getting in ------------------------------------------------------------------------
def test_web_every_page_asks_for_the_token(cart: Cart) -> None:
    """Without logging in, pages send you to the login and data answers 401."""
    client = cart.client()
    for path in ("/", "/todo", "/find", "/report", "/actions", "/report.csv", "/upload.txt"):
        status, headers, _ = client.get(path)
        assert (status, headers.get("Location")) == (303, "/login"), path
    for path in ("/f/now", "/events"):
        assert client.get(path)[0] == 401, path
    status, _, _ = client.post("/action/run", {"csrf": "x"})
    assert status == 303
    assert cart.store.scans() == []


def test_web_wrong_token_is_refused_and_right_one_opens(cart: Cart) -> None:
    """A wrong token shows an error; the right one opens the Now page."""
    client = cart.client()
    status, _, page = client.login("not-the-token")
    assert status == 401 and "not right" in page
    client = logged_in(cart)
    status, _, page = client.get("/")
    assert status == 200 and "Opname 2025" in page


def test_web_failed_logins_are_rate_limited() -> None:
    """After a few wrong tokens even the right one waits; the wait ends with the window."""
    now = [1000.0]
    gate = Gate("right-token", clock=lambda: now[0])
    for _ in range(PER_ADDRESS):
        assert gate.login("10.0.0.9", "guess") is None
    assert gate.wait_s("10.0.0.9") > 0
    assert gate.login("10.0.0.9", "right-token") is None
    assert gate.login("10.0.0.8", "right-token") is not None  # another phone is not punished
    now[0] += WINDOW_S + 1
    assert gate.login("10.0.0.9", "right-token") is not None


def test_web_guessing_from_many_addresses_shuts_the_door() -> None:
    """Wrong tokens spread over many addresses still close the login for everyone."""
    now = [0.0]
    gate = Gate("right-token", clock=lambda: now[0])
    for i in range(OVERALL):
        gate.login(f"10.0.1.{i}", "guess")
    assert gate.login("10.0.2.1", "right-token") is None


def test_web_too_many_wrong_tokens_over_http_answer_429(cart: Cart) -> None:
    """The login page says to wait once one phone has guessed wrong too often."""
    client = cart.client()
    for _ in range(PER_ADDRESS):
        client.login("guess")
    status, _, page = client.login()
    assert status == 429 and "wait" in page


def test_web_token_comes_from_the_credentials_file_or_is_made_once(tmp_path: Path) -> None:
    """The token is read from [web] in the 0600 file; without one the cart makes and keeps one."""
    cred = write_credentials(tmp_path / "cred.toml")
    assert load_token(cred, tmp_path)[0] == TOKEN
    made, where = load_token(tmp_path / "absent.toml", tmp_path)
    assert where.endswith("web-token") and len(made) >= 8
    assert (tmp_path / "web-token").stat().st_mode & 0o777 == 0o600
    assert load_token(tmp_path / "absent.toml", tmp_path)[0] == made


def test_web_token_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    """A credentials file others can read is refused, as for the SLiMS password."""
    from kiosk.exc import CredentialsError

    cred = write_credentials(tmp_path / "cred.toml")
    cred.chmod(0o644)
    with pytest.raises(CredentialsError, match="chmod 600"):
        load_token(cred, tmp_path)


def test_web_credentials_file_with_a_web_table_still_gives_the_slims_login(
    tmp_path: Path,
) -> None:
    """The [web] table sits beside the SLiMS login without upsetting its reader."""
    from kiosk.slims.credentials import load_credentials

    cred = write_credentials(tmp_path / "cred.toml", 'username = "lib"\npassword = "pw"')
    creds = load_credentials(url="http://slims.test/", credentials_file=cred, env={})
    assert creds is not None and creds.username == "lib" and creds.password.reveal() == "pw"


# -- safety of actions -------------------------------------------------------------------
def test_web_post_without_the_form_token_changes_nothing(cart: Cart) -> None:
    """An action without the page's CSRF token, or from another site, is refused."""
    client = logged_in(cart)
    assert client.post("/action/run", {"csrf": "forged"})[0] == 403
    token = client.csrf()
    evil = {"Origin": "http://evil.example"}
    assert client.post("/action/run", {"csrf": token}, headers=evil)[0] == 403
    assert cart.store.scans() == []


def test_web_no_secret_reaches_a_page(cart: Cart) -> None:
    """Neither the SLiMS password nor the page token appear in any page or download."""
    cart.scan_and_wait("B0001", "B0002")
    client = logged_in(cart)
    paths = ["/", "/todo", "/find", "/report", "/actions", "/f/now", "/f/todo", "/f/find"]
    paths += ["/report.html", "/report.csv", "/report.json", "/upload.txt", "/login"]
    for path in paths:
        _, headers, body = client.get(path)
        everything = body + json.dumps(headers)
        assert SLIMS_PASSWORD not in everything and TOKEN not in everything, path
        assert "librarian" not in body, path


def test_web_answers_carry_security_headers(cart: Cart) -> None:
    """Pages forbid framing and foreign scripts, and the session cookie is HttpOnly."""
    client = cart.client()
    _, headers, _ = client.login()
    assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
    _, headers, _ = client.get("/")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


# -- actions are command barcodes ---------------------------------------------------------
def test_web_actions_are_the_command_barcodes(cart: Cart) -> None:
    """New run, set location and undo from the page do what their barcodes do."""
    client = logged_in(cart)
    cart.scan_and_wait("B0001", "B0002")
    runs_before = len(cart.store.runs())

    def act(name: str, **form: str) -> None:
        seq = len(cart.store.scans(include_voided=True)) + 1
        status, headers, _ = client.post(f"/action/{name}", {"csrf": client.csrf()} | form)
        assert status == 303 and headers["Location"] == f"/actions?sent={name}"
        assert cart.page.board.wait(lambda b: b.has(seq))

    act("run")
    assert len(cart.store.runs()) == runs_before + 1
    act("location", location="Fiksi")
    assert cart.store.state()["location"] == "Fiksi"
    assert cart.daemon.engine.location == "Fiksi"
    act("undo")
    live = [s.code for s in cart.store.scans() if s.verdict is not Verdict.COMMAND]
    assert live == ["B0001"]
    commands = [s for s in cart.store.scans() if s.verdict is Verdict.COMMAND]
    assert {s.scanner for s in commands} == {"web"}
    assert [str(s.command) for s in commands] == ["run", "location", "undo"]
    _, _, page = client.get("/actions?sent=undo")
    assert "Sent to the cart: Undo last scan." in page


def test_web_sync_action_syncs(cart: Cart) -> None:
    """Sync now from the page runs the cart's sync (here: writes the upload file)."""
    client = logged_in(cart)
    cart.scan_and_wait("B0001", "B0002")
    sync = cart.daemon.sync
    assert sync is not None
    client.post("/action/sync", {"csrf": client.csrf()})
    assert sync.finished.wait(20)
    assert cart.page.board.wait(lambda b: b.now().sync.exported == 2)
    _, _, page = client.get("/f/now")
    assert "in an upload file <b>2</b>" in page


def test_web_new_session_action_starts_a_new_stock_take(cart: Cart) -> None:
    """Starting a new stock take archives the scans so far; a book scanned again is no duplicate."""
    client = logged_in(cart)
    cart.scan_and_wait("B0001", "B9999")  # an unknown book opens a to-do entry
    assert cart.page.board.todo()
    old = cart.store.current_session()
    status, headers, _ = client.post(
        "/action/session", {"csrf": client.csrf(), "name": "Opname 2026"}
    )
    assert status == 303 and headers["Location"] == "/actions?sent=session"
    assert cart.page.board.wait(lambda b: b.now().status.stocktake == "Opname 2026")
    assert cart.store.session(old)["archived"] and cart.store.current_session() != old
    assert cart.page.board.todo() == []  # the new stock take's lists start empty
    cart.scan_and_wait("B0001")
    last = cart.store.scans()[-1]
    assert last.verdict is Verdict.OK and last.session == cart.store.current_session()
    assert [s.code for s in cart.store.scans(session=old)] == ["B0001", "B9999"]
    _, _, page = client.get("/actions?sent=session")
    assert "Sent to the cart: Start a new stock take." in page


def test_web_location_action_needs_a_location(cart: Cart) -> None:
    """Setting an empty location is refused with a clear answer, and nothing is scanned."""
    client = logged_in(cart)
    status, _, body = client.post("/action/location", {"csrf": client.csrf(), "location": " "})
    assert status == 400 and "location" in body
    assert cart.store.scans() == []


# -- live updates ----------------------------------------------------------------------
def read_events(cart: Cart, cookie: str, wanted: int) -> list[str]:
    """Open /events like a browser and return the first ``wanted`` event blocks."""
    sock = socket.create_connection((cart.host, cart.port), timeout=60)
    sock.sendall(
        f"GET /events HTTP/1.1\r\nHost: x\r\nCookie: kiosk_session={cookie}\r\n\r\n".encode()
    )
    buf = b""
    blocks: list[str] = []
    with sock:
        while len(blocks) < wanted:
            chunk = sock.recv(4096)
            if not chunk:
                break
            buf += chunk
            *done, rest = buf.split(b"\n\n")
            blocks += [d.decode() for d in done if d.startswith(b"event:")]
            buf = rest
    return blocks


def test_web_scans_arrive_live(cart: Cart) -> None:
    """An open page hears of each scan as it is stored, and its region then shows it."""
    client = logged_in(cart)
    got: list[str] = []
    reader = threading.Thread(
        target=lambda: got.extend(read_events(cart, client.cookies["kiosk_session"], 2))
    )
    reader.start()
    assert cart.page.board.wait(lambda b: b.hub.clients == 1)
    cart.scan_and_wait("B0001", "B9999")
    reader.join(60)
    assert any('"code": "B0001"' in b and '"verdict": "ok"' in b for b in got), got
    assert any('"code": "B9999"' in b for b in got), got
    _, _, region = client.get("/f/now")
    assert "B9999" in region and "unknown" in region


def test_web_slow_page_never_holds_up_the_publisher() -> None:
    """A page that never reads keeps one bounded mailbox: publishing returns, a reload waits."""
    hub = Hub()
    box = hub.subscribe()
    assert box is not None
    for i in range(10 * MAILBOX_SIZE):
        hub.publish(Event("scan", str(i)))
    events = box.get(0)
    assert len(events) <= MAILBOX_SIZE and RELOAD in events
    assert box.coalesced > 0


def test_web_a_stalled_browser_does_not_stop_scanning(cart: Cart) -> None:
    """With a live connection that reads nothing, hundreds of scans are still all stored."""
    client = logged_in(cart)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.connect((cart.host, cart.port))
    cookie = client.cookies["kiosk_session"]
    sock.sendall(
        f"GET /events HTTP/1.1\r\nHost: x\r\nCookie: kiosk_session={cookie}\r\n\r\n".encode()
    )
    with sock:
        assert cart.page.board.wait(lambda b: b.hub.clients == 1)
        codes = [f"X{i:05d}" for i in range(600)]
        cart.scan_and_wait(*codes)
        assert len(cart.store.scans()) == 600


def test_web_too_many_live_pages_are_turned_away(cart: Cart) -> None:
    """Past the cap on open live pages a new one is told to come back (503), not queued."""
    hub = cart.page.hub
    boxes = []
    while (box := hub.subscribe()) is not None:
        boxes.append(box)
    client = logged_in(cart)
    assert client.get("/events")[0] == 503
    for box in boxes:
        hub.unsubscribe(box)


# -- what the pages say ----------------------------------------------------------------
def test_web_todo_ticks_off_a_misshelved_book_rescanned(cart: Cart) -> None:
    """A misshelved book is on the to-do list, and is ticked off once scanned again."""
    client = logged_in(cart)
    cart.scan_and_wait("B0001", "B0002", "B0003", "B0009", "B0004", "B0005", "B0006")
    todo = cart.page.board.todo()
    misshelved = [t for t in todo if t.kind is TodoKind.MISSHELVED]
    assert [t.code for t in misshelved] == ["B0009"] and not misshelved[0].done
    _, _, region = client.get("/f/todo")
    assert "1 to do" in region and "belongs between" in region
    cart.scan_and_wait("B0009")
    assert [t.done for t in cart.page.board.todo() if t.code == "B0009"] == [True]
    _, _, region = client.get("/f/todo")
    assert "0 to do" in region and "✓ done" in region


def test_web_todo_lists_each_kind() -> None:
    """Wrong location, on loan, unknown and found-again books open their own entries."""
    from kiosk.models import Scan, ScanDetail

    items = {it.code: it for it in shelf_items()}
    scans = [
        Scan(1, "B0100", Verdict.WRONG_LOCATION, "s", 0, "Rak Umum",
             detail=ScanDetail(expected_location="Fiksi")),
        Scan(2, "B0101", Verdict.ON_LOAN, "s", 0, "Rak Umum"),
        Scan(3, "ZZ999", Verdict.UNKNOWN, "s", 0, "Rak Umum"),
        Scan(4, "B0102", Verdict.EXCLUDED, "s", 0, "Rak Umum", detail=ScanDetail(status="Missing")),
        Scan(5, "B0100", Verdict.DUPLICATE, "s", 0, "Rak Umum"),  # not yet in Fiksi
    ]  # fmt: skip
    todo = TodoList.of(scans, items)
    kinds = {t.kind: t for t in todo.entries()}
    assert set(kinds) == set(TodoKind) - {TodoKind.MISSHELVED}
    assert not kinds[TodoKind.WRONG_LOCATION].done
    todo.add(Scan(6, "B0100", Verdict.DUPLICATE, "s", 0, "Fiksi"), items["B0100"])
    assert kinds[TodoKind.WRONG_LOCATION].done and todo.open_count == 3


def test_web_pull_list_is_missing_books_inside_walked_spans_in_shelf_order(cart: Cart) -> None:
    """Books skipped between walked ones are to find, in shelf order, and leave once found."""
    client = logged_in(cart)
    client.post("/action/location", {"csrf": client.csrf(), "location": "Rak Umum"})
    assert cart.page.board.wait(lambda b: b.has(1))
    cart.scan_and_wait("B0001", "B0002", "B0004", "B0006", "B0008")
    location, items = cart.page.board.pull_list()
    assert location == "Rak Umum"
    assert [it.code for it in items] == ["B0003", "B0005", "B0007"]
    _, _, region = client.get("/f/find")
    assert region.index("B0003") < region.index("B0005") < region.index("B0007")
    assert "3 books to find" in region
    cart.scan_and_wait("B0005")
    cart.page.board._pull = None  # skip the few seconds' rest between recomputations
    assert [it.code for it in cart.page.board.pull_list()[1]] == ["B0003", "B0007"]


def test_web_pull_list_ignores_other_locations_and_loans() -> None:
    """Only books of this location, neither on loan nor excluded, are sent for."""
    from kiosk.models import Scan

    items = {it.code: it for it in shelf_items()}
    scans = [Scan(i, c, Verdict.OK, "s", 0, "Rak Umum", 1) for i, c in
             enumerate(["B0005", "B0007"], 1)]  # fmt: skip
    here = pull_list(items, scans, location="Rak Umum", excluded_statuses=["Missing"])
    assert [it.code for it in here] == ["B0006"]
    assert pull_list(items, scans, location="Fiksi") == []


def test_web_report_and_upload_file_download(cart: Cart) -> None:
    """The report comes as HTML, CSV and JSON, and the upload file lists the found codes."""
    client = logged_in(cart)
    cart.scan_and_wait("B0001", "B0002", "B9999")
    status, headers, body = client.get("/report.json")
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    rep = json.loads(body)
    assert rep["stocktake"] == "Opname 2025" and rep["unknown"] == ["B9999"]
    status, headers, body = client.get("/report.csv")
    assert headers["Content-Type"].startswith("text/csv") and "B0001" in body
    status, _, body = client.get("/report.html")
    assert "<html" in body and "B9999" in body
    _, headers, body = client.get("/upload.txt")
    assert body == "B0001\nB0002\n" and ".txt" in headers["Content-Disposition"]


def test_web_pages_speak_indonesian(cart: Cart) -> None:
    """?lang=id switches every page to Indonesian and stays so (cookie)."""
    client = logged_in(cart)
    _, _, page = client.get("/?lang=id")
    assert "Dipindai hari ini" in page and 'lang="id"' in page
    _, _, page = client.get("/actions")
    assert "Putaran rak baru" in page


def test_web_texts_exist_in_both_languages() -> None:
    """Every text of the page exists in English and Indonesian, none left empty."""
    assert set(texts.EN) == set(texts.ID)
    assert all(texts.EN[k].strip() and texts.ID[k].strip() for k in texts.EN)
    for kind in TodoKind:
        assert f"kind_{kind}" in texts.EN
    for verdict in Verdict:
        assert f"verdict_{verdict}" in texts.EN


def test_web_first_page_load_is_small(cart: Cart) -> None:
    """The Now page with its stylesheet and script stays well under 100 KB."""
    client = logged_in(cart)
    cart.scan_and_wait(*[f"B{i:04d}" for i in range(1, 13)])
    total = sum(len(client.get(p)[2].encode()) for p in ("/", "/static/app.css", "/static/app.js"))
    assert total < 100_000
    _, _, page = client.get("/")
    assert "http://" not in page.replace('href="http', "")  # nothing fetched from elsewhere


def test_web_page_imports_no_wiring() -> None:
    """The page package never imports the configuration, the CLI, the app or the daemon."""
    for path in sorted((ROOT / "kiosk" / "web").rglob("*.py")):
        bad = {m for m in imports(path) if any(m == w or m.startswith(w + ".") for w in WIRING)}
        assert not bad, f"{path.name} imports {bad}"


def test_web_page_off_by_default_and_a_busy_port_leaves_it_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """[web] is off unless enabled; a port in use is logged and the cart still scans."""
    from kiosk.config import Config

    assert Config().web.enabled is False
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    from kiosk import app
    from kiosk.config import Slims, Web
    from kiosk.store import Store

    cred = write_credentials(tmp_path / "cred.toml")
    cfg = Config(
        state_dir=str(tmp_path / "s"),
        hardware="simulated",
        slims=Slims(credentials_file=str(cred)),
        web=Web(enabled=True, address="127.0.0.1", port=port),
    )
    with blocker, Store.open(cfg.state_path) as store:
        daemon = app.build_cart(cfg, store, simulate=True, sources=[])
        assert getattr(daemon.feedback, "page", None) is None
        assert "page is off" in caplog.text
        daemon.feedback.close()


def test_web_config_rejects_a_bad_address(tmp_path: Path) -> None:
    """A bind address that is not an IP address stops the cart at start, naming the key."""
    from kiosk.config import from_dict
    from kiosk.exc import ConfigError

    with pytest.raises(ConfigError, match=r"web\.address"):
        from_dict({"web": {"address": "every-interface"}})


def test_web_page_is_in_the_package_data() -> None:
    """The stylesheet and script are shipped with the package (no internet at the shelf)."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"web/static/*"' in pyproject
    assert (ROOT / "kiosk/web/static/app.js").is_file()
