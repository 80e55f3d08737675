"""Load a script from benchmarks/ as a module (tests reuse the benchmarks' code, e.g. the load test's
simulated browser tab)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_benchmark(stem: str):
    """``benchmarks/<stem>.py`` imported once as module ``musclesim_bench_<stem>``."""
    name = f"musclesim_bench_{stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{stem}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]
