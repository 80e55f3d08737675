"""Colours, scales, fonts and the small helpers every figure shares (labels, units, force colours).

Part of :mod:`musclesim.plot` (its public names are re-exported there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
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


@lru_cache(maxsize=256)
def _rgb(hex_color: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` as three integers (colour scales have few stops: parsed once each)."""
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


def _lerp_color(scale: Sequence[Sequence], t: float) -> str:
    """Colour at ``t`` in [0, 1] on a plotly-style colour scale of hex stops."""
    t = min(max(t, 0.0), 1.0)
    for (t0, c0), (t1, c1) in zip(scale[:-1], scale[1:]):
        if t <= t1:
            f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
            (r0, g0, b0), (r1, g1, b1) = _rgb(c0), _rgb(c1)
            return f"#{round(r0 + f * (r1 - r0)):02x}{round(g0 + f * (g1 - g0)):02x}{round(b0 + f * (b1 - b0)):02x}"
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
