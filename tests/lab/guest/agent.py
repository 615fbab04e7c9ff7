#!/usr/bin/python3
"""Guest side of the lab's control channel (stdlib only; runs as root in the VM).

Reads one JSON request per line from the virtio port ``lab.ctl`` and answers
each with one JSON line carrying the same ``id``:

- ``{"op": "run", "cmd": "...", "timeout": S, "stdin": B64}`` runs ``cmd`` with
  ``/bin/sh -c`` and answers ``{"rc": N, "out": B64, "err": B64}``;
- ``{"op": "put", "path": "...", "data": B64, "mode": N}`` writes a file;
- ``{"op": "ping"}`` answers ``{"ok": true}`` (the host's "is it up" probe).

There is no network in the guest: this port is the only way in.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time

PORT = "/dev/virtio-ports/lab.ctl"


def handle(req: dict[str, object]) -> dict[str, object]:
    op = req.get("op")
    if op == "ping":
        return {"ok": True, "boot_id": open("/proc/sys/kernel/random/boot_id").read().strip()}
    if op == "put":
        path = str(req["path"])
        os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
        tmp = path + ".lab-tmp"
        with open(tmp, "wb") as f:
            f.write(base64.b64decode(str(req["data"])))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, int(str(req.get("mode", 0o644))))
        os.replace(tmp, path)
        return {"rc": 0, "out": "", "err": ""}
    if op == "run":
        stdin = base64.b64decode(str(req.get("stdin", "")))
        timeout = float(str(req.get("timeout", 600)))
        try:
            p = subprocess.run(
                ["/bin/sh", "-c", str(req["cmd"])],
                input=stdin,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = 124, e.stdout or b"", (e.stderr or b"") + b"\nlab-agent: timed out\n"
        return {
            "rc": rc,
            "out": base64.b64encode(out).decode(),
            "err": base64.b64encode(err).decode(),
        }
    return {"rc": 127, "out": "", "err": base64.b64encode(b"unknown op").decode()}


def main() -> None:
    while not os.path.exists(PORT):
        time.sleep(0.2)
    fd = os.open(PORT, os.O_RDWR)
    lock = threading.Lock()
    buf = b""

    def answer(req: dict[str, object]) -> None:
        try:
            resp = handle(req)
        except Exception as e:  # an answer, whatever happened
            resp = {"rc": 125, "out": "", "err": base64.b64encode(repr(e).encode()).decode()}
        resp["id"] = req.get("id")
        data = json.dumps(resp).encode() + b"\n"
        with lock:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]

    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            # Host side not connected: the port reads EOF until it is.
            time.sleep(0.1)
            continue
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                req = json.loads(line)
            except ValueError:
                continue
            # Each request on a thread: a long "run" never blocks a ping.
            threading.Thread(target=answer, args=(req,), daemon=True).start()


if __name__ == "__main__":
    main()
