"""Turn the kiosk's settings into a SLiMS client: the one place settings meet SLiMS.

The client, session and page readers take plain values; this module reads
them from anything shaped like the ``[slims]`` configuration section (a
:class:`SlimsSettings`), gathers the credentials, and warns when the
password would cross the network unprotected.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Mapping
from typing import Protocol

from kiosk.slims.client import SlimsClient, SlimsProbe
from kiosk.slims.credentials import Credentials, load_credentials

__all__ = ["SlimsSettings", "check_login", "client_from_config", "client_from_credentials"]

log = logging.getLogger(__name__)


class SlimsSettings(Protocol):
    """What connecting needs of the ``[slims]`` settings (``kiosk.config.Slims`` fits)."""

    @property
    def url(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def credentials_file(self) -> str: ...
    @property
    def verify_tls(self) -> bool: ...
    @property
    def ca_bundle(self) -> str: ...
    @property
    def timeout_s(self) -> float: ...
    @property
    def retries(self) -> int: ...


def client_from_credentials(
    creds: Credentials,
    *,
    verify_tls: bool = True,
    ca_bundle: str = "",
    timeout: float = 15.0,
    retries: int = 4,
) -> SlimsClient:
    """A client for ``creds``; logs a warning when the login would travel unprotected."""
    verify: bool | str = ca_bundle if (verify_tls and ca_bundle) else verify_tls
    if not verify_tls:
        log.warning(
            "TLS verification is OFF for %s: anyone on the network can read the login",
            creds.url,
        )
    elif _in_clear(creds.url):
        log.warning(
            "%s is plain http: the SLiMS password crosses the network unencrypted; use https",
            creds.url,
        )
    return SlimsClient(
        creds.url,
        creds.username,
        creds.password,
        verify=verify,
        timeout=timeout,
        retries=retries,
    )


def client_from_config(settings: SlimsSettings, *, env: Mapping[str, str]) -> SlimsClient | None:
    """A client for the configured SLiMS, or ``None`` when none is configured.

    ``env`` holds the credentials set in the environment
    (:func:`kiosk.config.slims_environment`).
    """
    creds = load_credentials(
        url=settings.url,
        username=settings.username,
        credentials_file=settings.credentials_file,
        env=env,
    )
    if creds is None:
        return None
    return client_from_credentials(
        creds,
        verify_tls=settings.verify_tls,
        ca_bundle=settings.ca_bundle,
        timeout=settings.timeout_s,
        retries=settings.retries,
    )


def check_login(settings: SlimsSettings, creds: Credentials) -> SlimsProbe:
    """For ``kiosk doctor``: log in and read what this SLiMS is and allows, or raise why not."""
    with client_from_credentials(
        creds,
        verify_tls=settings.verify_tls,
        ca_bundle=settings.ca_bundle,
        timeout=settings.timeout_s,
        retries=0,
    ) as client:
        return client.probe()


def _in_clear(url: str) -> bool:
    """Plain http to another machine (loopback is this machine: nothing crosses a network)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return (
        parts.scheme == "http" and host not in ("localhost", "::1") and not host.startswith("127.")
    )
