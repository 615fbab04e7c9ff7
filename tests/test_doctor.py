"""`kiosk doctor`: what a technician is told about a cart, and how to fix it."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import time
from pathlib import Path

from kiosk.cli import doctor as doctor_cli
from kiosk.cli.doctor.host import Account, System
from kiosk.cli.doctor.report import Finding, Level, worst
from kiosk.cli.doctor.runner import run
from kiosk.cli.doctor.system import can_read_write
from kiosk.clock import SyncState
from kiosk.scanner.discovery import Node, Selector, classify
from kiosk.store import Store
from tests.fakeslims import FakeSlims, User

ME = os.getuid()
MY_GID = os.getgid()
STRANGER = ME + 4242  # a uid that owns none of our files
GROUPS = {"input": 2001, "gpio": 2002, "i2c": 2003, "spi": 2004}
KEYBOARD = frozenset(range(1, 128))
SYSTEM_KEYBOARD = Node("/dev/input/event0", name="AT Translated Set 2 keyboard", keys=KEYBOARD)
HONEYWELL = Node(
    "/dev/input/event3",
    name="Honeywell Imaging 1900",
    phys="usb-1/input0",
    vendor=0x0C2E,
    product=0x0B61,
    keys=KEYBOARD,
)


def system(tmp_path: Path, account: Account | None = None, **kw: object) -> System:
    """A system whose /dev is a temp dir and whose kiosk user is ``account``."""
    dev = tmp_path / "dev"
    (dev / "input").mkdir(parents=True, exist_ok=True)
    acct = account if account is not None else Account("kiosk", ME, frozenset({MY_GID}))
    defaults: dict[str, object] = {
        "dev": dev,
        "account": lambda name: acct if name == "kiosk" else None,
        "group": GROUPS.get,
        "sync_state": lambda: SyncState.SYNCED,
        "service_state": lambda unit: None,
        "env": {},
        "timeout": 2.0,
    }
    defaults.update(kw)
    return System(**defaults)  # type: ignore[arg-type]


def config(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'state_dir = "{tmp_path / "state"}"\n' + text)
    return path


def by_name(findings: list[Finding], name: str) -> list[Finding]:
    return [f for f in findings if f.name == name]


def test_broken_config_is_reported_and_the_rest_still_checked(tmp_path):
    """A typo in kiosk.toml is named, and every other check still runs."""
    cfg = config(tmp_path, "[display]\ndriverr = 'ssd1306'\n")
    findings = run(cfg, system=system(tmp_path))
    (first,) = by_name(findings, "config")
    assert first.level is Level.FAIL and "driverr" in first.message
    assert {"groups", "scanners", "display", "clock", "service"} <= {f.name for f in findings}
    assert worst(findings) is Level.FAIL


def test_missing_groups_name_the_usermod_fix(tmp_path):
    """A kiosk user outside input/gpio/i2c gets the exact usermod line to run."""
    acct = Account("kiosk", STRANGER, frozenset({GROUPS["gpio"]}))
    findings = run(config(tmp_path), system=system(tmp_path, acct), only=["groups"])
    (f,) = by_name(findings, "groups")
    assert f.level is Level.FAIL
    assert "input" in f.message and "i2c" in f.message and "gpio" not in f.message.split("(")[0]
    assert f.fix.startswith("sudo usermod -aG input,i2c kiosk")


def test_groups_ok_when_member_of_all_needed(tmp_path):
    """A correctly installed user passes; an SPI display needs 'spi' instead of 'i2c'."""
    acct = Account("kiosk", STRANGER, frozenset(GROUPS.values()))
    cfg = config(tmp_path, '[display]\ninterface = "spi"\n')
    (f,) = by_name(run(cfg, system=system(tmp_path, acct), only=["groups"]), "groups")
    assert f.level is Level.OK and "spi" in f.message and "i2c" not in f.message


def test_no_kiosk_user_says_run_install(tmp_path):
    """Without the service user the doctor points at install.sh."""
    s = dataclasses.replace(system(tmp_path), account=lambda name: None)
    (f,) = by_name(run(config(tmp_path), system=s, only=["groups"]), "groups")
    assert f.level is Level.FAIL and "install.sh" in f.fix


def test_device_permissions_are_judged_for_the_service_user(tmp_path):
    """A scanner node the kiosk user cannot open is named with its group and mode."""
    s = system(tmp_path, Account("kiosk", STRANGER, frozenset({MY_GID})))
    node = s.dev / "input" / "event3"
    node.touch()
    node.chmod(0o660)
    ok = by_name(run(config(tmp_path), system=s, only=["devices"]), "devices:input")
    assert ok[0].level is Level.OK
    node.chmod(0o600)
    (bad,) = by_name(run(config(tmp_path), system=s, only=["devices"]), "devices:input")
    assert bad.level is Level.FAIL
    assert str(node) in bad.message and "0600" in bad.message
    assert "usermod -aG" in bad.fix


def test_can_read_write_follows_unix_rules():
    """Owner, group and other bits are applied as the kernel would."""
    st = os.stat_result((0o20660, 0, 0, 1, 100, 13, 0, 0, 0, 0))
    assert can_read_write(st, Account("a", 100, frozenset()))
    assert can_read_write(st, Account("b", 5, frozenset({13})))
    assert not can_read_write(st, Account("c", 5, frozenset({14})))
    assert can_read_write(st, Account("root", 0, frozenset()))


def test_i2c_off_tells_how_to_enable_it(tmp_path):
    """No /dev/i2c-1 means I²C is off, and the fix is the raspi-config line."""
    s = system(tmp_path)
    (f,) = by_name(run(config(tmp_path), system=s, only=["display"]), "display")
    assert f.level is Level.FAIL
    assert "do_i2c 0" in f.fix
    cfg = config(tmp_path, '[display]\ndriver = "none"\n')
    (skip,) = by_name(run(cfg, system=s, only=["display"]), "display")
    assert skip.level is Level.SKIP


def test_no_scanner_is_a_failure(tmp_path):
    """With no keyboard-like input device the technician is told to plug in the scanner."""
    (f,) = by_name(run(config(tmp_path), system=system(tmp_path), only=["scanners"]), "scanners")
    assert f.level is Level.FAIL and "scanner" in f.fix


def test_configured_scanner_path_must_exist(tmp_path):
    """A scanner configured by /dev/input/by-id path that is unplugged is named."""
    missing = tmp_path / "dev" / "input" / "by-id" / "usb-Scanner-event-kbd"
    cfg = config(tmp_path, f'[scanner]\ndevices = ["{missing}"]\n')
    (f,) = by_name(run(cfg, system=system(tmp_path), only=["scanners"]), "scanners")
    assert f.level is Level.FAIL and str(missing) in f.message


def with_nodes(*nodes: Node) -> object:
    """A discover() that classifies ``nodes`` as the daemon would."""

    def discover(selectors: list[Selector], _input_dir: str) -> list[Node]:
        return classify(nodes, selectors)

    return discover


def test_scanner_selectors_are_judged_as_the_daemon_judges_them(tmp_path):
    """A scanner chosen by USB id or name pattern counts as present, as the daemon reads it."""
    s = system(tmp_path, discover=with_nodes(SYSTEM_KEYBOARD, HONEYWELL))
    cfg = config(tmp_path, '[scanner]\ndevices = ["0c2e:0b61", "name:*Honeywell*"]\n')
    (f,) = by_name(run(cfg, system=s, only=["scanners"]), "scanners")
    assert f.level is Level.OK and "/dev/input/event3" in f.message
    cfg = config(tmp_path, '[scanner]\ndevices = ["0c2e:0b61", "05e0:1200"]\n')
    (g,) = by_name(run(cfg, system=s, only=["scanners"]), "scanners")
    assert g.level is Level.FAIL and "05e0:1200" in g.message and "0c2e" not in g.message


def test_plain_keyboard_is_not_taken_for_a_scanner(tmp_path):
    """With only the system keyboard attached, auto finds no scanner, as the daemon would not."""
    s = system(tmp_path, discover=with_nodes(SYSTEM_KEYBOARD))
    (f,) = by_name(run(config(tmp_path), system=s, only=["scanners"]), "scanners")
    assert f.level is Level.FAIL and "AT Translated Set 2 keyboard" in f.message
    assert "scanner.devices" in f.fix


def test_unopenable_input_devices_name_the_group_fix(tmp_path):
    """When no input device may be opened, the doctor says so instead of 'no scanner'."""
    denied = Node("/dev/input/event3", error="no permission", error_kind="permission")
    s = system(tmp_path, discover=with_nodes(denied))
    (f,) = by_name(run(config(tmp_path), system=s, only=["scanners"]), "scanners")
    assert f.level is Level.FAIL and "cannot open /dev/input/event3" in f.message


def test_bad_scanner_selector_is_reported(tmp_path):
    """A scanner.devices entry the daemon would refuse fails the check with the entry named."""
    cfg = config(tmp_path, '[scanner]\ndevices = ["Honeywell"]\n')
    (f,) = by_name(run(cfg, system=system(tmp_path), only=["scanners"]), "scanners")
    assert f.level is Level.FAIL and "scanner.devices[0]" in f.message


def test_store_is_opened_read_only_and_summarised(tmp_path):
    """A healthy store is reported with its scan count, without locking out the daemon."""
    state = tmp_path / "state"
    with Store.open(state):
        pass
    holder = Store.open(state)  # the daemon holds the lock meanwhile
    try:
        findings = run(config(tmp_path), system=system(tmp_path), only=["store"])
    finally:
        holder.close()
    (store,) = by_name(findings, "store")
    assert store.level is Level.OK and "0 scan(s)" in store.message
    (disk,) = by_name(findings, "disk")
    assert disk.level in (Level.OK, Level.WARN, Level.FAIL) and "MB free" in disk.message


def test_store_files_owned_by_someone_else_are_flagged(tmp_path):
    """Files left in the state directory by a root-run command are caught with a chown fix."""
    (tmp_path / "state").mkdir()
    s = system(tmp_path, Account("kiosk", STRANGER, frozenset()))
    (f, *_rest) = by_name(run(config(tmp_path), system=s, only=["store"]), "store")
    assert f.level is Level.FAIL and "chown -R kiosk:" in f.fix


def test_damaged_store_set_aside_is_a_failure(tmp_path):
    """A store set aside as damaged fails the check until its scans are recovered."""
    state = tmp_path / "state"
    with Store.open(state):
        pass
    (state / "scans.log.corrupt-20261123-101500").write_text("damaged")
    findings = by_name(run(config(tmp_path), system=system(tmp_path), only=["store"]), "store")
    (bad,) = [f for f in findings if f.level is Level.FAIL]
    assert "scans.log.corrupt-20261123-101500" in bad.message and "recover" in bad.fix


def test_unset_clock_is_explained(tmp_path):
    """A 1970 clock and an unsynchronised clock are warnings that say what happens to scans."""
    bad = system(tmp_path, wall=lambda: 0.0, sync_state=lambda: SyncState.UNSYNCED)
    (f,) = by_name(run(config(tmp_path), system=bad, only=["clock"]), "clock")
    assert f.level is Level.WARN and "cannot be right" in f.message
    unsynced = system(tmp_path, sync_state=lambda: SyncState.UNSYNCED)
    (g,) = by_name(run(config(tmp_path), system=unsynced, only=["clock"]), "clock")
    assert g.level is Level.WARN and "timedatectl" in g.fix
    (h,) = by_name(run(config(tmp_path), system=system(tmp_path), only=["clock"]), "clock")
    assert h.level is Level.OK


def test_slims_login_is_checked(tmp_path):
    """Doctor logs in to SLiMS: good credentials pass, a wrong password fails, no server warns."""
    creds = tmp_path / "credentials.toml"
    creds.write_text('password = "secret"\n')
    creds.chmod(0o600)
    with FakeSlims(users={"admin": User("secret")}) as slims:
        text = f'[slims]\nurl = "{slims.url}"\nusername = "admin"\ncredentials_file = "{creds}"\n'
        (ok,) = by_name(
            run(config(tmp_path, text), system=system(tmp_path), only=["slims"]), "slims"
        )
        assert ok.level is Level.OK, ok.message
        creds.write_text('password = "wrong"\n')
        (bad,) = by_name(
            run(config(tmp_path, text), system=system(tmp_path), only=["slims"]), "slims"
        )
        assert bad.level is Level.FAIL
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
    probe.close()
    down = config(tmp_path, f'[slims]\nurl = "http://127.0.0.1:{closed}/"\nusername = "admin"\n')
    login = system(tmp_path, env={"SLIMS_PASSWORD": "secret"})
    (warn,) = by_name(run(down, system=login, only=["slims"]), "slims")
    assert warn.level is Level.WARN and "wait on the cart" in warn.message


def test_slims_version_stocktake_and_rights_are_named(tmp_path):
    """Doctor names the SLiMS release, warns without a stock take and says what the user may do."""
    users = {
        "admin": User("secret"),
        "circ": User("pw2", uid=3, rights=frozenset()),
        "petugas": User("pw3", uid=4, rights=frozenset({"stock_take", "bibliography"})),
    }
    env = {"SLIMS_PASSWORD": "secret"}
    with FakeSlims(users=users, version="9.4.2", language="id") as slims:
        text = f'[slims]\nurl = "{slims.url}"\nusername = "admin"\n'
        found = run(config(tmp_path, text), system=system(tmp_path, env=env), only=["slims"])
        (login,) = by_name(found, "slims")
        (take,) = by_name(found, "stocktake")
        (rights,) = by_name(found, "rights")
        assert login.level is Level.OK and "SLiMS 9.4.2" in login.message
        assert take.level is Level.WARN and "no stock take is active" in take.message
        assert rights.level is Level.OK and "start one" in rights.message
        (loans,) = by_name(found, "due dates")  # the fake's admin has no Reporting rights
        assert loans.level is Level.WARN and "Reporting" in loans.fix
        assert not by_name(found, "skip rules")
        slims.start_stocktake()
        found = run(config(tmp_path, text), system=system(tmp_path, env=env), only=["slims"])
        assert by_name(found, "stocktake")[0].level is Level.OK
        assert slims.found() == set() and slims.active  # looking changed nothing
        circ = config(tmp_path, f'[slims]\nurl = "{slims.url}"\nusername = "circ"\n')
        found = run(circ, system=system(tmp_path, env={"SLIMS_PASSWORD": "pw2"}), only=["slims"])
        (denied,) = by_name(found, "rights")
        assert denied.level is Level.FAIL and "Stock Take" in denied.fix
        staff = config(tmp_path, f'[slims]\nurl = "{slims.url}"\nusername = "petugas"\n')
        found = run(staff, system=system(tmp_path, env={"SLIMS_PASSWORD": "pw3"}), only=["slims"])
        (rules,) = by_name(found, "skip rules")
        assert rules.level is Level.WARN and "Master File" in rules.fix


def test_slims_address_from_the_credentials_file_is_used(tmp_path):
    """A SLiMS address kept only in the credentials file is checked, as sync would use it."""
    with FakeSlims(users={"admin": User("secret")}) as slims:
        creds = tmp_path / "credentials.toml"
        creds.write_text(f'url = "{slims.url}"\nusername = "admin"\npassword = "secret"\n')
        creds.chmod(0o600)
        cfg = config(tmp_path, f'[slims]\ncredentials_file = "{creds}"\n')
        (f,) = by_name(run(cfg, system=system(tmp_path), only=["slims"]), "slims")
    assert f.level is Level.OK, f.message


def test_readable_credentials_are_refused(tmp_path):
    """A password file others can read fails with the chmod fix; a 0600 one passes."""
    cred = tmp_path / "credentials.toml"
    cred.write_text('username = "stocktake"\npassword = "s3cret"\n')
    cred.chmod(0o644)
    cfg = config(tmp_path, f'[slims]\nurl = "http://127.0.0.1:9/"\ncredentials_file = "{cred}"\n')
    findings = run(cfg, system=system(tmp_path), only=["credentials"])
    assert any(f.level is Level.FAIL and "chmod 600" in f.fix for f in findings)
    assert all("s3cret" not in f.message for f in findings)
    cred.chmod(0o600)
    (ok,) = by_name(run(cfg, system=system(tmp_path), only=["credentials"]), "credentials")
    assert ok.level is Level.OK and "stocktake" in ok.message


def test_a_crashing_check_becomes_a_finding(tmp_path):
    """The doctor never dies of what it diagnoses: a crashing probe is reported."""

    def boom() -> SyncState:
        raise RuntimeError("probe exploded")

    (f,) = by_name(
        run(config(tmp_path), system=system(tmp_path, sync_state=boom), only=["clock"]),
        "clock",
    )
    assert f.level is Level.FAIL and "probe exploded" in f.message


def test_cli_json_and_exit_status(tmp_path, capsys):
    """`kiosk doctor --json` prints every finding and exits 1 only when something failed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    parser.add_argument("--state-dir")
    doctor_cli.register(parser.add_subparsers())
    good = config(tmp_path, '[display]\ndriver = "none"\n')
    args = parser.parse_args(["--config", str(good), "doctor", "--json", "--only", "config"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["result"] == "ok" and out["checks"][0]["name"] == "config"
    bad = config(tmp_path, "nonsense = 1\n")
    args = parser.parse_args(["--config", str(bad), "doctor", "--only", "config"])
    assert args.func(args) == 1
    text = capsys.readouterr().out
    assert "FAIL" in text and "nonsense" in text and "result: fail" in text


def test_pin_clash_fails_as_the_daemon_refuses_it(tmp_path):
    """A config the daemon would refuse (two parts on one pin) fails the doctor too."""
    cfg = config(tmp_path, '[display]\ninterface = "spi"\nspi_dc = "GPIO24"\n')
    (f,) = by_name(run(cfg, system=system(tmp_path), only=["config"]), "config")
    assert f.level is Level.FAIL and "display.spi_dc and leds.yellow both use GPIO24" in f.message
    shipped = Path(__file__).parent.parent / "config" / "kiosk.toml"
    spi = tmp_path / "spi.toml"
    spi.write_text(shipped.read_text().replace('interface = "i2c"', 'interface = "spi"'))
    (ok,) = by_name(run(spi, system=system(tmp_path), only=["config"]), "config")
    assert ok.level is Level.OK


def test_empty_or_stale_catalogue_fails(tmp_path):
    """An empty catalogue, or one older than catalog_max_age_days, fails with the pull fix."""
    from tests.helpers import shelf_items

    state = tmp_path / "state"
    with Store.open(state):
        pass
    (empty,) = by_name(run(config(tmp_path), system=system(tmp_path), only=["store"]), "catalogue")
    assert empty.level is Level.FAIL and "empty" in empty.message and "pull" in empty.fix
    with Store.open(state) as store:
        store.replace_catalog(shelf_items(), source="test")
    (fresh,) = by_name(run(config(tmp_path), system=system(tmp_path), only=["store"]), "catalogue")
    assert fresh.level is Level.OK
    later = system(tmp_path, wall=lambda: time.time() + 20 * 86_400)
    (old,) = by_name(run(config(tmp_path), system=later, only=["store"]), "catalogue")
    assert old.level is Level.FAIL and "20 days old" in old.message
