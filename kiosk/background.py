"""One call run on a thread while its caller goes on; its result or error handed back later.

Used where the cart waits on something that lets go of the GIL (SLiMS
checking a password, a disk write, a checksum over a file) and has work of
its own meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Background"]

_T = TypeVar("_T")


class Background(Generic[_T]):
    """``fn(*args)`` on a daemon thread; :meth:`wait` returns its result or raises its error."""

    def __init__(self, fn: Callable[..., _T], *args: Any, name: str) -> None:
        self._result: _T | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._result = fn(*args)
            except BaseException as e:  # raised by wait(), on the caller's thread
                self._error = e

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def wait(self) -> _T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

    def done(self) -> bool:
        """Whether the call has ended (:meth:`wait` then returns at once)."""
        return not self._thread.is_alive()

    def wait_quietly(self) -> None:
        """Wait for the call to end when its result is no longer wanted, nor its error."""
        self._thread.join()
