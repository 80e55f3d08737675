"""The measure registry and the one compiled implementation of the sagittal measures, against
oracles: hand-placed landmarks whose measures are known exactly, and the numpy formulas
(tests/reference/measures.py) on batches of poses."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from reference import measures as reference

import musclesim as ms
from musclesim import metrics
from musclesim.mechanics import muscle_force_N, pose_geometry, total_force
from musclesim.simulation import hip_extension_limit_deg

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT.parent / "shared" / "DESIGN.md"


# ----------------------------------------------------------------------------- the registry
#: DESIGN section 6 (names are the API); the joint angles and pi_minus_ll are the package's additions.
DESIGN_NAMES = {
    "pelvic_tilt_deg", "sacral_slope_deg", "pelvic_incidence_deg", "radiographic_pelvic_tilt_deg",
    "lumbar_lordosis_deg", "thoracic_kyphosis_deg", "head_forward_mm", "sagittal_vertical_axis_mm", "com_anterior_mm",
    "pelvic_obliquity_deg", "trunk_lateral_bend_deg", "hip_height_difference_mm", "apparent_leg_length_difference_mm",
    "pelvic_rotation_deg", "hip_rotation_left_deg", "hip_rotation_right_deg", "hip_extension_reserve_left_deg",
    "hip_extension_reserve_right_deg", "lumbar_compression_N", "intra_abdominal_pressure_mmHg", "balance_effort_Nm",
}


def test_registry_holds_the_design_names_and_is_the_public_one():
    assert ms.MEASURES is metrics.MEASURES
    assert DESIGN_NAMES <= set(ms.MEASURES)
    if DESIGN.is_file():  # every measure name in DESIGN section 6's table is in the registry
        table = DESIGN.read_text(encoding="utf-8").split("## 6.")[1].split("## 7.")[0]
        named = set(re.findall(r"^\| ([a-z_]+(?:_deg|_mm|_N|_Nm|_mmHg))\b", table, flags=re.MULTILINE))
        assert named and named <= set(ms.MEASURES)


def test_every_entry_is_complete_and_consistent(model):
    from musclesim.claims import NO_CHANGE

    segments = {s.id for s in model.segments}
    landmarks = {(s.id, k) for s in model.segments for k in s.landmarks}
    for name, m in ms.MEASURES.items():
        assert m.name == name and m.meaning and m.plane in ("sagittal", "frontal", "transverse"), name
        assert name.endswith({"deg": "_deg", "mm": "_mm", "N": "_N", "N·m": "_Nm", "mmHg": "_mmHg"}[m.unit]), name
        assert m.unit in NO_CHANGE, f"{name}: no no-change threshold for {m.unit}"
        if m.normal is not None:
            assert m.normal[0] < m.normal[1] and m.normal_source, name
        assert m.bones and set(m.bones) <= segments, name
        assert set(m.landmarks) <= landmarks, (name, set(m.landmarks) - landmarks)
        assert bool(m.positive) == bool(m.negative), name  # both signs worded, or a magnitude
    tilt = ms.MEASURES["pelvic_tilt_deg"]
    assert (tilt.sign_word(3.0), tilt.sign_word(-1.0), tilt.sign_word(0.0)) == ("anterior", "posterior", "")


def test_name_lists_derive_from_the_registry():
    """The kernel's columns, the lateral list, the graph's bones and the plot's sign words agree
    with the registry (lists outside metrics.py that do not derive from it yet must not drift)."""
    from musclesim import graph, lateral, measure_kernels, plot

    assert metrics.SAGITTAL + metrics.LATERAL == tuple(ms.MEASURES)
    assert measure_kernels.N_OUT == len(metrics.SAGITTAL)
    assert lateral.LATERAL_MEASURES == metrics.LATERAL
    assert graph.MEASURE_BONES == {n: m.bones for n, m in ms.MEASURES.items()}
    for name, (_, pos, neg, _) in plot.LATERAL_WORDS.items():
        assert (ms.MEASURES[name].positive, ms.MEASURES[name].negative) == (pos, neg), name


def test_result_measures_are_the_registry(model, baseline_result):
    assert tuple(baseline_result.metrics) == tuple(ms.MEASURES)
    assert tuple(ms.simulate(model, position="supine").metrics) == tuple(ms.MEASURES)


# ----------------------------------------------------------------------------- hand-placed landmarks
def _rot(deg: float) -> np.ndarray:
    """Unit vector (cos, -sin): from a posterior edge to an anterior edge sloping down by ``deg``."""
    return np.array([math.cos(math.radians(deg)), -math.sin(math.radians(deg))])


@pytest.fixture(scope="module")
def pose(mech, baseline_result):
    """A real standing pose's arrays (points, joints, q, force, arm, lam, trunk), one pose."""
    eq, act = baseline_result._state["eq"], baseline_result._state["act"]
    pts, joints, lengths, arm, trunk = pose_geometry(mech, eq.q[None])
    force = total_force(mech, muscle_force_N(mech, act, lengths[0]), eq.lam)
    return pts[0], joints[0], eq.q, force, arm[0], eq.lam, trunk[0]


def test_measures_of_hand_placed_landmarks(mech, pose):
    """Landmarks placed so that tilt is 10 deg, sacral slope 40, incidence 52 (pelvic tilt 12), the
    L1 endplate at -20 (lordosis 60), T12 at -15 and T4 at +30 (kyphosis 45), the tragus 80 mm
    ahead of C7 and C7 25 mm ahead of S1's posterior corner; every centre of mass 50 mm ahead of
    the ankle; joint angles and efforts set by hand."""
    c = mech.chain
    points, joints, q, force, arm, lam, trunk = (np.array(a, dtype=float) for a in pose)
    P = lambda seg, name: c.landmark_index[(seg, name)]
    points[P("pelvis", "psis")] = (0.00, 1.00)
    points[P("pelvis", "asis")] = points[P("pelvis", "psis")] + 0.12 * _rot(10.0)
    s1p = np.array([-0.02, 1.05])
    s1a = s1p + 0.05 * _rot(40.0)
    points[P("pelvis", "s1_endplate_posterior")], points[P("pelvis", "s1_endplate_anterior")] = s1p, s1a
    s1m = points[P("pelvis", "s1_endplate_mid")] = (s1a + s1p) / 2
    # hip axis below and ahead of the S1 midpoint, 12 deg from vertical: PT = 12, PI = PT + SS = 52
    points[P("pelvis", "hip_axis")] = s1m + 0.10 * np.array([math.sin(math.radians(12)), -math.cos(math.radians(12))])
    l1p = np.array([-0.05, 1.25])
    points[P("L1", "l1_endplate_posterior")], points[P("L1", "l1_endplate_anterior")] = l1p, l1p + 0.04 * _rot(-20.0)
    t12p = np.array([-0.06, 1.30])
    points[P("thorax_lower", "t12_endplate_posterior")] = t12p
    points[P("thorax_lower", "t12_endplate_anterior")] = t12p + 0.03 * _rot(-15.0)
    t4p = np.array([-0.08, 1.50])
    points[P("thorax_upper", "t4_endplate_posterior")] = t4p
    points[P("thorax_upper", "t4_endplate_anterior")] = t4p + 0.03 * _rot(30.0)
    points[P("thorax_upper", "c7")] = (s1p[0] + 0.025, 1.55)
    points[P("head_neck", "tragus")] = (s1p[0] + 0.025 + 0.080, 1.65)
    S = len(c.seg_names)
    points[:S, 0] = c.ankle_x_m + 0.050
    dof = {d: i for i, d in enumerate(c.dof_names)}
    q[dof["hip"]], q[dof["knee"]], q[dof["ankle"]] = np.radians([7.0, -2.0, 3.0])
    lam[:] = (2.0, -3.0, 4.0)
    trunk[dof["L5S1"]] = -0.5
    m = metrics.measure(c, points, joints, q, force, arm, lam, trunk, -15.0)
    expected = {"pelvic_tilt_deg": 10.0, "sacral_slope_deg": 40.0, "radiographic_pelvic_tilt_deg": 12.0,
                "pelvic_incidence_deg": 52.0, "lumbar_lordosis_deg": 60.0, "pi_minus_ll_deg": -8.0,
                "thoracic_kyphosis_deg": 45.0, "head_forward_mm": 80.0, "sagittal_vertical_axis_mm": 25.0,
                "com_anterior_mm": 50.0, "hip_flexion_deg": 7.0, "knee_flexion_deg": -2.0,
                "ankle_dorsiflexion_deg": 3.0, "hip_extension_reserve_left_deg": 22.0,
                "hip_extension_reserve_right_deg": 22.0, "balance_effort_Nm": 2.0 + 3.0 + 4.0 * 0.5}
    for k, v in expected.items():
        assert m[k] == pytest.approx(v, abs=1e-9), k


def test_pelvic_tilt_sign_follows_the_asis(mech, pose):
    """ASIS below the PSIS is anterior tilt (+); above it, posterior (-) (DESIGN section 6)."""
    c = mech.chain
    points = np.array(pose[0])
    i, j = c.landmark_index[("pelvis", "asis")], c.landmark_index[("pelvis", "psis")]
    for drop, sign in ((0.02, 1.0), (-0.02, -1.0)):
        points[j] = (0.0, 1.0)
        points[i] = (0.1, 1.0 - drop)
        tilt = metrics.measure(c, points, *pose[1:], 0.0)["pelvic_tilt_deg"]
        assert tilt == pytest.approx(sign * math.degrees(math.atan(0.2)), abs=1e-12)


def test_lumbar_compression_of_the_weight_alone(mech, pose):
    """Muscles slack and no strut: the compression is the weight above L5-S1 along L5's axis, so
    it is the weight itself with the axis vertical and half of it with the axis 60 deg off."""
    c = mech.chain
    points, joints, q, force, arm, lam, trunk = (np.array(a, dtype=float) for a in pose)
    force[:] = 0.0
    weight = c.seg_mass_kg[c.anc[:, c.dof_names.index("L5S1")] != 0].sum() * c.gravity
    l4, l5 = c.seg_names.index("L4"), c.seg_names.index("L5")
    for angle, share in ((0.0, 1.0), (60.0, 0.5)):
        joints[l4] = joints[l5] + 0.04 * np.array([math.sin(math.radians(angle)), math.cos(math.radians(angle))])
        out = metrics.measure_batch(c, points[None], joints[None], q[None], force[None], arm[None], lam[None],
                                    trunk[None], 0.0, strut_acts=False)
        assert out["lumbar_compression_N"][0] == pytest.approx(share * weight, rel=1e-12)


# ----------------------------------------------------------------------------- the numpy oracle
def _batch(mech, res, n=40, seed=3):
    """``n`` poses scattered about a solved one, with their forces and efforts."""
    eq, act = res._state["eq"], res._state["act"]
    rng = np.random.default_rng(seed)
    q = eq.q[None] + rng.normal(0.0, 0.03, (n, eq.q.size))
    lam = eq.lam[None] + rng.normal(0.0, 5.0, (n, eq.lam.size))
    pts, joints, lengths, arm, trunk = pose_geometry(mech, q)
    force = total_force(mech, muscle_force_N(mech, act, lengths), lam)
    return pts, joints, q, force, arm, lam, trunk


@pytest.mark.parametrize("tone", [None, {"psoas_major": 0.3}, {"abdominals": 0.4, "glutes": 0.2}])
@pytest.mark.parametrize("lying", [False, True], ids=["standing", "lying-frame"])
def test_compiled_batch_equals_the_numpy_formulas(model, mech, tone, lying):
    """Column by name, to 1e-12: standing (gravity down, strut on) and in a lying frame (gravity
    along -x, strut off), with a hip limit per pose."""
    args = _batch(mech, ms.simulate(model, tone))
    limits = hip_extension_limit_deg(mech) + np.linspace(-5.0, 5.0, len(args[2]))
    kw = {"gravity_dir": np.array([-1.0, 0.0])} if lying else {}
    fast = metrics.measure_batch(mech.chain, *args, limits, **kw)
    ref = reference.measure_batch(mech.chain, *args, limits, **kw)
    assert tuple(fast) == metrics.SAGITTAL and set(ref) == set(fast)
    for k in fast:
        np.testing.assert_allclose(fast[k], ref[k], rtol=1e-12, atol=1e-12, err_msg=k)


def test_one_pose_and_a_batch_give_the_same_bits(model, mech):
    args = _batch(mech, ms.simulate(model, {"hamstrings": 0.3}), n=5)
    rows = metrics.measure_batch(mech.chain, *args, -12.0)
    for b in range(5):
        one = metrics.measure(mech.chain, *(a[b] for a in args), -12.0)
        assert one == {k: float(v[b]) for k, v in rows.items()}


def test_pressure_is_nan_without_a_pressure_model(model):
    from dataclasses import replace

    from musclesim.mechanics import prepare

    bare = prepare(replace(model, abdominal_pressure=None, _cache={}))
    res = ms.simulate(model)
    args = _batch(bare, res, n=3)
    out = metrics.measure_batch(bare.chain, *args, 0.0)
    assert np.isnan(out["intra_abdominal_pressure_mmHg"]).all()
    np.testing.assert_allclose(out["lumbar_compression_N"],
                               reference.measure_batch(bare.chain, *args, 0.0)["lumbar_compression_N"], rtol=1e-12)
