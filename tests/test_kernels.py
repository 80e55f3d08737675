"""The compiled kernels solve the same equations as the numpy reference, to round-off."""

from __future__ import annotations

import numpy as np
import pytest

import musclesim as ms
from musclesim import kernels
from musclesim.mechanics import _jacobian_analytic, prepare, solve, solve_numpy
from musclesim.tone import tone_vector

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed (pip install musclesim[fast])")


@pytest.fixture(scope="module")
def mech():
    return prepare(ms.load_model())


def test_residual_and_jacobian_match_numpy(mech):
    rng = np.random.default_rng(11)
    act = tone_vector(mech.model, None) + 0.2 * rng.random(len(mech.model.muscle_ids))
    for lam in ([3.0, -5.0, 150.0], [1.0, 2.0, -60.0]):
        q = rng.uniform(-0.2, 0.2, mech.n)
        lam = np.array(lam)
        R, J = kernels.residual_jacobian(q, lam, act, *mech._packed()[:-2], mech._packed()[-2], mech._packed()[-1], True)
        L, J_np, _ = _jacobian_analytic(mech, q, act, lam)
        np.testing.assert_allclose(R, np.concatenate((L.Q[0], L.goals[0])), atol=1e-9)
        np.testing.assert_allclose(J, J_np, atol=1e-8 * np.abs(J_np).max())


@pytest.mark.parametrize("tone", [None, {"psoas_major": 0.5}, {"glutes": 0.3}, {"abdominals": 0.25, "hamstrings": 0.2}])
def test_compiled_and_numpy_solvers_agree(mech, tone):
    act = tone_vector(mech.model, tone)
    base = ms.baseline(mech.model)._state["eq"]
    a = solve(mech, act, base.q, base.lam, compiled=True)
    b = solve_numpy(mech, act, base.q, base.lam)
    assert a.ok == b.ok
    if a.ok:
        np.testing.assert_allclose(a.q, b.q, atol=1e-9)
        np.testing.assert_allclose(a.lam, b.lam, atol=1e-6)
