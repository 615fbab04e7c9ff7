"""What the cart asks of its scans all the time, kept up to date as they change.

Counts per verdict, the codes found per stock take, the scans SLiMS has not
confirmed yet and the voided ones: the scan loop, the idle screen and the
uploader ask for these on every scan, so they are indexes, not table scans.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kiosk.models import Command, SyncOutcome, Verdict

_FOUND = frozenset(str(v) for v in Verdict if v.counts_as_found)
#: Sync states that still await SLiMS: never dealt with, or only written to an upload file.
AWAITING_SLIMS = frozenset({None, str(SyncOutcome.EXPORTED)})


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

    def hex(self) -> str:
        return self._bits.hex()

    @classmethod
    def fromhex(cls, text: str) -> SeqSet:
        out = cls()
        out._bits = bytearray.fromhex(text)
        out._len = int.from_bytes(out._bits, "little").bit_count()
        return out

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
    """Running summaries of the live (not voided) scans.

    The storage keeps it (:meth:`add`/:meth:`remove` per stored document) and
    saves it beside each snapshot (:meth:`dump`), so opening a store reads
    the summary and the journal's changes since, never every scan.
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.pending = SeqSet()  # found scans SLiMS has not answered yet
        self.exported = SeqSet()  # of those, the ones in an upload file
        self.found: dict[int, Counter[str]] = {}
        self.voided = SeqSet()
        #: Books without a label tallied, by (session, casefolded location).
        self.nolabel: Counter[tuple[int, str]] = Counter()

    # -- kept by the storage (kiosk.store.summary.Summary) ------------------------------------
    def add(self, seq: int, d: Mapping[str, Any]) -> None:
        """Document ``seq`` is now stored as ``d``."""
        if d.get("voided"):
            self.voided.add(seq)
        else:
            self.note(seq, d)

    def remove(self, seq: int, d: Mapping[str, Any]) -> None:
        """Document ``seq``, stored as ``d``, is replaced or deleted."""
        if d.get("voided"):
            self.voided.discard(seq)
        else:
            self.forget(seq, d)
            self.voided.discard(seq)

    def replace(self, seq: int, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """Document ``seq`` was ``old`` and is now ``new``.

        A sync's answer changes only a found scan's sync state: that alone is
        updated, not all its totals taken back and counted again (a sync
        records thousands at once).
        """
        if (
            not old.get("voided")
            and not new.get("voided")
            and old["verdict"] in _FOUND
            and new["verdict"] == old["verdict"]
            and new["code"] == old["code"]
            and int(new.get("session", 0)) == int(old.get("session", 0))
        ):
            self.sync(seq, new.get("sync"))
            return
        self.remove(seq, old)
        self.add(seq, new)

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def dump(self) -> bytes:
        """The summary as bytes (JSON; bitmaps in hex), for :meth:`load`."""
        return json.dumps(
            {
                "counts": self.counts,
                "pending": self.pending.hex(),
                "exported": self.exported.hex(),
                "voided": self.voided.hex(),
                "found": {str(k): v for k, v in self.found.items()},
                "nolabel": [[s, loc, n] for (s, loc), n in self.nolabel.items() if n],
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()

    @classmethod
    def load(cls, data: bytes) -> ScanIndex:
        raw = json.loads(data)
        index = cls()
        index.counts.update(raw["counts"])
        index.pending = SeqSet.fromhex(raw["pending"])
        index.exported = SeqSet.fromhex(raw["exported"])
        index.voided = SeqSet.fromhex(raw["voided"])
        index.found = {int(k): Counter(v) for k, v in raw["found"].items()}
        index.nolabel = Counter({(int(s), str(loc)): int(n) for s, loc, n in raw["nolabel"]})
        return index

    def _nolabel_key(self, d: Mapping[str, Any]) -> tuple[int, str] | None:
        if d["verdict"] != Verdict.COMMAND:
            return None
        detail = d.get("detail") or {}
        if isinstance(detail, str):  # nested values are kept as JSON text in memory
            detail = json.loads(detail)
        if detail.get("command") != Command.NOLABEL:
            return None
        return int(d.get("session", 0)), str(d.get("location") or "").casefold()

    def note(self, seq: int, d: Mapping[str, Any]) -> None:
        """A live scan was stored."""
        verdict = d["verdict"]
        self.counts[verdict] += 1
        if verdict in _FOUND:
            session = int(d.get("session", 0))
            found = self.found.get(session)
            if found is None:
                found = self.found[session] = Counter()
            found[d["code"]] += 1
            self.sync(seq, d.get("sync"))
        elif (key := self._nolabel_key(d)) is not None:
            self.nolabel[key] += 1

    def sync(self, seq: int, outcome: str | None) -> None:
        """A found scan's sync state is ``outcome``: pending until SLiMS has answered."""
        if outcome in AWAITING_SLIMS:
            self.pending.add(seq)
        else:
            self.pending.discard(seq)
        if outcome == SyncOutcome.EXPORTED:
            self.exported.add(seq)
        else:
            self.exported.discard(seq)

    def forget(self, seq: int, d: Mapping[str, Any]) -> None:
        """A live scan was voided (undo)."""
        verdict = d["verdict"]
        self.counts[verdict] -= 1
        self.pending.discard(seq)
        self.exported.discard(seq)
        self.voided.add(seq)
        if (key := self._nolabel_key(d)) is not None:
            self.nolabel[key] -= 1
        if verdict in _FOUND:
            found = self.found.get(int(d.get("session", 0)), Counter())
            found[d["code"]] -= 1
            if found[d["code"]] <= 0:
                del found[d["code"]]
