"""Property tests of the solve (hypothesis): for any tone and tightness in range, ``simulate``

* converges (``ok``, residual < 1e-6 N·m, every measure finite) or says it did not (``ok`` False,
  every measure NaN, a message) -- never an exception, never NaN with ``ok`` True;
* gives identical sagittal measures for mirrored inputs (left and right swapped), to the solver's
  tolerance;
* is deterministic (the same input twice gives the same numbers, bit for bit), and
  ``simulate_many`` agrees with it;
* moves the measures by a small amount for a tiny tone change (1e-4), away from the documented
  instabilities below.

The runs are derandomized (fixed seeds), so CI sees the same examples every time; a failure
prints the exact input.

Lipschitz-like bounds (measured, then given a margin of about 1.5-2x): over 2,500 random pairs of
solves 1e-4 apart (one or three names, tones 0.05-0.4), the largest change per unit of tone was
about 350 deg (angles), 1,600 mm, 12,000 N and 4,000 N·m. The bounds below are per unit of tone.

Documented instabilities (where the bound does not hold, by the physics or by a known bug):

* tone near 0: a muscle's short-range stiffness vanishes with its activation, so the posture
  runs steeply there. ``hip_extensors`` < 0.01 moves pelvic tilt about 1,500 deg per unit of tone
  (30 deg at 0.002 down to 21.6 deg at 0.01, with a kink where the hip reaches its extension
  limit); ``vasti_right`` 0 -> 0.0001 (with erector_spinae_left 0.25, gastrocnemius_left 0.17,
  four others at 0) moves the sagittal vertical axis by 0.38 mm (3,800 mm per unit). Continuous,
  but steep: the property uses tones >= :data:`SMOOTH_LOW` (0.05).
* near the loss of standing (a fold of the equilibrium path) the slope grows without bound
  (``hip_extensors`` 0.3223 -> 0.3222 moves knee flexion by 0.07 deg; standing is lost at 0.3225):
  the property is checked only where the body still stands :data:`MARGIN` (1e-3) of tone further
  on either side.
* **branch jumps** (a bug found by these tests, fixed in the continuation): with several muscles
  changed, a 1e-4 change made the continuation land on another equilibrium; :data:`BRANCH_JUMP`
  stays as an explicit example.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import musclesim as ms
from musclesim.errors import SolverError
from musclesim.tone import MAX_TIGHTNESS_DEG

RESIDUAL_TOL_NM = 1e-6
STEP = 1e-4
#: Largest change of a measure per unit of tone, by unit (see the module docstring).
LIPSCHITZ = {"deg": 600.0, "mm": 3000.0, "N": 25000.0, "N·m": 8000.0, "mmHg": 2500.0}
#: The smallest tone used for the smoothness property (below it the posture is steep; see above).
SMOOTH_LOW = 0.05
#: The smoothness property is checked only where the body still stands this much tone further
#: on either side (1e-3): the slope grows like 1/sqrt(distance) toward a loss of standing.
MARGIN = 1e-3
#: Mirrored inputs agree to the solver's tolerance (residual < 1e-6 N·m), not bit for bit: the
#: left and right sums run in a different order. Allowed difference by unit.
MIRROR_TOL = {"deg": 1e-5, "mm": 1e-4, "N": 1e-3, "N·m": 1e-3, "mmHg": 1e-4}
#: A tiny change of erector_spinae_left (0.0396 -> 0.0397) with these five tones moved pelvic tilt
#: from 10.04 to 7.65 deg and knee flexion from 2.65 to 6.66 deg, both solves ok (before the
#: continuation rejected steps that jump branch).
BRANCH_JUMP = ({"gastrocnemius_left": 0.14, "external_oblique_right": 0.22, "quadratus_lumborum_left": 0.25,
                "hamstrings_left": 0.29, "gluteus_medius_right": 0.39, "erector_spinae_left": 0.0396},
               "erector_spinae_left", 0.0397)

#: ``MUSCLESIM_EXPLORE=10`` runs ten times the examples with fresh random seeds (to hunt for new
#: failures); the default is the fixed, derandomized CI run.
EXPLORE = float(os.environ.get("MUSCLESIM_EXPLORE", "0") or 0)
SETTINGS = dict(deadline=None, derandomize=not EXPLORE, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def n(examples: int) -> int:
    return int(examples * EXPLORE) if EXPLORE else examples


@lru_cache(maxsize=1)
def model():
    return ms.load_model()


IDS = model().muscle_ids
NAMES = sorted(model().names())
BILATERAL = sorted({i.rsplit("_", 1)[0] for i in IDS if i.endswith(("_left", "_right"))})


def tones(lo: float, hi: float, names=IDS, max_size: int = 6):
    return st.dictionaries(st.sampled_from(names), st.floats(lo, hi, allow_nan=False), min_size=1, max_size=max_size)


tightness = st.dictionaries(st.sampled_from(BILATERAL + [i for i in IDS if i.endswith(("_left", "_right"))]),
                            st.floats(0.0, MAX_TIGHTNESS_DEG), max_size=3)


def solve(tone, tight=None, coupling=True):
    try:
        return ms.simulate(model(), tone, tightness=tight or None, coupling=coupling, frames=False)
    except SolverError as exc:  # documented; not expected, but not a crash either
        pytest.skip(f"SolverError: {exc}")


def check_honest(res) -> None:
    values = list(res.metrics.values())
    if res.ok:
        assert res.converged and res.stable
        assert res.residual_Nm < RESIDUAL_TOL_NM, res.residual_Nm
        assert all(math.isfinite(v) for v in values), res.metrics
    else:
        assert all(math.isnan(v) for v in values), res.metrics
        assert res.message and res.message != "converged to a stable posture", res.message


def mirror(name: str) -> str:
    if name.endswith("_left"):
        return name[:-5] + "_right"
    if name.endswith("_right"):
        return name[:-6] + "_left"
    return name


# ------------------------------------------------------------------------------ converges or says so
@settings(max_examples=n(400), **SETTINGS)
@given(tones(0.0, 1.0, NAMES), tightness)
def test_full_range_converges_or_reports_it(tone, tight):
    check_honest(solve(tone, tight))


@settings(max_examples=n(300), **SETTINGS)
@given(tones(0.0, 0.4), st.booleans())
def test_moderate_range_converges_or_reports_it(tone, coupling):
    check_honest(solve(tone, coupling=coupling))


def test_some_moderate_tones_stand_and_some_strong_ones_do_not():
    """The property above is not vacuous: both outcomes occur."""
    assert solve({"psoas_major": 0.3}).ok
    assert not solve({"calves": 0.5}).ok


# ------------------------------------------------------------------------------ mirror symmetry
@settings(max_examples=n(300), **SETTINGS)
@given(tones(0.0, 0.6), tightness)
def test_mirrored_inputs_give_mirrored_measures(tone, tight):
    """Sagittal measures are equal, one-sided ones swap sides, left-right ones change sign."""
    a = solve(tone, tight)
    b = solve({mirror(k): v for k, v in tone.items()}, {mirror(k): v for k, v in tight.items()})
    assert a.ok == b.ok, (a.message, b.message)
    if a.ok:
        for k in a.metrics:
            # equal to the solvers' tolerance (1e-6 N·m on stiffnesses of tens of N·m/rad -> ~1e-7 rad):
            # left and right sum their forces in a different order, so they are not bit-identical
            side = k.replace("_left_", "_RIGHT_").replace("_right_", "_left_").replace("_RIGHT_", "_right_")
            if side != k:
                want = b.metrics[side]
            elif ms.MEASURES[k].plane != "sagittal":
                want = -b.metrics[k]
            else:
                want = b.metrics[k]
            assert abs(a.metrics[k] - want) <= MIRROR_TOL[ms.MEASURES[k].unit], (k, a.metrics[k], want)


@settings(max_examples=n(100), **SETTINGS)
@given(st.dictionaries(st.sampled_from(BILATERAL), st.floats(0.0, 0.6),
                       min_size=1, max_size=6))
def test_equal_tone_on_both_sides_keeps_every_left_right_measure_at_zero(tone):
    res = solve(tone)  # bilateral names: both sides get the same tone
    if res.ok:
        for k, info in ms.MEASURES.items():
            if info.plane != "sagittal":
                assert abs(res.metrics[k]) <= 1e-9, (k, res.metrics[k])
        assert res.metrics["hip_extension_reserve_left_deg"] == pytest.approx(
            res.metrics["hip_extension_reserve_right_deg"], abs=1e-9)


# ------------------------------------------------------------------------------ determinism
@settings(max_examples=n(100), **SETTINGS)
@given(tones(0.0, 1.0, NAMES), tightness)
def test_same_input_twice_gives_identical_numbers(tone, tight):
    a, b = solve(tone, tight), solve(dict(tone), dict(tight))
    assert (a.ok, a.iterations, a.message) == (b.ok, b.iterations, b.message)
    np.testing.assert_array_equal(list(a.metrics.values()), list(b.metrics.values()))
    np.testing.assert_array_equal(list(a.pose_deg.values()), list(b.pose_deg.values()))


@settings(max_examples=n(30), **SETTINGS)
@given(st.lists(tones(0.0, 0.6), min_size=1, max_size=6))
def test_simulate_many_agrees_with_simulate(batch):
    many = ms.simulate_many(model(), batch)
    for i, tone in enumerate(batch):
        one = solve(tone)
        assert bool(many.ok[i]) == one.ok, (tone, one.message, many.messages[i])
        if one.ok:
            for k, v in one.metrics.items():
                assert many.metrics[k][i] == pytest.approx(v, rel=1e-6, abs=1e-5), (tone, k)


# ------------------------------------------------------------------------------ small changes
def _assert_small_change(tone, name, new_value):
    a = solve(tone)
    b = solve({**tone, name: new_value})
    if not (a.ok and b.ok):
        return  # at the edge of standing; the first property covers honesty there
    lo, hi = sorted((tone[name], new_value))
    for edge in (max(0.0, lo - MARGIN), min(1.0, hi + MARGIN)):
        if not solve({**tone, name: edge}).ok:
            return  # within MARGIN of a loss of standing, where the slope grows without bound
    dt = abs(new_value - tone[name])
    for k, va in a.metrics.items():
        bound = LIPSCHITZ[ms.MEASURES[k].unit] * dt
        assert abs(b.metrics[k] - va) <= bound, (
            f"{k} moved {b.metrics[k] - va:+.4g} for a tone change of {dt:g} in {name} "
            f"(bound {bound:.4g}); tone={tone}")


@st.composite
def nudged(draw, names, lo, hi, max_size):
    tone = draw(tones(lo, hi, names, max_size))
    name = draw(st.sampled_from(sorted(tone)))
    up = draw(st.booleans())
    v = tone[name]
    new = v + STEP if (up and v + STEP <= hi) or v - STEP < lo else v - STEP
    return tone, name, new


@settings(max_examples=n(300), **SETTINGS)
@given(nudged(NAMES, SMOOTH_LOW, 0.4, 1))
def test_tiny_change_of_one_name_gives_a_small_change(case):
    _assert_small_change(*case)


@settings(max_examples=n(100), **SETTINGS)
@given(nudged(IDS, SMOOTH_LOW, 0.4, 6))
@example(BRANCH_JUMP)
def test_tiny_change_of_several_muscles_gives_a_small_change(case):
    _assert_small_change(*case)
