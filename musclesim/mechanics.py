"""Static equilibrium of the sagittal chain with postural regulation (DESIGN section 5).

The problem
-----------
At fixed activation ``a`` every muscle force depends only on its length, so muscles, gravity and
passive joint structures all have potentials: their generalised forces (joint moments, N·m,
flexion positive) are ``Q(q) = -dV/dq``. Standing is not passively stable, so three postural goals
are held by real actuators (DESIGN section 5, "regulation"):

* the whole-body centre of mass stays ``com_anterior_of_ankle_m`` ahead of the ankle
  -- by an ankle torque ``lam[0]`` (calf or shin muscles; a pure ankle moment);
* gaze stays level (head-neck segment at its reference pitch) -- by a neck torque ``lam[1]``;
* the rib cage stays upright (lower thorax at its reference pitch) -- by extra trunk-muscle force
  ``lam[2]`` (N, both sides together) along the erector spinae's path when positive, along the
  rectus abdominis' path when negative, so it acts on every joint those muscles cross with their
  own moment arms (never as a fictitious torque on a single joint).

The unknowns are the joint angles ``q`` (n) and the efforts ``lam`` (3); the equations are the
moment balance ``Q(q) + B(q) lam = 0`` (n) and the goals ``c(q) = 0`` (3). Newton's method with a
backtracking line search solves them, in the compiled core (:mod:`musclesim.physics`); this module
prepares the model for it and holds the force laws. The numpy reference of the same solver, an
oracle the tests compare the compiled core to, is ``tests/reference/numpy_mechanics.py``.

A posture is accepted only if it is stable: the stiffness ``K = -dQ/dq`` (including the change of
the regulating muscle's moment arms) reduced to the motions that keep the goals,
``Z^T sym(K) Z`` with ``Z`` a basis of ``null(dc/dq)``, must be positive definite (DESIGN: "a
stable posture has a positive definite reduced Hessian").

Muscle force (static Hill model, rigid tendon)::

    F = F0 * (a * fL(l~) + fPE(l~)) + gamma * a * F0 * (l~ - l~_ref)      (kept >= 0, smoothly)

``l~`` is fibre length over optimal fibre length; the last term is short-range stiffness
(Cui et al. 2008) anchored at the reference (habitual standing) length, without which the
force-length plateau leaves the posture a saddle (DESIGN section 5 pitfalls).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import math

import numpy as np

from .chain import MMHG_PA, Chain, compile_chain
from .model import Model
from .physics.constants import (  # noqa: F401  (re-exported: their one source is physics.constants)
    CHORD_CONTRACTION,
    CONTINUATION_STEPS,
    DIRECT_CONTRACTION,
    DIRECT_MAX_ITER,
    FIRST_STEP_RAD,
    JUMP_FACTOR,
    JUMP_FLOOR_RAD,
    MAX_HALVINGS,
    MAX_ITER,
    MAX_STEP_RAD,
    PASSIVE_ONSET,
    PATH_TOL_FACTOR,
    SMOOTH_FORCE_N,
    TOL_GOAL,
    TOL_MOMENT_NM,
    TRUNK_BLEND_N,
)


@dataclass(frozen=True, eq=False)
class Mechanics:
    """A model prepared for solving: its chain plus the indices the regulation needs."""

    model: Model
    chain: Chain
    passive: tuple  # per dof: (constant, linear per deg, exp terms array (k, 3))
    ankle_dof: int
    neck_dof: int
    upright_seg: int
    gaze_seg: int
    extensor_idx: np.ndarray  # muscle indices of the regulating trunk extensor (both sides)
    flexor_idx: np.ndarray
    com_target_x_m: float
    gamma: float
    fl_width: float
    pe_strain: float
    pe_shape: float
    regulated: bool = True  # False: no postural goals (a hand-checkable passive system, for tests)
    #: rad per N: the rib cage's goal is ``pitch - c lam[2] = 0`` (a spring of stiffness 1/c on the
    #: upright segment's pitch, realised by trunk-muscle force); 0 holds the pitch at exactly 0.
    upright_compliance_rad_per_N: float = 0.0
    #: N: the trunk effort of the habitual posture (the hard-goal baseline at resting tone), the
    #: regulator's set point: ``pitch - c (lam[2] - ref) = 0`` keeps the baseline where it was.
    upright_effort_ref_N: float = 0.0
    #: the knees' postural spring in standing (``Regulation.knee_*``): joint index (-1: none) and
    #: stiffness, N·m/rad for the joint as modelled (both sides of a bilateral knee)
    knee_dof: int = -1
    knee_stiffness_Nm_per_rad: float = 0.0
    passive_arrays: tuple = ()  # the passive laws as padded arrays (constant, linear, s, a, b, coupling)
    _local: dict = field(default_factory=dict, repr=False)  # per-instance cache (the compiled model)

    @property
    def n(self) -> int:
        return len(self.chain.dof_names)

    @property
    def k(self) -> int:
        """Number of postural goals (and regulating efforts)."""
        return 3 if self.regulated else 0


def prepare(model: Model, regulated: bool = True) -> Mechanics:
    """Compile ``model`` for the solver (cached on the model object, which is immutable).

    ``regulated=False`` drops the postural goals: the equilibrium of muscles, gravity and passive
    structures alone (used by the hand-solvable oracle tests).
    """
    key = ("mechanics", regulated)
    cached = model._cache.get(key)
    if cached is not None:
        return cached
    chain = compile_chain(model)
    joints = {j.id: j for j in model.joints}
    passive = tuple(
        (joints[d].passive.constant_Nm, joints[d].passive.linear_Nm_per_deg,
         np.array(joints[d].passive.exp_terms, dtype=float).reshape(-1, 3))
        for d in chain.dof_names)
    reg = model.regulation
    names = model.names()
    idx = {m: i for i, m in enumerate(chain.muscle_names)}
    mm = model.muscle_model
    if regulated:
        where = dict(
            ankle_dof=chain.dof_names.index(reg.ankle_joint), neck_dof=chain.dof_names.index(reg.neck_joint),
            upright_seg=chain.seg_names.index(reg.upright_segment), gaze_seg=chain.seg_names.index(reg.gaze_segment),
            extensor_idx=np.array([idx[m] for m in names[reg.trunk_extensor]]),
            flexor_idx=np.array([idx[m] for m in names[reg.trunk_flexor]]),
            com_target_x_m=chain.ankle_x_m + reg.com_anterior_of_ankle_m)
        if reg.knee_joint is not None and reg.knee_stiffness_Nm_per_deg > 0:
            kd = chain.dof_names.index(reg.knee_joint)
            where.update(knee_dof=kd, knee_stiffness_Nm_per_rad=float(
                reg.knee_stiffness_Nm_per_deg * 180.0 / math.pi * chain.dof_bilateral[kd]))
    else:
        where = dict(ankle_dof=0, neck_dof=0, upright_seg=0, gaze_seg=0, extensor_idx=np.zeros(0, int),
                     flexor_idx=np.zeros(0, int), com_target_x_m=0.0)
    T = max((len(t) for _, _, t in passive), default=0)
    terms = np.zeros((len(passive), max(T, 1), 3))
    coupling = np.zeros((len(passive), max(T, 1), len(passive)))  # exponent per degree of another joint
    for j, (_, _, t) in enumerate(passive):
        terms[j, :len(t)] = t
        for other, coef in joints[chain.dof_names[j]].passive.exp_coupling:
            coupling[j, :len(coef), chain.dof_names.index(other)] = coef
    arrays = (np.array([p[0] for p in passive]), np.array([p[1] for p in passive]),
              terms[..., 0], terms[..., 1], terms[..., 2], coupling)
    mech = Mechanics(
        model=model, chain=chain, passive=passive, passive_arrays=arrays, **where,
        gamma=mm.short_range_stiffness_gamma, fl_width=mm.force_length_width,
        pe_strain=mm.passive_strain_at_F0, pe_shape=mm.passive_shape, regulated=regulated,
    )
    if regulated and reg.upright_gain_N_per_deg is not None:
        mech = _soft_upright(mech, reg.upright_gain_N_per_deg)
    model._cache[key] = mech
    return mech


def _soft_upright(mech: Mechanics, gain_N_per_deg: float) -> Mechanics:
    """``mech`` with the rib cage regulated by a spring of ``gain_N_per_deg`` about its habitual
    posture: the set point is the trunk effort of the hard-goal baseline at resting tone (so the
    baseline is the same posture either way; only the responses differ)."""
    act = np.array([mech.model.default_tone[m] for m in mech.model.muscle_ids], dtype=float)
    eq = solve(mech, act)
    ref = float(eq.lam[2]) if eq.converged else 0.0
    return replace(mech, upright_compliance_rad_per_N=math.pi / 180.0 / gain_N_per_deg,
                   upright_effort_ref_N=ref, _local={})


# ----------------------------------------------------------------------------- forces
def muscle_force_N(mech: Mechanics, act: np.ndarray, l_mt: np.ndarray, tendon_m: np.ndarray | None = None) -> np.ndarray:
    """Static muscle force (N) for activations ``act`` (..., M) and path lengths ``l_mt`` (..., M);
    ``tendon_m`` (..., M) overrides the tendon rest lengths (tightness)."""
    c = mech.chain
    lt = (l_mt - (c.l_tendon_m if tendon_m is None else tendon_m)) / c.l_opt_m
    fl = np.exp(-(((lt - 1.0) / mech.fl_width) ** 2))
    k = mech.pe_shape
    # smooth onset of passive force at the slack length (a kink would stall Newton's method)
    stretch = PASSIVE_ONSET * np.logaddexp(0.0, (lt - c.slack_norm) / PASSIVE_ONSET)
    fpe = (np.exp(k * stretch / mech.pe_strain) - 1.0) / (np.exp(k) - 1.0)
    raw = c.F0_N * (act * fl + fpe + mech.gamma * act * (lt - c.l_ref_norm))
    return 0.5 * (raw + np.sqrt(raw * raw + SMOOTH_FORCE_N**2))


def muscle_force_slope_N_per_m(mech: Mechanics, act: np.ndarray, l_mt: np.ndarray) -> np.ndarray:
    """dF/dl (N/m) of :func:`muscle_force_N`, same shapes."""
    c = mech.chain
    lt = (l_mt - c.l_tendon_m) / c.l_opt_m
    fl = np.exp(-(((lt - 1.0) / mech.fl_width) ** 2))
    dfl = fl * (-2.0 * (lt - 1.0) / mech.fl_width**2)
    k = mech.pe_shape
    x = (lt - c.slack_norm) / PASSIVE_ONSET
    stretch = PASSIVE_ONSET * np.logaddexp(0.0, x)
    dfpe = np.exp(k * stretch / mech.pe_strain) * (k / mech.pe_strain) / (np.exp(k) - 1.0) * (0.5 * (1 + np.tanh(x / 2)))
    fpe = (np.exp(k * stretch / mech.pe_strain) - 1.0) / (np.exp(k) - 1.0)
    raw = c.F0_N * (act * fl + fpe + mech.gamma * act * (lt - c.l_ref_norm))
    draw = c.F0_N * (act * dfl + dfpe + mech.gamma * act) / c.l_opt_m
    return 0.5 * (1.0 + raw / np.sqrt(raw * raw + SMOOTH_FORCE_N**2)) * draw


def trunk_forces_N(lam_trunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Extra force (N, both sides) of the regulating trunk extensor and flexor for effort ``lam``.

    ``f_ext - f_flx = lam`` exactly, with ``f = TRUNK_BLEND_N * softplus(±lam / TRUNK_BLEND_N)``:
    positive effort is carried by the extensor, negative by the flexor, and the hand-over near
    zero is smooth (a few newtons of co-contraction) so Newton's method sees no kink.
    """
    x = lam_trunk / TRUNK_BLEND_N
    f_ext = TRUNK_BLEND_N * np.logaddexp(0.0, x)
    return f_ext, f_ext - lam_trunk


def total_force(mech: Mechanics, force_N: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Muscle forces (..., M) plus the regulating trunk muscles' extra force, split over the sides."""
    out = np.array(force_N, dtype=float, copy=True)
    if not mech.regulated:
        return out
    f_ext, f_flx = trunk_forces_N(np.asarray(lam)[..., 2])
    out[..., mech.extensor_idx] += (np.asarray(f_ext) / len(mech.extensor_idx))[..., None]
    out[..., mech.flexor_idx] += (np.asarray(f_flx) / len(mech.flexor_idx))[..., None]
    return out


def passive_moment_Nm(mech: Mechanics, q: np.ndarray) -> np.ndarray:
    """Passive joint moments (B, n), N·m, both sides of bilateral joints together."""
    deg = np.degrees(q)
    c0, k, s, a, b, cpl = mech.passive_arrays
    expo = a + b * deg[..., None] + np.einsum("jtk,...k->...jt", cpl, deg)
    return (c0 + k * deg + np.sum(s * np.exp(expo), axis=-1)) * mech.chain.dof_bilateral


def strut_force_N(mech: Mechanics, force_N: np.ndarray, lam: np.ndarray | None = None) -> np.ndarray:
    """Force (N, ...) of the intra-abdominal pressure's strut: ``A (P_rest + T_wall / (h R))``.

    The abdominal wall's hoop tension ``T_wall = sum_m w_m F_m`` takes each wall muscle's Hill force
    ``force_N`` (..., M) and, when ``lam`` (..., 3) is given, the regulating trunk muscles' extra
    force (both as :func:`total_force` reports them). Zero for a model without pressure.
    """
    c = mech.chain
    if not c.has_pressure:
        return np.zeros(np.shape(force_N)[:-1])
    force_N = np.asarray(force_N)
    T = np.zeros(force_N.shape[:-1])
    for m, w in enumerate(c.iap_weight):  # in muscle order, as the compiled core sums it
        T = T + w * force_N[..., m]
    if lam is not None and mech.regulated:
        f_ext, f_flx = trunk_forces_N(np.asarray(lam)[..., 2])
        T = T + f_ext * c.iap_weight[mech.extensor_idx].mean() + f_flx * c.iap_weight[mech.flexor_idx].mean()
    return c.iap_rest_N + c.iap_gain * T


def pose_geometry(mech: Mechanics, q: np.ndarray, parallel: bool = False):
    """What the measures need at solved poses ``q`` (B, n): points (B, Np, 2), joint centres
    (B, S, 2), muscle-tendon lengths (B, M), moment arms (B, M, n) and the trunk actuator's
    direction (B, n). Compiled (``parallel`` threads for a large batch); no derivative arrays."""
    from .physics import compiled_model, kinematics

    q = np.ascontiguousarray(q, dtype=float)
    cm, st = compiled_model(mech)
    kernel = kinematics.pose_geometry_parallel if parallel else kinematics.pose_geometry_serial
    points, joints, lengths, arm = kernel(cm, st, q)
    trunk_dir = (arm[:, mech.extensor_idx].mean(axis=1) - arm[:, mech.flexor_idx].mean(axis=1) if mech.regulated
                 else np.zeros(q.shape))
    return points, joints, lengths, arm, trunk_dir


# ----------------------------------------------------------------------------- solver
@dataclass(frozen=True)
class Equilibrium:
    """One solve's answer (or its failure, as data)."""

    q: np.ndarray  # (n,) joint angles, rad
    lam: np.ndarray  # (k,) regulation efforts: ankle N·m, neck N·m, trunk muscle force N
    converged: bool
    stable: bool
    iterations: int
    residual_Nm: float  # max |moment residual|
    goal_residual: float
    min_stiffness_eig: float  # smallest eigenvalue of the reduced stiffness, N·m/rad
    message: str
    jacobian: np.ndarray | None = None  # of the equations at the answer (reusable for a nearby solve)

    @property
    def ok(self) -> bool:
        return self.converged and self.stable


def _lengths(mech: Mechanics, p: np.ndarray) -> np.ndarray:
    c = mech.chain
    return np.linalg.norm(p[c.pair_i1] - p[c.pair_i0], axis=1) @ c.pair_onehot


def eliminate_soft_goals(J: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(dQdq, dgoals, soft)`` of the hard goals, from the Jacobian ``J`` of [Q; goals] by [q; lam]
    (``soft``: a soft goal was eliminated).

    A soft goal (a row ``n + r`` with ``J[n + r, n + r] != 0``, like the rib cage's spring
    ``pitch - c lam = 0``) fixes its effort as a function of the pose, ``dlam = -J[n+r, :n] dq / c'``;
    substituting it (a Schur complement) adds the regulator's stiffness to ``dQ/dq``. The hard goals
    (zero diagonal) stay constraints. Same algebra as :func:`musclesim.physics.newton.min_reduced_eig`.
    """
    dQdq = np.array(J[:n, :n], dtype=float)
    hard = []
    for r in range(n, J.shape[0]):
        d = J[r, r]
        if d != 0.0:
            dQdq -= np.outer(J[:n, r], J[r, :n]) / d
        else:
            hard.append(r)
    return dQdq, (J[hard, :n] if hard else np.zeros((0, n))), len(hard) < J.shape[0] - n


def reduced_stiffness(dQdq: np.ndarray, dgoals: np.ndarray, symmetric: bool = True) -> np.ndarray:
    """Eigenvalues (ascending) of the stiffness restricted to motions that keep the goals, as
    :func:`musclesim.physics.newton.min_reduced_eig` tests it.

    ``dQdq`` (n, n) is the derivative of the net joint moments; ``dgoals`` (k, n) the goals'
    gradients; ``Z`` spans ``null(dgoals)``. The stiffness is ``K = -sym(dQdq)``, or with
    ``symmetric=False`` (a soft goal eliminated) ``-dQdq`` and the real parts of its eigenvalues.
    """
    n = dQdq.shape[0]
    if dgoals.shape[0]:
        _, sv, vt = np.linalg.svd(dgoals)
        rank = int(np.sum(sv > 1e-12 * max(sv.max(), 1.0)))
        Z = vt[rank:].T
    else:
        Z = np.eye(n)
    if symmetric:
        K = -0.5 * (dQdq + dQdq.T)
        return np.linalg.eigvalsh(Z.T @ K @ Z)
    K = -np.asarray(dQdq, dtype=float)
    return np.sort(np.linalg.eigvals(Z.T @ K @ Z).real)


def solve(mech: Mechanics, act: np.ndarray, q0: np.ndarray | None = None, lam0: np.ndarray | None = None,
          max_iter: int = MAX_ITER, jacobian: np.ndarray | None = None, check: bool = True) -> Equilibrium:
    """Find the regulated static equilibrium for activations ``act`` (M,), starting at (q0, lam0).

    Always runs the compiled Newton driver (:func:`musclesim.physics.newton.solve`), whatever
    :func:`musclesim._backend.compiled` says: the package has no other standing solver. Its numpy
    reference, solving the same equations the same way, is ``solve_numpy`` in
    ``tests/reference/numpy_mechanics.py`` (an oracle: tests check they agree).
    """
    from .physics import compiled_model, floor_of, newton
    from .physics.compiled import settings

    n, k = mech.n, mech.k
    q = np.zeros(n) if q0 is None else np.asarray(q0, dtype=float)
    lam = np.zeros(k) if lam0 is None else np.asarray(lam0, dtype=float)
    cm, st = compiled_model(mech)
    J0 = np.zeros((n + k, n + k)) if jacobian is None else np.ascontiguousarray(jacobian, dtype=float)
    z, R, it, J, has_J = newton.solve(cm, st, floor_of(mech), np.concatenate((q, lam)), np.ascontiguousarray(act, dtype=float),
                                      mech.chain.l_tendon_m, J0, jacobian is not None, check,
                                      settings()._replace(max_iter=int(max_iter)), not check)
    return _finish(mech, act, z[:n], z[n:], int(it), J if has_J else None, R, loose=not check)


def _finish(mech: Mechanics, act: np.ndarray, q: np.ndarray, lam: np.ndarray, it: int,
            J: np.ndarray | None, residual: np.ndarray, loose: bool = False,
            min_eig: float | None = None) -> Equilibrium:
    """Residual, convergence and stability verdict of a solver's end point (of the compiled driver,
    and of the numpy reference in ``tests/reference/numpy_mechanics.py``).

    ``residual`` is [Q; goals] at the end point, as the solver computed it; the smallest
    reduced-stiffness eigenvalue comes from ``J`` unless the compiled path gives ``min_eig``.
    """
    n, k = mech.n, mech.k
    res = float(np.max(np.abs(residual[:n])))
    gres = float(np.max(np.abs(residual[n:]))) if k else 0.0
    finite = bool(np.all(np.isfinite(q)) and np.isfinite(res))
    f = PATH_TOL_FACTOR if loose else 1.0
    converged = bool(finite and res < f * TOL_MOMENT_NM and gres < f * TOL_GOAL)
    if not finite or np.max(np.abs(q)) > np.pi:
        return Equilibrium(q, lam, False, False, it, float("inf"), float("inf"), float("nan"),
                           "diverged: the joint angles left any plausible range")
    if J is None:  # converged by quasi-Newton steps and no check wanted
        return Equilibrium(q, lam, converged, converged, it, res, gres, float("nan"),
                           "converged (stability not checked)" if converged else
                           f"not converged after {it} iterations (moment residual {res:.2e} N·m)", None)
    if min_eig is None or not np.isfinite(min_eig):
        dQdq, dgoals, soft = eliminate_soft_goals(J, n)
        eig = reduced_stiffness(dQdq, dgoals, symmetric=not soft)
        min_eig = float(eig[0]) if eig.size else float("inf")
    min_eig = float(min_eig)
    stable = bool(converged and min_eig > 0)
    if not converged:
        msg = f"not converged after {it} iterations (moment residual {res:.2e} N·m)"
    elif not stable:
        msg = f"unstable equilibrium (reduced stiffness eigenvalue {min_eig:.3g} N·m/rad <= 0): a saddle, not a posture"
    else:
        msg = "converged to a stable posture"
    return Equilibrium(q, lam, converged, stable, it, res, gres, min_eig, msg, J)


# ----------------------------------------------------------------------------- continuation
@dataclass(frozen=True)
class Path:
    """A continuation from the baseline: the equilibria passed and the final answer."""

    ok: bool
    reached: float  # fraction of the way from the baseline activation that was followed
    fractions: tuple[float, ...]  # of each state, starting with 0 (the baseline)
    states: tuple[tuple[np.ndarray, np.ndarray], ...]  # (q, lam) of each state
    final: Equilibrium
    iterations: int


def with_tendons(mech: Mechanics, tendon_m: np.ndarray) -> Mechanics:
    """``mech`` with other tendon rest lengths (m): how tightness (a contracture) enters the model."""
    from dataclasses import replace

    if np.array_equal(tendon_m, mech.chain.l_tendon_m):
        return mech
    # the compiled model and floors do not hold tendon lengths (they are passed beside them): shared
    local = dict(mech._local)
    return replace(mech, chain=replace(mech.chain, l_tendon_m=np.asarray(tendon_m, dtype=float)), _local=local)


def lying(mech: Mechanics) -> Mechanics:
    """``mech`` for the lying positions: the abdominal pressure's rest part lying
    (``AbdominalPressure.lying_rest_mmHg``; the standing one if the model gives none). Cached on
    ``mech``."""
    cached = mech._local.get("lying")
    if cached is not None:
        return cached
    ap = mech.model.abdominal_pressure
    out = mech
    if ap is not None and ap.lying_rest_mmHg is not None and mech.chain.has_pressure:
        out = replace(mech, chain=replace(mech.chain, iap_rest_N=ap.area_m2 * ap.lying_rest_mmHg * MMHG_PA), _local={})
    mech._local["lying"] = out
    return out


def follow(mech: Mechanics, t0: np.ndarray, act: np.ndarray, q0: np.ndarray, lam0: np.ndarray,
           J0: np.ndarray, tendon_m: np.ndarray | None = None, direct: bool = True) -> Path:
    """Follow the equilibrium from the baseline (activation ``t0``, pose ``q0``, efforts ``lam0``,
    Jacobian ``J0``) to activation ``act``.

    With ``direct`` (the default) Newton's method is first tried straight to the answer and kept
    only if it passes the contraction test of :data:`DIRECT_CONTRACTION` (then the path has two
    states, the baseline and the answer); ``direct=False`` always follows the path in steps.

    The activation is ramped in :data:`CONTINUATION_STEPS` equal steps; a step that fails is
    halved (up to :data:`MAX_HALVINGS` times) and the path goes on with the smaller step. Each
    step starts from a secant extrapolation of the last two equilibria and corrects it with
    Broyden updates of the last Jacobian. Only the final
    answer is checked for stability. Following the path keeps the answer on the equilibrium
    connected to the baseline (a single jump can land on another: knee locked or flexed).

    Always the compiled driver (:func:`musclesim.physics.newton.follow`); its numpy reference is
    ``follow_numpy`` in ``tests/reference/numpy_mechanics.py``.
    """
    from .physics import compiled_model, floor_of, newton
    from .physics.compiled import settings

    n = mech.n
    t0 = np.ascontiguousarray(t0, dtype=float)
    act = np.ascontiguousarray(act, dtype=float)
    lt0 = mech.chain.l_tendon_m
    lt1 = lt0 if tendon_m is None else np.ascontiguousarray(tendon_m, dtype=float)
    cm, st = compiled_model(mech)
    ok, reached, ns, fracs, Z, its, Jf, has_J, R, min_eig = newton.follow(
        cm, st, floor_of(mech), t0, np.ascontiguousarray(lt0, dtype=float), act, lt1,
        np.concatenate((np.asarray(q0, float), np.asarray(lam0, float))), np.ascontiguousarray(J0),
        settings(direct))
    states = tuple((Z[i, :n].copy(), Z[i, n:].copy()) for i in range(ns))
    z_end = Z[ns - 1] if ok else Z[ns]
    final = _finish(with_tendons(mech, lt1), act, z_end[:n], z_end[n:], int(its), Jf if has_J else None, R,
                    min_eig=min_eig if ok else None)
    return Path(bool(ok), float(reached), tuple(float(f) for f in fracs[:ns]), states, final, int(its))
