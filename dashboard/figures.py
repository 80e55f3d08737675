"""Figures for the dashboard: thin compositions over :mod:`musclesim.plot`.

Builders here return plain figure dicts (``as_dict=True``: plotly's validation would cost more
than the solve) or a :class:`dash.Patch` for the graph view, whose static part (nodes, edges,
legend) is sent once with the page and whose propagation frames and node colours change per
update. Pure: data in, figure out; unit-tested without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from musclesim import plot

#: Heights (px) of the figures in the normal layout.
BODY_HEIGHT = 620
#: How many times larger the front view draws left-right changes (they are often under a degree
#: or a few millimetres; the figure says so, and the numbers stay true).
LATERAL_EXAGGERATION = 10
GRAPH_HEIGHT = 760


#: Smallest plot areas (px) the side view is laid out for (its labels never overlap at these
#: sizes or larger; dashboard.css keeps the figures at least this large).
SIDE_MIN_PX = {"normal": (360, 420), "present": (440, 500), "pair": (250, 460)}


def _autosize(fig: dict, top: int = 34) -> dict:
    """Let the page's CSS size a figure (presentation mode enlarges them)."""
    fig["layout"].pop("height", None)
    fig["layout"]["autosize"] = True
    fig["layout"]["showlegend"] = False  # the page shows a key under the views instead
    fig["layout"]["margin"] = {"l": 4, "r": 4, "t": top, "b": 4}
    return fig


def side_figure(result: Any, baseline: Any, *, view: str = "trunk", hidden: bool = False, large: bool = False,
                highlight: Mapping[str, str] | None = None, exaggerate: bool = False, pair: bool = False,
                title: str | None = None) -> dict:
    """The side view for the page: :func:`musclesim.plot.sagittal_figure` with the changed
    muscles highlighted (``highlight``: ``{muscle id: label line}``), the change drawn
    :data:`musclesim.plot.SAGITTAL_EXAGGERATION` times larger when ``exaggerate``, labels laid
    out for the figure's smallest size on the page (:data:`SIDE_MIN_PX`; ``large`` is the
    projector layout, ``pair`` one of two side by side). ``hidden`` (predict-then-reveal) draws
    the baseline only, with the changed muscles still marked (the input, not the answer)."""
    size = "pair" if pair else ("present" if large else "normal")
    kw = dict(focus=view, height=BODY_HEIGHT, as_dict=True, colorbar=False, highlight=highlight or {},
              font_size=(14 if pair else 16) if large else 13, min_px=SIDE_MIN_PX[size])
    if hidden:
        fig = plot.sagittal_figure(baseline, None, title=title or "Side view: baseline only (predict, then reveal)",
                                   **kw)
    else:
        fig = plot.sagittal_figure(result, baseline, title=title,
                                   exaggerate=plot.SAGITTAL_EXAGGERATION if exaggerate else 1.0, **kw)
    return _autosize(fig)


def front_figure(result: Any, baseline: Any, *, view: str = "trunk", hidden: bool = False) -> dict:
    """The front view (left-right changes drawn :data:`LATERAL_EXAGGERATION` times larger)."""
    if hidden:
        fig = plot.frontal_figure(baseline, None, focus=view, exaggerate=LATERAL_EXAGGERATION, height=BODY_HEIGHT,
                                  top_view=False, as_dict=True, title="Front view: baseline only")
    else:
        fig = plot.frontal_figure(result, baseline, focus=view, exaggerate=LATERAL_EXAGGERATION, height=BODY_HEIGHT,
                                  top_view=False, as_dict=True)
    return _autosize(fig)


def top_figure(result: Any, baseline: Any, *, hidden: bool = False) -> dict:
    """The pelvis from above (rotation), drawn larger as :func:`musclesim.plot.top_figure` says."""
    if hidden:
        fig = plot.top_figure(baseline, None, exaggerate=LATERAL_EXAGGERATION, as_dict=True,
                              title="Top view: baseline only")
    else:
        fig = plot.top_figure(result, baseline, exaggerate=LATERAL_EXAGGERATION, as_dict=True)
    return _autosize(fig)


def off_figure(text: str) -> dict:
    """What a view that is switched off holds (a few hundred bytes)."""
    return hidden_figure(text, height=120)


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
                max_frames: int = 8, pos: dict | None = None, compact: bool = False):
    """A :class:`dash.Patch` that puts ``result``'s propagation frames, its final node colours
    and the explanation ``path`` onto the static graph figure ``base_fig`` (whose layout ``pos``
    may be passed to save recomputing it). ``compact`` drops the legend, title and node names
    (for a small panel). Returns ``(patch, n_frames, frame_names)``."""
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
    # compact (projector mode, a small panel): no legend, title or node names, so the nodes fill it
    patch["layout"]["showlegend"] = not compact
    patch["layout"]["height"] = None if compact else GRAPH_HEIGHT  # compact: as tall as its panel
    patch["layout"]["margin"] = {"l": 2, "r": 2, "t": 2, "b": 2} if compact else base_fig.get("layout", {}).get("margin")
    patch["layout"]["title"]["text"] = "" if compact else (base_fig.get("layout", {}).get("title") or {}).get("text", "")
    for idx in node_idx:
        mode = base_fig["data"][idx].get("mode", "markers")
        patch["data"][idx]["mode"] = "markers" if compact else mode
    path_idx = trace_index(base_fig, "explanation path")
    shown = [] if hidden else [n for n in path if n in pos]
    patch["data"][path_idx]["x"] = [pos[n][0] for n in shown]
    patch["data"][path_idx]["y"] = [pos[n][1] for n in shown]
    return patch, len(frames), [f["name"] for f in frames]
