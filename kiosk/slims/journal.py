"""Remember which scans went to SLiMS before SLiMS's answer is safely stored.

After a crash, SLiMS answers "already scanned" for an item this cart sent
but never heard back about. The journal tells those apart from items another
cart (or an earlier stock-take run) found: a journalled scan's "already
scanned" is this cart's own request that landed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["Journal"]


class Journal:
    """Scans (by ``seq``) sent to SLiMS whose outcome may not be in the store yet.

    Appended before each request (no fsync: a killed process keeps what it
    wrote; only a power cut can lose the tail, and then an outcome reads
    "already scanned" instead of "accepted", nothing worse).
    """

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path is not None else None
        self._fd: int | None = None

    def load(self) -> set[str]:
        if self.path is None:
            return set()
        try:
            return {line for line in self.path.read_text("utf-8").splitlines() if line}
        except FileNotFoundError:
            return set()

    def add(self, keys: Iterable[str]) -> None:
        if self.path is None:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        os.write(self._fd, "".join(k + "\n" for k in keys).encode("utf-8"))

    def clear(self) -> None:
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
