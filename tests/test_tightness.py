"""Tightness (contracture), separate from tone, in degrees of range of motion lost."""

from __future__ import annotations

import numpy as np
import pytest

import musclesim as ms
from musclesim.errors import TightnessRangeError, UnknownMuscleError
from musclesim.simulation import tendon_lengths, tightness_joints


def test_main_joints_follow_the_clinical_tests(model):
    j = tightness_joints(model)
    assert j["psoas_major_left"][0] == "hip"  # Thomas test
    assert j["hamstrings_left"][0] == "hip"  # straight-leg raise
    assert j["gastrocnemius_left"][0] == "ankle"
    assert j["erector_spinae_left"][0].startswith(("L", "T"))


def test_tightness_shortens_the_unit_by_arm_times_angle(model):
    base = tendon_lengths(model, None)
    tight = tendon_lengths(model, {"psoas_major_left": 20})
    i = model.muscle_ids.index("psoas_major_left")
    arm = tightness_joints(model)["psoas_major_left"][1]
    assert base[i] - tight[i] == pytest.approx(arm * np.radians(20), rel=1e-12)
    assert np.array_equal(np.delete(base, i), np.delete(tight, i))


def test_hip_flexor_contracture_raises_hip_extensor_force(model):
    """Inai et al. 2017: hip-extensor force rises with a 0-30 deg hip flexion contracture."""
    def extensor_force(deg):
        r = ms.simulate(model, tightness={"psoas_major": deg, "iliacus": deg})
        assert r.ok, r.message
        return sum(v for k, v in r.muscle_force_N.items() if k.startswith(("gluteus_maximus", "hamstrings")))
    forces = [extensor_force(d) for d in (0, 10, 20, 30)]
    assert all(b > a for a, b in zip(forces, forces[1:])), forces


def test_tightness_is_separate_from_tone(model):
    t = ms.simulate(model, tightness={"hamstrings": 15})
    assert t.activation == ms.baseline(model).activation  # tone unchanged
    assert t.change["pelvic_tilt_deg"] < -1.0  # tight hamstrings tilt the pelvis back
    assert dict(t.tightness) == {"hamstrings": 15}


def test_tightness_errors(model):
    with pytest.raises(TightnessRangeError) as e:
        ms.simulate(model, tightness={"psoas_major": 90})
    assert "psoas_major" in str(e.value) and "[0, 45]" in str(e.value)
    with pytest.raises(UnknownMuscleError):
        ms.simulate(model, tightness={"psoas": 10})


def test_explain_attributes_a_contracture(model):
    base = ms.simulate(model)
    r = ms.simulate(model, tightness={"hamstrings": 10})
    e = ms.explain(r, base)["pelvic_tilt_deg"]
    assert {d[0] for d in e.drivers} == {"hamstrings_left", "hamstrings_right"}
    assert e.linear_estimate == pytest.approx(e.change, rel=0.05)
