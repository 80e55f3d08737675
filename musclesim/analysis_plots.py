"""Plotly figures of batch analyses: tornado (sensitivity), sweep curves, grid maps, scenario bars.

Pure builders, data in, figure out, like :mod:`musclesim.plot` (whose labels they share)::

    import musclesim as ms
    from musclesim import analysis_plots
    model = ms.load_model()
    s = ms.sensitivity(model, "pelvic_tilt_deg")
    analysis_plots.tornado_figure(s).show()
    t = ms.sweep(model, "psoas_major", [i / 20 for i in range(21)], metrics=["lumbar_lordosis_deg"])
    analysis_plots.sweep_figure(t).show()

:func:`write_html` saves a figure as a standalone HTML file (plotly.js inside, so it opens
offline), written atomically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .plot import measure_label, unit_symbol

_FONT = "Inter, Segoe UI, Helvetica, Arial, sans-serif"
LOW_COLOR = "#2166ac"  # blue: less tone
HIGH_COLOR = "#b2182b"  # red: more tone
BAND_COLOR = "rgba(77, 146, 33, 0.18)"


def _go():
    import plotly.graph_objects as go

    return go


def _label(name: str) -> str:
    return name.replace("_", " ")


def tornado_figure(sens, *, n: int | None = 15, by: str = "swing", height: int | None = None):
    """Tornado plot of a :class:`~musclesim.sensitivity_analysis.Sensitivity`.

    One row per muscle (largest first, ordered by ``by``: ``"swing"``, ``"global"`` or
    ``"local"``), with two bars from the baseline: the measure's change with that muscle's tone at
    the low end of the range (blue) and at the high end (red). Hover shows the local derivative and
    the global index. A missing bar means no standing posture at that end (marked ``no posture``).
    """
    go = _go()
    ranked = sens.ranking(by)[: n or None]
    idx = [sens.muscles.index(m) for m, _ in ranked]
    names = [_label(sens.muscles[i]) for i in idx]
    unit = unit_symbol(sens.unit)
    sp = "" if unit == "°" else " "
    lo, hi = sens.tone_range
    g = sens.indices[sens.key]
    hover = [f"{_label(sens.muscles[i])}<br>resting tone {sens.resting_tone[i]:.2f}<br>"
             f"d/dtone at rest: {sens.derivative[i]:+.3g} {unit}<br>{sens.key}: {g[i]:.3g}" for i in idx]
    fig = go.Figure()
    for vals, tone, color in ((sens.low, lo, LOW_COLOR), (sens.high, hi, HIGH_COLOR)):
        x = [float(vals[i]) for i in idx]
        fig.add_trace(go.Bar(
            y=names, x=[0.0 if math.isnan(v) else v for v in x], orientation="h", name=f"tone {tone:g}",
            marker_color=color, text=["no posture" if math.isnan(v) else f"{v:+.1f}" for v in x],
            textposition="outside", cliponaxis=False, customdata=hover,
            hovertemplate="%{customdata}<br>change at tone " + f"{tone:g}" + ": %{x:+.2f} " + unit + "<extra></extra>"))
    fig.update_layout(
        barmode="overlay", height=height or 140 + 28 * len(names), font={"family": _FONT},
        title={"text": f"What moves {measure_label(sens.measure)}: change from baseline "
                       f"({sens.baseline:.1f}{sp}{unit}) with one muscle's tone at {lo:g} or {hi:g}",
               "font": {"size": 14}},
        xaxis={"title": f"change of {measure_label(sens.measure)} ({unit})", "zeroline": True,
               "zerolinecolor": "#444"},
        yaxis={"autorange": "reversed"}, plot_bgcolor="#fff", legend={"orientation": "h", "y": -0.15},
        margin={"l": 150, "r": 60, "t": 60, "b": 60})
    return fig


def sweep_figure(table, measures: Sequence[str] | None = None, *, height: int | None = None):
    """Each measure against the swept tone of a one-muscle :class:`~musclesim.sweeps.SweepTable`.

    One panel per measure (own unit), with the measure's normal band shaded and scenarios that
    found no posture marked on the x axis.
    """
    go = _go()
    from plotly.subplots import make_subplots

    from .metrics import MEASURES

    if len(table.varied) != 1:
        raise ValueError("sweep_figure draws a one-muscle sweep; use grid_figure for a grid")
    measures = list(measures or table.metrics)
    name = table.varied[0]
    fig = make_subplots(rows=len(measures), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[f"{measure_label(m)} ({unit_symbol(MEASURES[m].unit)})" for m in measures])
    for r, m in enumerate(measures, start=1):
        x, y = table.series(m)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=measure_label(m), line={"color": "#333"},
                                 hovertemplate=f"{_label(name)} %{{x:.3f}}<br>{measure_label(m)} %{{y:.2f}}"
                                               "<extra></extra>"), row=r, col=1)
        band = MEASURES[m].normal
        if band:  # after the trace: plotly skips shapes on a subplot that has no data yet
            fig.add_hrect(y0=band[0], y1=band[1], fillcolor=BAND_COLOR, line_width=0, layer="below", row=r, col=1)
        bad = np.isnan(y)
        if bad.any():
            fig.add_trace(go.Scatter(x=x[bad], y=[np.nanmin(y) if (~bad).any() else 0.0] * int(bad.sum()),
                                     mode="markers", marker={"symbol": "x", "color": HIGH_COLOR, "size": 9},
                                     name="no posture", hovertemplate="no standing posture<extra></extra>"),
                          row=r, col=1)
    fig.update_xaxes(title_text=f"resting tone of {_label(name)} (activation)", row=len(measures), col=1)
    fig.update_layout(height=height or 120 + 260 * len(measures), showlegend=False, font={"family": _FONT},
                      plot_bgcolor="#fff", title={"text": table.title, "font": {"size": 14}},
                      margin={"l": 70, "r": 30, "t": 70, "b": 60})
    return fig


def grid_figure(table, measure: str, *, height: int = 480):
    """A measure over a two-muscle :class:`~musclesim.sweeps.SweepTable` grid, as a heat map
    (gaps where no posture was found)."""
    go = _go()
    from .metrics import MEASURES

    if len(table.varied) != 2:
        raise ValueError("grid_figure draws a two-muscle grid")
    a, b = table.varied
    Z = table.matrix(measure)
    va = np.unique(table.values[0])
    vb = np.unique(table.values[1])
    unit = unit_symbol(MEASURES[measure].unit)
    fig = go.Figure(go.Heatmap(
        z=Z.T, x=va, y=vb, colorscale="RdBu_r", colorbar={"title": unit},
        hovertemplate=f"{_label(a)} %{{x:.3f}}<br>{_label(b)} %{{y:.3f}}<br>{measure_label(measure)} %{{z:.2f}} {unit}"
                      "<extra></extra>"))
    fig.update_layout(height=height, font={"family": _FONT},
                      title={"text": f"{measure_label(measure)} ({unit})", "font": {"size": 14}},
                      xaxis={"title": f"resting tone of {_label(a)}"}, yaxis={"title": f"resting tone of {_label(b)}"})
    return fig


def scenario_figure(table, measures: Sequence[str] | None = None, *, height: int | None = None):
    """Baseline against each scenario of a :class:`~musclesim.scenarios.ScenarioTable`.

    One panel per measure (own unit): a grey bar for the baseline, a bar per scenario (red where
    it leaves the normal band, shaded), and ``no posture`` where a scenario found none. This is
    the handout figure of ``examples/handout.py``.
    """
    go = _go()
    from plotly.subplots import make_subplots

    from .metrics import MEASURES

    order = list(dict.fromkeys(table.column("measure").tolist()))
    measures = [m for m in (measures or order) if m in order]
    scenarios = list(dict.fromkeys(table.column("scenario").tolist()))
    cols = min(len(measures), 2)
    rows = math.ceil(len(measures) / cols)
    fig = make_subplots(rows=rows, cols=cols, vertical_spacing=0.16, horizontal_spacing=0.12,
                        subplot_titles=[f"{measure_label(m)} ({unit_symbol(MEASURES[m].unit)})" for m in measures])
    for k, m in enumerate(measures):
        r, c = k // cols + 1, k % cols + 1
        sub = table.where(measure=m)
        base = float(sub.column("baseline")[0])
        vals = dict(zip(sub.column("scenario").tolist(), sub.column("value").tolist()))
        band = MEASURES[m].normal
        xs = ["baseline"] + [_label(s) for s in scenarios]
        ys = [base] + [vals.get(s, float("nan")) for s in scenarios]
        colors = ["#9e9e9e"] + [HIGH_COLOR if band and not (band[0] <= v <= band[1]) else "#4d4d4d" for v in ys[1:]]
        text = [f"{base:.1f}"] + ["no posture" if math.isnan(v) else f"{v:.1f} ({v - base:+.1f})" for v in ys[1:]]
        fig.add_trace(go.Bar(x=xs, y=[0.0 if math.isnan(v) else v for v in ys], marker_color=colors, text=text,
                             textposition="outside", cliponaxis=False, showlegend=False, width=0.5,
                             hovertemplate="%{x}: %{text}<extra></extra>"), row=r, col=c)
        if band:  # after the trace: plotly skips shapes on a subplot that has no data yet
            fig.add_hrect(y0=band[0], y1=band[1], fillcolor=BAND_COLOR, line_width=0, layer="below", row=r, col=c)
    fig.update_layout(height=height or 160 + 300 * rows, font={"family": _FONT}, plot_bgcolor="#fff",
                      title={"text": "Baseline and scenarios (shaded: normal band)", "font": {"size": 15}},
                      margin={"l": 60, "r": 30, "t": 80, "b": 40})
    return fig


def write_html(fig, path: str | Path, *, title: str | None = None) -> Path:
    """Save ``fig`` as a standalone HTML file (plotly.js embedded), atomically."""
    from .tables import write_atomic

    text = fig.to_html(full_html=True, include_plotlyjs=True)
    if title:
        import html

        text = text.replace("<head>", f"<head><title>{html.escape(title)}</title>", 1)
    return write_atomic(path, text)
