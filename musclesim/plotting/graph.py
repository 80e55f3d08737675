"""The interaction graph view: layout, relation edges, propagation frames.

Part of :mod:`musclesim.plot` (its public names are re-exported there).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from .style import _FONT, CHANGE_COLORSCALE, NODE_STYLE, RELATION_STYLE, _finish, _get, measure_label, muscle_label

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

#: Per graph, what :func:`graph_frames` reads from its structure (graphs are built once per model
#: and not changed after; a graph that goes away takes its entry with it). Holds the last layout
#: dict seen (a strong reference to a small dict: an identity check saves sorting it per call).
_STRUCTURE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _frame_structure(G, pos: Mapping) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``(nodes of each kind in drawing order, {bone: its joints})`` for ``G`` drawn at ``pos``,
    computed once per graph and layout (a dashboard update draws the same graph every time)."""
    try:
        entry = _STRUCTURE.setdefault(G, {})
    except TypeError:  # a graph-like object without weak references: no cache
        entry = {}
    if entry.get("pos") is not pos:  # a layout dict not seen last time: compare its nodes
        key = tuple(sorted(pos))
        if entry.get("key") != key:
            kinds = {k: [n for n in key if n in G and G.nodes[n].get("kind") == k[:-1]] for k in GRAPH_NODE_TRACES}
            bone_joints: dict[str, list[str]] = {}
            for j, b, d in G.edges(data=True):
                if d.get("type") == "connects":
                    bone_joints.setdefault(b, []).append(j)
            entry.update(key=key, kinds=kinds, bone_joints=bone_joints)
        entry["pos"] = pos
    return entry["kinds"], entry["bone_joints"]


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
    from ..metrics import MEASURES

    pos = graph_layout(G) if pos is None else pos
    kinds, bone_joints = _frame_structure(G, pos)
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
