"""The stock-take engine: call numbers, shelf order and one verdict per barcode.

Pure decisions: no I/O, no threads, no hardware, no HTTP. The daemon feeds it
stored scans and hands it the shelf order once that is built.
"""

from kiosk.engine.verdicts import Decision, Engine, Rules, Statuses, shelf_order

__all__ = ["Decision", "Engine", "Rules", "Statuses", "shelf_order"]
