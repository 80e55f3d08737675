"""Where the example scripts write: the first command-line argument, else $MUSCLESIM_OUT, else ./out."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def output_dir() -> Path:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MUSCLESIM_OUT", "out"))
    out.mkdir(parents=True, exist_ok=True)
    return out
