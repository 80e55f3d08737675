"""The compiled physics core (musclesim.physics) against its two oracles: the dense formula of
tests/reference/dense_residual.py and the numpy mechanics of tests/reference/numpy_mechanics.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference.dense_residual import dense_args, residual_jacobian_dense
from reference.numpy_mechanics import _jacobian_analytic, solve_numpy

import musclesim as ms
from musclesim.mechanics import prepare, solve
from musclesim.physics import compiled_model, floor_of, forces, newton, residual
from musclesim.physics.compiled import settings
from musclesim.physics.kinematics import workspace
from musclesim.tone import tone_vector


@pytest.fixture(scope="module")
def mech():
    return prepare(ms.load_model())


def _residual(mech, q, lam, act, want=True, cm=None):
    cm0, st = compiled_model(mech)
    cm = cm0 if cm is None else cm
    return residual.residual_jacobian(cm, st, workspace(cm), np.concatenate((q, lam)), act, mech.chain.l_tendon_m,
                                      want)


def test_residual_and_jacobian_match_numpy(mech):
    rng = np.random.default_rng(11)
    act = tone_vector(mech.model, None) + 0.2 * rng.random(len(mech.model.muscle_ids))
    for lam in ([3.0, -5.0, 150.0], [1.0, 2.0, -60.0]):
        q = rng.uniform(-0.2, 0.2, mech.n)
        lam = np.array(lam)
        R, J = _residual(mech, q, lam, act)
        L, J_np, _ = _jacobian_analytic(mech, q, act, lam)
        np.testing.assert_allclose(R, np.concatenate((L.Q[0], L.goals[0])), atol=1e-9)
        np.testing.assert_allclose(J, J_np, atol=1e-8 * np.abs(J_np).max())


def test_force_terms_are_the_dense_formula_bit_for_bit(mech):
    """The residual assembled from force terms, skipping structural zeros and computing twin
    muscles once, gives the same bits as the dense formula that writes every term out."""
    cm, _ = compiled_model(mech)
    args = dense_args(cm)
    rng = np.random.default_rng(3)
    for i in range(40):
        q = rng.uniform(-0.5, 0.5, mech.n)
        lam = rng.uniform(-100.0, 100.0, 3)
        act = rng.uniform(0.0, 1.0, len(mech.model.muscle_ids))
        if i % 2:  # the same tone on both sides: twins share their forces too
            act[1::2] = act[0::2][:len(act[1::2])]
        for want in (False, True):
            R, J = _residual(mech, q, lam, act, want)
            R0, J0 = residual_jacobian_dense(q, lam, act, mech.chain.l_tendon_m, want, *args)
            assert np.array_equal(R, R0)
            if want:
                assert np.array_equal(J, J0)


def test_contributions_sum_to_the_residual(mech):
    """The per-contributor table (one row per muscle, then gravity, passive, the three actuators,
    pressure) adds up to the moment residual, and each term is the numpy mechanics' own."""
    cm, st = compiled_model(mech)
    rng = np.random.default_rng(8)
    act = tone_vector(mech.model, None) + 0.1 * rng.random(len(mech.model.muscle_ids))
    q, lam = rng.uniform(-0.2, 0.2, mech.n), np.array([2.0, -1.0, 80.0])
    table = residual.contributions(cm, st, np.concatenate((q, lam)), act, mech.chain.l_tendon_m)
    M = len(mech.model.muscle_ids)
    assert table.shape == (M + len(forces.TERMS), mech.n)
    R, _ = _residual(mech, q, lam, act, False)
    np.testing.assert_allclose(table.sum(axis=0), R[:mech.n], atol=1e-9)
    L, _, _ = _jacobian_analytic(mech, q, act, lam)
    np.testing.assert_allclose(table[M + forces.TERMS.index("gravity")], L.gravity[0].sum(axis=0), atol=1e-9)
    np.testing.assert_allclose(table[M + forces.TERMS.index("passive")], L.passive[0], atol=1e-9)
    np.testing.assert_allclose(table[M + forces.TERMS.index("abdominal_pressure")], L.strut[0], atol=1e-9)
    np.testing.assert_allclose(table[:M].T, np.einsum("m,mn->nm", L.force_N[0], L.moment_arm_m[0]), atol=1e-9)


@pytest.mark.parametrize("tone", [None, {"psoas_major": 0.5}, {"glutes": 0.3}, {"abdominals": 0.25, "hamstrings": 0.2}])
def test_compiled_and_numpy_solvers_agree(mech, tone):
    act = tone_vector(mech.model, tone)
    base = ms.baseline(mech.model)._state["eq"]
    a = solve(mech, act, base.q, base.lam)
    b = solve_numpy(mech, act, base.q, base.lam)
    assert a.ok == b.ok
    if a.ok:
        # both meet the same tolerance (residual < 1e-6 N·m) along different iterates: the poses may
        # differ by up to residual / smallest reduced stiffness
        tol = 1e-9 + 2.0 * (a.residual_Nm + b.residual_Nm) / min(a.min_stiffness_eig, b.min_stiffness_eig)
        np.testing.assert_allclose(a.q, b.q, atol=tol)
        np.testing.assert_allclose(a.lam, b.lam, atol=1e-6 + 1e3 * tol)


def test_serial_and_parallel_batches_agree(mech):
    cm, st = compiled_model(mech)
    base = ms.baseline(mech.model)._state["eq"]
    t0 = tone_vector(mech.model, None)
    acts = t0 + np.random.default_rng(4).uniform(0.0, 0.3, (12, len(t0)))
    lt = np.broadcast_to(mech.chain.l_tendon_m, acts.shape).copy()
    args = (cm, st, floor_of(mech), t0, mech.chain.l_tendon_m, acts, lt, np.concatenate((base.q, base.lam)),
            np.ascontiguousarray(base.jacobian), settings())
    for a, b in zip(newton.follow_many(*args), newton.follow_many_serial(*args)):
        assert np.array_equal(a, b, equal_nan=True)


def test_the_pressure_term_is_in_the_equations(mech):
    """With the strut switched off in the compiled model, the residual loses exactly the numpy
    strut's generalised force, and the Jacobian changes (so the pressure is in both)."""
    cm, _ = compiled_model(mech)
    assert mech.chain.has_pressure and cm.strut_i0 >= 0
    off = cm._replace(strut_i0=-1, strut_i1=-1)
    rng = np.random.default_rng(5)
    act = tone_vector(mech.model, None) + 0.2 * rng.random(len(mech.model.muscle_ids))
    for lam in ([3.0, -5.0, 150.0], [1.0, 2.0, -60.0]):
        q = rng.uniform(-0.2, 0.2, mech.n)
        lam = np.array(lam)
        R, J = _residual(mech, q, lam, act)
        R0, J0 = _residual(mech, q, lam, act, cm=off)
        L, _, _ = _jacobian_analytic(mech, q, act, lam)
        np.testing.assert_allclose(R[:mech.n] - R0[:mech.n], L.strut[0], atol=1e-9)
        assert np.abs(L.strut[0]).max() > 1.0 and np.abs(J - J0).max() > 1.0


def test_a_degenerate_pose_gives_a_nan_residual(mech):
    """A muscle force that is not finite is reported as a NaN residual (the driver rejects the
    step), never as a number."""
    q = np.zeros(mech.n)
    act = np.full(len(mech.model.muscle_ids), np.inf)
    R, J = _residual(mech, q, np.zeros(3), act)
    assert np.isnan(R).all() and np.isnan(J).all()


def _passive_cross_terms(cm, q):
    """dM_j/dq_k (j != k, N·m/rad) of the coupled passive laws at ``q``, written out from the law."""
    n = len(q)
    deg = np.degrees(q)
    ex = cm.ps * np.exp(cm.pa + cm.pb * deg[:, None] + cm.pcpl @ deg)  # (n, T)
    cross = np.einsum("jt,jtk->jk", ex, cm.pcpl) * cm.dof_bil[:, None] * 180.0 / np.pi
    cross[np.arange(n), np.arange(n)] = 0.0
    return cross


def test_coupled_passive_law_is_the_law_and_its_derivative(mech):
    """The compiled passive term of a coupled law (hip, knee: Riener & Edrich 1999 with their
    neighbour terms) equals ``PassiveLaw.moment_Nm`` with the neighbours' angles, and its Jacobian
    row is the central difference of that, cross terms included."""
    from musclesim.physics.forces import add_passive_joints

    cm, _ = compiled_model(mech)
    names = list(mech.chain.dof_names)
    laws = {j.id: j.passive for j in mech.model.joints}
    assert laws["knee"].exp_coupling and laws["hip"].exp_coupling  # the default model uses coupling
    rng = np.random.default_rng(5)
    for _ in range(5):
        q = np.radians(rng.uniform(-10, 60, mech.n))
        R = np.zeros(mech.n + cm.k)
        J = np.zeros((mech.n + cm.k, mech.n + cm.k))
        add_passive_joints(cm, q, R, J, True)
        deg = dict(zip(names, np.degrees(q)))
        for j, name in enumerate(names):
            want = laws[name].moment_Nm(deg[name], deg) * mech.chain.dof_bilateral[j]
            assert R[j] == pytest.approx(want, rel=1e-12, abs=1e-12)
        h = 1e-6
        for k in range(mech.n):
            e = np.zeros(mech.n)
            e[k] = h
            Rp, Rm = np.zeros(mech.n + cm.k), np.zeros(mech.n + cm.k)
            add_passive_joints(cm, q + e, Rp, J * 0, False)
            add_passive_joints(cm, q - e, Rm, J * 0, False)
            np.testing.assert_allclose(J[:mech.n, k], (Rp - Rm)[:mech.n] / (2 * h), rtol=1e-6, atol=1e-6)
    # hand-checked against the published law (Riener & Edrich 1999; deg, flexion +), which the model follows
    # within 1.4 N·m from 35 to 110 deg of knee flexion (its own hyperextension stop and constant, see the model file;
    # 1.7 N·m more extension at 20 deg)
    def published(K, H, A):
        return (math.exp(1.800 + 0.0460 * A - 0.0352 * K + 0.0217 * H) - math.exp(-3.971 + 0.0004 * A + 0.0495 * K - 0.0128 * H)
                - 4.820 + math.exp(2.220 - 0.150 * K))
    for K, H, A in ((90, 45, 0), (40, 0, 0), (60, 30, -10), (110, 90, 10)):
        assert laws["knee"].moment_Nm(K, {"hip": H, "ankle": A}) == pytest.approx(published(K, H, A), abs=1.4)
    assert -6.5 < laws["knee"].moment_Nm(90.0, {"hip": 45.0, "ankle": 0.0}) < -5.0


def test_lying_contact_equations_match_numpy(mech):
    """The compiled floor-contact equations (hook lying: compliant contacts, anchored feet and
    sacrum) give the numpy residual, and their analytic Jacobian is its derivative."""
    from musclesim.physics.contact import lying_residual_jacobian
    from musclesim.positions import POSITIONS, compliant_residual, initial_guess

    pos = POSITIONS["supine_knees_bent"]
    cm, st = compiled_model(mech)
    fl = floor_of(mech, pos)
    assert fl.has_shear and fl.contact_pt.size == len(pos.contacts)
    rng = np.random.default_rng(2)
    act = tone_vector(mech.model, None) * 0.25 + 0.1 * rng.random(len(mech.model.muscle_ids))
    lt = mech.chain.l_tendon_m
    z0 = initial_guess(mech, pos)
    for _ in range(3):
        z = z0 + np.concatenate((rng.normal(0, 0.05, mech.n), rng.normal(0, [0.05, 0.005, 0.005])))
        R, J = lying_residual_jacobian(cm, st, workspace(cm), fl, z, act, lt, True)
        np.testing.assert_allclose(R, compliant_residual(mech, pos, z, act, lt), atol=1e-9)
        h = 1e-6
        fd = np.column_stack([(compliant_residual(mech, pos, z + e, act, lt) - compliant_residual(mech, pos, z - e, act, lt))
                              / (2 * h) for e in np.eye(len(z)) * h])
        np.testing.assert_allclose(J, fd, atol=1e-6 * np.abs(fd).max())
        # -d2V/dz2 but for the coupled passive laws: Riener & Edrich's fits are not exactly conservative
        # (dM_knee/dq_hip != dM_hip/dq_knee), so their cross terms are taken out before the symmetry check
        cross = _passive_cross_terms(cm, z[:mech.n])
        Jc = J.copy()
        Jc[:mech.n, :mech.n] -= cross
        np.testing.assert_allclose(Jc, Jc.T, atol=1e-9 * np.abs(J).max())


@pytest.mark.parametrize("tone", [{"psoas_major": 0.5}, {"abdominals": 0.3}])
def test_lying_compiled_and_reference_agree(mech, tone, monkeypatch):
    """Hook lying solved by the compiled driver and by the numpy reference: the same posture."""
    fast = ms.simulate(mech.model, tone, position="supine_knees_bent")
    monkeypatch.setenv("MUSCLESIM_NO_NUMBA", "1")
    slow = ms.simulate(mech.model, tone, position="supine_knees_bent")
    assert fast.ok and slow.ok
    for k in fast.pose_deg:
        assert fast.pose_deg[k] == pytest.approx(slow.pose_deg[k], abs=1e-5), k
