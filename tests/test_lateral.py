"""The frontal and transverse (left-right) equilibrium of :mod:`musclesim.lateral`.

Mirror symmetry (equal tones give zero, mirrored tones mirrored answers) is tested over random
tone sets in ``test_properties.py``; here: the kinematics, the 3-D moment arms against the
reference models, the regulated goals, and the consistency of the stiffness with the forces.
"""

from __future__ import annotations

import numpy as np
import pytest

import musclesim as ms
from musclesim import lateral as L
from musclesim.lateral import LATERAL_MEASURES


def _setup(res):
    st = res._state
    mech = st["mech"]
    lay = L.layout(mech)
    return mech, lay, L.frame3d(mech, lay, st["eq"].q)


def _rotate(points, centre, axis, angle):
    R = L._rodrigues(np.asarray(axis, float) / np.linalg.norm(axis), np.array([angle]))[0]
    return centre + (points - centre) @ R.T


def _arm_cm(lay, f, muscle, body, centre, axis, h=1e-5):
    """-dl/d(angle) in cm when the points of ``body`` turn about ``axis`` through ``centre``."""
    i = list(ms.load_model().muscle_ids).index(muscle)
    idx = np.array(lay.path_pts[i])
    out = []
    for a in (h, -h):
        p = f.p0.copy()
        on = lay.pt_body == body
        p[on] = _rotate(p[on], centre, axis, a)
        pts = p[idx]
        out.append(np.sum(np.linalg.norm(np.diff(pts, axis=0), axis=1)))
    return -100.0 * (out[0] - out[1]) / (2 * h)


def test_compiled_poses_equal_the_numpy_reference(model):
    mech, lay, f = _setup(ms.baseline(model))
    X = np.random.default_rng(3).normal(size=(64, 2 + 2 * len(lay.spine_seg))) * 0.05
    a, b = L.poses(lay, f, X, compiled=False), L.poses(lay, f, X, compiled=True)
    for name in ("p", "R_pelvis", "R_leg", "subtalar", "dorsi", "hip_rel"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-12, err_msg=name)


def test_feet_stay_planted_and_legs_keep_their_length(model):
    mech, lay, f = _setup(ms.baseline(model))
    X = np.random.default_rng(4).normal(size=(32, 2 + 2 * len(lay.spine_seg))) * 0.05
    X[:, 0] *= 0.2  # metres of pelvic shift
    pose = L.poses(lay, f, X)
    feet = np.isin(lay.pt_body, (0, 1))
    np.testing.assert_allclose(pose.p[:, feet], np.broadcast_to(f.p0[feet], pose.p[:, feet].shape), atol=1e-15)
    foot = next(s[0] for s in lay.landmark if s[1] == "ankle_centre")
    thigh = next(s[0] for s in lay.landmark if s[1] == "hip_centre")
    for side in ("left", "right"):
        ankle = pose.p[:, lay.landmark[(foot, "ankle_centre", side)]]
        hip = pose.p[:, lay.landmark[(thigh, "hip_centre", side)]]
        length0 = np.linalg.norm(f.p0[lay.landmark[(thigh, "hip_centre", side)]] - f.p0[lay.landmark[(foot, "ankle_centre", side)]])
        np.testing.assert_allclose(np.linalg.norm(hip - ankle, axis=1), length0, rtol=1e-12)
    # the pelvis and its hips ride together: both hip centres sit on the pelvis's rigid motion
    assert np.all(np.abs(pose.p[:, :, 2]).max(axis=1) < 1.0)


def test_lumbar_side_bend_moment_arms_match_the_christophy_model(model):
    """REFERENCE.md section E (Christophy-derived lumbar model, lateral bend, cm)."""
    mech, lay, f = _setup(ms.baseline(model))
    ref = {"psoas_major_left": 5.37, "quadratus_lumborum_left": 8.1, "internal_oblique_left": 12.8,
           "external_oblique_left": 9.2}
    j = 1  # L4-L5 (the second spinal joint); it turns the spine bodies 5 + j and above
    for m, want in ref.items():
        arm = sum(_arm_cm(lay, f, m, b, f.spine_c[j], f.spine_bend[j]) for b in range(5 + j, len(lay.body_points)))
        assert 0.6 * want <= arm <= 1.5 * want, (m, arm, want)


def test_hip_moment_arms_out_of_the_plane_match_the_reference_models(model):
    """reference-data (gait2392 / Rajagopal, right side, OpenSim signs): gluteus medius and minimus
    abduct (-43/-41 mm), gluteus maximus rotates externally (-22 mm), the psoas hardly rotates (+1..3 mm)."""
    _, lay, f = _setup(ms.baseline(model))
    thigh = next(s[0] for s in lay.landmark if s[1] == "hip_centre")
    knee = next(s[0] for s in lay.landmark if s[1] == "knee_centre")
    hip = f.p0[lay.landmark[(thigh, "hip_centre", "left")]]
    long = hip - f.p0[lay.landmark[(knee, "knee_centre", "left")]]
    # left leg (body 2) turning about the hip: adduction = distal end toward the midline (-z) = about +x;
    # internal rotation = front of the thigh toward the midline = about +y for the left leg
    add = {m: _arm_cm(lay, f, m, 2, hip, [1.0, 0.0, 0.0]) for m in
           ("gluteus_medius_left", "gluteus_minimus_left", "psoas_major_left")}
    rot = {m: _arm_cm(lay, f, m, 2, hip, long) for m in ("gluteus_maximus_left", "psoas_major_left")}
    assert -6.0 <= add["gluteus_medius_left"] <= -2.5, add
    assert -6.0 <= add["gluteus_minimus_left"] <= -2.0, add
    assert -4.0 <= rot["gluteus_maximus_left"] <= -1.0, rot
    assert abs(rot["psoas_major_left"]) <= 1.0, rot  # small in all three peer models


def test_one_sided_psoas_converges_and_the_regulated_goals_hold(model):
    res = ms.simulate(model, {"psoas_major_left": 0.6})
    assert res.ok, res.message
    lat = res._state["lateral"]
    assert lat.converged and lat.stable and lat.residual_Nm < 1e-6
    mech, lay, f = _setup(res)
    pose = L.poses(lay, f, lat.x[None])
    mass = lay.pt_mass
    zc = (pose.p[0, :, 2] @ mass) / mass.sum()
    zc0 = (f.p0[:, 2] @ mass) / mass.sum()
    assert abs(zc - zc0) < 1e-9  # centre of mass still over the middle of the feet
    rl, rr = pose.p[0, lay.roll_pair[0]], pose.p[0, lay.roll_pair[1]]
    assert abs(np.arctan2(rl[1] - rr[1], rl[2] - rr[2])) < 1e-9  # rib cage level
    assert all(np.isfinite(res.metrics[k]) and abs(res.metrics[k]) > 1e-4 for k in LATERAL_MEASURES)


def test_the_stiffness_is_the_derivative_of_the_forces(model):
    """For a small asymmetry the linear response (stiffness from the Hessian, pulls from the
    gradient) equals the converged nonlinear answer: a wrong Hessian would not."""
    res = ms.simulate(model, {"psoas_major_left": 0.07}, coupling=False)
    ex = ms.explain(res, ms.baseline(model), measures=list(LATERAL_MEASURES))
    for k, e in ex.items():
        assert abs(e.linear_estimate - e.change) <= 0.02 * abs(e.change) + 1e-9, (k, e.linear_estimate, e.change)


def test_lying_positions_do_not_claim_left_right_answers(model):
    res = ms.simulate(model, {"psoas_major_left": 0.4}, position="supine")
    assert all(np.isnan(res.metrics[k]) for k in LATERAL_MEASURES)
    assert dict(res.lateral) == {}


def test_explanation_names_the_moments_behind_a_one_sided_side_bend(model):
    res = ms.simulate(model, {"psoas_major_left": 0.4}, coupling=False)
    e = ms.explain(res, ms.baseline(model), measures=["trunk_lateral_bend_deg"])["trunk_lateral_bend_deg"]
    assert e.drivers[0][0] == "psoas_major_left"
    assert e.joint.endswith("_bend")
    names = [m for m, _ in e.moments]
    assert "psoas_major_left" in names and "regulation:trunk_side" in names
    assert "psoas_major_left" in e.text


@pytest.mark.parametrize("tone", [None, {"psoas_major": 0.4}, {"glutes": 0.2, "abdominals": 0.3},
                                  {"hamstrings": 0.3, "quadratus_lumborum": 0.3}])
def test_the_solve_itself_gives_zero_for_equal_sides(model, tone):
    """simulate skips the left-right solve when both sides are equal (zero by symmetry); the solve
    run anyway must give that zero, and a stable, converged answer."""
    res = ms.simulate(model, tone, frames=False)
    assert res.ok, res.message
    st = res._state
    lat = L.solve_lateral(st["mech"], st["eq"].q, st["act"], st["eq"].lam)
    assert lat.converged and lat.stable
    assert np.max(np.abs(lat.x)) < 1e-12
    assert all(abs(lat.metrics[k]) < 1e-9 for k in LATERAL_MEASURES)
    assert res.lateral.get("symmetric") is True


def test_batch_solves_one_sided_scenarios_like_simulate(model):
    tones = [{"psoas_major_left": 0.3}, {"quadratus_lumborum_right": 0.5}, {"psoas_major": 0.3}]
    batch = ms.simulate_many(model, tones)
    for i, t in enumerate(tones):
        single = ms.simulate(model, t, frames=False)
        for k in LATERAL_MEASURES:
            assert batch.metrics[k][i] == pytest.approx(single.metrics[k], abs=1e-7), (t, k)
    skipped = ms.simulate_many(model, tones, lateral=False)
    assert np.isnan(skipped.metrics["pelvic_rotation_deg"][0]) and skipped.metrics["pelvic_rotation_deg"][2] == 0.0


def test_a_lift_under_the_left_foot_raises_the_left_hip_by_its_height(model):
    """Both feet on the floor, knees straight: the hips follow the legs (hand check: the hip height
    difference equals the lift, the obliquity is the lift over the hip width, linear in the lift)."""
    st = ms.baseline(model)._state
    out = {h: L.solve_lateral(st["mech"], st["eq"].q, st["act"], st["eq"].lam, lift_m=h / 1000.0) for h in (5.0, 10.0)}
    for h, lat in out.items():
        assert lat.converged and lat.stable
        assert lat.metrics["hip_height_difference_mm"] == pytest.approx(h, rel=0.05)
        width = 2 * L.layout(st["mech"]).leg_z
        assert lat.metrics["pelvic_obliquity_deg"] == pytest.approx(np.degrees(np.arctan(h / 1000.0 / width)), rel=0.1)
    assert out[10.0].metrics["pelvic_obliquity_deg"] == pytest.approx(2 * out[5.0].metrics["pelvic_obliquity_deg"], rel=0.02)
