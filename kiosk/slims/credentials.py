"""Where the SLiMS login comes from, and how the password is kept out of sight.

The password may sit in a TOML credentials file (refused when group or world
can read it: the cart is a shared machine on a shared network) or in the
``SLIMS_PASSWORD`` environment variable. It is wrapped in :class:`Secret`, whose
``repr``/``str`` never show it, so logs, tracebacks and ``print(config)`` stay
clean.
"""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from kiosk.exc import CredentialsError

__all__ = ["Credentials", "Secret", "check_url", "load_credentials"]


class Secret:
    """A string that does not print itself; call :meth:`reveal` where it is sent."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret is not pickled (it would leave the process in clear)")


@dataclass(frozen=True)
class Credentials:
    """Everything needed to log in to one SLiMS."""

    url: str
    username: str
    password: Secret

    def __post_init__(self) -> None:
        check_url(self.url)


def check_url(url: str) -> None:
    """Refuse a SLiMS address the client cannot use or that would show a password."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialsError(
            f"SLiMS URL {url!r} must start with http:// or https:// (set slims.url or SLIMS_URL)"
        )
    if "@" in parts.netloc:
        # The URL is printed in reprs, logs and error messages.
        raise CredentialsError(
            f"the SLiMS URL for {parts.hostname} holds a user name or password; remove it "
            "and put them in the credentials file or SLIMS_USER/SLIMS_PASSWORD"
        )


def load_credentials(
    *,
    url: str = "",
    username: str = "",
    credentials_file: str | Path = "",
    env: Mapping[str, str],
) -> Credentials | None:
    """Gather URL, user and password; ``None`` when no SLiMS is configured at all.

    The environment (``SLIMS_URL``, ``SLIMS_USER``, ``SLIMS_PASSWORD``) overrides
    the credentials file, which overrides the configuration. The file is TOML
    with ``url``, ``username`` and ``password`` keys (top level or in ``[slims]``).
    ``env`` comes from :func:`kiosk.config.slims_environment`.
    """
    from_file: dict[str, Any] = {}
    path = Path(credentials_file) if credentials_file else None
    if path is not None and path.exists():
        from_file = _read_file(path)
    url = env.get("SLIMS_URL") or str(from_file.get("url") or "") or url
    if not url:
        return None
    username = env.get("SLIMS_USER") or str(from_file.get("username") or "") or username
    password = env.get("SLIMS_PASSWORD") or str(from_file.get("password") or "")
    if not username:
        raise CredentialsError(
            f"no SLiMS user name for {url}: set slims.username, 'username' in the "
            "credentials file, or SLIMS_USER"
        )
    if not password:
        where = f"{path}" if path is not None else "the credentials file"
        raise CredentialsError(
            f'no SLiMS password for user {username!r}: put password = "..." in {where} '
            "(mode 0600) or set SLIMS_PASSWORD"
        )
    return Credentials(url.rstrip("/") + "/", username, Secret(password))


def _read_file(path: Path) -> dict[str, Any]:
    try:
        st = path.stat()
    except OSError as e:
        raise CredentialsError(f"cannot read credentials file {path}: {e.strerror}") from None
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise CredentialsError(
            f"credentials file {path} is readable by others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}); refusing to use it. "
            f"Fix: chmod 600 {path}"
        )
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except PermissionError:
        raise CredentialsError(
            f"credentials file {path} is not readable by this user; "
            "it must belong to the user the kiosk runs as"
        ) from None
    except tomllib.TOMLDecodeError as e:
        # The decoder's message quotes no values, only positions.
        raise CredentialsError(f"credentials file {path} is not valid TOML: {e}") from None
    # [web] holds the cart page's token (read by kiosk.web.auth), not SLiMS's login.
    section = data.get("slims", {k: v for k, v in data.items() if k != "web"})
    if not isinstance(section, dict):
        raise CredentialsError(f"credentials file {path}: [slims] must be a table")
    unknown = sorted(set(section) - {"url", "username", "password"})
    if unknown:
        raise CredentialsError(
            f"credentials file {path}: unknown key {unknown[0]!r} (known: url, username, password)"
        )
    for key, value in section.items():
        if not isinstance(value, str):
            raise CredentialsError(f"credentials file {path}: {key} must be a string")
    return section
