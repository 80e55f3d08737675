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
backtracking line search solves them; the Jacobian's q-block comes from central differences of
the exact moments, so the residual reported is that of the exact equations.

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

from dataclasses import dataclass, field

import numpy as np

from .chain import MMHG_PA, Chain, _lengths_from_points, compile_chain, distal_joint_positions, kinematics
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

#: Steps of the numpy reference's finite-difference Jacobian (rad; N for the trunk effort).
FD_STEP_RAD = 1e-6
FD_STEP_LAM = 1e-4


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
    passive_arrays: tuple = ()  # the passive laws as padded arrays (constant, linear, s, a, b)
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
    else:
        where = dict(ankle_dof=0, neck_dof=0, upright_seg=0, gaze_seg=0, extensor_idx=np.zeros(0, int),
                     flexor_idx=np.zeros(0, int), com_target_x_m=0.0)
    T = max((len(t) for _, _, t in passive), default=0)
    terms = np.zeros((len(passive), max(T, 1), 3))
    for j, (_, _, t) in enumerate(passive):
        terms[j, :len(t)] = t
    arrays = (np.array([p[0] for p in passive]), np.array([p[1] for p in passive]),
              terms[..., 0], terms[..., 1], terms[..., 2])
    mech = Mechanics(
        model=model, chain=chain, passive=passive, passive_arrays=arrays, **where,
        gamma=mm.short_range_stiffness_gamma, fl_width=mm.force_length_width,
        pe_strain=mm.passive_strain_at_F0, pe_shape=mm.passive_shape, regulated=regulated,
    )
    model._cache[key] = mech
    return mech


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
    c0, k, s, a, b = mech.passive_arrays
    return (c0 + k * deg + np.sum(s * np.exp(a + b * deg[..., None]), axis=-1)) * mech.chain.dof_bilateral


def strut_geometry(chain: Chain, p: np.ndarray, dp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Length (B,), unit vector from the pelvic floor to the diaphragm (B, 2) and dl/dq (B, n) of the
    intra-abdominal pressure's strut, from points ``p`` (B, Np, 2) and their derivatives ``dp``."""
    i0, i1 = chain.iap_pts
    d = p[:, i1] - p[:, i0]
    length = np.linalg.norm(d, axis=1)
    u = d / length[:, None]
    return length, u, np.einsum("bc,bnc->bn", u, dp[:, i1] - dp[:, i0])


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


@dataclass(frozen=True)
class Loads:
    """Everything evaluated at a batch of poses."""

    Q: np.ndarray  # (B, n) total generalised force including regulation (the residual)
    goals: np.ndarray  # (B, 3) postural goal violations: COM x (m), gaze pitch, rib-cage pitch (rad)
    points: np.ndarray  # (B, Np, 2)
    force_N: np.ndarray  # (B, M)
    moment_arm_m: np.ndarray  # (B, M, n), -dl/dq
    gravity: np.ndarray  # (B, S, n) per segment
    passive: np.ndarray  # (B, n)
    regulation: np.ndarray  # (B, 3, n)
    dgoals: np.ndarray  # (B, 3, n)
    trunk_dir: np.ndarray  # (B, n) generalised-force direction of the trunk actuator
    joints: np.ndarray  # (B, S, 2) each segment's proximal joint position
    strut: np.ndarray  # (B, n) generalised force of the intra-abdominal pressure's strut (zero without one)
    strut_force_N: np.ndarray  # (B,) the strut's push, area x pressure
    pressure_mmHg: np.ndarray  # (B,) intra-abdominal pressure (0 for a model without one)


def evaluate(mech: Mechanics, q: np.ndarray, act: np.ndarray, lam: np.ndarray) -> Loads:
    """Moments and goal violations at poses ``q`` (B, n) with activations ``act`` (M,) or (B, M)
    and regulation efforts ``lam`` (B, k)."""
    c = mech.chain
    B, n = q.shape
    p, dp, Pj, alpha = kinematics(c, q)
    l, dl = _lengths_from_points(c, p, dp)
    F = muscle_force_N(mech, act, l)
    r = -dl
    S = len(c.seg_names)
    m_g = c.seg_mass_kg * c.gravity
    grav = -m_g[None, :, None] * dp[:, :S, :, 1]  # (B, S, n)
    pas = passive_moment_Nm(mech, q)
    Q = np.einsum("bm,bmn->bn", F, r) + grav.sum(axis=1) + pas
    # intra-abdominal pressure: a strut pushing diaphragm and pelvic floor apart, Q = F_s dl_s/dq
    Fs = strut_force_N(mech, F, lam if mech.regulated else None) * np.ones(B)
    strut = np.zeros((B, n))
    if c.has_pressure:
        strut = Fs[:, None] * strut_geometry(c, p, dp)[2]
        Q = Q + strut
    press = Fs / c.iap_area_m2 / MMHG_PA if c.has_pressure else np.zeros(B)
    if not mech.regulated:
        empty = np.zeros((B, 0, n))
        return Loads(Q, np.zeros((B, 0)), p, F, r, grav, pas, empty, empty, np.zeros((B, n)), Pj, strut, Fs, press)
    ext = r[:, mech.extensor_idx].mean(axis=1)
    flx = r[:, mech.flexor_idx].mean(axis=1)
    f_ext, f_flx = trunk_forces_N(lam[:, 2])
    reg = np.zeros((B, 3, n))
    reg[:, 0, mech.ankle_dof] = lam[:, 0]
    reg[:, 1, mech.neck_dof] = lam[:, 1]
    reg[:, 2] = f_ext[:, None] * ext + f_flx[:, None] * flx
    trunk_dir = ext - flx  # d(moment)/d(lam) far from zero effort, for reporting
    Q = Q + reg.sum(axis=1)
    mass = c.seg_mass_kg / c.seg_mass_kg.sum()
    com_x = p[:, :S, 0] @ mass
    goals = np.stack((com_x - mech.com_target_x_m, alpha[:, mech.gaze_seg], alpha[:, mech.upright_seg]), axis=1)
    dgoals = np.stack((np.einsum("s,bsn->bn", mass, dp[:, :S, :, 0]),
                       np.broadcast_to(c.anc[mech.gaze_seg], q.shape),
                       np.broadcast_to(c.anc[mech.upright_seg], q.shape)), axis=1)
    return Loads(Q, goals, p, F, r, grav, pas, reg, dgoals, trunk_dir, Pj, strut, Fs, press)


def pose_geometry(mech: Mechanics, q: np.ndarray, parallel: bool = False):
    """What the measures need at solved poses ``q`` (B, n): points (B, Np, 2), joint centres
    (B, S, 2), muscle-tendon lengths (B, M), moment arms (B, M, n) and the trunk actuator's
    direction (B, n). Compiled (``parallel`` threads for a large batch) when numba is available,
    else from :func:`evaluate`; no derivative arrays either way."""
    from . import _backend

    c = mech.chain
    q = np.ascontiguousarray(q, dtype=float)
    if _backend.compiled():
        from .physics import compiled_model, kinematics

        cm, st = compiled_model(mech)
        kernel = kinematics.pose_geometry_parallel if parallel else kinematics.pose_geometry_serial
        points, joints, lengths, arm = kernel(cm, st, q)
    else:
        L = evaluate(mech, q, np.zeros(len(c.muscle_names)), np.zeros((len(q), mech.k)))
        points, joints, arm = L.points, L.joints, L.moment_arm_m
        lengths = np.linalg.norm(points[:, c.pair_i1] - points[:, c.pair_i0], axis=2) @ c.pair_onehot
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


def _jacobian(mech: Mechanics, q: np.ndarray, act: np.ndarray, lam: np.ndarray):
    """Loads at (q, lam) and the Jacobian of [Q; goals] with respect to [q; lam].

    Columns for q come from central differences of the exact moments (one batched evaluation);
    the ankle and neck efforts enter linearly; the trunk effort by a central difference too.
    """
    n, k = mech.n, mech.k
    h = FD_STEP_RAD
    E = np.eye(n) * h
    qs = [q[None], q + E, q - E]
    lams = [np.broadcast_to(lam, (2 * n + 1, k))]
    if k:
        hl = np.zeros(k)
        hl[2] = FD_STEP_LAM
        qs.append(np.broadcast_to(q, (2, n)))
        lams.append(np.vstack((lam + hl, lam - hl)))
    L = evaluate(mech, np.vstack(qs), act, np.vstack(lams))
    dQdq = (L.Q[1:n + 1] - L.Q[n + 1:2 * n + 1]).T / (2 * h)  # (n, n)
    J = np.zeros((n + k, n + k))
    J[:n, :n] = dQdq
    if k:
        J[n:, :n] = L.dgoals[0]
        J[:n, n] = np.eye(n)[mech.ankle_dof]
        J[:n, n + 1] = np.eye(n)[mech.neck_dof]
        J[:n, n + 2] = (L.Q[-2] - L.Q[-1]) / (2 * FD_STEP_LAM)
    return L, J, dQdq


def _jacobian_analytic(mech: Mechanics, q: np.ndarray, act: np.ndarray, lam: np.ndarray):
    """Loads at (q, lam) and the exact Jacobian of [Q; goals] with respect to [q; lam].

    Second derivatives of the muscle path lengths and of the mass-centre heights follow from the
    planar-chain identity in :func:`musclesim.chain.distal_joint_positions`; muscle forces, passive
    laws and the trunk actuator are differentiated in closed form. ``tests/test_mechanics.py``
    checks it against central differences.
    """
    c = mech.chain
    n, k = mech.n, mech.k
    L = evaluate(mech, q[None], act, lam[None])
    p, dp, P, _ = kinematics(c, q[None])
    p, dp, P = p[0], dp[0], P[0]
    S = len(c.seg_names)
    PD = distal_joint_positions(c, P)  # (n, n, 2)
    H_piece = _piece_hessian(c, p, dp, PD, c.pair_i0, c.pair_i1)
    d2y_com = -c.pt_sign2[:S] * (p[:S, 1][:, None, None] - PD[None, :, :, 1])  # (S, n, n)
    H = np.einsum("kjl,km->mjl", H_piece, c.pair_onehot)  # (M, n, n): d2 l / dq2
    g = -L.moment_arm_m[0]  # (M, n): dl/dq
    F = L.force_N[0]
    dF = muscle_force_slope_N_per_m(mech, act, g.sum(axis=1) * 0 + _lengths(mech, p))
    K = -np.einsum("m,mj,ml->jl", dF, g, g) - np.einsum("m,mjl->jl", F, H)
    K -= np.einsum("s,sjl->jl", c.seg_mass_kg * c.gravity, d2y_com)
    deg = np.degrees(q)
    for j, (_, kl, terms) in enumerate(mech.passive):
        slope = kl + sum(sgn * b * np.exp(a + b * deg[j]) for sgn, a, b in terms)
        K[j, j] += c.dof_bilateral[j] * slope * 180.0 / np.pi
    J = np.zeros((n + k, n + k))
    if k:
        f_ext, f_flx = trunk_forces_N(lam[2:3])
        K -= f_ext[0] * H[mech.extensor_idx].mean(axis=0) + f_flx[0] * H[mech.flexor_idx].mean(axis=0)
        J[n:, :n] = L.dgoals[0]
        J[mech.ankle_dof, n] = 1.0
        J[mech.neck_dof, n + 1] = 1.0
        s_ext = 0.5 * (1.0 + np.tanh(lam[2] / TRUNK_BLEND_N / 2))
        ext = -g[mech.extensor_idx].mean(axis=0)
        flx = -g[mech.flexor_idx].mean(axis=0)
        J[:n, n + 2] = s_ext * ext + (s_ext - 1.0) * flx
    if c.has_pressure:  # Q_s = F_s(q, lam) dl_s/dq: the force's slope times the arm, plus the force times d2l_s/dq2
        gs = strut_geometry(c, p[None], dp[None])[2][0]
        Hs = _piece_hessian(c, p, dp, PD, c.iap_pts[:1], c.iap_pts[1:])[0]
        w = c.iap_weight
        K += c.iap_gain * np.outer(gs, (w * dF) @ g) + L.strut_force_N[0] * Hs
        if k:
            J[:n, n + 2] += gs * c.iap_gain * (s_ext * w[mech.extensor_idx].mean() + (s_ext - 1.0) * w[mech.flexor_idx].mean())
    J[:n, :n] = K
    return L, J, K


def _piece_hessian(c: Chain, p: np.ndarray, dp: np.ndarray, PD: np.ndarray, i0: np.ndarray, i1: np.ndarray) -> np.ndarray:
    """d2|p[i1] - p[i0]|/dq2 (K, n, n) of straight pieces between points ``i0`` and ``i1`` (K,) at one pose."""
    d = p[i1] - p[i0]
    length = np.linalg.norm(d, axis=1)
    u = d / length[:, None]
    delta = dp[i1] - dp[i0]  # (K, n, 2)
    proj = np.einsum("knc,kc->kn", delta, u)
    # u . d2(p1 - p0)/dq2, with d2p/dq_j dq_k = -A_j A_k (p - P_max(j,k)) (chain.distal_joint_positions)
    uPD = np.einsum("kc,jlc->kjl", u, PD)
    A1, A0 = c.pt_sign2[i1], c.pt_sign2[i0]
    curv = -A1 * (np.einsum("kc,kc->k", u, p[i1])[:, None, None] - uPD) \
        + A0 * (np.einsum("kc,kc->k", u, p[i0])[:, None, None] - uPD)
    return (np.einsum("kjc,klc->kjl", delta, delta) - proj[:, :, None] * proj[:, None, :]) / length[:, None, None] \
        + curv


def _lengths(mech: Mechanics, p: np.ndarray) -> np.ndarray:
    c = mech.chain
    return np.linalg.norm(p[c.pair_i1] - p[c.pair_i0], axis=1) @ c.pair_onehot


def reduced_stiffness(dQdq: np.ndarray, dgoals: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of the stiffness restricted to motions that keep the goals.

    ``dQdq`` (n, n) is the derivative of the net joint moments; ``dgoals`` (k, n) the goals'
    gradients. The stiffness is ``K = -sym(dQdq)``; ``Z`` spans ``null(dgoals)``.
    """
    n = dQdq.shape[0]
    if dgoals.shape[0]:
        _, sv, vt = np.linalg.svd(dgoals)
        rank = int(np.sum(sv > 1e-12 * max(sv.max(), 1.0)))
        Z = vt[rank:].T
    else:
        Z = np.eye(n)
    K = -0.5 * (dQdq + dQdq.T)
    return np.linalg.eigvalsh(Z.T @ K @ Z)


def _norm(L: Loads) -> np.ndarray:
    """Size of the residual of each pose in a batch (goals weighted so 1 mm ~ 1 N·m)."""
    return np.sqrt(np.sum(L.Q**2, axis=1) + np.sum((L.goals * 1e3) ** 2, axis=1))


def solve(mech: Mechanics, act: np.ndarray, q0: np.ndarray | None = None, lam0: np.ndarray | None = None,
          max_iter: int = MAX_ITER, jacobian: np.ndarray | None = None, check: bool = True,
          compiled: bool | None = None) -> Equilibrium:
    """Find the regulated static equilibrium for activations ``act`` (M,), starting at (q0, lam0).

    Runs the compiled Newton driver (:func:`musclesim.physics.newton.newton`) unless ``compiled``
    is False or the backend is switched to the reference (:func:`musclesim._backend.compiled`);
    :func:`solve_numpy` is the numpy reference, solving the same equations the same way (tests
    check they agree).
    """
    from . import _backend

    if not (_backend.compiled() if compiled is None else compiled and _backend.compiled()):
        return solve_numpy(mech, act, q0, lam0, max_iter, jacobian, check)
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
            J: np.ndarray | None, residual: np.ndarray | None = None, loose: bool = False,
            min_eig: float | None = None) -> Equilibrium:
    """Residual, convergence and stability verdict of a solver's end point (shared by both paths).

    ``residual`` ([Q; goals] at the end point) is recomputed with numpy when not given, and the
    smallest reduced-stiffness eigenvalue from ``J`` unless the compiled path gives ``min_eig``.
    """
    n, k = mech.n, mech.k
    if residual is None:
        L = evaluate(mech, q[None], act, lam[None])
        residual = np.concatenate((L.Q[0], L.goals[0]))
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
        eig = reduced_stiffness(J[:n, :n], J[n:, :n] if k else np.zeros((0, n)))
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


def solve_numpy(mech: Mechanics, act: np.ndarray, q0: np.ndarray | None = None, lam0: np.ndarray | None = None,
                max_iter: int = MAX_ITER, jacobian: np.ndarray | None = None, check: bool = True) -> Equilibrium:
    """Find the regulated static equilibrium for activations ``act`` (M,), starting at (q0, lam0).

    Newton's method on [Q(q) + B(q) lam; goals(q)] = 0 with a trust region on the joint angles
    (:data:`MAX_STEP_RAD`) and a backtracking line search over several step lengths evaluated in
    one batch. Given ``jacobian`` (from a nearby solution, e.g. the previous continuation step) it
    first takes cheap quasi-Newton steps (Broyden updates of that matrix, one model evaluation each)
    and switches to full Newton as soon as they stop contracting quickly. ``check=False`` skips the stability check (and the exact Jacobian it
    needs) for intermediate continuation steps. Never raises for a failed solve: the answer says
    ``converged=False`` or ``stable=False`` and why.
    """
    n, k = mech.n, mech.k
    q = np.zeros(n) if q0 is None else np.array(q0, dtype=float)
    lam = np.zeros(k) if lam0 is None else np.array(lam0, dtype=float)
    act = np.asarray(act, dtype=float)
    it = 0
    J = None
    L = evaluate(mech, q[None], act, lam[None])
    if jacobian is not None:  # quasi-Newton phase: Broyden updates of a nearby solution's Jacobian
        B = np.array(jacobian, dtype=float)
        F = np.concatenate((L.Q[0], L.goals[0]))
        f0 = _norm(L)[0]
        while it < max_iter and not _converged(L, k, not check):
            it += 1
            try:
                dz = _trust(np.linalg.solve(B, -F), n)
            except np.linalg.LinAlgError:
                break
            L1 = evaluate(mech, (q + dz[:n])[None], act, (lam + dz[n:])[None])
            f1 = _norm(L1)[0]
            if not np.isfinite(f1) or f1 > CHORD_CONTRACTION * f0:
                break
            F1 = np.concatenate((L1.Q[0], L1.goals[0]))
            B += np.outer(F1 - F - B @ dz, dz) / (dz @ dz)  # "good" Broyden update
            q, lam, L, F, f0 = q + dz[:n], lam + dz[n:], L1, F1, f1
    if not _converged(L, k, not check) or check:
        L, J, dQdq = _jacobian_analytic(mech, q, act, lam)
    steps = np.array([1.0, 0.5, 0.25, 0.1, 0.03])
    while it < max_iter and not _converged(L, k, not check):
        it += 1
        F = np.concatenate((L.Q[0], L.goals[0]))
        try:
            dz = np.linalg.solve(J, -F)
        except np.linalg.LinAlgError:
            dz = np.linalg.lstsq(J, -F, rcond=None)[0]
        dz = _trust(dz, n)
        # try the full step first; backtrack (several lengths in one batch) only if it does not help
        f0 = _norm(L)[0]
        L1, J1, dQdq1 = _jacobian_analytic(mech, q + dz[:n], act, lam + dz[n:])
        if np.isfinite(L1.Q[0]).all() and _norm(L1)[0] < f0:
            q, lam, L, J, dQdq = q + dz[:n], lam + dz[n:], L1, J1, dQdq1
        else:
            zq = q[None] + steps[1:, None] * dz[None, :n]
            zl = lam[None] + steps[1:, None] * dz[None, n:]
            T = evaluate(mech, zq, act, zl)
            norms = _norm(T)
            norms[~np.isfinite(norms)] = np.inf
            better = np.flatnonzero(norms < f0)
            j = int(better[0]) if better.size else int(np.argmin(norms))
            q, lam = zq[j], zl[j]
            L, J, dQdq = _jacobian_analytic(mech, q, act, lam)
        if not np.all(np.isfinite(q)) or np.max(np.abs(q)) > np.pi:
            return Equilibrium(q, lam, False, False, it, float("inf"), float("inf"), float("nan"),
                               "diverged: the joint angles left any plausible range")
    if J is not None:
        J = J.copy()
        J[:n, :n] = dQdq
    return _finish(mech, act, q, lam, it, J, loose=not check)


def _converged(L: Loads, k: int, loose: bool = False) -> bool:
    f = PATH_TOL_FACTOR if loose else 1.0
    return bool(np.max(np.abs(L.Q[0])) < f * TOL_MOMENT_NM and (not k or np.max(np.abs(L.goals[0])) < f * TOL_GOAL))


def _trust(dz: np.ndarray, n: int) -> np.ndarray:
    """Scale a Newton step so no joint angle changes by more than :data:`MAX_STEP_RAD`."""
    big = np.max(np.abs(dz[:n]))
    return dz * (MAX_STEP_RAD / big) if big > MAX_STEP_RAD else dz




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


def follow(mech: Mechanics, t0: np.ndarray, act: np.ndarray, q0: np.ndarray, lam0: np.ndarray,
           J0: np.ndarray, compiled: bool | None = None, tendon_m: np.ndarray | None = None,
           direct: bool = True) -> Path:
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
    """
    from . import _backend

    use = _backend.compiled() if compiled is None else compiled and _backend.compiled()
    n = mech.n
    t0 = np.ascontiguousarray(t0, dtype=float)
    act = np.ascontiguousarray(act, dtype=float)
    lt0 = mech.chain.l_tendon_m
    lt1 = lt0 if tendon_m is None else np.ascontiguousarray(tendon_m, dtype=float)
    if use:
        from .physics import compiled_model, floor_of, newton
        from .physics.compiled import settings

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
    return _follow_numpy(mech, t0, act, q0, lam0, J0, lt1, direct)


def _newton_numpy(mech: Mechanics, z0: np.ndarray, act: np.ndarray):
    """Newton's method with exact Jacobians and the contraction test of :data:`DIRECT_CONTRACTION`,
    in numpy: the same steps as the compiled :func:`musclesim.physics.newton.newton_contracting`. Returns (accepted, q, lam,
    residual, steps, Jacobian at the end point)."""
    n, k = mech.n, mech.k
    q, lam = np.array(z0[:n], dtype=float), np.array(z0[n:], dtype=float)
    L, J, _ = _jacobian_analytic(mech, q, act, lam)
    last, it = np.inf, 0
    while True:
        R = np.concatenate((L.Q[0], L.goals[0]))
        if not np.isfinite(_norm(L)[0]):
            return False, q, lam, R, it, J
        done = _converged(L, k)
        if done and it == 0:
            return True, q, lam, R, it, J
        if not done and it >= DIRECT_MAX_ITER:
            return False, q, lam, R, it, J
        try:
            dz = np.linalg.solve(J, -R)
        except np.linalg.LinAlgError:
            return False, q, lam, R, it, J
        step = float(np.max(np.abs(dz[:n])))
        if it > 0 and step > DIRECT_CONTRACTION * last:
            return False, q, lam, R, it, J
        if done:
            return True, q, lam, R, it, J
        last = step
        q, lam = q + dz[:n], lam + dz[n:]
        L, J, _ = _jacobian_analytic(mech, q, act, lam)
        it += 1


def _direct_numpy(mech: Mechanics, t0: np.ndarray, act: np.ndarray, q0: np.ndarray, lam0: np.ndarray,
                  lt1: np.ndarray) -> tuple[Path | None, int]:
    """The direct attempt of :func:`follow` in numpy (as the compiled :func:`musclesim.physics.newton.follow`): the
    path of two states if Newton passes the contraction test and the answer is stable, else None;
    and the Newton steps taken."""
    end = with_tendons(mech, lt1)
    acc, q, lam, R, its, J = _newton_numpy(end, np.concatenate((q0, lam0)), act)
    if not acc:
        return None, its
    final = _finish(end, act, q, lam, its, J, R)
    if not final.stable:
        return None, its
    return Path(True, 1.0, (0.0, 1.0), ((np.asarray(q0, float), np.asarray(lam0, float)), (q, lam)), final, its), its


def _follow_numpy(mech, t0, act, q0, lam0, J0, lt1, direct: bool = True) -> Path:
    lt0 = mech.chain.l_tendon_m
    same = np.allclose(act, t0, rtol=0, atol=1e-15) and np.allclose(lt1, lt0, rtol=0, atol=1e-15)
    its = 0
    if direct and not same and DIRECT_CONTRACTION > 0:
        path, its = _direct_numpy(mech, np.asarray(t0, float), np.asarray(act, float), q0, lam0, lt1)
        if path is not None:
            return path
    frac, h = 0.0, (1.0 if same else 1.0 / CONTINUATION_STEPS)
    min_h = (1.0 / CONTINUATION_STEPS) / 2**MAX_HALVINGS
    q, lam, J = np.asarray(q0, float), np.asarray(lam0, float), J0
    fracs, states = [0.0], [(q, lam)]
    eq = None
    last_dq, last_h = FIRST_STEP_RAD, h
    while frac < 1.0:
        target = min(1.0, frac + h)
        final = target >= 1.0
        step_mech = with_tendons(mech, lt0 + target * (lt1 - lt0))
        qs, ls = q, lam
        if len(fracs) >= 2:  # secant predictor, as in the compiled path
            w = (target - frac) / (fracs[-1] - fracs[-2])
            qs = states[-1][0] + w * (states[-1][0] - states[-2][0])
            ls = states[-1][1] + w * (states[-1][1] - states[-2][1])
        eq = solve_numpy(step_mech, t0 + target * (act - t0), qs, ls, jacobian=J, check=final)
        its += eq.iterations
        dq = float(np.max(np.abs(eq.q - q)))
        jumped = eq.converged and dq > JUMP_FACTOR * last_dq * (target - frac) / last_h + JUMP_FLOOR_RAD
        if eq.ok and not jumped:
            last_dq, last_h = dq, target - frac
            frac, q, lam = target, eq.q, eq.lam
            J = eq.jacobian if eq.jacobian is not None else J
            fracs.append(frac)
            states.append((q, lam))
        else:
            h /= 2.0
            if h < min_h * 0.999:
                return Path(False, frac, tuple(fracs), tuple(states), eq, its)
    return Path(True, 1.0, tuple(fracs), tuple(states), eq, its)
