"""The muscle-bone interaction graph (DESIGN section 3).

``build_graph(model, moment_arms)`` returns a :class:`networkx.MultiDiGraph` with nodes

* ``bone`` -- each segment (``pelvis``, ``L3``, ``thigh``, ...),
* ``joint`` -- each joint (``hip``, ``L5S1``, ...),
* ``muscle`` -- each muscle instance (``psoas_major_left``, ...),
* ``measure`` -- each measure (``pelvic_tilt_deg``, ...), attached to the bones it is read from,

and edges (attribute ``type``)

* ``attaches`` muscle -> bone (``role``: origin / via / insertion),
* ``crosses`` muscle -> joint (``action``: flexion / extension, ``moment_arm_m`` at the baseline
  pose, positive = flexion),
* ``connects`` joint -> bone (``role``: parent / child),
* ``measured_on`` bone -> measure,
* ``relation`` muscle -> muscle, both directions (``relation``: agonist / synergist / antagonist),
  with its ``evidence``: a list of ``{"kind": "geometry", "joints": [...]}`` and/or
  ``{"kind": "document", "source": file, "action": text}`` items. ``geometric`` is True when the
  moment-arm signs give the relation.

Geometric relations: two muscles of the same side (or one midline) that both cross a joint with a
moment arm above ``min_moment_arm_m`` are synergists if they act the same way at every such
joint and antagonists if they act oppositely at every such joint. Documented relations come from
the model file; one the geometry contradicts is kept, marked ``contradicted``, and listed by
:func:`contradicted_relations`, never silently dropped.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping

import networkx as nx
import numpy as np

from .metrics import MEASURES
from .model import Model

#: The bones each measure is read from (for explanations and the dashboard's graph view).
MEASURE_BONES: dict[str, tuple[str, ...]] = {
    "pelvic_tilt_deg": ("pelvis",), "sacral_slope_deg": ("pelvis",), "pelvic_incidence_deg": ("pelvis",),
    "radiographic_pelvic_tilt_deg": ("pelvis",), "lumbar_lordosis_deg": ("pelvis", "L1"),
    "pi_minus_ll_deg": ("pelvis", "L1"), "thoracic_kyphosis_deg": ("thorax_lower", "thorax_upper"),
    "head_forward_mm": ("thorax_upper", "head_neck"), "sagittal_vertical_axis_mm": ("thorax_upper", "pelvis"),
    "com_anterior_mm": ("foot",), "hip_flexion_deg": ("thigh", "pelvis"), "knee_flexion_deg": ("shank", "thigh"),
    "ankle_dorsiflexion_deg": ("foot", "shank"), "hip_extension_reserve_left_deg": ("thigh", "pelvis"),
    "hip_extension_reserve_right_deg": ("thigh", "pelvis"), "lumbar_compression_N": ("pelvis", "L5"),
    "intra_abdominal_pressure_mmHg": ("pelvis", "thorax_lower"),
    "balance_effort_Nm": ("foot", "head_neck", "thorax_lower"),
    "pelvic_obliquity_deg": ("pelvis",), "trunk_lateral_bend_deg": ("pelvis", "L1", "thorax_upper"),
    "hip_height_difference_mm": ("thigh", "pelvis"), "apparent_leg_length_difference_mm": ("L3", "foot"),
    "pelvic_rotation_deg": ("pelvis",), "hip_rotation_left_deg": ("thigh", "pelvis"),
    "hip_rotation_right_deg": ("thigh", "pelvis"),
}


def build_graph(model: Model, moment_arms: Mapping[str, Mapping[str, float]]) -> nx.MultiDiGraph:
    """The interaction graph of ``model`` with the muscles' ``moment_arms`` ({muscle id: {joint id:
    m}}, e.g. ``baseline(model).moment_arms_m``): a pure function of its arguments.
    :func:`musclesim.interaction_graph` builds it at the model's baseline standing pose (once per
    model).

    Raises
    ------
    KeyError
        If ``moment_arms`` lacks a muscle of the model.
    """
    G = nx.MultiDiGraph(name=model.name)
    for s in model.segments:
        G.add_node(s.id, kind="bone", bilateral=s.bilateral, label=s.id.replace("_", " "))
    for j in model.joints:
        G.add_node(j.id, kind="joint", label=j.id)
        G.add_edge(j.id, j.parent, type="connects", role="parent")
        G.add_edge(j.id, j.child, type="connects", role="child")
    for name in MEASURES:
        G.add_node(name, kind="measure", label=name)
        for bone in MEASURE_BONES.get(name, ()):
            G.add_edge(bone, name, type="measured_on")
    thr = model.coupling.min_moment_arm_m
    for inst in model.instances:
        m = inst.muscle
        G.add_node(inst.id, kind="muscle", base=inst.base, side=inst.side, groups=list(m.groups),
                   max_isometric_force_N=m.max_isometric_force_N, default_tone=m.default_tone, label=inst.id)
        for k, att in enumerate(inst.path):
            role = "origin" if k == 0 else "insertion" if k == len(inst.path) - 1 else "via"
            G.add_edge(inst.id, att.segment, type="attaches", role=role)
        for joint, r in moment_arms[inst.id].items():
            if abs(r) > 1e-6:
                G.add_edge(inst.id, joint, type="crosses", moment_arm_m=float(r),
                           action="flexion" if r > 0 else "extension", significant=abs(r) >= thr)
    _add_geometric_relations(G, model, moment_arms, thr)
    _add_documented_relations(G, model)
    return G


def _same_side(a, b) -> bool:
    return a.side == b.side or "midline" in (a.side, b.side)


def _add_geometric_relations(G, model, moment_arms, thr) -> None:
    for a, b in itertools.permutations(model.instances, 2):
        if not _same_side(a, b):
            continue
        shared = [j for j, r in moment_arms[a.id].items()
                  if abs(r) >= thr and abs(moment_arms[b.id].get(j, 0.0)) >= thr]
        if not shared:
            continue
        same = [np.sign(moment_arms[a.id][j]) == np.sign(moment_arms[b.id][j]) for j in shared]
        if all(same):
            kind = "synergist"
        elif not any(same):
            kind = "antagonist"
        else:
            continue  # mixed actions: neither a synergist nor an antagonist
        G.add_edge(a.id, b.id, key=f"geometry:{kind}", type="relation", relation=kind, geometric=True,
                   documented=False, evidence=[{"kind": "geometry", "joints": shared}])


def _add_documented_relations(G, model) -> None:
    names = model.names()  # muscle ids, bilateral names and groups -> muscle instances
    inst = {i.id: i for i in model.instances}
    for rel in model.relations:
        for a_id, b_id in itertools.product(names[rel.a], names[rel.b]):
            ia, ib = inst[a_id], inst[b_id]
            if a_id == b_id or not _same_side(ia, ib):
                continue
            geo_kind = {d["relation"] for d in G.get_edge_data(ia.id, ib.id, default={}).values()
                        if d.get("geometric")}
            compatible = {"agonist": {"synergist"}, "synergist": {"synergist"}, "antagonist": {"antagonist"}}[rel.kind]
            contradicted = bool(geo_kind) and not (geo_kind & compatible)
            why = ""
            if not geo_kind:
                why = "the geometry gives no relation (no shared joint with a significant moment arm for both)"
            elif contradicted:
                why = f"the moment arms make them {', '.join(sorted(geo_kind))}s in this sagittal model"
            evidence = {"kind": "document", "source": rel.source, "action": rel.action}
            for u, v in ((ia.id, ib.id), (ib.id, ia.id)):
                key = f"document:{rel.kind}"
                if G.has_edge(u, v, key):
                    if evidence not in G.edges[u, v, key]["evidence"]:
                        G.edges[u, v, key]["evidence"].append(evidence)
                    continue
                G.add_edge(u, v, key=key, type="relation", relation=rel.kind, geometric=False, documented=True,
                           contradicted=contradicted, geometry_note=why, evidence=[evidence])


def contradicted_relations(G: nx.MultiDiGraph) -> list[dict]:
    """Documented relations the geometry contradicts or does not show, one row per muscle pair."""
    rows, seen = [], set()
    for u, v, d in G.edges(data=True):
        if d.get("type") == "relation" and d.get("documented") and d.get("geometry_note"):
            key = (tuple(sorted((u, v))), d["relation"])
            if key in seen:
                continue
            seen.add(key)
            rows.append({"a": key[0][0], "b": key[0][1], "documented": d["relation"],
                         "contradicted": d["contradicted"], "why": d["geometry_note"],
                         "sources": sorted({e["source"] for e in d["evidence"]})})
    return sorted(rows, key=lambda r: (r["a"], r["b"], r["documented"]))


def graph_to_json(G: nx.MultiDiGraph) -> str:
    """The graph as node-link JSON (for the dashboard's graph view)."""
    return json.dumps(nx.node_link_data(G, edges="edges"), default=float)
