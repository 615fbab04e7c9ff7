"""Helpers shared by the verb modules."""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path
from typing import Any

from kiosk import config
from kiosk.config import Config
from kiosk.exc import OutputError
from kiosk.text import json_line, printable


def load_config(args: argparse.Namespace) -> Config:
    return config.load(args.config, state_dir=args.state_dir)


def print_json(obj: Any) -> None:
    sys.stdout.write(json_line(obj) + "\n")
    sys.stdout.flush()


def cannot_write(what: str, path: Path, err: OSError, *, folder: bool = False) -> OutputError:
    """The one line for ``--out`` that cannot be written: which path, why, and the fix."""
    shown = printable(str(path))
    if not folder and path.is_dir():
        reason = "it is a folder; name a file in it"
    elif folder and path.exists() and not path.is_dir():
        reason = "it is a file, not a folder; name a folder (it is created if missing)"
    elif isinstance(err, (FileNotFoundError, NotADirectoryError)) and not path.parent.is_dir():
        parent = printable(str(path.parent))
        if path.parent.exists():
            reason = f"{parent} is a file, not a folder"
        else:
            reason = f"folder {parent} does not exist; create it first"
    elif isinstance(err, PermissionError) or err.errno == errno.EROFS:
        reason = "this user may not write there; choose another place"
    elif err.errno == errno.ENOSPC:
        reason = "the disk is full"
    else:
        reason = err.strerror or str(err)
    return OutputError(f"cannot write {what} to {shown}: {reason}")
