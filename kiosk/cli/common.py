"""Helpers shared by the verb modules."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kiosk import config
from kiosk.config import Config


def load_config(args: argparse.Namespace) -> Config:
    return config.load(args.config, state_dir=args.state_dir)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()
