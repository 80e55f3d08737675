"""Validation of model-file data: the schema (pydantic) and the cross-references.

:func:`validate_model_data` takes the parsed TOML of a ``model.toml`` and returns it checked, as
plain dicts and lists in the shape :func:`musclesim.io.build_model` reads. Every failure raises
:class:`~musclesim.errors.ModelFileError` naming the file, the field path in the file's own
terms (``muscles[3] (psoas_major).origin.segment``), the bad value and what is allowed.

Three passes:

1. the schema (pydantic models below): required sections and keys, no unknown keys, types,
   finite numbers, positive masses/forces/lengths, tone in [0, 1], coupling gains below 1 in
   size, vectors of 3 numbers, ``exp_terms`` triples, ``range_deg`` low < high, a source for
   every number;
2. the cross-references (plain Python): unique ids, segment tree (known parents and joints,
   one root, no loops, joints agreeing with the segments they connect), mass fractions adding up
   to 1, attachments on known segments, groups of known muscles, relations and regulation naming
   known muscles, groups, segments and joints;
3. what the mechanics needs (plain Python): numbers of a plausible size (|x| <= 1e6, so that
   nothing overflows), passive joint laws that stay below 1e5 N·m over the joint's range, muscle
   paths whose consecutive points do not coincide and that leave room for a tendon, and the
   landmarks the measures read on the segments that carry them.

This module imports pydantic; :mod:`musclesim.io` imports it only when a file is read, so that
``import musclesim`` stays fast.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from .errors import ModelFileError

SCHEMA_VERSION = 1
MASS_FRACTION_SUM_RANGE = (0.98, 1.02)
SOURCE_RULE = "every number needs a source, or 'estimate: why'"
SIDES = ("left", "right")
#: No number in a human model in SI units comes near this (the strongest muscle pulls ~5e3 N,
#: the body weighs ~1e2 kg); a larger one is a typo and would overflow the mechanics.
MAGNITUDE_LIMIT = 1e6
#: No joint resists with 100 kN·m of passive moment inside its range; more means a typo in an
#: ``exp_terms`` triple (and, a little further, a floating-point overflow).
PASSIVE_MOMENT_LIMIT_NM = 1e5
#: Shortest straight piece of a muscle path in the reference pose (m): two consecutive path points
#: that coincide give the piece no direction.
MIN_PATH_PIECE_M = 1e-4
#: Landmarks the measures read (musclesim/metrics.py), by segment: a model that has the segment
#: must give them. ``tests/test_fuzz_models.py`` checks this list against metrics.py.
MEASURE_LANDMARKS: dict[str, dict[str, str]] = {
    "pelvis": {"asis": "pelvic_tilt_deg", "psis": "pelvic_tilt_deg", "s1_endplate_anterior": "sacral_slope_deg",
               "s1_endplate_posterior": "sacral_slope_deg", "s1_endplate_mid": "pelvic_incidence_deg",
               "hip_axis": "pelvic_incidence_deg"},
    "L1": {"l1_endplate_anterior": "lumbar_lordosis_deg", "l1_endplate_posterior": "lumbar_lordosis_deg"},
    "thorax_lower": {"t12_endplate_anterior": "thoracic_kyphosis_deg",
                     "t12_endplate_posterior": "thoracic_kyphosis_deg"},
    "thorax_upper": {"t4_endplate_anterior": "thoracic_kyphosis_deg",
                     "t4_endplate_posterior": "thoracic_kyphosis_deg", "c7": "head_forward_mm"},
    "head_neck": {"tragus": "head_forward_mm"},
}
_ID_SECTIONS = ("segments", "joints", "muscles")  # arrays whose items carry an ``id``


# ---------------------------------------------------------------------------------- field types
def _non_blank_source(v: str) -> str:
    if not v.strip():
        raise PydanticCustomError("musclesim_source", "is empty: " + SOURCE_RULE)
    return v


def _non_blank(v: str) -> str:
    if not v.strip():
        raise PydanticCustomError("musclesim_blank", "must not be empty")
    return v


def _low_below_high(v: list[float]) -> list[float]:
    if not v[0] < v[1]:
        raise PydanticCustomError("musclesim_range", "must be [low, high] with low < high")
    return v


Source = Annotated[str, AfterValidator(_non_blank_source),
                   Field(description="a publication, a data set, or 'estimate: why'")]
Text = Annotated[str, AfterValidator(_non_blank), Field(description="a non-empty string")]
Id = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$",
                          description="an identifier: a letter, then letters, digits or _")]
Ref = Annotated[str, Field(description="the id of something defined in the file")]
Number = Annotated[float, Field(description="a finite number")]
Positive = Annotated[float, Field(gt=0, description="a finite number > 0")]
NonNegative = Annotated[float, Field(ge=0, description="a finite number >= 0")]
MassFraction = Annotated[float, Field(gt=0, lt=1, description="a fraction of body mass, 0 < f < 1")]
Tone = Annotated[float, Field(ge=0, le=1, description="a resting activation in [0, 1]")]
Gain = Annotated[float, Field(gt=-1, lt=1, description="a finite number with |gain| < 1")]
Vec3 = Annotated[list[float], Field(min_length=3, max_length=3,
                                    description="3 finite numbers [x, y, z] in metres")]
ExpTerm = Annotated[list[float], Field(min_length=3, max_length=3,
                                       description="a triple [sign, a, b] meaning sign * exp(a + b * angle_deg)")]
RangeDeg = Annotated[list[float], Field(min_length=2, max_length=2,
                                        description="[low, high] in degrees with low < high"),
                     AfterValidator(_low_below_high)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ModelInfo(_Table):
    name: Text
    description: str


class SubjectTable(_Table):
    body_mass_kg: Positive
    height_m: Positive
    pelvic_incidence_deg: Positive
    gravity_m_per_s2: Positive
    source: Source


class SegmentTable(_Table):
    id: Id
    bilateral: bool
    parent: Annotated[str, Field(description='"" for the root, else the id of a segment')]
    joint: Annotated[str, Field(description='"" for the root, else the id of a joint')]
    mass_fraction: MassFraction
    mass_source: Source
    com_m: Vec3
    com_source: Source
    landmarks_source: Source
    landmarks: dict[Id, Vec3]


class PassiveTable(_Table):
    constant_Nm: Number
    linear_Nm_per_deg: Number
    exp_terms: Annotated[list[ExpTerm], Field(description="a list of [sign, a, b] triples")]
    exp_coupling: Annotated[dict[Id, list[Number]], Field(description=(
        "per adjacent joint id, one coefficient (1/deg of that joint's angle) per exp term, added to the "
        "term's exponent (two-joint muscles: Riener & Edrich 1999)"))] | None = None
    source: Source


class OutOfPlaneTable(_Table):
    lateral_Nm_per_deg: Annotated[NonNegative, Field(description=(
        "passive stiffness (N·m/deg, one side) out of the sagittal plane: side-bend for the spine, "
        "ab/adduction for the hip, inversion/eversion for the ankle"))]
    axial_Nm_per_deg: Annotated[NonNegative, Field(description=(
        "passive stiffness (N·m/deg, one side) in axial rotation: twist for the spine, rotation for the hip"))]
    source: Source


class JointTable(_Table):
    id: Id
    bilateral: bool
    parent: Ref
    child: Ref
    centre_m: Vec3
    flexion_pitches_child: Annotated[Literal[-1, 1], Field(
        description="1 (flexion pitches the child forward) or -1 (backward)")]
    range_deg: RangeDeg
    range_source: Source
    passive: PassiveTable
    out_of_plane: OutOfPlaneTable | None = None


class AttachmentTable(_Table):
    segment: Ref
    point_m: Vec3


class MuscleTable(_Table):
    id: Id
    bilateral: bool
    groups: list[Id] = []
    origin: AttachmentTable
    via: list[AttachmentTable] = []
    insertion: AttachmentTable
    path_source: Source
    max_isometric_force_N: Positive
    optimal_fiber_length_m: Positive
    force_source: Source
    fiber_length_at_reference_normalized: Positive
    passive_slack_length_normalized: Positive
    length_source: Source
    default_tone: Tone
    tone_source: Source
    notes: str = ""


class MuscleModelTable(_Table):
    short_range_stiffness_gamma: NonNegative
    short_range_stiffness_source: Source
    force_length_width: Positive
    force_length_source: Source
    passive_strain_at_F0: Positive
    passive_shape: Positive
    passive_source: Source


class CouplingTable(_Table):
    synergist_gain: Gain
    antagonist_gain: Gain
    min_moment_arm_m: NonNegative
    source: Source


class RegulationTable(_Table):
    com_anterior_of_ankle_m: Number
    com_source: Source
    upright_segment: Ref
    gaze_segment: Ref
    ankle_joint: Ref
    neck_joint: Ref
    trunk_extensor: Ref
    trunk_flexor: Ref
    source: Source
    upright_gain_N_per_deg: Annotated[Positive | None, Field(description=(
        "extra trunk-muscle force (N, both sides) per degree of the upright segment's pitch: the rib "
        "cage's regulation is a spring of this stiffness; leave it out for a hard goal (pitch held at 0)"))] = None
    upright_gain_source: Source | None = None
    knee_joint: Annotated[Ref | None, Field(description=(
        "the joint kept near its reference angle in standing by a spring (the quadriceps holding the knees "
        "extended); leave it out for no knee regulation"))] = None
    knee_stiffness_Nm_per_deg: Annotated[Positive | None, Field(description=(
        "stiffness of that spring, N·m per degree per side"))] = None
    knee_source: Source | None = None

    @model_validator(mode="after")
    def _knee_is_complete(self):
        given = [self.knee_joint is not None, self.knee_stiffness_Nm_per_deg is not None, self.knee_source is not None]
        if any(given) and not all(given):
            raise ValueError("knee_joint, knee_stiffness_Nm_per_deg and knee_source go together: give all three or none")
        return self

    @model_validator(mode="after")
    def _gain_has_source(self):
        if self.upright_gain_N_per_deg is not None and not self.upright_gain_source:
            raise ValueError("upright_gain_N_per_deg needs an upright_gain_source saying where it comes from")
        return self


class LandmarkRefTable(_Table):
    segment: Ref
    landmark: Ref


class AbdominalPressureTable(_Table):
    rest_mmHg: NonNegative
    rest_source: Source
    area_m2: Positive
    wall_hR_m2: Positive
    geometry_source: Source
    wall_weights: Annotated[dict[Ref, NonNegative], Field(
        min_length=1, description="a table muscle id = weight of its force in the wall's hoop tension")]
    weights_source: Source
    diaphragm: LandmarkRefTable
    pelvic_floor: LandmarkRefTable
    lying_rest_mmHg: Annotated[NonNegative | None, Field(description=(
        "the rest part lying on the floor (the contents' weight over the abdomen's depth); leave it out for "
        "the standing value"))] = None
    lying_rest_source: Source | None = None

    @model_validator(mode="after")
    def _lying_rest_has_source(self):
        if (self.lying_rest_mmHg is None) != (self.lying_rest_source is None):
            raise ValueError("lying_rest_mmHg and lying_rest_source go together: give both or neither")
        return self


class RelationTable(_Table):
    a: Ref
    b: Ref
    kind: Annotated[Literal["agonist", "synergist", "antagonist"], Field(
        description="agonist, synergist or antagonist")]
    action: Text
    source: Source


class ModelFile(_Table):
    """A whole ``model.toml``; field order is the file's section order (first error first)."""

    schema_version: Literal[1]
    model: ModelInfo
    subject: SubjectTable
    segments: Annotated[list[SegmentTable], Field(min_length=1)]
    joints: list[JointTable]
    muscles: Annotated[list[MuscleTable], Field(min_length=1)]
    groups: dict[Id, Annotated[list[Ref], Field(min_length=1, description="a list of muscle ids")]]
    muscle_model: MuscleModelTable
    coupling: CouplingTable
    regulation: RegulationTable
    abdominal_pressure: AbdominalPressureTable | None = None
    relations: list[RelationTable]


# ---------------------------------------------------------------------------------- entry point
def validate_model_data(data: dict, path: Path) -> dict:
    """Check the parsed TOML of a model file; return it as plain dicts/lists for ``build_model``.

    Raises :class:`~musclesim.errors.ModelFileError` on the first problem found.
    """
    check = _Checker(data, path)
    if not isinstance(data, dict):
        check.fail((), "must be a TOML document (a table)", value=type(data).__name__)
    check.schema_version()
    try:
        valid = ModelFile.model_validate(data)
    except ValidationError as exc:
        raise check.from_pydantic(exc) from None
    out = valid.model_dump(exclude_none=True)  # optional tables left out stay absent
    check.cross_references(out)
    check.mechanics(out)
    return out


class _Checker:
    """Holds the file being checked so every error can name it (and, where it can, its line)."""

    def __init__(self, data: Any, path: Path | None):
        self.data = data
        self.path = path
        self._lines: list[str] | None = None

    # ------------------------------------------------------------------ reporting
    def fail(self, loc: tuple | str, problem: str, value: object = None, allowed: str = "") -> None:
        if isinstance(loc, str):
            field, line = loc, None
        else:
            field, line = _field_path(loc, self.data), self._line_of(loc)
        raise ModelFileError(self.path, field or "<document>", problem, value=value, allowed=allowed, line=line)

    def from_pydantic(self, exc: ValidationError) -> ModelFileError:
        errors = exc.errors(include_url=False)
        err = errors[0]
        # A misspelt key also shows up as a missing one; the misspelling is the better report.
        for e in errors:
            if e["type"] == "extra_forbidden" and e["loc"][:-1] == err["loc"][:-1]:
                err = e
                break
        loc = tuple(err["loc"])
        problem, value, allowed = _describe(err)
        try:
            self.fail(loc, problem, value=value, allowed=allowed)
        except ModelFileError as mfe:
            return mfe
        raise AssertionError("unreachable")  # pragma: no cover

    def _line_of(self, loc: tuple) -> int | None:
        """Best-effort line number of ``loc`` in the file (None when it cannot be told)."""
        if self._lines is None:
            try:
                self._lines = Path(self.path).read_text(encoding="utf-8", errors="replace").splitlines()
            except (OSError, TypeError):
                self._lines = []
        return _find_line(self._lines, loc)

    # ------------------------------------------------------------------ checks
    def schema_version(self) -> None:
        if "schema_version" not in self.data:
            self.fail(("schema_version",), "is missing: the file must say which schema it follows",
                      allowed=str(SCHEMA_VERSION))
        v = self.data["schema_version"]
        if type(v) is not int or v != SCHEMA_VERSION:
            self.fail(("schema_version",), "is not a schema version this musclesim reads", value=v,
                      allowed=str(SCHEMA_VERSION))

    def cross_references(self, d: dict) -> None:
        segs, joints, muscles = d["segments"], d["joints"], d["muscles"]
        for section, kind in (("segments", "segment"), ("joints", "joint"), ("muscles", "muscle")):
            first: dict[str, int] = {}
            for i, item in enumerate(d[section]):
                if item["id"] in first:
                    self.fail((section, i, "id"), f"duplicate {kind} id (already used by "
                              f"{section}[{first[item['id']]}])", value=item["id"],
                              allowed=f"a {kind} id not used before")
                first[item["id"]] = i
        seg_by_id = {s["id"]: s for s in segs}
        joint_by_id = {j["id"]: j for j in joints}
        seg_ids = ", ".join(seg_by_id)
        joint_ids = ", ".join(joint_by_id)

        # --- segment tree
        for i, s in enumerate(segs):
            if s["parent"] and s["parent"] not in seg_by_id:
                self.fail(("segments", i, "parent"), "unknown parent segment" + _suggest(s["parent"], seg_by_id),
                          value=s["parent"], allowed=f'"" for the root, or one of: {seg_ids}')
            if s["parent"] == s["id"]:
                self.fail(("segments", i, "parent"), "a segment cannot be its own parent", value=s["parent"],
                          allowed=f"another segment: {seg_ids}")
            if s["joint"] and s["joint"] not in joint_by_id:
                self.fail(("segments", i, "joint"), "unknown joint" + _suggest(s["joint"], joint_by_id),
                          value=s["joint"], allowed=f'"" for the root, or one of: {joint_ids}')
            if bool(s["parent"]) != bool(s["joint"]):
                key = "joint" if s["parent"] else "parent"
                self.fail(("segments", i, key), 'the root has parent = "" and joint = ""; '
                          "every other segment needs both a parent and a joint", value=s[key],
                          allowed="both empty (root) or both set")
        roots = [s["id"] for s in segs if not s["parent"]]
        if len(roots) != 1:
            self.fail(("segments",), f'exactly one segment must be the root (parent = ""), found {len(roots)}',
                      value=roots, allowed="one root segment")
        for i, s in enumerate(segs):
            chain, cur = [s["id"]], s
            while cur["parent"]:
                cur = seg_by_id[cur["parent"]]
                if cur["id"] in chain:
                    self.fail(("segments", i, "parent"), "the chain of parents loops and never reaches the root",
                              value=" -> ".join(chain + [cur["id"]]), allowed=f"a chain ending at {roots[0]!r}")
                chain.append(cur["id"])

        # --- joints
        for j, jt in enumerate(joints):
            for key in ("parent", "child"):
                if jt[key] not in seg_by_id:
                    self.fail(("joints", j, key), f"unknown {key} segment" + _suggest(jt[key], seg_by_id),
                              value=jt[key], allowed=seg_ids)
            if jt["parent"] == jt["child"]:
                self.fail(("joints", j, "child"), "a joint connects two different segments", value=jt["child"],
                          allowed=f"a segment other than {jt['parent']!r}")
        for i, s in enumerate(segs):
            if not s["joint"]:
                continue
            jt = joint_by_id[s["joint"]]
            if jt["child"] != s["id"] or jt["parent"] != s["parent"]:
                self.fail(("segments", i, "joint"),
                          f"joint {jt['id']!r} connects {jt['parent']!r} (parent) to {jt['child']!r} (child), "
                          f"not {s['parent']!r} to {s['id']!r}", value=s["joint"],
                          allowed=f"the joint whose parent is {s['parent']!r} and child is {s['id']!r}")
        for j, jt in enumerate(joints):
            child = seg_by_id[jt["child"]]
            if child["joint"] != jt["id"]:
                self.fail(("joints", j, "child"), f"segment {child['id']!r} is attached to its parent by joint "
                          f"{child['joint']!r}, not by this joint", value=jt["child"],
                          allowed="the segment whose joint is " + repr(jt["id"]))

        # --- mass
        lo, hi = MASS_FRACTION_SUM_RANGE
        total = sum(s["mass_fraction"] * (2 if s["bilateral"] else 1) for s in segs)
        if not lo <= total <= hi:
            self.fail("segments[*].mass_fraction",
                      f"the mass fractions sum to {total:.4f} of body mass (bilateral segments counted twice); "
                      "they must add up to 1", value=round(total, 4), allowed=f"a sum between {lo} and {hi}")

        # --- muscles: attachments and instance names
        muscle_ids = [m["id"] for m in muscles]
        instance_of: dict[str, str] = {}  # instance id -> muscle id
        for m in muscles:
            for inst in ([f"{m['id']}_{side}" for side in SIDES] if m["bilateral"] else [m["id"]]):
                instance_of[inst] = m["id"]
        for i, m in enumerate(muscles):
            atts = [(("origin",), m["origin"])] + [(("via", k), v) for k, v in enumerate(m["via"])] \
                + [(("insertion",), m["insertion"])]
            for tail, att in atts:
                if att["segment"] not in seg_by_id:
                    self.fail(("muscles", i, *tail, "segment"), "unknown segment" + _suggest(att["segment"], seg_by_id),
                              value=att["segment"], allowed=seg_ids)
            if m["bilateral"]:
                for side in SIDES:
                    inst = f"{m['id']}_{side}"
                    if inst in muscle_ids:
                        self.fail(("muscles", i, "id"), f"its {side} side would be called {inst!r}, "
                                  f"which is already the id of muscles[{muscle_ids.index(inst)}]", value=m["id"],
                                  allowed="ids whose sides do not clash with other muscles")
        muscle_names = set(muscle_ids) | set(instance_of)  # what a group member may be
        muscle_list = ", ".join(muscle_ids)

        # --- groups
        groups = d["groups"]
        for g, members in groups.items():
            for k, mem in enumerate(members):
                if mem not in muscle_names:
                    self.fail(("groups", g, k), "unknown muscle" + _suggest(mem, muscle_names), value=mem,
                              allowed=f"a muscle id (or one side of it, e.g. {muscle_ids[0]}_left): {muscle_list}")
                if mem in members[:k]:
                    self.fail(("groups", g, k), "listed twice in the group", value=mem, allowed="each muscle once")
            if g in muscle_names and members != [g]:
                self.fail(("groups", g), f"a group named like the muscle {g!r} must have exactly that muscle as "
                          f"its member (otherwise {g!r} would mean two different things)", value=members,
                          allowed=f"[{g!r}] or another group name")
        for i, m in enumerate(muscles):
            for k, g in enumerate(m["groups"]):
                if g in muscle_names and g != m["id"] and instance_of.get(g) != m["id"]:
                    self.fail(("muscles", i, "groups", k), f"{g!r} is the name of another muscle; a muscle's group "
                              "may share a name only with the muscle itself", value=g,
                              allowed="a group name that is not another muscle's id")
                in_table = any(x == m["id"] or instance_of.get(x) == m["id"] for x in groups.get(g, ()))
                if g in groups and not in_table:
                    self.fail(("muscles", i, "groups", k), f"[groups] defines {g!r} without this muscle; "
                              "add it there or drop the group here", value=g,
                              allowed=", ".join(n for n, ms in groups.items() if m["id"] in ms) or "no [groups] entry")

        # --- relations
        group_names = set(groups) | {g for m in muscles for g in m["groups"]}
        names = muscle_names | group_names
        names_hint = f"a muscle id or group name: {muscle_list}; groups: {', '.join(sorted(group_names))}"
        for r, rel in enumerate(d["relations"]):
            for key in ("a", "b"):
                if rel[key] not in names:
                    self.fail(("relations", r, key), "unknown muscle or group" + _suggest(rel[key], names),
                              value=rel[key], allowed=names_hint)
            if rel["a"] == rel["b"]:
                self.fail(("relations", r, "b"), "a relation needs two different muscles or groups", value=rel["b"],
                          allowed=f"anything but {rel['a']!r}")

        # --- regulation
        reg = d["regulation"]
        for key, known, listing, what in (
                ("upright_segment", seg_by_id, seg_ids, "segment"),
                ("gaze_segment", seg_by_id, seg_ids, "segment"),
                ("ankle_joint", joint_by_id, joint_ids, "joint"),
                ("neck_joint", joint_by_id, joint_ids, "joint"),
                ("trunk_extensor", muscle_ids, muscle_list, "muscle"),
                ("trunk_flexor", muscle_ids, muscle_list, "muscle")):
            if reg[key] not in known:
                self.fail(("regulation", key), f"unknown {what}" + _suggest(reg[key], known), value=reg[key],
                          allowed=listing)
        if reg.get("knee_joint") is not None and reg["knee_joint"] not in joint_by_id:
            self.fail(("regulation", "knee_joint"), "unknown joint" + _suggest(reg["knee_joint"], joint_by_id),
                      value=reg["knee_joint"], allowed=joint_ids)


    def mechanics(self, d: dict) -> None:
        """What the mechanics needs beyond the schema: magnitudes it can compute with, passive laws
        that stay finite over the joint range, muscle paths with a direction and room for a tendon,
        and the landmarks the measures read."""
        for loc, v in _numbers(d):
            if abs(v) > MAGNITUDE_LIMIT:
                self.fail(loc, f"is implausibly large for a human model in SI units (|value| > {MAGNITUDE_LIMIT:g}); "
                          "a typo?", value=v, allowed=f"a number between {-MAGNITUDE_LIMIT:g} and {MAGNITUDE_LIMIT:g}")
        ranges = {jt["id"]: jt["range_deg"] for jt in d["joints"]}
        for j, jt in enumerate(d["joints"]):
            lo, hi = jt["range_deg"]
            coupling = jt["passive"].get("exp_coupling") or {}
            for other, coef in coupling.items():
                loc = ("joints", j, "passive", "exp_coupling", other)
                if other not in ranges or other == jt["id"]:
                    self.fail(loc, "couples the passive law to an unknown joint" if other != jt["id"]
                              else "couples the passive law to its own joint (use exp_terms' b)", value=other,
                              allowed=", ".join(sorted(set(ranges) - {jt["id"]})))
                elif len(coef) != len(jt["passive"]["exp_terms"]):
                    self.fail(loc, f"has {len(coef)} coefficients for {len(jt['passive']['exp_terms'])} exp_terms",
                              value=coef, allowed="one coefficient (1/deg) per exp term, in the same order")
            for k, (c, a, b) in enumerate(jt["passive"]["exp_terms"]):
                # the exponent is linear in every angle: its largest value is at a corner of the ranges
                spread = sum(max(cf[k] * ranges[o][0], cf[k] * ranges[o][1]) for o, cf in coupling.items()
                             if o in ranges and o != jt["id"] and len(cf) > k)
                peak = max(a + b * lo, a + b * hi) + spread
                size = abs(c) * math.exp(min(peak, 700.0))
                if size > PASSIVE_MOMENT_LIMIT_NM:
                    at = lo if a + b * lo >= a + b * hi else hi
                    self.fail(("joints", j, "passive", "exp_terms", k),
                              f"gives a passive moment of {size:.3g} N·m at {at:g} deg, inside range_deg "
                              f"[{lo:g}, {hi:g}]", value=[c, a, b],
                              allowed=f"terms whose size stays below {PASSIVE_MOMENT_LIMIT_NM:g} N·m over the range")
        for i, m in enumerate(d["muscles"]):
            atts = [(("origin",), m["origin"])] + [(("via", k), v) for k, v in enumerate(m["via"])] \
                + [(("insertion",), m["insertion"])]
            length = 0.0
            for (_, a), (tail, b) in zip(atts, atts[1:]):
                piece = math.dist(a["point_m"][:2], b["point_m"][:2])
                if piece < MIN_PATH_PIECE_M:
                    self.fail(("muscles", i, *tail, "point_m"), "coincides with the path point before it in the "
                              f"sagittal plane ({piece * 1000:.2g} mm apart): the path has no direction there",
                              value=b["point_m"], allowed=f"points at least {MIN_PATH_PIECE_M * 1000:g} mm apart")
                length += piece
            fibre = m["fiber_length_at_reference_normalized"] * m["optimal_fiber_length_m"]
            if fibre >= length:
                self.fail(("muscles", i, "fiber_length_at_reference_normalized"),
                          f"makes the fibre {fibre:.4g} m long in the reference pose, but the whole muscle path "
                          f"is only {length:.4g} m: no room for the tendon", value=m["fiber_length_at_reference_normalized"],
                          allowed=f"fiber_length_at_reference_normalized * optimal_fiber_length_m < {length:.4g} m")
        for i, s in enumerate(d["segments"]):
            for name, measure in MEASURE_LANDMARKS.get(s["id"], {}).items():
                if name not in s["landmarks"]:
                    self.fail(("segments", i, "landmarks"), f"the landmark {name!r} is missing; the measure "
                              f"{measure} is read from it", value=sorted(s["landmarks"]) or None,
                              allowed=", ".join(MEASURE_LANDMARKS[s["id"]]) + " (and any others)")
        # --- abdominal pressure (optional): its muscles and the landmarks its strut runs between
        muscle_ids = [m["id"] for m in d["muscles"]]
        muscle_list = ", ".join(muscle_ids)
        seg_by_id = {s["id"]: s for s in d["segments"]}
        seg_ids = ", ".join(seg_by_id)
        ap = d.get("abdominal_pressure")
        if ap is not None:
            for name in ap["wall_weights"]:
                if name not in muscle_ids:
                    self.fail(("abdominal_pressure", "wall_weights", name), "unknown muscle" + _suggest(name, muscle_ids),
                              value=name, allowed=muscle_list)
            ends = []
            for key in ("diaphragm", "pelvic_floor"):
                ref = ap[key]
                if ref["segment"] not in seg_by_id:
                    self.fail(("abdominal_pressure", key, "segment"), "unknown segment" + _suggest(ref["segment"], seg_by_id),
                              value=ref["segment"], allowed=seg_ids)
                marks = seg_by_id[ref["segment"]]["landmarks"]
                if ref["landmark"] not in marks:
                    self.fail(("abdominal_pressure", key, "landmark"), f"unknown landmark of segment {ref['segment']!r}"
                              + _suggest(ref["landmark"], marks), value=ref["landmark"], allowed=", ".join(marks) or "none")
                ends.append(marks[ref["landmark"]])
            if math.dist(ends[0][:2], ends[1][:2]) < MIN_PATH_PIECE_M:
                self.fail(("abdominal_pressure", "pelvic_floor", "landmark"), "coincides with the diaphragm point in the "
                          "sagittal plane: the pressure's strut has no direction", value=ap["pelvic_floor"]["landmark"],
                          allowed=f"points at least {MIN_PATH_PIECE_M * 1000:g} mm apart")


# ---------------------------------------------------------------------------------- helpers
def _numbers(node: Any, loc: tuple = ()):
    """(location, value) of every number in validated data, in file order."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _numbers(v, loc + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _numbers(v, loc + (i,))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield loc, node


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _field_path(loc: tuple, data: Any) -> str:
    """``('muscles', 3, 'origin', 'segment')`` -> ``muscles[3] (psoas_major).origin.segment``."""
    out = ""
    for n, elem in enumerate(loc):
        if isinstance(elem, int):
            out += f"[{elem}]"
            if n == 1 and loc[0] in _ID_SECTIONS:
                try:
                    mid = data[loc[0]][elem].get("id")
                except (KeyError, IndexError, TypeError, AttributeError):
                    mid = None
                if isinstance(mid, str) and mid:
                    out += f" ({mid})"
        elif elem == "[key]":
            out += " (the key)"
        else:
            out += ("." if out else "") + str(elem)
    return out


def _unwrap(tp: Any) -> tuple[Any, str | None]:
    """Strip ``Annotated``; return the bare type and the description found on the way."""
    desc = None
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp = args[0]
        for meta in args[1:]:
            desc = getattr(meta, "description", None) or desc
    return tp, desc


def _is_table(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _walk(loc: tuple) -> tuple[Any, Any, str | None]:
    """Follow ``loc`` through the schema: (type holding the last element, its type, description)."""
    tp: Any = ModelFile
    desc: str | None = None
    parent: Any = None
    for elem in loc:
        parent = tp
        if _is_table(tp) and isinstance(elem, str):
            f = tp.model_fields.get(elem)
            if f is None:
                return parent, None, None
            tp, d = _unwrap(f.annotation)
            desc = f.description or d
        elif get_origin(tp) is list and isinstance(elem, int):
            tp, d = _unwrap(get_args(tp)[0])
            desc = d or desc
        elif get_origin(tp) is dict and isinstance(elem, str):
            tp, d = _unwrap(get_args(tp)[1])
            desc = d or desc
        else:
            return parent, None, desc
    return parent, tp, desc


def _keys(table: Any) -> str:
    return ", ".join(table.model_fields)


_TYPE_WORDS = {
    "float_type": "a number", "int_type": "an integer", "bool_type": "true or false",
    "string_type": "a string (in quotes)", "list_type": "a list [...]", "dict_type": "a table",
    "model_type": "a table", "model_attributes_type": "a table",
}


def _describe(err: dict) -> tuple[str, object, str]:
    """(problem, bad value, allowed) for one pydantic error."""
    typ, loc, ctx = err["type"], tuple(err["loc"]), err.get("ctx") or {}
    parent, tp, desc = _walk(loc)
    value = err.get("input")
    key = loc[-1] if loc else ""
    if typ == "missing":
        allowed = desc or (f"a table with keys {_keys(tp)}" if _is_table(tp) else "")
        if isinstance(key, str) and (key == "source" or key.endswith("_source")):
            return "is missing: " + SOURCE_RULE, None, allowed
        what = "section" if len(loc) == 1 else "key"
        return f"required {what} is missing", None, allowed
    if typ == "extra_forbidden":
        known = list(parent.model_fields) if _is_table(parent) else []
        problem = "unknown key (a typo?)" + _suggest(str(key), known)
        return problem, key, ("keys " + ", ".join(known)) if known else ""
    if typ.startswith("musclesim_"):
        return err["msg"], value, desc or ""
    if typ in _TYPE_WORDS:
        want = _TYPE_WORDS[typ]
        if _is_table(tp):
            want = f"a table with keys {_keys(tp)}"
        return f"must be {_TYPE_WORDS[typ]}", _shown(value), desc or want
    if typ == "finite_number":
        return "must be a finite number (not inf or nan)", value, desc or "a finite number"
    bounds = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
              "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}
    if typ in bounds:
        name, sym = bounds[typ]
        return f"must be {sym} {ctx.get(name)}", value, desc or ""
    if typ in ("too_short", "too_long"):
        lo, hi = _length_limits(loc)
        n = len(value) if hasattr(value, "__len__") else "?"
        if lo == hi:
            need = f"exactly {lo}"
        elif typ == "too_short":
            need = f"at least {lo}"
        else:
            need = f"at most {hi}"
        return f"must have {need} item{'s' if need != 'exactly 1' else ''}, not {n}", _shown(value), desc or ""
    if typ == "literal_error":
        return "is not one of the allowed values", value, desc or str(ctx.get("expected", ""))
    if typ == "string_pattern_mismatch":
        return "is not a valid identifier", value, desc or f"a string matching {ctx.get('pattern')}"
    return err["msg"], _shown(value), desc or ""


def _length_limits(loc: tuple) -> tuple[int | None, int | None]:
    """The (min, max) list length the schema sets at ``loc``."""
    parent, _, _ = _walk(loc)
    lo = hi = None
    metas: list = []
    if _is_table(parent) and isinstance(loc[-1], str) and loc[-1] in parent.model_fields:
        metas = parent.model_fields[loc[-1]].metadata
    elif get_origin(parent) in (list, dict):
        item = get_args(parent)[-1]
        metas = list(get_args(item)[1:]) if get_origin(item) is Annotated else []
        metas = [m2 for m in metas for m2 in (getattr(m, "metadata", None) or [m])]
    for m in metas:
        lo = getattr(m, "min_length", None) if getattr(m, "min_length", None) is not None else lo
        hi = getattr(m, "max_length", None) if getattr(m, "max_length", None) is not None else hi
    return lo, hi


def _shown(value: object) -> object:
    """The bad value if it is short enough to print, else a description of it."""
    if isinstance(value, dict):
        return "a table"
    if len(repr(value)) > 120:
        return f"{type(value).__name__} of length {len(value)}" if hasattr(value, "__len__") else type(value).__name__
    return value


_HEADER = re.compile(r"^\s*\[(\[?)\s*([^\]]*?)\s*\]")


def _find_line(lines: list[str], loc: tuple) -> int | None:
    """1-based line of ``loc`` in a TOML file written in the usual layout, or None."""
    if not lines or not loc:
        return None
    headers = []  # (index, name, is_array)
    for n, text in enumerate(lines):
        mt = _HEADER.match(text)
        if mt:
            headers.append((n, mt.group(2).replace('"', ""), bool(mt.group(1))))
    section, rest = loc[0], list(loc[1:])
    start = None
    if rest and isinstance(rest[0], int):
        hits = [h for h in headers if h[1] == section and h[2]]
        if rest[0] < len(hits):
            start = hits[rest[0]][0]
            rest = rest[1:]
    else:
        hits = [h for h in headers if h[1] == section]
        if hits:
            start = hits[0][0]
    if start is None:  # a top-level key
        start, rest = -1, list(loc)
        end = headers[0][0] if headers else len(lines)
    else:
        end = next((n for n, name, arr in headers
                    if n > start and not (name.startswith(section + ".") or (name == section and not arr))),
                   len(lines))
    found = start
    pos = start + 1
    for key in rest:
        if not isinstance(key, str):
            continue
        pat = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*=')
        hit = next((n for n in range(pos, end)
                    if pat.match(lines[n]) or any(h[0] == n and h[1].endswith("." + key) for h in headers)), None)
        if hit is None:
            break
        found, pos = hit, hit + 1
    return found + 1 if found >= 0 else None
