"""The left-right solve's analytic derivatives and answers against the finite-difference solve it
replaced (``tests/reference/lateral_fd.py``, the solver of version c398527)."""

from __future__ import annotations

import numpy as np
import pytest

import musclesim as ms
from musclesim import lateral as L
from musclesim.lateral_kernels import lateral_evaluate
from musclesim.mechanics import muscle_force_N, pose_geometry, total_force
from reference.lateral_fd import solve_lateral_fd

TONES = [{"psoas_major_left": 0.3}, {"gluteus_medius_right": 0.5},
         {"external_oblique_left": 0.4, "internal_oblique_left": 0.4}, {"quadratus_lumborum_left": 0.6},
         {"psoas_major_left": 0.6, "abdominals": 0.2}]


def _args(model, tone, tightness=None):
    st = ms.simulate(model, tone, tightness=tightness, frames=False)._state
    return st["mech"], st["eq"].q, st["act"], st["eq"].lam


def _old_residual(mech, q, act, lam, z, goal0, h=1e-6):
    """The old solver's equations at ``z = [x; mu]`` (its energy differentiated by central
    differences of the package's 3-D poses), in the Newton driver's sign."""
    lay = L.layout(mech)
    f = L.frame3d(mech, lay, q)
    pre = L.preload(mech, lay, q, lam)
    n = 2 + 2 * len(lay.spine_seg)
    x, mu = z[:n], z[n:]
    X = np.vstack([x] + [x + h * e for e in np.eye(n)] + [x - h * e for e in np.eye(n)])
    pose = L.poses(lay, f, X, compiled=False)
    lengths, sc = L._lengths(lay, pose.p), L._scalars(lay, pose, X, pre, mech.chain.gravity)
    gl, gs = (lengths[1:n + 1] - lengths[n + 1:]) / (2 * h), (sc[1:n + 1] - sc[n + 1:]) / (2 * h)
    l2d = pose_geometry(mech, q[None])[2][0]
    l0 = L._lengths(lay, L.poses(lay, f, np.zeros((1, n)), compiled=False).p)[0]
    F = muscle_force_N(mech, act, l2d + (lengths[0] - l0)) + total_force(mech, np.zeros(len(l2d)), lam)
    el, er = lay.extensor_sides
    D = np.column_stack((gs[:, 3], -(gl[:, el].mean(axis=1) - gl[:, er].mean(axis=1))))
    return np.concatenate((-(gl @ F + gs[:, 0] + gs[:, 1] - D @ mu), sc[0, 4:6] - goal0))


@pytest.mark.parametrize("tone", TONES[:3])
def test_analytic_derivatives_match_finite_differences_of_the_old_energy(model, tone):
    mech, q, act, lam = _args(model, tone)
    pr, lay, _ = L.lateral_problem(mech, q, act, lam)
    n = 2 + 2 * len(lay.spine_seg)
    R0 = lateral_evaluate(pr, np.zeros(n + 2), False)[0]
    pr.goal0[:] = R0[n:]
    rng = np.random.default_rng(7)
    for trial in range(4):
        z = np.concatenate((rng.normal(size=n) * 0.03, rng.normal(size=2) * (2.0, 20.0)))
        z[0] *= 0.2  # metres of pelvic shift
        if trial == 0:
            z[:n] = 0.0
        R, Jac, *_ = lateral_evaluate(pr, z, True)
        old = _old_residual(mech, q, act, lam, z, pr.goal0)
        np.testing.assert_allclose(R, old, atol=2e-6 * max(1.0, np.abs(R).max()), err_msg="residual")
        h = 1e-6
        fd = np.column_stack([(lateral_evaluate(pr, z + h * e, False)[0] - lateral_evaluate(pr, z - h * e, False)[0])
                              / (2 * h) for e in np.eye(n + 2)])
        np.testing.assert_allclose(Jac, fd, atol=1e-6 * np.abs(Jac).max(), err_msg="Jacobian")


@pytest.mark.parametrize("tone", TONES)
def test_the_solve_matches_the_finite_difference_solver(model, tone):
    args = _args(model, tone)
    new, old = L.solve_lateral(*args), solve_lateral_fd(*args)
    assert new.converged == old.converged and new.stable == old.stable
    np.testing.assert_allclose(new.x, old.x, atol=1e-6)
    for k in L.LATERAL_MEASURES + ("hip_flexion_change_left_deg", "hip_flexion_change_right_deg"):
        assert new.metrics[k] == pytest.approx(old.metrics[k], abs=1e-6), k
    assert new.balance_torque_Nm == pytest.approx(old.balance_torque_Nm, rel=1e-5, abs=1e-6)
    assert new.trunk_side_force_N == pytest.approx(old.trunk_side_force_N, rel=1e-5, abs=1e-6)
    assert new.min_stiffness == pytest.approx(old.min_stiffness, rel=1e-5)
    np.testing.assert_allclose(new.moment, old.moment, atol=1e-5)
    np.testing.assert_allclose(new.response, old.response, atol=1e-6)
    for k in L.LATERAL_MEASURES:
        np.testing.assert_allclose(new.measure_gradient[k], old.measure_gradient[k], rtol=1e-5, atol=1e-5)
        big = {m: v for m, v in old.contributions[k].items() if abs(v) > 1e-4}
        for m, v in big.items():
            assert new.contributions[k][m] == pytest.approx(v, rel=1e-4, abs=1e-6), (k, m)


def test_tightness_and_a_lift_match_the_finite_difference_solver(model):
    args = _args(model, None, tightness={"psoas_major_left": 15.0})
    np.testing.assert_allclose(L.solve_lateral(*args).x, solve_lateral_fd(*args).x, atol=1e-6)
    args = _args(model, None)
    np.testing.assert_allclose(L.solve_lateral(*args, lift_m=0.01).x, solve_lateral_fd(*args, lift_m=0.01).x, atol=1e-6)
