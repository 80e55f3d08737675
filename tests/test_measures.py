"""Measures: exact identities, the baseline against literature norms, and signs."""

from __future__ import annotations

import numpy as np
import pytest

import musclesim as ms
from musclesim.metrics import MEASURES


def test_pelvic_incidence_identity_holds_exactly(model):
    for tone in (None, {"psoas_major": 0.5}, {"glutes": 0.3}, {"hamstrings": 0.3, "abdominals": 0.2}):
        m = ms.simulate(model, tone).metrics
        assert m["pelvic_incidence_deg"] == pytest.approx(m["radiographic_pelvic_tilt_deg"] + m["sacral_slope_deg"],
                                                          abs=1e-9)


def test_pelvic_incidence_is_the_subjects_constant(model):
    pis = [ms.simulate(model, t).metrics["pelvic_incidence_deg"] for t in (None, {"psoas_major": 0.6}, {"glutes": 0.5})]
    assert max(pis) - min(pis) < 1e-9
    assert pis[0] == pytest.approx(model.subject.pelvic_incidence_deg, abs=0.2)


# REFERENCE.md A and issue 3 requirement 8
NORMS = {
    "pelvic_tilt_deg": (8, 18),
    "sacral_slope_deg": (28, 48),
    "lumbar_lordosis_deg": (42, 67),
    "pi_minus_ll_deg": (-10, 10),
    "thoracic_kyphosis_deg": (30, 55),
    "sagittal_vertical_axis_mm": (-40, 40),
    "radiographic_pelvic_tilt_deg": (3, 22),
}


@pytest.mark.parametrize("name", NORMS)
def test_baseline_lies_inside_literature_norms(model, name):
    lo, hi = NORMS[name]
    assert MEASURES[name].normal == (lo, hi)  # the registry's band is REFERENCE.md's
    value = ms.baseline(model).metrics[name]
    assert lo <= value <= hi, f"{name} = {value:.2f}, norm {lo}..{hi}"


def test_every_measure_is_documented_and_finite(model):
    m = ms.baseline(model).metrics
    assert set(m) == set(MEASURES)
    assert all(np.isfinite(v) for v in m.values())
    for info in MEASURES.values():
        assert info.unit and info.meaning
        if info.normal:
            assert info.normal[0] < info.normal[1] and info.normal_source


def test_signs_follow_the_design(model):
    """Anterior tilt raises pelvic tilt and sacral slope and lowers radiographic PT (DESIGN section 6)."""
    r = ms.simulate(model, {"psoas_major": 0.4})
    c = r.change
    assert c["pelvic_tilt_deg"] > 0
    assert c["sacral_slope_deg"] > 0
    assert c["radiographic_pelvic_tilt_deg"] < 0
    assert c["hip_flexion_deg"] > 0
    # the hip's extension reserve shrinks by exactly the added hip flexion
    assert c["hip_extension_reserve_left_deg"] == pytest.approx(c["hip_flexion_deg"], abs=1e-9)


def test_pelvic_tilt_tracks_the_pelvis_rotation(model):
    """ASIS-PSIS tilt and sacral slope change by the same angle: both are rigid lines on the pelvis."""
    r = ms.simulate(model, {"glutes": 0.3})
    assert r.change["pelvic_tilt_deg"] == pytest.approx(r.change["sacral_slope_deg"], abs=1e-9)


def test_lumbar_compression_in_the_measured_range_at_baseline(model):
    lo, hi = MEASURES["lumbar_compression_N"].normal
    assert lo <= ms.baseline(model).metrics["lumbar_compression_N"] <= hi
