#!/usr/bin/python3
"""USB HID "barcode scanners" made by the guest kernel's gadget stack.

dummy_hcd gives virtual USB host+device controller pairs (dummy_udc.N); a
configfs gadget with a HID function (usb_f_hid) and a boot-keyboard report
descriptor, bound to one of them, is enumerated by the same kernel as a USB
keyboard with the vendor:product id, name and serial given here. 8-byte
keyboard reports written to its /dev/hidgN are keystrokes.

    hid.py add N VID:PID "Product name" [SERIAL]   create gadget N (not plugged)
    hid.py plug N | unplug N                       bind / unbind its UDC
    hid.py type N TEXT [--delay-ms MS]             type TEXT; <enter> <kpenter> <tab>
                                                   <esc> are those keys, \\n is Enter
    hid.py stream N PREFIX COUNT [--delay-ms MS]   type PREFIX-0000<enter> ... fast,
                                                   printing each code once typed
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

CONFIGFS = Path("/sys/kernel/config/usb_gadget")

#: The standard boot keyboard report descriptor (HID 1.11, appendix B.1).
REPORT_DESC = bytes.fromhex(
    "05010906a101050719e029e71500250175019508810295017508810395057501"
    "05081901290591029501750391039506750815002565050719002965 8100c0".replace(" ", "")
)

_PLAIN = {
    **{chr(ord("a") + i): 4 + i for i in range(26)},
    **{str(d): 30 + (d - 1) for d in range(1, 10)},
    "0": 39,
    " ": 44,
    "-": 45,
    "=": 46,
    "[": 47,
    "]": 48,
    "\\": 49,
    ";": 51,
    "'": 52,
    "`": 53,
    ",": 54,
    ".": 55,
    "/": 56,
}
_SHIFTED = {
    **{chr(ord("A") + i): 4 + i for i in range(26)},
    **dict(zip("!@#$%^&*()", [*range(30, 39), 39], strict=True)),
    "_": 45,
    "+": 46,
    "{": 47,
    "}": 48,
    "|": 49,
    ":": 51,
    '"': 52,
    "~": 53,
    "<": 54,
    ">": 55,
    "?": 56,
}
_NAMED = {"enter": 40, "esc": 41, "tab": 43, "kpenter": 88}
LEFT_SHIFT = 0x02


def reports(text: str) -> list[bytes]:
    """Press and release reports for ``text`` (a US-layout keyboard)."""
    out: list[bytes] = []
    for tok in re.findall(r"<(?:enter|kpenter|tab|esc)>|\n|.", text, re.S):
        if tok == "\n":
            mod, key = 0, _NAMED["enter"]
        elif tok.startswith("<") and len(tok) > 1:
            mod, key = 0, _NAMED[tok[1:-1]]
        elif tok in _PLAIN:
            mod, key = 0, _PLAIN[tok]
        elif tok in _SHIFTED:
            mod, key = LEFT_SHIFT, _SHIFTED[tok]
        else:
            raise SystemExit(f"hid.py: cannot type {tok!r}")
        out.append(bytes([mod, 0, key, 0, 0, 0, 0, 0]))
        out.append(bytes(8))
    return out


def gadget(n: int) -> Path:
    return CONFIGFS / f"g{n}"


def hidg(n: int) -> str:
    dev = (gadget(n) / "functions/hid.usb0/dev").read_text().strip()
    major, minor = (int(x) for x in dev.split(":"))
    for name in sorted(os.listdir("/dev")):
        if name.startswith("hidg"):
            st = os.stat(f"/dev/{name}")
            if os.major(st.st_rdev) == major and os.minor(st.st_rdev) == minor:
                return f"/dev/{name}"
    raise SystemExit(f"hid.py: no /dev/hidg node for gadget {n}")


def add(n: int, usb_id: str, product: str, serial: str) -> None:
    vid, pid = (int(x, 16) for x in usb_id.split(":"))
    g = gadget(n)
    if g.exists():  # made earlier in this boot: plug it again
        return
    g.mkdir()
    (g / "idVendor").write_text(f"0x{vid:04x}")
    (g / "idProduct").write_text(f"0x{pid:04x}")
    (g / "bcdDevice").write_text("0x0100")
    (g / "bcdUSB").write_text("0x0200")
    s = g / "strings/0x409"
    s.mkdir()
    # The kernel names the device "manufacturer product".
    maker, _, model = product.partition(" ")
    (s / "manufacturer").write_text(maker)
    (s / "product").write_text(model or maker)
    (s / "serialnumber").write_text(serial)
    c = g / "configs/c.1"
    c.mkdir()
    (c / "MaxPower").write_text("100")
    f = g / "functions/hid.usb0"
    f.mkdir()
    (f / "protocol").write_text("1")
    (f / "subclass").write_text("1")
    (f / "report_length").write_text("8")
    (f / "report_desc").write_bytes(REPORT_DESC)
    (c / "hid.usb0").symlink_to(f)


def plug(n: int) -> None:
    udc = gadget(n) / "UDC"
    if udc.read_text().strip() != f"dummy_udc.{n}":
        udc.write_text(f"dummy_udc.{n}")


def unplug(n: int) -> None:
    (gadget(n) / "UDC").write_text("\n")


def write_reports(fd: int, reps: list[bytes], delay_s: float) -> None:
    for r in reps:
        os.write(fd, r)
        if delay_s:
            time.sleep(delay_s)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="hid.py")
    sub = p.add_subparsers(dest="verb", required=True)
    a = sub.add_parser("add")
    a.add_argument("n", type=int)
    a.add_argument("usb_id")
    a.add_argument("product")
    a.add_argument("serial", nargs="?", default="")
    for verb in ("plug", "unplug"):
        sub.add_parser(verb).add_argument("n", type=int)
    t = sub.add_parser("type")
    t.add_argument("n", type=int)
    t.add_argument("text")
    t.add_argument("--delay-ms", type=float, default=0.0)
    # Unplug in the same process, at once: under TCG a second process starts
    # slower than the decoder's 300 ms end-of-barcode timeout.
    t.add_argument("--unplug", action="store_true", help="unplug right after the last key")
    st = sub.add_parser("stream")
    st.add_argument("n", type=int)
    st.add_argument("prefix")
    st.add_argument("count", type=int)
    st.add_argument("--delay-ms", type=float, default=0.0)
    args = p.parse_args(argv)
    if args.verb == "add":
        add(args.n, args.usb_id, args.product, args.serial or f"LAB{args.n:04d}")
    elif args.verb == "plug":
        plug(args.n)
    elif args.verb == "unplug":
        unplug(args.n)
    elif args.verb == "type":
        fd = os.open(hidg(args.n), os.O_WRONLY)
        write_reports(fd, reports(args.text.replace("\\n", "\n")), args.delay_ms / 1000)
        if args.unplug:
            unplug(args.n)
        os.close(fd)
    elif args.verb == "stream":
        fd = os.open(hidg(args.n), os.O_WRONLY)
        for i in range(args.count):
            code = f"{args.prefix}-{i:04d}"
            write_reports(fd, reports(code + "\n"), args.delay_ms / 1000)
            print(code, flush=True)
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
