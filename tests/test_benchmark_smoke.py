"""A quick benchmark smoke: fails only on a gross slowdown, judged against an in-run reference.

Machines are noisy, so nothing here compares with an absolute time: the compiled path is timed
against the numpy reference path in the same run, on the same scenarios.
"""

from __future__ import annotations

import pytest

import musclesim as ms



def test_compiled_path_stays_much_faster_than_the_reference():
    from _bench import load_benchmark

    side_by_side = load_benchmark("bench_core").side_by_side

    model = ms.load_model()
    side_by_side(model, 2)  # warm up (compilation is cached on disk, loading it is not free)
    r = side_by_side(model, 6)
    assert r["both_ok"] >= 5
    assert r["max_angle_difference_rad"] < 1e-8
    # measured about 20-40x on a quiet 2-core machine; fail only below 3x
    assert r["speedup"] > 3.0, r
