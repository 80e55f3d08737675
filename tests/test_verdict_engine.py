"""claims.judge, the one claim-verdict engine: statuses, thresholds and verdicts on hand-made
results, and its two callers (the catalogue and the dashboard's presets) agreeing with it."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

import musclesim as ms
from musclesim.claims import JUDGEMENTS, NO_CHANGE, STATUSES, Expectation, judge


def R(ok=True, message="", forces=None, **metrics):
    return SimpleNamespace(ok=ok, message=message, metrics=metrics, muscle_force_N=forces or {})


REF = R(pelvic_tilt_deg=10.0, head_forward_mm=80.0, lumbar_compression_N=600.0, forces={"psoas_major_left": 50.0})


def status(direction, **values) -> str:
    (name, value), = values.items()
    e = {"direction": direction, "measure": name} if name != "force" else {"direction": direction,
                                                                          "muscle_force": "psoas_major_left"}
    res = R(**{**REF.metrics, **({} if name == "force" else {name: value})},
            forces={"psoas_major_left": value} if name == "force" else REF.muscle_force_N)
    return judge([e], res, REF).checks[0].status


@pytest.mark.parametrize(("unit", "measure", "base"), [("deg", "pelvic_tilt_deg", 10.0), ("mm", "head_forward_mm", 80.0),
                                                       ("N", "lumbar_compression_N", 600.0)])
def test_one_threshold_per_unit_decides_no_change(unit, measure, base):
    thr = NO_CHANGE[unit]
    assert status("up", **{measure: base + 1.01 * thr}) == "reproduced"
    assert status("up", **{measure: base + 0.99 * thr}) == "no change"
    assert status("up", **{measure: base - 0.99 * thr}) == "no change"
    assert status("up", **{measure: base - 1.01 * thr}) == "opposite"
    assert status("down", **{measure: base - 2 * thr}) == "reproduced"
    assert status("either", **{measure: base - 2 * thr}) == "reproduced"
    assert status("either", **{measure: base + 0.5 * thr}) == "no change"


def test_forces_are_held_to_the_newton_threshold():
    assert status("up", force=50.0 + NO_CHANGE["N"]) == "reproduced"
    assert status("down", force=50.0 - 0.5 * NO_CHANGE["N"]) == "no change"


def test_the_thresholds_cover_every_unit_and_are_the_documented_ones():
    assert {m.unit for m in ms.MEASURES.values()} <= set(NO_CHANGE)
    assert dict(NO_CHANGE) == {"deg": 0.1, "mm": 1.0, "mmHg": 1.0, "N": 5.0, "N·m": 0.5}
    from dashboard import presets

    assert presets.NO_CHANGE is NO_CHANGE  # the dashboard has no thresholds of its own


def test_statuses_and_verdicts():
    up = Expectation("up", "pelvic_tilt_deg")
    down = Expectation("down", "head_forward_mm")
    missing = Expectation("up", "pelvic_obliquity_deg")
    res = R(pelvic_tilt_deg=12.0, head_forward_mm=70.0)
    j = judge([up, down], res, REF)
    assert [c.status for c in j.checks] == ["reproduced", "reproduced"] and j.verdict == "reproduced"
    assert j.checks[0].change == pytest.approx(2.0) and j.checks[0].threshold == NO_CHANGE["deg"]
    assert judge([up, down, missing], res, REF).verdict == "partly reproduced"  # one not testable
    assert judge([up, Expectation("up", "head_forward_mm")], res, REF).verdict == "partly reproduced"
    assert judge([Expectation("down", "pelvic_tilt_deg")], res, REF).verdict == "not reproduced"
    assert judge([missing], res, REF).checks[0].status == "not modelled"
    assert judge([missing], res, REF).verdict == "outside the model's scope"
    failed = judge([up], R(ok=False, message="no equilibrium"), REF)
    assert failed.checks[0].status == "no posture" and failed.checks[0].message == "no equilibrium"
    assert failed.verdict == "no stable posture"
    nan = judge([up], R(pelvic_tilt_deg=math.nan), REF)
    assert nan.checks[0].status == "no posture" and nan.verdict == "no stable posture"
    assert {c.status for c in failed.checks + nan.checks + j.checks} <= set(STATUSES)
    assert failed.verdict in JUDGEMENTS


def test_expectations_are_checked():
    with pytest.raises(ValueError):
        Expectation("sideways", "pelvic_tilt_deg")
    with pytest.raises(ValueError):
        Expectation("up")
    assert Expectation.of({"direction": "up", "muscle_force": "psoas_major_left"}).key == "force:psoas_major_left"


def test_preset_verdict_is_the_engine_in_the_dashboard_shape(model):
    """dashboard.presets.verdict returns judge's statuses in the shape the dashboard reads."""
    from dashboard.presets import load_presets, verdict

    p = next(p for p in load_presets() if p.id == "desk_sitter")
    res, ref = ms.simulate(model, p.tone, p.position), ms.simulate(model, position=p.position)
    v = verdict(p, res, ref)
    j = judge(p.expect, res, ref)
    assert v["preset"] == p.id and v["verdict"] == j.verdict == "reproduced"
    for row, c in zip(v["rows"], j.checks, strict=True):
        assert row == {"key": c.expectation.key, "direction": c.expectation.direction, "change": c.change,
                       "unit": c.unit, "status": c.status, "value": c.value, "reference": c.reference}
        assert row["change"] == pytest.approx(res.metrics[row["key"]] - ref.metrics[row["key"]])
    bad = verdict(p, SimpleNamespace(ok=False, message="nope", metrics={}, muscle_force_N={}), ref)
    assert bad["verdict"] == "no stable posture" and bad["rows"][0]["message"] == "nope"


def test_catalogue_verdicts_are_the_engine(model):
    """A claim is reproduced exactly when the engine reproduces every one of its expectations."""
    from musclesim import claims

    for cid in ("C01", "C03", "C24"):
        c = claims.claim(cid)
        v = claims.evaluate(model, c)
        res, ref = claims._run(model, c.scenario), claims._run(model, {"position": "standing"})
        j = judge(c.expect, res, ref)
        assert (v.verdict == "reproduced") == (j.verdict == "reproduced"), cid
        assert v.changes == {k.expectation.label: k.change for k in j.checks}
