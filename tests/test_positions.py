"""Lying on the back: floor contacts instead of postural regulation."""

from __future__ import annotations

import numpy as np
import pytest

import musclesim as ms
from musclesim.positions import POSITIONS, residual


def test_positions_offered(model):
    assert set(ms.POSITIONS) == {"standing", "supine", "supine_knees_bent", "supine_pillow"}
    assert tuple(POSITIONS) == tuple(ms.POSITIONS)  # one definition: musclesim.positions.POSITIONS


def test_supine_rests_on_the_floor_in_equilibrium(model):
    b = ms.baseline(model, "supine")
    assert b.ok, b.message
    forces = [v for k, v in b.regulation.items() if k.startswith("contact:")]
    assert all(f >= 0 for f in forces)
    weight = sum(s.mass_fraction * (2 if s.bilateral else 1) for s in model.segments) * model.subject.body_mass_kg * 9.81
    assert sum(forces) == pytest.approx(weight, rel=1e-6)  # the floor carries the whole weight
    for joint, row in b.moments.items():
        assert abs(sum(row.values())) < 1e-6, joint


def test_lying_unloads_the_spine_and_flattens_the_curves(model):
    stand, lie = ms.baseline(model), ms.baseline(model, "supine")
    assert lie.metrics["lumbar_compression_N"] < 0.5 * stand.metrics["lumbar_compression_N"]
    assert lie.metrics["lumbar_lordosis_deg"] < stand.metrics["lumbar_lordosis_deg"]
    assert lie.metrics["pelvic_incidence_deg"] == pytest.approx(stand.metrics["pelvic_incidence_deg"], abs=1e-9)


def test_psoas_tone_arches_the_back_when_lying(model):
    """001_881622d7f40ce67f.txt: a tight psoas pulls the back into an arch when lying on it."""
    r = ms.simulate(model, {"psoas_major": 0.3}, position="supine")
    assert r.ok, r.message
    assert r.change["lumbar_lordosis_deg"] > 1.0


def test_lift_off_is_reported(model):
    r = ms.simulate(model, {"glutes": 0.3}, position="supine")
    assert r.ok
    assert "lifted off" in r.message
    assert r.regulation["contact:head_neck.occiput_N"] == 0.0


def test_residual_vanishes_at_the_answer(model):
    from musclesim.mechanics import prepare

    b = ms.baseline(model, "supine")
    r = residual(prepare(model), b._state["position"], b._state["z"], b._state["act"],
                 prepare(model).chain.l_tendon_m)
    assert np.max(np.abs(r)) < 1e-6


def test_batch_and_explain_in_lying_positions(model):
    tones = [{"psoas_major": 0.2}, None]
    b = ms.simulate_many(model, tones, position="supine")
    single = ms.simulate(model, tones[0], position="supine")
    assert b.metrics["lumbar_lordosis_deg"][0] == pytest.approx(single.metrics["lumbar_lordosis_deg"], abs=1e-9)
    with pytest.raises(ValueError, match="same position"):
        ms.explain(single, ms.baseline(model))  # a lying result against the standing baseline


def test_explain_lying(model):
    base = ms.baseline(model, "supine")
    r = ms.simulate(model, tightness={"hamstrings": 10}, position="supine")
    e = ms.explain(r, base)["pelvic_tilt_deg"]
    assert {d[0] for d in e.drivers} == {"hamstrings_left", "hamstrings_right"}
    assert e.linear_estimate == pytest.approx(e.change, rel=0.1)
    assert "floor contact" in {k for k, _ in e.moments} or e.moments


def test_lying_geometry_is_in_the_floor_frame(model):
    g = ms.baseline(model, "supine").geometry
    assert g["floor_y"] == 0.0
    for name in ("pelvis.sacrum_back", "thorax_upper.upper_back", "foot.heel_back"):
        assert g["landmarks"][name][1] == pytest.approx(0.0, abs=1e-9)
    # front up, head toward -x
    assert g["landmarks"]["pelvis.asis"][1] > 0.1
    assert g["landmarks"]["head_neck.occiput"][0] < g["landmarks"]["foot.heel_back"][0]
    assert "floor_y" not in ms.baseline(model).geometry


def test_a_pillow_under_the_knees_flexes_hips_and_knees_and_flattens_the_back(model):
    """``supine_pillow``: the thighs rest on a 10 cm support just above the knees (001's "pillow under
    the knees"); hips and knees flex a little, the pelvis tilts back and the lumbar curve flattens
    against lying flat, and the pillow carries the legs."""
    from musclesim.positions import PILLOW_HEIGHT_M

    flat, pillow = ms.simulate(model, position="supine"), ms.simulate(model, position="supine_pillow")
    assert flat.ok and pillow.ok, pillow.message
    assert PILLOW_HEIGHT_M == pytest.approx(0.10)
    assert 5.0 < pillow.metrics["hip_flexion_deg"] < 25.0 and 5.0 < pillow.metrics["knee_flexion_deg"] < 25.0
    assert pillow.metrics["hip_flexion_deg"] > flat.metrics["hip_flexion_deg"] + 2.0
    assert pillow.metrics["lumbar_lordosis_deg"] < flat.metrics["lumbar_lordosis_deg"] - 3.0
    assert pillow.metrics["pelvic_tilt_deg"] < flat.metrics["pelvic_tilt_deg"] - 3.0
    assert pillow.regulation["contact:thigh.knee_back_N"] > 100.0
    weight = model.subject.body_mass_kg * model.subject.gravity_m_per_s2
    carried = sum(v for k, v in pillow.regulation.items() if k.startswith("contact:") and k.endswith("_N")
                  and "shear" not in k)
    assert carried == pytest.approx(weight, rel=0.02)  # the contacts carry the body's weight
    assert ms.simulate(model, {"psoas_major": 0.3}, "supine_pillow").ok
