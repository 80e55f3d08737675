"""The model: frozen dataclasses in SI units, each number with its source.

A :class:`Model` is what :func:`musclesim.load_model` returns. It is read-only; the mechanics
compiles it into arrays (:mod:`musclesim.chain`) and never changes it.

Conventions
-----------
* Coordinates are those of the *reference configuration* (all joint angles zero): metres,
  x anterior, y up, z to the subject's left, origin on the floor below the hip joint centre.
* Joint angles are flexion-positive (ankle: dorsiflexion; knee: flexion; hip: flexion; spine:
  flexion; neck: flexion), as in OpenSim. Moments are N·m, flexion-positive.
* Bilateral parts are described once for the left side and mirrored (z -> -z) to the right:
  a bilateral muscle ``psoas_major`` becomes ``psoas_major_left`` and ``psoas_major_right``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

SIDES = ("left", "right")
Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class Subject:
    """The person the model describes."""

    body_mass_kg: float
    height_m: float
    pelvic_incidence_deg: float
    gravity_m_per_s2: float
    source: str


@dataclass(frozen=True)
class Segment:
    """A rigid body. ``mass_fraction`` is of body mass, per side for a bilateral segment."""

    id: str
    bilateral: bool
    parent: str  # "" for the root (the foot, fixed to the floor when standing)
    joint: str  # joint connecting it to its parent ("" for the root)
    mass_fraction: float
    com_m: Vec3
    landmarks: Mapping[str, Vec3]
    mass_source: str
    com_source: str
    landmarks_source: str


@dataclass(frozen=True)
class PassiveLaw:
    """Passive joint moment ``M = c + k·θ + Σ_t s_t·exp(a_t + b_t·θ + Σ_j c_tj·θ_j)``, θ in degrees,
    M in N·m.

    Positive moments flex. ``exp_coupling`` holds, per adjacent joint ``j``, one coefficient
    ``c_tj`` (1/deg) per exponential term: the two-joint muscles make a joint's passive moment depend
    on its neighbours' angles (Riener & Edrich 1999: the hip's on the knee, the knee's on hip and
    ankle, the ankle's on the knee). The Riener & Edrich double-exponential laws and a linear
    stiffness with exponential end-range stops are both of this form. The neighbours' angles are
    their chain angles (hip and knee flexion, ankle dorsiflexion positive).
    """

    constant_Nm: float
    linear_Nm_per_deg: float
    exp_terms: tuple[tuple[float, float, float], ...]
    source: str
    exp_coupling: tuple[tuple[str, tuple[float, ...]], ...] = ()

    def moment_Nm(self, angle_deg: float, others_deg: Mapping[str, float] | None = None) -> float:
        """Passive moment at ``angle_deg`` (N·m, flexion positive), the coupled joints at
        ``others_deg`` ({joint id: deg}; a joint not given is at 0)."""
        others = others_deg or {}
        shift = [sum(c[t] * others.get(j, 0.0) for j, c in self.exp_coupling) for t in range(len(self.exp_terms))]
        return self.constant_Nm + self.linear_Nm_per_deg * angle_deg + sum(
            s * math.exp(a + b * angle_deg + x) for (s, a, b), x in zip(self.exp_terms, shift)
        )


@dataclass(frozen=True)
class OutOfPlaneStiffness:
    """Passive stiffness of a joint out of the sagittal plane (used by :mod:`musclesim.lateral`)."""

    lateral_Nm_per_deg: float  # side-bend (spine), ab/adduction (hip), inversion/eversion (ankle); one side
    axial_Nm_per_deg: float  # axial twist (spine), rotation (hip); one side
    source: str


@dataclass(frozen=True)
class Joint:
    """A sagittal hinge between ``parent`` and ``child`` segments (plus its out-of-plane stiffness)."""

    id: str
    bilateral: bool
    parent: str
    child: str
    centre_m: Vec3
    flexion_pitches_child: int  # +1: flexion pitches the child forward (top anterior); -1: backward
    range_deg: tuple[float, float]
    passive: PassiveLaw
    range_source: str
    out_of_plane: OutOfPlaneStiffness | None = None


@dataclass(frozen=True)
class Attachment:
    """A point fixed to a segment, in reference-configuration coordinates (m)."""

    segment: str
    point_m: Vec3


@dataclass(frozen=True)
class Muscle:
    """A muscle as described in the model file (one side for a bilateral muscle)."""

    id: str
    bilateral: bool
    groups: tuple[str, ...]
    origin: Attachment
    via: tuple[Attachment, ...]
    insertion: Attachment
    max_isometric_force_N: float
    optimal_fiber_length_m: float
    fiber_length_at_reference_normalized: float
    passive_slack_length_normalized: float
    default_tone: float
    path_source: str
    force_source: str
    length_source: str
    tone_source: str
    notes: str = ""

    @property
    def path(self) -> tuple[Attachment, ...]:
        """Origin, via points and insertion, in order."""
        return (self.origin, *self.via, self.insertion)


@dataclass(frozen=True)
class MuscleInstance:
    """One actual muscle of the body: a side of a bilateral muscle, or a midline muscle."""

    id: str  # e.g. "psoas_major_left"
    base: str  # e.g. "psoas_major"
    side: str  # "left", "right" or "midline"
    muscle: Muscle
    path: tuple[Attachment, ...]  # mirrored for the right side


@dataclass(frozen=True)
class Relation:
    """A documented relation between two muscles (or groups) with its source."""

    a: str
    b: str
    kind: str  # agonist | synergist | antagonist
    action: str
    source: str


@dataclass(frozen=True)
class MuscleModel:
    """Hill-type static muscle parameters shared by all muscles."""

    short_range_stiffness_gamma: float
    force_length_width: float
    passive_strain_at_F0: float
    passive_shape: float
    sources: Mapping[str, str]


@dataclass(frozen=True)
class Coupling:
    """Gains of the tone coupling between related muscles (see :mod:`musclesim.tone`)."""

    synergist_gain: float
    antagonist_gain: float
    min_moment_arm_m: float
    source: str


@dataclass(frozen=True)
class Regulation:
    """Postural goals and the actuators that hold them (DESIGN section 5)."""

    com_anterior_of_ankle_m: float
    upright_segment: str
    gaze_segment: str
    ankle_joint: str
    neck_joint: str
    trunk_extensor: str
    trunk_flexor: str
    com_source: str
    source: str
    #: Stiffness of the rib cage's regulation, N of extra trunk-muscle force per degree of the
    #: upright segment's pitch in space (a proportional postural feedback, ``lam = K pitch``).
    #: ``None``: a hard goal (the rib cage pitch is held at exactly zero, the first versions' pin).
    upright_gain_N_per_deg: float | None = None
    upright_gain_source: str = ""
    #: The knees kept near extension in standing: a spring of this stiffness (N·m/deg per knee) about
    #: the reference angle, realised by the quadriceps. Lying has no such regulation (the relaxed knee
    #: of the passive-moment measurements). ``None``: no knee regulation.
    knee_joint: str | None = None
    knee_stiffness_Nm_per_deg: float = 0.0
    knee_source: str = ""


@dataclass(frozen=True)
class AbdominalPressure:
    """Intra-abdominal pressure and the strut it makes between diaphragm and pelvic floor (DESIGN section 5).

    ``P = rest_mmHg + T_wall / wall_hR_m2`` with the wall's hoop tension ``T_wall = sum w_m F_m``
    (N; ``wall_weights`` per muscle id, each side of a bilateral muscle counting half: the two
    halves of a hoop carry its tension in series); the force ``P * area_m2`` pushes the
    ``diaphragm`` and ``pelvic_floor`` landmarks (``(segment, landmark)``) apart.
    """

    rest_mmHg: float
    area_m2: float
    wall_hR_m2: float
    wall_weights: Mapping[str, float]
    diaphragm: tuple[str, str]
    pelvic_floor: tuple[str, str]
    rest_source: str
    geometry_source: str
    weights_source: str
    #: The rest part lying (mmHg): the contents' weight acts over the abdomen's depth instead of its
    #: height. ``None``: the standing value.
    lying_rest_mmHg: float | None = None
    lying_rest_source: str = ""


@dataclass(frozen=True)
class Model:
    """A whole model: read-only, SI units, sources for every number."""

    name: str
    description: str
    path: Path | None
    subject: Subject
    segments: tuple[Segment, ...]
    joints: tuple[Joint, ...]
    muscles: tuple[Muscle, ...]
    groups: Mapping[str, tuple[str, ...]]
    relations: tuple[Relation, ...]
    muscle_model: MuscleModel
    coupling: Coupling
    regulation: Regulation
    instances: tuple[MuscleInstance, ...] = field(default=(), repr=False)
    #: Intra-abdominal pressure (optional table); None: no pressure in the equilibrium.
    abdominal_pressure: AbdominalPressure | None = None
    #: Per-instance cache of data derived from this (immutable) model, e.g. the compiled chain and
    #: the baseline solve. Not part of the model's value; never shared between models.
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict:  # pickling (executors): the derived cache stays behind
        state = dict(self.__dict__)
        state["_cache"] = {}
        state["groups"] = dict(self.groups)
        if self.abdominal_pressure is not None:
            from dataclasses import replace

            state["abdominal_pressure"] = replace(self.abdominal_pressure,
                                                  wall_weights=dict(self.abdominal_pressure.wall_weights))
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__["groups"] = MappingProxyType(state["groups"])
        ap = state.get("abdominal_pressure")
        if ap is not None:
            from dataclasses import replace

            self.__dict__["abdominal_pressure"] = replace(ap, wall_weights=MappingProxyType(dict(ap.wall_weights)))
        else:
            self.__dict__["abdominal_pressure"] = None

    def __post_init__(self) -> None:
        if not self.instances:
            object.__setattr__(self, "instances", tuple(_expand(self.muscles)))
        object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))
        if self.abdominal_pressure is not None and not isinstance(self.abdominal_pressure.wall_weights, MappingProxyType):
            from dataclasses import replace

            object.__setattr__(self, "abdominal_pressure", replace(
                self.abdominal_pressure, wall_weights=MappingProxyType(dict(self.abdominal_pressure.wall_weights))))

    # ------------------------------------------------------------------ lookups
    @property
    def muscle_ids(self) -> tuple[str, ...]:
        """Ids of every muscle instance, e.g. ``psoas_major_left``."""
        if "muscle_ids" not in self._cache:
            self._cache["muscle_ids"] = tuple(m.id for m in self.instances)
        return self._cache["muscle_ids"]

    @property
    def default_tone(self) -> dict[str, float]:
        """Resting tone of every muscle instance (activation, 0..1)."""
        return {m.id: m.muscle.default_tone for m in self.instances}

    def segment(self, sid: str) -> Segment:
        return next(s for s in self.segments if s.id == sid)

    def joint(self, jid: str) -> Joint:
        return next(j for j in self.joints if j.id == jid)

    def muscle(self, base: str) -> Muscle:
        return next(m for m in self.muscles if m.id == base)

    def names(self) -> dict[str, tuple[str, ...]]:
        """Every name ``tone=`` accepts, mapped to the muscle instances it stands for.

        Instance ids, bilateral base names (``psoas_major`` = both sides) and group names
        (``hip_flexors``, ``abdominals``, ...). A group and a muscle may share a name only if
        they mean the same muscles (``hamstrings``). Built once per model (cached); treat it as
        read-only.
        """
        if "names" in self._cache:
            return self._cache["names"]
        out: dict[str, tuple[str, ...]] = {}
        for inst in self.instances:
            out[inst.id] = (inst.id,)
            out.setdefault(inst.base, ())
            out[inst.base] = out[inst.base] + (inst.id,)
        for gname, members in self.groups.items():
            ids: list[str] = []
            for base in members:
                ids.extend(out[base])
            out[gname] = tuple(ids)
        for inst in self.instances:
            for g in inst.muscle.groups:
                if g not in self.groups:
                    out.setdefault(g, ())
                    if inst.id not in out[g]:
                        out[g] = out[g] + (inst.id,)
        self._cache["names"] = out
        return out


def mirror(att: Attachment) -> Attachment:
    """The right-side twin of a left-side attachment."""
    x, y, z = att.point_m
    return Attachment(att.segment, (x, y, -z))


def _expand(muscles: tuple[Muscle, ...]) -> list[MuscleInstance]:
    out: list[MuscleInstance] = []
    for m in muscles:
        if m.bilateral:
            out.append(MuscleInstance(f"{m.id}_left", m.id, "left", m, m.path))
            out.append(MuscleInstance(f"{m.id}_right", m.id, "right", m, tuple(mirror(a) for a in m.path)))
        else:
            out.append(MuscleInstance(m.id, m.id, "midline", m, m.path))
    return out
