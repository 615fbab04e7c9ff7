"""Checks of what the cart keeps: its configuration file and its scan store.

The configuration is loaded first and a broken one falls back to built-in
defaults, so one typo does not hide every other problem. The store is opened
read-only, so the doctor can run beside the daemon without taking its lock.
"""

from __future__ import annotations

from pathlib import Path

from kiosk import config as config_mod
from kiosk.cli.doctor.host import System
from kiosk.cli.doctor.report import Finding, Level
from kiosk.cli.doctor.system import check_disk
from kiosk.config import Config
from kiosk.engine.freshness import CatalogHealth
from kiosk.exc import ConfigError, KioskError
from kiosk.store import Store


def load_config(
    path: str | Path | None, state_dir: str | Path | None, system: System
) -> tuple[Config, Finding]:
    """The configuration the other checks judge, and the ``config`` finding about it."""
    where = path or system.env.get("KIOSK_CONFIG") or config_mod.DEFAULT_PATH
    try:
        cfg = config_mod.load(path, state_dir=state_dir, env=system.env)
    except KioskError as e:
        fallback = config_mod.Config()
        if state_dir is not None:
            fallback = fallback._replace(state_dir=str(state_dir))
        return fallback, Finding(
            "config",
            Level.FAIL,
            f"{e} (checking the rest with built-in defaults)",
            f"edit {where}; compare with {config_mod.DEFAULT_PATH}.example",
        )
    try:
        # The daemon refuses these at start (kiosk.app.build_cart): a file that
        # only loads is not yet a cart that runs.
        config_mod.check_pins(cfg)
    except ConfigError as e:
        return cfg, Finding(
            "config",
            Level.FAIL,
            f"{where}: {e}; the daemon refuses to start with it",
            f"edit {where}: move one part to a free GPIO pin (the wiring guide lists them)",
        )
    if (
        path is None
        and not system.env.get("KIOSK_CONFIG")
        and not config_mod.DEFAULT_PATH.is_file()
    ):
        return cfg, Finding(
            "config",
            Level.WARN,
            f"no {config_mod.DEFAULT_PATH}: using built-in defaults",
            "run install.sh, or pass --config FILE",
        )
    return cfg, Finding("config", Level.OK, f"{where} is valid")


def check_store(cfg: Config, system: System) -> list[Finding]:
    path = cfg.state_path
    if not path.is_dir():
        return [
            Finding(
                "store",
                Level.WARN if path.parent.is_dir() else Level.FAIL,
                f"{path} does not exist yet",
                "run install.sh (the service creates it on first start)",
            )
        ]
    out: list[Finding] = []
    acct = system.account(system.service_user)
    if acct is not None and acct.uid != 0:
        foreign = [p for p in [path, *path.iterdir()] if p.exists() and p.stat().st_uid != acct.uid]
        if foreign:
            out.append(
                Finding(
                    "store",
                    Level.FAIL,
                    f"{len(foreign)} file(s) in {path} not owned by {acct.name}, e.g. {foreign[0]} "
                    "(a command run as root?)",
                    f"sudo chown -R {acct.name}: {path}; "
                    f"run commands as 'sudo -u {acct.name} kiosk'",
                )
            )
    out.append(check_disk(path))
    out.extend(_readable(path, cfg.stocktake.catalog_max_age_days, system))
    return out


def _catalog(info: dict[str, object], max_age_days: float, system: System) -> Finding:
    """The same judgement the daemon shows on the cart's screen (kiosk.engine.freshness)."""
    loaded = info.get("loaded")
    health = CatalogHealth(
        items=int(str(info.get("count") or 0)),
        loaded=float(loaded) if isinstance(loaded, int | float) else None,
        now=system.wall(),
        max_age_days=max_age_days,
    )
    if health.ok:
        age = "" if health.age_days is None else f", pulled {health.age_days:.0f} day(s) ago"
        return Finding("catalogue", Level.OK, f"{health.items} item(s){age}")
    return Finding(
        "catalogue",
        Level.FAIL,
        health.message(),
        "kiosk catalog pull (or kiosk catalog import FILE with SLiMS's item export); "
        "stocktake.catalog_max_age_days sets how old it may get",
    )


def _readable(path: Path, max_age_days: float, system: System) -> list[Finding]:
    """Open the store read-only: a summary, or what is wrong with it."""
    out: list[Finding] = []
    try:
        with Store.open_readonly(path) as store:
            summary = (
                f"readable: {sum(store.counts().values())} scan(s), "
                f"{store.pending_count()} waiting for sync, "
                f"catalogue {store.catalog_info()['count']} item(s)"
            )
            catalog = _catalog(store.catalog_info(), max_age_days, system)
            if losses := store.losses():
                out.append(
                    Finding(
                        "store",
                        Level.FAIL,
                        "damage found: " + "; ".join(x.line() for x in losses),
                        "stop the daemon, run 'kiosk store recover', then check 'kiosk status'",
                    )
                )
            elif damaged := store.damaged_files():
                out.append(
                    Finding(
                        "store",
                        Level.FAIL,
                        f"a damaged store was set aside: {', '.join(p.name for p in damaged)}; "
                        "the scans in it are not in the current store",
                        f"copy {path}/*.corrupt-* somewhere safe and recover them before the "
                        "stock take is reported (docs/deploy.md, 'Troubleshooting')",
                    )
                )
    except KioskError as e:
        out.append(Finding("store", Level.FAIL, str(e), "see docs/deploy.md, 'Troubleshooting'"))
    except OSError as e:
        out.append(Finding("store", Level.FAIL, f"cannot read the store in {path}: {e}"))
    else:
        out += [Finding("store", Level.OK, summary), catalog]
    return out
