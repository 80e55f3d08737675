"""A short loopback load test: 5 simulated students moving sliders for 3 s against the real
server setup of ``musclesim serve`` (gunicorn, 2 worker processes) in a child process.

The full runs (30 and 60 clients, 60 s each) are ``python benchmarks/load_test.py --clients N``;
their figures are in the README and SECURITY.md. Here: no errors (every request answered
200/204, no update refused or cut short), one server round trip per slider change, both
workers forked warm, and no runaway memory. Latency is printed, not asserted (CI machines are
noisy).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("dash")
pytest.importorskip("gunicorn")
pytest.importorskip("requests")

ROOT = Path(__file__).resolve().parents[1]


def _load_test_module():
    """benchmarks/load_test.py (its simulated browser tab builds real callback requests)."""
    from _bench import load_benchmark

    return load_benchmark("load_test")


def test_short_load_has_no_errors_and_one_round_trip_per_change(capsys):
    lt = _load_test_module()
    r = lt.run(clients=5, duration=3.0, think=0.25, seed=1, quiet=True, workers=2)
    with capsys.disabled():
        print()
        lt._print(r)
    assert r["errors"] == 0, r["error_kinds"]
    assert "gunicorn, 2 workers" in r["server"]
    assert r["slider_changes"] >= 15, r  # each of 5 clients made several changes
    assert r["requests_per_change"] == 1.0, r  # state and views in one callback
    assert set(r["change_ms"]) == {"p50", "p95", "p99", "max"}
    rss = r["rss_mb"]
    # the solve caches are bounded (128 results each, per worker); allow them to fill, nothing more
    assert rss["end"] - rss["after_page_loads"] < 240, rss
