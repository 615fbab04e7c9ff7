"""Raw input_event captures: layouts, detection, recording and ``kiosk replay``."""

from __future__ import annotations

import argparse
import io
import json
import os
import threading
from pathlib import Path

import pytest

from kiosk.cli import replay
from kiosk.exc import CaptureError
from kiosk.scanner import capture
from kiosk.scanner.decode import Decoder, decode_events
from kiosk.scanner.evdev import PipeDevice


def cli(argv: list[str], config: Path | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk")
    parser.add_argument("--config")
    parser.add_argument("--state-dir")
    sub = parser.add_subparsers(dest="verb", required=True)
    replay.register(sub)
    args = parser.parse_args([*(["--config", str(config)] if config else []), *argv])
    return int(args.func(args))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text('[scanner]\nlayout = "us"\n')
    return path


@pytest.mark.parametrize("bits", [64, 32])
def test_capture_both_layouts_detected_and_decoded(bits: int) -> None:
    """Captures from 64-bit systems and from 32-bit Raspberry Pi OS both decode to the barcodes."""
    events = capture.barcode_events("B0001", t0=1700000000.25) + capture.barcode_events(
        "Q-42", t0=1700000001.5
    )
    data = capture.encode(events, bits)
    assert len(data) == len(events) * (24 if bits == 64 else 16)
    assert capture.detect_bits(data) == bits
    parsed = capture.parse(data)
    assert [e[:3] for e in parsed] == [e[:3] for e in events]
    assert parsed[0][3] == pytest.approx(1700000000.25)
    assert decode_events(parsed, Decoder()) == ["B0001", "Q-42"]


def test_capture_native_layout_is_what_evdev_reads() -> None:
    """The bytes written for this machine read back through evdev's own EventIO unchanged."""
    events = capture.barcode_events("7", t0=1234.5)
    dev = PipeDevice()
    try:
        dev.send(events)
        read = [(e.type, e.code, e.value, e.timestamp()) for e in dev.read()]
    finally:
        dev.close()
    assert [r[:3] for r in read] == [e[:3] for e in events]
    assert [r[3] for r in read] == pytest.approx([e[3] for e in events])


def test_capture_rejects_cut_and_foreign_files() -> None:
    """A file that is not a capture is reported as such instead of yielding junk barcodes."""
    with pytest.raises(CaptureError, match="neither a whole number"):
        capture.detect_bits(b"x" * 17)
    with pytest.raises(CaptureError, match="not a raw input_event capture"):
        capture.detect_bits(b"\xff" * 48)
    with pytest.raises(CaptureError, match="cannot read capture"):
        capture.read_capture("/nonexistent/capture.bin")


def test_capture_record_copies_bytes_and_stops_after_barcodes() -> None:
    """Recording writes exactly the device's bytes and can stop after a number of barcodes."""
    dev = PipeDevice()
    data = capture.encode(capture.barcode_events("AB1") + capture.barcode_events("CD2"))
    out = io.BytesIO()
    seen: list[str] = []
    try:
        dev.send(capture.parse(data, capture.NATIVE_BITS))
        stats = capture.record(
            dev.fd, out, barcodes=2, decode=Decoder().feed, on_barcode=seen.append
        )
    finally:
        dev.close()
    assert out.getvalue() == data
    assert seen == ["AB1", "CD2"]
    assert (stats.barcodes, stats.ended) == (2, "barcodes")


def test_capture_record_ends_when_device_goes_away() -> None:
    """Unplugging the device ends a recording and keeps what was captured."""
    dev = PipeDevice()
    out = io.BytesIO()
    dev.send(capture.barcode_events("9"))
    dev.unplug()
    stats = capture.record(dev.fd, out)
    dev.close()
    assert stats.ended == "disconnected"
    assert capture.parse(out.getvalue())[1][1] > 0


def test_capture_record_stops_after_seconds() -> None:
    """A timed recording with a silent scanner ends by itself."""
    dev = PipeDevice()
    try:
        stats = capture.record(dev.fd, io.BytesIO(), seconds=0.0)
    finally:
        dev.close()
    assert (stats.events, stats.ended) == (0, "time")


@pytest.mark.parametrize("bits", [64, 32])
def test_replay_prints_one_barcode_per_line(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str], bits: int
) -> None:
    """`kiosk replay` turns a capture into the barcodes it holds, one per line."""
    f = tmp_path / "scan.bin"
    events = capture.barcode_events("LIB-001", t0=100.0) + capture.barcode_events("X9", t0=101.0)
    f.write_bytes(capture.encode(events, bits))
    assert cli(["replay", str(f)], config) == 0
    assert capsys.readouterr().out == "LIB-001\nX9\n"


def test_replay_json_details_and_unfinished_barcode(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json gives file, index, time and AIM id; a capture ending mid-code is flushed."""
    f = tmp_path / "scan.bin"
    events = capture.barcode_events("]C1ABC", t0=50.0)
    events += capture.key_events([(30, 1), (30, 0)], t0=60.0)  # "a" with no Enter
    f.write_bytes(capture.encode(events, 32))
    assert cli(["replay", "--json", str(f)], config) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["barcode"], d["aim"], d["index"]) for d in lines] == [
        ("ABC", "]C1", 1),
        ("a", "", 2),
    ]
    assert lines[0]["file"] == str(f)
    assert lines[0]["ts"] == pytest.approx(50.020)  # the Enter key press


def test_replay_bad_file_is_reported_and_others_still_decoded(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One broken capture gives an error message and exit 1, the good ones are still printed."""
    good = tmp_path / "good.bin"
    good.write_bytes(capture.encode(capture.barcode_events("OK1")))
    bad = tmp_path / "bad.bin"
    bad.write_bytes(os.urandom(7))
    assert cli(["replay", str(bad), str(good)], config) == 1
    out = capsys.readouterr()
    assert out.out == "OK1\n"
    assert "bad.bin" in out.err


def test_replay_layout_override(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--layout decodes a capture from a scanner set to another layout than the config's."""
    f = tmp_path / "de.bin"
    f.write_bytes(capture.encode(capture.barcode_events("zy", "de")))
    assert cli(["replay", "--layout", "de", str(f)], config) == 0
    assert capsys.readouterr().out == "zy\n"
    assert cli(["replay", str(f)], config) == 0
    assert capsys.readouterr().out == "yz\n"


def test_capture_record_through_a_thread_writer() -> None:
    """Bytes arriving in several writes while recording are all kept, in order."""
    dev = PipeDevice()
    chunks = [capture.barcode_events(str(i)) for i in range(5)]
    out = io.BytesIO()

    def writer() -> None:
        for chunk in chunks:
            dev.send(chunk)
        dev.unplug()

    t = threading.Thread(target=writer)
    t.start()
    stats = capture.record(dev.fd, out, decode=Decoder().feed)
    t.join()
    dev.close()
    assert stats.barcodes == 5
    assert out.getvalue() == b"".join(capture.encode(c) for c in chunks)
