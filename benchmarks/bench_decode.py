"""Decoder throughput, and latency from the terminator key to the barcode and to the verdict.

Two latencies through the real EvdevSource reading a pipe: to the sink
(decoding only), and to the verdict's JSON line, which the daemon prints only
after the scan is fsynced in the store (the whole hot path, feedback included).

Usage: python benchmarks/bench_decode.py [--barcodes N] [--latency-samples M]
Prints one JSON object on standard output; exit status 1 if the decoder
handles fewer than 200,000 events per second.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.app import build_cart
from kiosk.config import Config, Scanner
from kiosk.models import Barcode, Item
from kiosk.scanner import capture, keymaps
from kiosk.scanner.decode import Decoder
from kiosk.scanner.discovery import Node
from kiosk.scanner.evdev import EvdevSource, PipeDevice
from kiosk.store import Store

TARGET_EVENTS_PER_S = 200_000


def codes(n: int) -> list[str]:
    return [f"LIB{i:09d}" if i % 2 else f"B-{i:07d}x" for i in range(n)]


def bench_decoder(n_barcodes: int, repeats: int, keys_only: bool) -> dict[str, float | int]:
    """Feed a realistic stream (MSC_SCAN, EV_KEY, SYN per stroke) or its EV_KEY events only."""
    events: list[capture.Event] = []
    for i, text in enumerate(codes(n_barcodes)):
        events += capture.barcode_events(text, t0=float(i))
    if keys_only:
        events = [e for e in events if e[0] == keymaps.EV_KEY]
    best = float("inf")
    found = 0
    for _ in range(repeats):
        dec = Decoder()
        feed = dec.feed
        t0 = time.perf_counter()
        found = 0
        for type_, code, value, ts in events:
            if feed(type_, code, value, ts) is not None:
                found += 1
        best = min(best, time.perf_counter() - t0)
    assert found == n_barcodes, (found, n_barcodes)
    return {
        "events": len(events),
        "barcodes": found,
        "best_seconds": round(best, 6),
        "events_per_s": round(len(events) / best),
        "repeats": repeats,
    }


class TimingSink:
    def __init__(self) -> None:
        self.delivered = threading.Event()
        self.at = 0.0
        self.last: Barcode | None = None

    def barcode(self, barcode: Barcode) -> None:
        self.at = time.perf_counter()
        self.last = barcode
        self.delivered.set()

    def problem(self, message: str) -> None:
        print(f"problem: {message}", file=sys.stderr)

    def finished(self, source: str) -> None:
        pass

    def scanners(self, count: int) -> None:
        pass


class TimingOut(io.StringIO):
    """The daemon's --json stream: notes when each verdict line is written."""

    def __init__(self) -> None:
        super().__init__()
        self.delivered = threading.Event()
        self.at = 0.0

    def write(self, s: str) -> int:
        self.at = time.perf_counter()
        self.delivered.set()
        return super().write(s)


def _source(dev: PipeDevice) -> EvdevSource:
    node = Node(path="/dev/input/event99", name="bench scanner", use=True, label="bench")
    return EvdevSource(Scanner(), discover=lambda: [node], open_device=lambda _n: dev, watch=None)


def _type(
    dev: PipeDevice, texts: list[str], done: threading.Event, at: Callable[[], float]
) -> list[float]:
    layout = keymaps.LAYOUTS["us"]
    lat: list[float] = []
    for text in texts:
        dev.send(capture.key_events(layout.keystrokes(text), t0=time.time()))
        done.clear()
        t0 = time.perf_counter()
        dev.send(capture.key_events([(keymaps.KEY_ENTER, 1)], t0=time.time()))
        if not done.wait(5.0):
            raise RuntimeError(f"barcode {text!r} never arrived")
        lat.append(at() - t0)
        dev.send(capture.key_events([(keymaps.KEY_ENTER, 0)], t0=time.time()))
    return lat


def bench_latency(samples: int) -> dict[str, float | int]:
    dev = PipeDevice("bench scanner")
    src = _source(dev)
    sink = TimingSink()
    src.start(sink)
    try:
        lat = _type(dev, codes(samples), sink.delivered, lambda: sink.at)
    finally:
        src.stop()
    return _quantiles(lat)


def bench_verdict_latency(samples: int) -> dict[str, float | int]:
    """Enter key-down to the verdict line, through decoder, engine, fsynced store, feedback."""
    texts = codes(samples)
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp)) as store:
        items = [Item(t, f"{i:03d}.{i} BEN b", location="Rak Umum") for i, t in enumerate(texts)]
        store.replace_catalog(items, source="bench")
        cfg = Config()
        dev = PipeDevice("bench scanner")
        out = TimingOut()
        daemon = build_cart(cfg, store, simulate=True, sources=[_source(dev)], out=out)
        loop = threading.Thread(target=daemon.run)
        loop.start()
        try:
            lat = _type(dev, texts, out.delivered, lambda: out.at)
        finally:
            daemon.stop()
            loop.join()
        stored = sum(store.counts().values())
    if stored != samples:
        raise RuntimeError(f"{stored} scans stored, {samples} typed")
    return _quantiles(lat)


def _quantiles(lat: list[float]) -> dict[str, float | int]:
    lat.sort()
    q = statistics.quantiles(lat, n=100, method="inclusive")
    return {
        "samples": len(lat),
        "p50_us": round(q[49] * 1e6, 1),
        "p99_us": round(q[98] * 1e6, 1),
        "max_us": round(lat[-1] * 1e6, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--barcodes", type=int, default=5000, help="barcodes in the decoder run")
    ap.add_argument("--repeats", type=int, default=5, help="decoder runs (best is reported)")
    ap.add_argument("--latency-samples", type=int, default=1000)
    args = ap.parse_args()
    decoder = bench_decoder(args.barcodes, args.repeats, keys_only=False)
    keys = bench_decoder(args.barcodes, args.repeats, keys_only=True)
    latency = bench_latency(args.latency_samples)
    verdict = bench_verdict_latency(args.latency_samples)
    ok = min(int(decoder["events_per_s"]), int(keys["events_per_s"])) >= TARGET_EVENTS_PER_S
    result = {
        "benchmark": "decode",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "decoder": decoder,
        "decoder_key_events_only": keys,
        "target_events_per_s": TARGET_EVENTS_PER_S,
        "meets_target": ok,
        "terminator_to_sink_latency": latency,
        "latency_path": "pipe write of Enter key-down -> EventIO.read -> Decoder -> Sink.barcode",
        "terminator_to_verdict_latency": verdict,
        "verdict_path": "Enter key-down -> decoder -> engine -> store (fsync) -> JSON line",
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
