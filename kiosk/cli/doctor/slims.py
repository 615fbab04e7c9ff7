"""Checks of the way to SLiMS: the stored credentials and a real login.

This is the doctor's only door into :mod:`kiosk.slims`, so the doctor logs in
exactly as sync would, with the same credentials from the same places. Then it
only opens pages, never posts one: it names the SLiMS release, warns when no
stock take is active, and says what the user's rights allow.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kiosk.cli.doctor.host import System
from kiosk.cli.doctor.report import Finding, Level
from kiosk.config import Config, slims_environment
from kiosk.exc import KioskError
from kiosk.slims.credentials import Credentials, load_credentials

if TYPE_CHECKING:
    from kiosk.slims.client import SlimsProbe

#: SLiMS releases the kiosk is tested against (the fake's release table; README).
TESTED = ("9.4", "9.5", "9.6", "9.7")


def _credentials(cfg: Config, system: System) -> Credentials | None:
    """What sync would log in with (``None``: no SLiMS configured)."""
    return load_credentials(
        url=cfg.slims.url,
        username=cfg.slims.username,
        credentials_file=cfg.slims.credentials_file,
        env=slims_environment(system.env),
    )


def _check_login(cfg: Config, creds: Credentials) -> SlimsProbe:
    """Log in as sync would and look around; raises :class:`~kiosk.exc.KioskError` when refused."""
    from kiosk.slims.connect import check_login  # noqa: PLC0415  (requests: only when needed)

    return check_login(cfg.slims, creds)


def _file_findings(path: Path, system: System) -> list[Finding]:
    """Ownership and mode of the credentials file, as the service user needs them."""
    out: list[Finding] = []
    st = path.stat()
    mode = stat.S_IMODE(st.st_mode)
    acct = system.account(system.service_user)
    if acct is not None and st.st_uid != acct.uid:
        out.append(
            Finding(
                "credentials",
                Level.FAIL,
                f"{path} belongs to uid {st.st_uid}, not {acct.name}: the service cannot read it",
                f"sudo chown {acct.name}: {path} && sudo chmod 600 {path}",
            )
        )
    if mode & 0o077:
        out.append(
            Finding(
                "credentials",
                Level.FAIL,
                f"{path} has mode {mode:04o}: others can read the password",
                f"sudo chmod 600 {path}",
            )
        )
    return out


def check_credentials(cfg: Config, system: System) -> list[Finding]:
    path = Path(cfg.slims.credentials_file) if cfg.slims.credentials_file else None
    # Loading would only repeat what is wrong with the file itself.
    if path is not None and path.exists() and (out := _file_findings(path, system)):
        return out
    try:
        creds = _credentials(cfg, system)
    except KioskError as e:
        return [Finding("credentials", Level.FAIL, str(e), f"sudoedit {path}" if path else "")]
    if creds is None:
        return [Finding("credentials", Level.SKIP, "no SLiMS configured (slims.url is empty)")]
    return [Finding("credentials", Level.OK, f"user {creds.username!r} for {creds.url}")]


def check_slims(cfg: Config, system: System) -> list[Finding]:
    try:
        creds = _credentials(cfg, system)
    except KioskError:  # reported once, by check_credentials
        return [Finding("slims", Level.SKIP, "no usable credentials: see 'credentials'")]
    if creds is None:
        return [Finding("slims", Level.SKIP, "no SLiMS configured: sync exports files only")]
    url = creds.url
    parts = urlsplit(url)
    if not parts.hostname:
        return [Finding("slims", Level.FAIL, f"{url!r} names no host", "fix slims.url")]
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        system.connect(parts.hostname, port, system.timeout)
    except OSError as e:
        return [
            Finding(
                "slims",
                Level.WARN,
                f"cannot reach {parts.hostname}:{port} now ({e.strerror or e}); "
                "scans wait on the cart until the next sync",
                "bring the cart into Wi-Fi range; check the URL and the network",
            )
        ]
    try:
        probe = _check_login(cfg, creds)
    except KioskError as e:
        return [
            Finding(
                "slims", Level.FAIL, f"{url}: {e}", "check the credentials and the user's rights"
            )
        ]
    return [_version_finding(url, creds.username, probe), *_stocktake_findings(probe)]


def _version_finding(url: str, user: str, probe: SlimsProbe) -> Finding:
    """The login, and the SLiMS release it reached (a warning when the kiosk is untested there)."""
    if probe.version:
        seen = f"SLiMS {probe.version}"
    else:  # the login's answer style still tells old from new
        seen = "a SLiMS that names no release" + (
            " (it logs in the way 9.4 to 9.5.1 do)" if probe.login_style == "script" else ""
        )
    message = f"logged in to {url} as {user!r}: {seen}"
    release = probe.version.split(".")
    if len(release) >= 2 and release[0].isdigit() and ".".join(release[:2]) not in TESTED:
        return Finding(
            "slims",
            Level.WARN,
            f"{message}; the kiosk is tested with SLiMS {', '.join(TESTED)} only",
            "run the live contract tests against this SLiMS (see README, 'SLiMS')",
        )
    return Finding("slims", Level.OK, message)


def _stocktake_findings(probe: SlimsProbe) -> list[Finding]:
    """Whether a stock take is active, and what the user may do in it."""
    grant = "in SLiMS: System → User Group → the user's group → Stock Take: read and write"
    if not probe.may_scan:
        return [
            Finding(
                "rights",
                Level.FAIL,
                "the SLiMS user may not do stock takes (no Stock Take read and write rights): "
                "sync will be refused",
                grant,
            )
        ]
    out: list[Finding] = []
    if probe.stocktake_active:
        out.append(Finding("stocktake", Level.OK, "a stock take is active in SLiMS"))
    else:
        out.append(
            Finding(
                "stocktake",
                Level.WARN,
                "no stock take is active in SLiMS: scans wait on the cart until one is started",
                "start one in SLiMS (Stock Take → Initialize) or with `kiosk sync --init NAME`",
            )
        )
    start = "and start one" if probe.may_init else "(only SLiMS's first admin may start one)"
    if not probe.may_pull:
        out.append(
            Finding(
                "rights",
                Level.FAIL,
                "the SLiMS user may scan into stock takes but not read Bibliography: "
                "the catalogue pull will be refused",
                "in SLiMS: System → User Group → the user's group → Bibliography: read",
            )
        )
        return out
    may = f"may scan into stock takes, pull the catalogue {start}"
    return [*out, Finding("rights", Level.OK, f"the SLiMS user {may}"), *_read_findings(probe)]


def _read_findings(probe: SlimsProbe) -> list[Finding]:
    """What a pull cannot learn without Master File or Reporting rights."""
    group = "in SLiMS: System → User Group → the user's group → "
    out: list[Finding] = []
    if not probe.may_read_rules:
        out.append(
            Finding(
                "skip rules",
                Level.WARN,
                "the SLiMS user may not read the item statuses' rules: books whose status "
                "SLiMS's stock take skips get OK on the cart, and SLiMS answers 'skipped' "
                "at sync",
                group + "Master File: read and write, or set stocktake.excluded_statuses",
            )
        )
    if not probe.may_read_loans:
        out.append(
            Finding(
                "due dates",
                Level.WARN,
                "the SLiMS user may not read the loan report: on-loan books come without due dates",
                group + "Reporting: read",
            )
        )
    return out
