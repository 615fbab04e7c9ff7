"""Contract tests: the same checks against the fake SLiMS and, if SLIMS_URL is set, a real one.

The fake runs as an old release in Indonesian and a new one in English. The
live run (see README, "SLiMS") needs an active stock take over the whole
collection and a user with Stock Take read+write and Bibliography read
(SLIMS_USER/SLIMS_PASSWORD). It marks two still-missing items as found.
Optional: SLIMS_NORIGHTS_USER and SLIMS_NORIGHTS_PASSWORD for a user without
Stock Take rights; SLIMS_VERSION (e.g. 9.4.2) to check the release SLiMS names.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from kiosk.exc import SlimsAuthError, SlimsForbidden
from kiosk.models import SyncOutcome
from kiosk.slims.client import SlimsClient
from kiosk.slims.credentials import Secret
from kiosk.slims.pages import UPLOAD_CODE
from tests.fakeslims import FakeItem, FakeSlims, User


@dataclass
class Target:
    url: str
    user: str
    password: str
    fake: FakeSlims | None = None
    norights: tuple[str, str] | None = None

    def client(self, **kw: object) -> SlimsClient:
        return SlimsClient(self.url, self.user, Secret(self.password), retries=1, **kw)  # type: ignore[arg-type]


def _fake_items() -> list[FakeItem]:
    out = [
        FakeItem(f"B{i:05d}", f'Judul "{i}", jilid {i % 3}', f"{i % 900:03d}.{i % 7} SUB m")
        for i in range(1, 130)
    ]
    for i in (3, 40, 77):
        out[i].on_loan = True
    for i in (5, 6):
        out[i].skip_stock_take = True
    out.append(FakeItem("P2019/001", "Résumé des études; l'été à Paris", "R 030 ENS"))
    # Codes with a space sort first: more than the first listed pages, as in a real catalogue.
    out += [FakeItem(f"A {i:03d}", f"Buku {i}", f"{i:03d} BUK") for i in range(70)]
    return out


@pytest.fixture(
    params=["fake-9.4.2-id", "fake-9.7.0-en", pytest.param("live", marks=pytest.mark.slims_live)],
    scope="module",
)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "live":
        url = os.environ.get("SLIMS_URL")
        if not url:
            pytest.skip("SLIMS_URL is not set: no real SLiMS to test against")
        user, password = os.environ.get("SLIMS_USER", ""), os.environ.get("SLIMS_PASSWORD", "")
        nr = os.environ.get("SLIMS_NORIGHTS_USER"), os.environ.get("SLIMS_NORIGHTS_PASSWORD")
        t = Target(url, user, password, norights=(nr[0], nr[1]) if nr[0] and nr[1] else None)
        if not t.client().current_stocktake().active:
            pytest.skip("the real SLiMS has no active stock take")
        yield t
        return
    users = {"kiosk": User("pw-kiosk"), "circ": User("pw-circ", uid=3, rights=frozenset())}
    _, version, language = request.param.split("-")
    with FakeSlims(_fake_items(), users=users, version=version, language=language) as fake:
        fake.start_stocktake()
        yield Target(fake.url, "kiosk", "pw-kiosk", fake, norights=("circ", "pw-circ"))


@pytest.fixture(scope="module")
def lists(target: Target) -> dict[str, list[str]]:
    """What the stock take holds, read once: missing, on-loan and found codes, and the export."""
    c = target.client()
    return {
        "m": c.stocktake_codes("m", max_pages=3),
        "l": sorted(c.on_loan_codes()),
        "export": [it.code for it in c.export_items()],
    }


def test_login_and_stocktake(target: Target) -> None:
    """The kiosk user logs in once and sees the active stock take."""
    c = target.client()
    assert c.current_stocktake().active and c.logins == 1


def test_wrong_password_refused(target: Target) -> None:
    """Wrong credentials are refused as a wrong password, whichever way SLiMS answers."""
    with pytest.raises(SlimsAuthError, match="wrong user name or password"):
        SlimsClient(target.url, target.user, Secret(target.password + "-wrong")).login()


def test_release_named(target: Target) -> None:
    """SLiMS names its release on its public about page (checked against SLIMS_VERSION if set)."""
    version = target.client().version()
    expected = (os.environ.get("SLIMS_VERSION") or None) if target.fake is None else None
    if target.fake is not None:
        expected = target.fake.flavour.tag.lstrip("v")
    assert version and (expected is None or version == expected)


def test_stocktake_named(target: Target) -> None:
    """SLiMS's report page names the active stock take, which the cart's sessions follow."""
    info = target.client().stocktake_info()
    assert info.active and info.identity is not None and info.identity.name


def test_skip_flags_read(target: Target) -> None:
    """The statuses SLiMS's stock take skips are read from SLiMS itself."""
    try:
        statuses = target.client().item_statuses()
    except SlimsForbidden:
        pytest.skip("the SLiMS user may not read item statuses (Master File rights)")
    assert any(st.skip for st in statuses)


def test_export_complete(target: Target, lists: dict[str, list[str]]) -> None:
    """The item export has every item once, as many as SLiMS counts."""
    codes = lists["export"]
    assert codes and len(codes) == len(set(codes))
    total = target.client().api_total("all")
    assert total is None or total == len(codes)


def test_on_loan_list(target: Target, lists: dict[str, list[str]]) -> None:
    """The on-loan list holds catalogue items and matches SLiMS's loan count."""
    assert set(lists["l"]) <= set(lists["export"])
    lent = target.client().api_total("lent")
    assert lent is None or lent >= len(lists["l"])


def test_verdicts(target: Target, lists: dict[str, list[str]]) -> None:
    """Found, already scanned, on loan, skipped and unknown codes get SLiMS's verdicts."""
    c = target.client()
    code = lists["m"][0]
    assert c.action(code) is SyncOutcome.ACCEPTED
    assert c.action(code) is SyncOutcome.ALREADY_SCANNED
    assert c.action(code.lower()) is SyncOutcome.ALREADY_SCANNED  # SLiMS ignores case
    if lists["l"]:
        assert c.action(lists["l"][0]) is SyncOutcome.ON_LOAN
    assert c.action("KIOSK-NO-SUCH-9") is SyncOutcome.NOT_IN_STOCKTAKE


def test_skip_rule(target: Target, lists: dict[str, list[str]]) -> None:
    """A catalogue item left out of the stock take by its status answers 'skipped by rule'."""
    c = target.client()
    in_take = set(c.stocktake_codes("m")) | set(lists["l"]) | set(c.stocktake_codes("e"))
    outside = [x for x in lists["export"] if x not in in_take]
    if not outside:
        pytest.skip("every catalogue item is in this stock take")
    assert c.action(outside[0]) is SyncOutcome.SKIPPED_RULE


def test_session_loss_recovered(target: Target, lists: dict[str, list[str]]) -> None:
    """A session SLiMS no longer knows is replaced by a fresh login, transparently."""
    c = target.client()
    c.login()
    for cookie in c.session.cookies:
        if cookie.name == "SenayanAdmin":
            cookie.value = "expired0000000000000000000"
    assert c.action(lists["m"][0]) is SyncOutcome.ALREADY_SCANNED
    assert c.logins == 2


def test_upload_counts_only_newly_found(target: Target, lists: dict[str, list[str]]) -> None:
    """An upload reports how many codes it newly marked found, ignoring the rest."""
    c = target.client()
    found = lists["m"][0]  # marked found by test_verdicts
    fresh = _still_missing(c, lists, besides=found)
    done = found if UPLOAD_CODE.match(found) else fresh
    assert c.upload([fresh, done, "KIOSK-NO-SUCH-9", fresh]) == 1
    assert c.action(fresh) is SyncOutcome.ALREADY_SCANNED


def _still_missing(c: SlimsClient, lists: dict[str, list[str]], *, besides: str) -> str:
    """A code an upload file may carry that the stock take still holds as missing.

    Real catalogues sort codes with spaces or slashes first, so the first
    listed pages may hold none; each candidate is looked up by itself.
    """
    loaned = set(lists["l"])
    for code in dict.fromkeys([*lists["m"], *lists["export"]]):
        if code == besides or code in loaned or not UPLOAD_CODE.match(code):
            continue
        if code in c.stocktake_codes("m", keywords=code, max_pages=1):
            return code
    pytest.skip("no missing item an upload file may carry")


def test_no_rights(target: Target) -> None:
    """A user without Stock Take rights gets SlimsForbidden, not a false verdict."""
    if target.norights is None:
        pytest.skip("set SLIMS_NORIGHTS_USER/SLIMS_NORIGHTS_PASSWORD to test this")
    user, pw = target.norights
    with pytest.raises(SlimsForbidden):
        SlimsClient(target.url, user, Secret(pw)).action("KIOSK-NO-SUCH-9")
