"""The on-disk line formats and the compact in-memory rows, on their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.models import Verdict
from kiosk.store.records import (
    apply_change,
    change_payload,
    frame,
    parse_line,
    read_snapshot,
    snapshot_lines,
)
from kiosk.store.rows import Rows, Tables


def test_journal_line_round_trips_and_detects_damage() -> None:
    """A framed change parses back; a flipped byte makes it unreadable, not wrong."""
    line = frame(change_payload("t", {3: {"i": 1}}, [2], clear=False))
    rec = parse_line(line.rstrip(b"\n"))
    assert rec == {"t": "t", "p": {"3": {"i": 1}}, "d": [2]}
    assert parse_line(line.rstrip(b"\n").replace(b'"i":1', b'"i":2')) is None


def test_a_numbered_change_keeps_its_number_and_replays_as_before() -> None:
    """The change number rides along in the record and changes nothing that is replayed."""
    line = frame(change_payload("t", {3: {"i": 1}}, [], clear=False, number=42))
    rec = parse_line(line.rstrip(b"\n"))
    assert rec is not None and rec["n"] == 42
    tables: Tables = {}
    apply_change(tables, rec, lambda _name: Rows(), 0)
    assert dict(tables["t"].items()) == {"3": {"i": 1}}


def test_snapshot_round_trips(tmp_path: Path) -> None:
    """What a snapshot holds is read back as written, with its generation and size."""
    tables: Tables = {"t": Rows(), "u": Rows()}
    change = {"t": "t", "p": {"1": {"a": [1, {"b": None}]}, "4": {"a": "x"}}}
    apply_change(tables, change, lambda _name: Rows(), 0)
    path = tmp_path / "db.json"
    data = b"".join(snapshot_lines(tables, 7))
    path.write_bytes(data)
    snap, f = read_snapshot(path, lambda _name: Rows())
    assert f is not None
    f.close()
    back = snap.tables
    assert (snap.generation, snap.size, snap.damage) == (7, len(data), [])
    assert {n: dict(r.items()) for n, r in back.items()} == {
        "t": {"1": {"a": [1, {"b": None}]}, "4": {"a": "x"}},
        "u": {},
    }
    assert back["t"].max_id == 4


def test_rows_hand_out_copies_and_plain_values() -> None:
    """Rows never share a document with callers; enum values are stored as plain strings."""
    rows = Rows()
    rows.put(1, rows.pack({"verdict": Verdict.OK, "n": {"k": 1}}))
    doc = rows["1"]
    doc["n"]["k"] = 2
    assert rows["1"] == {"verdict": "ok", "n": {"k": 1}}
    assert type(rows["1"]["verdict"]) is str
    with pytest.raises(TypeError):
        rows.pack({"x": {1, 2}})
