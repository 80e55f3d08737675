"""Hook lying (``supine_knees_bent``): compliant contacts, an energy minimum without multipliers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import musclesim as ms
from musclesim.mechanics import prepare
from musclesim.positions import POSITIONS, _fd_jacobian, initial_guess, placement, residual, solve_lying
from musclesim.simulation import _lying_tone, lying_metrics

POS = POSITIONS["supine_knees_bent"]


@pytest.fixture(scope="module")
def base(model):
    b = ms.baseline(model, "supine_knees_bent")
    assert b.ok, b.message
    return b


def _solve(model, pos, tone=None, z0=None):
    mech = prepare(model)
    t, _ = _lying_tone(model, tone, pos.tone_scale)
    z0 = initial_guess(mech, pos) if z0 is None else z0
    z, ok, stable, _, msg = solve_lying(mech, pos, t, mech.chain.l_tendon_m, z0)
    assert ok and stable, msg
    return mech, t, z


def test_the_floor_carries_the_weight_and_never_pulls(model, base):
    weight = prepare(model).chain.body_mass_kg * model.subject.gravity_m_per_s2
    normal = [v for k, v in base.regulation.items() if k.startswith("contact:") and not k.endswith("_shear_N")]
    shear = [v for k, v in base.regulation.items() if k.endswith("_shear_N")]
    assert len(normal) == 5 and len(shear) == 3
    assert all(f >= 0 for f in normal)
    assert sum(normal) == pytest.approx(weight, rel=1e-9)  # the floor carries the whole weight
    assert sum(shear) == pytest.approx(0.0, abs=1e-6)  # a level floor: the anchors' pulls cancel
    for joint, row in base.moments.items():  # muscles + gravity + passive + floor balance at every joint
        assert abs(sum(row.values())) < 1e-6, joint


def test_answer_is_an_energy_minimum(model, base):
    mech = prepare(model)
    z = base._state["z"]
    assert len(z) == mech.n + 3  # joints, floor pitch, offset and place along the floor: no multipliers
    F = lambda zz: residual(mech, POS, zz, base._state["act"], mech.chain.l_tendon_m)
    r = F(z)
    assert np.max(np.abs(r)) < 1e-6
    H = -_fd_jacobian(F, z, r)
    # the generalised forces are an energy's gradient: their Jacobian is symmetric ...
    assert np.max(np.abs(H - H.T)) < 1e-4 * np.max(np.abs(H))
    # ... and positive definite at the answer (stable)
    assert np.linalg.eigvalsh(0.5 * (H + H.T))[0] > 0


def test_placement_puts_soles_and_back_on_the_floor(model):
    mech = prepare(model)
    q, (phi, d, _), anchors = placement(mech, POS)
    deg = dict(zip(mech.chain.dof_names, np.degrees(q)))
    assert deg["knee"] == pytest.approx(90.0)
    assert 30 < deg["hip"] < 60 and -50 < deg["ankle"] < -30
    _, det = residual(mech, POS, np.concatenate((q, [phi, d, 0.0])), np.zeros(len(model.muscle_ids)),
                      mech.chain.l_tendon_m, detail=True)
    assert np.allclose(det["depth_m"][:4], 0.0, atol=1e-9)  # heel, toe, sacrum, upper back touch the floor
    assert np.isnan(anchors[3:]).all() and anchors[1] - anchors[0] == pytest.approx(-0.255)  # foot length


def test_doubling_the_contact_stiffness_barely_changes_the_curve(model):
    out = {}
    for k in (POS.stiffness_N_per_m, 2 * POS.stiffness_N_per_m):
        mech, t, z = _solve(model, dataclasses.replace(POS, stiffness_N_per_m=k))
        out[k] = lying_metrics(mech, POS, z, t)
    a, b = out.values()
    # 0.6 deg of a 40 deg curve with the relaxed knee law (the knees settle a little deeper on softer pads)
    assert abs(a["lumbar_lordosis_deg"] - b["lumbar_lordosis_deg"]) < 1.0
    assert abs(a["pelvic_tilt_deg"] - b["pelvic_tilt_deg"]) < 1.5  # 1.1 deg: the sacrum sinks less into stiffer pads


def test_stiff_compliant_contacts_approach_the_rigid_ones(model):
    """Limit case: supine's contacts made compliant give the rigid answer back as the stiffness grows."""
    rigid_result = ms.baseline(model, "supine")
    rigid = rigid_result.metrics
    gap = []
    for k in (30e3, 300e3):
        pos = dataclasses.replace(POSITIONS["supine"], stiffness_N_per_m=k)
        mech, t, z = _solve(model, pos, z0=rigid_result._state["z"][:prepare(model).n + 2])
        m = lying_metrics(mech, pos, z, t)
        gap.append(abs(m["pelvic_tilt_deg"] - rigid["pelvic_tilt_deg"]))
        assert m["lumbar_lordosis_deg"] == pytest.approx(rigid["lumbar_lordosis_deg"], abs=0.05)
    assert gap[1] < gap[0] < 1.0


def test_bent_knees_flatten_the_lumbar_curve(model, base):
    """The articles' check (001, 004): lying with the knees bent against lying with straight legs,
    at rest and with psoas tone 0.5. The model tilts the pelvis back and flattens the curve."""
    for tone in (None, {"psoas_major": 0.5}):
        flat = ms.simulate(model, tone, position="supine") if tone else ms.baseline(model, "supine")
        bent = ms.simulate(model, tone, position="supine_knees_bent") if tone else base
        assert flat.ok and bent.ok
        assert bent.metrics["lumbar_lordosis_deg"] < flat.metrics["lumbar_lordosis_deg"] - 10
        assert bent.metrics["pelvic_tilt_deg"] < flat.metrics["pelvic_tilt_deg"]
        assert bent.muscle_force_N["psoas_major_left"] <= flat.muscle_force_N["psoas_major_left"]
        assert 60 < bent.metrics["knee_flexion_deg"] < 100


def test_tone_change_and_explain(model, base):
    r = ms.simulate(model, {"glutes": 0.3}, position="supine_knees_bent")
    assert r.ok, r.message
    assert r.frames and r._state["position"] is POS
    e = ms.explain(r, base)["pelvic_tilt_deg"]
    assert e.change < 0 and e.linear_estimate == pytest.approx(e.change, rel=0.3)


def test_friction_demand_is_reported(base):
    assert {"friction_needed:foot", "friction_needed:pelvis"} <= set(base.regulation)
    if max(base.regulation["friction_needed:foot"], base.regulation["friction_needed:pelvis"]) > POS.friction_limit:
        assert "would slide" in base.message
