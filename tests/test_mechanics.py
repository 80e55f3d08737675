"""The mechanics against hand calculations, published moment arms and its own invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference.numpy_mechanics import evaluate
from scipy.optimize import brentq

import musclesim as ms
from musclesim.chain import compile_chain, muscle_lengths
from musclesim.mechanics import prepare, solve
from musclesim.model import (
    Attachment,
    Coupling,
    Joint,
    Model,
    Muscle,
    MuscleModel,
    PassiveLaw,
    Regulation,
    Segment,
    Subject,
)
from musclesim.tone import tone_vector

G = 9.81


def pendulum_model(activation: float = 0.3, passive_k: float = 0.0) -> Model:
    """A 10 kg rod hanging from a hinge, COM 0.5 m below it, one muscle pulling it forward."""
    sub = Subject(10.0, 1.0, 50.0, G, "test")
    base = Segment("base", False, "", "", 1e-9, (0.0, 0.0, 0.0), {}, "t", "t", "t")
    rod = Segment("rod", False, "base", "hinge", 1.0, (0.0, -0.5, 0.0), {}, "t", "t", "t")
    law = PassiveLaw(0.0, -passive_k, (), "t")
    hinge = Joint("hinge", False, "base", "rod", (0.0, 0.0, 0.0), 1, (-90.0, 90.0), law, "t")
    muscle = Muscle("puller", False, (), Attachment("base", (0.3, 0.0, 0.0)), (),
                    Attachment("rod", (0.0, -0.4, 0.0)), 500.0, 0.2, 1.0, 1.0, activation, "t", "t", "t", "t")
    mm = MuscleModel(23.0, 0.45, 0.6, 4.0, {})
    reg = Regulation(0.0, "rod", "rod", "hinge", "hinge", "puller", "puller", "t", "t")
    return Model("pendulum", "test", None, sub, (base, rod), (hinge,), (muscle,), {}, (), mm,
                 Coupling(0.0, 0.0, 0.01, "t"), reg)


def hand_force(l: float, l_ref: float, a: float) -> float:
    """Hill static force written out independently of the package (rigid tendon, l~_ref = 1)."""
    F0, lopt, w, gamma = 500.0, 0.2, 0.45, 23.0
    lt = (l - (l_ref - lopt)) / lopt
    fl = math.exp(-(((lt - 1.0) / w) ** 2))
    fpe = (math.exp(4.0 * max(lt - 1.0, 0.0) / 0.6) - 1.0) / (math.exp(4.0) - 1.0)
    raw = F0 * (a * fl + fpe + gamma * a * (lt - 1.0))
    return 0.5 * (raw + math.sqrt(raw * raw + 1.0))


def hand_equilibrium(a: float, passive_k_per_deg: float = 0.0) -> float:
    origin = np.array([0.3, 0.0])

    def length(th):
        ins = np.array([-0.4 * math.sin(th), -0.4 * math.cos(th)])
        return float(np.linalg.norm(ins - origin))

    def dl(th):
        ins = np.array([-0.4 * math.sin(th), -0.4 * math.cos(th)])
        dins = np.array([-0.4 * math.cos(th), 0.4 * math.sin(th)])
        d = ins - origin
        return float(d @ dins / np.linalg.norm(d))

    l_ref = length(0.0)

    def net_moment(th):
        gravity = -10.0 * G * 0.5 * math.sin(th)  # -dV/dth with V = -m g 0.5 cos th
        return gravity - hand_force(length(th), l_ref, a) * dl(th) - passive_k_per_deg * math.degrees(th)

    return brentq(net_moment, -1.5, 0.0, xtol=1e-14)


@pytest.mark.parametrize("a", [0.05, 0.3, 0.8])
def test_pendulum_with_one_muscle_matches_hand_solution(a):
    mech = prepare(pendulum_model(a), regulated=False)
    eq = solve(mech, np.array([a]))
    assert eq.ok, eq.message
    assert eq.residual_Nm < 1e-6
    assert eq.q[0] == pytest.approx(hand_equilibrium(a), abs=1e-6)


def test_pendulum_passive_stiffness_is_included():
    mech = prepare(pendulum_model(0.3, passive_k=0.5), regulated=False)
    eq = solve(mech, np.array([0.3]))
    assert eq.q[0] == pytest.approx(hand_equilibrium(0.3, 0.5), abs=1e-6)
    assert eq.q[0] > hand_equilibrium(0.3)  # the joint spring resists the pull


def test_an_upside_down_pendulum_is_reported_unstable():
    """An inverted rod balanced exactly above its hinge is an equilibrium but a saddle."""
    m = pendulum_model(0.0)
    rod = m.segments[1]
    inverted = Segment("rod", False, "base", "hinge", 1.0, (0.0, 0.5, 0.0), {}, "t", "t", "t")
    m2 = Model("inv", "t", None, m.subject, (m.segments[0], inverted), m.joints, m.muscles, {}, (), m.muscle_model,
               m.coupling, m.regulation)
    assert rod is not inverted
    eq = solve(prepare(m2, regulated=False), np.array([0.0]))
    assert eq.converged and not eq.stable
    assert "unstable" in eq.message


def test_moment_arms_are_the_derivative_of_path_length(model):
    chain = compile_chain(model)
    rng = np.random.default_rng(1)
    q = rng.uniform(-0.2, 0.2, size=(1, len(chain.dof_names)))
    _, dl = muscle_lengths(chain, q)
    h = 1e-6
    for j in range(q.shape[1]):
        e = np.zeros_like(q)
        e[0, j] = h
        lp, _ = muscle_lengths(chain, q + e)
        lm, _ = muscle_lengths(chain, q - e)
        np.testing.assert_allclose(dl[0, :, j], (lp[0] - lm[0]) / (2 * h), atol=1e-8)


# published ranges (REFERENCE.md B and E; issue 3): positive = flexion
MOMENT_ARM_BANDS_CM = [
    ("psoas_major_left", "hip", 1.9, 4.0),
    ("iliacus_left", "hip", 3.0, 4.5),
    ("gluteus_maximus_left", "hip", -7.0, -5.0),
    ("hamstrings_left", "hip", -6.5, -4.0),
    ("rectus_abdominis_left", "L5S1", 6.0, 10.0),
    ("erector_spinae_left", "L5S1", -6.0, -4.0),
    ("rectus_femoris_left", "hip", 3.4, 4.3),
    ("soleus_left", "ankle", -5.0, -4.0),
    ("tibialis_anterior_left", "ankle", 4.0, 5.0),
]


@pytest.mark.parametrize("muscle,joint,lo,hi", MOMENT_ARM_BANDS_CM)
def test_moment_arms_at_baseline_lie_in_published_ranges(model, muscle, joint, lo, hi):
    r_cm = 100 * ms.baseline(model).moment_arms_m[muscle][joint]
    assert lo <= r_cm <= hi, f"{muscle} at {joint}: {r_cm:.2f} cm not in [{lo}, {hi}]"


def test_left_and_right_muscles_mirror(model):
    base = ms.baseline(model)
    for inst in model.instances:
        if inst.side == "left":
            twin = inst.id.replace("_left", "_right")
            assert base.muscle_force_N[inst.id] == pytest.approx(base.muscle_force_N[twin], abs=1e-9)
            assert dict(base.moment_arms_m[inst.id]) == pytest.approx(dict(base.moment_arms_m[twin]), abs=1e-12)


def test_one_sided_tone_gives_the_same_sagittal_posture_on_either_side(model):
    left = ms.simulate(model, {"psoas_major_left": 0.45})
    right = ms.simulate(model, {"psoas_major_right": 0.45})
    assert left.ok and right.ok
    swap = {"_left_": "_right_", "_right_": "_left_"}
    for k, info in ms.MEASURES.items():
        if info.plane == "sagittal":
            other = next((k.replace(a, b) for a, b in swap.items() if a in k), k)
            assert left.metrics[k] == pytest.approx(right.metrics[other], abs=1e-9), k


def test_residual_is_small_on_random_tones(model):
    rng = np.random.default_rng(7)
    names = [m.id for m in model.muscles]
    mech = prepare(model)
    for _ in range(8):
        tone = {n: float(rng.uniform(0.0, 0.35)) for n in rng.choice(names, size=4, replace=False)}
        res = ms.simulate(model, tone, coupling=False, frames=False)
        assert res.converged, (tone, res.message)
        # recompute the residual independently of the solver's own report
        eq = res._state["eq"]
        L = evaluate(mech, eq.q[None], tone_vector(model, tone), eq.lam[None])
        assert np.max(np.abs(L.Q[0])) < 1e-6
        assert np.max(np.abs(L.goals[0])) < 1e-9


def test_moment_breakdown_sums_to_the_residual(model):
    res = ms.simulate(model, {"hip_flexors": 0.3})
    for joint, row in res.moments.items():
        assert abs(sum(row.values())) < 1e-6, joint


def test_regulation_holds_its_goals(model):
    res = ms.simulate(model, {"psoas_major": 0.5})
    assert res.metrics["com_anterior_mm"] == pytest.approx(1000 * model.regulation.com_anterior_of_ankle_m, abs=1e-6)
    geo = res.geometry
    base = ms.baseline(model).geometry
    # level gaze: the head keeps its pitch, so tragus-to-head-COM direction is unchanged
    def head_dir(g):
        t = np.array(g["landmarks"]["head_neck.tragus"])
        c7 = np.array(g["landmarks"]["thorax_upper.c7"])
        return t - c7
    assert np.linalg.norm(head_dir(geo)) == pytest.approx(np.linalg.norm(head_dir(base)), rel=1e-9)


def test_known_directions_emerge(model):
    """Hip flexor tone tilts the pelvis forward; hip extensor tone tilts it back (DESIGN section 5)."""
    d = lambda tone: ms.simulate(model, tone).change["pelvic_tilt_deg"]
    assert d({"psoas_major": 0.3}) > 1.0
    assert d({"glutes": 0.3}) < -1.0
    assert d({"hamstrings": 0.3}) < -1.0
    # a larger tone does more
    assert d({"psoas_major": 0.6}) > d({"psoas_major": 0.3})


def test_analytic_jacobian_matches_finite_differences(model):
    from reference.numpy_mechanics import _jacobian, _jacobian_analytic

    mech = prepare(model)
    rng = np.random.default_rng(3)
    act = tone_vector(model, None) + 0.2 * rng.random(len(model.muscle_ids))
    for lam in ([3.0, -5.0, 150.0], [3.0, -5.0, -90.0], [0.0, 0.0, 0.3]):
        q = rng.uniform(-0.15, 0.15, mech.n)
        _, J_fd, _ = _jacobian(mech, q, act, np.array(lam))
        _, J_an, _ = _jacobian_analytic(mech, q, act, np.array(lam))
        np.testing.assert_allclose(J_an, J_fd, atol=2e-5 * np.abs(J_fd).max())


def test_continuation_stays_on_the_baseline_branch(model):
    """Following the path and re-solving from its end give the same posture (no branch switch)."""
    res = ms.simulate(model, {"hamstrings": 0.4})
    eq = res._state["eq"]
    again = solve(prepare(model), res._state["act"], eq.q, eq.lam)
    assert again.ok
    np.testing.assert_allclose(again.q, eq.q, atol=1e-8)


# ----------------------------------------------------------------------------- intra-abdominal pressure
def _loads_at(model, res):
    eq = res._state["eq"]
    return evaluate(prepare(model), eq.q[None], res._state["act"], eq.lam[None])


def test_standing_baseline_pressure_is_the_calibrated_20_mmHg(model):
    """P_rest is calibrated (model file) so that the standing baseline reads 20 mmHg (Cobb 2005)."""
    b = ms.baseline(model)
    assert b.metrics["intra_abdominal_pressure_mmHg"] == pytest.approx(20.0, abs=0.1)
    L = _loads_at(model, b)
    assert L.pressure_mmHg[0] == pytest.approx(b.metrics["intra_abdominal_pressure_mmHg"], rel=1e-9)


def test_pressure_strut_is_in_the_equilibrium(model):
    """The strut's generalised force is F_s dl_s/dq; at L5-S1 it is an extensor moment equal to the
    strut force times its lever arm about the joint centre (from the geometry), 4-14 N·m (DESIGN 5),
    and the spine is unloaded by the strut's axial push."""
    from dataclasses import replace

    b = ms.baseline(model)
    mech = prepare(model)
    c = mech.chain
    L = _loads_at(model, b)
    j = c.dof_names.index("L5S1")
    i0, i1 = c.iap_pts
    p = L.points[0]
    u = (p[i1] - p[i0]) / np.linalg.norm(p[i1] - p[i0])
    v = p[i0] - L.joints[0, c.seg_names.index("L5")]
    arm = v[0] * u[1] - v[1] * u[0]  # perpendicular distance of the strut's line in front of the joint
    assert 0.05 < arm < 0.07
    assert L.strut[0, j] == pytest.approx(-L.strut_force_N[0] * arm, rel=1e-9)  # extensor (flexion positive)
    assert 3.5 < L.strut_force_N[0] * arm < 14.0  # DESIGN 5: 4-14 N·m in the prototype; 4.0 here at 20 mmHg
    assert L.strut_force_N[0] == pytest.approx(model.abdominal_pressure.area_m2 * 20.0 * 133.322, rel=0.01)
    # the residual holds only with the strut: without it the same pose is out of balance by exactly the strut
    bare = prepare(replace(model, abdominal_pressure=None, _cache={}))
    eq = b._state["eq"]
    L0 = evaluate(bare, eq.q[None], b._state["act"], eq.lam[None])
    np.testing.assert_allclose(L.Q[0] - L0.Q[0], L.strut[0], atol=1e-9)
    assert abs(L0.Q[0, j]) > 3.0
    # the strut's generalised force is its force times the derivative of its length (central differences)
    from musclesim.chain import kinematics

    h = 1e-6
    E = np.eye(mech.n) * h
    pp, _, _, _ = kinematics(c, np.vstack((eq.q + E, eq.q - E)), derivatives=False)
    ls = np.linalg.norm(pp[:, i1] - pp[:, i0], axis=1)
    np.testing.assert_allclose(L.strut[0], L.strut_force_N[0] * (ls[:mech.n] - ls[mech.n:]) / (2 * h), atol=1e-6)
    # unloading: the compression reported is the muscles' and the weight's less the strut's axial push
    from reference.measures import lumbar_compression_N  # the numpy oracle of the compiled measure

    from musclesim.mechanics import total_force

    force = total_force(mech, L.force_N, eq.lam[None])
    full = lumbar_compression_N(c, L.points, L.joints, force, L.moment_arm_m, strut_acts=False)[0]
    axis = L.joints[0, c.seg_names.index("L4")] - L.joints[0, c.seg_names.index("L5")]
    axis /= np.linalg.norm(axis)
    assert b.metrics["lumbar_compression_N"] == pytest.approx(full - L.strut_force_N[0] * (u @ axis), rel=1e-9)
    assert 0.9 * L.strut_force_N[0] < full - b.metrics["lumbar_compression_N"] < L.strut_force_N[0]


def test_psoas_and_abdominal_co_contraction(model):
    """Psoas 0.3, abdominals 0.3 and both: what this model gives (see docs/validation.md).

    Psoas tone raises the pressure (the pelvis tilts forward and stretches the obliques; the
    coupling adds a little abdominal tone). Abdominal tone alone hardly changes it: the trunk
    flexes at T12-L1 under the rib cage held upright, the wall muscles' sagittal paths shorten by
    4-6 % and their short-range stiffness takes back what the activation adds. Together, neither
    the compression nor the pressure rises more than the sum of each alone.
    """
    names = ("lumbar_compression_N", "intra_abdominal_pressure_mmHg")
    base = ms.baseline(model).metrics
    rise = {}
    for key, tone in (("psoas", {"psoas_major": 0.3}), ("abd", {"abdominals": 0.3}),
                      ("both", {"psoas_major": 0.3, "abdominals": 0.3})):
        r = ms.simulate(model, tone)
        assert r.ok, r.message
        rise[key] = {k: r.metrics[k] - base[k] for k in names}
    assert rise["psoas"]["intra_abdominal_pressure_mmHg"] > 5.0
    assert abs(rise["abd"]["intra_abdominal_pressure_mmHg"]) < 1.0
    assert rise["both"]["intra_abdominal_pressure_mmHg"] > 3.0
    c = "lumbar_compression_N"
    assert rise["both"][c] > max(rise["psoas"][c], rise["abd"][c])
    for k in names:
        assert rise["both"][k] < rise["psoas"][k] + rise["abd"][k]  # not more than the sum


def test_a_model_without_the_pressure_table_has_no_strut(model):
    from dataclasses import replace

    bare = replace(model, abdominal_pressure=None, _cache={})
    mech = prepare(bare)
    assert not mech.chain.has_pressure
    b = ms.baseline(bare)
    assert b.ok and math.isnan(b.metrics["intra_abdominal_pressure_mmHg"])
    L = _loads_at(bare, b)
    assert not np.any(L.strut) and not np.any(L.strut_force_N)
