"""What the cart asks of its scans all the time, kept up to date as they change.

Counts per verdict, the codes found per stock take, the scans SLiMS has not
confirmed yet and the voided ones: the scan loop, the idle screen and the
uploader ask for these on every scan, so they are indexes, not table scans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kiosk.models import Verdict

_FOUND = frozenset(str(v) for v in Verdict if v.counts_as_found)


class SeqSet:
    """A set of scan numbers as a bitmap: an eighth of a byte per scan, not ~60 bytes.

    Scans awaiting sync pile up by the tens of thousands between syncs; a
    Python ``set`` of them alone would make the daemon grow with every scan.
    Iterates in ascending order.
    """

    __slots__ = ("_bits", "_len")

    def __init__(self, seqs: Iterable[int] = ()) -> None:
        self._bits = bytearray()
        self._len = 0
        for s in seqs:
            self.add(s)

    def add(self, seq: int) -> None:
        byte, bit = divmod(seq, 8)
        if byte >= len(self._bits):
            self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits) // 2, 64)))
        if not self._bits[byte] >> bit & 1:
            self._bits[byte] |= 1 << bit
            self._len += 1

    def discard(self, seq: int) -> None:
        if seq in self:
            byte, bit = divmod(seq, 8)
            self._bits[byte] &= ~(1 << bit) & 0xFF
            self._len -= 1

    def __contains__(self, seq: object) -> bool:
        if not isinstance(seq, int) or seq < 0:
            return False
        byte, bit = divmod(seq, 8)
        return byte < len(self._bits) and bool(self._bits[byte] >> bit & 1)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[int]:
        bits = self._bits
        for byte in range(len(bits)):
            if b := bits[byte]:
                for bit in range(8):
                    if b >> bit & 1:
                        yield byte * 8 + bit


class ScanIndex:
    """Running summaries of the live (not voided) scans."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.pending = SeqSet()
        self.found: dict[int, Counter[str]] = {}
        self.voided = SeqSet()

    @classmethod
    def build(cls, columns: Iterable[tuple[Any, ...]]) -> ScanIndex:
        """From ``(seq, verdict, code, session, sync, voided)`` rows, as stored."""
        index = cls()
        for seq, verdict, code, session, sync, voided in columns:
            if voided:
                index.voided.add(seq)
            else:
                index.note(
                    seq, {"verdict": verdict, "code": code, "session": session or 0, "sync": sync}
                )
        return index

    def note(self, seq: int, d: Mapping[str, Any]) -> None:
        """A live scan was stored."""
        verdict = d["verdict"]
        self.counts[verdict] += 1
        if verdict in _FOUND:
            self.found.setdefault(int(d.get("session", 0)), Counter())[d["code"]] += 1
            if d.get("sync") is None:
                self.pending.add(seq)

    def forget(self, seq: int, d: Mapping[str, Any]) -> None:
        """A live scan was voided (undo)."""
        verdict = d["verdict"]
        self.counts[verdict] -= 1
        self.pending.discard(seq)
        self.voided.add(seq)
        if verdict in _FOUND:
            found = self.found.get(int(d.get("session", 0)), Counter())
            found[d["code"]] -= 1
            if found[d["code"]] <= 0:
                del found[d["code"]]
