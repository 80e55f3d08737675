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

from dataclasses import dataclass

import numpy as np

from .chain import Chain, _lengths_from_points, compile_chain, kinematics
from .model import Model

#: Newton stops when every moment residual is below this (N·m) ...
TOL_MOMENT_NM = 1e-6
#: ... and every postural goal is met to this (m or rad).
TOL_GOAL = 1e-9
MAX_ITER = 40
MAX_STEP_RAD = 0.1  # largest change of any joint angle in one Newton step
FD_STEP_RAD = 1e-6
FD_STEP_LAM = 1e-4  # N
SMOOTH_FORCE_N = 1.0  # width of the smooth max(F, 0) that keeps muscles from pushing
PASSIVE_ONSET = 0.005  # normalised length over which passive muscle force sets in smoothly
TRUNK_BLEND_N = 5.0  # width of the smooth hand-over between trunk extensor and flexor regulation


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
    mech = Mechanics(
        model=model, chain=chain, passive=passive, **where,
        gamma=mm.short_range_stiffness_gamma, fl_width=mm.force_length_width,
        pe_strain=mm.passive_strain_at_F0, pe_shape=mm.passive_shape, regulated=regulated,
    )
    model._cache[key] = mech
    return mech


# ----------------------------------------------------------------------------- forces
def muscle_force_N(mech: Mechanics, act: np.ndarray, l_mt: np.ndarray) -> np.ndarray:
    """Static muscle force (N) for activations ``act`` (..., M) and path lengths ``l_mt`` (..., M)."""
    c = mech.chain
    lt = (l_mt - c.l_tendon_m) / c.l_opt_m
    fl = np.exp(-(((lt - 1.0) / mech.fl_width) ** 2))
    k = mech.pe_shape
    # smooth onset of passive force at the slack length (a kink would stall Newton's method)
    stretch = PASSIVE_ONSET * np.logaddexp(0.0, (lt - c.slack_norm) / PASSIVE_ONSET)
    fpe = (np.exp(k * stretch / mech.pe_strain) - 1.0) / (np.exp(k) - 1.0)
    raw = c.F0_N * (act * fl + fpe + mech.gamma * act * (lt - c.l_ref_norm))
    return 0.5 * (raw + np.sqrt(raw * raw + SMOOTH_FORCE_N**2))


def trunk_forces_N(lam_trunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Extra force (N, both sides) of the regulating trunk extensor and flexor for effort ``lam``.

    ``f_ext - f_flx = lam`` exactly, with ``f = TRUNK_BLEND_N * softplus(±lam / TRUNK_BLEND_N)``:
    positive effort is carried by the extensor, negative by the flexor, and the hand-over near
    zero is smooth (a few newtons of co-contraction) so Newton's method sees no kink.
    """
    x = lam_trunk / TRUNK_BLEND_N
    f_ext = TRUNK_BLEND_N * np.logaddexp(0.0, x)
    return f_ext, f_ext - lam_trunk


def passive_moment_Nm(mech: Mechanics, q: np.ndarray) -> np.ndarray:
    """Passive joint moments (B, n), N·m, both sides of bilateral joints together."""
    deg = np.degrees(q)
    out = np.empty_like(q)
    for j, (c0, k, terms) in enumerate(mech.passive):
        m = c0 + k * deg[:, j]
        for s, a, b in terms:
            m = m + s * np.exp(a + b * deg[:, j])
        out[:, j] = m
    return out * mech.chain.dof_bilateral


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


def evaluate(mech: Mechanics, q: np.ndarray, act: np.ndarray, lam: np.ndarray) -> Loads:
    """Moments and goal violations at poses ``q`` (B, n) with activations ``act`` (M,) or (B, M)
    and regulation efforts ``lam`` (B, k)."""
    c = mech.chain
    B, n = q.shape
    p, dp, _, alpha = kinematics(c, q)
    l, dl = _lengths_from_points(c, p, dp)
    F = muscle_force_N(mech, act, l)
    r = -dl
    S = len(c.seg_names)
    m_g = c.seg_mass_kg * c.gravity
    grav = -m_g[None, :, None] * dp[:, :S, :, 1]  # (B, S, n)
    pas = passive_moment_Nm(mech, q)
    Q = np.einsum("bm,bmn->bn", F, r) + grav.sum(axis=1) + pas
    if not mech.regulated:
        empty = np.zeros((B, 0, n))
        return Loads(Q, np.zeros((B, 0)), p, F, r, grav, pas, empty, empty, np.zeros((B, n)))
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
    return Loads(Q, goals, p, F, r, grav, pas, reg, dgoals, trunk_dir)


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
          max_iter: int = MAX_ITER) -> Equilibrium:
    """Find the regulated static equilibrium for activations ``act`` (M,), starting at (q0, lam0).

    Newton's method on [Q(q) + B(q) lam; goals(q)] = 0 with a trust region on the joint angles
    (:data:`MAX_STEP_RAD`) and a backtracking line search over several step lengths evaluated in
    one batch. Never raises for a failed solve: the answer says ``converged=False`` or
    ``stable=False`` and why.
    """
    n, k = mech.n, mech.k
    q = np.zeros(n) if q0 is None else np.array(q0, dtype=float)
    lam = np.zeros(k) if lam0 is None else np.array(lam0, dtype=float)
    act = np.asarray(act, dtype=float)
    steps = np.array([1.0, 0.5, 0.25, 0.1, 0.03])
    it = 0
    L, J, dQdq = _jacobian(mech, q, act, lam)
    for it in range(1, max_iter + 1):
        if np.max(np.abs(L.Q[0])) < TOL_MOMENT_NM and (not k or np.max(np.abs(L.goals[0])) < TOL_GOAL):
            it -= 1
            break
        F = np.concatenate((L.Q[0], L.goals[0]))
        try:
            dz = np.linalg.solve(J, -F)
        except np.linalg.LinAlgError:
            dz = np.linalg.lstsq(J, -F, rcond=None)[0]
        big = np.max(np.abs(dz[:n]))
        if big > MAX_STEP_RAD:  # a trust region on the angles: Newton may not leap across the body
            dz = dz * (MAX_STEP_RAD / big)
        # try the full step first; backtrack (several lengths in one batch) only if it does not help
        f0 = _norm(L)[0]
        L1, J1, dQdq1 = _jacobian(mech, q + dz[:n], act, lam + dz[n:])
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
            L, J, dQdq = _jacobian(mech, q, act, lam)
        if not np.all(np.isfinite(q)) or np.max(np.abs(q)) > np.pi:
            return Equilibrium(q, lam, False, False, it, float("inf"), float("inf"), float("nan"),
                               "diverged: the joint angles left any plausible range")
    res = float(np.max(np.abs(L.Q[0])))
    gres = float(np.max(np.abs(L.goals[0]))) if k else 0.0
    converged = res < TOL_MOMENT_NM and gres < TOL_GOAL and np.all(np.isfinite(q))
    eig = reduced_stiffness(dQdq, L.dgoals[0])
    min_eig = float(eig[0]) if eig.size else float("inf")
    stable = bool(converged and min_eig > 0)
    if not converged:
        msg = f"not converged after {it} iterations (moment residual {res:.2e} N·m)"
    elif not stable:
        msg = f"unstable equilibrium (reduced stiffness eigenvalue {min_eig:.3g} N·m/rad <= 0): a saddle, not a posture"
    else:
        msg = "converged to a stable posture"
    return Equilibrium(q, lam, bool(converged), stable, it, res, gres, min_eig, msg)

