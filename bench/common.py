"""What every part of the bench shares: the project root, the one host it talks to, its log."""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the bench talks to nothing else


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
