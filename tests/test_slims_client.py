"""The SLiMS client against the fake SLiMS: login, sessions, faults, answers, secrets."""

from __future__ import annotations

import logging
import os
import subprocess
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import Slims, slims_environment
from kiosk.exc import (
    CredentialsError,
    SlimsAuthError,
    SlimsError,
    SlimsForbidden,
    SlimsNoStockTake,
    SlimsUnreachable,
)
from kiosk.models import SyncOutcome
from kiosk.slims.client import SlimsClient
from kiosk.slims.connect import client_from_config, client_from_credentials
from kiosk.slims.credentials import Secret, load_credentials
from kiosk.slims.pages import classify_action
from tests.fakeslims import FLAVOURS, FakeItem, FakeSlims, User

PASSWORD = "s3cret-Pa55"


def items() -> list[FakeItem]:
    out = [FakeItem(f"B{i:05d}", f"Book {i}", f"{i:03d} ABC") for i in range(1, 46)]
    out[2].on_loan = True
    out[3].skip_stock_take = True
    return out


@pytest.fixture
def fake() -> Iterator[FakeSlims]:
    users = {
        "admin": User(PASSWORD),
        "petugas": User("petugas123", uid=2),
        "sirkulasi": User("sirkulasi123", uid=3, rights=frozenset({"circulation"})),
    }
    with FakeSlims(items(), users=users) as f:
        f.start_stocktake()
        yield f


def client(fake: FakeSlims, user: str = "admin", password: str = PASSWORD, **kw) -> SlimsClient:
    kw.setdefault("sleep", lambda s: None)
    return SlimsClient(fake.url, user, Secret(password), **kw)


def test_verdicts(fake: FakeSlims) -> None:
    """Each kind of SLiMS answer becomes its own outcome."""
    c = client(fake)
    assert c.action("B00001") is SyncOutcome.ACCEPTED
    assert c.action("B00001") is SyncOutcome.ALREADY_SCANNED
    assert c.action("B00003") is SyncOutcome.ON_LOAN
    assert c.action("B00004") is SyncOutcome.SKIPPED_RULE
    assert c.action("ZZ999") is SyncOutcome.NOT_IN_STOCKTAKE
    assert fake.found() == {"B00001"}


def test_indonesian_answers() -> None:
    """An Indonesian SLiMS's answers are understood the same way."""
    with FakeSlims(items(), users={"admin": User(PASSWORD)}, language="id") as f:
        f.start_stocktake()
        c = client(f)
        got = [c.action(x) for x in ("B00001", "B00001", "B00003", "B00004", "ZZ9")]
    assert got == [
        SyncOutcome.ACCEPTED,
        SyncOutcome.ALREADY_SCANNED,
        SyncOutcome.ON_LOAN,
        SyncOutcome.SKIPPED_RULE,
        SyncOutcome.NOT_IN_STOCKTAKE,
    ]


def test_unknown_language_is_resolved_from_the_lists(fake: FakeSlims) -> None:
    """An error message in unknown words is settled by looking the code up in SLiMS's lists."""
    c = client(fake)
    c.action("B00002")
    fake.language = "xx"
    import tests.fakeslims as fs

    fs._TEXTS["xx"] = {k: "Fehler {}" for k in fs._TEXTS["en"]}
    try:
        assert c.action("B00002") is SyncOutcome.ALREADY_SCANNED
        assert c.action("B00003") is SyncOutcome.ON_LOAN
        assert c.action("NOPE1") is SyncOutcome.NOT_IN_STOCKTAKE
    finally:
        del fs._TEXTS["xx"]


def test_login_once_per_session(fake: FakeSlims) -> None:
    """Many requests share one login and one keep-alive connection pool."""
    c = client(fake)
    for i in range(5, 15):
        c.action(f"B{i:05d}")
    assert fake.logins == 1 and c.logins == 1


def test_relogin_after_session_expiry_mid_run(fake: FakeSlims) -> None:
    """When SLiMS forgets the session mid-run the client logs in again and goes on."""
    c = client(fake)
    assert c.action("B00005") is SyncOutcome.ACCEPTED
    fake.expire_sessions()
    assert c.action("B00006") is SyncOutcome.ACCEPTED  # action answers "no privileges" here
    fake.expire_sessions()
    assert c.upload(["B00007"]) == 1  # upload answers the login script here
    fake.expire_sessions()
    assert c.on_loan_codes() == {"B00003"}
    assert c.logins == 4 and fake.found() >= {"B00005", "B00006", "B00007"}


def test_login_page_instead_of_answer(fake: FakeSlims) -> None:
    """A login page in place of the answer leads to a new login and the same request again."""
    c = client(fake)
    c.login()
    fake.inject("st_upload.php", "login_page")
    assert c.upload(["B00008", "B00009"]) == 2
    assert c.logins == 2


def test_wrong_password(fake: FakeSlims) -> None:
    """Wrong credentials give a clear error that names the user, not the password."""
    c = client(fake, password="wrong-one")
    with pytest.raises(SlimsAuthError, match=r"'admin'.*wrong user name or password") as e:
        c.action("B00001")
    assert "wrong-one" not in str(e.value)


def test_no_rights_user_gets_forbidden(fake: FakeSlims) -> None:
    """A user without stock-take rights gets one clear error after a single re-login."""
    c = client(fake, "sirkulasi", "sirkulasi123")
    with pytest.raises(SlimsForbidden, match="rights"):
        c.action("B00001")
    assert c.logins == 2 and fake.found() == set()


def test_init_needs_admin(fake: FakeSlims) -> None:
    """Starting a stock take as a non-admin user says only SLiMS's admin can."""
    fake.finish_stocktake()
    with pytest.raises(SlimsForbidden, match="administrator"):
        client(fake, "petugas", "petugas123").init_stocktake("Opname")


def test_init_with_location_name(fake: FakeSlims) -> None:
    """--init with a location name starts a stock take limited to that location."""
    fake.items["B00001"].location = "Ruang Anak"
    fake.finish_stocktake()
    c = client(fake)
    assert not c.current_stocktake().active
    c.init_stocktake("Opname anak", location="Ruang Anak")
    assert fake.stocktake == {"B00001": "m"} and fake.stocktake_name == "Opname anak"
    with pytest.raises(SlimsError, match="already"):
        c.init_stocktake("Again")
    fake.finish_stocktake()
    with pytest.raises(SlimsError, match="no location 'Nowhere'"):
        c.init_stocktake("X", location="Nowhere")


def test_init_logs_in_again_when_the_session_is_lost(fake: FakeSlims) -> None:
    """A session lost between init form and submission is renewed, not taken for lacking rights."""
    fake.finish_stocktake()
    c = client(fake)
    fake.inject("init.php", "login_page", after=1)
    c.init_stocktake("Opname")
    assert fake.active and fake.stocktake_name == "Opname" and c.logins == 2


def test_no_stocktake(fake: FakeSlims) -> None:
    """Without an active stock take, uploads and lists fail with what to do."""
    fake.finish_stocktake()
    c = client(fake)
    assert not c.current_stocktake().active
    with pytest.raises(SlimsNoStockTake, match="Initialize"):
        c.upload(["B00001"])
    with pytest.raises(SlimsNoStockTake):
        c.on_loan_codes()


@pytest.mark.parametrize("kind", ["500", "reset", "timeout"])
def test_retries_transient_faults(fake: FakeSlims, kind: str) -> None:
    """Connection resets, timeouts and 500s are retried with growing pauses."""
    waits: list[float] = []
    c = client(fake, timeout=0.5, sleep=waits.append, backoff=0.5)
    c.login()
    fake.inject("stock_take_action", kind, times=2)
    if kind == "timeout":
        fake.release.clear()
    assert c.action("B00010") is SyncOutcome.ACCEPTED
    assert len(waits) == 2 and waits[1] > waits[0]
    assert c.last_attempts == 3


def test_answer_broken_off_midway_is_retried(fake: FakeSlims) -> None:
    """An answer cut off halfway is retried; SLiMS had done the work, so it says already scanned."""
    waits: list[float] = []
    c = client(fake, sleep=waits.append)
    c.login()
    fake.inject("stock_take_action", "truncate", times=1)
    assert c.action("B00010") is SyncOutcome.ALREADY_SCANNED
    assert c.last_attempts == 2 and len(waits) == 1


def test_gives_up_with_clear_error(fake: FakeSlims) -> None:
    """After the configured retries the client reports SLiMS unreachable."""
    c = client(fake, retries=2)
    c.login()
    fake.inject("stock_take_action", "500", times=10)
    with pytest.raises(SlimsUnreachable, match=r"HTTP 500.*3 attempts"):
        c.action("B00011")


def test_unreachable_host() -> None:
    """A SLiMS address nobody answers on gives a connection error, not a traceback."""
    c = SlimsClient("http://127.0.0.1:9/", "admin", Secret("x"), retries=1, sleep=lambda s: None)
    with pytest.raises(SlimsUnreachable, match="connection failed"):
        c.login()


def test_export_and_loans(fake: FakeSlims) -> None:
    """The item export and the on-loan list come back complete."""
    c = client(fake)
    got = list(c.export_items())
    assert len(got) == 45 and got[0].code == "B00001" and got[0].call_number == "001 ABC"
    for i in range(20, 45):  # more than one page of loans
        fake.stocktake[f"B{i:05d}"] = "l"
    loans = c.on_loan_codes()
    assert loans == {"B00003"} | {f"B{i:05d}" for i in range(20, 45)}


def test_export_without_bibliography_rights(fake: FakeSlims) -> None:
    """Pulling the catalogue without Bibliography rights says so."""
    fake.users["petugas"].rights = frozenset({"stock_take"})
    with pytest.raises(SlimsForbidden, match="Bibliography"):
        list(client(fake, "petugas", "petugas123").export_items())


def test_classify_rejects_unknown_page() -> None:
    """Anything that is not a stock-take answer is a protocol error, never a verdict."""
    with pytest.raises(SlimsError, match="unexpected"):
        classify_action("<html><body>Welcome</body></html>")


# -- TLS ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "c.pem", d / "k.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
             "-keyout", str(key), "-out", str(crt)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("openssl is not available to make a test certificate")
    return str(crt), str(key)


def test_tls_verified_by_default_and_ca_bundle(cert: tuple[str, str]) -> None:
    """A self-signed SLiMS is refused unless its CA bundle is configured."""
    with FakeSlims(items(), users={"admin": User(PASSWORD)}, tls=cert) as f:
        f.start_stocktake()
        with pytest.raises(SlimsUnreachable, match="ca_bundle"):
            client(f).login()
        assert client(f, verify=cert[0]).action("B00001") is SyncOutcome.ACCEPTED


# -- credentials ----------------------------------------------------------------------
def write_creds(path: Path, mode: int, text: str) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_password_in_url_is_refused() -> None:
    """A SLiMS URL with a password in it is refused without repeating the password."""
    with pytest.raises(CredentialsError, match="user name or password") as e:
        url = f"https://kiosk:{PASSWORD}@slims.example/"
        load_credentials(env={"SLIMS_URL": url, "SLIMS_USER": "k", "SLIMS_PASSWORD": "p"})
    assert PASSWORD not in str(e.value)
    with pytest.raises(SlimsError) as e2:
        SlimsClient(f"http://kiosk:{PASSWORD}@127.0.0.1:9/", "kiosk", Secret(PASSWORD))
    assert PASSWORD not in str(e2.value)


def test_credentials_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    """A credentials file others can read is refused, and the message gives the chmod."""
    f = write_creds(tmp_path / "c.toml", 0o644, 'url="http://x/"\nusername="a"\npassword="p"\n')
    with pytest.raises(CredentialsError, match=f"chmod 600 {f}"):
        load_credentials(credentials_file=f, env={})


def test_credentials_sources(tmp_path: Path) -> None:
    """The environment overrides the file, which overrides the config."""
    f = write_creds(tmp_path / "c.toml", 0o600, '[slims]\nusername="filer"\npassword="pf"\n')
    creds = load_credentials(url="http://cfg/", username="cfg", credentials_file=f, env={})
    assert creds is not None and (creds.url, creds.username) == ("http://cfg/", "filer")
    assert creds.password.reveal() == "pf"
    env = {"SLIMS_URL": "https://env/slims", "SLIMS_USER": "eu", "SLIMS_PASSWORD": "pe"}
    creds = load_credentials(url="http://cfg/", credentials_file=f, env=env)
    assert creds is not None and creds.url == "https://env/slims/" and creds.username == "eu"
    assert load_credentials(env={}) is None
    with pytest.raises(CredentialsError, match="no SLiMS password"):
        load_credentials(url="http://x/", username="u", env={})


def test_password_never_printed(fake: FakeSlims, caplog: pytest.LogCaptureFixture) -> None:
    """The password appears in no repr, log line or traceback, even on failures."""
    caplog.set_level(logging.DEBUG)
    secret = Secret(PASSWORD)
    assert PASSWORD not in repr(secret) + str(secret) + f"{secret}"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)
    env = {"SLIMS_URL": fake.url, "SLIMS_USER": "admin", "SLIMS_PASSWORD": PASSWORD}
    c = client_from_config(Slims(credentials_file=""), env=slims_environment(env))
    assert c is not None and PASSWORD not in repr(c) + repr(vars(c))
    c.action("B00012")
    fake.inject("stock_take_action", "500", times=99)
    c.retries = 0
    try:
        c.action("B00013")
    except SlimsUnreachable:
        tb = traceback.format_exc()
    assert PASSWORD not in tb
    bad = client(fake, password=PASSWORD + "x")
    try:
        bad.login()
    except SlimsAuthError:
        tb = traceback.format_exc()
    assert PASSWORD not in tb and PASSWORD not in caplog.text


def test_cli_catalog_pull(fake: FakeSlims, tmp_path: Path) -> None:
    """`kiosk catalog pull` stores SLiMS's items with their on-loan state."""
    from tests.helpers import kiosk, slims_cli_env

    env = slims_cli_env(fake.url, PASSWORD, tmp_path / "k.toml")
    done = kiosk("--state-dir", str(tmp_path / "s"), "catalog", "pull", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert '"items": 45' in done.stdout and '"on_loan": 1' in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    from kiosk.store import Store

    with Store.open(tmp_path / "s") as store:
        assert store.catalog()["B00003"].on_loan and not store.catalog()["B00001"].on_loan


def test_plain_http_to_another_host_is_warned(caplog: pytest.LogCaptureFixture) -> None:
    """Sending the password over plain http to another machine is logged as a warning."""
    from kiosk.slims.credentials import Credentials

    for url, warned in (("http://library.example.org/", True), ("http://127.0.0.1:8080/", False)):
        caplog.clear()
        creds = Credentials(url, "admin", Secret("s3cret-Pw"))
        client_from_credentials(creds).close()
        assert ("unencrypted" in caplog.text) is warned
        assert "s3cret-Pw" not in caplog.text


# -- every SLiMS release in both languages ------------------------------------------
MATRIX = [(v, lang) for v in FLAVOURS for lang in ("en", "id")]


@pytest.fixture(params=MATRIX, ids=[f"{v}-{lang}" for v, lang in MATRIX])
def release(request: pytest.FixtureRequest) -> Iterator[FakeSlims]:
    version, language = request.param
    users = {"admin": User(PASSWORD), "petugas": User("petugas123", uid=2)}
    stock = items()
    stock[10].status_name, stock[11].status_name = "No Loan", "Repair"
    with FakeSlims(stock, users=users, version=version, language=language) as f:
        f.start_stocktake()
        yield f


def test_release_sync_contract(release: FakeSlims) -> None:
    """Every release in either language: login, each verdict, upload, re-sync, closed stock take."""
    c = client(release)
    assert c.action("B00001") is SyncOutcome.ACCEPTED
    assert c.action("B00001") is SyncOutcome.ALREADY_SCANNED  # a re-sync changes nothing
    assert c.action("B00003") is SyncOutcome.ON_LOAN
    assert c.action("B00004") is SyncOutcome.SKIPPED_RULE
    assert c.action("ZZ999") is SyncOutcome.NOT_IN_STOCKTAKE
    assert c.upload(["B00005", "B00006", "B00001", "ZZ999"]) == 2
    assert c.upload(["B00005", "B00006"]) == 0
    assert c.on_loan_codes() == {"B00003"}
    assert len(list(c.export_items())) == 45
    assert c.logins == 1 and c.login_style == release.flavour.login
    release.finish_stocktake()
    assert not c.current_stocktake().active
    with pytest.raises(SlimsNoStockTake):
        c.upload(["B00007"])
    assert release.found() == {"B00001", "B00005", "B00006"}


def test_release_statuses_left_in_the_stock_take(release: FakeSlims) -> None:
    """Up to 9.5 "No Loan" and "Repair" items are in the stock take and can be found; later not."""
    c = client(release)
    got = {c.action("B00011"), c.action("B00012")}
    old = release.flavour.version < "9.6"
    assert got == ({SyncOutcome.ACCEPTED} if old else {SyncOutcome.SKIPPED_RULE})


def test_release_wrong_password(release: FakeSlims) -> None:
    """A wrong password is reported as one, in either login style, never as a CAPTCHA or proxy."""
    with pytest.raises(SlimsAuthError, match="wrong user name or password") as e:
        client(release, password="nope-nope").login()
    assert "CAPTCHA" not in str(e.value) and "proxy" not in str(e.value)


def test_release_welcome_alert_and_relogin(release: FakeSlims) -> None:
    """A welcome alert before the jump to the admin page is a login, also after an expiry."""
    release.login_message = True
    c = client(release)
    assert c.action("B00008") is SyncOutcome.ACCEPTED
    release.expire_sessions()
    assert c.action("B00009") is SyncOutcome.ACCEPTED and c.logins == 2


def test_release_probe_names_version_and_rights(release: FakeSlims) -> None:
    """The probe reads the release SLiMS names and what each user may do, changing nothing."""
    before = dict(release.stocktake)
    admin = client(release).probe()
    assert admin.version == release.flavour.tag.lstrip("v")
    assert admin.may_scan and admin.may_pull and admin.may_init and admin.stocktake_active
    staff = client(release, "petugas", "petugas123").probe()
    assert staff.may_scan and not staff.may_init
    assert release.stocktake == before


def test_release_pull_reads_stocktake_and_statuses(release: FakeSlims) -> None:
    """A pull names the stock take and reads the item statuses' forms, on every release."""
    c = client(release)
    info = c.stocktake_info()
    assert info.active and info.identity is not None
    assert info.identity.name == release.stocktake_name
    assert {st.name for st in c.item_statuses()} == {"Repair", "No Loan", "Missing"}


def test_release_init_refused_to_staff(release: FakeSlims) -> None:
    """Starting a stock take as staff, in either language, says only SLiMS's admin can."""
    release.finish_stocktake()
    with pytest.raises(SlimsForbidden, match="administrator"):
        client(release, "petugas", "petugas123").init_stocktake("Opname")


def test_upload_takes_only_codes_every_release_reads_back() -> None:
    """Codes 9.7's upload would drop or cut (odd characters, over 79 bytes) never go in a file."""
    with FakeSlims([FakeItem("A" * 79), FakeItem("B/001")], version="9.7.0") as f:
        f.start_stocktake()
        c = SlimsClient(f.url, "admin", Secret("secret"), sleep=lambda s: None)
        assert c.upload(["A" * 79]) == 1
        for bad in ("B/001", "C" * 80):
            with pytest.raises(ValueError, match="not allowed"):
                c.upload([bad])
        assert c.action("B/001") is SyncOutcome.ACCEPTED  # item mode takes what files cannot
