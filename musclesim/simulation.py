"""``simulate``: tone in, posture and measures out, as an immutable :class:`Result`.

The pipeline (DESIGN section 1): resolve the tone names, propagate the tone change through the
interaction graph (coupling frames), then solve the regulated static equilibrium for the requested
activation on the branch connected to the baseline posture (several exist: knee locked or
flexed): straight from the baseline where Newton's method passes a contraction test, else along a
continuation path (:func:`musclesim.mechanics.follow`). The posture frames the dashboard animates
are the equilibria along the straight path from the baseline (:mod:`musclesim.path`); they, and
the moment tables, are built when first read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType

import numpy as np

from .errors import UnknownPositionError
from .lateral import LATERAL_MEASURES, is_mirror_symmetric, solve_lateral
from .lazy import LazyMapping, LazySequence
from .mechanics import (
    Equilibrium,
    Mechanics,
    follow,
    lying,
    muscle_force_N,
    pose_geometry,
    prepare,
    solve,
    total_force,
    with_tendons,
)
from .metrics import measure
from .model import Model
from .path import Frame, StraightPath  # noqa: F401  (Frame is part of Result's API)
from .path import frames as path_frames
from .positions import POSITIONS as _POSITION_TABLE
from .status import Status, classify
from .tone import couple, coupled, coupling_matrix, coupling_solver, tone_vector

#: Positions this model offers (their one definition is :data:`musclesim.positions.POSITIONS`).
POSITIONS = tuple(_POSITION_TABLE)


@dataclass(frozen=True, eq=False)
class Result:
    """The answer of :func:`simulate`. Read-only.

    ``metrics`` are the measures (DESIGN section 6), ``baseline_metrics`` those of the model's
    resting tone in the same position, ``change`` their difference. ``moments`` holds, for each
    joint, the moment (N·m, flexion positive) of every contributor: each muscle, ``gravity``,
    ``passive`` and the three ``regulation:*`` actuators; they sum to the residual.
    A result whose solve failed has ``converged`` or ``stable`` False, ``message`` says why, and
    its ``metrics`` are NaN: a failed pose is never returned as if it were an answer.

    The status every answer carries (as :class:`musclesim.BatchResult` rows do): ``ok``,
    ``status`` (a :class:`musclesim.status.Status` word), ``message``, ``iterations`` and
    ``residual`` (N·m, the largest joint-moment residual; ``residual_Nm`` is the same).
    """

    model_name: str
    position: str
    tone: Mapping[str, float]  # as requested (names as given)
    tightness: Mapping[str, float]  # contracture in degrees, as requested
    activation: Mapping[str, float]  # after coupling, per muscle id
    metrics: Mapping[str, float]
    baseline_metrics: Mapping[str, float]
    pose_deg: Mapping[str, float]
    moments: Mapping[str, Mapping[str, float]]
    muscle_force_N: Mapping[str, float]
    moment_arms_m: Mapping[str, Mapping[str, float]]
    regulation: Mapping[str, float]
    converged: bool
    stable: bool
    iterations: int
    residual_Nm: float
    message: str
    #: Coupling iterates, then postures along the path (:mod:`musclesim.path`); built when first read.
    frames: Sequence[Frame] = ()
    #: The frontal and transverse (left-right) equilibrium, standing: its coordinates (``*_deg``,
    #: ``pelvic_shift_mm``), ``balance_torque_Nm``, ``residual_Nm``, ``stable`` and, per lateral
    #: measure, each muscle's linear share of the change (``contributions``). ``{"symmetric": True}``
    #: when tone and tightness are equal on both sides (the answer is zero by mirror symmetry and
    #: is not solved, so sideways stability is not checked either). Empty lying.
    lateral: Mapping = field(default_factory=lambda: MappingProxyType({}))
    _state: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when the posture is a converged, stable equilibrium."""
        return self.converged and self.stable

    @property
    def status(self) -> Status:
        """What the solve ended with, one word of :class:`musclesim.status.Status` (``"converged"``,
        ``"path_lost"``, ...); ``status.ok == ok``. Test this in scripts; ``message`` is for people."""
        return classify(self.message, self.converged, self.stable)

    @property
    def residual(self) -> float:
        """The largest joint-moment residual of the solve (N·m); the same as ``residual_Nm``."""
        return self.residual_Nm

    @property
    def change(self) -> dict[str, float]:
        """Each measure minus its baseline value."""
        return {k: self.metrics[k] - self.baseline_metrics[k] for k in self.metrics}

    @property
    def split(self):
        """How much of each change is mechanics and how much the assumed tone coupling.

        ``{measure: {"total": change, "mechanics": the change of the same request solved with
        coupling=False, "coupling": total - mechanics}}`` (a :class:`musclesim.attribution.Split`,
        also carrying ``state``, ``message``, ``evidence`` -- the coupling gains' source and grade --
        and ``coupling_activation``). Built on first read (one coupling-off solve; none when the
        coupling changed no activation), once even when threads read it together.
        """
        s = self._state.get("split")
        if s is None:
            from .attribution import Split

            s = self._state.setdefault("split", Split(self, simulate, _requested_activation(self)))  # atomic: one Split per result
        return s

    @property
    def geometry(self) -> dict:
        """Where everything is in the solved pose, for drawing (metres, x anterior, y up).

        ``{"joints": {joint id: (x, y)}, "segments": {segment id: [(x, y) of its proximal joint,
        (x, y) of each child joint or its COM]}, "landmarks": {"segment.name": (x, y)},
        "muscles": {muscle id: [(x, y), ...] along its path}, "com": (x, y)}``.
        The sagittal model draws both legs on one chain. Lying, the coordinates are the floor's:
        y is the height above the floor and x runs along it with the head toward -x (the standing
        picture turned a quarter turn, front up), and ``"floor_y"`` is 0.
        """
        geo = _geometry(self._state["mech"], self._state["eq"].q)
        frame = self._state.get("floor_frame")
        if frame is None:
            return geo
        nrm, tan, d = frame

        def f(pt):
            v = np.asarray(pt, dtype=float)
            return (float(-(tan @ v)), float(nrm @ v - d))

        out = {"floor_y": 0.0, "com": f(geo["com"])}
        for key in ("joints", "landmarks"):
            out[key] = {k: f(v) for k, v in geo[key].items()}
        for key in ("segments", "muscles"):
            out[key] = {k: [f(v) for v in pts] for k, pts in geo[key].items()}
        return out

    @property
    def geometry_3d(self) -> dict | None:
        """Where everything is in 3-D in the solved standing pose, including the left-right
        answer (metres; x anterior, y up, z to the body's left), for frontal and top views; see
        :func:`musclesim.lateral.geometry`. None lying (the frontal model is a standing one) or
        for a failed solve."""
        if self.position != "standing" or not self.ok:
            return None
        from .lateral import coordinate_names, geometry

        lat = self._state.get("lateral")  # None: mirror-symmetric, the left-right answer is zero
        mech = self._state["mech"]
        x = lat.x if lat is not None else np.zeros(len(coordinate_names(mech)))
        return geometry(mech, self._state["eq"].q, x)

    def _repr_html_(self) -> str:  # notebooks
        rows = "".join(
            f"<tr><td>{k}</td><td>{v:.2f}</td><td>{self.change[k]:+.2f}</td></tr>" for k, v in self.metrics.items())
        head = f"<b>{self.model_name}</b>, {self.position}: {self.message}"
        return f"<div>{head}<table><tr><th>measure</th><th>value</th><th>change</th></tr>{rows}</table></div>"


def _freeze(d: dict) -> Mapping:
    return MappingProxyType(d)


def _check_position(position: str) -> None:
    if not isinstance(position, str) or position not in POSITIONS:
        raise UnknownPositionError(str(position), POSITIONS)


def baseline(model: Model, position: str = "standing") -> Result:
    """The model at its resting tone in ``position`` (cached on the model).

    Raises
    ------
    UnknownPositionError
        ``position`` is not one of :data:`POSITIONS`.
    """
    _check_position(position)
    key = ("baseline", position)
    if key not in model._cache:
        if position != "standing":
            model._cache[key] = _simulate_lying(model, None, None, position, True, False, base=None)
        else:
            mech = prepare(model)
            act = tone_vector(model, None)
            eq = solve(mech, act)
            model._cache[key] = _result(mech, position, {}, act, eq, None, frames=())
    return model._cache[key]


def interaction_graph(model: Model):
    """The model's interaction graph at its baseline pose (built once, cached on the model)."""
    if "graph" not in model._cache:
        from .graph import build_graph

        model._cache["graph"] = build_graph(model, baseline(model).moment_arms_m)
    return model._cache["graph"]


def _coupling(model: Model) -> np.ndarray:
    if "coupling" not in model._cache:
        model._cache["coupling"] = coupling_matrix(model, interaction_graph(model))
    return model._cache["coupling"]


def _coupling_solver(model: Model) -> np.ndarray:
    """:func:`musclesim.tone.coupling_solver` of the model's coupling (cached on the model)."""
    if "coupling_solver" not in model._cache:
        model._cache["coupling_solver"] = coupling_solver(_coupling(model))
    return model._cache["coupling_solver"]


#: Joints where a contracture is measured clinically, preferred when a muscle crosses one.
LIMB_JOINTS = ("hip", "knee", "ankle")


def tightness_joints(model: Model) -> dict[str, tuple[str, float]]:
    """Each muscle's main joint and its moment arm there (m) at the baseline: where tightness is measured.

    A muscle crossing a limb joint with a moment arm of at least 1 cm is measured there (the
    largest such arm: hip for the psoas and the hamstrings, as the Thomas and straight-leg-raise
    tests do); otherwise at the joint where its moment arm is largest (trunk muscles).
    """
    if "tightness_joints" not in model._cache:
        arms = baseline(model).moment_arms_m
        out = {}
        for m in model.muscle_ids:
            limb = {j: abs(r) for j, r in arms[m].items() if j in LIMB_JOINTS and abs(r) >= 0.01}
            pool = limb or {j: abs(r) for j, r in arms[m].items()}
            j = max(pool, key=pool.get)
            out[m] = (j, pool[j])
        model._cache["tightness_joints"] = out
    return model._cache["tightness_joints"]


def tendon_lengths(model: Model, tightness: Mapping[str, float] | None) -> np.ndarray:
    """Musculotendon rest lengths (m) with tightness applied.

    A contracture of theta degrees shortens the muscle-tendon unit by the length its main joint's
    motion through theta changes it (moment arm x theta): the muscle then pulls at the standing
    pose as a normal one would theta degrees further into the stretching direction -- with its
    passive force and its tone-dependent stiffness, so tightness matters at standing length.
    """
    from .tone import resolve_tightness

    lt = prepare(model).chain.l_tendon_m.copy()
    deg = resolve_tightness(model, tightness)
    if deg:
        joints = tightness_joints(model)
        idx = {m: i for i, m in enumerate(model.muscle_ids)}
        for m, d in deg.items():
            lt[idx[m]] -= joints[m][1] * np.radians(d)
    return lt


def simulate(model: Model, tone: Mapping[str, float] | None = None, position: str = "standing", *,
             tightness: Mapping[str, float] | None = None, coupling: bool = True, frames: bool = True) -> Result:
    """Solve the posture of ``model`` with resting ``tone`` in ``position``.

    Parameters
    ----------
    model : Model
        From :func:`musclesim.load_model`.
    tone : mapping of str to float, optional
        Absolute resting activation in [0, 1] by muscle id, bilateral name or group name;
        muscles not named keep their default tone.
    position : str
        ``"standing"``.
    coupling : bool
        Propagate the tone change to related muscles (reciprocal inhibition, co-activation).
        False isolates the pure mechanics.
    tightness : mapping of str to float, optional
        Contracture per muscle (same names as ``tone``) in degrees of range of motion lost at the
        muscle's main joint (:func:`tightness_joints`), 0 to 45; separate from tone.
    frames : bool
        Keep the propagation frames (coupling iterates and the postures at 25/50/75/100 % of
        the way from the baseline); they are built when first read.

    Returns
    -------
    Result

    Raises
    ------
    UnknownMuscleError
        A name in ``tone`` is not a muscle or group (the message suggests close names).
    ToneRangeError
        A tone is not a number in [0, 1].
    TightnessRangeError
        A tightness is not a number of degrees in [0, 45].
    UnknownPositionError
        ``position`` is not one of :data:`POSITIONS`.
    TypeError
        ``tone`` or ``tightness`` is not a mapping.
    """
    _check_position(position)
    if position != "standing":
        res = _simulate_lying(model, tone, tightness, position, coupling, frames, base=baseline(model, position))
        res._state["coupling"] = bool(coupling)  # for Result.split
        return res
    mech = prepare(model)
    t = tone_vector(model, tone)
    t0 = tone_vector(model, None)
    base = baseline(model, position)
    if coupling:
        act = coupled(t, t0, _coupling(model), _coupling_solver(model))
        coupling_frames = partial(_coupling_iterates, t, t0, _coupling(model))
    else:
        act, coupling_frames = t, partial(list, [t])
    ids = model.muscle_ids
    b_eq: Equilibrium = base._state["eq"]
    lt0 = mech.chain.l_tendon_m
    lt1 = tendon_lengths(model, tightness)
    path = follow(mech, t0, act, b_eq.q, b_eq.lam, b_eq.jacobian, tendon_m=lt1)
    eq = path.final
    straight = StraightPath(mech, t0, act, lt0, lt1, path.fractions, path.states) if path.ok else None
    moved = not (np.array_equal(act, t0) and np.array_equal(lt1, lt0))
    out_frames: Sequence[Frame] = ()
    if frames:  # built when first read (the dashboard reads them; scripts rarely do)
        out_frames = LazySequence(partial(path_frames, straight if moved else None, coupling_frames, ids,
                                        mech.chain.dof_names, _frame_metrics))
    message = eq.message
    if not path.ok:
        message = (f"cannot stand: no standing posture connected to the baseline at this tone; the equilibrium was "
                   f"followed {100 * path.reached:.0f}% of the way from the resting tone and then lost ({eq.message}); "
                   f"the body would have to snap to another posture (for example a buckling knee) or could not stand")
    elif path.ok:
        beyond = range_violations(mech.model, eq.q)
        if beyond:
            message += "; beyond the range of motion: " + ", ".join(beyond)
    eq = Equilibrium(eq.q, eq.lam, eq.converged and path.ok, eq.stable and path.ok, path.iterations,
                     eq.residual_Nm, eq.goal_residual, eq.min_stiffness_eig, message)
    out = _result(with_tendons(mech, lt1), position, dict(tone or {}), act, eq, base, out_frames,
                  tightness=dict(tightness or {}))
    out._state["path"] = straight
    out._state["coupling"] = bool(coupling)  # for Result.split
    return out


def _requested_activation(result: Result) -> np.ndarray:
    """The activation the request asks for before any coupling (what coupling=False would use)."""
    model = result._state["mech"].model
    if result.position == "standing":
        return tone_vector(model, result.tone)
    from .positions import POSITIONS as POS

    t, _ = _lying_tone(model, result.tone, POS[result.position].tone_scale)
    return np.clip(t, 0.0, 1.0)



def _coupling_iterates(t: np.ndarray, t0: np.ndarray, W: np.ndarray) -> list[np.ndarray]:
    return couple(t, t0, W)[1]


def _frame_metrics(mech: Mechanics, q: np.ndarray, lam: np.ndarray, act: np.ndarray) -> dict[str, float]:
    return _pose_measures(mech, q, lam, act)[0]


def _pose_measures(mech: Mechanics, q: np.ndarray, lam: np.ndarray, act: np.ndarray):
    """The sagittal measures of a solved standing pose, the muscle forces (N, with the regulating
    trunk muscle's extra force) and the moment arms (m): (metrics, force, arm)."""
    points, joints, lengths, arm, trunk_dir = pose_geometry(mech, q[None])
    force = total_force(mech, muscle_force_N(mech, act, lengths[0]), lam)
    metrics = measure(mech.chain, points[0], joints[0], q, force, arm[0], lam, trunk_dir[0],
                      hip_extension_limit_deg(mech))
    return metrics, force, arm[0]


def range_violations(model: Model, q: np.ndarray) -> list[str]:
    """Joints of a solved pose outside their range of motion (model file), as readable strings."""
    names = prepare(model).chain.dof_names
    lo, hi = range_bounds_deg(model)
    deg = np.degrees(q)
    return [f"{names[j]} {deg[j]:.1f} deg (range {lo[j]:g} to {hi[j]:g})"
            for j in np.flatnonzero(~((lo <= deg) & (deg <= hi)))]


def range_bounds_deg(model: Model) -> np.ndarray:
    """(2, n): each joint's range of motion (deg, model file), lower then upper bound, in the
    chain's joint order (cached on the model)."""
    if "ranges_deg" not in model._cache:
        names = prepare(model).chain.dof_names
        model._cache["ranges_deg"] = np.array([model.joint(name).range_deg for name in names], dtype=float).T
    return model._cache["ranges_deg"]


def hip_extension_limit_deg(mech: Mechanics) -> float:
    """The hip's extension limit (deg, negative = extension) with the hip flexors' tightness.

    The joint's normal limit (model file) moves toward flexion by the largest contracture among
    the muscles measured at the hip with a flexing moment arm -- the Thomas test's definition of a
    hip flexor contracture -- so a tight psoas shortens the stride proxy
    ``hip_extension_reserve_*_deg``.
    """
    model = mech.model
    limit = model.joint("hip").range_deg[0]
    base = prepare(model).chain.l_tendon_m
    short = base - mech.chain.l_tendon_m
    if not np.any(short > 0):
        return limit
    joints = tightness_joints(model)
    arms = baseline(model).moment_arms_m
    lost = [np.degrees(short[i] / joints[m][1]) for i, m in enumerate(model.muscle_ids)
            if short[i] > 0 and joints[m][0] == "hip" and arms[m].get("hip", 0.0) > 0]
    return limit + max(lost, default=0.0)


def _result(mech: Mechanics, position: str, tone: dict, act: np.ndarray, eq: Equilibrium,
            base: Result | None, frames: Sequence, tightness: dict | None = None) -> Result:
    c = mech.chain
    ids = c.muscle_names
    measured, force, arm = _pose_measures(mech, eq.q, eq.lam, act)
    lateral = None
    if eq.ok:
        metrics = measured
        metrics.update(dict.fromkeys(LATERAL_MEASURES, 0.0))
        if not is_mirror_symmetric(mech.model, act, c.l_tendon_m):  # else zero by symmetry: nothing to solve
            lateral = solve_lateral(mech, eq.q, act, eq.lam)
            metrics.update({k: lateral.metrics[k] for k in LATERAL_MEASURES})
    else:
        from .metrics import MEASURES

        metrics = dict.fromkeys(MEASURES, float("nan"))
    if lateral is not None:
        for side in ("left", "right"):  # the pelvis turned on one thigh flexes it, on the other extends it
            metrics[f"hip_extension_reserve_{side}_deg"] += lateral.metrics[f"hip_flexion_change_{side}_deg"]
        if not (lateral.converged and lateral.stable):
            why = (f"no left-right equilibrium found (residual {lateral.residual_Nm:.2g} N·m after "
                   f"{lateral.iterations} iterations)" if not lateral.converged else
                   "unstable side to side (the frontal/transverse stiffness is not positive definite)")
            eq = Equilibrium(eq.q, eq.lam, eq.converged and lateral.converged, eq.stable and lateral.stable,
                             eq.iterations, eq.residual_Nm, eq.goal_residual, eq.min_stiffness_eig,
                             eq.message + "; " + why)
            metrics = dict.fromkeys(metrics, float("nan"))
    regulation = {
        "ankle_torque_Nm": float(eq.lam[0]), "neck_torque_Nm": float(eq.lam[1]),
        "trunk_extra_force_N": float(eq.lam[2]),
        "trunk_muscle": mech.model.regulation.trunk_extensor if eq.lam[2] >= 0 else mech.model.regulation.trunk_flexor,
    }
    return Result(
        model_name=mech.model.name, position=position, tone=_freeze(tone), tightness=_freeze(tightness or {}),
        activation=_freeze(dict(zip(ids, act.tolist()))), metrics=_freeze(metrics),
        baseline_metrics=base.metrics if base is not None else _freeze(dict(metrics)),
        pose_deg=_freeze(dict(zip(c.dof_names, np.degrees(eq.q).tolist()))),
        moments=LazyMapping(partial(_moment_table, mech, eq.q, act, eq.lam)),
        muscle_force_N=_freeze(dict(zip(ids, force.tolist()))),
        moment_arms_m=LazyMapping(partial(_arm_table, c, arm)),
        regulation=_freeze(regulation), converged=eq.converged, stable=eq.stable, iterations=eq.iterations,
        residual_Nm=eq.residual_Nm, message=eq.message, frames=frames,
        lateral=_freeze(_lateral_summary(lateral) if lateral is not None else (
            {"symmetric": True} if eq.ok and position == "standing" else {})),
        _state={"eq": eq, "act": act, "mech": mech, "graph": mech.model._cache.get("graph"), "lateral": lateral},
    )


def _moment_table(mech: Mechanics, q: np.ndarray, act: np.ndarray, lam: np.ndarray) -> dict[str, Mapping]:
    """Per joint, the moment (N·m) of every contributor at the solved pose (:attr:`Result.moments`):
    each muscle crossing the joint, then the force terms of :data:`musclesim.physics.forces.TERMS`
    that act there (the rows of :func:`musclesim.physics.residual.contributions`)."""
    from .physics import compiled_model, forces, residual

    c = mech.chain
    cm, st = compiled_model(mech)
    table = residual.contributions(cm, st, np.concatenate((q, lam)), np.ascontiguousarray(act, dtype=float),
                                   c.l_tendon_m)
    M = len(c.muscle_names)
    moments: dict[str, Mapping] = {}
    for j, joint in enumerate(c.dof_names):
        row = {m: float(table[i, j]) for i, m in enumerate(c.muscle_names) if st.touch[i, j]}
        for t, name in enumerate(forces.TERMS):
            v = float(table[M + t, j])
            if name in ("gravity", "passive") or v != 0.0:
                row[name] = v
        moments[joint] = _freeze(row)
    return moments


def _arm_table(c, arm: np.ndarray) -> dict[str, Mapping]:
    """Per muscle, its moment arm (m) about each joint it crosses (:attr:`Result.moment_arms_m`)."""
    return {m: _freeze({j: float(arm[i, jj]) for jj, j in enumerate(c.dof_names) if abs(arm[i, jj]) > 1e-9})
            for i, m in enumerate(c.muscle_names)}


def _lateral_summary(lat) -> dict:
    out = {}
    for name, v in zip(lat.coordinates, lat.x):
        out[name.replace("_m", "_mm") if name.endswith("_m") else name + "_deg"] = float(
            1000.0 * v if name.endswith("_m") else np.degrees(v))
    out.update(balance_torque_Nm=lat.balance_torque_Nm, trunk_side_force_N=lat.trunk_side_force_N,
               residual_Nm=lat.residual_Nm, iterations=lat.iterations,
               converged=lat.converged, stable=lat.stable, contributions=_freeze({k: _freeze(v) for k, v in lat.contributions.items()}))
    return out


def _geometry(mech: Mechanics, q: np.ndarray) -> dict:
    from .chain import kinematics

    c = mech.chain
    p, _, P, _ = kinematics(c, q[None], derivatives=False)
    p, P = p[0].tolist(), P[0].tolist()
    S = len(c.seg_names)
    joints = {c.dof_names[c.seg_dof[s]]: tuple(P[s]) for s in range(1, S)}
    segments = {}
    for s in range(S):
        ends = [tuple(P[k]) for k in range(S) if c.seg_parent[k] == s]
        segments[c.seg_names[s]] = [tuple(P[s])] + (ends or [tuple(p[s])])
    landmarks = {f"{seg}.{name}": tuple(p[i]) for (seg, name), i in c.landmark_index.items()}
    muscles: dict[str, list] = {}
    for k in range(len(c.pair_i0)):
        m = c.muscle_names[c.pair_muscle[k]]
        pts = muscles.setdefault(m, [tuple(p[c.pair_i0[k]])])
        pts.append(tuple(p[c.pair_i1[k]]))
    mass = c.seg_mass_kg / c.seg_mass_kg.sum()
    com = tuple((mass @ np.array(p[:S])).tolist())
    return {"joints": joints, "segments": segments, "landmarks": landmarks, "muscles": muscles, "com": com}


def _lying_tone(model: Model, tone, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(requested tone, resting tone) when lying: muscles not set rest at ``scale`` x standing tone."""
    from .tone import resolve

    t0 = tone_vector(model, None) * scale
    t = t0.copy()
    idx = {m: i for i, m in enumerate(model.muscle_ids)}
    for m, v in resolve(model, tone).items():
        t[idx[m]] = v
    return t, t0


def lying_metrics(mech: Mechanics, contact, z: np.ndarray, act: np.ndarray) -> dict[str, float]:
    """Measures of a lying state ``z`` (see :mod:`musclesim.positions`) in the body's frame relative
    to the floor, as on an examination table (floor normal -> x, along the floor -> y)."""
    from .metrics import measure_batch
    from .positions import residual

    n = mech.n
    _, det = residual(mech, contact, z, act, mech.chain.l_tendon_m, detail=True)
    nrm, phi = det["normal"], det["phi"]
    R = np.stack((nrm, np.array([np.sin(phi), np.cos(phi)])))
    vals = measure_batch(mech.chain, (det["points"] @ R.T)[None], (det["joints"] @ R.T)[None], z[None, :n],
                         det["force_N"][None], det["moment_arm_m"][None], np.zeros((1, 3)), np.zeros((1, n)),
                         hip_extension_limit_deg(mech), gravity_dir=np.array([-1.0, 0.0]))
    metrics = {k: float(v[0]) for k, v in vals.items()}
    metrics["com_anterior_mm"] = float("nan")  # a standing measure: no meaning lying
    metrics["balance_effort_Nm"] = 0.0
    from .lateral import LATERAL_MEASURES

    metrics.update({k: float("nan") for k in LATERAL_MEASURES})  # the frontal model is a standing one
    return metrics


def _with_all_contacts(z: np.ndarray, contact, pos, n: int) -> np.ndarray:
    """State vector for the full contact set from one for a subset (released contacts at 0 N)."""
    if contact.contacts == pos.contacts:  # all contacts (always so for compliant contacts, z = [q, phi, d, s])
        return z
    forces = dict(zip(contact.contacts, z[n + 2:]))
    return np.concatenate((z[:n + 2], [forces.get(c_, 0.0) for c_ in pos.contacts]))


def _simulate_lying(model: Model, tone, tightness, position: str, coupling: bool, frames: bool,
                    base: Result | None) -> Result:
    """Lying positions: floor contacts instead of regulation (:mod:`musclesim.positions`)."""
    from .metrics import MEASURES
    from .positions import POSITIONS as POS
    from .positions import initial_guess, residual, solve_with_lift_off

    pos = POS[position]
    mech = lying(prepare(model))  # the pressure's rest part lying
    n = mech.n
    t, t0 = _lying_tone(model, tone, pos.tone_scale)
    act = couple(t, t0, _coupling(model))[0] if coupling else t
    lt0 = mech.chain.l_tendon_m
    lt1 = tendon_lengths(model, tightness)
    z = base._state["z"] if base is not None else initial_guess(mech, pos)
    a0 = base._state["act"] if base is not None else act
    contact = base._state["position"] if base is not None else pos
    steps = [1.0] if base is None else [k / 4 for k in range(1, 5)]
    iterations, ok, stable, message = 0, False, False, ""
    out_frames: list[Frame] = []
    ids = model.muscle_ids
    path = [(a0, lt0, z, contact)]  # the states passed, for explanations
    for k, frac in enumerate(steps, start=1):
        a = a0 + frac * (act - a0)
        lt = lt0 + frac * (lt1 - lt0)
        # start each step from all contacts: a point that lifted may touch down again
        z_full = _with_all_contacts(z, contact, pos, mech.n)
        z, ok, stable, it, message, contact = solve_with_lift_off(with_tendons(mech, lt), pos, a, lt, z_full,
                                                                  start=(contact, z))
        iterations += it
        if not (ok and stable):
            break
        path.append((a, lt, z, contact))
        if frames and len(steps) > 1:
            out_frames.append(Frame("posture", k, frac, _freeze(dict(zip(ids, a.tolist()))),
                                    _freeze(dict(zip(mech.chain.dof_names, np.degrees(z[:n]).tolist())))))
    r, det = residual(mech, contact, z, act, lt1, detail=True)
    good = ok and stable
    c = mech.chain
    if good:
        metrics = lying_metrics(with_tendons(mech, lt1), contact, z, act)
    else:
        metrics = {k: float("nan") for k in MEASURES}
        if ok and not stable:
            message = message or "unstable"
    F = det["force_N"]
    rr = det["moment_arm_m"]
    moments = {}
    for j, joint in enumerate(c.dof_names):
        row = {m: float(F[i] * rr[i, j]) for i, m in enumerate(ids) if abs(rr[i, j]) > 1e-9}
        row["gravity"] = float(det["Q_gravity"][j])
        row["passive"] = float(det["Q_passive"][j])
        row["floor contact"] = float(det["Q_contact"][j])
        moments[joint] = _freeze(row)
    forces = dict(zip(contact.contacts, det["contact_N"]))
    contacts = {f"contact:{s_}.{lm}_N": float(forces.get((s_, lm, h_), 0.0)) for s_, lm, h_ in pos.contacts}
    if pos.compliant and good:
        from .positions import friction_needed

        contacts.update({f"contact:{s_}.{lm}_shear_N": float(t_) for (s_, lm, _), t_ in zip(pos.contacts, det["shear_N"])
                         if f"{s_}.{lm}" in pos.anchored})
        contacts.update({f"friction_needed:{k}": float(v) for k, v in friction_needed(pos, det).items()})
        slip = [k for k, v in friction_needed(pos, det).items() if v > pos.friction_limit]
        if slip:
            message += (f"; the {' and '.join(slip)} would need a friction coefficient above {pos.friction_limit:g} "
                        "to stay put (they would slide on a real floor)")
    eq = Equilibrium(z[:n], np.zeros(3), bool(ok), bool(good), iterations, float(np.max(np.abs(r[:n]))),
                     float(np.max(np.abs(r[n:]))), float("nan"), message)
    res = Result(
        model_name=model.name, position=position, tone=_freeze(dict(tone or {})), tightness=_freeze(dict(tightness or {})),
        activation=_freeze(dict(zip(ids, act.tolist()))), metrics=_freeze(metrics),
        baseline_metrics=base.metrics if base is not None else _freeze(dict(metrics)),
        pose_deg=_freeze(dict(zip(c.dof_names, np.degrees(z[:n]).tolist()))), moments=_freeze(moments),
        muscle_force_N=_freeze(dict(zip(ids, F.tolist()))),
        moment_arms_m=_freeze({m: _freeze({j: float(rr[i, jj]) for jj, j in enumerate(c.dof_names)
                                            if abs(rr[i, jj]) > 1e-9}) for i, m in enumerate(ids)}),
        regulation=_freeze(contacts), converged=bool(ok), stable=bool(good), iterations=iterations,
        residual_Nm=eq.residual_Nm, message=message, frames=tuple(out_frames),
        _state={"eq": eq, "act": act, "mech": with_tendons(mech, lt1), "graph": model._cache.get("graph"), "z": z,
                "position": contact, "tendon": lt1, "lying_path": path,
                "floor_frame": (det["normal"], np.array([np.sin(det["phi"]), np.cos(det["phi"])]), float(z[n + 1]))},
    )
    return res
