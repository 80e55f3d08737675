"""The Python API: names, errors, frames, immutability."""

from __future__ import annotations

import subprocess
import sys

import pytest

import musclesim as ms
from musclesim.errors import (
    ModelNotFoundError,
    MusclesimError,
    ToneRangeError,
    UnknownMuscleError,
    UnknownPositionError,
)


def test_import_is_fast_and_does_no_work():
    code = "import time,sys; t=time.perf_counter(); import musclesim; print(time.perf_counter()-t); " \
           "print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert float(out[0]) < 0.5
    assert out[1] == "False"


def test_unknown_muscle_suggests_close_names(model):
    with pytest.raises(UnknownMuscleError) as e:
        ms.simulate(model, {"psoas_majr": 0.5})
    assert "psoas_major" in str(e.value)
    assert isinstance(e.value, KeyError) and isinstance(e.value, MusclesimError)


@pytest.mark.parametrize("bad", [7, -0.1, 1.0001, float("nan"), "0.5", True, None])
def test_tone_outside_range_names_muscle_and_range(model, bad):
    with pytest.raises(ToneRangeError) as e:
        ms.simulate(model, {"iliacus_left": bad})
    assert "iliacus_left" in str(e.value) and "[0, 1]" in str(e.value)
    assert isinstance(e.value, ValueError)


def test_unknown_position(model):
    with pytest.raises(UnknownPositionError) as e:
        ms.simulate(model, position="standin")
    assert "standing" in str(e.value)


def test_unknown_model():
    with pytest.raises(ModelNotFoundError) as e:
        ms.load_model("no_such_model")
    assert "adult_standing" in str(e.value)


def test_names_groups_and_sides(model):
    names = model.names()
    assert set(names["psoas_major"]) == {"psoas_major_left", "psoas_major_right"}
    assert {"psoas_major_left", "iliacus_right", "rectus_femoris_left"} <= set(names["hip_flexors"])
    for group in ("hip_flexors", "abdominals", "obliques", "glutes", "hamstrings", "calves", "back_extensors"):
        assert names[group], group


def test_most_specific_name_wins_whatever_the_order(model):
    a = ms.simulate(model, {"psoas_major_left": 0.1, "hip_flexors": 0.4}, coupling=False)
    b = ms.simulate(model, {"hip_flexors": 0.4, "psoas_major_left": 0.1}, coupling=False)
    assert a.activation["psoas_major_left"] == b.activation["psoas_major_left"] == 0.1
    assert a.activation["psoas_major_right"] == 0.4
    assert a.metrics == b.metrics


def test_result_is_read_only(model):
    r = ms.simulate(model, {"psoas_major": 0.3})
    with pytest.raises(TypeError):
        r.metrics["pelvic_tilt_deg"] = 0.0
    with pytest.raises(AttributeError):
        r.converged = False


def test_result_reports_convergence(model):
    r = ms.simulate(model, {"psoas_major": 0.3})
    assert r.converged and r.stable and r.ok
    assert r.residual_Nm < 1e-6
    assert r.iterations > 0


def test_frames_show_coupling_then_posture(model):
    r = ms.simulate(model, {"psoas_major_left": 0.6})
    kinds = [f.kind for f in r.frames]
    assert kinds[0] == "coupling" and kinds[-1] == "posture"
    coupling = [f for f in r.frames if f.kind == "coupling"]
    posture = [f for f in r.frames if f.kind == "posture"]
    # the first coupling frame is the request itself; later ones spread it to partners
    assert coupling[0].activation["psoas_major_left"] == 0.6
    assert coupling[0].activation["gluteus_maximus_left"] == model.default_tone["gluteus_maximus_left"]
    assert coupling[-1].activation["gluteus_maximus_left"] < model.default_tone["gluteus_maximus_left"]
    assert coupling[-1].activation["iliacus_left"] > model.default_tone["iliacus_left"]
    # posture frames move monotonically from the baseline to the answer
    tilts = [f.metrics["pelvic_tilt_deg"] for f in posture]
    assert tilts == sorted(tilts)
    assert posture[-1].fraction == 1.0
    assert tilts[-1] == pytest.approx(r.metrics["pelvic_tilt_deg"], abs=1e-9)


def test_coupling_off_isolates_mechanics(model):
    r = ms.simulate(model, {"psoas_major_left": 0.6}, coupling=False)
    changed = {k for k, v in r.activation.items() if v != model.default_tone[k]}
    assert changed == {"psoas_major_left"}


def test_coupling_fixed_point_holds(model):
    import numpy as np

    from musclesim.simulation import _coupling

    r = ms.simulate(model, {"abdominals": 0.5})
    a = np.array([r.activation[m] for m in model.muscle_ids])
    t = np.array([0.5 if m in model.names()["abdominals"] else model.default_tone[m] for m in model.muscle_ids])
    t0 = np.array([model.default_tone[m] for m in model.muscle_ids])
    np.testing.assert_allclose(a, np.clip(t + _coupling(model) @ (a - t0), 0, 1), atol=1e-10)


def test_baseline_is_its_own_change_free_result(model):
    b = ms.simulate(model)
    assert all(abs(v) < 1e-12 for v in b.change.values())


def test_results_are_deterministic(model):
    a = ms.simulate(model, {"hamstrings": 0.35}).metrics
    b = ms.simulate(model, {"hamstrings": 0.35}).metrics
    assert dict(a) == dict(b)


def test_cannot_stand_is_reported_as_such(model):
    r = ms.simulate(model, {"calves": 0.5})
    assert not r.ok and r.message.startswith("cannot stand:")
    b = ms.simulate_many(model, [{"calves": 0.5}])
    assert b.messages[0].startswith("cannot stand:")


def test_poses_beyond_the_range_of_motion_are_flagged(model):
    from musclesim.simulation import range_violations

    r = ms.simulate(model, {"psoas_major": 0.6})
    flagged = range_violations(model, r._state["eq"].q)
    assert r.ok
    assert all(name.split()[0] in r.pose_deg for name in flagged)
    if flagged:
        assert "beyond the range of motion" in r.message
