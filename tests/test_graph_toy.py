"""Graph relations on a three-muscle toy model built from the model dataclasses.

One leg of two joints (hip, knee) and three midline muscles with hand-set moment arms (m;
flexion positive), significance threshold 1 cm:

========  ======  ======  ===============================================
muscle    hip     knee
========  ======  ======  ===============================================
flex_a    +0.04           hip flexor
flex_b    +0.03   +0.02   flexes hip and knee
ext_c     -0.05   +0.03   extends the hip, flexes the knee (a hamstring)
========  ======  ======  ===============================================

By the rule of graph.py (shared joints where both arms are significant; same sign at all of
them: synergists; opposite at all: antagonists; mixed: neither):
flex_a-flex_b synergists (hip, same sign); flex_a-ext_c antagonists (hip, opposite);
flex_b-ext_c share hip (opposite) and knee (same): no relation. With ext_c's knee arm below the
threshold, flex_b-ext_c share only the hip and become antagonists.
Documented: flex_a-flex_b "agonist" (compatible with the geometry), flex_a-ext_c "agonist"
(contradicted: the geometry makes them antagonists), flex_b-ext_c "antagonist" (the geometry
gives no relation).
"""

from __future__ import annotations

import pytest

from musclesim.graph import build_graph, contradicted_relations
from musclesim.model import (
    Attachment,
    Coupling,
    Joint,
    Model,
    Muscle,
    MuscleModel,
    PassiveLaw,
    Regulation,
    Relation,
    Segment,
    Subject,
)
from musclesim.tone import coupling_matrix

ARMS = {"flex_a": {"hip": 0.04}, "flex_b": {"hip": 0.03, "knee": 0.02}, "ext_c": {"hip": -0.05, "knee": 0.03}}
SYN, ANT = 0.2, -0.1


def _segment(sid, parent, joint):
    return Segment(sid, False, parent, joint, 0.1, (0.0, 0.0, 0.0), {}, "toy", "toy", "toy")


def _joint(jid, parent, child):
    return Joint(jid, False, parent, child, (0.0, 0.0, 0.0), 1, (-30.0, 120.0), PassiveLaw(0.0, 0.0, (), "toy"), "toy")


def _muscle(mid, origin, insertion):
    return Muscle(mid, False, ("toy_group",), Attachment(origin, (0.0, 0.0, 0.0)), (),
                  Attachment(insertion, (0.0, 0.0, 0.0)), 500.0, 0.1, 1.0, 1.0, 0.05, "toy", "toy", "toy", "toy")


def toy_model(relations=()) -> Model:
    return Model(
        name="toy", description="three muscles on a two-joint leg", path=None,
        subject=Subject(70.0, 1.75, 52.0, 9.81, "toy"),
        segments=(_segment("shank", "", ""), _segment("thigh", "shank", "knee"), _segment("pelvis", "thigh", "hip")),
        joints=(_joint("knee", "shank", "thigh"), _joint("hip", "thigh", "pelvis")),
        muscles=(_muscle("flex_a", "pelvis", "thigh"), _muscle("flex_b", "pelvis", "shank"),
                 _muscle("ext_c", "pelvis", "shank")),
        groups={}, relations=tuple(relations),
        muscle_model=MuscleModel(23.0, 0.5, 0.6, 4.0, {}),
        coupling=Coupling(SYN, ANT, 0.01, "toy"),
        regulation=Regulation(0.05, "pelvis", "pelvis", "knee", "hip", "ext_c", "flex_a", "toy", "toy"),
    )


def _relations(G) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for u, v, d in G.edges(data=True):
        if d["type"] == "relation" and d["geometric"]:
            out.setdefault((u, v), set()).add(d["relation"])
    return out


def test_geometric_relations_follow_the_moment_arm_signs():
    G = build_graph(toy_model(), ARMS)
    rel = _relations(G)
    assert rel == {("flex_a", "flex_b"): {"synergist"}, ("flex_b", "flex_a"): {"synergist"},
                   ("flex_a", "ext_c"): {"antagonist"}, ("ext_c", "flex_a"): {"antagonist"}}
    assert ("flex_b", "ext_c") not in rel  # mixed actions (hip opposite, knee same)
    assert G.edges["flex_a", "flex_b", "geometry:synergist"]["evidence"] == [{"kind": "geometry", "joints": ["hip"]}]
    # the crossings carry their action and moment arm
    crosses = {(u, v): d for u, v, d in G.edges(data=True) if d["type"] == "crosses"}
    assert crosses[("ext_c", "hip")]["action"] == "extension" and crosses[("ext_c", "knee")]["action"] == "flexion"
    assert crosses[("flex_b", "knee")]["moment_arm_m"] == 0.02 and crosses[("flex_b", "knee")]["significant"]
    assert G.nodes["flex_a"]["kind"] == "muscle" and G.nodes["hip"]["kind"] == "joint"


def test_an_arm_below_the_threshold_does_not_count():
    arms = {**ARMS, "ext_c": {"hip": -0.05, "knee": 0.005}}  # 5 mm < 1 cm at the knee
    rel = _relations(build_graph(toy_model(), arms))
    assert rel[("flex_b", "ext_c")] == {"antagonist"}
    crosses = {(u, v): d for u, v, d in build_graph(toy_model(), arms).edges(data=True) if d["type"] == "crosses"}
    assert not crosses[("ext_c", "knee")]["significant"]


def test_documented_relations_are_checked_against_the_geometry():
    docs = (Relation("flex_a", "flex_b", "agonist", "hip flexion", "text A"),
            Relation("flex_a", "ext_c", "agonist", "hip flexion", "text B"),
            Relation("flex_b", "ext_c", "antagonist", "knee", "text C"))
    G = build_graph(toy_model(docs), ARMS)
    doc = {(u, v): d for u, v, d in G.edges(data=True) if d["type"] == "relation" and d["documented"]}
    assert set(doc) == {("flex_a", "flex_b"), ("flex_b", "flex_a"), ("flex_a", "ext_c"), ("ext_c", "flex_a"),
                        ("flex_b", "ext_c"), ("ext_c", "flex_b")}
    assert not doc[("flex_a", "flex_b")]["contradicted"] and not doc[("flex_a", "flex_b")]["geometry_note"]
    assert doc[("flex_a", "ext_c")]["contradicted"] and "antagonist" in doc[("flex_a", "ext_c")]["geometry_note"]
    assert not doc[("flex_b", "ext_c")]["contradicted"]
    assert "no relation" in doc[("flex_b", "ext_c")]["geometry_note"]
    rows = contradicted_relations(G)
    assert [(r["a"], r["b"], r["documented"], r["contradicted"]) for r in rows] == [
        ("ext_c", "flex_a", "agonist", True), ("ext_c", "flex_b", "antagonist", False)]


def test_coupling_matrix_from_the_toy_graph():
    """W has the synergist gain between flex_a and flex_b, the antagonist gain between flex_a and
    ext_c, and nothing between flex_b and ext_c (rows and columns in muscle order a, b, c)."""
    W = coupling_matrix(toy_model(), build_graph(toy_model(), ARMS))
    assert W.tolist() == [[0.0, SYN, ANT], [SYN, 0.0, 0.0], [ANT, 0.0, 0.0]]


def test_missing_moment_arms_are_an_error():
    with pytest.raises(KeyError):
        build_graph(toy_model(), {"flex_a": {"hip": 0.04}})
