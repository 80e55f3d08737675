"""A short loopback load test (issue 8, item 6): 8 simulated students moving sliders for 5 s
against the real server setup of ``musclesim serve`` (waitress, 8 threads) in a child process.

The full run (30 clients, 60 s) is ``python benchmarks/load_test.py``; its figures are in
SECURITY.md. Here: no errors (every request answered 200/204, no update refused or cut short)
and no runaway memory. Latency is printed, not asserted (CI machines are noisy).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("dash")
pytest.importorskip("waitress")
pytest.importorskip("requests")

ROOT = Path(__file__).resolve().parents[1]


def _load_test_module():
    """benchmarks/load_test.py (its simulated browser tab builds real callback requests)."""
    from _bench import load_benchmark

    return load_benchmark("load_test")


def test_short_load_has_no_errors_and_stable_memory(capsys):
    lt = _load_test_module()
    r = lt.run(clients=8, duration=5.0, think=0.25, seed=1, quiet=True)
    with capsys.disabled():
        print()
        lt._print(r)
    assert r["errors"] == 0, r["error_kinds"]
    assert r["slider_changes"] >= 40, r  # each of 8 clients made several changes
    assert r["requests"] >= 4 * 30
    rss = r["rss_mb"]
    # the solve caches are bounded (128 results each); allow them to fill, nothing more
    assert rss["end"] - rss["after_page_loads"] < 120, rss
