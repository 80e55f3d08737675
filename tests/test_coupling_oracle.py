"""The tone coupling's fixed point ``a = clip(t + W (a - t0), 0, 1)`` on two muscles, solved by hand.

Two muscles, resting tone t0 = (0.1, 0.2), off-diagonal gains w (W = [[0, w], [w, 0]]); the user
raises muscle 1 to t1 and leaves muscle 2 at rest (t2 = 0.2). With d = a - t0:

* synergists, w = +0.5, t1 = 0.5, nothing clipped: d1 = 0.4 + w d2, d2 = w d1, so
  d1 = 0.4 / (1 - w^2) = 8/15 and d2 = 4/15: a = (19/30, 7/15).
* synergists, w = +0.5, t1 = 0.95: the unclipped answer has a1 = 0.1 + 0.85 / 0.75 = 1.23 > 1, so a1 = 1 and
  a2 = 0.2 + 0.5 (1 - 0.1) = 0.65; check a1 = clip(0.95 + 0.5 * 0.45) = clip(1.175) = 1: a = (1, 0.65).
* antagonists, w = -0.5, t1 = 0.7: the unclipped answer has a2 = 0.2 - 0.4 = -0.2 < 0, so a2 = 0
  (d2 = -0.2) and a1 = 0.7 + (-0.5)(-0.2) = 0.8; check a2 = clip(0.2 - 0.5 * 0.7) = clip(-0.15) = 0:
  a = (0.8, 0). The linear solve alone would give (0.9, -0.2).
"""

from __future__ import annotations

import numpy as np
import pytest

from musclesim.tone import couple, couple_batch, coupled, coupling_solver

T0 = np.array([0.1, 0.2])
CASES = [  # (gain, t1, fixed point by hand, which muscle is clipped)
    (0.5, 0.5, (19 / 30, 7 / 15), None),
    (0.5, 0.95, (1.0, 0.65), 0),
    (-0.5, 0.7, (0.8, 0.0), 1),
]


def _W(w: float) -> np.ndarray:
    return np.array([[0.0, w], [w, 0.0]])


@pytest.mark.parametrize(("w", "t1", "expected", "clipped"), CASES)
def test_every_coupling_function_reaches_the_hand_solved_fixed_point(w, t1, expected, clipped):
    W, t = _W(w), np.array([t1, 0.2])
    a, frames = couple(t, T0, W)
    np.testing.assert_allclose(a, expected, atol=1e-10)
    np.testing.assert_allclose(coupled(t, T0, W, coupling_solver(W)), expected, atol=1e-10)
    rows = np.array([t, T0, t])  # a batch: the scenario, the resting tone (its own fixed point), the scenario
    for solver in (None, coupling_solver(W)):
        np.testing.assert_allclose(couple_batch(rows, T0, W, solver), [expected, T0, expected], atol=1e-10)
    # the frames start from the requested tone and end at the fixed point
    np.testing.assert_array_equal(frames[0], np.clip(t, 0.0, 1.0))
    np.testing.assert_allclose(frames[-1], expected, atol=1e-10)
    if clipped is not None:  # the linear (unclipped) solution is outside [0, 1] for the clipped muscle
        linear = T0 + np.linalg.solve(np.eye(2) - W, t - T0)
        assert not 0.0 <= linear[clipped] <= 1.0
        assert a[clipped] in (0.0, 1.0)


def test_first_iterate_by_hand():
    """Antagonists: a^1 = clip(t + W (clip(t) - t0)) = clip((0.7 + 0, 0.2 - 0.5 * 0.6)) = (0.7, 0)."""
    _, frames = couple(np.array([0.7, 0.2]), T0, _W(-0.5))
    np.testing.assert_allclose(frames[1], (0.7, 0.0), atol=1e-15)
    np.testing.assert_allclose(frames[2], (0.8, 0.0), atol=1e-15)  # a^2 = clip(0.7 - 0.5 (0 - 0.2)), clip(0.2 - 0.35)


def test_resting_tone_and_zero_gain_are_fixed_points():
    a, frames = couple(T0.copy(), T0, _W(0.5))
    np.testing.assert_array_equal(a, T0)
    assert len(frames) == 1
    t = np.array([1.3, -0.1])  # without coupling only the clip acts
    np.testing.assert_array_equal(couple(t, T0, np.zeros((2, 2)))[0], (1.0, 0.0))
    np.testing.assert_array_equal(coupled(t, T0, np.zeros((2, 2)), np.eye(2)), (1.0, 0.0))
