"""Issue 16's trunk physics: end-range stops on the spine, rectus abdominis on the upper rib cage,
lordosis that follows pelvic tilt, and the optional rib-cage regulator spring.

The oracles: the joint ranges of the model file, the within-person ratio dLL/dPT ~ 1 (Levine &
Whittle 1996, REFERENCE.md), the hard-goal solve (a spring's limit), the numpy reference solver,
and a hand-computed eigenvalue.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from reference.numpy_mechanics import solve_numpy

import musclesim as ms
from musclesim.claims import TILT_MUSCLES, lordosis_tilt_ratio, range_of_motion_rows
from musclesim.errors import ModelFileError
from musclesim.mechanics import prepare, solve
from musclesim.physics.newton import min_reduced_eig
from musclesim.tone import tone_vector

SPINE = ("L5S1", "L4L5", "L3L4", "L2L3", "L1L2", "T12L1", "T7T8", "neck")


def with_gain(model, gain):
    reg = replace(model.regulation, upright_gain_N_per_deg=gain, upright_gain_source="test" if gain else "")
    return replace(model, regulation=reg, _cache={})


@pytest.fixture(scope="module")
def trunk():
    """The body with issue 16's trunk physics (tools/build_adult_standing.py --trunk)."""
    return ms.load_model("adult_standing_trunk")


@pytest.fixture(scope="module")
def spring(trunk):
    """The default model with the minimal stabilising rib-cage spring (tools/build_adult_standing.py)."""
    return with_gain(trunk, 60.0)


def test_no_tone_takes_a_joint_outside_its_range(trunk):
    rows = {r["joint"]: r for r in range_of_motion_rows(trunk)}
    assert set(SPINE) <= set(rows)
    assert rows["L5S1"]["postures"] >= 50  # nearly every one-muscle tone finds a posture
    for name, r in rows.items():
        lo, hi = r["range_deg"]
        assert r["outside"] == 0, (name, r)
        assert lo <= r["min_deg"] and r["max_deg"] <= hi, (name, r)


def test_the_stop_holds_the_spine_where_it_used_to_pass(model, trunk):
    """Erector spinae at full tone (coupling off) drives L4-L5 to -15 deg (range -4) in the default model,
    not with the stops."""
    assert ms.simulate(model, {"erector_spinae": 1.0}, coupling=False).pose_deg["L4L5"] < -10.0
    r = ms.simulate(trunk, {"erector_spinae": 1.0}, coupling=False)
    model = trunk
    assert r.converged
    for j in SPINE:
        lo, hi = model.joint(j).range_deg
        assert lo <= r.pose_deg[j] <= hi, (j, r.pose_deg[j])
    assert r.pose_deg["L4L5"] < -2.5  # pressed towards its extension limit, not left at rest


@pytest.mark.parametrize("muscle", [
    pytest.param(m, marks=pytest.mark.xfail(strict=True, reason=(
        "gluteus maximus gives dLL/dPT just under 0.70 over tones 0-0.5: the posterior tilt flattens the lumbar curve a "
        "little less than the within-person data (~1); issue 16 target 0.7-1.3 not met (docs/validation.md)")))
    if m == "gluteus_maximus" else m for m in TILT_MUSCLES])
def test_lordosis_follows_pelvic_tilt(trunk, muscle):
    r = lordosis_tilt_ratio(trunk, muscle)
    assert r["n"] >= 8 and r["tilt_max"] - r["tilt_min"] > 3.0
    assert 0.7 <= r["ratio"] <= 1.3, r


def test_rectus_abdominis_crosses_the_thoracic_joint(trunk):
    arms = ms.baseline(trunk).moment_arms_m["rectus_abdominis_left"]
    assert arms["T7T8"] > 0.1  # in front of the thoracic spine: it flexes it


@pytest.mark.parametrize("which", ["kept", "spring"])
def test_abdominal_tone_changes_kyphosis_and_head_forward(model, trunk, spring, which):
    """The default model keeps kyphosis and head forward at baseline under abdominal tone (its rectus ends
    below T7-T8 and the rib cage is kept); the trunk model moves both."""
    r = ms.simulate(model, {"rectus_abdominis": 0.3})
    assert abs(r.change["thoracic_kyphosis_deg"]) < 1e-6
    m = trunk if which == "kept" else spring
    for mus in ("rectus_abdominis", "external_oblique"):
        r = ms.simulate(m, {mus: 0.3})
        assert r.ok, r.message
        assert abs(r.change["thoracic_kyphosis_deg"]) > 0.1, (mus, r.change["thoracic_kyphosis_deg"])
        assert abs(r.change["head_forward_mm"]) > 0.02, (mus, r.change["head_forward_mm"])
    r = ms.simulate(m, {"rectus_abdominis": 0.3})
    assert r.change["thoracic_kyphosis_deg"] > 0  # it rounds the upper back


def test_a_spring_keeps_the_habitual_posture(trunk, spring):
    a, b = ms.simulate(trunk), ms.simulate(spring)
    for name in ("pelvic_tilt_deg", "lumbar_lordosis_deg", "thoracic_kyphosis_deg", "head_forward_mm"):
        assert a.metrics[name] == pytest.approx(b.metrics[name], abs=1e-7)


def test_a_stiff_spring_approaches_the_kept_rib_cage(trunk):
    hard = ms.simulate(trunk, {"psoas_major": 0.3})
    soft = ms.simulate(with_gain(trunk, 1e7), {"psoas_major": 0.3})
    weak = ms.simulate(with_gain(trunk, 60.0), {"psoas_major": 0.3})
    for name in ("pelvic_tilt_deg", "lumbar_lordosis_deg"):
        assert soft.change[name] == pytest.approx(hard.change[name], abs=1e-3)
    # the weak spring lets the rib cage pitch: the thoracic joint's angle moves, the kept one does not
    assert abs(weak.change["thoracic_kyphosis_deg"]) > abs(hard.change["thoracic_kyphosis_deg"]) + 0.5


def test_spring_compiled_solve_matches_the_numpy_oracle(spring):
    mech = prepare(spring)
    assert mech.upright_compliance_rad_per_N == pytest.approx(math.pi / 180 / 60.0)
    act = tone_vector(spring, {"psoas_major": 0.2})
    base = solve(mech, tone_vector(spring, None))
    a = solve(mech, act, base.q, base.lam)
    b = solve_numpy(mech, act, base.q, base.lam)
    assert a.converged and b.converged
    np.testing.assert_allclose(a.q, b.q, atol=1e-6)
    np.testing.assert_allclose(a.lam, b.lam, rtol=1e-5, atol=1e-3)
    assert a.min_stiffness_eig == pytest.approx(b.min_stiffness_eig, rel=1e-4)


def test_stability_reads_the_real_parts_of_a_nonsymmetric_stiffness():
    """With hard goals only the symmetric part is tested: K = [[2, 3], [0, 1]] gives (3 - sqrt(10)) / 2.
    A soft goal's feedback is tested by the real parts of the eigenvalues."""
    K = np.array([[2.0, 3.0], [0.0, 1.0]])
    J = -K  # J is dQ/dq; the stiffness is -J
    assert min_reduced_eig(J, 2, 0) == pytest.approx((3 - math.sqrt(10)) / 2)
    # with a soft goal on q0 (J[2, 2] = -c), its effort adds stiffness b a^T / c: here along q1
    Jg = np.zeros((3, 3))
    Jg[:2, :2] = J
    Jg[1, 2] = 1.0  # the effort pushes q1
    Jg[2, 0] = 1.0  # the goal reads q0
    Jg[2, 2] = -0.5  # c = 0.5: effort = q0 / c
    # by hand: dQ/dq_eff = J_qq - J[:2, 2] J[2, :2] / J[2, 2] = [[-2, -3], [2, -1]], so K_eff = [[2, 3], [-2, 1]]
    expected = np.linalg.eigvals(np.array([[2.0, 3.0], [-2.0, 1.0]])).real.min()
    assert min_reduced_eig(Jg, 2, 1) == pytest.approx(expected)


def test_upright_gain_needs_a_source():
    import tomllib

    from musclesim.io import find_model
    from musclesim.validate import validate_model_data

    d = tomllib.loads(find_model("adult_standing").read_text())
    d["regulation"]["upright_gain_N_per_deg"] = 60.0
    with pytest.raises(ModelFileError, match="upright_gain_source"):
        validate_model_data(d, find_model("adult_standing"))
    d["regulation"]["upright_gain_source"] = "estimate: a test"
    validate_model_data(d, find_model("adult_standing"))
    d["regulation"]["upright_gain_N_per_deg"] = -1.0
    with pytest.raises(ModelFileError, match="upright_gain_N_per_deg"):
        validate_model_data(d, find_model("adult_standing"))


@pytest.mark.parametrize("position", ["supine", "supine_knees_bent"])
def test_the_trunk_model_lies_down(trunk, position):
    """Lying, the trunk model's thoracic joint extends about 17 deg (inside its range of 20 deg); the
    supine continuation goes on from the last step's contact set when the full set does not converge."""
    base = ms.simulate(trunk, position=position)
    assert base.ok, base.message
    r = ms.simulate(trunk, {"psoas_major": 0.3}, position)
    assert r.ok, r.message
    lo, hi = trunk.joint("T7T8").range_deg
    assert lo <= base.pose_deg["T7T8"] <= hi
