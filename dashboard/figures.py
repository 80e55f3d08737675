"""Figures for the dashboard: thin compositions over :mod:`musclesim.plot`.

Builders here return plain figure dicts (``as_dict=True``: plotly's validation would cost more
than the solve) or a :class:`dash.Patch` for the graph view, whose static part (nodes, edges,
legend) is sent once with the page and whose propagation frames and node colours change per
update. Pure: data in, figure out; unit-tested without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from musclesim import plot

#: Heights (px) of the figures in the normal layout.
BODY_HEIGHT = 620
#: How many times larger the front view draws left-right changes (they are often under a degree
#: or a few millimetres; the figure says so, and the numbers stay true).
LATERAL_EXAGGERATION = 10
GRAPH_HEIGHT = 760


def body_figures(result: Any, baseline: Any, *, view: str = "trunk", hidden: bool = False,
                 large: bool = False) -> tuple[dict, dict]:
    """Sagittal and frontal figures, both framed by ``view`` (``"trunk"`` or ``"body"``); the front
    view draws left-right changes :data:`LATERAL_EXAGGERATION` times larger. ``hidden``
    (predict-then-reveal) draws the baseline only; ``large`` (presentation mode) enlarges the
    annotations."""
    if hidden:
        sag = plot.sagittal_figure(baseline, None, focus=view, height=BODY_HEIGHT, as_dict=True,
                                   title="Side view: baseline only (predict, then reveal)")
        front = plot.frontal_figure(baseline, None, focus=view, exaggerate=LATERAL_EXAGGERATION, height=BODY_HEIGHT,
                                    as_dict=True, title="Front view: baseline only")
    else:
        sag = plot.sagittal_figure(result, baseline, focus=view, height=BODY_HEIGHT, as_dict=True)
        front = plot.frontal_figure(result, baseline, focus=view, exaggerate=LATERAL_EXAGGERATION,
                                    height=BODY_HEIGHT, as_dict=True)
    for fig in (sag, front):  # the page's CSS sizes the body views (presentation mode enlarges them)
        fig["layout"].pop("height", None)
        fig["layout"]["autosize"] = True
        fig["layout"]["showlegend"] = False  # the page shows a key under the views instead
        fig["layout"]["margin"] = {"l": 4, "r": 4, "t": 34, "b": 4}
        if large:
            for ann in fig["layout"].get("annotations", []):
                if "font" in ann:
                    ann["font"] = {**ann["font"], "size": round(ann["font"].get("size", 12) * 1.4)}
    return sag, front


def why_figures(expl: Any) -> tuple[dict, dict]:
    """Moment waterfall and drivers bar for one explanation (placeholders when None), sized by the
    page's CSS."""
    wf, drv = plot.waterfall_figure(expl, as_dict=True), plot.drivers_figure(expl, as_dict=True)
    for fig in (wf, drv):
        fig["layout"].pop("height", None)
        fig["layout"]["autosize"] = True
    return wf, drv


def hidden_figure(text: str, height: int = 300) -> dict:
    """A placeholder that fills its container (``height`` is only its initial size)."""
    fig = plot.placeholder_figure(text, height=height, as_dict=True)
    fig["layout"].pop("height", None)
    fig["layout"]["autosize"] = True
    return fig


def graph_base_figure(G) -> dict:
    """The static graph view (no frames): sent with the page layout."""
    return plot.graph_figure(G, controls=False, height=GRAPH_HEIGHT, as_dict=True)


def trace_index(fig: dict, name: str) -> int:
    """Index of the trace called ``name`` in a figure dict."""
    for i, t in enumerate(fig["data"]):
        if t.get("name") == name:
            return i
    raise KeyError(name)


def graph_patch(G, base_fig: dict, result: Any, baseline: Any, path: Sequence[str] = (), *, hidden: bool = False,
                max_frames: int = 12, pos: dict | None = None):
    """A :class:`dash.Patch` that puts ``result``'s propagation frames, its final node colours
    and the explanation ``path`` onto the static graph figure ``base_fig`` (whose layout ``pos``
    may be passed to save recomputing it). Returns ``(patch, n_frames, frame_names)``."""
    from dash import Patch

    pos = plot.graph_layout(G) if pos is None else pos
    frames = [] if hidden or not getattr(result, "ok", False) else plot.graph_frames(
        G, result, baseline, max_frames=max_frames, pos=pos)
    node_idx = [trace_index(base_fig, n) for n in plot.GRAPH_NODE_TRACES]
    patch = Patch()
    for i, idx in enumerate(node_idx):
        static = base_fig["data"][idx]["marker"]
        if frames:
            marker = {**static, **frames[-1]["data"][i]["marker"], "colorscale": plot.CHANGE_COLORSCALE}
        else:
            marker = static
        patch["data"][idx]["marker"] = marker
    for f in frames:
        f["traces"] = node_idx
        for d in f["data"]:
            d["marker"]["colorscale"] = plot.CHANGE_COLORSCALE
    patch["frames"] = frames
    path_idx = trace_index(base_fig, "explanation path")
    shown = [] if hidden else [n for n in path if n in pos]
    patch["data"][path_idx]["x"] = [pos[n][0] for n in shown]
    patch["data"][path_idx]["y"] = [pos[n][1] for n in shown]
    return patch, len(frames), [f["name"] for f in frames]
