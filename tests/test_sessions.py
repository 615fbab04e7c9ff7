"""The cart's stock take follows SLiMS's: sessions, exclusions learned from SLiMS, no cross-sync."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.exc import SyncError
from kiosk.models import SyncOutcome, Verdict
from kiosk.slims.admin_pages import status_rules, stocktake_identity
from kiosk.slims.client import SlimsClient
from kiosk.slims.credentials import Secret
from kiosk.slims.uploader import Uploader
from kiosk.store import Store
from tests.fakeslims import FakeItem, FakeSlims, User
from tests.helpers import kiosk, slims_cli_env

PASSWORD = "pw-sessions"


def items() -> list[FakeItem]:
    out = [FakeItem(f"B{i:04d}", f"Book {i}", f"{100 + i} ABC") for i in range(1, 9)]
    out[0].status_name = "Repair"
    out[1].status_name = "No Loan"
    out[2].status_name = "Missing"
    return out


@pytest.fixture
def fake() -> Iterator[FakeSlims]:
    with FakeSlims(items(), users={"admin": User(PASSWORD)}, language="id") as f:
        yield f


@pytest.fixture
def env(tmp_path: Path, fake: FakeSlims) -> dict[str, str]:
    return env_for(fake, tmp_path)


def env_for(fake: FakeSlims, tmp_path: Path) -> dict[str, str]:
    return slims_cli_env(fake.url, PASSWORD, tmp_path / "k.toml")


def pull(state: Path, env: dict[str, str]) -> dict[str, object]:
    done = kiosk("--state-dir", str(state), "catalog", "pull", "--json", env=env)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def client(fake: FakeSlims) -> SlimsClient:
    return SlimsClient(fake.url, "admin", Secret(PASSWORD), sleep=lambda s: None)


def scan(store: Store, code: str, verdict: Verdict = Verdict.OK) -> None:
    store.add_scan(code=code, verdict=verdict, scanner="s", ts=time.time())


@pytest.mark.parametrize("version", ["9.4.2", "9.5.2"])
def test_pull_learns_which_statuses_slims_skips(version: str, tmp_path: Path) -> None:
    """9.4/9.5 leave Repair/No Loan in the stock take (their form shows them skipped): sent."""
    with FakeSlims(items(), users={"admin": User(PASSWORD)}, version=version) as fake:
        fake.start_stocktake("Opname 2025", started="2025-01-06 08:00:00")
        env = env_for(fake, tmp_path)
        summary = pull(tmp_path / "s", env)
    assert summary["statuses"] == {"skipped": ["Missing"], "lost": ["Missing"]}
    proc = kiosk(
        "--state-dir", str(tmp_path / "s"), "run", "--simulate", "--json",
        input="B0001\nB0002\nB0003\n", env=env,
    )  # fmt: skip
    verdicts = [json.loads(line)["verdict"] for line in proc.stdout.splitlines()]
    assert verdicts == ["ok", "ok", "found_again"]


def test_pull_with_slims_96_flags_excludes_repair(
    fake: FakeSlims, env: dict[str, str], tmp_path: Path
) -> None:
    """With SLiMS's own flags (9.6 and later) Repair and No Loan are excluded, as SLiMS does."""
    fake.start_stocktake("Opname 2025", started="2025-01-06 08:00:00")
    assert pull(tmp_path / "s", env)["statuses"] == {
        "skipped": ["Missing", "No Loan", "Repair"],
        "lost": ["Missing"],
    }


def test_a_new_stock_take_in_slims_archives_the_session(
    fake: FakeSlims, env: dict[str, str], tmp_path: Path
) -> None:
    """Next year's pull starts a new session: last year's books are not duplicates."""
    state = tmp_path / "s"
    fake.start_stocktake("Opname 2024", started="2024-01-08 08:00:00")
    first = pull(state, env)["session"]["id"]  # type: ignore[index]
    with Store.open(state) as store:
        scan(store, "B0004")
        old = store.current_session()
    assert pull(state, env)["session"]["id"] == first  # type: ignore[index]
    fake.finish_stocktake()
    fake.start_stocktake("Opname 2025", started="2025-01-06 08:00:00")
    summary = pull(state, env)
    with Store.open(state) as store:
        new = store.current_session()
        assert new != old and store.session(old)["archived"]
        assert store.session(new)["slims"] == {
            "name": "Opname 2025",
            "started": "2025-01-06 08:00:00",
        }
        assert store.scanned_codes() == frozenset() and "B0004" in store.scanned_codes(old)
    assert "Opname 2025" in str(summary["session"])


def test_old_scans_are_never_synced_into_a_new_stock_take(fake: FakeSlims, tmp_path: Path) -> None:
    """Scans made for one stock take are refused, clearly, when SLiMS runs another."""
    fake.start_stocktake("Opname 2024", started="2024-01-08 08:00:00")
    with Store.open(tmp_path / "s") as store:
        store.bind_session(0, {"name": "Opname 2024", "started": "2024-01-08 08:00:00"})
        scan(store, "B0004")
        fake.finish_stocktake()
        fake.start_stocktake("Opname 2025", started="2025-01-06 08:00:00")
        with pytest.raises(SyncError, match=r"never goes into another stock take"):
            Uploader(store, client(fake), mode="item").run()
        assert fake.found() == set() and len(store.pending_sync()) == 1


def test_archived_scans_are_held_back_and_the_new_session_syncs(
    fake: FakeSlims, tmp_path: Path
) -> None:
    """After a switch only the current session's scans go to SLiMS; the old ones are held back."""
    fake.start_stocktake("Opname 2025", started="2025-01-06 08:00:00")
    with Store.open(tmp_path / "s") as store:
        store.bind_session(0, {"name": "Opname 2024", "started": "2024-01-08 08:00:00"})
        scan(store, "B0004")
        store.start_session("Opname 2025", slims={"name": "Opname 2025", "started": ""})
        scan(store, "B0005")
        result = Uploader(store, client(fake), mode="item").run()
        assert result.held_back == 1 and result.outcomes == {SyncOutcome.ACCEPTED: 1}
        assert fake.found() == {"B0005"}


def test_untied_session_with_scans_older_than_the_stock_take_is_refused(
    fake: FakeSlims, tmp_path: Path
) -> None:
    """Scans from before SLiMS's stock take began were for an earlier count: not sent."""
    fake.start_stocktake("Opname 2025", started="2025-01-06 08:00:00")
    with Store.open(tmp_path / "s") as store:
        store.add_scan(code="B0004", verdict=Verdict.OK, scanner="s", ts=1_700_000_000.0)
        with pytest.raises(SyncError, match="before SLiMS's stock take"):
            Uploader(store, client(fake), mode="item").run()
        scan(store, "B0005")  # today's scans in a new session are tied at the sync
        store.start_session("today")
        scan(store, "B0006")
        Uploader(store, client(fake), mode="item").run()
        assert store.session(store.current_session())["slims"]["name"] == "Opname 2025"
    assert fake.found() == {"B0006"}


def test_session_verbs_work_without_slims(tmp_path: Path, kiosk_env: dict[str, str]) -> None:
    """`kiosk session new` archives the session; `list` shows both; `report --session` reads it."""
    state = str(tmp_path / "s")
    with Store.open(state) as store:
        from tests.helpers import shelf_items

        store.replace_catalog(shelf_items(), source="test")
        scan(store, "B0001")
    assert (
        kiosk("--state-dir", state, "session", "new", "Opname 2026", env=kiosk_env).returncode == 0
    )
    listed = kiosk("--state-dir", state, "session", "list", "--json", env=kiosk_env)
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["current"], bool(r["archived"]), r["found"]) for r in rows] == [
        (0, False, True, 1),
        (1, True, False, 0),
    ]
    old = kiosk("--state-dir", state, "report", "--session", "0", "--format", "json", env=kiosk_env)
    assert json.loads(old.stdout)["found"] == ["B0001"]
    now = kiosk("--state-dir", state, "report", "--format", "json", env=kiosk_env)
    assert (
        json.loads(now.stdout)["found"] == []
        and json.loads(now.stdout)["stocktake"] == "Opname 2026"
    )
    bad = kiosk("--state-dir", state, "report", "--session", "7", env=kiosk_env)
    assert bad.returncode == 1 and "no session 7" in bad.stderr


def test_undo_does_not_reach_into_an_archived_session(tmp_path: Path) -> None:
    """Undo right after a new session has nothing to take back."""
    with Store.open(tmp_path / "s") as store:
        scan(store, "B0001")
        store.start_session("new")
        assert store.last_undoable() is None


def test_admin_pages_are_read_by_shape_in_any_language(fake: FakeSlims) -> None:
    """The stock take's name/start and a status's skip rule are read from Indonesian pages."""
    fake.start_stocktake("Stok Opname 2025", started="2025-01-06 08:00:00")
    c = client(fake)
    info = c.stocktake_info()
    assert info.active and info.identity is not None
    assert (info.identity.name, info.identity.started) == (
        "Stok Opname 2025",
        "2025-01-06 08:00:00",
    )
    assert stocktake_identity("<p>nothing</p>") is None
    assert status_rules("<form></form>") is None
    fake.finish_stocktake()
    assert not c.stocktake_info().active


def test_running_daemon_starts_the_session_asked_for(tmp_path: Path) -> None:
    """`kiosk session new` with the daemon running asks it; the scan loop archives and starts."""
    from kiosk.cli.run import answer_requests
    from tests.helpers import shelf_items
    from tests.web_cart import running_cart, write_credentials

    creds = write_credentials(tmp_path / "creds.toml")
    with running_cart(tmp_path / "s", shelf_items(), credentials=creds) as cart:
        cart.scan_and_wait("B0001")
        answer = answer_requests(cart.daemon)({"cmd": "session", "name": "Opname 2026"}, 10.0)
        assert answer == {"event": "done", "archived": 0, "session": 1}
        assert cart.daemon.engine.decide("B0001").verdict is Verdict.OK  # not a duplicate
        refused = answer_requests(cart.daemon)({"cmd": "session", "name": " "}, 10.0)
        assert refused["event"] == "failed"


def test_report_from_slims_covers_every_carts_work(
    fake: FakeSlims, env: dict[str, str], tmp_path: Path
) -> None:
    """`report --from-slims`: books other carts found count as found; SLiMS's loans are used."""
    state = tmp_path / "s"
    fake.start_stocktake("Opname 2025", started="2025-01-06 08:00:00")
    pull(state, env)
    with Store.open(state) as store:
        for code in ("B0004", "B0005", "B0007"):
            scan(store, code)
    with fake.lock:
        fake.stocktake["B0006"] = "e"  # another cart found it
        fake.stocktake["B0008"] = "l"  # lent out in SLiMS
    res = kiosk("--state-dir", str(state), "report", "--from-slims", "--format", "json", env=env)
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    assert rep["merged_from"] == "Opname 2025"
    assert rep["found"] == ["B0004", "B0005", "B0006", "B0007"]
    assert rep["found_by_others"] == ["B0006"] and rep["on_loan"] == ["B0008"]
    assert {r["code"] for r in rep["sync_items"]} == {"B0004", "B0005", "B0007"}
    text = kiosk("--state-dir", str(state), "report", "--from-slims", env=env).stdout
    assert "of which found by other carts: 1" in text
    alone = json.loads(
        kiosk("--state-dir", str(state), "report", "--format", "json", env=env).stdout
    )
    assert "B0006" not in alone["found"] and alone["merged_from"] == ""


def test_report_from_slims_refuses_another_stock_take(
    fake: FakeSlims, env: dict[str, str], tmp_path: Path
) -> None:
    """Merging another count's lists into this session's report is refused, saying why."""
    state = tmp_path / "s"
    fake.start_stocktake("Opname 2024", started="2024-01-08 08:00:00")
    pull(state, env)
    fake.finish_stocktake()
    fake.start_stocktake("Opname 2025", started="2025-01-06 08:00:00")
    res = kiosk("--state-dir", str(state), "report", "--from-slims", env=env)
    assert res.returncode == 1 and "another count" in res.stderr


def test_archived_unsent_scans_do_not_ask_for_a_sync(tmp_path: Path) -> None:
    """After a switch the cart's "to sync" counts only this stock take's scans."""
    with Store.open(tmp_path / "s") as store:
        scan(store, "B0001")
        scan(store, "B0002")
        store.start_session("new")
        assert store.pending_count() == 0
        scan(store, "B0003")
        assert store.pending_count() == 1 and len(store.pending_sync()) == 3
