"""Which input devices are barcode scanners, and why the others are not.

``scanner.devices`` lists selectors, each one of:

* ``auto``: keyboard-capable devices whose name, ``/dev/input/by-id`` link or
  USB vendor says "barcode scanner" (never a plain keyboard);
* a path: ``/dev/input/by-id/usb-…-event-kbd`` or ``/dev/input/event3``
  (shell wildcards allowed), used as given;
* ``VVVV:PPPP`` (or ``usb:VVVV:PPPP``): USB vendor and product id in hex, as
  ``lsusb`` shows them;
* ``name:PATTERN``: a device-name pattern such as ``name:*Honeywell*``.

One physical scanner usually exposes several event nodes (keyboard, consumer
control, sometimes a mouse); for every selector but a path, only the node
with the keys a scanner types is used.

Unlike ``evdev.list_devices()``, which silently skips nodes this user may not
open (or may read but not write), every node is listed with the reason it
cannot be used, so a missing ``input`` group membership is reported.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import grp
import os
import pwd
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from kiosk.exc import (
    ScannerDisconnected,
    ScannerError,
    ScannerNotFound,
    ScannerPermissionError,
)
from kiosk.scanner import keymaps

INPUT_DIR = "/dev/input"

#: Words in a device name or by-id link that mark a barcode scanner.
SCANNER_NAME_RE = re.compile(
    r"bar ?code|scanner|scanning|\bscan|symbol|honeywell|metrologic|hand ?held|zebra|"
    r"datalogic|newland|opticon|cipherlab|\bkbw\b|\bpos\b",
    re.IGNORECASE,
)

#: USB vendor ids of companies that make (almost) only scanners and terminals.
SCANNER_VENDORS: dict[int, str] = {
    0x05E0: "Symbol/Zebra",
    0x0C2E: "Honeywell (Metrologic)",
    0x0536: "Hand Held Products (Honeywell)",
    0x05F9: "Datalogic",
    0x1EAB: "Newland",
    0x065A: "Opticon",
}

_LETTERS = frozenset(range(keymaps.KEY_Q, keymaps.KEY_Q + 10)) | frozenset(
    range(keymaps.KEY_A, keymaps.KEY_A + 9)
)
_NUMBER_ROW = frozenset(range(keymaps.KEY_1, keymaps.KEY_0 + 1))
_KEYPAD = frozenset(keymaps.KEYPAD_DIGITS)
_ENTER = frozenset({keymaps.KEY_ENTER, keymaps.KEY_KPENTER})

PERMISSION_FIX = (
    "add the user to the 'input' group (sudo usermod -aG input USER, then log in again; "
    "for the systemd service: SupplementaryGroups=input and DeviceAllow=char-input r)"
)


def device_error(e: OSError, path: str, action: str = "open") -> ScannerError:
    """The kiosk exception for an ``OSError`` on an input device, with the fix."""
    code = e.errno
    if code in (errno.EACCES, errno.EPERM):
        return ScannerPermissionError(f"no permission to {action} {path}: {PERMISSION_FIX}")
    if code in (errno.ENOENT, errno.ENXIO):
        return ScannerNotFound(
            f"input device {path} does not exist (unplugged?); `kiosk devices` lists what is there"
        )
    if code in (errno.ENODEV, errno.EIO):
        return ScannerDisconnected(f"input device {path} disconnected")
    if code == errno.EBUSY:
        return ScannerError(
            f"cannot {action} {path}: another program has grabbed it (is a second kiosk running?)"
        )
    if code in (errno.ENOTTY, errno.EINVAL):
        return ScannerError(f"{path} is not an input event device")
    return ScannerError(f"cannot {action} input device {path}: {e.strerror or e}")


@dataclass(frozen=True)
class Node:
    """One ``/dev/input/event*`` node and what is known about it."""

    path: str
    links: tuple[str, ...] = ()
    name: str = ""
    phys: str = ""
    vendor: int = 0
    product: int = 0
    keys: frozenset[int] = frozenset()
    readable: bool = True
    writable: bool = True
    error: str = ""  # why it could not be inspected
    error_kind: str = ""  # "permission", "gone" or "other"
    use: bool = False
    reason: str = ""
    label: str = ""  # scanner name shown with each barcode

    @property
    def usb_id(self) -> str:
        return f"{self.vendor:04x}:{self.product:04x}"

    @property
    def keyboard(self) -> bool:
        """Can type a barcode: letters, digits and Enter."""
        k = self.keys
        return k >= _LETTERS and (k >= _NUMBER_ROW or k >= _KEYPAD) and bool(_ENTER & k)

    @property
    def key_score(self) -> int:
        return len(self.keys & (_LETTERS | _NUMBER_ROW | _KEYPAD | _ENTER))

    @property
    def physical(self) -> str:
        """The physical device (USB port) this node belongs to: phys minus ``/inputN``."""
        return self.phys.rsplit("/input", 1)[0] if self.phys else self.path

    @property
    def number(self) -> int:
        digits = re.sub(r"\D", "", os.path.basename(self.path))
        return int(digits) if digits else 1 << 30

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "links": list(self.links),
            "name": self.name,
            "phys": self.phys,
            "usb_id": self.usb_id,
            "keyboard": self.keyboard,
            "readable": self.readable,
            "writable": self.writable,
            "error": self.error,
            "use": self.use,
            "reason": self.reason,
            "label": self.label,
        }


# -- selectors ---------------------------------------------------------------------
@dataclass(frozen=True)
class Selector:
    kind: str  # "auto", "path", "id", "name"
    text: str
    vendor: int = 0
    product: int = 0

    def describe(self) -> str:
        return "auto" if self.kind == "auto" else f"{self.kind} {self.text!r}"


_ID_RE = re.compile(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")


def parse_selector(text: str) -> Selector:
    """One ``scanner.devices`` entry as a selector; :class:`ValueError` if it is none."""
    m = _ID_RE.match(text.removeprefix("usb:"))
    if text == "auto":
        return Selector("auto", text)
    if text.startswith("/"):
        return Selector("path", text)
    if m:
        return Selector("id", text, int(m[1], 16), int(m[2], 16))
    if text.startswith("name:") and text[5:]:
        return Selector("name", text[5:])
    raise ValueError(
        f"{text!r} is not a scanner selector; use "
        "'auto', a /dev/input path, a USB id like '0c2e:0b61' or 'name:*pattern*'"
    )


def parse_selectors(devices: Iterable[str]) -> list[Selector]:
    """Every entry as a selector; :class:`ValueError` for the first that is none."""
    return [parse_selector(text) for text in devices]


def matches(sel: Selector, node: Node) -> bool:
    """Whether ``node`` is the device ``sel`` asks for (before the keyboard test)."""
    if sel.kind == "auto":
        return looks_like_scanner(node) != ""
    if sel.kind == "id":
        return (node.vendor, node.product) == (sel.vendor, sel.product)
    if sel.kind == "name":
        return fnmatch.fnmatch(node.name.lower(), sel.text.lower())
    paths = (node.path, *node.links)
    if glob.has_magic(sel.text):
        return any(fnmatch.fnmatchcase(p, sel.text) for p in paths)
    return sel.text in paths or os.path.realpath(sel.text) == node.path


def looks_like_scanner(node: Node) -> str:
    """Why ``node`` passes for a scanner under ``auto`` ("" if it does not)."""
    for text in (node.name, *(os.path.basename(link) for link in node.links)):
        m = SCANNER_NAME_RE.search(text)
        if m:
            return f"auto: {text!r} says {m[0].lower()!r}"
    if node.vendor in SCANNER_VENDORS:
        return f"auto: USB vendor {node.vendor:04x} is {SCANNER_VENDORS[node.vendor]}"
    return ""


def classify(nodes: Iterable[Node], selectors: list[Selector]) -> list[Node]:
    """Decide for each node whether it is read as a scanner, with the reason.

    Pure: works on :class:`Node` data only, so it is tested without devices.
    """
    result: dict[str, Node] = {}
    picked: dict[str, list[Node]] = {}  # physical device -> candidate nodes
    for node in nodes:
        if node.error:
            result[node.path] = replace(node, use=False, reason=node.error)
            continue
        sel = next((s for s in selectors if matches(s, node)), None)
        if sel is None:
            why = (
                "keyboard, not recognised as a scanner (add it to scanner.devices to use it)"
                if node.keyboard
                else "not a keyboard (cannot type a barcode)"
            )
            result[node.path] = replace(node, use=False, reason=why)
        elif sel.kind == "path":
            note = "" if node.keyboard else " (warning: it has no letter/digit keys)"
            result[node.path] = replace(node, use=True, reason=f"configured path {sel.text}{note}")
        elif not node.keyboard:
            result[node.path] = replace(
                node,
                use=False,
                reason=f"matches {sel.describe()} but has no letter/digit keys "
                "(another interface of the same device)",
            )
        else:
            reason = looks_like_scanner(node) if sel.kind == "auto" else f"matches {sel.describe()}"
            result[node.path] = replace(node, use=True, reason=reason)
            picked.setdefault(node.physical, []).append(result[node.path])
    # One physical scanner, one reader: keep the node with the most scanner keys.
    for group in picked.values():
        best = max(group, key=lambda n: (n.key_score, -n.number))
        for n in group:
            if n is not best:
                result[n.path] = replace(
                    n, use=False, reason=f"same device as {best.path}, which is used instead"
                )
    used = [n for n in result.values() if n.use]
    names = [n.name for n in used]
    for n in used:
        label = n.name or os.path.basename(n.path)
        if names.count(n.name) > 1:
            label = f"{label} @ {n.physical}"
        result[n.path] = replace(n, label=label)
    return sorted(result.values(), key=lambda n: n.number)


# -- probing real nodes ------------------------------------------------------------------
def _links(input_dir: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sub in ("by-id", "by-path"):
        for link in sorted(glob.glob(os.path.join(input_dir, sub, "*"))):
            out.setdefault(os.path.realpath(link), []).append(link)
    return out


def probe(path: str, links: tuple[str, ...] = ()) -> Node:
    """Open ``path`` briefly and read its identity and keys (errors become ``Node.error``)."""
    import evdev  # noqa: PLC0415  (Linux only; classification works without it)

    readable = os.access(path, os.R_OK)
    writable = os.access(path, os.W_OK)
    base = Node(path=path, links=links, readable=readable, writable=writable)
    try:
        dev = evdev.InputDevice(path)
    except OSError as e:
        err = device_error(e, path)
        kind = (
            "permission"
            if isinstance(err, ScannerPermissionError)
            else "gone"
            if isinstance(err, ScannerNotFound | ScannerDisconnected)
            else "other"
        )
        return replace(base, error=str(err), error_kind=kind)
    try:
        caps = dev.capabilities(absinfo=False)
        return replace(
            base,
            name=dev.name,
            phys=dev.phys or "",
            vendor=dev.info.vendor,
            product=dev.info.product,
            keys=frozenset(caps.get(keymaps.EV_KEY, ())),
        )
    finally:
        dev.close()


def list_nodes(input_dir: str = INPUT_DIR) -> list[Node]:
    """Every event node under ``input_dir``, probed (unreadable ones included)."""
    links = _links(input_dir)
    paths = sorted(glob.glob(os.path.join(input_dir, "event*")))
    return [probe(p, tuple(links.get(os.path.realpath(p), ()))) for p in paths]


def discover(selectors: list[Selector], input_dir: str = INPUT_DIR) -> list[Node]:
    """All nodes, classified against ``selectors``."""
    return classify(list_nodes(input_dir), selectors)


# -- diagnosis ---------------------------------------------------------------------------
@dataclass
class Diagnosis:
    """Why no scanner may be found, in sentences for the person at the cart."""

    messages: list[str] = field(default_factory=list)
    permission: bool = False


def diagnose(nodes: list[Node], input_dir: str = INPUT_DIR, user: str | None = None) -> Diagnosis:
    """Explain missing access: no input directory, or nodes this user may not open.

    ``user`` is the account name checked against group membership (default:
    the one this process runs as).
    """
    d = Diagnosis()
    if not Path(input_dir).is_dir():
        d.messages.append(
            f"{input_dir} does not exist: no input devices are visible here "
            "(in a container, or under systemd with PrivateDevices=yes, they are hidden)"
        )
        return d
    if not nodes:
        d.messages.append(f"no event devices in {input_dir}: plug in the scanner")
    denied = [n for n in nodes if n.error_kind == "permission"]
    if denied:
        d.permission = True
        group = _group_of(denied[0].path)
        member = group is not None and _listed_not_active(group, user)
        paths = ", ".join(n.path for n in denied[:4]) + (" …" if len(denied) > 4 else "")
        if member:
            d.messages.append(
                f"cannot open {paths}: this user is in group '{group}' but this session "
                "started before that; log out and in again (or reboot)"
            )
        else:
            d.messages.append(f"cannot open {paths}: {PERMISSION_FIX}")
    readonly = [n for n in nodes if not n.error and n.readable and not n.writable]
    if readonly:
        d.messages.append(
            f"{len(readonly)} device(s) are readable but not writable: enough to read and grab "
            "a scanner (evdev.list_devices() would hide them)"
        )
    return d


def _group_of(path: str) -> str | None:
    try:
        return grp.getgrgid(os.stat(path).st_gid).gr_name
    except (OSError, KeyError):
        return None


def _listed_not_active(name: str, user: str | None = None) -> bool:
    """``user`` is a member of group ``name`` in /etc/group, but not in this session."""
    try:
        entry = grp.getgrnam(name)
    except KeyError:
        return False
    if user is None:
        user = current_user()
    return user in entry.gr_mem and entry.gr_gid not in os.getgroups()


def current_user() -> str:
    """The name of the account this process runs as ("" if it has none)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return ""
