"""Plotly figures of musclesim results: pure builders, data in, figure out.

Every builder takes plain musclesim objects (a :class:`~musclesim.simulate.Result`, an
:class:`~musclesim.explain.Explanation`, the interaction graph) and returns a
:class:`plotly.graph_objects.Figure`; nothing here touches the dashboard, so notebooks use the
same pictures::

    import musclesim as ms
    from musclesim import plot
    model = ms.load_model()
    base = ms.simulate(model)
    res = ms.simulate(model, tone={"psoas_major_left": 0.6})
    plot.sagittal_figure(res, base).show()
    plot.frontal_figure(res, base, exaggerate=5).show()   # left-right changes drawn x5
    plot.waterfall_figure(ms.explain(res, base)["pelvic_tilt_deg"]).show()
    plot.graph_figure(ms.interaction_graph(model), res, base).show()

``as_dict=True`` returns the figure as a plain dict instead (the same JSON plotly would send),
skipping plotly's property validation, which costs tens of milliseconds for a figure with a
trace per muscle: the dashboard uses it to stay inside its time budget. The figure tests build
every dict into a validated ``go.Figure`` so both forms stay correct.

Drawing conventions: metres, x anterior, y up (sagittal view seen from the subject's left);
the frontal view draws z (to the subject's left) and y up, seen from the front, so the subject's
left is on the viewer's right. Colours say the same thing everywhere: red more (force, activation, flexion), blue less.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Muscle force (N) at the top of the colour and width scales of the body figures.
FORCE_SCALE_N = 400.0
#: Plotly colour scale for muscle force (light to dark red).
FORCE_COLORSCALE = [[0.0, "#f6c48f"], [0.3, "#ee8a52"], [0.65, "#d7301f"], [1.0, "#67000d"]]
#: Diverging scale for changes (blue less, grey none, red more).
CHANGE_COLORSCALE = [[0.0, "#2166ac"], [0.5, "#e6e6e6"], [1.0, "#b2182b"]]
#: Colours of the relation kinds in the graph view, and their line dash.
RELATION_STYLE = {
    "agonist": {"color": "#1b7837", "dash": "solid", "width": 3.0},
    "synergist": {"color": "#2166ac", "dash": "dash", "width": 1.4},
    "antagonist": {"color": "#d6604d", "dash": "dot", "width": 1.6},
    "contradicted": {"color": "#762a83", "dash": "dashdot", "width": 2.0},
}
#: Node styles of the graph view by kind.
NODE_STYLE = {
    "bone": {"symbol": "square", "color": "#8c6d31", "size": 13},
    "joint": {"symbol": "circle", "color": "#525252", "size": 9},
    "muscle": {"symbol": "circle", "color": "#d6604d", "size": 11},
    "measure": {"symbol": "diamond", "color": "#4d9221", "size": 11},
}
#: The sagittal measures annotated on the body figure: (measure, landmark it points at).
ANNOTATED_MEASURES = (
    ("head_forward_mm", "head_neck.tragus"),
    ("thoracic_kyphosis_deg", "thorax_upper.t4_endplate_posterior"),
    ("lumbar_lordosis_deg", "L3.body_centre"),
    ("pelvic_tilt_deg", "pelvis.psis"),
)
#: The frontal measures listed on the frontal figure.
FRONTAL_MEASURES = ("pelvic_obliquity_deg", "trunk_lateral_bend_deg", "hip_height_difference_mm",
                    "apparent_leg_length_difference_mm")
#: Text shown in the frontal view when there is no left-right posture to draw (lying positions).
FRONTAL_NOT_STANDING = ("<b>Left-right posture is modelled<br>standing only.</b><br><br>The frontal and transverse<br>"
                        "measures (obliquity, side-bend,<br>leg length, rotation) are<br>not computed lying down.<br><br>"
                        "Choose <i>Standing</i> to see<br>the front view.")
#: Changes smaller than this (in a measure's unit) count as "no change".
CHANGE_TOL = 0.05

_FONT = "Inter, Segoe UI, Helvetica, Arial, sans-serif"


# --------------------------------------------------------------------------- helpers

def _finish(fig: dict, as_dict: bool):
    """Return ``fig`` as a dict, or as a validated ``go.Figure``."""
    if as_dict:
        return fig
    import plotly.graph_objects as go

    return go.Figure(fig)


def _r(v: float, nd: int = 4) -> float:
    return round(float(v), nd)


def measure_label(name: str) -> str:
    """A readable label for a measure name: ``pelvic_tilt_deg`` -> ``pelvic tilt``."""
    for suffix in ("_deg", "_mm", "_Nm", "_N", "_mmHg"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace("pi_minus_ll", "PI − LL").replace("_", " ")


def unit_symbol(unit: str) -> str:
    """``deg`` -> ``°``; other units unchanged."""
    return "°" if unit == "deg" else unit


def muscle_label(muscle_id: str) -> str:
    """``psoas_major_left`` -> ``psoas major L``."""
    for side, short in (("_left", " L"), ("_right", " R")):
        if muscle_id.endswith(side):
            return muscle_id[: -len(side)].replace("_", " ") + short
    return muscle_id.replace("_", " ")


def _lerp_color(scale: Sequence[Sequence], t: float) -> str:
    """Colour at ``t`` in [0, 1] on a plotly-style colour scale of hex stops."""
    t = min(max(t, 0.0), 1.0)
    for (t0, c0), (t1, c1) in zip(scale[:-1], scale[1:]):
        if t <= t1:
            f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
            a = [int(c0[i:i + 2], 16) for i in (1, 3, 5)]
            b = [int(c1[i:i + 2], 16) for i in (1, 3, 5)]
            return "#" + "".join(f"{round(x + f * (y - x)):02x}" for x, y in zip(a, b))
    return scale[-1][1]


def force_color(force_N: float, scale_N: float = FORCE_SCALE_N) -> str:
    """Line colour for a muscle force (N)."""
    return _lerp_color(FORCE_COLORSCALE, force_N / scale_N)


def force_width(force_N: float, scale_N: float = FORCE_SCALE_N) -> float:
    """Line width (px) for a muscle force (N): 1.5 px at rest up to 9 px at ``scale_N``."""
    return round(1.5 + 7.5 * math.sqrt(min(max(force_N, 0.0) / scale_N, 1.0)), 2)


def _get(obj: Any, name: str, default=None):
    return getattr(obj, name, default) if obj is not None else default


def _ok(result: Any) -> bool:
    return bool(_get(result, "ok", True))


def _empty_figure(text: str, height: int = 320, title: str | None = None) -> dict:
    return {
        "data": [],
        "layout": {
            "height": height, "margin": {"l": 20, "r": 20, "t": 40 if title else 20, "b": 20},
            "title": {"text": title or "", "font": {"size": 15}},
            "xaxis": {"visible": False}, "yaxis": {"visible": False},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": _FONT},
            "annotations": [{"text": text, "showarrow": False, "xref": "paper", "yref": "paper",
                             "x": 0.5, "y": 0.5, "font": {"size": 14, "color": "#444"}, "align": "center"}],
        },
    }


def placeholder_figure(text: str, *, height: int = 320, title: str | None = None, as_dict: bool = False):
    """An empty figure that says why there is nothing to draw."""
    return _finish(_empty_figure(text, height=height, title=title), as_dict)


# --------------------------------------------------------------------------- body views


def _pelvis_trace(xs, ys) -> dict:
    """The pelvis as a filled outline (one style for the side and front views)."""
    return {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "pelvis", "fill": "toself",
            "fillcolor": "rgba(222,196,140,0.55)", "hoverinfo": "skip", "line": {"color": "#8c6d31", "width": 2}}

def _com_trace(x: list, y: list) -> dict:
    """The whole-body centre of mass as a marker (side and front views)."""
    return {"type": "scatter", "x": x, "y": y, "mode": "markers", "name": "centre of mass",
            "hovertemplate": "centre of mass<extra></extra>",
            "marker": {"symbol": "circle-cross-open", "size": 11, "color": "rgba(0,0,0,0.7)", "line": {"width": 1.5}}}


def _colorbar_trace() -> dict:
    """An invisible marker trace that carries the muscle-force colour bar."""
    return {"type": "scatter", "x": [None], "y": [None], "mode": "markers", "showlegend": False, "hoverinfo": "skip",
            "marker": {"color": [0], "cmin": 0, "cmax": FORCE_SCALE_N, "colorscale": FORCE_COLORSCALE,
                       "showscale": True, "colorbar": {"title": {"text": "muscle force (N)", "side": "top"},
                                                       "orientation": "h", "thickness": 8, "len": 0.45,
                                                       "x": 0.98, "xanchor": "right", "y": 0.02, "yanchor": "bottom",
                                                       "tickfont": {"size": 10}, "bgcolor": "rgba(255,255,255,0.7)"}}}



# --------------------------------------------------------------------------- label layout (pure)

#: Estimated text metrics for label boxes (Helvetica/Arial-like fonts): average glyph width and
#: line height as fractions of the font size, and the box padding (plotly's borderpad + border).
GLYPH_WIDTH_EM = 0.6
LINE_HEIGHT_EM = 1.3
LABEL_PAD_PX = 5


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text)


def label_extent_px(text: str, font_px: float) -> tuple[float, float]:
    """Estimated ``(width, height)`` in pixels of a plotly annotation box holding ``text``
    (``<br>`` separates lines; tags such as ``<b>`` take no room). Deliberately generous: a
    layout made with these extents leaves real text a little room to spare."""
    lines = [_strip_tags(t) for t in text.split("<br>")] or [""]
    w = max(len(t) for t in lines) * GLYPH_WIDTH_EM * font_px + 2 * LABEL_PAD_PX
    h = len(lines) * LINE_HEIGHT_EM * font_px + 2 * LABEL_PAD_PX
    return w, h


def place_labels(wanted: Sequence[float], sizes: Sequence[float], lo: float, hi: float,
                 gap: float = 0.0) -> list[float]:
    """The layout rule of the body figures' labels: 1-D greedy de-overlap.

    Labels ``i`` want their centre at ``wanted[i]`` and take ``sizes[i]`` along the axis; the
    result puts each centre as near its wish as the others allow, keeping every pair at least
    ``gap`` apart (``|c_i - c_j| >= (sizes[i] + sizes[j]) / 2 + gap``) and, when they fit, every
    box inside ``[lo, hi]``. Order along the axis is kept (sorted by wish, ties by index). A
    forward sweep pushes each box past the previous one; a backward sweep pulls the last ones
    back under ``hi``; if the boxes do not fit between ``lo`` and ``hi`` at all they are stacked
    up from ``lo`` (still never overlapping). Returns the centres in input order.
    """
    n = len(wanted)
    if len(sizes) != n:
        raise ValueError("wanted and sizes differ in length")
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: (wanted[i], i))
    s = [float(sizes[i]) for i in order]
    c = [0.0] * n
    for k, i in enumerate(order):
        floor = lo + s[k] / 2 if k == 0 else c[k - 1] + (s[k - 1] + s[k]) / 2 + gap
        c[k] = max(float(wanted[i]), floor)
    if c[-1] + s[-1] / 2 > hi:
        c[-1] = hi - s[-1] / 2
        for k in range(n - 2, -1, -1):
            c[k] = min(c[k], c[k + 1] - (s[k] + s[k + 1]) / 2 - gap)
        if c[0] - s[0] / 2 < lo:  # they do not fit: stack from the bottom, overlapping nothing
            c[0] = lo + s[0] / 2
            for k in range(1, n):
                c[k] = c[k - 1] + (s[k - 1] + s[k]) / 2 + gap
    out = [0.0] * n
    for k, i in enumerate(order):
        out[i] = c[k]
    return out


def boxes_overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two boxes ``(x0, y0, x1, y1)`` overlap (touching edges do not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# --------------------------------------------------------------------------- the side view

#: Colours of the side view's drawing.
BONE_FILL = "#f3ead7"
BONE_LINE = "#4a4033"
GHOST_LINE = "rgba(110,110,110,0.42)"
#: The colour of the muscles whose tone was changed (distinct from the force reds).
HIGHLIGHT_COLOR = "#c51b7d"
#: How many times larger the side view draws the change from the baseline when exaggerated.
SAGITTAL_EXAGGERATION = 3
#: Smallest plot area (px) the side view is laid out for: at this size or larger its labels
#: never overlap (the dashboard's CSS keeps the figure at least this large).
MIN_PLOT_PX = (360, 420)
#: Highlighted muscles labelled one by one (more are named together in one label).
MAX_MUSCLE_LABELS = 3


def _xy(p) -> tuple[float, float]:
    return float(p[0]), float(p[-1] if len(p) > 2 else p[1])


def _unit(dx: float, dy: float) -> tuple[float, float]:
    n = math.hypot(dx, dy) or 1.0
    return dx / n, dy / n


def _shaft(a, b, half_a: float, half_mid: float, half_b: float) -> list[tuple[float, float]]:
    """A long bone from ``a`` to ``b`` as a closed outline: wide ends, a narrower shaft."""
    (ax, ay), (bx, by) = _xy(a), _xy(b)
    ux, uy = _unit(bx - ax, by - ay)
    nx, ny = -uy, ux
    mx, my = (ax + bx) / 2, (ay + by) / 2
    pts = [(ax + nx * half_a, ay + ny * half_a), (mx + nx * half_mid, my + ny * half_mid),
           (bx + nx * half_b, by + ny * half_b), (bx - nx * half_b, by - ny * half_b),
           (mx - nx * half_mid, my - ny * half_mid), (ax - nx * half_a, ay - ny * half_a)]
    return pts + pts[:1]


def _ellipse(cx: float, cy: float, a: float, b: float, ux: float, uy: float, k: int = 28) -> list[tuple[float, float]]:
    """An ellipse with semi-axis ``a`` along the unit vector ``(ux, uy)`` and ``b`` across it."""
    nx, ny = -uy, ux
    out = []
    for i in range(k + 1):
        t = 2 * math.pi * i / k
        ca, sb = a * math.cos(t), b * math.sin(t)
        out.append((cx + ca * ux + sb * nx, cy + ca * uy + sb * ny))
    return out


def _frame_points(origin, fwd: tuple[float, float], pts: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points given as (forward, up) offsets in the frame whose forward axis is ``fwd``."""
    ox, oy = _xy(origin)
    ux, uy = fwd
    nx, ny = -uy, ux
    return [(ox + f * ux + u * nx, oy + f * uy + u * ny) for f, u in pts]


def bone_outlines(geo: Mapping) -> dict[str, list[list[tuple[float, float]]]]:
    """The side view's recognisable segments as outlines (lists of closed or open polylines):
    ``foot``, ``tibia``, ``femur``, ``pelvis``, ``spine``, ``ribcage``, ``skull``. Drawn from
    the pose's landmarks and joints (pure geometry; a missing landmark leaves its part out)."""
    L = geo.get("landmarks", {})
    J = geo.get("joints", {})
    segs = geo.get("segments", {})
    out: dict[str, list[list[tuple[float, float]]]] = {}

    def have(*names):
        return all(n in L for n in names)

    if have("foot.heel_back", "foot.heel", "foot.toe", "foot.ankle_centre"):
        heel_b, heel, toe, ankle = (_xy(L[k]) for k in ("foot.heel_back", "foot.heel", "foot.toe", "foot.ankle_centre"))
        instep = (ankle[0] + 0.55 * (toe[0] - ankle[0]), ankle[1] + 0.55 * (toe[1] - ankle[1]) + 0.012)
        out["foot"] = [[heel_b, heel, toe, instep, ankle, heel_b]]
    knee = J.get("knee") or L.get("shank.knee_centre")
    ankle = J.get("ankle") or L.get("foot.ankle_centre")
    hip = J.get("hip") or L.get("thigh.hip_centre")
    if knee is not None and ankle is not None:
        out["tibia"] = [_shaft(knee, ankle, 0.032, 0.015, 0.022)]
    if hip is not None and knee is not None:
        (hx, hy), (kx, ky) = _xy(hip), _xy(knee)
        ux, uy = _unit(kx - hx, ky - hy)
        top = (hx + 0.03 * ux, hy + 0.03 * uy)
        out["femur"] = [_shaft(top, knee, 0.026, 0.016, 0.033), _ellipse(hx, hy, 0.026, 0.026, 1.0, 0.0, 20)]
    pel = ("pelvis.asis", "pelvis.iliac_crest", "pelvis.psis", "pelvis.sacrum_back", "pelvis.ischial_tuberosity",
           "pelvis.pubic_symphysis", "pelvis.asis")
    pel = tuple(k for k in pel if k in L)
    if len(pel) >= 5:
        out["pelvis"] = [[_xy(L[k]) for k in pel]]
    spine_j = [j for j in ("L5S1", "L4L5", "L3L4", "L2L3", "L1L2", "T12L1", "T7T8", "neck") if j in J]
    if spine_j:
        start = [_xy(L["pelvis.s1_endplate_mid"])] if "pelvis.s1_endplate_mid" in L else []
        out["spine"] = [start + [_xy(J[j]) for j in spine_j]]
    elif segs:
        out["spine"] = [[_xy(p) for k in TRUNK_SEGMENTS[1:-1] if k in segs for p in segs[k]]]
    rib = ("thorax_lower.t12_endplate_posterior", "thorax_lower.rib12_tip", "thorax_lower.rib10_anterior",
           "thorax_lower.xiphoid", "thorax_upper.c7", "thorax_upper.t4_endplate_posterior")
    if have(*rib):
        t12p, r12, r10, xiph, c7, t4p = (_xy(L[k]) for k in rib)
        bot = J.get("T7T8") or L["thorax_upper.t4_endplate_posterior"]
        top = J.get("neck") or L["thorax_upper.c7"]
        ux, uy = _unit(_xy(top)[0] - _xy(bot)[0], _xy(top)[1] - _xy(bot)[1])  # the upper thorax's axis, up
        ax, ay = uy, -ux  # anterior
        manubrium = (c7[0] + 0.115 * ax - 0.035 * ux, c7[1] + 0.115 * ay - 0.035 * uy)
        back_hi = (t4p[0] - 0.035 * ax, t4p[1] - 0.035 * ay)
        back_lo = (t12p[0] - 0.03 * ax, t12p[1] - 0.03 * ay)
        cage = [r12, r10, xiph, manubrium, c7, back_hi, back_lo, r12]
        ribs = []
        for f in (0.2, 0.4, 0.6, 0.8):  # ribs slope down toward the front
            p = (back_lo[0] + f * (back_hi[0] - back_lo[0]), back_lo[1] + f * (back_hi[1] - back_lo[1]))
            g = max(f - 0.15, 0.0)
            q = (xiph[0] + g * (manubrium[0] - xiph[0]), xiph[1] + g * (manubrium[1] - xiph[1]))
            ribs.append([p, q])
        out["ribcage"] = [cage] + ribs
    if have("head_neck.tragus", "head_neck.occiput"):
        tr, oc = _xy(L["head_neck.tragus"]), _xy(L["head_neck.occiput"])
        fwd = _unit(tr[0] - oc[0], tr[1] - oc[1])
        # cranium, face profile and jaw, in the head's frame (forward along occiput -> tragus, up across it)
        cx, cy = _frame_points(tr, fwd, [(-0.01, 0.055)])[0]
        cranium = _ellipse(cx, cy, 0.098, 0.088, *fwd)
        face = _frame_points(tr, fwd, [(0.075, 0.105), (0.108, 0.045), (0.102, 0.028), (0.128, -0.005), (0.106, -0.02),
                                       (0.112, -0.045), (0.102, -0.085), (0.07, -0.09), (0.02, -0.055), (0.0, -0.01)])
        eye = _ellipse(*_frame_points(tr, fwd, [(0.07, 0.03)])[0], 0.012, 0.008, *fwd, 12)
        out["skull"] = [cranium, face, eye]
        if "neck" in J:
            base = _frame_points(tr, fwd, [(-0.015, -0.02)])[0]
            out["spine"] = out.get("spine", [[]])
            out["spine"][0] = out["spine"][0] + [base]
    return out


#: The outlines drawn filled (the others are lines).
_FILLED = ("foot", "tibia", "femur", "pelvis", "ribcage", "skull")
#: Line widths (px) of the outlines.
_BONE_WIDTH = {"spine": 5, "ribcage": 1.5}


def _poly_xy(polys: Sequence[Sequence[tuple[float, float]]]) -> tuple[list, list]:
    xs, ys = [], []
    for poly in polys:
        for x, y in poly:
            xs.append(_r(x))
            ys.append(_r(y))
        xs.append(None)
        ys.append(None)
    return xs[:-1], ys[:-1]


def _bone_traces(geo: Mapping, *, ghost: bool) -> list[dict]:
    """Traces of the segments (:func:`bone_outlines`); the ghost is one faint trace of outlines."""
    shapes = bone_outlines(geo)
    if ghost:
        xs, ys = _poly_xy([p for polys in shapes.values() for p in polys])
        return [{"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "baseline (resting tone)",
                 "legendgroup": "baseline", "hoverinfo": "skip", "connectgaps": False,
                 "line": {"color": GHOST_LINE, "width": 3}}]
    out = []
    for name in ("foot", "tibia", "femur", "pelvis", "ribcage", "spine", "skull"):
        if name not in shapes:
            continue
        polys = shapes[name]
        if name in _FILLED:
            first, rest = polys[:1], polys[1:]
            xs, ys = _poly_xy(first)
            fill = "rgba(222,196,140,0.6)" if name == "pelvis" else BONE_FILL
            out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": name, "fill": "toself",
                        "fillcolor": fill, "hovertemplate": f"{name}<extra></extra>",
                        "line": {"color": BONE_LINE, "width": 2}})
            if rest:
                xs, ys = _poly_xy(rest)
                out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": f"{name} detail",
                            "hoverinfo": "skip", "showlegend": False,
                            "line": {"color": BONE_LINE, "width": _BONE_WIDTH.get(name, 1.5)}})
        else:
            xs, ys = _poly_xy(polys)
            out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": name,
                        "hovertemplate": f"{name}<extra></extra>",
                        "line": {"color": BONE_LINE, "width": _BONE_WIDTH.get(name, 3)}})
    return out


def _landmark_traces(geo: Mapping) -> list[dict]:
    """The ASIS–PSIS line (pelvic tilt), the Cobb endplates and the vertebral bodies."""
    lms = geo.get("landmarks", {})
    out = []
    if "pelvis.asis" in lms and "pelvis.psis" in lms:
        (px, py), (ax, ay) = _xy(lms["pelvis.psis"]), _xy(lms["pelvis.asis"])
        out.append({"type": "scatter", "x": [_r(px), _r(ax)], "y": [_r(py), _r(ay)], "mode": "lines+markers",
                    "name": "ASIS–PSIS line", "text": ["PSIS", "ASIS"],
                    "hovertemplate": "%{text}<extra>ASIS–PSIS line</extra>",
                    "line": {"color": "#b35806", "width": 3, "dash": "dash"}, "marker": {"size": 8, "color": "#b35806"}})
    ex, ey = [], []
    for ant, post in (("pelvis.s1_endplate_anterior", "pelvis.s1_endplate_posterior"),
                      ("L1.l1_endplate_anterior", "L1.l1_endplate_posterior"),
                      ("thorax_lower.t12_endplate_anterior", "thorax_lower.t12_endplate_posterior"),
                      ("thorax_upper.t4_endplate_anterior", "thorax_upper.t4_endplate_posterior")):
        if ant in lms and post in lms:
            (a, b), (c, d) = _xy(lms[post]), _xy(lms[ant])
            ex += [_r(a), _r(c), None]
            ey += [_r(b), _r(d), None]
    if ex:
        out.append({"type": "scatter", "x": ex[:-1], "y": ey[:-1], "mode": "lines", "name": "endplates (S1, L1, T12, T4)",
                    "hoverinfo": "skip", "line": {"color": "#1f78b4", "width": 3}})
    vx, vy, vt = [], [], []
    for k, p in lms.items():
        if k.endswith(".body_centre"):
            x, y = _xy(p)
            vx.append(_r(x))
            vy.append(_r(y))
            vt.append(k.split(".")[0])
    if vx:
        out.append({"type": "scatter", "x": vx, "y": vy, "mode": "markers", "name": "vertebrae", "text": vt,
                    "hovertemplate": "%{text}<extra></extra>",
                    "marker": {"symbol": "square", "size": 10, "color": BONE_FILL,
                               "line": {"color": BONE_LINE, "width": 1.5}}})
    return out


def _base_of(mid: str) -> str:
    for side in ("_left", "_right"):
        if mid.endswith(side):
            return mid[: -len(side)]
    return mid


def _path_mid(pts: Sequence) -> tuple[float, float]:
    """The point halfway along a polyline."""
    xy = [_xy(p) for p in pts]
    seg = [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(xy[:-1], xy[1:])]
    half, run = sum(seg) / 2, 0.0
    for (a, b), s in zip(zip(xy[:-1], xy[1:]), seg):
        if run + s >= half and s > 0:
            f = (half - run) / s
            return a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])
        run += s
    return xy[0]


def _muscle_traces(geo: Mapping, forces: Mapping[str, float], activation: Mapping[str, float],
                   base_forces: Mapping[str, float], highlight: set[str]) -> list[dict]:
    """One line per muscle (both sides share a path in the sagittal model: drawn once, the
    stronger side's force), thin and translucent unless highlighted; a highlighted muscle is
    drawn thick in :data:`HIGHLIGHT_COLOR` over a white casing with arrowheads at both
    attachments pointing along its line of pull."""
    muscles = geo.get("muscles", {})
    bases: dict[str, list[str]] = {}
    for mid in muscles:
        bases.setdefault(_base_of(mid), []).append(mid)
    plain, lit = [], []
    for base, mids in bases.items():
        mids = sorted(mids)
        f = max(float(forces.get(m, 0.0)) for m in mids)
        pts = muscles[mids[0]]
        xs, ys = [_r(_xy(p)[0]) for p in pts], [_r(_xy(p)[1]) for p in pts]
        hover = "<b>" + base.replace("_", " ") + "</b>" + "".join(
            f"<br>{muscle_label(m)}: {float(forces.get(m, 0.0)):.0f} N"
            + (f" (baseline {base_forces[m]:.0f} N)" if m in base_forces else "")
            + (f", activation {activation[m]:.2f}" if m in activation else "") for m in mids) + "<extra></extra>"
        on = any(m in highlight for m in mids)
        if not on:
            plain.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "muscles", "meta": base,
                          "legendgroup": "muscles", "showlegend": not plain, "hovertemplate": hover,
                          "opacity": 0.45 if highlight else 0.7,
                          "line": {"color": force_color(f), "width": round(0.5 + 0.6 * force_width(f), 2)}})
            continue
        w = max(7.0, force_width(f) + 3.0)
        lit.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "highlight casing",
                    "hoverinfo": "skip", "showlegend": False, "line": {"color": "#ffffff", "width": w + 5}})
        lit.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "toned muscle", "meta": base,
                    "legendgroup": "toned", "hovertemplate": hover,
                    "line": {"color": HIGHLIGHT_COLOR, "width": w}})
        xy = [_xy(p) for p in pts]
        ax, ay = [], []
        for end, nxt in ((xy[0], xy[1]), (xy[-1], xy[-2])):  # arrowheads: each attachment pulled inward
            ux, uy = _unit(nxt[0] - end[0], nxt[1] - end[1])
            step = min(0.045, 0.45 * math.hypot(nxt[0] - end[0], nxt[1] - end[1]))
            ax += [_r(end[0]), _r(end[0] + step * ux), None]
            ay += [_r(end[1]), _r(end[1] + step * uy), None]
        lit.append({"type": "scatter", "x": ax[:-1], "y": ay[:-1], "mode": "lines+markers", "name": "line of pull",
                    "meta": f"pull:{base}", "hoverinfo": "skip", "showlegend": False,
                    "line": {"color": HIGHLIGHT_COLOR, "width": 3},
                    "marker": {"symbol": ["circle", "arrow", "circle", "circle", "arrow"], "size": [7, 16, 0, 7, 16],
                               "angleref": "previous", "color": HIGHLIGHT_COLOR,
                               "line": {"color": "#ffffff", "width": 1}}})
    return plain + lit


def exaggerate_change(geo: Mapping, base_geo: Mapping, factor: float) -> dict:
    """A copy of ``geo`` whose every point is moved ``factor`` times as far from the same point
    of ``base_geo`` (``p -> b + factor * (p - b)``): the drawing of a change, exaggerated. Points
    the baseline lacks are kept as they are. Pure drawing: the numbers printed stay true."""
    k = float(factor)

    def ex(p, b):
        return tuple(bi + k * (pi - bi) for pi, bi in zip(p, b))

    out: dict = {}
    for key in ("joints", "landmarks"):
        pts, bpts = geo.get(key) or {}, base_geo.get(key) or {}
        out[key] = {n: ex(p, bpts[n]) if n in bpts else tuple(p) for n, p in pts.items()}
    for key in ("segments", "muscles"):
        polys, bpolys = geo.get(key) or {}, base_geo.get(key) or {}
        out[key] = {n: [ex(p, b) for p, b in zip(pts, bpolys[n])] if n in bpolys and len(bpolys[n]) == len(pts)
                    else [tuple(p) for p in pts] for n, pts in polys.items()}
    if geo.get("com") is not None:
        out["com"] = ex(geo["com"], base_geo["com"]) if base_geo.get("com") is not None else tuple(geo["com"])
    return out


def _fmt_value(v: float, unit: str) -> str:
    u = unit_symbol(unit)
    return f"{v:.1f}{u}" if u == "°" else f"{v:.0f} {u}"


def _sagittal_labels(metrics: Mapping[str, float], change: Mapping[str, float], lms: Mapping,
                     units: Mapping[str, str], muscles: Sequence[tuple[str, str, tuple[float, float]]]) -> list[dict]:
    """The label items of the side view: each ``{"name", "text", "anchor", "changed", "kind"}``;
    measures first (:data:`ANNOTATED_MEASURES`), then the highlighted muscles ``(name, text,
    anchor)``."""
    items = []
    for name, lm in ANNOTATED_MEASURES:
        if name not in metrics or lm not in lms or not math.isfinite(metrics[name]):
            continue
        d = change.get(name, 0.0) if change else 0.0
        changed = abs(d) >= CHANGE_TOL
        text = f"<b>{measure_label(name)}</b><br>{_fmt_value(metrics[name], units.get(name, ''))}"
        if change:
            text += f" ({d:+.1f})" if changed else " (=)"
        items.append({"name": name, "text": text, "anchor": _xy(lms[lm]), "changed": changed, "kind": "measure"})
    for name, text, anchor in muscles:
        items.append({"name": name, "text": text, "anchor": anchor, "changed": True, "kind": "muscle"})
    return items


#: Segments shown by the ``"trunk"`` focus of the sagittal view.
TRUNK_SEGMENTS = ("pelvis", "L5", "L4", "L3", "L2", "L1", "thorax_lower", "thorax_upper", "head_neck")
#: Room (m) kept beside an upright body (or above a lying one) for the measure labels, at least.
LABEL_ROOM_M = 0.3


def view_box(geos: Sequence[Mapping], focus: str = "body", label_room: float = LABEL_ROOM_M
             ) -> tuple[tuple[float, float, float, float], bool]:
    """The drawing window ``(x0, x1, y0, y1)`` (m) for one or more geometries, and whether the body
    is upright (taller than long). ``focus="trunk"`` frames the pelvis, spine and head; the window
    keeps ``label_room`` for the labels (left of an upright body, above a lying one) and room for
    the head's outline, so standing and lying bodies both fit."""
    xs, ys = [], []
    for geo in geos:
        segs = geo.get("segments", {})
        keep = [k for k in segs if focus != "trunk" or k in TRUNK_SEGMENTS] or list(segs)
        for k in keep:
            for p in segs[k]:
                xs.append(p[0])
                ys.append(p[-1] if len(p) > 2 else p[1])
        for name, p in geo.get("landmarks", {}).items():
            if focus != "trunk" or name.split(".")[0] in TRUNK_SEGMENTS:
                xs.append(p[0])
                ys.append(p[-1] if len(p) > 2 else p[1])
    if not xs:
        return (-0.5, 0.5, 0.0, 1.8), True
    pad = 0.15  # the skull's outline reaches about 0.13 m beyond its landmarks
    x0, x1, y0, y1 = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    upright = (y1 - y0) >= (x1 - x0)
    if upright:
        x0 -= label_room
    else:
        y1 += label_room
    return (x0, x1, y0, y1), upright


def _units() -> dict[str, str]:
    from .metrics import MEASURES

    return {k: v.unit for k, v in MEASURES.items()}


def _layout_labels(items: list[dict], geos: Sequence[Mapping], focus: str, font_px: float,
                   min_px: tuple[float, float]) -> tuple[tuple[float, float, float, float], bool, list[dict]]:
    """Fit the window and place the label boxes with :func:`place_labels`.

    The sizes are estimated in pixels (:func:`label_extent_px`) and converted to metres at the
    smallest scale the figure is drawn at (``min_px``, the plot area): drawn larger, the boxes
    take fewer metres and stay apart. Upright: one column left of the body, as wide as the widest
    label, each box at its anchor's height if it can. Lying: rows above the body."""
    ext = [label_extent_px(it["text"], font_px) for it in items]
    room = LABEL_ROOM_M
    box, upright = view_box(geos, focus, 0.0)
    for _ in range(4):  # the room depends on the scale, the scale on the room: converges in a few steps
        box, upright = view_box(geos, focus, room)
        x0, x1, y0, y1 = box
        s = min(min_px[0] / (x1 - x0), min_px[1] / (y1 - y0))  # px per metre, at the smallest size
        if upright:
            need = (max((w for w, _ in ext), default=0.0) + 16) / s
        else:
            rows = 1 if sum(w for w, _ in ext) + 12 * len(ext) < 0.9 * min_px[0] else 2
            need = rows * (max((h for _, h in ext), default=0.0) + 6) / s + 0.04
        if abs(need - room) < 1e-3:
            break
        room = max(need, 0.05)
    x0, x1, y0, y1 = box
    s = min(min_px[0] / (x1 - x0), min_px[1] / (y1 - y0))
    # fill the smallest plot area in both directions: the room the body does not need is the labels'
    grow_x, grow_y = min_px[0] / s - (x1 - x0), min_px[1] / s - (y1 - y0)
    x0, x1 = x0 - grow_x / 2, x1 + grow_x / 2
    y0, y1 = y0 - grow_y / 2, y1 + grow_y / 2
    box = (x0, x1, y0, y1)
    gap = 6 / s
    placed = []
    if upright:
        hs = [h / s for _, h in ext]
        ys = place_labels([it["anchor"][1] for it in items], hs, y0 + 0.02 * (y1 - y0), y1 - 0.02 * (y1 - y0), gap)
        for it, y, h in zip(items, ys, hs):
            placed.append({**it, "x": x0 + 4 / s, "y": y, "xanchor": "left", "yanchor": "middle", "h": h})
    else:
        rows = 1 if sum(w for w, _ in ext) + 12 * len(ext) < 0.9 * min_px[0] else 2
        order = sorted(range(len(items)), key=lambda i: items[i]["anchor"][0])
        row_h = (max((h for _, h in ext), default=0.0) + 6) / s
        for r in range(rows):
            idx = order[r::rows]
            xs = place_labels([items[i]["anchor"][0] for i in idx], [ext[i][0] / s for i in idx],
                              x0 + 0.01 * (x1 - x0), x1 - 0.01 * (x1 - x0), gap)
            for i, x in zip(idx, xs):
                placed.append({**items[i], "x": x, "y": y1 - 4 / s - (r + 0.5) * row_h, "xanchor": "center",
                               "yanchor": "middle"})
    return box, upright, placed


def sagittal_figure(result: Any, baseline: Any = None, *, title: str | None = None, height: int = 640,
                    annotate: bool = True, focus: str = "body", highlight: Iterable[str] = (),
                    exaggerate: float = 1.0, font_size: int = 13, min_px: tuple[float, float] = MIN_PLOT_PX,
                    colorbar: bool = True, as_dict: bool = False):
    """The body seen from the left side in its solved pose.

    Draws recognisable segments (:func:`bone_outlines`: foot, tibia, femur, pelvis, spine with
    its vertebral bodies, rib cage, skull), the endplates of the Cobb angles, the pelvis's
    ASIS–PSIS line, one line per muscle (both sides share a path in this sagittal model) whose
    colour and width show its force, the centre of mass, and, when ``baseline`` is given, the
    baseline pose ghosted behind. The muscles in ``highlight`` (ids, e.g. the ones whose tone
    was changed; or a mapping ``{id: label line}``, e.g. ``"tone 0.40"``, where a label should
    say something other than the activation) are drawn thick in :data:`HIGHLIGHT_COLOR` with arrowheads along their line of
    pull and a label each; the others thin and faint. ``exaggerate`` > 1 draws the change from
    the baseline that many times larger (:func:`exaggerate_change`) and says so on the figure;
    the numbers stay true. The measure labels (pelvic tilt, lordosis, kyphosis, head forward,
    with their change) and muscle labels are laid out by :func:`place_labels`, so their boxes
    never overlap at a plot area of ``min_px`` pixels or more. ``focus`` picks the window
    (:func:`view_box`): ``"body"`` (feet to head) or ``"trunk"`` (pelvis to head). ``colorbar``
    adds the muscle-force colour bar.

    A result that did not converge is not drawn as if it were an answer: the figure shows the
    baseline and the solver's message.
    """
    units = _units()
    data: list[dict] = []
    annotations: list[dict] = []
    failed = not _ok(result)
    shown = baseline if failed and baseline is not None else result
    base_geo = baseline.geometry if baseline is not None else None
    drawn = shown is not None and not (failed and baseline is None)
    geo = shown.geometry if drawn else None
    k = float(exaggerate) if exaggerate and not failed and base_geo is not None else 1.0
    if geo is not None and k != 1.0:
        geo = exaggerate_change(geo, base_geo, k)
    notes = dict(highlight) if isinstance(highlight, Mapping) else {}
    highlight = set(highlight) if not failed else set()
    items: list[dict] = []
    if geo is not None:
        muscles = geo.get("muscles", {})
        lit = sorted({_base_of(m) for m in highlight if m in muscles})
        labels = []
        act = dict(_get(shown, "activation", {}) or {})
        for base in lit[:MAX_MUSCLE_LABELS] if len(lit) <= MAX_MUSCLE_LABELS else lit[:MAX_MUSCLE_LABELS - 1]:
            mids = sorted(m for m in highlight if _base_of(m) == base and m in muscles)
            sides = "" if len(mids) != 1 or mids[0] == base else (" (left)" if mids[0].endswith("_left") else " (right)")
            note = notes.get(mids[0]) or f"activation {max(act.get(m, 0.0) for m in mids):.2f}"
            labels.append((f"muscle:{base}", f"<b>{base.replace('_', ' ')}{sides}</b><br>{note}",
                           _path_mid(muscles[mids[0]])))
        if len(lit) > MAX_MUSCLE_LABELS:
            rest = lit[MAX_MUSCLE_LABELS - 1:]
            labels.append(("muscle:others", "<b>also changed</b><br>" + ", ".join(b.replace("_", " ") for b in rest),
                           _path_mid(muscles[sorted(m for m in highlight if _base_of(m) == rest[0])[0]])))
        change = dict(shown.change) if baseline is not None and not failed else {}
        if annotate:
            items = _sagittal_labels(shown.metrics, change, geo.get("landmarks", {}), units, labels)
    geos = [g for g in (base_geo, geo) if g]
    (x0, x1, y0, y1), upright, placed = _layout_labels(items, geos, focus, font_size, min_px)
    if base_geo is not None and not failed:
        data += _bone_traces(base_geo, ghost=True)
    if geo is not None:
        mus = _muscle_traces(geo, shown.muscle_force_N, dict(_get(shown, "activation", {}) or {}),
                             baseline.muscle_force_N if baseline is not None and not failed else {}, highlight)
        plain = [t for t in mus if t["name"] == "muscles"]
        data += plain + _bone_traces(geo, ghost=False) + _landmark_traces(geo)
        data += [t for t in mus if t["name"] != "muscles"]  # the highlighted muscles over the bones
        if "com" in geo:
            data.append(_com_trace(*[[_r(v)] for v in _xy(geo["com"])]))
        if colorbar:
            data.append(_colorbar_trace())
    for it in placed:
        color = HIGHLIGHT_COLOR if it["kind"] == "muscle" else ("#b2182b" if it["changed"] else "#333")
        ax, ay = it["anchor"]
        ax, ay = min(max(ax, x0), x1), min(max(ay, y0), y1)
        annotations.append({"x": _r(ax), "y": _r(ay), "ax": _r(it["x"]), "ay": _r(it["y"]), "axref": "x",
                            "ayref": "y", "xref": "x", "yref": "y", "text": it["text"], "showarrow": True,
                            "arrowhead": 2, "arrowwidth": 1.5, "arrowcolor": color if it["changed"] else "#888",
                            "xanchor": it["xanchor"], "yanchor": it["yanchor"], "align": "left",
                            "font": {"size": font_size, "color": color}, "bgcolor": "rgba(255,255,255,0.92)",
                            "bordercolor": color if it["kind"] == "muscle" else "rgba(0,0,0,0)", "borderwidth": 1,
                            "borderpad": 4, "name": it["name"]})
    title = title or "Side view (sagittal)"
    if k != 1.0:  # in the title, so it can never cover a label
        title += f" — <b style='color:#b35806'>changes drawn ×{k:g} (exaggerated)</b>, numbers true"
    if failed:
        annotations.append({"text": "No stable posture for this tone:<br>" + str(_get(result, "message", "")) +
                                    "<br>(showing the baseline)",
                            "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.98, "showarrow": False,
                            "font": {"size": 14, "color": "#b2182b"}, "bgcolor": "rgba(255,240,240,0.95)",
                            "bordercolor": "#b2182b", "name": "failed"})
    fig = {
        "data": data,
        "layout": {
            "title": {"text": title, "font": {"size": 15}, "x": 0.02},
            "height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
            "font": {"family": _FONT},
            "xaxis": {"range": [_r(x0), _r(x1)], "showgrid": False, "zeroline": False, "visible": False,
                      "constrain": "domain"},
            "yaxis": {"range": [_r(y0), _r(y1)], "scaleanchor": "x", "scaleratio": 1, "showgrid": False,
                      "zeroline": False, "visible": False, "constrain": "domain"},
            "plot_bgcolor": "#fbfaf7", "paper_bgcolor": "rgba(0,0,0,0)",
            "legend": {"orientation": "h", "x": 0, "y": -0.01, "yanchor": "top", "bgcolor": "rgba(255,255,255,0.7)",
                       "font": {"size": 11}},
            "hovermode": "closest",
            "annotations": annotations + ([
                {"text": "anterior →", "xref": "paper", "yref": "paper", "x": 0.99, "y": 0.01, "showarrow": False,
                 "font": {"size": 11, "color": "#666"}, "xanchor": "right", "yanchor": "bottom",
                 "name": "direction"}] if upright else []),
            "shapes": [{"type": "line", "x0": x0, "x1": x1, "y0": 0, "y1": 0, "xref": "x", "yref": "y",
                        "line": {"color": "#999", "width": 2}}] if upright and y0 < 0 < y1 else [],
        },
    }
    return _finish(fig, as_dict)



def _mirror_name(name: str) -> str | None:
    """The other side's name (``hip_left`` <-> ``hip_right``, ``pelvis.asis.left`` <->
    ``pelvis.asis.right``); ``name`` itself for a midline name."""
    for a, b in (("_left", "_right"), (".left", ".right")):
        if name.endswith(a):
            return name[: -len(a)] + b
        if name.endswith(b):
            return name[: -len(b)] + a
    return name


def exaggerate_lateral(geo: Mapping, factor: float) -> dict:
    """A copy of a 3-D geometry (:attr:`Result.geometry_3d <musclesim.simulation.Result.geometry_3d>`)
    whose left-right asymmetry is drawn ``factor`` times larger.

    Each point is split into its pose's symmetric part (the mean of the point and its mirror
    partner reflected across the midline, z -> -z; a midline point is its own partner) and the
    rest, the asymmetry; the asymmetry is scaled. Changes the two sides share (pelvic tilt, a
    bilateral tone) are kept at their true size; a symmetric pose is unchanged. The resting
    baseline is symmetric, so this scales exactly the left-right change from it: a pelvic
    obliquity, a side-bend, a shift or a twist, drawn ``factor`` times larger (for small
    angles). A point whose partner is missing is left as is.
    """
    k = float(factor)
    if k == 1.0:
        return dict(geo)

    def ex(p, q):
        s = ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2, (p[2] - q[2]) / 2)
        return tuple(si + k * (pi - si) for pi, si in zip(p, s))

    out: dict = {}
    for key in ("joints", "landmarks"):
        pts = geo.get(key) or {}
        out[key] = {n: ex(p, pts[_mirror_name(n)]) if _mirror_name(n) in pts else tuple(p) for n, p in pts.items()}
    mus = geo.get("muscles") or {}
    out["muscles"] = {}
    for n, path in mus.items():
        other = mus.get(_mirror_name(n))
        out["muscles"][n] = ([ex(p, q) for p, q in zip(path, other)] if other is not None and len(other) == len(path)
                             else [tuple(p) for p in path])
    out["spine"] = [ex(p, p) for p in geo.get("spine") or []]
    if geo.get("com") is not None:
        out["com"] = ex(geo["com"], geo["com"])
    return out


def _frontal_field(geo: Mapping) -> list[tuple[float, float]]:
    """The body's left-right displacement (m) up its height, ``[(y, z), ...]`` rising: the
    midpoints of the ankle, knee and hip pairs, then the spine from S1 to C7. These points lie
    close to the frontal plane through the joints, so a turn about the vertical hardly moves them
    sideways: the field is the frontal part of the pose's asymmetry (shift and side-bend)."""
    J = geo.get("joints") or {}
    pts = []
    for j in ("ankle", "knee", "hip"):
        a, b = J.get(f"{j}_left"), J.get(f"{j}_right")
        if a is not None and b is not None:
            pts.append(((a[1] + b[1]) / 2, (a[2] + b[2]) / 2))
    pts += [(p[1], p[2]) for p in geo.get("spine") or []]
    out: list[tuple[float, float]] = []
    for y, z in pts:  # keep it rising (a lying or odd pose: drop what folds back)
        if not out or y > out[-1][0]:
            out.append((y, z))
    return out


def _interp(field: Sequence[tuple[float, float]], y: float) -> float:
    if not field:
        return 0.0
    if y <= field[0][0]:
        return field[0][1]
    for (y0, z0), (y1, z1) in zip(field[:-1], field[1:]):
        if y <= y1:
            return z0 + (z1 - z0) * (y - y0) / (y1 - y0)
    return field[-1][1]


def exaggerate_frontal(geo: Mapping, factor: float) -> dict:
    """A copy of a 3-D geometry for a front view whose frontal-plane asymmetry is drawn
    ``factor`` times larger; the turn about the vertical stays at its true size.

    Two parts are scaled: the height difference between each point and its mirror partner (half
    of it added to one, taken from the other: an obliquity, a hitched hip) and the sideways
    shift of the body at each height (:func:`_frontal_field`: the pelvis shift, the side-bend of
    the spine). A symmetric pose, such as the resting baseline, is unchanged; the numbers the
    figure prints are never scaled. (Scaling every coordinate of the asymmetry,
    :func:`exaggerate_lateral`, would let a few degrees of pelvic rotation swing the anterior
    landmarks sideways and swamp the frontal picture.)
    """
    k = float(factor)
    if k == 1.0:
        return dict(geo)
    field = _frontal_field(geo)

    def ex(p, q):
        dy = (p[1] - q[1]) / 2 if q is not p else 0.0
        return (p[0], p[1] + (k - 1.0) * dy, p[2] + (k - 1.0) * _interp(field, p[1] - dy))

    out: dict = {}
    for key in ("joints", "landmarks"):
        pts = geo.get(key) or {}
        out[key] = {}
        for n, p in pts.items():
            m = _mirror_name(n)
            out[key][n] = ex(p, p if m == n else pts[m]) if m in pts else tuple(p)
    mus = geo.get("muscles") or {}
    out["muscles"] = {}
    for n, path in mus.items():
        m = _mirror_name(n)
        other = path if m == n else mus.get(m)
        out["muscles"][n] = ([ex(p, p if m == n else q) for p, q in zip(path, other)]
                             if other is not None and len(other) == len(path) else [tuple(p) for p in path])
    out["spine"] = [ex(p, p) for p in geo.get("spine") or []]
    if geo.get("com") is not None:
        out["com"] = ex(geo["com"], geo["com"])
    return out


#: How the frontal figure words the sign of each left-right measure: (label, positive, negative,
#: about zero). The signs are the measures' own (:data:`musclesim.MEASURES`).
LATERAL_WORDS = {
    "pelvic_obliquity_deg": ("obliquity", "left crest up", "right crest up", "level"),
    "trunk_lateral_bend_deg": ("side-bend", "to the left", "to the right", "upright"),
    "hip_height_difference_mm": ("hip height", "left hip up", "right hip up", "level"),
    "apparent_leg_length_difference_mm": ("leg length", "left longer", "right longer", "equal"),
    "pelvic_rotation_deg": ("pelvic rotation", "left side forward", "right side forward", "square"),
    "hip_rotation_left_deg": ("left hip rotation", "external", "internal", "neutral"),
    "hip_rotation_right_deg": ("right hip rotation", "external", "internal", "neutral"),
}
#: The transverse measures shown under the frontal figure's top view.
TRANSVERSE_MEASURES = ("pelvic_rotation_deg", "hip_rotation_left_deg", "hip_rotation_right_deg")
#: Activation changes (0-1) from the baseline below this leave a muscle thin in the frontal view.
ACTIVATION_TOL = 0.01
#: The left-right exaggeration note's colour.
_NOTE_COLOR = "#b35806"


def lateral_phrase(name: str, value: float, unit: str = "") -> str:
    """``obliquity +0.3° (left crest up)``: a left-right measure, short, its sign in words."""
    label, pos, neg, zero = LATERAL_WORDS.get(name, (measure_label(name), "", "", ""))
    if value is None or not math.isfinite(value):
        return f"{label}: —"
    u = unit_symbol(unit)
    num = f"{value:+.1f}{u}" if u == "°" else f"{value:+.1f} {u}".rstrip()
    word = zero if abs(value) < CHANGE_TOL else (pos if value > 0 else neg)
    return f"{label} {num}" + (f" ({word})" if word else "")


def _front_traces(geo: Mapping, *, ghost: bool, forces: Mapping[str, float] | None = None,
                  activation: Mapping[str, float] | None = None, base_activation: Mapping[str, float] | None = None,
                  base_forces: Mapping[str, float] | None = None, top: bool = False) -> list[dict]:
    """Traces of one 3-D pose seen from the front (``top=False``: horizontal z, the body's left on
    the viewer's right; vertical y) or from above (``top=True``: horizontal z, vertical -x, the
    front toward the bottom), on the second axes pair when ``top``."""
    J, L = geo.get("joints") or {}, geo.get("landmarks") or {}
    axes = {"xaxis": "x2", "yaxis": "y2"} if top else {}

    def pt(p):
        return (_r(p[2]), _r(-p[0])) if top else (_r(p[2]), _r(p[1]))

    def line(points):
        xs, ys = [], []
        for p in points:
            if p is None:
                xs.append(None)
                ys.append(None)
            else:
                a, b = pt(p)
                xs.append(a)
                ys.append(b)
        return xs, ys

    def have(*names, src=L):
        return all(n in src for n in names)

    out: list[dict] = []
    pelvis_top = [L[n] for n in ("pelvis.asis.left", "pelvis.iliac_crest.left", "pelvis.psis.left",
                                 "pelvis.sacrum_back", "pelvis.psis.right", "pelvis.iliac_crest.right",
                                 "pelvis.asis.right", "pelvis.pubic_symphysis", "pelvis.asis.left") if n in L]
    pelvis_front = [L[n] for n in ("pelvis.iliac_crest.left", "pelvis.asis.left", "pelvis.ischial_tuberosity.left",
                                   "pelvis.pubic_symphysis", "pelvis.ischial_tuberosity.right", "pelvis.asis.right",
                                   "pelvis.iliac_crest.right", "pelvis.s1_endplate_mid", "pelvis.iliac_crest.left")
                    if n in L]
    ribs_top = [L[n] for n in ("thorax_lower.rib12_tip.left", "thorax_lower.rib10_anterior.left",
                               "thorax_lower.xiphoid", "thorax_lower.rib10_anterior.right",
                               "thorax_lower.rib12_tip.right") if n in L]
    if ghost:
        pts: list = []
        if top:
            pts += pelvis_top + [None] + ribs_top + [None]
        else:
            for side in ("left", "right"):
                pts += [J.get(f"ankle_{side}"), J.get(f"knee_{side}"), J.get(f"hip_{side}"), None]
            pts += pelvis_front + [None] + list(geo.get("spine") or []) + [None]
        xs, ys = line(pts)
        out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "baseline (resting tone)",
                    "legendgroup": "baseline", "hoverinfo": "skip", "connectgaps": False,
                    "line": {"color": "rgba(120,120,120,0.45)", "width": 6 if not top else 4}, **axes})
        if have("pelvis.iliac_crest.left", "pelvis.iliac_crest.right") and not top:
            xs, ys = line([L["pelvis.iliac_crest.right"], L["pelvis.iliac_crest.left"]])
            out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "baseline crest line",
                        "legendgroup": "baseline", "showlegend": False, "hoverinfo": "skip",
                        "line": {"color": "rgba(179,88,6,0.35)", "width": 3}, **axes})
        if top and have("pelvis.asis.left", "pelvis.asis.right"):
            xs, ys = line([L["pelvis.asis.right"], L["pelvis.asis.left"]])
            out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "baseline ASIS line",
                        "legendgroup": "baseline", "showlegend": False, "hoverinfo": "skip",
                        "line": {"color": "rgba(179,88,6,0.35)", "width": 3}, **axes})
        return out

    if top:
        if pelvis_top:
            xs, ys = line(pelvis_top)
            out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "pelvis (from above)",
                        "fill": "toself", "fillcolor": "rgba(222,196,140,0.55)", "hoverinfo": "skip",
                        "line": {"color": "#8c6d31", "width": 2}, **axes})
        if ribs_top:
            xs, ys = line(ribs_top)
            out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "lower ribs (from above)",
                        "hoverinfo": "skip", "line": {"color": "#6b6b6b", "width": 2}, **axes})
        if have("pelvis.asis.left", "pelvis.asis.right"):
            xs, ys = line([L["pelvis.asis.right"], L["pelvis.asis.left"]])
            out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines+markers+text", "name": "ASIS line (rotation)",
                        "text": ["R", "L"], "textposition": ["middle left", "middle right"],
                        "textfont": {"size": 11, "color": _NOTE_COLOR},
                        "hovertemplate": "ASIS %{text}<extra></extra>",
                        "line": {"color": _NOTE_COLOR, "width": 3, "dash": "dash"},
                        "marker": {"size": 7, "color": _NOTE_COLOR}, **axes})
        return out

    # muscles first (underneath): thin, coloured by force like the side view; the ones whose
    # activation changed from the baseline drawn at their force width
    forces, activation = forces or {}, activation or {}
    base_activation, base_forces = base_activation or {}, base_forces or {}
    muscles = geo.get("muscles") or {}
    changed = {m for m in muscles if abs(activation.get(m, 0.0) - base_activation.get(m, activation.get(m, 0.0)))
               >= ACTIVATION_TOL}
    first = {True: True, False: True}
    for mid in sorted(muscles, key=lambda m: (m in changed, m)):
        f = float(forces.get(mid, 0.0))
        hi = mid in changed
        xs, ys = line(muscles[mid])
        hover = (f"<b>{muscle_label(mid)}</b><br>force {f:.0f} N"
                 + (f" (baseline {base_forces[mid]:.0f} N)" if mid in base_forces else "")
                 + (f"<br>activation {activation[mid]:.2f}" if mid in activation else "")
                 + (f" (baseline {base_activation[mid]:.2f})" if mid in base_activation else "") + "<extra></extra>")
        out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "meta": mid,
                    "name": "muscles, activation changed" if hi else "muscles",
                    "legendgroup": "muscles-changed" if hi else "muscles", "showlegend": first[hi],
                    "hovertemplate": hover, "opacity": 1.0 if hi else 0.45,
                    "line": {"color": force_color(f), "width": force_width(f) if hi else 1.2}})
        first[hi] = False
    # legs: ankle - knee - hip each side, and a foot on the floor
    xs, ys = [], []
    for side in ("right", "left"):
        chain = [J.get(f"ankle_{side}"), J.get(f"knee_{side}"), J.get(f"hip_{side}")]
        if all(p is not None for p in chain):
            a, b = line(chain)
            xs += a + [None]
            ys += b + [None]
        heel = L.get(f"foot.heel.{side}")
        if heel is not None and chain[0] is not None:
            a, b = line([chain[0], heel])
            xs += a + [None]
            ys += b + [None]
            z, y = pt(heel)
            xs += [_r(z - 0.04), _r(z + 0.04), None]
            ys += [y, y, None]
    out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "legs", "hoverinfo": "skip",
                "line": {"color": "#3b3b3b", "width": 6}})
    # pelvis outline and hip joints
    if pelvis_front:
        out.append(_pelvis_trace(*line(pelvis_front)))
    if "hip_left" in J and "hip_right" in J:
        xs, ys = line([J["hip_right"], J["hip_left"]])
        out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines+markers", "name": "hip joints",
                    "text": ["right hip", "left hip"], "hovertemplate": "%{text}<extra></extra>",
                    "line": {"color": "#8c6d31", "width": 1.5, "dash": "dot"},
                    "marker": {"size": 10, "color": "#f0e6d2", "line": {"color": "#3b3b3b", "width": 2}}})
    # rib cage (schematic): the lower ribs, up to C7's height at their width, following C7
    if have("thorax_lower.rib12_tip.right", "thorax_lower.rib10_anterior.right", "thorax_upper.c7",
            "thorax_lower.rib10_anterior.left", "thorax_lower.rib12_tip.left"):
        r10, l10, c7 = L["thorax_lower.rib10_anterior.right"], L["thorax_lower.rib10_anterior.left"], L["thorax_upper.c7"]
        mid = [(a + b) / 2 for a, b in zip(r10, l10)]
        top_y = c7[1] - 0.04

        def up(p):  # the rib's point carried up to C7's height, shifted with C7
            return (p[0], top_y, c7[2] + 0.95 * (p[2] - mid[2]))

        th = [L["thorax_lower.rib12_tip.right"], r10, up(r10), up(l10), l10, L["thorax_lower.rib12_tip.left"]]
        xs, ys = line(th)
        out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "rib cage (schematic)",
                    "hoverinfo": "skip", "fill": "toself", "fillcolor": "rgba(200,200,200,0.22)",
                    "line": {"color": "#9a9a9a", "width": 1.5, "shape": "spline"}})
    # spine: sacrum to C7, and the head above it
    spine = list(geo.get("spine") or [])
    if spine:
        xs, ys = line(spine)
        out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines+markers", "name": "spine (S1 to C7)",
                    "hoverinfo": "skip", "line": {"color": "#3b3b3b", "width": 4},
                    "marker": {"symbol": "square", "size": 8, "color": "#f0e6d2",
                               "line": {"color": "#3b3b3b", "width": 1.5}}})
    if have("head_neck.tragus.left", "head_neck.tragus.right"):
        c = [(a + b) / 2 for a, b in zip(L["head_neck.tragus.left"], L["head_neck.tragus.right"])]
        cz, cy = pt(c)
        rz, ry = 0.075, 0.1
        out.append({"type": "scatter", "mode": "lines", "name": "head", "hoverinfo": "skip",
                    "x": [_r(cz + rz * math.cos(2 * math.pi * k / 24)) for k in range(25)],
                    "y": [_r(cy + ry * math.sin(2 * math.pi * k / 24)) for k in range(25)],
                    "line": {"color": "#3b3b3b", "width": 3}})
        if spine:
            xs, ys = line([spine[-1]])
            out.append({"type": "scatter", "mode": "lines", "name": "neck", "hoverinfo": "skip",
                        "x": xs + [cz], "y": ys + [_r(cy - ry)], "line": {"color": "#3b3b3b", "width": 4}})
    # the crest line (obliquity), C7 and the centre of mass
    if have("pelvis.iliac_crest.left", "pelvis.iliac_crest.right"):
        xs, ys = line([L["pelvis.iliac_crest.right"], L["pelvis.iliac_crest.left"]])
        out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines+markers", "name": "iliac crest line",
                    "text": ["right iliac crest", "left iliac crest"], "hovertemplate": "%{text}<extra></extra>",
                    "line": {"color": _NOTE_COLOR, "width": 3, "dash": "dash"},
                    "marker": {"size": 8, "color": _NOTE_COLOR}})
    if have("pelvis.asis.left", "pelvis.asis.right"):
        xs, ys = line([L["pelvis.asis.right"], L["pelvis.asis.left"]])
        out.append({"type": "scatter", "x": xs, "y": ys, "mode": "markers", "name": "ASIS",
                    "text": ["right ASIS", "left ASIS"], "hovertemplate": "%{text}<extra></extra>",
                    "marker": {"size": 7, "color": "#fff", "line": {"color": _NOTE_COLOR, "width": 2}}})
    if "thorax_upper.c7" in L:
        xs, ys = line([L["thorax_upper.c7"]])
        out.append({"type": "scatter", "x": xs, "y": ys, "mode": "markers", "name": "C7",
                    "hovertemplate": "C7<extra></extra>",
                    "marker": {"symbol": "diamond", "size": 10, "color": "#1f78b4", "line": {"color": "#fff", "width": 1}}})
    if geo.get("com") is not None:
        out.append(_com_trace(*line([geo["com"]])))
    return out


def _front_references(geo: Mapping) -> list[dict]:
    """Dotted references of the frontal view: a level line through the iliac crests' midpoint
    and a plumb line up from S1 (against which the crest line's tilt and C7's side-bend read)."""
    L = geo.get("landmarks") or {}
    out = []
    if "pelvis.iliac_crest.left" in L and "pelvis.iliac_crest.right" in L:
        l, r = L["pelvis.iliac_crest.left"], L["pelvis.iliac_crest.right"]
        y = (l[1] + r[1]) / 2
        out.append({"type": "scatter", "x": [_r(r[2] - 0.07), _r(l[2] + 0.07)], "y": [_r(y), _r(y)], "mode": "lines",
                    "name": "level", "hoverinfo": "skip", "line": {"color": "#555", "width": 1.2, "dash": "dot"}})
    spine = list(geo.get("spine") or [])
    if spine:
        s1 = spine[0]
        top = spine[-1][1] + 0.06
        out.append({"type": "scatter", "x": [_r(s1[2]), _r(s1[2])], "y": [_r(s1[1]), _r(top)], "mode": "lines",
                    "name": "plumb line from S1", "hoverinfo": "skip",
                    "line": {"color": "#555", "width": 1.2, "dash": "dot"}})
    return out


#: Nice exaggeration steps; the top view picks the largest that keeps its drawn turn modest.
EXAGGERATION_STEPS = (1, 2, 5, 10, 20, 50)
#: The largest pelvic rotation (deg) the top view draws: its factor is stepped down to stay below.
TOP_VIEW_MAX_DRAWN_DEG = 12.0


def _nice_factor(limit: float) -> float:
    return float(max([s for s in EXAGGERATION_STEPS if s <= limit] or [1]))


def frontal_figure(result: Any, baseline: Any = None, *, exaggerate: float = 1.0, focus: str = "body",
                   top_view: bool = True, title: str | None = None, height: int = 640, as_dict: bool = False):
    """The body seen from the front, from :attr:`Result.geometry_3d`, the baseline ghosted behind.

    Horizontal is the body's left-right, drawn as seen from the front: the body's **left on the
    viewer's right** (both sides are labelled). Drawn: legs (ankle, knee, hip each side), the
    pelvis with its iliac-crest line (obliquity) against a dotted level line, the spine from S1
    to C7 against a dotted plumb line, the head, the lower rib cage, the centre of mass, and every
    muscle as a thin line coloured by force as in the side view; muscles whose activation changed
    from the baseline are drawn at their force width. The frontal measures are listed in words
    (:func:`lateral_phrase`). ``focus`` is ``"body"`` (feet to head) or ``"trunk"`` (hips to
    head). ``top_view`` adds a small view from above (pelvis, ASIS line, lower ribs; the front
    toward the bottom, the left still on the right) for the pelvic rotation.

    Left-right effects are small (often under a degree, a few millimetres): ``exaggerate`` draws
    each pose's left-right asymmetry that many times larger (:func:`exaggerate_lateral`), and the
    figure says so; the numbers printed are always the true ones. Rotations are larger, so the
    top view uses the largest of :data:`EXAGGERATION_STEPS` up to ``exaggerate`` that keeps the
    drawn pelvic rotation within :data:`TOP_VIEW_MAX_DRAWN_DEG`, and prints its own factor.

    Lying positions have no left-right model (``geometry_3d`` is None): the figure says so
    (:data:`FRONTAL_NOT_STANDING`). A failed solve draws the baseline with the solver's message.
    """
    title = title or "Front view"
    failed = result is not None and not _ok(result)
    shown = baseline if failed else result
    geo3 = _get(shown, "geometry_3d") if shown is not None else None
    if not geo3:
        text = FRONTAL_NOT_STANDING
        if failed:
            text = "<b>No stable posture for this tone:</b><br>" + str(_get(result, "message", ""))
        return _finish(_empty_figure(text, height=height, title=title), as_dict)
    bgeo3 = _get(baseline, "geometry_3d") if baseline is not None and not failed else None
    k = max(float(exaggerate), 1.0)
    geo = exaggerate_frontal(geo3, k)
    bgeo = exaggerate_frontal(bgeo3, k) if bgeo3 else None
    units = _units()
    metrics = dict(_get(shown, "metrics", {}) or {})
    rot = abs(metrics.get("pelvic_rotation_deg", 0.0) or 0.0)
    kt = min(k, _nice_factor(TOP_VIEW_MAX_DRAWN_DEG / rot) if rot > 1e-9 and math.isfinite(rot) else k)

    data: list[dict] = []
    if bgeo:
        data += _front_traces(bgeo, ghost=True)
    data += _front_references(geo)
    data += _front_traces(geo, ghost=False, forces=_get(shown, "muscle_force_N"), activation=_get(shown, "activation"),
                          base_activation=_get(baseline, "activation") if bgeo else None,
                          base_forces=_get(baseline, "muscle_force_N") if bgeo else None)
    # the view from above needs the landmarks only
    top_geo = exaggerate_lateral({"landmarks": geo3.get("landmarks") or {}}, kt) if top_view else None
    top_bgeo = exaggerate_lateral({"landmarks": bgeo3.get("landmarks") or {}}, kt) if top_view and bgeo3 else None
    if top_view:
        if top_bgeo:
            data += _front_traces(top_bgeo, ghost=True, top=True)
        data += _front_traces(top_geo, ghost=False, top=True)

    # the front view's window: both poses, symmetric about the midline
    pts = [p for g in (geo, bgeo) if g for p in list((g.get("joints") or {}).values())
           + list((g.get("landmarks") or {}).values()) + list(g.get("spine") or [])]
    half = max(max(abs(p[2]) for p in pts) + 0.08, 0.25)
    y_top = max(p[1] for p in pts) + 0.14
    if focus == "trunk":
        y_bottom = min(p[1] for g in (geo, bgeo) if g for n, p in (g.get("joints") or {}).items()
                       if n.startswith("hip")) - 0.14
    else:
        y_bottom = -0.05
    lines = [lateral_phrase(n, metrics[n], units.get(n, "")) for n in FRONTAL_MEASURES if n in metrics]
    tlines = [lateral_phrase(n, metrics[n], units.get(n, "")) for n in TRANSVERSE_MEASURES[:1] if n in metrics]
    plot_px = max(height - 50, 200)
    text_frac = min((16 * (k > 1) + 14.5 * len(lines) + 8) / plot_px, 0.3)
    bottom = 0.22 if top_view else 0.0
    front_dom = [bottom + 0.04, round(1.0 - text_frac, 3)]
    anns = []
    if k > 1:
        anns.append({"text": f"<b>left-right changes drawn ×{k:g}</b>", "xref": "paper", "yref": "paper",
                     "x": 0.0, "y": 1.0, "xanchor": "left", "yanchor": "top", "showarrow": False,
                     "font": {"size": 12, "color": _NOTE_COLOR}, "name": "exaggeration"})
    if lines:
        anns.append({"text": "<br>".join(lines), "xref": "paper", "yref": "paper", "x": 0.0,
                     "y": round(1.0 - (16 / plot_px if k > 1 else 0.0), 3), "xanchor": "left", "yanchor": "top",
                     "showarrow": False, "align": "left", "font": {"size": 11, "color": "#222"},
                     "name": "frontal measures"})
    anns += [
        {"text": "◀ body's right", "xref": "paper", "yref": "paper", "x": 0.0, "y": front_dom[0], "xanchor": "left",
         "yanchor": "top", "showarrow": False, "font": {"size": 11, "color": "#444"}, "name": "right side"},
        {"text": "body's left ▶", "xref": "paper", "yref": "paper", "x": 1.0, "y": front_dom[0], "xanchor": "right",
         "yanchor": "top", "showarrow": False, "font": {"size": 11, "color": "#444"}, "name": "left side"},
    ]
    layout: dict = {
        "title": {"text": title, "font": {"size": 16}, "x": 0.02},
        "height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "font": {"family": _FONT},
        "xaxis": {"range": [_r(-half), _r(half)], "visible": False, "constrain": "domain", "domain": [0.0, 1.0]},
        "yaxis": {"range": [_r(y_bottom), _r(y_top)], "scaleanchor": "x", "scaleratio": 1, "visible": False,
                  "constrain": "domain", "domain": front_dom},
        "plot_bgcolor": "#fbfaf7", "paper_bgcolor": "rgba(0,0,0,0)", "showlegend": False, "hovermode": "closest",
        "shapes": [{"type": "line", "x0": _r(-half), "x1": _r(half), "y0": 0, "y1": 0, "xref": "x", "yref": "y",
                    "line": {"color": "#999", "width": 2}}] if y_bottom < 0 else [],
    }
    if top_view:
        tgeo = [g for g in (top_geo, top_bgeo) if g]
        tpts = [p for g in tgeo for n, p in (g.get("landmarks") or {}).items()
                if n.startswith(("pelvis.", "thorax_lower.rib10", "thorax_lower.xiphoid"))]
        xs = [-p[0] for p in tpts] or [0.0]
        layout["xaxis2"] = {"range": [_r(-half), _r(half)], "visible": False, "anchor": "y2", "domain": [0.0, 1.0],
                            "constrain": "domain"}
        layout["yaxis2"] = {"range": [_r(min(xs) - 0.02), _r(max(xs) + 0.02)], "visible": False, "anchor": "x2",
                            "scaleanchor": "x2", "scaleratio": 1, "domain": [0.0, round(bottom - 0.07, 3)],
                            "constrain": "domain"}
        head = "<b>From above</b> (front ▼" + (f", turn drawn ×{kt:g}" if kt > 1 else ", true size") + ")"
        anns.append({"text": "<br>".join([head] + tlines), "xref": "paper", "yref": "paper", "x": 0.0,
                     "y": bottom, "xanchor": "left", "yanchor": "top", "showarrow": False, "align": "left",
                     "font": {"size": 11, "color": "#222"}, "name": "top view"})
    if failed:
        anns.append({"text": "No stable posture for this tone:<br>" + str(_get(result, "message", "")) +
                             "<br>(showing the baseline)", "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.6,
                     "showarrow": False, "font": {"size": 13, "color": "#b2182b"},
                     "bgcolor": "rgba(255,240,240,0.95)", "bordercolor": "#b2182b", "name": "failed"})
    layout["annotations"] = anns
    return _finish({"data": data, "layout": layout}, as_dict)


def top_figure(result: Any, baseline: Any = None, *, exaggerate: float = 1.0, title: str | None = None,
               height: int = 320, as_dict: bool = False):
    """The pelvis and lower ribs seen from above (the front toward the bottom, the body's left on
    the viewer's right, as in :func:`frontal_figure`), the baseline ghosted, for the pelvic
    rotation. The turn is drawn at the largest of :data:`EXAGGERATION_STEPS` up to
    ``exaggerate`` that keeps it within :data:`TOP_VIEW_MAX_DRAWN_DEG`, and the figure says by
    how much; the numbers printed are true. Lying positions have no left-right model: the figure
    says so."""
    title = title or "Top view (from above)"
    failed = result is not None and not _ok(result)
    shown = baseline if failed else result
    geo3 = _get(shown, "geometry_3d") if shown is not None else None
    if not geo3:
        return _finish(_empty_figure("<b>Left-right posture is modelled<br>standing only.</b>", height=height,
                                     title=title), as_dict)
    bgeo3 = _get(baseline, "geometry_3d") if baseline is not None and not failed else None
    metrics = dict(_get(shown, "metrics", {}) or {})
    rot = abs(metrics.get("pelvic_rotation_deg", 0.0) or 0.0)
    k = max(float(exaggerate), 1.0)
    kt = min(k, _nice_factor(TOP_VIEW_MAX_DRAWN_DEG / rot) if rot > 1e-9 and math.isfinite(rot) else k)
    geo = exaggerate_lateral({"landmarks": geo3.get("landmarks") or {}}, kt)
    bgeo = exaggerate_lateral({"landmarks": bgeo3.get("landmarks") or {}}, kt) if bgeo3 else None
    data: list[dict] = []
    for g, ghost in ((bgeo, True), (geo, False)):
        if g:
            for t in _front_traces(g, ghost=ghost, top=True):
                t.pop("xaxis", None)
                t.pop("yaxis", None)
                data.append(t)
    pts = [p for g in (geo, bgeo) if g for n, p in (g.get("landmarks") or {}).items()
           if n.startswith(("pelvis.", "thorax_lower.rib10", "thorax_lower.xiphoid", "thorax_lower.rib12"))]
    half = max([abs(p[2]) for p in pts] + [0.1]) + 0.06
    ys = [-p[0] for p in pts] or [0.0]
    units = _units()
    lines = [lateral_phrase(n, metrics[n], units.get(n, "")) for n in TRANSVERSE_MEASURES if n in metrics]
    head = "front ▼, " + (f"<b>turn drawn ×{kt:g}</b>" if kt > 1 else "true size")
    anns = [{"text": "<br>".join([head] + lines), "xref": "paper", "yref": "paper", "x": 0.0, "y": 1.0,
             "xanchor": "left", "yanchor": "top", "showarrow": False, "align": "left",
             "font": {"size": 11, "color": "#222"}, "name": "top view"}]
    if failed:
        anns.append({"text": "No stable posture for this tone (showing the baseline)", "xref": "paper",
                     "yref": "paper", "x": 0.5, "y": 0.0, "yanchor": "bottom", "showarrow": False,
                     "font": {"size": 12, "color": "#b2182b"}, "name": "failed"})
    text_frac = min((14.5 * (len(lines) + 1) + 6) / max(height - 50, 150), 0.45)
    layout = {
        "title": {"text": title, "font": {"size": 16}, "x": 0.02},
        "height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "font": {"family": _FONT},
        "xaxis": {"range": [_r(-half), _r(half)], "visible": False, "constrain": "domain"},
        "yaxis": {"range": [_r(min(ys) - 0.03), _r(max(ys) + 0.03)], "scaleanchor": "x", "scaleratio": 1,
                  "visible": False, "constrain": "domain", "domain": [0.0, round(1.0 - text_frac, 3)]},
        "plot_bgcolor": "#fbfaf7", "paper_bgcolor": "rgba(0,0,0,0)", "showlegend": False, "hovermode": "closest",
        "annotations": anns,
    }
    return _finish({"data": data, "layout": layout}, as_dict)


# --------------------------------------------------------------------------- measures

def measure_rows(metrics: Mapping[str, float], baseline_metrics: Mapping[str, float] | None = None,
                 measures: Mapping[str, Any] | None = None) -> list[dict]:
    """One row per measure: value, baseline, change, normal band and out-of-band flag.

    Measures come in :data:`musclesim.metrics.MEASURES` order, then any others ``metrics``
    has. ``flag`` is ``"high"``, ``"low"`` or ``""`` (inside the band, or no band); a NaN value
    (a failed solve) has flag ``"n/a"``.
    """
    if measures is None:
        from .metrics import MEASURES as measures
    names = [k for k in measures if k in metrics] + [k for k in metrics if k not in measures]
    rows = []
    for name in names:
        info = measures.get(name)
        v = float(metrics[name])
        b = float(baseline_metrics[name]) if baseline_metrics and name in baseline_metrics else None
        band = tuple(info.normal) if info is not None and info.normal else None
        if not math.isfinite(v):
            flag = "n/a"
        elif band and v < band[0]:
            flag = "low"
        elif band and v > band[1]:
            flag = "high"
        else:
            flag = ""
        rows.append({
            "name": name, "label": measure_label(name), "unit": info.unit if info else "",
            "value": v, "baseline": b, "change": (v - b) if b is not None else None,
            "normal": band, "normal_source": info.normal_source if info else "", "flag": flag,
            "meaning": info.meaning if info else "", "plane": getattr(info, "plane", "sagittal") if info else "",
        })
    return rows


def pi_ll_mismatch(metrics: Mapping[str, float], limit_deg: float = 10.0) -> tuple[float | None, bool]:
    """Pelvic incidence minus lumbar lordosis (deg) and whether it exceeds ``limit_deg`` (Schwab)."""
    if "pi_minus_ll_deg" in metrics:
        v = metrics["pi_minus_ll_deg"]
    elif "pelvic_incidence_deg" in metrics and "lumbar_lordosis_deg" in metrics:
        v = metrics["pelvic_incidence_deg"] - metrics["lumbar_lordosis_deg"]
    else:
        return None, False
    v = float(v)
    return v, math.isfinite(v) and abs(v) > limit_deg


def measures_bar_figure(rows: Sequence[Mapping], *, height: int = 420, as_dict: bool = False):
    """Each measure's change from baseline as a fraction of its normal band's width (or of the
    baseline value where no band exists), so changes in degrees, millimetres and newtons compare."""
    labels, fracs, texts, colors = [], [], [], []
    for row in rows:
        if row.get("change") is None or not math.isfinite(row["value"]):
            continue
        band = row.get("normal")
        width = (band[1] - band[0]) if band else max(abs(row["baseline"] or 0.0), 1.0)
        f = row["change"] / width
        labels.append(row["label"])
        fracs.append(_r(f))
        texts.append(f"{row['change']:+.1f} {unit_symbol(row['unit'])}")
        colors.append("#b2182b" if row["flag"] in ("high", "low") else "#4d4d4d")
    fig = {
        "data": [{"type": "bar", "orientation": "h", "x": fracs, "y": labels, "text": texts,
                  "textposition": "outside", "marker": {"color": colors}, "cliponaxis": False,
                  "hovertemplate": "%{y}: %{text}<extra></extra>"}],
        "layout": {"height": height, "margin": {"l": 190, "r": 60, "t": 30, "b": 40}, "font": {"family": _FONT},
                   "title": {"text": "Change from baseline (fraction of the normal band)", "font": {"size": 14}},
                   "xaxis": {"zeroline": True, "zerolinecolor": "#888"},
                   "yaxis": {"autorange": "reversed"}, "plot_bgcolor": "#fff"},
    }
    return _finish(fig, as_dict)


# --------------------------------------------------------------------------- why panel

def waterfall_figure(expl: Any, *, height: int = 360, as_dict: bool = False):
    """Moment waterfall of an :class:`~musclesim.explain.Explanation`.

    One bar per contributor (muscle, gravity, passive, regulation, others) showing how its moment
    at the explanation's joint changed from the baseline (N·m, flexion positive), and a final
    ``net`` bar with their sum: both postures are equilibria, so the net is about zero -- what
    some contributors add, the others take up.
    """
    if expl is None or not expl.moments:
        return _finish(_empty_figure("No change to explain.", height=height, title="Moment changes"), as_dict)
    names = [muscle_label(k) if k.endswith(("_left", "_right")) else k for k, _ in expl.moments]
    vals = [_r(v, 3) for _, v in expl.moments]
    net = sum(v for _, v in expl.moments)
    fig = {
        "data": [{
            "type": "waterfall", "orientation": "v", "x": names + ["net"], "y": vals + [_r(net, 3)],
            "measure": ["relative"] * len(vals) + ["total"],
            "text": [f"{v:+.1f}" for v in vals] + [f"{net:+.1f}"], "textposition": "outside",
            "increasing": {"marker": {"color": "#b2182b"}}, "decreasing": {"marker": {"color": "#2166ac"}},
            "totals": {"marker": {"color": "#636363"}}, "connector": {"line": {"color": "#999", "width": 1}},
            "hovertemplate": "%{x}: %{y:+.2f} N·m<extra></extra>", "cliponaxis": False,
        }],
        "layout": {
            "title": {"text": f"Moment changes at the {expl.joint} joint (N·m, flexion +)", "font": {"size": 14}},
            "height": height, "margin": {"l": 50, "r": 20, "t": 40, "b": 90}, "font": {"family": _FONT},
            "yaxis": {"title": {"text": "Δ moment (N·m)"}, "zeroline": True, "zerolinecolor": "#888"},
            "xaxis": {"tickangle": -30}, "plot_bgcolor": "#fff", "showlegend": False,
        },
    }
    return _finish(fig, as_dict)


def drivers_figure(expl: Any, *, height: int = 260, as_dict: bool = False):
    """The share of a measure's change due to each muscle whose activation changed (linear
    estimate from the explanation), largest first."""
    if expl is None or not expl.drivers:
        return _finish(_empty_figure("No muscle drove a change.", height=height, title="Drivers"), as_dict)
    unit = unit_symbol(expl.unit)
    labels = [muscle_label(m) for m, _ in expl.drivers]
    vals = [_r(v, 3) for _, v in expl.drivers]
    fig = {
        "data": [{"type": "bar", "orientation": "h", "x": vals, "y": labels,
                  "marker": {"color": ["#b2182b" if v > 0 else "#2166ac" for v in vals]},
                  "text": [f"{v:+.2f} {unit}" for v in vals], "textposition": "auto",
                  "hovertemplate": "%{y}: %{x:+.2f}" + unit + "<extra></extra>"}],
        "layout": {"title": {"text": f"Which muscles moved {measure_label(expl.measure)} ({unit})", "font": {"size": 14}},
                   "height": height, "margin": {"l": 150, "r": 20, "t": 40, "b": 30}, "font": {"family": _FONT},
                   "yaxis": {"autorange": "reversed"}, "xaxis": {"zeroline": True, "zerolinecolor": "#888"},
                   "plot_bgcolor": "#fff", "showlegend": False},
    }
    return _finish(fig, as_dict)


# --------------------------------------------------------------------------- interaction graph

def _bone_chain(G) -> dict[str, tuple[float, float]]:
    """Bones and joints in a column from the root (y = 0) up, a joint half-way between its two
    bones; siblings (e.g. two legs in a whole-body model) side by side."""
    parent_bone: dict[str, str] = {}
    child_bone: dict[str, str] = {}
    for j, b, d in G.edges(data=True):
        if d.get("type") == "connects":
            (parent_bone if d.get("role") == "parent" else child_bone)[j] = b
    children: dict[str, list[tuple[str, str]]] = {}
    for j, parent in parent_bone.items():
        if j in child_bone:
            children.setdefault(parent, []).append((j, child_bone[j]))
    bones = sorted(n for n, d in G.nodes(data=True) if d.get("kind") == "bone")
    is_child = set(child_bone.values())
    roots = [b for b in bones if b not in is_child] or bones[:1]
    pos: dict[str, tuple[float, float]] = {}
    used: dict[float, int] = {}

    def put(node: str, y: float) -> None:
        k = used.get(y, 0)
        used[y] = k + 1
        pos[node] = (0.9 * k, y)

    def place(bone: str, y: float) -> None:
        put(bone, y)
        for j, child in sorted(children.get(bone, [])):
            if child not in pos:
                put(j, y + 0.5)
                place(child, y + 1.0)

    for r in roots:
        place(r, 0.0)
    top = max((p[1] for p in pos.values()), default=0.0)
    for b in bones:  # bones no joint reaches: stacked above
        if b not in pos:
            top += 1.0
            pos[b] = (0.0, top)
    return pos


def _spread(items: list[tuple[str, float]], gap: float) -> dict[str, float]:
    """Place items at their wanted y, sorted, at least ``gap`` apart, centred on the wanted mean."""
    items = sorted(items, key=lambda t: (t[1], t[0]))
    out, prev = [], -1e9
    for name, y in items:
        y = max(y, prev + gap)
        out.append((name, y))
        prev = y
    if out:
        shift = sum(w for _, w in items) / len(items) - sum(y for _, y in out) / len(out)
        out = [(n, y + shift) for n, y in out]
    return dict(out)


def graph_layout(G, *, muscle_x: float = 2.4, measure_x: float = 5.6, gap: float = 0.62) -> dict[str, tuple[float, float]]:
    """Deterministic positions for the interaction graph: bones and joints in a central column
    (root at the bottom), left muscles in a column on the left, right muscles on the right,
    midline muscles between the left column and the bones, measures in an outer column on the
    right; each muscle or measure at the mean height of the bones it attaches to or is read
    from, spread to keep labels apart. No randomness: the same model gives the same picture."""
    pos = dict(_bone_chain(G))
    cols: dict[str, list[tuple[str, float]]] = {"left": [], "right": [], "midline": [], "measure": []}
    for n, d in G.nodes(data=True):
        kind = d.get("kind")
        if kind not in ("muscle", "measure"):
            continue
        etype = "attaches" if kind == "muscle" else "measured_on"
        if kind == "muscle":
            ys = [pos[v][1] for _, v, e in G.out_edges(n, data=True) if e.get("type") == etype and v in pos]
        else:
            ys = [pos[u][1] for u, _, e in G.in_edges(n, data=True) if e.get("type") == etype and u in pos]
        y = sum(ys) / len(ys) if ys else 0.0
        side = d.get("side", "midline") if kind == "muscle" else "measure"
        cols[side if side in cols else "midline"].append((n, y))
    xs = {"left": -muscle_x, "right": muscle_x, "midline": -muscle_x / 2, "measure": measure_x}
    for side, items in cols.items():
        for n, y in _spread(items, gap).items():
            pos[n] = (xs[side], round(y, 4))
    return pos


def _bezier(p0, p1, bulge: float, cap: float, steps: int = 8) -> tuple[list, list]:
    """A quadratic curve from p0 to p1 whose middle is pushed toward the centre line x = 0 by
    ``bulge`` times the chord length, at most ``cap`` (so arcs between nodes of one column stay
    visible and clear of the labels, which sit on the outer side)."""
    (x0, y0), (x1, y1) = p0, p1
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    length = math.hypot(x1 - x0, y1 - y0)
    direction = 1.0 if mx < 0 else -1.0
    cx, cy = mx + direction * min(bulge * length, cap), my
    xs, ys = [], []
    for k in range(steps + 1):
        t = k / steps
        xs.append(round((1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t * t * x1, 3))
        ys.append(round((1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t * t * y1, 3))
    return xs, ys


def relation_edges(G) -> dict[str, list[tuple[str, str, dict]]]:
    """Relation edges once per muscle pair and style: ``{"agonist" | "synergist" | "antagonist" |
    "contradicted": [(a, b, merged edge data)]}``. A documented relation the geometry contradicts
    goes under ``"contradicted"``; the evidence of every edge of a pair and kind is merged."""
    out: dict[str, dict[tuple[str, str], dict]] = {k: {} for k in RELATION_STYLE}
    for u, v, d in G.edges(data=True):
        if d.get("type") != "relation":
            continue
        style = "contradicted" if d.get("contradicted") else d.get("relation", "synergist")
        if style not in out:
            continue
        key = tuple(sorted((u, v)))
        row = out[style].setdefault(key, {"relation": d.get("relation"), "evidence": [], "geometric": False,
                                          "documented": False, "contradicted": bool(d.get("contradicted")),
                                          "geometry_note": d.get("geometry_note", "")})
        row["geometric"] |= bool(d.get("geometric"))
        row["documented"] |= bool(d.get("documented"))
        for e in d.get("evidence", []):
            if e not in row["evidence"]:
                row["evidence"].append(e)
    return {k: [(a, b, d) for (a, b), d in sorted(v.items())] for k, v in out.items()}


def _evidence_text(d: Mapping) -> str:
    parts = []
    for e in d.get("evidence", []):
        if e.get("kind") == "geometry":
            parts.append("geometry: " + ", ".join(e.get("joints", [])))
        else:
            parts.append(f"{e.get('source', '?')}")
    return "; ".join(parts)


#: Names of the graph figure's node traces, in trace order (frames update exactly these).
GRAPH_NODE_TRACES = ("bones", "joints", "muscles", "measures")


def graph_frames(G, result: Any, baseline: Any, *, max_frames: int = 12,
                 pos: Mapping[str, tuple[float, float]] | None = None) -> list[dict]:
    """Propagation frames for :func:`graph_figure`: node colours as the change spreads.

    Coupling frames colour each muscle by its activation change from the baseline; posture frames
    (the continuation from the baseline to the answer) colour joints by their angle change (deg),
    bones by the largest change of their joints, and measures by their change relative to their
    normal band's width (or their baseline size). Colours are the signed square root of the change
    relative to the largest change of that node kind over all frames (half a band for measures),
    on a fixed -1..1 scale, so small knock-on changes still show. At most ``max_frames`` frames:
    every posture frame (up to half of them) and the coupling frames evenly thinned, first and
    last kept. Each frame is a dict with ``name``, ``data`` (one marker update per node trace)
    and ``traces`` (their indices, filled in by :func:`graph_figure`).
    """
    from .metrics import MEASURES

    pos = graph_layout(G) if pos is None else pos
    kinds = {k: [n for n in sorted(pos) if G.nodes[n].get("kind") == k[:-1] if n in G]
             for k in ("bones", "joints", "muscles", "measures")}
    frames = list(_get(result, "frames", ()) or ())
    if not frames:
        return []
    if len(frames) > max_frames:
        posture = [f for f in frames if f.kind != "coupling"][-max(max_frames // 2, 1):]
        coupling = [f for f in frames if f.kind == "coupling"]
        room = max(max_frames - len(posture), 2)
        if len(coupling) > room:
            keep = sorted({round(i * (len(coupling) - 1) / (room - 1)) for i in range(room)})
            coupling = [coupling[i] for i in keep]
        frames = coupling + posture
    b_act = dict(_get(baseline, "activation", {}) or {})
    b_pose = dict(_get(baseline, "pose_deg", {}) or {})
    b_met = dict(_get(baseline, "metrics", {}) or {})
    raw = []  # per frame: {trace name: [change per node]}
    last_act, last_pose, last_met = dict(b_act), dict(b_pose), dict(b_met)
    bone_joints: dict[str, list[str]] = {}
    for j, b, d in G.edges(data=True):
        if d.get("type") == "connects":
            bone_joints.setdefault(b, []).append(j)
    for fr in frames:
        act = dict(fr.activation) if fr.activation is not None else last_act
        pose = dict(fr.pose_deg) if fr.pose_deg is not None else last_pose
        met = dict(fr.metrics) if fr.metrics is not None else last_met
        last_act, last_pose, last_met = act, pose, met
        dj = {j: pose.get(j, 0.0) - b_pose.get(j, 0.0) for j in kinds["joints"]}
        dm = {}
        for m in kinds["measures"]:
            info = MEASURES.get(m)
            width = (info.normal[1] - info.normal[0]) if info is not None and info.normal else \
                max(abs(b_met.get(m, 0.0)), 10.0)
            v = met.get(m, b_met.get(m, 0.0)) - b_met.get(m, 0.0)
            dm[m] = v / width if math.isfinite(v) else 0.0
        raw.append({
            "bones": [max((dj.get(j, 0.0) for j in bone_joints.get(b, [])), key=abs, default=0.0) for b in kinds["bones"]],
            "joints": [dj[j] for j in kinds["joints"]],
            "muscles": [act.get(m, 0.0) - b_act.get(m, 0.0) for m in kinds["muscles"]],
            "measures": [dm[m] for m in kinds["measures"]],
        })
    # colour = signed square root of the change relative to the largest change of that node kind
    # over all frames (measures: relative to half a normal band), so small knock-on changes show
    peaks = {k: max((abs(v) for r in raw for v in r[k]), default=0.0) or 1.0 for k in GRAPH_NODE_TRACES}
    peaks["measures"] = 0.5
    out = []
    for fr, r in zip(frames, raw):
        label = f"coupling {fr.step}" if fr.kind == "coupling" else f"posture {round(100 * fr.fraction)}%"
        data = []
        for k in GRAPH_NODE_TRACES:
            c = [math.copysign(math.sqrt(min(abs(v) / peaks[k], 1.0)), v) if v else 0.0 for v in r[k]]
            data.append({"marker": {"color": [round(x, 3) for x in c], "cmin": -1, "cmax": 1,
                                    "size": [round(NODE_STYLE[k[:-1]]["size"] + 9 * abs(x), 1) for x in c]}})
        out.append({"name": label, "data": data})
    return out


def graph_figure(G, result: Any = None, baseline: Any = None, *, path: Sequence[str] = (), step: int | None = None,
                 max_frames: int = 12, controls: bool = True, height: int = 720, as_dict: bool = False):
    """The muscle–bone interaction graph.

    Bones (squares) and joints (dots) form the central column, muscles the side columns (left
    side on the left), measures the outer right column (:func:`graph_layout`). Relation edges are
    styled by kind (:data:`RELATION_STYLE`: agonist solid green, synergist dashed blue,
    antagonist dotted red, a documented relation the geometry contradicts dash-dot purple), each
    with a legend entry; ``crosses`` (muscle to joint) edges are faint grey, ``attaches`` and
    ``measured_on`` edges start hidden (click the legend to show them). ``path`` (e.g. an
    explanation's muscle -> joint -> bone -> measure path) is drawn as a thick highlight.

    With ``result`` and ``baseline``, the figure carries the propagation frames of
    :func:`graph_frames`; node colours show frame ``step`` (default the last, the answer).
    ``controls`` adds plotly's own play/pause buttons and a frame slider (for notebooks); a
    dashboard can leave them out and drive the frames itself.
    """
    pos = graph_layout(G)
    data: list[dict] = []

    def seg_trace(name, pairs, line, visible=True, hover=None):
        xs, ys = [], []
        for a, b in pairs:
            if a in pos and b in pos:
                xs += [pos[a][0], pos[b][0], None]
                ys += [pos[a][1], pos[b][1], None]
        return {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": name, "line": line,
                "hoverinfo": "skip", "visible": True if visible else "legendonly", "legendgroup": name}

    by_type: dict[str, set] = {"attaches": set(), "crosses": set(), "measured_on": set(), "connects": set()}
    for u, v, d in G.edges(data=True):
        t = d.get("type")
        if t in by_type:
            by_type[t].add((u, v))
    data.append(seg_trace("bone–joint", sorted(by_type["connects"]), {"color": "#8c6d31", "width": 4}))
    data.append(seg_trace("crosses joint", sorted(by_type["crosses"]), {"color": "rgba(120,120,120,0.22)", "width": 1}))
    data.append(seg_trace("attaches to bone", sorted(by_type["attaches"]), {"color": "rgba(140,109,49,0.35)", "width": 1},
                          visible=False))
    data.append(seg_trace("measured on", sorted(by_type["measured_on"]), {"color": "rgba(77,146,33,0.35)", "width": 1},
                          visible=False))
    rel = relation_edges(G)
    bulge = {"agonist": 0.3, "synergist": 0.45, "antagonist": 0.6, "contradicted": 0.75}
    cap = {"agonist": 0.6, "synergist": 1.0, "antagonist": 1.45, "contradicted": 1.9}
    hover_x, hover_y, hover_text, hover_color = [], [], [], []
    for kind, style in RELATION_STYLE.items():
        xs, ys = [], []
        for a, b, d in rel[kind]:
            if a not in pos or b not in pos:
                continue
            bx, by = _bezier(pos[a], pos[b], bulge[kind], cap[kind])
            xs += bx + [None]
            ys += by + [None]
            label = f"{muscle_label(a)} – {muscle_label(b)}: {d['relation']}"
            if kind == "contradicted":
                label += " (documented; " + (d.get("geometry_note") or "contradicted by the geometry") + ")"
            hover_x.append(bx[len(bx) // 2])
            hover_y.append(by[len(by) // 2])
            hover_text.append(label + "<br>" + _evidence_text(d))
            hover_color.append(style["color"])
        name = {"contradicted": "documented, contradicted by geometry"}.get(kind, kind)
        data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": f"{name} ({len(rel[kind])})",
                     "legendgroup": kind, "hoverinfo": "skip", "meta": kind,
                     "line": {"color": style["color"], "dash": style["dash"], "width": style["width"]},
                     "opacity": 0.75 if kind in ("synergist", "antagonist") else 1.0})
    # one hover point in the middle of each relation arc (cheaper than text on every point)
    data.append({"type": "scatter", "x": hover_x, "y": hover_y, "mode": "markers", "name": "relation details",
                 "showlegend": False, "text": hover_text, "hovertemplate": "%{text}<extra></extra>",
                 "marker": {"size": 6, "color": hover_color, "opacity": 0.35}})
    px = [pos[n][0] for n in path if n in pos]
    py = [pos[n][1] for n in path if n in pos]
    data.append({"type": "scatter", "x": px, "y": py, "mode": "lines", "name": "explanation path",
                 "line": {"color": "rgba(255,191,0,0.75)", "width": 10}, "hoverinfo": "skip"})
    frames = graph_frames(G, result, baseline, max_frames=max_frames, pos=pos) if result is not None and baseline is not None else []
    first_node = len(data)
    for i, name in enumerate(GRAPH_NODE_TRACES):
        kind = name[:-1]
        nodes = [n for n in sorted(pos) if n in G and G.nodes[n].get("kind") == kind]
        st = NODE_STYLE[kind]
        marker: dict = {"symbol": st["symbol"], "size": st["size"], "color": st["color"],
                        "line": {"color": "#333", "width": 1}}
        if frames:
            k = len(frames) - 1 if step is None else min(max(int(step), 0), len(frames) - 1)
            marker = {**marker, **frames[k]["data"][i]["marker"], "colorscale": CHANGE_COLORSCALE}
        if kind == "muscle":
            labels = [muscle_label(n) for n in nodes]
            textpos = ["middle left" if pos[n][0] < 0 else "middle right" for n in nodes]
        elif kind == "measure":
            labels = [measure_label(n) for n in nodes]
            textpos = "middle right"
        elif kind == "bone":
            labels = [n.replace("_", " ") for n in nodes]
            textpos = "middle right"
        else:
            labels = [""] * len(nodes)
            textpos = "middle right"
        data.append({"type": "scatter", "x": [pos[n][0] for n in nodes], "y": [pos[n][1] for n in nodes],
                     "mode": "markers+text" if kind != "joint" else "markers", "name": name, "text": labels,
                     "customdata": nodes, "textposition": textpos, "textfont": {"size": 10},
                     "hovertemplate": "%{customdata}<extra>" + kind + "</extra>", "marker": marker})
    for f in frames:
        f["traces"] = list(range(first_node, first_node + len(GRAPH_NODE_TRACES)))
        for d in f["data"]:
            d["marker"]["colorscale"] = CHANGE_COLORSCALE
    layout: dict = {
        "title": {"text": "Interaction graph: bones and joints (centre), muscles (sides), measures (right)",
                  "font": {"size": 14}, "x": 0.01},
        "height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "font": {"family": _FONT},
        "xaxis": {"visible": False, "range": [-4.6, 8.2]},
        "yaxis": {"visible": False},
        "plot_bgcolor": "#fff", "paper_bgcolor": "rgba(0,0,0,0)", "hovermode": "closest",
        "legend": {"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top", "font": {"size": 11}},
        "clickmode": "event",
    }
    if frames and controls:
        layout["updatemenus"] = [{
            "type": "buttons", "direction": "left", "x": 0.0, "y": 1.0, "xanchor": "left", "yanchor": "bottom",
            "showactive": False, "pad": {"r": 6},
            "buttons": [
                {"label": "▶ play", "method": "animate",
                 "args": [None, {"frame": {"duration": 450, "redraw": False}, "fromcurrent": True, "mode": "immediate",
                                 "transition": {"duration": 0}}]},
                {"label": "❚❚ pause", "method": "animate",
                 "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]},
            ]}]
        layout["sliders"] = [{
            "active": len(frames) - 1 if step is None else min(max(int(step), 0), len(frames) - 1),
            "x": 0.2, "len": 0.8, "y": 1.0, "yanchor": "bottom",
            "currentvalue": {"prefix": "frame: "},
            "steps": [{"label": f["name"], "method": "animate",
                       "args": [[f["name"]], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]}
                      for f in frames]}]
        layout["margin"]["t"] = 120
        layout["title"]["y"] = 0.985
        layout["title"]["yanchor"] = "top"
    fig = {"data": data, "layout": layout}
    if frames:
        fig["frames"] = frames
    return _finish(fig, as_dict)


def node_relations(G, node: str) -> list[dict]:
    """What the graph says about one node, for a details panel: one row per neighbour and edge
    kind, with the evidence (geometry: the shared joints; documents: the article file and the
    stated action), and whether the geometry contradicts a documented relation."""
    if node not in G:
        return []
    rows = []
    seen = set()
    for _, v, d in G.out_edges(node, data=True):
        t = d.get("type")
        if t == "relation":
            key = (v, d.get("relation"), d.get("geometric"), d.get("documented"))
            if key in seen:
                continue
            seen.add(key)
            ev = []
            for e in d.get("evidence", []):
                if e.get("kind") == "geometry":
                    ev.append("geometry: acts the same way at " if d.get("relation") != "antagonist"
                              else "geometry: acts oppositely at ")
                    ev[-1] += ", ".join(e.get("joints", []))
                else:
                    ev.append(f"{e.get('source')}: {e.get('action', '')}")
            rows.append({"other": v, "edge": "relation", "kind": d.get("relation"), "evidence": ev,
                         "contradicted": bool(d.get("contradicted")), "note": d.get("geometry_note", "")})
        elif t == "crosses":
            rows.append({"other": v, "edge": "crosses", "kind": d.get("action"),
                         "evidence": [f"moment arm {1000 * d.get('moment_arm_m', 0.0):+.1f} mm at the baseline pose"],
                         "contradicted": False, "note": ""})
        elif t in ("attaches", "connects", "measured_on"):
            rows.append({"other": v, "edge": t, "kind": d.get("role", ""), "evidence": [], "contradicted": False,
                         "note": ""})
    for u, _, d in G.in_edges(node, data=True):
        t = d.get("type")
        if t in ("connects", "measured_on", "crosses", "attaches"):
            rows.append({"other": u, "edge": t + " (in)", "kind": d.get("role", d.get("action", "")), "evidence": [],
                         "contradicted": False, "note": ""})
    order = {"relation": 0, "crosses": 1}
    return sorted(rows, key=lambda r: (order.get(r["edge"], 2), r["kind"] or "", r["other"]))


def compare_rows(a: Mapping[str, float], b: Mapping[str, float], names: Iterable[str] | None = None) -> list[dict]:
    """Side-by-side rows of two scenarios' measures: ``a``, ``b`` and ``b - a``."""
    names = list(names) if names is not None else [k for k in a if k in b]
    rows = []
    for k in names:
        va, vb = a.get(k), b.get(k)
        rows.append({"name": k, "label": measure_label(k), "a": va, "b": vb,
                     "diff": (vb - va) if va is not None and vb is not None else None})
    return rows
