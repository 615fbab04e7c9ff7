"""SLiMS integration: HTTP client, item-export parser, credentials, uploader.

Only :mod:`kiosk.slims.uploader` knows both SLiMS and the store; the client
speaks HTTP only and the export parser reads text only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from kiosk.config import Slims
from kiosk.slims.client import Outcome, SlimsClient
from kiosk.slims.credentials import Credentials, Secret, load_credentials

__all__ = ["Credentials", "Outcome", "Secret", "SlimsClient", "client_from_config"]


def client_from_config(cfg: Slims, *, env: Mapping[str, str] | None = None) -> SlimsClient | None:
    """A client for the configured SLiMS, or ``None`` when none is configured."""
    creds = load_credentials(
        url=cfg.url,
        username=cfg.username,
        credentials_file=cfg.credentials_file,
        env=os.environ if env is None else env,
    )
    if creds is None:
        return None
    return SlimsClient.from_credentials(
        creds,
        verify_tls=cfg.verify_tls,
        ca_bundle=cfg.ca_bundle,
        timeout=cfg.timeout_s,
        retries=cfg.retries,
    )
