"""The front and top views: left-right and rotation changes, drawn exaggerated and labelled as such.

Part of :mod:`musclesim.plot` (its public names are re-exported there).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .body import _com_trace, _pelvis_trace, _units
from .style import (
    _FONT,
    CHANGE_TOL,
    FRONTAL_MEASURES,
    FRONTAL_NOT_STANDING,
    _empty_figure,
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
