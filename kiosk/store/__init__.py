"""The cart's durable offline store: scans, catalogue and state in TinyDB.

One process writes it (the daemon, or a CLI verb holding the same lock).
"""

from kiosk.store.store import SCHEMA_VERSION, Store, exclusive

__all__ = ["SCHEMA_VERSION", "Store", "exclusive"]
