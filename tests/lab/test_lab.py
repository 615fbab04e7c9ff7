"""The cart on a real kernel, real systemd and USB HID gadget scanners (opt-in).

Run with ``KIOSK_LAB=1 .venv/bin/python -m pytest -m lab tests/lab -v -s``
after ``python3 tests/lab/lab.py build``; docs/lab.md says what each test proves.
The tests share one VM and run in file order: install first, power cuts last.
Measured figures are written to ``$KIOSK_LAB_DIR/results.json``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.lab import lab as lab_mod
from tests.lab.cart import DROPIN, STARTED, Cart, acks

_WHY = lab_mod.available() or (
    "" if os.environ.get("KIOSK_LAB") == "1" else "the VM lab is opt-in: set KIOSK_LAB=1"
)
#: A VM under TCG: boots take a minute or more, 20 power-cut rounds most of an hour.
pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(bool(_WHY), reason=_WHY),
    pytest.mark.timeout(4 * 3600),
]

RESULTS: dict[str, object] = {}


def record(key: str, value: object) -> None:
    RESULTS[key] = value
    path = lab_mod.lab_dir() / "results.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**old, **RESULTS}, indent=2) + "\n")
    print(f"\nlab result {key}: {json.dumps(value)}")


@pytest.fixture(scope="module")
def cart() -> Iterator[Cart]:
    """A fresh VM, or with KIOSK_LAB_REUSE=1 the running one (already installed), kept."""
    lab = lab_mod.Lab()
    reuse = os.environ.get("KIOSK_LAB_REUSE") == "1" and lab.running()
    if reuse:
        lab.wait_agent(60)
    else:
        lab.stop()
        t = lab.boot(fresh=True)
        record("boot_s", round(t, 1))
        record("boot", {"accel": " ".join(lab.accel()[1:4:2]), "cmdline": lab.cmdline()})
    c = Cart(lab)
    c.refresh_guest_tools()
    try:
        yield c
    finally:
        if os.environ.get("KIOSK_LAB_REUSE") != "1":
            lab.stop()


# --------------------------------------------------------------------------- install


def test_install_then_reboot_brings_the_service_up(cart: Cart) -> None:
    cart.lab.copy_repo()
    out = cart.install()
    assert "done. Check the cart with" in out, out
    cart.lab_dropin()
    watch = cart.reboot()
    t0 = time.monotonic()
    watch.wait(STARTED, 180)
    record("service_up_after_agent_s", round(time.monotonic() - t0, 1))
    show = cart.sh(
        "systemctl show kiosk.service -p Type -p User -p NotifyAccess -p WatchdogUSec "
        "-p DevicePolicy -p ProtectSystem -p ActiveState -p NoNewPrivileges"
    )
    props = dict(line.split("=", 1) for line in show.split())
    assert props["ActiveState"] == "active"
    assert props["Type"] == "notify" and props["NotifyAccess"] == "main"
    assert props["User"] == "kiosk" and props["DevicePolicy"] == "closed"
    assert props["ProtectSystem"] == "strict" and props["NoNewPrivileges"] == "yes"
    assert props["WatchdogUSec"] == "30s"
    pid = cart.main_pid()
    assert cart.sh(f"ps -o user= -p {pid}").strip() == "kiosk"
    exposure = cart.sh("systemd-analyze security kiosk.service --no-pager | tail -1")
    record("security_exposure", exposure.strip())


def test_doctor_passes_what_a_vm_can(cart: Cart) -> None:
    r = cart.lab.run("kiosk doctor 2>&1")
    record("doctor", r.out.strip().splitlines())
    assert "scanner" in r.out.lower()


# --------------------------------------------------------------------------- scanners


def test_two_scanners_found_and_grabbed(cart: Cart) -> None:
    watch = cart.scanners(0, 1)
    watch.wait(r"scanner .* connected \(/dev/input/event\d+\)", 30, count=2)
    # A second reader of a grabbed device sees nothing.
    probe = (
        "python3 - <<'EOF'\n"
        "import evdev, select, subprocess, sys\n"
        "devs = [evdev.InputDevice(p) for p in evdev.list_devices()]\n"
        "d = next(x for x in devs if 'Symbol' in x.name\n"
        "         and evdev.ecodes.EV_KEY in x.capabilities())\n"
        "hid = '/usr/local/lib/kiosk-lab/hid.py'\n"
        "subprocess.run([hid, 'type', '0', 'GRAB1<enter>'], check=True)\n"
        "r, _, _ = select.select([d.fd], [], [], 2)\n"
        "n = len(list(d.read())) if r else 0\n"
        "print('second-reader-events', n)\n"
        "EOF"
    )
    out = cart.sh(probe)
    assert "second-reader-events 0" in out, out
    watch.wait(r'"code": "GRAB1"', 10)


def test_simultaneous_typing_never_interleaves_and_text_is_exact(cart: Cart) -> None:
    """Two scanners typing at once: each stored code is exactly one typed code, from its own
    scanner; when the kernel dropped keys (the reader fell behind) the scanner says so and
    nothing is stored with holes."""
    codes_a = [f"Aa-{i:03d}.X_y" for i in range(20)]
    codes_b = [f"Bb-{i:03d}_Q.z" for i in range(20)]
    # Only this run's scans: a reused VM keeps earlier runs' (then "duplicate") scans.
    first = max((int(str(s["seq"])) for s in cart.scans()), default=0) + 1
    watch = cart.lab.journal()
    cart.sh(
        "hid=/usr/local/lib/kiosk-lab/hid.py; "
        f"$hid type 0 '{'<enter>'.join(codes_a)}<enter>' & "
        f"$hid type 1 '{'<kpenter>'.join(codes_b)}<kpenter>' & wait"
    )
    # Typed last on each scanner: once both are in (or lost), everything before is too.
    watch.wait(rf'"code": "({codes_a[-1]}|{codes_b[-1]})"|keys were lost', 60)
    cart.type(0, "END-A<enter>")
    cart.type(1, "END-B<kpenter>")
    watch.wait(r'"code": "END-[AB]"', 60, count=2)
    stored = [str(s["code"]) for s in cart.scans() if int(str(s["seq"])) >= first]
    typed = set(codes_a + codes_b)
    mine = [c for c in stored if c[:3] in ("Aa-", "Bb-")]
    assert set(mine) <= typed, sorted(set(mine) - typed)  # no interleaving, no holes
    assert len(mine) == len(set(mine))  # none twice
    got = acks(watch.text())
    scanners = {str(a["code"]): a["scanner"] for a in got}
    assert len({scanners[c] for c in codes_a if c in scanners}) == 1
    assert len({scanners[c] for c in codes_b if c in scanners}) == 1
    assert scanners["END-A"] != scanners["END-B"]
    lost = {
        name: len(re.findall(rf"scanner {name}.*: keys were lost", watch.text()))
        for name in ("Symbol", "Honeywell")
    }
    missing = {"Symbol": sum(c not in mine for c in codes_a),
               "Honeywell": sum(c not in mine for c in codes_b)}  # fmt: skip
    record("simultaneous_typing", {"stored": len(mine), "of": 40, "missing": missing,
                                   "lost_key_messages": lost})  # fmt: skip
    # Lost keys can take whole codes with them (Enter included), so one message may stand
    # for several: a scanner with missing codes must have said so at least once.
    for name, n in missing.items():
        assert n == 0 or lost[name] > 0, (name, n, lost)


def test_unplug_mid_barcode_drops_the_partial_and_replug_resumes(cart: Cart) -> None:
    watch = cart.lab.journal()
    # Unplugged within the decoder's 300 ms timeout (which would flush the partial).
    cart.sh("/usr/local/lib/kiosk-lab/hid.py type --unplug 1 HALF-99")
    watch.wait(r"partial barcode 'HALF-99' discarded", 15)
    replug = cart.lab.journal()
    t0 = time.monotonic()
    cart.lab.hid("plug", "1").check()
    connected = replug.wait(
        r"^\[\s*([\d.]+)\] kiosk\[\d+\]: .*scanner Honeywell.* connected \(", 15
    )
    host_s = time.monotonic() - t0
    # The guest's own clock, from the kernel seeing the USB device to the daemon reading
    # it: the host's figure adds starting hid.py in the guest and the journal's way out.
    plugged = replug.wait(r"^\[\s*([\d.]+)\] kernel: usb \S+: new high-speed USB device", 5)
    replug_s = float(connected[0][1]) - float(plugged[0][1])
    cart.type(1, "AFTER-REPLUG<enter>")
    watch.wait(r'"code": "AFTER-REPLUG"', 15)
    record("replug_to_connected_s", {"guest": round(replug_s, 2), "host": round(host_s, 2)})
    assert replug_s < 2.0
    assert not any(str(s["code"]).startswith("HALF") for s in cart.scans())


def test_plain_keyboard_is_not_taken_under_auto(cart: Cart) -> None:
    watch = cart.scanners(2)
    cart.sh("udevadm settle")
    cart.type(2, "KEYBOARD1<enter>")
    cart.type(0, "MARKER-KB<enter>")
    watch.wait(r'"code": "MARKER-KB"', 15)
    assert "KEYBOARD1" not in watch.text()
    assert "Logitech" not in "".join(re.findall(r"scanner .* connected.*", watch.text()))
    cart.lab.hid("unplug", "2").check()


# --------------------------------------------------------------------------- faults


def test_hung_main_loop_is_killed_and_restarted_by_the_watchdog(cart: Cart) -> None:
    pid = cart.main_pid()
    watch = cart.lab.journal()
    t0 = time.monotonic()
    cart.sh(f"kill -STOP {pid}")
    watch.wait(r"kiosk\.service: Watchdog timeout", 60)
    t_kill = time.monotonic() - t0
    watch.wait(STARTED, 120)
    record("watchdog_kill_s", round(t_kill, 1))
    record("watchdog_back_s", round(time.monotonic() - t0, 1))
    assert t_kill < 30 + 5
    assert cart.main_pid() != pid


def test_display_that_does_not_answer_keeps_scanning(cart: Cart) -> None:
    """A display that does not answer costs one log line; scanning goes on."""
    bus = cart.sh(
        "for d in /sys/bus/i2c/devices/i2c-*; do grep -q stub $d/name && basename $d; done"
    ).strip()
    port = bus.split("-")[1]
    # 0x3d: nothing answers there (i2c-stub only has a chip at 0x3c).
    cart.sh(
        "sed -i -e 's/^i2c_port = .*/i2c_port = " + port + "/' "
        "-e 's/^i2c_address = .*/i2c_address = 0x3D/' /etc/kiosk/kiosk.toml"
    )
    watch = cart.restart()
    watch.wait(STARTED, 120)
    # Only the restarted process: the one it replaced opens its display after READY=1
    # and may log its own failure after the mark.
    pid = cart.main_pid()
    cart.scanners(0, 1, watch=watch)
    watch.wait(r"scanner .* connected", 30, count=2)
    cart.type(0, "DISPLAY-1<enter>")
    cart.type(0, "DISPLAY-2<enter>")
    watch.wait(r'"code": "DISPLAY-2"', 15)
    lines = [
        ln
        for ln in watch.text().splitlines()
        if "kiosk.feedback.display" in ln and f"kiosk[{pid}]" in ln  # not the DISPLAY-n scans
    ]
    record("display_fault_log", lines)
    assert len(lines) == 1, lines


def test_full_state_dir_refuses_to_acknowledge(cart: Cart) -> None:
    """With /var/lib/kiosk full, a scan that cannot be stored gets no acknowledgement; every
    scan that was acknowledged is stored; scanning works again once space is freed."""
    cart.sh(
        "systemctl stop kiosk && mkdir -p /srv/full && cp -a /var/lib/kiosk/. /srv/full/ && "
        "mount -t tmpfs -o size=4m,mode=0750,uid=$(id -u kiosk),gid=$(id -g kiosk) "
        "tmpfs /var/lib/kiosk && cp -a /srv/full/. /var/lib/kiosk/"
    )
    try:
        watch = cart.lab.journal()
        cart.sh("systemctl start kiosk")
        watch.wait(STARTED, 120)
        cart.scanners(0, watch=watch)
        watch.wait(r"scanner .* connected", 30)
        cart.sh("dd if=/dev/zero of=/var/lib/kiosk/filler bs=4k 2>/dev/null; sync; true")
        # A small append may still fit in the slack of a file's last page: that scan is
        # stored and rightly acknowledged. Scan until one cannot be stored.
        refused = ""
        for i in range(1, 41):
            step = cart.lab.journal()
            cart.type(0, f"FULL-{i}<enter>")
            m = step.wait(rf'"code": "FULL-{i}"|scan of FULL-{i} NOT stored', 30)[0]
            if "NOT stored" in m[0]:
                refused = f"FULL-{i}"
                break
        acked = {str(a["code"]) for a in acks(watch.text())}
        assert refused, "the full disk never refused a scan"
        assert refused not in acked
        cart.sh("rm -f /var/lib/kiosk/filler")
        cart.type(0, "FULL-AFTER<enter>")
        watch.wait(r'"code": "FULL-AFTER"', 30)
        stored = {str(s["code"]) for s in cart.scans()}
        assert {c for c in acked if c.startswith("FULL-")} <= stored
        assert refused not in stored
        record("full_disk", {"acknowledged_before_refusal": int(refused.split("-")[1]) - 1})
    finally:
        cart.sh("systemctl stop kiosk; umount /var/lib/kiosk; systemctl start kiosk")


# --------------------------------------------------------------------------- install again


def test_upgrade_and_uninstall_keep_the_scans(cart: Cart) -> None:
    before = len(cart.scans())
    assert before > 0
    cart.install()
    assert len(cart.scans()) == before
    cart.sh(f"cd /home/pi/kiosk && ./install.sh --uninstall 2>&1; rm -rf {DROPIN}")
    assert int(cart.sh("ls /var/lib/kiosk | wc -l").strip()) > 0
    cart.install()
    cart.lab_dropin()
    watch = cart.restart()
    watch.wait(STARTED, 120)
    assert len(cart.scans()) == before


# --------------------------------------------------------------------------- Pi-class speed

#: sysbench 1.0.20 "cpu" single-thread events/s (primes up to 10,000), published
#: for Raspberry Pi OS: Pi 4 1,477.83 and Pi 3B+ 687.45; the Zero 2 W has the
#: 3B+'s Cortex-A53 at 1.0 GHz instead of 1.4 GHz: 687.45 / 1.4 = 491.
PI_SYSBENCH = {"pi_zero_2_w": 491.0, "pi_4": 1477.83}


def _sysbench(cart: Cart) -> float:
    out = cart.sh("sysbench cpu --threads=1 --time=10 run", timeout=120)
    m = re.search(r"events per second:\s*([\d.]+)", out)
    assert m, out
    return float(m[1])


def test_pi_class_speed(cart: Cart) -> None:
    """Ready time, scan-to-verdict and catalogue import under a Pi's share of the CPU."""
    guest = _sysbench(cart)
    record("speed_guest", {"guest_sysbench_events_s": guest})
    # Made in the guest by the installed kiosk: 10 MB over the serial agent takes minutes.
    for n in (20_000, 50_000):
        cart.sh(
            "/opt/kiosk/venv/bin/python -c 'import sys; from kiosk.cli import sample_data as s; "
            f"sys.stdout.write(s.to_csv(s.generate({n})))' > /srv/catalog-{n}.csv"
        )
    done: dict[int, dict[str, object]] = {}
    runs = itertools.count()
    for pi, events in PI_SYSBENCH.items():
        quota = min(100, round(100 * events / guest))
        if quota in done:  # the guest is slower than both Pis: one measurement serves
            record(f"speed_{pi}", {**done[quota], "pi_sysbench_events_s": events})
            continue
        cart.sh(f"mkdir -p {DROPIN} && printf '[Service]\\nCPUQuota={quota}%%\\n' "
                f"> {DROPIN}/quota.conf && systemctl daemon-reload")  # fmt: skip
        run = f"systemd-run --wait --pipe -q -p CPUQuota={quota}% -p User=kiosk "
        per: dict[str, object] = {
            "pi_sysbench_events_s": events,
            "cpu_quota_pct": quota,
            # At 100 % the guest is slower than the Pi: the figures are upper bounds.
            "upper_bound": quota >= 100,
        }
        for n in (20_000, 50_000):
            cart.sh("systemctl stop kiosk")
            t0 = time.monotonic()
            cart.sh(f"{run} /opt/kiosk/venv/bin/kiosk catalog import /srv/catalog-{n}.csv")
            per[f"import_{n}_s"] = round(time.monotonic() - t0, 1)
            watch = cart.lab.journal()
            t0 = time.monotonic()
            cart.sh("systemctl start kiosk")  # Type=notify: returns at READY=1
            per[f"ready_{n}_s"] = round(time.monotonic() - t0, 1)
            cart.scanners(0, watch=watch)
            watch.wait(r"scanner .* connected", 60)
            # Barcodes of the catalogue, never scanned before: real lookups, no duplicates.
            first = 1 + 100 * next(runs)
            per[f"scan_{n}_ms"] = _latency(cart, [f"B{i:05d}" for i in range(first, first + 60)])
        done[quota] = per
        record(f"speed_{pi}", per)
        cart.sh(f"rm -f {DROPIN}/quota.conf && systemctl daemon-reload")
    cart.restart().wait(STARTED, 120)


def _latency(cart: Cart, codes: list[str]) -> dict[str, float]:
    """Enter key (report written to /dev/hidg0) to the stored verdict's JSON line."""
    out = cart.sh(
        "python3 - <<'EOF'\n"
        "import os, subprocess, sys, time\n"
        "sys.path.insert(0, '/usr/local/lib/kiosk-lab')\n"
        "import hid\n"
        "last = subprocess.run(['journalctl', '-n1', '-q', '--show-cursor', '-o', 'cat'],"
        " capture_output=True, text=True).stdout.rsplit('-- cursor: ', 1)[1].strip()\n"
        "# From a cursor: a line logged before journalctl is following is not missed.\n"
        "j = subprocess.Popen(['journalctl', '-f', '--after-cursor', last, '-o', 'cat',"
        " '-u', 'kiosk'], stdout=subprocess.PIPE, text=True)\n"
        "fd = os.open(hid.hidg(0), os.O_WRONLY)\n"
        "def scan(code):\n"
        "    reps = hid.reports(code + '\\n')\n"
        "    hid.write_reports(fd, reps[:-2], 0)\n"
        "    t0 = time.monotonic(); hid.write_reports(fd, reps[-2:], 0)\n"
        "    for line in j.stdout:\n"
        '        if f\'"code": "{code}"\' in line: return time.monotonic() - t0\n'
        "scan(f'WARM-{os.getpid()}')  # not counted: journalctl's own start\n"
        f"for code in {codes!r}:\n"
        "    print(scan(code) * 1000)\n"
        "j.kill()\n"
        "EOF",
        timeout=900,
    )
    ms = sorted(float(x) for x in out.split())
    return {
        "n": len(ms),
        "p50": round(statistics.median(ms), 1),
        "p99": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 1),
        "max": round(ms[-1], 1),
    }


def test_startup_bench_under_pi_quota(cart: Cart) -> None:
    """The installed cart's ``kiosk bench startup`` runs whole under a Zero 2 W's CPU share."""
    guest = _sysbench(cart)
    events = PI_SYSBENCH["pi_zero_2_w"]
    quota = min(100, round(100 * events / guest))
    # Under TCG the fill of 200,000 scans took 7 min and a round 45 s: 5 rounds, as on a host.
    rounds = int(os.environ.get("KIOSK_LAB_STARTUP_ROUNDS", "5"))
    # The temporary states on the guest's disk (/var/tmp), as a cart's are on its SD card.
    cmd = (
        f"systemd-run --wait --pipe -q -p CPUQuota={quota}% -p User=kiosk "
        "--setenv=TMPDIR=/var/tmp "
        f"/opt/kiosk/venv/bin/kiosk bench startup --json --rounds {rounds}"
    )
    cart.sh("systemctl stop kiosk")  # the service's own process would share the quota's CPU
    try:
        t0 = time.monotonic()
        out = cart.sh(cmd, timeout=3 * 3600)
        wall = time.monotonic() - t0
    finally:
        cart.sh("systemctl start kiosk")
    bench = json.loads(out)
    record("startup_pi_zero_2_w", {
        "pi_sysbench_events_s": events,
        "guest_sysbench_events_s": guest,
        "cpu_quota_pct": quota,
        # At 100 % the guest is slower than the Pi: the figures are upper bounds.
        "upper_bound": quota >= 100,
        "wall_s": round(wall, 1),
        "bench": bench,
    })  # fmt: skip
    # The ratios' limits are figures to report here (TCG is 10-50 times slower than a
    # core); a broken run is not.
    hi = str(bench["scans"])
    assert {"version", "help", "status_0", f"status_{hi}"} <= set(bench["median_s"]), bench
    for n in ("0", hi):
        assert {"ready_s", "rss_first_scan_mb", "rss_shelf_order_mb"} <= set(bench["daemon"][n])
    checks = {"history_ready", "history_status", "day_ready", "day_status", "ready_over_version",
              "status_over_version", "rss_mb", "misshelf_verdicts"}  # fmt: skip
    assert set(bench["checks"]) == checks, bench["checks"]
    assert bench["checks"]["misshelf_verdicts"]["pass"], bench["daemon"]


# --------------------------------------------------------------------------- power cuts


def _power_round(cart: Cart, tag: str, rng: random.Random) -> dict[str, object]:
    """Scanners typing fast, the power cut at a random moment, a boot, a count."""
    watch = cart.scanners(0, 1)
    watch.wait(r"scanner .* connected", 60, count=2)
    cart.sh(
        "cd /usr/local/lib/kiosk-lab && "
        f"(setsid ./hid.py stream 0 {tag}A 5000 >/dev/null 2>&1 &) && "
        f"(setsid ./hid.py stream 1 {tag}B 5000 >/dev/null 2>&1 &)"
    )
    watch.wait(rf'"code": "{tag}[AB]-', 60)
    # A random moment: after a random number of further acknowledged scans.
    watch.wait(rf'"code": "{tag}[AB]-', 120, count=rng.randint(2, 80))
    cart.lab.power_cut()
    cut = time.monotonic()
    acked = [str(a["code"]) for a in acks(watch.text()) if str(a["code"]).startswith(tag)]
    boot = cart.lab.journal()
    # Under TCG on a busy host a boot after a cut took up to 5 min (ext4's journal
    # recovery in the initrd alone 1-2 min).
    cart.lab.wait_agent(600)
    cart.added.clear()
    boot.wait(STARTED, 300)
    up = time.monotonic() - cut
    stored = Counter(str(s["code"]) for s in cart.scans() if str(s["code"]).startswith(tag))
    lost = [c for c in acked if stored[c] == 0]
    doubled = [c for c in acked if stored[c] > 1]
    torn = bool(re.search(r"recovered from an interrupted write", boot.text()))
    # Without fsync the store's own witness should notice the loss on the next open.
    noticed = bool(re.search(r"fewer changes than were acknowledged|is missing", boot.text()))
    return {
        "acked": len(acked),
        "stored": sum(stored.values()),
        "lost": len(lost),
        "doubled": len(doubled),
        "torn_recovered": torn,
        "loss_noticed": noticed,
        "boot_to_service_s": round(up, 1),
    }


def test_power_cuts_lose_no_acknowledged_scan(cart: Cart) -> None:
    rounds = int(os.environ.get("KIOSK_LAB_ROUNDS", "20"))
    rng = random.Random(int(os.environ.get("KIOSK_LAB_SEED", "12")))
    results: list[dict[str, object]] = []
    for i in range(rounds):
        results.append(_power_round(cart, f"P{i:02d}", rng))
        record("power_cuts", results)  # kept round by round
    assert all(r["lost"] == 0 and r["doubled"] == 0 for r in results), results


def test_power_cuts_without_fsync_do_lose_scans(cart: Cart) -> None:
    """The test's teeth: the same rounds with fsync made a no-op (libeatmydata)."""
    cart.lab_dropin("Environment=LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libeatmydata.so\n")
    watch = cart.restart()
    watch.wait(STARTED, 120)
    rng = random.Random(7)
    rounds = int(os.environ.get("KIOSK_LAB_TEETH_ROUNDS", "5"))
    results: list[dict[str, object]] = []
    for i in range(rounds):
        results.append(_power_round(cart, f"N{i:02d}", rng))
        record("power_cuts_no_fsync", results)
    cart.lab_dropin()
    cart.restart().wait(STARTED, 120)
    assert sum(int(str(r["lost"])) for r in results) > 0, results
