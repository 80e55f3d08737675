"""The why panel: the waterfall of a change's contributors and the drivers chart.

Part of :mod:`musclesim.plot` (its public names are re-exported there).
"""

from __future__ import annotations

from typing import Any

from .style import _FONT, _empty_figure, _finish, _r, measure_label, muscle_label, unit_symbol

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
