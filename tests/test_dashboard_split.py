"""The dashboard's mechanics / assumed-coupling split and its neural-coupling toggle (no browser).

The split's numbers come from ``Result.split`` (musclesim.attribution) through
``dashboard.compute.split``; these tests check the state field and its URL form, the text built
from a split (hand-made split-like data and a real one), the views and the export.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re

import pytest

import musclesim as ms

PSOAS = {"psoas_major_left": 0.3, "psoas_major_right": 0.3}


def _split(state="applied", rows=None, message="how it was made", grade="none", label="estimate, unsourced"):
    """A hand-made split in dashboard.compute.split's plain-data form."""
    return {"state": state, "message": message, "ok": state != "failed", "coupling": state != "off",
            "evidence": {"grade": grade, "label": label, "source": "estimate, unsourced: a guess"},
            "measures": rows or {}}


def _row(total, mechanics, coupling=None):
    if coupling is None and mechanics is not None and total is not None:
        coupling = total - mechanics
    return {"total": total, "mechanics": mechanics, "coupling": coupling}


def _parts(headline: str) -> tuple[float, float, float]:
    """(total, mechanics, coupling) read back from a headline's printed numbers."""
    m = re.search(r" ([+-]\d+(?:\.\d+)?)\D* = ([+-]\d+(?:\.\d+)?)\D* mechanics ([+−]) (\d+(?:\.\d+)?)\D* assumed "
                  r"coupling$", headline)
    assert m, headline
    sign = -1.0 if m.group(3) == "−" else 1.0
    return float(m.group(1)), float(m.group(2)), sign * float(m.group(4))


def _controls(model, state, **kw):
    """next_state's keyword arguments for the page at rest (as tests/test_dashboard_figures.py)."""
    from dashboard import ids
    from dashboard.lessons import all_controls

    base = {"search": "", "values": [model.default_tone[m] for m in model.muscle_ids],
            "slider_ids": [ids.tone(m) for m in model.muscle_ids], "position": ms.POSITIONS[0],
            "measure": "pelvic_tilt_deg", "view": "trunk", "link": ["link"], "state": state,
            "lesson_ids": [ids.lesson_tone(n) for n in all_controls()],
            "lesson_values": [0.0 for _ in all_controls()], "lesson": None, "draw": [], "coupling": ["on"]}
    base.update(kw)
    return base


# --------------------------------------------------------------------------- state and URL


def test_coupling_is_on_by_default_and_round_trips_through_the_url(model):
    from dashboard.state import default_state, format_query, parse_query

    positions, measures = ms.POSITIONS, list(ms.MEASURES)
    assert default_state(positions, measures)["coupling"] is True
    st, errors = parse_query("?psoas_major=0.3", model, positions, measures)
    assert not errors and st["coupling"] is True
    assert "coupling" not in format_query(st, model, positions)  # the default stays out of the link
    st, errors = parse_query("?psoas_major=0.3&coupling=0", model, positions, measures)
    assert not errors and st["coupling"] is False and st["tone"] == PSOAS
    q = format_query(st, model, positions)
    assert "coupling=0" in q.lstrip("?").split("&")
    assert parse_query(q, model, positions, measures) == (st, [])
    for on in ("1", "true", "on", "yes"):
        assert parse_query(f"?coupling={on}", model, positions, measures) == (default_state(positions, measures), [])
    # scenario A keeps its own coupling
    st_a, errors = parse_query("?psoas_major=0.3&a.psoas_major=0.3&a.coupling=0&ab=1", model, positions, measures)
    assert not errors and st_a["coupling"] is True and st_a["a"]["coupling"] is False
    q = format_query(st_a, model, positions)
    assert "a.coupling=0" in q and "&coupling=0" not in q
    assert parse_query(q, model, positions, measures) == (st_a, [])


@pytest.mark.parametrize("value", ["maybe", "2", "", "%%"])
def test_a_bad_coupling_value_is_a_message_not_a_crash(model, value):
    from dashboard.state import parse_query

    st, errors = parse_query(f"?psoas_major=0.3&coupling={value}", model, ms.POSITIONS, list(ms.MEASURES))
    assert st["coupling"] is True  # the default, and the message says so
    assert st["tone"] == PSOAS  # a bad toggle does not throw the scenario away
    assert len(errors) == 1 and "neural tone coupling" in errors[0] and "use 1 for on or 0 for off" in errors[0]
    assert "using 1 (on)" in errors[0]
    assert "unknown muscle" not in errors[0].lower()  # "coupling" is a reserved key, not a muscle name
    st, errors = parse_query(f"?a.coupling={value}", model, ms.POSITIONS, list(ms.MEASURES))
    assert st["a"]["coupling"] is True and "scenario A's neural tone coupling" in errors[0]


def test_the_toggle_changes_the_state_and_the_link(model):
    from dashboard import callbacks, ids

    on = callbacks.next_state(None, **_controls(model, None, search="?psoas_major=0.3"))
    assert on["coupling"] == ["on"] and on["state"]["coupling"] is True
    off = callbacks.next_state(ids.COUPLING, **_controls(model, on["state"], coupling=[]))
    assert off["state"]["coupling"] is False and off["coupling"] == []
    assert off["search"] == "?psoas_major=0.3&coupling=0" and off["state"]["tone"] == PSOAS
    back = callbacks.next_state(ids.COUPLING, **_controls(model, off["state"], coupling=["on"]))
    assert back["state"]["coupling"] is True and back["search"] == "?psoas_major=0.3"
    # another control leaves the toggle as it is; Store as A keeps it with A
    moved = callbacks.next_state(ids.POSITION, **_controls(model, off["state"], position="supine"))
    assert moved["state"]["coupling"] is False and moved["coupling"] == []
    stored = callbacks.next_state(ids.STORE_A, **_controls(model, off["state"]))
    assert stored["state"]["a"]["coupling"] is False and "a.coupling=0" in stored["search"]


# --------------------------------------------------------------------------- the text


def test_split_text_reads_total_equals_mechanics_plus_coupling():
    from dashboard.components import split_text

    sp = _split(rows={"pelvic_tilt_deg": _row(3.880251933, 0.756406209)})
    t = split_text(sp, "pelvic_tilt_deg", "deg")
    assert t["headline"] == "Pelvic tilt +3.9° = +0.8° mechanics + 3.1° assumed coupling"
    assert t["evidence"] == "assumed coupling — estimate, unsourced; evidence: none"
    assert t["parts"] == ("+3.9°", "+0.8°", "+3.1°") and not t["message"]


@pytest.mark.parametrize("total, mech, unit", [
    (1.26, 0.64, "deg"),  # rounded alone: 1.3 = 0.6 + 0.6 would not add up
    (1.0, 1.5, "deg"),  # the coupling takes away
    (-2.34, -0.05, "deg"),
    (12.6, 4.4, "mm"),  # whole millimetres
    (0.04, 0.01, "deg"),
])
def test_printed_parts_add_up_to_the_printed_total(total, mech, unit):
    from dashboard.components import split_text

    t = split_text(_split(rows={"m": _row(total, mech)}), "m", unit)
    if t["headline"] is None:
        assert "no change" in t["message"]
        return
    shown_total, shown_mech, shown_coup = _parts(t["headline"])
    step = 1.0 if unit == "mm" else 0.1
    assert shown_mech + shown_coup == pytest.approx(shown_total, abs=1e-9)
    assert shown_total == pytest.approx(total, abs=step / 2 + 1e-9)
    assert shown_mech == pytest.approx(mech, abs=step / 2 + 1e-9)
    assert shown_coup == pytest.approx(total - mech, abs=step + 1e-9)  # within one printed step
    if total < mech:
        assert "− " in t["headline"]


def test_split_text_shows_the_message_when_the_parts_are_unknown():
    from dashboard.components import split_summary, split_text

    why = "with the coupling off no posture was found for this request"
    failed = _split("failed", {"pelvic_tilt_deg": _row(3.9, None, None)}, message=why)
    t = split_text(failed, "pelvic_tilt_deg", "deg")
    assert t["headline"] is None and t["parts"] is None and why in t["message"] and "unknown" in t["message"]
    assert "°" not in t["message"]  # no numbers instead of the message
    nan = _split("applied", {"pelvic_tilt_deg": _row(math.nan, 0.5, math.nan)}, message="this result found no posture")
    t = split_text(nan, "pelvic_tilt_deg", "deg")
    assert t["headline"] is None and "this result found no posture" in t["message"]
    html = str(split_summary(failed, "pelvic_tilt_deg", "deg"))
    assert why in html and "split-headline" not in html


def test_split_text_off_no_effect_no_change_and_hidden():
    from dashboard.components import split_text

    off = split_text(_split("off", {"pelvic_tilt_deg": _row(0.76, 0.76, 0.0)}), "pelvic_tilt_deg", "deg")
    assert off["headline"] == "Pelvic tilt +0.8° = +0.8° mechanics + 0.0° assumed coupling"
    assert "switched off" in off["evidence"] and "all of the change is mechanics" in off["evidence"]
    none = split_text(_split("no effect", {"pelvic_tilt_deg": _row(2.0, 2.0, 0.0)}), "pelvic_tilt_deg", "deg")
    assert none["headline"].endswith("+ 0.0° assumed coupling") and "changed no muscle's tone" in none["evidence"]
    same = split_text(_split("no effect", {"pelvic_tilt_deg": _row(0.0, 0.0, 0.0)}), "pelvic_tilt_deg", "deg")
    assert same["headline"] is None and "no change" in same["message"] and not same["evidence"]
    hidden = split_text(_split(rows={"pelvic_tilt_deg": _row(3.9, 0.8)}), "pelvic_tilt_deg", "deg", hidden=True)
    assert hidden["headline"] is None and "hidden" in hidden["message"] and "3.9" not in hidden["message"]
    ungraded = split_text(_split(rows={"x": _row(1.0, 0.5)}, grade="not graded", label="source: Smith 2020"), "x", "deg")
    assert ungraded["evidence"] == "assumed coupling — source: Smith 2020; evidence: not graded"


def test_a_real_split_reads_the_same(model):
    from dashboard import compute
    from dashboard.components import split_text

    res = ms.simulate(model, tone=PSOAS)
    sp = res.split["pelvic_tilt_deg"]
    for given in (res.split, compute.split(PSOAS, "standing")):
        total, mech, coup = _parts(split_text(given, "pelvic_tilt_deg", "deg")["headline"])
        assert total == pytest.approx(sp["total"], abs=0.05 + 1e-9)
        assert mech == pytest.approx(sp["mechanics"], abs=0.05 + 1e-9)
        assert coup == pytest.approx(sp["coupling"], abs=0.1 + 1e-9)
        assert coup > 0.5  # the assumed coupling carries a real share here


# --------------------------------------------------------------------------- views, memo and export


def test_compute_split_is_memoised_and_read_only(model):
    from dashboard import compute

    tone = {"psoas_major_left": 0.27}
    first = compute.split(tone, "standing")
    hits = compute._split.cache_info().hits
    assert compute.split(dict(tone), "standing") is first and compute._split.cache_info().hits == hits + 1
    with pytest.raises(TypeError):
        first["measures"]["pelvic_tilt_deg"]["mechanics"] = 0.0  # shared by every visitor: read-only
    assert compute.split(tone, "standing", coupling=False) is not first
    assert compute.split(tone, "standing", coupling=False)["state"] == "off"


def test_views_show_the_split_and_the_toggle_switches_the_coupling_off(model):
    from dashboard import callbacks, ids

    on = callbacks.update_views({"tone": PSOAS, "why": True})  # the why panel open
    want = ms.simulate(model, tone=PSOAS).split["pelvic_tilt_deg"]
    headline = re.search(r"Pelvic tilt [^']*assumed coupling", str(on[f"{ids.SPLIT}.children"])).group(0)
    total, mech, coup = _parts(headline)
    assert mech == pytest.approx(want["mechanics"], abs=0.05 + 1e-9) and total == pytest.approx(want["total"], abs=0.05)
    assert "evidence: none" in str(on[f"{ids.SPLIT}.children"])
    assert headline in str(on[f"{ids.WHY_TEXT}.children"])  # the why panel shows it too
    table = on[f"{ids.MEASURES_DATA}.data"]  # the table's cells (the page draws the table)
    tilt = next(r for r in table["rows"] if r[0] == "pelvic_tilt_deg")
    assert tilt[2:5] == [f"{total:+.1f}°", f"{mech:+.1f}°", f"{coup:+.1f}°"] and table["grade"] == "none"
    assert on[f"{ids.RESULT}.data"]["coupling"]["pelvic_tilt_deg"] == pytest.approx(want["coupling"], abs=1e-4)

    off = callbacks.update_views({"tone": PSOAS, "coupling": False})
    want_off = ms.simulate(model, tone=PSOAS, coupling=False).change["pelvic_tilt_deg"]
    text = str(off[f"{ids.SPLIT}.children"])
    total, mech, coup = _parts(re.search(r"Pelvic tilt [^']*assumed coupling", text).group(0))
    assert coup == 0.0 and mech == total == pytest.approx(want_off, abs=0.05 + 1e-9)
    assert "switched off" in text and "Neural coupling off" in off[f"{ids.STATUS}.children"]
    summary = off[f"{ids.RESULT}.data"]
    assert summary["neural_coupling"] is False and summary["split"]["state"] == "off"
    assert all(v in (0.0, None) for v in summary["coupling"].values())

    hidden = callbacks.update_views({"tone": PSOAS, "predict": True})
    assert "+3.9" not in str(hidden[f"{ids.SPLIT}.children"]) and "hidden" in str(hidden[f"{ids.SPLIT}.children"])


def test_export_has_the_mechanics_and_coupling_columns(model):
    from dashboard import callbacks, ids

    summary = callbacks.update_views({"tone": PSOAS})[f"{ids.RESULT}.data"]
    rows = list(csv.reader(io.StringIO(callbacks.export_csv(summary))))
    assert rows[0] == ["kind", "name", "value", "baseline", "change", "unit", "mechanics", "coupling"]
    tilt = next(r for r in rows if r[:2] == ["measure", "pelvic_tilt_deg"])
    assert float(tilt[6]) + float(tilt[7]) == pytest.approx(float(tilt[4]), abs=2e-4)
    assert float(tilt[7]) > 0.5
    assert ["neural_coupling", "on"] == next(r for r in rows if r[0] == "neural_coupling")[:2]
    assert next(r for r in rows if r[0] == "coupling_evidence")[1:3] == ["none", "estimate, unsourced"]
    data = json.loads(callbacks.export_json(summary))
    assert data["mechanics"]["pelvic_tilt_deg"] == float(tilt[6]) and data["coupling"]["pelvic_tilt_deg"] == float(tilt[7])
    assert data["split"]["evidence"]["grade"] == "none" and data["neural_coupling"] is True
    off = callbacks.update_views({"tone": PSOAS, "coupling": False})[f"{ids.RESULT}.data"]
    assert "neural_coupling,off" in callbacks.export_csv(off)
