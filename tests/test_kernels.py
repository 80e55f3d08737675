"""The compiled kernels solve the same equations as the numpy reference, to round-off."""

from __future__ import annotations

import numpy as np
import pytest

import musclesim as ms
from musclesim import kernels
from musclesim.mechanics import _jacobian_analytic, solve, solve_numpy
from musclesim.tone import tone_vector

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed (pip install musclesim[fast])")


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
        # both meet the same tolerance (residual < 1e-6 N·m) along different iterates: the poses may
        # differ by up to residual / smallest reduced stiffness
        tol = 1e-9 + 2.0 * (a.residual_Nm + b.residual_Nm) / min(a.min_stiffness_eig, b.min_stiffness_eig)
        np.testing.assert_allclose(a.q, b.q, atol=tol)
        np.testing.assert_allclose(a.lam, b.lam, atol=1e-6 + 1e3 * tol)


def test_sparse_residual_is_the_reference_bit_for_bit(mech):
    """The residual skips structural zeros and computes twin muscles once: the same bits as the
    reference that writes every term out (the answers of simulate and simulate_many depend on it)."""
    rng = np.random.default_rng(3)
    pk = mech._packed()
    for i in range(40):
        q = rng.uniform(-0.5, 0.5, mech.n)
        lam = rng.uniform(-100.0, 100.0, 3)
        act = rng.uniform(0.0, 1.0, len(mech.model.muscle_ids))
        if i % 2:  # the same tone on both sides: twins share their forces too
            act[1::2] = act[0::2][:len(act[1::2])]
        for want in (False, True):
            R, J = kernels.residual_jacobian(q, lam, act, *pk, want)
            R0, J0 = kernels._residual_jacobian_ref(q, lam, act, *pk, want)
            assert np.array_equal(R, R0) and np.array_equal(J, J0)


def test_serial_and_parallel_batch_kernels_agree(mech):
    from musclesim.mechanics import CONTINUATION_STEPS, MAX_HALVINGS, MAX_ITER, jump_limits

    base = ms.baseline(mech.model)._state["eq"]
    t0 = tone_vector(mech.model, None)
    acts = t0 + np.random.default_rng(4).uniform(0.0, 0.3, (12, len(t0)))
    lt = np.broadcast_to(mech.chain.l_tendon_m, acts.shape).copy()
    args = (t0, acts, lt, base.q, base.lam, np.ascontiguousarray(base.jacobian), CONTINUATION_STEPS, MAX_HALVINGS,
            MAX_ITER, jump_limits(), *mech._packed())
    for a, b in zip(kernels.follow_batch_kernel(*args), kernels.follow_serial_kernel(*args)):
        assert np.array_equal(a, b, equal_nan=True)


def test_kernels_include_the_abdominal_pressure(mech):
    """With the strut switched off in the packed arrays, the compiled residual and Jacobian lose
    exactly the numpy strut's generalised force and its derivative (so the pressure is in both)."""
    from musclesim.mechanics import _piece_hessian  # noqa: F401  (the numpy twin of the kernel's strut Hessian)

    assert mech.chain.has_pressure
    rng = np.random.default_rng(5)
    pk = mech._packed()
    ints = pk[-2].copy()
    ints[5:7] = -1
    off = pk[:-2] + (ints, pk[-1])
    act = tone_vector(mech.model, None) + 0.2 * rng.random(len(mech.model.muscle_ids))
    for lam in ([3.0, -5.0, 150.0], [1.0, 2.0, -60.0]):
        q = rng.uniform(-0.2, 0.2, mech.n)
        lam = np.array(lam)
        R, J = kernels.residual_jacobian(q, lam, act, *pk, True)
        R0, J0 = kernels.residual_jacobian(q, lam, act, *off, True)
        L, J_np, _ = _jacobian_analytic(mech, q, act, lam)
        np.testing.assert_allclose(R[:mech.n] - R0[:mech.n], L.strut[0], atol=1e-9)
        assert np.abs(L.strut[0]).max() > 1.0 and np.abs(J - J0).max() > 1.0
        Rr, Jr = kernels._residual_jacobian_ref(q, lam, act, *pk, True)
        assert np.array_equal(R, Rr) and np.array_equal(J, Jr)
