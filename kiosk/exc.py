"""One exception hierarchy for the whole kiosk.

Every error a person may see derives from :class:`KioskError`; its message is
written for that person (what went wrong, which file/key/device, and the fix).
Leaves also inherit the closest builtin so generic handlers still work.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error the kiosk reports."""


# -- configuration -----------------------------------------------------------
class ConfigError(KioskError, ValueError):
    """The configuration file or an option is malformed."""


# -- durable store -----------------------------------------------------------
class StoreError(KioskError):
    """The offline store cannot be used."""


class StoreLocked(StoreError):
    """Another process (usually the daemon) owns the store."""

    def __init__(self, message: str, *, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class StoreCorrupt(StoreError):
    """The store file cannot be parsed; it was kept aside, never overwritten."""


class StoreFull(StoreError, OSError):
    """The disk is full: scans are no longer acknowledged."""


# -- scanners ------------------------------------------------------------------
class ScannerError(KioskError):
    """A barcode scanner cannot be read."""


class ScannerNotFound(ScannerError, FileNotFoundError):
    """No input device matches the configured scanner."""


class ScannerPermissionError(ScannerError, PermissionError):
    """An input device exists but this user may not open it."""


class ScannerDisconnected(ScannerError, ConnectionError):
    """A scanner vanished while being read."""


class CaptureError(ScannerError, ValueError):
    """A raw input_event capture file cannot be decoded."""


# -- output files ------------------------------------------------------------------
class OutputError(KioskError, OSError):
    """A file or folder the user asked the kiosk to write cannot be written."""


# -- catalogue -------------------------------------------------------------------
class CatalogError(KioskError, ValueError):
    """A catalogue export cannot be parsed."""


# -- printing ---------------------------------------------------------------------
class BarcodeError(KioskError, ValueError):
    """A text cannot be printed as a barcode (a character Code 128 B lacks)."""


# -- SLiMS -----------------------------------------------------------------------
class SlimsError(KioskError):
    """SLiMS did not do what was asked."""


class SlimsUnreachable(SlimsError, ConnectionError):
    """SLiMS cannot be reached (network, DNS, TLS, timeouts, 5xx)."""


class SlimsAuthError(SlimsError):
    """SLiMS refused the credentials."""


class SlimsForbidden(SlimsError, PermissionError):
    """The SLiMS user lacks the rights for this action."""


class SlimsNoStockTake(SlimsError):
    """No stock take is active in SLiMS."""


class SlimsProtocolError(SlimsError):
    """SLiMS answered something the kiosk does not understand."""


class CredentialsError(SlimsError, PermissionError):
    """The credentials file is missing, malformed or readable by others."""


class SyncError(KioskError):
    """Synchronisation stopped before every scan was confirmed."""


# -- feedback ----------------------------------------------------------------------
class FeedbackError(KioskError):
    """A buzzer, LED, button or display cannot be driven."""


class DisplayError(FeedbackError, OSError):
    """The OLED display is absent or failing."""


# -- warnings ------------------------------------------------------------------------
class KioskWarning(Warning):
    """Base of the kiosk's warnings (degraded but working)."""


class DisplayWarning(KioskWarning):
    """The display failed; scanning goes on without it."""


class CallNumberWarning(KioskWarning):
    """A call number could not be fully parsed; it is ordered as best possible."""
