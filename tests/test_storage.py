"""The journaled TinyDB storage: behaves as TinyDB, costs one line per change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import OrderedDict
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
from tinydb import Query
from tinydb.storages import MemoryStorage

from kiosk.exc import StoreCorrupt
from kiosk.store import rows
from kiosk.store.adapter import JournalTable, KioskDB, open_db
from kiosk.store.journal import JournalStorage


@pytest.fixture(params=["memory", "journal"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The same TinyDB behaviour over memory and over the journal (as tinydb's own tests)."""
    if request.param == "memory":
        d = KioskDB(storage=MemoryStorage)
    else:
        d = open_db(tmp_path / "db.json")
    yield d
    d.close()


def test_queries_work_as_in_tinydb(db: Any) -> None:
    """Documents inserted, updated, removed and searched behave exactly as in plain TinyDB."""
    t = db.table("t")
    ids = t.insert_multiple(
        {"a": i, "tag": "x" if i % 2 else "y", "n": {"k": i}} for i in range(10)
    )
    assert ids == list(range(1, 11))
    assert t.insert({"a": 99}) == 11
    assert len(t.search(Query().tag == "x")) == 5
    assert t.update({"tag": "z"}, Query().a < 3) == [1, 2, 3]
    assert t.get(doc_id=2) == {"a": 1, "tag": "z", "n": {"k": 1}}
    assert t.update(lambda d: d.__setitem__("a", -1), doc_ids=[4, 404]) == [4]
    assert t.remove(Query().tag == "y") == [5, 7, 9]
    assert t.remove(doc_ids=[10]) == [10]
    assert t.upsert({"a": 50, "tag": "u"}, Query().a == 50) == [12]
    assert t.upsert({"a": 5, "tag": "u"}, Query().a == 5) == [6]
    assert t.count(Query().n.k == 1) == 1
    assert [d.doc_id for d in t.all()] == [1, 2, 3, 4, 6, 8, 11, 12]
    t.truncate()
    assert len(t) == 0
    assert t.insert({"b": 1}) == 1


def test_changes_survive_reopen(tmp_path: Path) -> None:
    """Every acknowledged change is there after the process reopens the files."""
    path = tmp_path / "db.json"
    d = open_db(path)
    t = d.table("t")
    t.insert_multiple({"i": i} for i in range(5))
    t.update({"seen": True}, doc_ids=[2])
    t.remove(doc_ids=[3])
    d.table("u").insert({"x": [1, {"y": None}]})
    d.close()
    d = open_db(path)
    assert {k: dict(v) for k, v in (d.storage.read() or {})["t"].items()} == {
        "1": {"i": 0},
        "2": {"i": 1, "seen": True},
        "4": {"i": 3},
        "5": {"i": 4},
    }
    assert d.table("u").all() == [{"x": [1, {"y": None}]}]
    assert d.table("t").insert({"i": 9}) == 6
    d.close()


def test_one_insert_appends_one_journal_line(tmp_path: Path) -> None:
    """An insert writes only that document to the journal, not the whole table."""
    path = tmp_path / "db.json"
    d = open_db(path)
    t = d.table("t")
    t.insert_multiple({"i": i} for i in range(1000))
    before = path.with_suffix(".log").stat().st_size
    t.insert({"i": 1000})
    grown = path.with_suffix(".log").stat().st_size - before
    d.close()
    assert 0 < grown < 100


def test_compaction_is_atomic_and_keeps_data(tmp_path: Path) -> None:
    """After compaction the snapshot holds everything and the journal starts afresh."""
    path = tmp_path / "db.json"
    d = open_db(path)
    t = d.table("t")
    t.insert_multiple({"i": i} for i in range(50))
    d.storage.compact()
    assert d.storage.generation == 1
    t.insert({"i": 50})
    d.close()
    assert not list(tmp_path.glob("*.tmp"))
    d = open_db(path)
    assert [x["i"] for x in d.table("t").all()] == list(range(51))
    d.close()


def test_unserialisable_document_changes_nothing(tmp_path: Path) -> None:
    """A document that is not JSON data is refused before anything is written."""
    d = open_db(tmp_path / "db.json")
    t = d.table("t")
    t.insert({"i": 0})
    with pytest.raises(TypeError):
        t.insert({"i": {1, 2}})
    with pytest.raises(ValueError, match="NaN"):
        t.insert({"i": float("nan")})
    assert len(t) == 1
    d.close()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_change_of_many_documents_refuses_what_json_cannot_hold(
    tmp_path: Path, bad: float
) -> None:
    """A bulk update (a sync's answers) refuses NaN and infinity, as one insert does."""
    path = tmp_path / "db.json"
    d = open_db(path, cold=("t",))
    t = d.table("t")
    ids = t.insert_multiple({"i": i, "n": {"k": [i]}} for i in range(200))
    before = path.with_suffix(".log").read_bytes()
    with pytest.raises(ValueError, match="JSON"):
        t.update(lambda doc: doc["n"]["k"].append(bad), doc_ids=ids)
    with pytest.raises(ValueError, match="JSON"):
        t.update({"x": OrderedDict(y=(1, bad))}, doc_ids=ids)
    assert path.with_suffix(".log").read_bytes() == before
    assert t.get(doc_id=7) == {"i": 6, "n": {"k": [6]}}
    d.close()


@pytest.mark.parametrize("orjson", ["with", "without"])
def test_a_change_of_many_documents_reads_back_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orjson: str
) -> None:
    """Thousands of answers in one change read back exactly, odd text and huge numbers too."""
    if orjson == "without":
        monkeypatch.setitem(sys.modules, "orjson", None)  # as on armv6l
    path = tmp_path / "db.json"
    d = open_db(path, cold=("t",))
    t = d.table("t")
    ids = t.insert_multiple({"i": i} for i in range(500))
    t.update({"s": 'ä€😀\u2028\x00"', "big": 2**70, "f": 0.1, "n": None}, doc_ids=ids[::2])
    d.close()
    d = open_db(path, cold=("t",))
    t = d.table("t")
    assert t.get(doc_id=3) == {"i": 2, "s": 'ä€😀\u2028\x00"', "big": 2**70, "f": 0.1, "n": None}
    assert t.get(doc_id=4) == {"i": 3}
    assert len(t.search(Query().big == 2**70)) == 250
    d.close()


def test_an_update_that_changes_nested_values_is_stored_and_a_failed_one_is_not(
    tmp_path: Path,
) -> None:
    """A change deep inside a document is kept; one whose updater fails leaves it as it was."""
    path = tmp_path / "db.json"
    d = open_db(path, cold=("t",))
    t = d.table("t")
    t.insert({"n": {"k": [1, {"z": 1}]}})

    def fails(doc: MutableMapping[str, Any]) -> None:
        doc["n"]["k"][1]["z"] = 2
        raise RuntimeError("updater fails half-way")

    with pytest.raises(RuntimeError):
        t.update(fails, doc_ids=[1])
    assert t.get(doc_id=1) == {"n": {"k": [1, {"z": 1}]}}
    t.update(lambda doc: doc["n"]["k"][1].update(z=3), doc_ids=[1])
    d.close()
    d = open_db(path, cold=("t",))
    assert d.table("t").get(doc_id=1) == {"n": {"k": [1, {"z": 3}]}}
    d.close()


def test_returned_documents_are_copies(tmp_path: Path) -> None:
    """Changing a document a query returned does not change what is stored."""
    d = open_db(tmp_path / "db.json")
    t = d.table("t")
    t.insert({"n": {"k": 1}})
    doc = t.get(doc_id=1)
    assert doc is not None
    doc["n"]["k"] = 2
    assert t.get(doc_id=1) == {"n": {"k": 1}}
    d.close()


def test_journal_table_is_used_by_kiosk_db(tmp_path: Path) -> None:
    """KioskDB tables take the journal path (the flat-cost insert)."""
    d = open_db(tmp_path / "db.json")
    assert isinstance(d.table("t"), JournalTable)
    assert isinstance(d.storage, JournalStorage)
    d.close()


def test_the_standard_reader_and_orjson_read_the_same_store(tmp_path: Path) -> None:
    """A Pi without orjson (armv6l) and one with it read the same scans, and write them back."""
    path = tmp_path / "db.json"
    n = rows.FAST_AFTER + 500  # past the switch to orjson, where it is installed
    d = open_db(path, cold=("t",))
    d.table("t").insert_multiple({"i": i, "s": "ä€😀", "n": {"k": [i, None]}} for i in range(n))
    d.storage.compact()
    d.table("t").insert({"i": n, "s": "ñ"})  # in the journal, after the snapshot
    d.close()
    script = (
        "import sys, json\n"
        "if sys.argv[2] == 'without': sys.modules['orjson'] = None  # as on armv6l\n"
        "from kiosk.store import rows\n"
        "from kiosk.store.adapter import open_db\n"
        "d = open_db(sys.argv[1], cold=('t',)); t = d.table('t')\n"
        "print(json.dumps(t.all()), rows.fast_loads().__module__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = {}
    for how in ("without", "with"):
        res = subprocess.run(
            [sys.executable, "-c", script, str(path), how], env=env, capture_output=True, text=True
        )
        assert res.returncode == 0, res.stderr
        out[how] = res.stdout.split()
    assert out["without"][-1] == "json"
    assert out["with"][-1] == "orjson"
    assert out["with"][:-1] == out["without"][:-1]
    read = json.loads(" ".join(out["with"][:-1]))
    assert len(read) == n + 1 and read[-1] == {"i": n, "s": "ñ"}
    assert read[7] == {"i": 7, "s": "ä€😀", "n": {"k": [7, None]}}


def test_compaction_copies_scans_but_never_vouches_for_bytes_changed_since(
    tmp_path: Path,
) -> None:
    """Compaction keeps every scan as it was, and stops at one damaged on disk since it was read."""
    path = tmp_path / "db.json"
    d = open_db(path, cold=("t",))
    t = d.table("t")
    t.insert_multiple({"code": f"B{i:05d}", "n": {"k": [i]}, "s": "é"} for i in range(50))
    d.storage.compact()
    t.update({"s": "changed"}, doc_ids=[7])  # one document now in the journal
    d.storage.compact()  # copies 49 lines as they are, encodes document 7 again
    assert t.get(doc_id=7) == {"code": "B00006", "n": {"k": [6]}, "s": "changed"}
    assert t.get(doc_id=8) == {"code": "B00007", "n": {"k": [7]}, "s": "é"}
    d.close()

    d = open_db(path, cold=("t",))
    assert [doc["code"] for doc in d.table("t").all()] == [f"B{i:05d}" for i in range(50)]
    assert d.storage.losses == []
    d.close()

    d = open_db(path, cold=("t",))
    data = path.read_bytes()
    at = data.index(b'"B00020"')
    path.write_bytes(data[:at] + b"#" + data[at + 1 :])  # the disk changes under the open store
    with pytest.raises(StoreCorrupt, match="document 21 was damaged"):
        d.storage.compact()
    d.close()
    assert path.read_bytes()[at : at + 1] == b"#"  # not rewritten into a file that vouches for it
