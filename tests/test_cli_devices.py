"""``kiosk devices``: listing input devices with reasons, and recording captures."""

from __future__ import annotations

import argparse
import json
import os
import threading
from pathlib import Path

import pytest

from kiosk.cli import devices
from kiosk.exc import ScannerError, ScannerNotFound
from kiosk.scanner import capture


def cli(argv: list[str], config: Path) -> int:
    parser = argparse.ArgumentParser(prog="kiosk")
    parser.add_argument("--config")
    parser.add_argument("--state-dir")
    sub = parser.add_subparsers(dest="verb", required=True)
    devices.register(sub)
    args = parser.parse_args(["--config", str(config), *argv])
    return int(args.func(args))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text('[scanner]\ndevices = ["auto"]\n')
    return path


def test_devices_lists_nodes_with_reason_and_fails_without_scanner(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every node is listed with why it is not used, and the exit status says no scanner."""
    inputs = tmp_path / "input"
    inputs.mkdir()
    os.mkfifo(inputs / "event0")
    assert cli(["devices", "--json", "--input-dir", str(inputs)], config) == 1
    report = json.loads(capsys.readouterr().out)
    (dev,) = report["devices"]
    assert dev["path"] == str(inputs / "event0")
    assert not dev["use"]
    assert "not an input event device" in dev["reason"]
    assert report["scanners"] == []
    assert report["selectors"] == ["auto"]


def test_devices_missing_input_dir_is_explained(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a machine or service without /dev/input the listing says so instead of showing nothing."""
    assert cli(["devices", "--input-dir", str(tmp_path / "none")], config) == 1
    out = capsys.readouterr().out
    assert "no scanner would be read" in out
    assert "does not exist" in out
    assert "PrivateDevices" in out


def test_devices_record_fifo_to_capture_file(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--record saves the device's raw bytes until the requested number of barcodes is seen."""
    fifo = tmp_path / "event9"
    os.mkfifo(fifo)
    data = capture.encode(capture.barcode_events("REC-1") + capture.barcode_events("REC-2"))

    def scanner() -> None:
        with open(fifo, "wb") as f:  # blocks until the recorder opens the other end
            f.write(data)

    t = threading.Thread(target=scanner)
    t.start()
    out = tmp_path / "cap.bin"
    argv = ["devices", "--record", str(fifo), "--out", str(out), "--no-grab", "--barcodes", "2"]
    assert cli(argv, config) == 0
    t.join()
    assert out.read_bytes() == data
    err = capsys.readouterr().err
    assert "REC-1\nREC-2\n" in err
    assert "2 barcodes" in err


def test_devices_record_missing_device_and_missing_out(tmp_path: Path, config: Path) -> None:
    """Recording from a device that is not there, or without --out, is a clear error."""
    with pytest.raises(ScannerNotFound, match="does not exist"):
        cli(["devices", "--record", str(tmp_path / "nope"), "--out", str(tmp_path / "c")], config)
    with pytest.raises(ScannerError, match="--out"):
        cli(["devices", "--record", "/dev/input/event0"], config)
