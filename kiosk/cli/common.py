"""Helpers shared by the verb modules."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kiosk import config
from kiosk.config import Config
from kiosk.text import json_line


def load_config(args: argparse.Namespace) -> Config:
    return config.load(args.config, state_dir=args.state_dir)


def print_json(obj: Any) -> None:
    sys.stdout.write(json_line(obj) + "\n")
    sys.stdout.flush()
