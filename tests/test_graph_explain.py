"""The interaction graph and the explanations built on it."""

from __future__ import annotations

import json

import networkx as nx
import pytest

import musclesim as ms


@pytest.fixture(scope="module")
def graph(model):
    return ms.interaction_graph(model)


def _edges(G, type_):
    return [(u, v, d) for u, v, d in G.edges(data=True) if d["type"] == type_]


def test_graph_has_the_node_kinds_and_edge_types(model, graph):
    kinds = nx.get_node_attributes(graph, "kind")
    assert {k for k in kinds.values()} == {"bone", "joint", "muscle", "measure"}
    assert set(model.muscle_ids) <= set(graph)
    for t in ("attaches", "crosses", "connects", "measured_on", "relation"):
        assert _edges(graph, t), t


def test_psoas_attaches_and_crosses_as_in_anatomy(graph):
    attaches = {(v, d["role"]) for u, v, d in _edges(graph, "attaches") if u == "psoas_major_left"}
    assert attaches == {("L1", "origin"), ("pelvis", "via"), ("thigh", "insertion")}
    crosses = {v: d for u, v, d in _edges(graph, "crosses") if u == "psoas_major_left"}
    assert crosses["hip"]["action"] == "flexion"
    assert {"L5S1", "L4L5", "hip"} <= set(crosses)


def test_relations_follow_moment_arm_signs(graph):
    rel = {(u, v): d["relation"] for u, v, d in _edges(graph, "relation") if d["geometric"]}
    assert rel[("psoas_major_left", "iliacus_left")] == "synergist"
    assert rel[("psoas_major_left", "gluteus_maximus_left")] == "antagonist"
    assert rel[("rectus_femoris_left", "hamstrings_left")] == "antagonist"
    assert rel[("soleus_left", "tibialis_anterior_left")] == "antagonist"
    # no relation across sides for bilateral muscles
    assert ("psoas_major_left", "iliacus_right") not in rel


def test_every_relation_carries_evidence(graph):
    for u, v, d in _edges(graph, "relation"):
        assert d["evidence"], (u, v)
        for e in d["evidence"]:
            assert e["kind"] in ("geometry", "document")
            if e["kind"] == "document":
                assert e["source"].endswith(".txt") and e["action"]


def test_contradicted_documented_relations_are_reported(graph):
    rows = ms.contradicted_relations(graph)
    pairs = {(r["a"], r["b"], r["documented"]) for r in rows}
    # article 000 calls psoas and abdominals antagonists; their lumbar moment arms make them synergists here
    assert ("psoas_major_left", "rectus_abdominis_left", "antagonist") in pairs
    for r in rows:
        assert r["why"] and r["sources"]


def test_graph_json_round_trip(graph):
    data = json.loads(ms.graph_to_json(graph))
    G2 = nx.node_link_graph(data, edges="edges", multigraph=True, directed=True)
    assert G2.number_of_nodes() == graph.number_of_nodes()
    assert G2.number_of_edges() == graph.number_of_edges()


def test_explain_attributes_the_change_to_the_changed_muscles(model):
    base = ms.simulate(model)
    res = ms.simulate(model, {"psoas_major": 0.3}, coupling=False)
    ex = ms.explain(res, base)
    tilt = ex["pelvic_tilt_deg"]
    assert {d[0] for d in tilt.drivers} == {"psoas_major_left", "psoas_major_right"}
    assert tilt.drivers[0][1] > 0
    # the linear attribution explains most of a moderate change
    assert tilt.linear_estimate == pytest.approx(tilt.change, rel=0.35)
    assert tilt.path[0] in ("psoas_major_left", "psoas_major_right") and tilt.path[-1] == "pelvic_tilt_deg"
    assert "hip" in tilt.path
    assert "Pelvic tilt rose" in tilt.text and "psoas_major" in tilt.text


def test_explain_waterfall_balances(model):
    """Both postures are equilibria, so the moment changes at the key joint sum to ~0."""
    base = ms.simulate(model)
    res = ms.simulate(model, {"glutes": 0.25})
    e = ms.explain(res, base)["pelvic_tilt_deg"]
    assert e.joint == "hip"
    total = sum(v for _, v in e.moments)
    assert abs(total) < 1e-5
    assert e.change < 0 and "fell" in e.text


def test_explain_rejects_unknown_measure(model):
    base = ms.simulate(model)
    with pytest.raises(KeyError):
        ms.explain(ms.simulate(model, {"psoas_major": 0.2}), base, measures=["pelvic_tilt"])
