"""The fast paths give the answers of the slow ones.

- Newton straight from the baseline is kept only when it passes the contraction test
  (``mechanics.DIRECT_CONTRACTION``); it must then land on the equilibrium the stepped path
  reaches, and it must reject the scenarios where plain Newton lands on another branch.
- The coupling's fixed point by one linear solve equals the iteration's.
- Frames and explanations do not depend on whether the solver went straight or in steps.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference.numpy_mechanics import follow_numpy

import musclesim as ms
from musclesim.explanation import explain
from musclesim.mechanics import follow
from musclesim.physics import compiled_model, floor_of, newton
from musclesim.physics.compiled import settings
from musclesim.physics.kinematics import workspace
from musclesim.simulation import _coupling, _coupling_solver
from musclesim.tone import couple, couple_batch, coupled, tone_vector

#: The benchmark's mix (benchmarks/bench_batch.py): these groups' tone uniform in [0, 0.3], seed 0.
GROUPS = ("psoas_major", "iliacus", "glutes", "hamstrings", "abdominals")
#: Scenarios of that mix (of the first 300) where plain Newton from the baseline converges to a
#: stable posture on another branch (knee and hip 5-20 degrees away from the path's answer).
BRANCH_SWITCHERS = (202, 231)


def _bench_acts(model, n: int) -> np.ndarray:
    from musclesim.batch import _ToneRows

    x = np.random.default_rng(0).uniform(0.0, 0.3, size=(n, len(GROUPS)))
    rows = _ToneRows(model)
    t = np.array([rows(dict(zip(GROUPS, map(float, r)))) for r in x])
    return couple_batch(t, tone_vector(model, None), _coupling(model), _coupling_solver(model))


def _batch(mech, acts, lt, direct: bool):
    base = ms.baseline(mech.model)._state["eq"]
    t0 = tone_vector(mech.model, None)
    cm, st = compiled_model(mech)
    return newton.follow_many_serial(cm, st, floor_of(mech), t0, mech.chain.l_tendon_m, acts, lt, np.concatenate((base.q, base.lam)),
                                     np.ascontiguousarray(base.jacobian), settings(direct))


def test_direct_newton_lands_where_the_stepped_path_does(model, mech):
    """600 scenarios: the benchmark's mix, broad random tones up to 1 on random muscles, and
    contractures (shortened tendons). Where both succeed the postures agree to 1e-7 rad; both
    succeed on the same scenarios; the direct answer is taken for most of the benchmark's mix."""
    rng = np.random.default_rng(3)
    t0 = tone_vector(model, None)
    broad = np.tile(t0, (300, 1))
    mask = rng.random(broad.shape) < 0.3
    broad[mask] = rng.uniform(0.0, 1.0, mask.sum())
    acts = np.vstack((_bench_acts(model, 300), broad))
    lt = np.tile(mech.chain.l_tendon_m, (len(acts), 1))
    tight = rng.random(lt.shape) < 0.15
    lt[300:][tight[300:]] *= 1.0 - rng.uniform(0.0, 0.03, tight[300:].sum())
    ok_d, _, Z_d, it_d, _, _ = _batch(mech, acts, lt, True)
    ok_s, _, Z_s, _, _, _ = _batch(mech, acts, lt, False)
    assert np.array_equal(ok_d, ok_s)
    both = ok_d & ok_s
    assert both.sum() > 500
    assert np.abs(Z_d[both, :mech.n] - Z_s[both, :mech.n]).max() < 1e-7
    # the direct answer was taken (its Newton steps are few) for most of the benchmark's mix
    assert np.mean(it_d[:300] <= 8) > 0.6


@pytest.mark.parametrize("index", BRANCH_SWITCHERS)
def test_contraction_test_rejects_a_jump_to_another_branch(model, mech, index):
    """Plain Newton (no contraction test) from the baseline lands on another stable posture;
    the test rejects it and the answer is the stepped path's."""
    act = _bench_acts(model, 300)[index]
    base = ms.baseline(model)._state["eq"]
    t0 = tone_vector(model, None)
    cm, st = compiled_model(mech)
    ws, lt, s = workspace(cm), mech.chain.l_tendon_m, settings()
    z0 = np.concatenate((base.q, base.lam))
    plain = newton.newton_contracting(cm, st, floor_of(mech), ws, z0, act, lt, np.inf, 20, s.tol_moment, s.tol_goal)
    assert plain[0], "plain Newton converges here"
    tested = newton.newton_contracting(cm, st, floor_of(mech), ws, z0, act, lt, 0.5, 20, s.tol_moment, s.tol_goal)
    assert not tested[0], "the contraction test must reject this jump"
    stepped = follow(mech, t0, act, base.q, base.lam, base.jacobian, direct=False)
    fast = follow(mech, t0, act, base.q, base.lam, base.jacobian)
    assert stepped.ok and fast.ok
    assert np.abs(plain[1][:mech.n] - stepped.final.q).max() > np.radians(3)  # another branch
    np.testing.assert_allclose(fast.final.q, stepped.final.q, atol=1e-7)


@pytest.mark.parametrize("tone", [{"psoas_major": 0.3}, {"glutes": 0.25, "abdominals": 0.2}])
def test_direct_attempt_compiled_and_numpy_agree(model, mech, tone):
    base = ms.baseline(model)._state["eq"]
    t0 = tone_vector(model, None)
    act = couple(tone_vector(model, tone), t0, _coupling(model))[0]
    a = follow(mech, t0, act, base.q, base.lam, base.jacobian)
    b = follow_numpy(mech, t0, act, base.q, base.lam, base.jacobian)
    assert a.fractions == b.fractions == (0.0, 1.0)  # both went straight
    assert a.iterations == b.iterations
    np.testing.assert_allclose(a.final.q, b.final.q, atol=1e-9)
    np.testing.assert_allclose(a.final.min_stiffness_eig, b.final.min_stiffness_eig, rtol=1e-6)


def test_coupling_by_one_solve_equals_the_iteration(model):
    W, S = _coupling(model), _coupling_solver(model)
    t0 = tone_vector(model, None)
    inside = clipped = 0
    rng = np.random.default_rng(5)
    rows = [tone_vector(model, {"psoas_major": 0.3}), tone_vector(model, {"glutes": 0.9, "abdominals": 0.0}), t0]
    for _ in range(200):
        t = t0.copy()
        m = rng.random(len(t)) < 0.2
        t[m] = rng.uniform(0.0, 1.0, m.sum())
        rows.append(t)
    for t in rows:
        ref = couple(t, t0, W)[0]
        a = coupled(t, t0, W, S)
        np.testing.assert_allclose(a, ref, atol=1e-11)
        exact = t0 + S @ (t - t0)
        inside += bool(np.all((exact >= 0) & (exact <= 1)))
        clipped += not np.all((exact >= 0) & (exact <= 1))
    assert inside >= 2 and clipped >= 50  # both branches of coupled() ran
    np.testing.assert_array_equal(coupled(t0, t0, W, S), t0)  # resting tone: untouched, bit for bit
    batch = couple_batch(np.array(rows), t0, W, S)
    np.testing.assert_allclose(batch, [couple(t, t0, W)[0] for t in rows], atol=1e-11)


def test_frames_and_explanations_do_not_depend_on_how_the_solver_got_there(model, monkeypatch):
    """psoas 0.3 is solved straight; forcing the stepped path gives the same frames' postures and
    the same explanation shares (both integrate over the equilibria at 25/50/75/100 %)."""
    from musclesim.physics import constants

    fast = ms.simulate(model, {"psoas_major": 0.3})
    assert sorted(fast._state["path"].solved) == [0.0, 1.0]  # went straight
    posture = [f for f in fast.frames if f.kind == "posture"]
    assert [round(f.fraction, 2) for f in posture] == [0.25, 0.5, 0.75, 1.0]
    assert fast.frames[0].kind == "coupling"
    monkeypatch.setattr(constants, "DIRECT_CONTRACTION", 0.0)  # no straight attempt
    slow = ms.simulate(model, {"psoas_major": 0.3})
    assert len(slow._state["path"].solved) > 2  # followed in steps
    slow_posture = [f for f in slow.frames if f.kind == "posture"]
    assert [round(f.fraction, 2) for f in slow_posture] == [0.25, 0.5, 0.75, 1.0]
    for a, b in zip(posture, slow_posture):
        for j in a.pose_deg:
            assert a.pose_deg[j] == pytest.approx(b.pose_deg[j], abs=1e-3)
    base = ms.baseline(model)
    e_fast = explain(fast, base, measures=["pelvic_tilt_deg", "lumbar_lordosis_deg"])
    e_slow = explain(slow, base, measures=["pelvic_tilt_deg", "lumbar_lordosis_deg"])
    for name in e_fast:
        assert e_fast[name].drivers[0][0] == e_slow[name].drivers[0][0]
        for (m1, v1), (m2, v2) in zip(e_fast[name].drivers, e_slow[name].drivers):
            assert m1 == m2 and v1 == pytest.approx(v2, abs=1e-4)


def test_lazy_tables_equal_the_evaluated_loads(model):
    """Moments and arms are built on first read; they are the loads at the solved pose: the
    moments at each joint sum to the residual (about zero)."""
    r = ms.simulate(model, {"hamstrings": 0.3})
    for joint, row in r.moments.items():
        assert abs(sum(row.values())) < 1e-5, joint
    assert r.moment_arms_m["psoas_major_left"]["hip"] > 0.0  # a hip flexor's arm is flexion-positive
    assert dict(r.moments) == dict(r.moments)  # built once, then read


@pytest.mark.parametrize("tone", [None, {"psoas_major": 0.3}, {"glutes": 0.4, "abdominals": 0.3}, {"hamstrings": 0.5}])
def test_compiled_measures_equal_the_numpy_formulas(model, mech, tone):
    """metrics.measure (the compiled kernel, one standing pose) gives the numpy oracle's numbers
    (tests/reference/measures.py), in the registry's order."""
    from reference.measures import measure_batch as reference

    from musclesim.mechanics import muscle_force_N, pose_geometry, total_force
    from musclesim.metrics import SAGITTAL, measure
    from musclesim.simulation import hip_extension_limit_deg

    r = ms.simulate(model, tone)
    eq, act = r._state["eq"], r._state["act"]
    pts, joints, lengths, arm, trunk = pose_geometry(mech, eq.q[None])
    force = total_force(mech, muscle_force_N(mech, act, lengths[0]), eq.lam)
    limit = hip_extension_limit_deg(mech) + 3.0
    fast = measure(mech.chain, pts[0], joints[0], eq.q, force, arm[0], eq.lam, trunk[0], limit)
    ref = reference(mech.chain, pts, joints, eq.q[None], force[None], arm, eq.lam[None], trunk, limit)
    assert list(fast) == list(SAGITTAL) and set(ref) == set(SAGITTAL)
    for k, v in ref.items():
        assert fast[k] == pytest.approx(float(v[0]), rel=1e-12, abs=1e-12), k


def test_lazy_parts_are_built_once_when_threads_read_together(model):
    """A server's threads may read one cached Result at the same time: each part is built once and
    every reader sees the whole of it."""
    from concurrent.futures import ThreadPoolExecutor

    r = ms.simulate(model, {"iliacus": 0.35})
    with ThreadPoolExecutor(8) as pool:
        frames = list(pool.map(lambda _: tuple(r.frames), range(16)))
        moments = list(pool.map(lambda _: dict(r.moments), range(16)))
    assert all(f == frames[0] for f in frames) and len(frames[0]) > 4
    assert all(m == moments[0] for m in moments)


@pytest.mark.parametrize("group", ["psoas_major", "calves", "hamstrings"])
def test_a_sweep_started_from_neighbours_gives_the_path_answers(model, mech, group):
    """simulate_many starts each scenario of a sweep from the one before (chord steps checked by the
    contraction test): it must succeed and fail exactly where following the path from the baseline
    does, with the same postures, and most scenarios must take that start."""
    from musclesim.batch import neighbour_order, neighbours_close

    t0 = tone_vector(model, None)
    tones = np.linspace(0.0, 1.0, 400)
    rows = np.array([tone_vector(model, {group: float(v)}) for v in tones])
    acts = couple_batch(rows, t0, _coupling(model), _coupling_solver(model))
    lt = np.tile(mech.chain.l_tendon_m, (len(acts), 1))
    shuffled = np.random.default_rng(1).permutation(len(acts))
    again = shuffled[neighbour_order(acts[shuffled], lt, mech.chain.l_opt_m)]  # the sweep's order, found again
    assert neighbours_close(acts[again], lt, mech) and not neighbours_close(acts[shuffled], lt, mech)
    assert neighbour_order(acts, lt, mech.chain.l_opt_m).tolist() == list(range(len(acts)))  # kept as given
    cm, st = compiled_model(mech)
    base = ms.baseline(model)._state["eq"]
    args = (cm, st, floor_of(mech), t0, mech.chain.l_tendon_m, acts, lt, np.concatenate((base.q, base.lam)),
            np.ascontiguousarray(base.jacobian), settings())
    ok_c, _, Z_c, _, _, _ = newton.follow_many_serial(*args)
    ok_w, _, Z_w, _, _, _, warm = newton.follow_many_warm_serial(*args, np.arange(len(acts)))
    assert np.array_equal(ok_c, ok_w)
    assert np.abs(Z_c[ok_c, :mech.n] - Z_w[ok_c, :mech.n]).max() < 1e-7
    assert warm[ok_c].mean() > 0.9
    # and through the public entry point, in input order whatever the order given
    batch = ms.simulate_many(model, [{group: float(v)} for v in tones[shuffled]], lateral=False)
    assert np.array_equal(batch.ok, ok_c[shuffled])
