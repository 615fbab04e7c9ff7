"""A sync started from the cart (button or command barcode), on its own thread.

The scan loop never waits for SLiMS: scanning goes on while the uploader
works, the store's lock keeping their records apart.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING

from kiosk.config import Config, slims_environment
from kiosk.exc import KioskError
from kiosk.feedback import Feedback
from kiosk.models import ProblemKind
from kiosk.store import Store

if TYPE_CHECKING:
    from kiosk.slims.uploader import SyncResult

log = logging.getLogger(__name__)


class SyncWorker:
    """Runs a sync started from the cart (button or command barcode) on its own thread.

    The scan loop never waits for SLiMS: scanning goes on while the uploader
    works, the store's lock keeping their records apart. One sync at a time;
    a second request while one runs is ignored.
    """

    def __init__(self, cfg: Config, store: Store, feedback: Feedback) -> None:
        self.cfg = cfg
        self.store = store
        self.feedback = feedback
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()  # set after each sync ends (tests wait on it)
        self.last: SyncResult | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def trigger(self) -> None:
        if self.running:
            log.info("sync already running")
            return
        self._stop.clear()
        self.finished.clear()
        self._thread = threading.Thread(target=self._run, name="sync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # requests and the SLiMS client load only when a sync is asked for: they
        # would add a fifth to the daemon's memory on a Pi Zero for nothing.
        from kiosk.slims.connect import client_from_config  # noqa: PLC0415
        from kiosk.slims.uploader import Uploader  # noqa: PLC0415

        try:
            client = client_from_config(self.cfg.slims, env=slims_environment())
            mode = self.cfg.slims.sync_mode
            out = self.cfg.exports_path
            if client is None or mode == "file":
                from kiosk.slims.file_export import export_dir  # noqa: PLC0415

                out, _ = export_dir(self.cfg.slims.export_dirs, out)
            with contextlib.ExitStack() as stack:
                if client is not None:
                    stack.callback(client.close)
                self.last = Uploader(
                    self.store,
                    client,
                    mode=mode,
                    journal=self.cfg.state_path / "sync.journal",
                    chunk=self.cfg.slims.upload_chunk,
                    out=out,
                    on_progress=lambda done, total: self.feedback.progress("sync", done, total),
                    stop=self._stop,
                ).run()
            log.info("sync done: %s", self.last.to_dict())
            self.feedback.resolve(ProblemKind.SLIMS)
        except KioskError as e:
            log.error("sync stopped: %s", e)
            self.feedback.problem(ProblemKind.SLIMS, str(e))
        except Exception as e:  # a sync that dies must say so on the cart, not vanish
            log.exception("sync failed")
            self.feedback.problem(ProblemKind.SLIMS, f"sync failed: {e}")
        finally:
            self.finished.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask a running sync to end after the current item, and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("sync did not stop within %.0f s", timeout)
