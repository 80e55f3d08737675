"""Sensitivity: the Morris design and effects on known functions, and the ranking on the model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import musclesim as ms
from musclesim.analysis_plots import tornado_figure
from musclesim.sensitivity_analysis import morris_design, morris_effects
from musclesim.tables import MissingExtraError


@pytest.fixture(scope="module")
def tilt(model):
    return ms.sensitivity(model, "pelvic_tilt_deg")


# --------------------------------------------------------------------------- the method, on known functions

@pytest.mark.parametrize("levels", [2, 4, 6])
def test_morris_trajectories_move_each_factor_once_by_delta(levels):
    k, T = 7, 12
    U, moved = morris_design(k, T, levels, np.random.default_rng(3))
    delta = levels / (2 * (levels - 1))
    assert U.shape == (T, k + 1, k) and U.min() >= 0 and U.max() <= 1
    grid = np.arange(levels) / (levels - 1)
    assert np.all(np.isclose(U[..., None], grid).any(axis=-1))  # every point on the grid
    for t in range(T):
        assert sorted(moved[t]) == list(range(k))
        steps = np.diff(U[t], axis=0)
        for s in range(k):
            nz = np.flatnonzero(np.abs(steps[s]) > 1e-12)
            assert list(nz) == [moved[t, s]] and abs(steps[s, nz[0]]) == pytest.approx(delta)


def test_morris_effects_recover_a_linear_function_exactly():
    rng = np.random.default_rng(0)
    a = np.array([2.0, -3.0, 0.0, 0.5, 10.0])
    U, moved = morris_design(5, 10, 4, rng)
    lo, width = 0.1, 0.3
    Y = (lo + width * U) @ a
    ee = morris_effects(U, moved, Y, width)
    np.testing.assert_allclose(ee, np.broadcast_to(a, ee.shape), atol=1e-9)


def test_morris_sigma_flags_nonlinearity_and_interaction():
    U, moved = morris_design(3, 40, 4, np.random.default_rng(1))
    Y = U[..., 0] + 4 * U[..., 1] ** 2  # x0 linear, x1 nonlinear, x2 inert
    ee = morris_effects(U, moved, Y)
    mu_star, sigma = np.abs(ee).mean(0), ee.std(0)
    assert sigma[0] < 1e-9 and sigma[1] > 0.5 and mu_star[2] == 0.0


def test_morris_effects_skip_failed_outputs():
    U, moved = morris_design(3, 4, 4, np.random.default_rng(2))
    Y = U.sum(axis=-1)
    Y[0, 1] = np.nan  # the point after the first step: two effects of trajectory 0 are lost
    ee = morris_effects(U, moved, Y)
    assert np.isnan(ee).sum() == 2 and np.isnan(ee[0]).sum() == 2


# --------------------------------------------------------------------------- on the model

def test_hip_extensors_lead_and_psoas_beats_tibialis_anterior_for_pelvic_tilt(tilt):
    top3 = tilt.top(3)
    assert {"hamstrings", "gluteus_maximus"} <= set(top3)  # the strongest pelvic tilt controllers
    mu = dict(zip(tilt.muscles, tilt.indices["mu_star"]))
    assert mu["psoas_major"] > 3 * mu["tibialis_anterior"]
    assert mu["psoas_major"] > mu["psoas_minor"] and mu["iliacus"] > mu["diaphragm"]
    mean = dict(zip(tilt.muscles, tilt.indices["mu"]))
    assert mean["psoas_major"] > 0 > mean["hamstrings"]  # flexors tilt forward, extensors back


def test_local_derivative_and_swing_match_single_solves(model, tilt):
    i = tilt.muscles.index("psoas_major")
    t0 = model.muscle("psoas_major").default_tone
    up = ms.simulate(model, {"psoas_major": t0 + 0.01}, frames=False).metrics["pelvic_tilt_deg"]
    down = ms.simulate(model, {"psoas_major": t0 - 0.01}, frames=False).metrics["pelvic_tilt_deg"]
    assert tilt.derivative[i] == pytest.approx((up - down) / 0.02, rel=1e-6)
    assert tilt.derivative[i] > 0 > tilt.derivative[tilt.muscles.index("hamstrings")]
    high = ms.simulate(model, {"psoas_major": 0.3}, frames=False)
    assert tilt.high[i] == pytest.approx(high.change["pelvic_tilt_deg"], abs=1e-7)
    assert tilt.high[i] == pytest.approx(3.7, abs=0.3)  # README table: psoas 0.3 -> +3.7 deg


def test_failed_ends_are_reported_not_hidden(tilt):
    g = tilt.muscles.index("gastrocnemius")
    assert np.isnan(tilt.high[g])  # calves at 0.3: no standing posture
    assert tilt.n_failed > 0 and tilt.swing[g] == pytest.approx(abs(tilt.low[g]))
    assert any("left out" in n for n in tilt.notes)


def test_erector_spinae_leads_for_lordosis(model):
    s = ms.sensitivity(model, "lumbar_lordosis_deg", trajectories=20)
    assert "erector_spinae" in s.top(2)
    mu = dict(zip(s.muscles, s.indices["mu_star"]))
    assert mu["psoas_major"] > 5 * mu["tibialis_anterior"]


def test_same_seed_same_answer_and_groups_as_factors(model):
    a = ms.sensitivity(model, "pelvic_tilt_deg", ["glutes", "hip_flexors", "calves"], trajectories=4, seed=7)
    b = ms.sensitivity(model, "pelvic_tilt_deg", ["glutes", "hip_flexors", "calves"], trajectories=4, seed=7)
    np.testing.assert_array_equal(a.indices["mu_star"], b.indices["mu_star"])
    assert a.derivative[0] < 0 < a.derivative[1]  # glutes tilt back, hip flexors forward


def test_html_dict_and_tornado(tilt):
    html = tilt._repr_html_()
    assert "psoas_major" in html and "mu_star" in html and "<table>" in html
    d = json.loads(json.dumps(tilt.as_dict()))
    assert d["muscles"][0]["rank"] == 1 and d["ranked_by"] == "mu_star"
    fig = tornado_figure(tilt, n=8)
    assert len(fig.data) == 2 and len(fig.data[0].y) == 8
    swing = [m for m, _ in tilt.ranking("swing")[:8]]
    assert list(fig.data[0].y) == [m.replace("_", " ") for m in swing]


def test_sobol_with_salib(model):
    pytest.importorskip("SALib")
    s = ms.sensitivity(model, "pelvic_tilt_deg", ["hamstrings", "psoas_major", "tibialis_anterior"],
                       method="sobol", samples=32)
    st = dict(zip(s.muscles, s.indices["ST"]))
    assert st["hamstrings"] > st["tibialis_anterior"] and st["psoas_major"] > st["tibialis_anterior"]
    assert s.key == "ST" and s.top(1) != ["tibialis_anterior"]


def test_sobol_without_salib_names_the_extra(model, monkeypatch):
    monkeypatch.setitem(sys.modules, "SALib", None)
    with pytest.raises(MissingExtraError, match=r"musclesim\[analysis\]"):
        ms.sensitivity(model, "pelvic_tilt_deg", method="sobol")


def test_bad_arguments(model):
    with pytest.raises(ms.errors.UnknownMeasureError):
        ms.sensitivity(model, "tilt")
    with pytest.raises(ms.errors.UnknownMuscleError):
        ms.sensitivity(model, "pelvic_tilt_deg", ["psoas_majr"])
    with pytest.raises(ValueError):
        ms.sensitivity(model, "pelvic_tilt_deg", tone_range=(0.3, 0.1))


def test_cli_writes_the_tornado_and_json(tmp_path):
    out = tmp_path / "tornado.html"
    p = subprocess.run([sys.executable, "-m", "musclesim", "sensitivity", "pelvic_tilt_deg", "-o", str(out), "--json",
                        "--trajectories", "6", "--muscles", "psoas_major,hamstrings,tibialis_anterior"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    html = out.read_text()
    assert html.startswith("<html>") or "<html" in html[:200]
    assert "plotly" in html and "psoas major" in html
    data = json.loads(p.stdout[p.stdout.index("{"):])
    assert [m["muscle"] for m in data["muscles"]][0] in ("hamstrings", "psoas_major")
    assert not list(tmp_path.glob(".*.tmp"))
