"""Figure builders (musclesim.plot, dashboard.figures), URL state, presets and the dashboard's
update function, without a browser."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import plotly.graph_objects as go
import pytest

import musclesim as ms
from musclesim import plot

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.fixture(scope="module")
def base(model):
    return ms.simulate(model)


@pytest.fixture(scope="module")
def res(model):
    r = ms.simulate(model, tone={"psoas_major_left": 0.5})
    assert r.ok, r.message
    return r


@pytest.fixture(scope="module")
def expl(res, base):
    return ms.explain(res, base, measures=["pelvic_tilt_deg"])["pelvic_tilt_deg"]


@pytest.fixture(scope="module")
def G(model):
    return ms.interaction_graph(model)


# --------------------------------------------------------------------------- body views


def _bases(model):
    return {i.base for i in model.instances}


def test_sagittal_has_a_line_per_muscle_the_segments_and_the_asis_psis_line(model, res, base):
    fig = plot.sagittal_figure(res, base)
    assert isinstance(fig, go.Figure)  # validated by plotly
    muscles = [t.meta for t in fig.data if t.meta and not t.meta.startswith("pull:")]
    assert sorted(muscles) == sorted(_bases(model))  # both sides share a path: drawn once
    names = {t.name for t in fig.data}
    assert {"pelvis", "ribcage", "skull", "femur", "tibia", "foot", "spine"} <= names
    line = next(t for t in fig.data if t.name == "ASIS–PSIS line")
    lms = res.geometry["landmarks"]
    assert (line.x[0], line.y[0]) == pytest.approx(lms["pelvis.psis"], abs=1e-4)
    assert (line.x[1], line.y[1]) == pytest.approx(lms["pelvis.asis"], abs=1e-4)
    # the baseline is ghosted behind (drawn first)
    assert fig.data[0].name.startswith("baseline")


def test_bone_outlines_follow_the_pose(res, base):
    """The segments are drawn from the pose: the femur runs hip to knee, the skull sits at the
    ear, and a different pose moves them."""
    shapes = plot.bone_outlines(res.geometry)
    hip, knee = res.geometry["joints"]["hip"], res.geometry["joints"]["knee"]
    femur = shapes["femur"][0]
    assert min(p[1] for p in femur) == pytest.approx(knee[1], abs=0.04)
    assert max(p[1] for p in femur) == pytest.approx(hip[1], abs=0.04)
    tragus = res.geometry["landmarks"]["head_neck.tragus"]
    skull = shapes["skull"][0]
    cx, cy = sum(p[0] for p in skull) / len(skull), sum(p[1] for p in skull) / len(skull)
    assert math.hypot(cx - tragus[0], cy - tragus[1]) < 0.1
    assert plot.bone_outlines(base.geometry)["pelvis"] != shapes["pelvis"]


def test_sagittal_line_width_and_colour_follow_force(res, base):
    fig = plot.sagittal_figure(res, base, as_dict=True)
    traces = {t["meta"]: t for t in fig["data"] if t.get("meta") and t.get("name") == "muscles"}
    forces = res.muscle_force_N
    by_force = sorted(traces, key=lambda b: max(forces.get(b + "_left", 0.0), forces.get(b, 0.0)))
    weakest, strongest = by_force[0], by_force[-1]
    assert traces[strongest]["line"]["width"] > traces[weakest]["line"]["width"]
    assert traces[strongest]["line"]["color"] != traces[weakest]["line"]["color"]
    assert plot.force_width(0) < plot.force_width(100) < plot.force_width(plot.FORCE_SCALE_N) == plot.force_width(1e6)


def test_sagittal_annotates_the_changed_angles(res, base):
    fig = plot.sagittal_figure(res, base, as_dict=True)
    texts = {a["name"]: a["text"] for a in fig["layout"]["annotations"] if a.get("name", "").endswith(("_deg", "_mm"))}
    assert set(texts) == {m for m, _ in plot.ANNOTATED_MEASURES}
    tilt = res.metrics["pelvic_tilt_deg"]
    change = res.change["pelvic_tilt_deg"]
    assert f"{tilt:.1f}°" in texts["pelvic_tilt_deg"]
    assert f"({change:+.1f})" in texts["pelvic_tilt_deg"]


def test_the_changed_muscle_is_highlighted_with_its_line_of_pull(res, base):
    fig = plot.sagittal_figure(res, base, highlight={"psoas_major_left": "tone 0.50"}, as_dict=True)
    lit = [t for t in fig["data"] if t.get("name") == "toned muscle"]
    assert [t["meta"] for t in lit] == ["psoas_major"]
    assert lit[0]["line"]["color"] == plot.HIGHLIGHT_COLOR
    plain = [t for t in fig["data"] if t.get("name") == "muscles"]
    assert lit[0]["line"]["width"] > max(t["line"]["width"] for t in plain)
    # drawn over the bones (after them), with arrowheads at both attachments pointing inward
    order = [t.get("name") for t in fig["data"]]
    assert order.index("toned muscle") > order.index("pelvis")
    pull = next(t for t in fig["data"] if t.get("meta") == "pull:psoas_major")
    path = res.geometry["muscles"]["psoas_major_left"]
    assert (pull["x"][0], pull["y"][0]) == pytest.approx(path[0], abs=1e-4)
    assert (pull["x"][3], pull["y"][3]) == pytest.approx(path[-1], abs=1e-4)
    assert pull["marker"]["symbol"][1] == "arrow" and pull["marker"]["angleref"] == "previous"
    label = next(a for a in fig["layout"]["annotations"] if a.get("name") == "muscle:psoas_major")
    assert "psoas major (left)" in label["text"] and "tone 0.50" in label["text"]
    go.Figure(fig)


def test_exaggeration_scales_the_drawn_change_and_says_so(res, base):
    plain = plot.sagittal_figure(res, base, as_dict=True)
    big = plot.sagittal_figure(res, base, exaggerate=3, as_dict=True)
    asis = lambda f: next(t for t in f["data"] if t.get("name") == "ASIS–PSIS line")  # noqa: E731
    b = base.geometry["landmarks"]["pelvis.asis"]
    d1 = asis(plain)["y"][1] - b[1]
    d3 = asis(big)["y"][1] - b[1]
    assert abs(d1) > 1e-3 and d3 == pytest.approx(3 * d1, abs=3e-4)
    assert "exaggerated" in big["layout"]["title"]["text"] and "exaggerated" not in plain["layout"]["title"]["text"]
    texts = lambda f: sorted(a["text"] for a in f["layout"]["annotations"] if a.get("name", "").endswith("_deg"))  # noqa
    assert texts(plain) == texts(big)  # the numbers printed stay true
    same = plot.exaggerate_change(base.geometry, base.geometry, 3)
    assert same["landmarks"]["pelvis.asis"] == pytest.approx(base.geometry["landmarks"]["pelvis.asis"])


# --------------------------------------------------------------------------- the label layout rule


def test_place_labels_never_overlaps_and_stays_near_its_wish():
    import random

    rng = random.Random(1)
    for _ in range(300):
        n = rng.randint(1, 8)
        wanted = [rng.uniform(0, 10) for _ in range(n)]
        sizes = [rng.uniform(0.2, 2.0) for _ in range(n)]
        lo, hi, gap = 0.0, rng.uniform(3, 14), rng.uniform(0, 0.3)
        c = plot.place_labels(wanted, sizes, lo, hi, gap)
        for i in range(n):
            for j in range(i + 1, n):
                assert abs(c[i] - c[j]) >= (sizes[i] + sizes[j]) / 2 + gap - 1e-9
        if sum(sizes) + gap * (n - 1) <= hi - lo:  # they fit: all inside the bounds
            assert all(lo - 1e-9 <= ci - s / 2 and ci + s / 2 <= hi + 1e-9 for ci, s in zip(c, sizes))
    # labels that do not collide stay where they want to be; two that do are pushed apart
    assert plot.place_labels([1, 5], [1, 1], 0, 10) == [1, 5]
    assert plot.place_labels([5, 5.2], [1, 1], 0, 10, 0.0) == [5, 6]
    assert plot.place_labels([9.8], [1], 0, 10) == [9.5]  # pulled inside the bounds


def test_label_extent_grows_with_text_and_font():
    w1, h1 = plot.label_extent_px("<b>pelvic tilt</b><br>14.9° (=)", 13)
    w2, h2 = plot.label_extent_px("<b>pelvic tilt</b><br>14.9° (=)", 18)
    w3, h3 = plot.label_extent_px("<b>lumbar lordosis</b>", 13)
    assert w2 > w1 and h2 > h1 and h3 < h1 and w3 > w1


@pytest.mark.parametrize("focus", ["trunk", "body"])
@pytest.mark.parametrize("min_px", [(360, 420), (250, 460), (440, 500)])
def test_side_view_label_boxes_never_overlap(model, focus, min_px):
    """The labels of the side view, as boxes of their estimated size at the smallest plot area
    the figure is laid out for, overlap neither each other nor leave the window."""
    tone = {"psoas_major_left": 0.4, "psoas_major_right": 0.4, "iliacus_left": 0.4, "iliacus_right": 0.4,
            "hamstrings_left": 0.2, "gluteus_maximus_left": 0.2}
    res, base = ms.simulate(model, tone=tone), ms.simulate(model)
    fig = plot.sagittal_figure(res, base, focus=focus, highlight=tone, min_px=min_px, as_dict=True)
    (x0, x1), (y0, y1) = fig["layout"]["xaxis"]["range"], fig["layout"]["yaxis"]["range"]
    s = min(min_px[0] / (x1 - x0), min_px[1] / (y1 - y0))
    boxes = []
    for a in fig["layout"]["annotations"]:
        if a.get("xref") != "x":
            continue
        w, h = plot.label_extent_px(a["text"], a["font"]["size"])
        bx0 = a["ax"] if a["xanchor"] == "left" else a["ax"] - w / s / 2
        boxes.append((a["name"], (bx0, a["ay"] - h / s / 2, bx0 + w / s, a["ay"] + h / s / 2)))
    assert len(boxes) == 4 + 3  # four measures, two muscles by name, one "also changed"
    for i, (n1, b1) in enumerate(boxes):
        assert x0 - 1e-6 <= b1[0] and b1[2] <= x1 + 1e-6 and y0 - 1e-6 <= b1[1] and b1[3] <= y1 + 1e-6, n1
        for n2, b2 in boxes[i + 1:]:
            assert not plot.boxes_overlap(b1, b2), (n1, n2)


def test_a_failed_solve_draws_the_baseline_and_says_why(base):
    failed = SimpleNamespace(ok=False, message="not converged after 40 iterations")
    fig = plot.sagittal_figure(failed, base, as_dict=True)
    assert any("not converged after 40 iterations" in a["text"] for a in fig["layout"]["annotations"])
    assert any(t.get("meta") for t in fig["data"])  # the baseline body is drawn
    go.Figure(fig)


def _trace(fig: dict, name: str) -> dict:
    return next(t for t in fig["data"] if t.get("name") == name)


def _front(fig: dict, name: str) -> dict:
    """The front view's trace ``name`` (not the top view's, on the second axes)."""
    return next(t for t in fig["data"] if t.get("name") == name and "xaxis" not in t)


@pytest.fixture(scope="module")
def both(model):
    r = ms.simulate(model, tone={"psoas_major_left": 0.5, "psoas_major_right": 0.5})
    assert r.ok, r.message
    return r


def test_frontal_draws_the_body_from_the_front_left_on_the_viewers_right(model, res, base):
    fig = plot.frontal_figure(res, base)
    assert isinstance(fig, go.Figure)  # validated by plotly
    d = fig.to_dict()
    assert sorted(t["meta"] for t in d["data"] if t.get("meta")) == sorted(model.muscle_ids)
    assert d["data"][0]["name"].startswith("baseline")  # the baseline ghosted behind
    crest = _front(d, "iliac crest line")  # drawn right crest first, then left
    lms = res.geometry_3d["landmarks"]
    assert crest["x"][1] == pytest.approx(lms["pelvis.iliac_crest.left"][2], abs=1e-4)
    assert crest["x"][1] > 0 > crest["x"][0]  # the body's left (+z) on the viewer's right
    assert crest["x"][0] == pytest.approx(lms["pelvis.iliac_crest.right"][2], abs=1e-4)
    sides = {a["name"]: a for a in d["layout"]["annotations"] if a.get("name") in ("left side", "right side")}
    assert sides["left side"]["x"] == 1.0 and "left" in sides["left side"]["text"]
    assert sides["right side"]["x"] == 0.0 and "right" in sides["right side"]["text"]
    for name in ("legs", "pelvis", "spine (S1 to C7)", "C7", "hip joints", "ASIS", "head", "plumb line from S1", "level"):
        _front(d, name)
    assert "xaxis2" in d["layout"] and _trace(d, "ASIS line (rotation)")["xaxis"] == "x2"  # the view from above


def test_frontal_left_psoas_lifts_the_left_crest_and_bends_toward_the_left(res, base):
    assert res.metrics["pelvic_obliquity_deg"] > 0 and res.metrics["trunk_lateral_bend_deg"] > 0
    rises = {}
    for k in (1, 10):
        fig = plot.frontal_figure(res, base, exaggerate=k, as_dict=True)
        (zr, zl), (yr, yl) = _front(fig, "iliac crest line")["x"], _front(fig, "iliac crest line")["y"]
        ghost = _trace(fig, "baseline crest line")
        assert ghost["y"][0] == pytest.approx(ghost["y"][1], abs=1e-6)  # the baseline is level
        assert yl > yr  # the left crest (on the viewer's right) is higher
        rises[k] = yl - yr
        c7 = _front(fig, "C7")["x"][0]
        s1 = _front(fig, "plumb line from S1")["x"][0]
        assert c7 > s1  # C7 leans to the body's left: the viewer's right
        texts = " ".join(a["text"] for a in fig["layout"]["annotations"])
        assert "obliquity +0.3° (left crest up)" in texts or "obliquity +0.2° (left crest up)" in texts, texts
        assert ("drawn ×10" in texts) == (k == 10)
    assert rises[10] == pytest.approx(10 * rises[1], rel=0.02)  # exaggerated, and only that
    left = res.geometry_3d["landmarks"]["pelvis.iliac_crest.left"][1] - res.geometry_3d["landmarks"][
        "pelvis.iliac_crest.right"][1]
    assert rises[1] == pytest.approx(left, abs=2e-4)  # true size by default


def test_frontal_highlights_the_muscles_whose_activation_changed(res, base):
    fig = plot.frontal_figure(res, base, as_dict=True)
    by = {t["meta"]: t for t in fig["data"] if t.get("meta")}
    assert by["psoas_major_left"]["line"]["width"] == plot.force_width(res.muscle_force_N["psoas_major_left"])
    assert by["psoas_major_left"]["opacity"] == 1.0
    assert by["thoracic_extensors_left"]["line"]["width"] == 1.2 and by["thoracic_extensors_left"]["opacity"] < 1
    assert by["psoas_major_left"]["line"]["color"] == plot.force_color(res.muscle_force_N["psoas_major_left"])


def test_frontal_symmetric_tone_draws_a_symmetric_body(both, base):
    for k in (1, 10):
        fig = plot.frontal_figure(both, base, exaggerate=k, as_dict=True)
        crest = _front(fig, "iliac crest line")
        assert crest["y"][0] == pytest.approx(crest["y"][1], abs=1e-4)
        assert crest["x"][0] == pytest.approx(-crest["x"][1], abs=1e-4)
        assert all(abs(z) < 1e-3 for z in _front(fig, "spine (S1 to C7)")["x"])
        by = {t["meta"]: t for t in fig["data"] if t.get("meta")}
        for mid, t in by.items():
            if mid.endswith("_left"):
                other = by[mid[: -len("_left")] + "_right"]
                assert t["x"] == pytest.approx([-x for x in other["x"]], abs=2e-4), mid
                assert t["y"] == pytest.approx(other["y"], abs=2e-4), mid
        texts = " ".join(a["text"] for a in fig["layout"]["annotations"])
        assert "obliquity +0.0° (level)" in texts or "obliquity -0.0° (level)" in texts, texts


def test_exaggeration_scales_only_the_frontal_asymmetry(res, base):
    g = res.geometry_3d
    assert plot.exaggerate_frontal(g, 1) == dict(g)
    still = plot.exaggerate_frontal(base.geometry_3d, 10)["landmarks"]  # the symmetric baseline is unchanged
    for name, p in base.geometry_3d["landmarks"].items():
        assert still[name] == pytest.approx(p, abs=1e-9), name
    ex = plot.exaggerate_frontal(g, 5)
    for p, q in zip(ex["spine"], g["spine"]):
        assert p[2] == pytest.approx(5 * q[2], abs=1e-9) and p[:2] == pytest.approx(q[:2])
    full = plot.exaggerate_lateral(g, 5)  # every coordinate of the asymmetry: the turn too
    asis = lambda geo, s: geo["landmarks"][f"pelvis.asis.{s}"]
    turn = lambda geo: asis(geo, "left")[0] - asis(geo, "right")[0]
    assert turn(full) == pytest.approx(5 * turn(g), rel=1e-6)
    assert turn(ex) == pytest.approx(turn(g), rel=1e-6)  # the front view leaves the turn alone


def test_frontal_says_when_there_is_no_left_right_posture(model, base):
    lying = ms.simulate(model, tone={"psoas_major_left": 0.5}, position="supine")
    assert lying.geometry_3d is None
    for fig in (plot.frontal_figure(lying, ms.simulate(model, position="supine"), as_dict=True),
                plot.frontal_figure(SimpleNamespace(ok=True, geometry_3d=None), None, as_dict=True)):
        assert fig["data"] == [] and "standing only" in fig["layout"]["annotations"][0]["text"]
    failed = SimpleNamespace(ok=False, message="not converged after 40 iterations", geometry_3d=None)
    fig = plot.frontal_figure(failed, base, as_dict=True)
    assert any("not converged after 40 iterations" in a["text"] for a in fig["layout"]["annotations"])
    assert any(t.get("meta") for t in fig["data"])  # the baseline body is drawn
    go.Figure(fig)
    assert "not converged" in plot.frontal_figure(failed, None, as_dict=True)["layout"]["annotations"][0]["text"]


def test_lateral_phrases_put_the_sign_in_words():
    assert plot.lateral_phrase("pelvic_obliquity_deg", 0.33, "deg") == "obliquity +0.3° (left crest up)"
    assert plot.lateral_phrase("apparent_leg_length_difference_mm", -1.8, "mm") == "leg length -1.8 mm (right longer)"
    assert plot.lateral_phrase("pelvic_rotation_deg", -6.2, "deg").endswith("(right side forward)")
    assert plot.lateral_phrase("trunk_lateral_bend_deg", 0.01, "deg").endswith("(upright)")
    assert plot.lateral_phrase("trunk_lateral_bend_deg", math.nan, "deg").endswith("—")
    assert set(plot.LATERAL_WORDS) == {k for k, v in ms.MEASURES.items() if v.plane != "sagittal"}


def test_measures_table_groups_side_view_and_left_right_measures(res, model):
    """The table travels as data: the page's fixed part puts every measure in its group (side
    view, then left-right) with its label and normal band; each update sends the cells, one row
    per measure in the API's order."""
    from dashboard import components

    fixed = components.measures_static(ms.MEASURES)
    sagittal, lateral = fixed["groups"][:2]
    assert [k for k, v in fixed["measures"].items() if v[4] == sagittal] == \
        [k for k, v in ms.MEASURES.items() if v.plane == "sagittal"]
    assert [k for k, v in fixed["measures"].items() if v[4] == lateral] == \
        [k for k, v in ms.MEASURES.items() if v.plane in ("frontal", "transverse")]
    tilt = ms.MEASURES["pelvic_tilt_deg"]
    assert fixed["measures"]["pelvic_tilt_deg"][:3] == ["pelvic tilt", tilt.meaning,
                                                        f"{tilt.normal[0]:g} – {tilt.normal[1]:g}"]
    data = components.measures_table_data(plot.measure_rows(res.metrics, res.baseline_metrics))
    assert [r[0] for r in data["rows"]] == list(ms.MEASURES)
    row = next(r for r in data["rows"] if r[0] == "pelvic_tilt_deg")
    change = res.metrics["pelvic_tilt_deg"] - res.baseline_metrics["pelvic_tilt_deg"]
    assert row[1] == f"{res.metrics['pelvic_tilt_deg']:.1f}°" and row[2] == f"{change:+.1f}°" and "changed" in row[6]
    lying = ms.simulate(model, position="supine")
    rows = plot.measure_rows(lying.metrics, lying.baseline_metrics)
    assert "standing only" in [r[5] for r in components.measures_table_data(rows)["rows"]]
    hidden = components.measures_table_data(rows, hidden=True)
    assert all(r[1:5] == ["?"] * 4 for r in hidden["rows"])


# --------------------------------------------------------------------------- measures


def test_measure_rows_flag_out_of_band_values_and_the_pi_ll_mismatch():
    from musclesim.metrics import MEASURES

    metrics = {k: (sum(v.normal) / 2 if v.normal else 0.0) for k, v in MEASURES.items()}
    metrics["pelvic_tilt_deg"] = MEASURES["pelvic_tilt_deg"].normal[1] + 1.0
    metrics["lumbar_lordosis_deg"] = MEASURES["lumbar_lordosis_deg"].normal[0] - 1.0
    rows = {r["name"]: r for r in plot.measure_rows(metrics, metrics)}
    assert list(rows) == list(MEASURES)
    assert rows["pelvic_tilt_deg"]["flag"] == "high"
    assert rows["lumbar_lordosis_deg"]["flag"] == "low"
    assert rows["sacral_slope_deg"]["flag"] == ""
    assert rows["pelvic_tilt_deg"]["change"] == 0.0
    assert plot.pi_ll_mismatch({"pelvic_incidence_deg": 52.0, "lumbar_lordosis_deg": 61.0}) == (-9.0, False)
    assert plot.pi_ll_mismatch({"pelvic_incidence_deg": 52.0, "lumbar_lordosis_deg": 70.0}) == (-18.0, True)
    assert plot.measure_rows({"pelvic_tilt_deg": math.nan}, None)[0]["flag"] == "n/a"


def test_measures_bar_figure_is_valid(res):
    fig = plot.measures_bar_figure(plot.measure_rows(res.metrics, res.baseline_metrics))
    assert len(fig.data[0].y) == len(res.metrics)


# --------------------------------------------------------------------------- why panel


def test_waterfall_bars_add_up_to_the_explanation(expl):
    fig = plot.waterfall_figure(expl)
    wf = fig.data[0]
    rel = [y for y, m in zip(wf.y, wf.measure) if m == "relative"]
    assert len(rel) == len(expl.moments)
    assert sum(rel) == pytest.approx(sum(v for _, v in expl.moments), abs=5e-3)
    assert wf.measure[-1] == "total" and wf.y[-1] == pytest.approx(sum(v for _, v in expl.moments), abs=5e-3)
    assert expl.joint in fig.layout.title.text


def test_drivers_figure_shows_the_explanation_shares(expl):
    fig = plot.drivers_figure(expl)
    assert list(fig.data[0].x) == pytest.approx([v for _, v in expl.drivers], abs=1e-3)
    assert list(fig.data[0].y) == [plot.muscle_label(m) for m, _ in expl.drivers]


def test_why_placeholders_when_nothing_changed():
    assert "No change" in plot.waterfall_figure(None).layout.annotations[0].text
    assert plot.drivers_figure(None).data == ()


# --------------------------------------------------------------------------- graph view


def test_graph_relation_kinds_have_distinct_styles_and_a_legend(G):
    fig = plot.graph_figure(G)
    styles = {}
    for t in fig.data:
        if t.meta in plot.RELATION_STYLE:
            styles[t.meta] = (t.line.color, t.line.dash)
            assert t.showlegend is not False and t.name.startswith(
                {"contradicted": "documented"}.get(t.meta, t.meta))
    assert {"agonist", "synergist", "antagonist"} <= set(styles)
    assert len(set(styles.values())) == len(styles), styles
    rel = plot.relation_edges(G)
    for kind in ("agonist", "synergist", "antagonist"):
        trace = next(t for t in fig.data if t.meta == kind)
        assert sum(1 for v in trace.x if v is None) == len(rel[kind])  # one arc per muscle pair


def test_graph_layout_is_deterministic_and_anatomical(G, model):
    pos = plot.graph_layout(G)
    assert pos == plot.graph_layout(G)
    assert set(pos) == set(G.nodes)
    assert pos["foot"][1] < pos["thigh"][1] < pos["pelvis"][1] < pos["L3"][1] < pos["head_neck"][1]
    assert pos["foot"][0] == pos["head_neck"][0] == 0
    for inst in model.instances:
        x = pos[inst.id][0]
        assert (x < 0) if inst.side in ("left", "midline") else (x > 0), inst.id
    ys = sorted(pos[i.id][1] for i in model.instances if i.side == "left")
    assert min(b - a for a, b in zip(ys, ys[1:])) > 0.5  # labels do not overlap


def test_graph_frames_spread_from_the_changed_muscle(G, res, base):
    frames = plot.graph_frames(G, res, base, max_frames=10)
    assert 2 <= len(frames) <= 10
    names = [f["name"] for f in frames]
    assert names[0] == "coupling 0" and names[-1] == "posture 100%"
    pos = plot.graph_layout(G)
    muscles = [n for n in sorted(pos) if G.nodes[n]["kind"] == "muscle"]
    measures = [n for n in sorted(pos) if G.nodes[n]["kind"] == "measure"]
    k = plot.GRAPH_NODE_TRACES.index("muscles")
    first = dict(zip(muscles, frames[0]["data"][k]["marker"]["color"]))
    assert first["psoas_major_left"] > 0.9  # the muscle whose tone was raised, alone at first
    assert sum(1 for v in first.values() if v) == 1
    last = dict(zip(muscles, frames[-1]["data"][k]["marker"]["color"]))
    assert sum(1 for v in last.values() if v) > 1  # coupling reached its partners
    km = plot.GRAPH_NODE_TRACES.index("measures")
    tilt_before = dict(zip(measures, frames[0]["data"][km]["marker"]["color"]))["pelvic_tilt_deg"]
    tilt_after = dict(zip(measures, frames[-1]["data"][km]["marker"]["color"]))["pelvic_tilt_deg"]
    assert tilt_before == 0 and math.copysign(1, tilt_after) == math.copysign(1, res.change["pelvic_tilt_deg"])


def test_graph_figure_with_frames_is_valid_and_animates(G, res, base, expl):
    fig = plot.graph_figure(G, res, base, path=expl.path)
    assert len(fig.frames) >= 2
    assert fig.layout.updatemenus and fig.layout.sliders
    path = next(t for t in fig.data if t.name == "explanation path")
    assert len(path.x) == len(expl.path)


def test_node_relations_carry_evidence(G):
    rows = plot.node_relations(G, "psoas_major_left")
    rel = [r for r in rows if r["edge"] == "relation"]
    assert rel and all(r["evidence"] for r in rel)
    assert any(".txt" in e for r in rel for e in r["evidence"])  # a documented relation names its article


# --------------------------------------------------------------------------- dashboard pieces


def test_dashboard_graph_patch_is_small(G, res, base, expl):
    from dashboard import figures

    base_fig = figures.graph_base_figure(G)
    patch, n, names = figures.graph_patch(G, base_fig, res, base, expl.path)
    size = len(json.dumps(patch.to_plotly_json(), default=str))
    assert n == len(names) >= 2 and size < 60_000


def test_url_state_round_trip_and_bad_input(model):
    from dashboard.state import format_query, parse_query

    positions, measures = ms.POSITIONS, list(ms.MEASURES)
    st, errors = parse_query("?psoas_major=0.3&iliacus_left=0.2&measure=lumbar_lordosis_deg&present=1", model,
                             positions, measures)
    assert not errors
    assert st["tone"] == {"psoas_major_left": 0.3, "psoas_major_right": 0.3, "iliacus_left": 0.2}
    q = format_query(st, model, positions)
    assert "psoas_major=0.3" in q and "iliacus_left=0.2" in q and "present=1" in q
    assert parse_query(q, model, positions, measures) == (st, [])
    for bad, words in (("?psoas_major_left=7", "[0, 1]"), ("?nope=0.1", "unknown muscle"),
                       ("?psoas_major_left=x&%%%", "[0, 1]"), ("?position=moon", "unknown position")):
        st, errors = parse_query(bad, model, positions, measures)
        assert st["tone"] == {} and any(words in e.lower() for e in errors), (bad, errors)


def test_presets_are_valid_and_never_carry_a_typed_verdict(model):
    from dashboard.presets import PRESETS_FILE, load_presets
    from dashboard.state import validate_tone

    presets = load_presets()
    assert {"desk_sitter", "crunch_overtraining", "one_sided_psoas", "tight_calves", "flat_back", "sway_back",
            "knees_propped"} <= {p.id for p in presets}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    raw = tomllib.loads(PRESETS_FILE.read_text())
    assert not any("verdict" in key for item in raw["preset"] for key in item)  # computed, never typed in
    for p in presets:
        validate_tone(model, p.tone)  # the API's own rules
        assert p.claim and p.articles and p.evidence_grade in ("none", "weak", "indirect", "mixed", "moderate")
        for e in p.expect:
            assert e.measure in ms.MEASURES or e.measure in plot.FRONTAL_MEASURES or e.muscle_force in model.muscle_ids
        if SEEDS.is_dir():
            assert all((SEEDS / a).is_file() for a in p.articles), p.id


def test_verdict_compares_signs_with_the_claim():
    from dashboard.presets import Expectation, Preset, verdict

    p = Preset("x", "x", "standing", {}, "c", ("a.txt",), "weak", "n",
               (Expectation("up", "pelvic_tilt_deg"), Expectation("down", "lumbar_lordosis_deg")))
    ref = SimpleNamespace(ok=True, metrics={"pelvic_tilt_deg": 10.0, "lumbar_lordosis_deg": 50.0}, muscle_force_N={})
    units = {"pelvic_tilt_deg": "deg", "lumbar_lordosis_deg": "deg"}

    def run(tilt, lordosis):
        r = SimpleNamespace(ok=True, metrics={"pelvic_tilt_deg": tilt, "lumbar_lordosis_deg": lordosis},
                            muscle_force_N={})
        return verdict(p, r, ref, units)["verdict"]

    assert run(12, 45) == "reproduced"
    assert run(12, 55) == "partly reproduced"
    assert run(8, 55) == "not reproduced"
    assert run(10.05, 50.0) == "not reproduced"  # no change is not a reproduction
    missing = Preset("y", "y", "standing", {}, "c", ("a.txt",), "weak", "n", (Expectation("up", "pelvic_obliquity_deg"),))
    assert verdict(missing, SimpleNamespace(ok=True, metrics={}, muscle_force_N={}), ref)["verdict"] == \
        "outside the model's scope"


def test_one_update_is_small_and_complete():
    from dashboard import callbacks

    state = {"tone": {"psoas_major_left": 0.45}, "position": ms.POSITIONS[0], "measure": "pelvic_tilt_deg",
             "present": False, "predict": False, "reveal": False, "preset": "desk_sitter", "view": "trunk"}
    out = callbacks.update_views(state)
    assert set(out) == {f"{i}.{p}" for i, p in callbacks.UPDATE_OUTPUTS}
    import plotly

    size = len(json.dumps(out, cls=plotly.utils.PlotlyJSONEncoder))
    assert size < 300_000, size
    assert out["result-store.data"]["metrics"]["pelvic_tilt_deg"] is not None


def test_linked_slider_moves_both_sides(model):
    from dashboard import callbacks, ids

    sids = [ids.tone(m) for m in model.muscle_ids]
    values = [model.default_tone[m] for m in model.muscle_ids]
    values[model.muscle_ids.index("psoas_major_left")] = 0.4
    kw = dict(search="", values=values, slider_ids=sids, position=ms.POSITIONS[0], measure="pelvic_tilt_deg",
              view="trunk", state={"tone": {}, "position": ms.POSITIONS[0], "measure": "pelvic_tilt_deg"})
    linked = callbacks.next_state(ids.tone("psoas_major_left"), link=["link"], **kw)
    assert linked["state"]["tone"] == {"psoas_major_left": 0.4, "psoas_major_right": 0.4}
    assert linked["search"] == "?psoas_major=0.4"
    alone = callbacks.next_state(ids.tone("psoas_major_left"), link=[], **kw)
    assert alone["state"]["tone"] == {"psoas_major_left": 0.4}
    values[model.muscle_ids.index("psoas_major_left")] = 7
    bad = callbacks.next_state(ids.tone("psoas_major_left"), link=[], **{**kw, "values": values})
    assert bad["messages"] and bad["state"]["tone"] == {}


def test_tightness_in_the_url_and_the_update(model):
    from dashboard import callbacks, ids
    from dashboard.state import format_query, parse_query

    positions, measures = ms.POSITIONS, list(ms.MEASURES)
    st, errors = parse_query("?tight.psoas_major=10&hamstrings=0.2", model, positions, measures)
    assert not errors and st["tight"] == {"psoas_major_left": 10.0, "psoas_major_right": 10.0}
    assert "tight.psoas_major=10" in format_query(st, model, positions)
    st_bad, errors = parse_query("?tight.psoas_major=90&hamstrings=0.2", model, positions, measures)
    assert st_bad["tight"] == {} and st_bad["tone"] == {} and "[0, 45]" in errors[0]
    out = callbacks.update_views(st)
    assert "psoas major left: 10° of motion lost" in str(out[f"{ids.TIGHT_LIST}.children"])
    assert out[f"{ids.RESULT}.data"]["tightness_deg"] == st["tight"]


def test_sagittal_window_fits_a_lying_body(res, base):
    """A body lying along x (as in the supine position) gets a wide window and labels above."""
    def lying(r):
        f = lambda p: (p[1], 0.15 - p[0])
        g = r.geometry
        geo = {"segments": {k: [f(p) for p in v] for k, v in g["segments"].items()},
               "landmarks": {k: f(p) for k, p in g["landmarks"].items()},
               "muscles": {k: [f(p) for p in v] for k, v in g["muscles"].items()}, "com": f(g["com"])}
        return SimpleNamespace(ok=True, geometry=geo, muscle_force_N=r.muscle_force_N, activation=r.activation,
                               metrics=r.metrics, change=r.change)

    fig = plot.sagittal_figure(lying(res), lying(base), as_dict=True)
    (x0, x1), (y0, y1) = fig["layout"]["xaxis"]["range"], fig["layout"]["yaxis"]["range"]
    assert x1 - x0 > 2.0  # the whole length of the body
    xs = [x for t in fig["data"] for x in t["x"] if x is not None]
    ys = [y for t in fig["data"] for y in t["y"] if y is not None]
    assert x0 <= min(xs) and max(xs) <= x1 and y0 <= min(ys) and max(ys) <= y1  # nothing cut off
    labels = [a for a in fig["layout"]["annotations"] if a.get("name")]
    assert all(a["ay"] > max(ys) for a in labels)  # in a row above the body
    box, upright = plot.view_box([res.geometry])
    assert upright and box[3] - box[2] > 1.5


def test_presets_link_existing_catalogue_claims():
    from dashboard import compute
    from dashboard.presets import load_presets

    claims = pytest.importorskip("musclesim.claims")
    known = {c.id for c in claims.catalogue()}
    for p in load_presets():
        assert set(p.claims) <= known, p.id
    v = compute.claim_verdict(load_presets()[0].claims[0])
    assert v["verdict"] in claims.VERDICTS and v["reason"]


# --------------------------------------------------------------------------- lessons, A/B, one round trip


def _controls(model, state, **kw):
    from dashboard import ids
    from dashboard.lessons import all_controls

    base = dict(search="", values=[model.default_tone[m] for m in model.muscle_ids],
                slider_ids=[ids.tone(m) for m in model.muscle_ids], position=ms.POSITIONS[0],
                measure="pelvic_tilt_deg", view="trunk", link=["link"], state=state,
                lesson_ids=[ids.lesson_tone(n) for n in all_controls()],
                lesson_values=[0.0 for _ in all_controls()], lesson=None, draw=[])
    base.update(kw)
    return base


def test_a_lesson_starts_hidden_with_only_its_controls(model):
    from dashboard import callbacks, ids
    from dashboard.lessons import all_controls
    from dashboard.state import parse_query

    out = callbacks.next_state(ids.LESSON, **_controls(model, {"tone": {}}, lesson="desk_sitter"))
    st = out["state"]
    assert st["lesson"] == "desk_sitter" and st["present"] and st["predict"] and not st["reveal"]
    assert st["tone"] == {"psoas_major_left": 0.4, "psoas_major_right": 0.4, "iliacus_left": 0.4, "iliacus_right": 0.4}
    shown = {n for n, c in zip(all_controls(), out["lesson_rows"]) if "in-lesson" in c}
    assert shown == {"psoas_major", "iliacus"}
    assert dict(zip(all_controls(), out["lesson_values"]))["psoas_major"] == 0.4
    assert "lesson=desk_sitter" in out["search"] and "predict=1" in out["search"]
    again, _ = parse_query(out["search"], model, ms.POSITIONS, list(ms.MEASURES), ("desk_sitter",), ("desk_sitter",))
    assert again["lesson"] == "desk_sitter" and again["tone"] == st["tone"]
    # a lesson control moves every muscle it names; Reset returns to the lesson's start
    ctl = _controls(model, st)
    ctl["lesson_values"] = [0.3 if n == "psoas_major" else 0.0 for n in all_controls()]
    moved = callbacks.next_state(ids.lesson_tone("psoas_major"), **ctl)["state"]
    assert moved["tone"]["psoas_major_left"] == moved["tone"]["psoas_major_right"] == 0.3
    reset = callbacks.next_state(ids.RESET, **_controls(model, moved))["state"]
    assert reset["tone"] == st["tone"] and reset["predict"]


def test_scenario_a_lives_in_the_url_and_draws_side_by_side(model):
    from dashboard import callbacks, ids

    st = callbacks.next_state(None, **_controls(model, None, search="?psoas_major=0.4"))["state"]
    stored = callbacks.next_state(ids.STORE_A, **_controls(model, st))
    assert stored["state"]["a"]["tone"] == st["tone"] and stored["state"]["ab"]
    assert "a.psoas_major=0.4" in stored["search"] and "ab=1" in stored["search"]
    reopened = callbacks.next_state(None, **_controls(model, None, search=stored["search"]))["state"]
    assert reopened["a"] == stored["state"]["a"] and reopened["ab"]
    views = callbacks.update_views({**reopened, "tone": {"hamstrings_left": 0.3}})
    a_fig = views[f"{ids.SAGITTAL_A}.figure"]
    assert "A (stored)" in a_fig["layout"]["title"]["text"] and any(t.get("name") == "toned muscle" for t in a_fig["data"])
    assert "B − A" in str(views[f"{ids.COMPARE}.children"])
    assert "ab-on" in views[f"{ids.ROOT}.className"]
    cleared = callbacks.next_state(ids.CLEAR_A, **_controls(model, reopened))
    assert cleared["state"]["a"] is None and "a." not in cleared["search"] and "ab=1" not in cleared["search"]


def test_drawing_options_switch_views_on_and_off(model):
    from dashboard import callbacks, ids

    off = callbacks.update_views({"tone": {"psoas_major_left": 0.4}})
    assert len(str(off[f"{ids.FRONTAL}.figure"])) < 1500 and len(str(off[f"{ids.TOP}.figure"])) < 1500
    st = callbacks.next_state(ids.DRAW, **_controls(model, {"tone": {"psoas_major_left": 0.4}},
                                                   draw=["front", "top", "exaggerate"]))
    assert {"front=1", "top=1", "exaggerate=1"} <= set(st["search"].lstrip("?").split("&"))
    on = callbacks.update_views(st["state"])
    assert "Front view" in on[f"{ids.FRONTAL}.figure"]["layout"]["title"]["text"]
    assert "Top view" in on[f"{ids.TOP}.figure"]["layout"]["title"]["text"]
    assert "exaggerated" in on[f"{ids.SAGITTAL}.figure"]["layout"]["title"]["text"]


def test_one_round_trip_gives_state_and_views(model):
    """apply() is the single callback: the new state and every view from one call; a change of
    the prediction choice alone recomputes only its feedback."""
    from dashboard import callbacks, ids

    values = [model.default_tone[m] for m in model.muscle_ids]
    values[model.muscle_ids.index("psoas_major_left")] = 0.45
    out = callbacks.apply(ids.tone("psoas_major_left"), **_controls(model, {"tone": {}}, values=values, link=[]))
    assert out["next"]["state"]["tone"] == {"psoas_major_left": 0.45}
    assert set(out["views"]) == {f"{i}.{p}" for i, p in callbacks.UPDATE_OUTPUTS}
    assert out["views"][f"{ids.RESULT}.data"]["tone"] == {"psoas_major_left": 0.45}
    st = {**out["next"]["state"], "predict": True}
    guess = callbacks.apply(ids.PREDICTION, prediction="up", **_controls(model, st))
    assert guess["views"] is None and "Prediction noted: up" in guess["feedback"]


# --------------------------------------------------------------------------- the why panel, explained only when open


@pytest.fixture
def explain_calls(monkeypatch):
    """Every call of the dashboard's explain (a spy around the real one)."""
    from dashboard import compute

    calls = []
    real = compute.explain

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(compute, "explain", spy)
    return calls


def test_closed_why_panel_explains_nothing(model, explain_calls):
    """The why panel is closed by default: a slider change solves but does not call explain, the
    panel holds a placeholder and its figures are left as they are."""
    from dash import no_update

    from dashboard import callbacks, ids

    values = [model.default_tone[m] for m in model.muscle_ids]
    values[model.muscle_ids.index("psoas_major_left")] = 0.37
    out = callbacks.apply(ids.tone("psoas_major_left"), **_controls(model, {"tone": {}}, values=values, link=[]))
    views = out["views"]
    assert not out["next"]["state"]["why"] and "why=1" not in out["next"]["search"]
    assert explain_calls == []
    assert "Show the explanation" in str(views[f"{ids.WHY_TEXT}.children"])
    assert views[f"{ids.WATERFALL}.figure"] is no_update and views[f"{ids.DRIVERS}.figure"] is no_update
    assert views[f"{ids.WHY_TOGGLE}.children"] == "Show the explanation"
    assert views[f"{ids.WHY_TOGGLE}.aria-expanded"] == "false" and "why-open" not in views[f"{ids.ROOT}.className"]
    assert views[f"{ids.RESULT}.data"]["metrics"]["pelvic_tilt_deg"] is not None  # the solve still shows


def test_opening_the_why_panel_explains_and_lives_in_the_url(model, explain_calls):
    """Pressing the toggle opens the panel (``why=1`` in the URL): the same update now calls
    explain once and shows the API's sentence and figures; a link with ``why=1`` opens it, and
    pressing again closes it."""
    from dashboard import callbacks, ids

    tone = {"psoas_major_left": 0.5}
    opened = callbacks.apply(ids.WHY_TOGGLE, **_controls(model, {"tone": tone}))
    st, views = opened["next"]["state"], opened["views"]
    assert st["why"] and "why=1" in opened["next"]["search"]
    assert len(explain_calls) == 1 and explain_calls[0][2] == "pelvic_tilt_deg"
    want = ms.explain(ms.simulate(model, tone=tone), ms.simulate(model), measures=["pelvic_tilt_deg"])
    assert want["pelvic_tilt_deg"].text in str(views[f"{ids.WHY_TEXT}.children"])
    assert views[f"{ids.WATERFALL}.figure"]["data"] and views[f"{ids.DRIVERS}.figure"]["data"]
    assert views[f"{ids.WHY_TOGGLE}.children"] == "Hide the explanation"
    assert views[f"{ids.WHY_TOGGLE}.aria-expanded"] == "true" and "why-open" in views[f"{ids.ROOT}.className"]
    from_link = callbacks.next_state(None, **_controls(model, None, search=opened["next"]["search"]))["state"]
    assert from_link["why"]
    closed = callbacks.next_state(ids.WHY_TOGGLE, **_controls(model, st))
    assert not closed["state"]["why"] and "why" not in closed["search"]


def test_projector_mode_always_explains(model, explain_calls):
    """Projector mode shows the why sentence with the panel's head hidden: it explains even when
    the panel was never opened."""
    from dashboard import callbacks, ids

    views = callbacks.update_views({"tone": {"psoas_major_left": 0.41}, "present": True})
    assert len(explain_calls) == 1
    assert "why-sentence" in str(views[f"{ids.WHY_TEXT}.children"]) and "why-open" in views[f"{ids.ROOT}.className"]


def test_graph_frames_structure_cache_follows_the_layout(G, res, base):
    """graph_frames keeps each graph's node kinds per layout: a copy of the layout gives the same
    frames, a layout without the measures colours no measure, and the first layout again is as
    before (the cache never serves another layout's nodes)."""
    pos = plot.graph_layout(G)
    first = plot.graph_frames(G, res, base, pos=pos)
    assert first and any(first[-1]["data"][3]["marker"]["color"])
    assert plot.graph_frames(G, res, base, pos=dict(pos)) == first
    fewer = {n: p for n, p in pos.items() if G.nodes[n].get("kind") != "measure"}
    assert all(f["data"][3]["marker"]["color"] == [] for f in plot.graph_frames(G, res, base, pos=fewer))
    assert plot.graph_frames(G, res, base, pos=pos) == first


def test_only_the_controls_that_move_are_sent():
    """A slider change answers with the sliders that move (the partner of a linked one, a value
    put back after bad input) and no_update for the others."""
    from dash import no_update

    from dashboard.callbacks import changed_only

    assert changed_only([0.3, 0.05, 0.3], [0.3, 0.05, 0.05]) == [no_update, no_update, 0.3]
    assert changed_only([0.3, 0.05], [0.3, 0.05]) == [no_update, no_update]
    assert changed_only([0.35, 0.05], [1.5, None]) == [0.35, 0.05]  # bad input: the kept values go back
    assert changed_only([0.1, 0.2], None) == [0.1, 0.2] and changed_only([0.1], [0.1, 0.2]) == [0.1]
