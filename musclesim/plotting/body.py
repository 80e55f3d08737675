"""The side (sagittal) view of a result: bone outlines, muscles, landmarks, measure labels, the baseline ghosted.

Part of :mod:`musclesim.plot` (its public names are re-exported there).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .labels import label_extent_px, place_labels
from .style import (
    _FONT,
    ANNOTATED_MEASURES,
    CHANGE_TOL,
    FORCE_COLORSCALE,
    FORCE_SCALE_N,
    _finish,
    _get,
    _ok,
    _r,
    force_color,
    force_width,
    measure_label,
    muscle_label,
    unit_symbol,
)

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
    from ..metrics import MEASURES

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
