"""The numpy reference of the standing solver: an oracle for the compiled core.

The package's standing solve and continuation (:func:`musclesim.mechanics.solve`,
:func:`musclesim.mechanics.follow`) always run the compiled Newton driver of
:mod:`musclesim.physics.newton`. This module is the numpy coding of the same equations and the
same steps that was the package's fallback before numba became required; tests compare the
compiled core to it:

* :func:`evaluate` -- the moments, goals and everything else at a batch of poses (:class:`Loads`);
* :func:`_jacobian` (central differences) and :func:`_jacobian_analytic` (exact) of [Q; goals];
* :func:`solve_numpy` -- Newton with a trust region, line search and Broyden phase, as
  :func:`musclesim.physics.newton.solve`;
* :func:`follow_numpy` -- the direct attempt and the continuation, as
  :func:`musclesim.physics.newton.follow`.

It imports the model preparation and the force laws from :mod:`musclesim.mechanics` (shared
with the package, so the oracle is independent only in its kinematics derivatives, assembly and
solver steps) and the solver constants from :mod:`musclesim.physics.constants`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musclesim.chain import MMHG_PA, Chain, _lengths_from_points, distal_joint_positions, kinematics
from musclesim.mechanics import (
    Equilibrium,
    Mechanics,
    Path,
    _finish,
    _lengths,
    muscle_force_N,
    muscle_force_slope_N_per_m,
    passive_moment_Nm,
    strut_force_N,
    trunk_forces_N,
    with_tendons,
)
from musclesim.physics.constants import (
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
    PATH_TOL_FACTOR,
    TOL_GOAL,
    TOL_MOMENT_NM,
    TRUNK_BLEND_N,
)

#: Steps of the finite-difference Jacobian (rad; N for the trunk effort).
FD_STEP_RAD = 1e-6
FD_STEP_LAM = 1e-4


def strut_geometry(chain: Chain, p: np.ndarray, dp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Length (B,), unit vector from the pelvic floor to the diaphragm (B, 2) and dl/dq (B, n) of the
    intra-abdominal pressure's strut, from points ``p`` (B, Np, 2) and their derivatives ``dp``."""
    i0, i1 = chain.iap_pts
    d = p[:, i1] - p[:, i0]
    length = np.linalg.norm(d, axis=1)
    u = d / length[:, None]
    return length, u, np.einsum("bc,bnc->bn", u, dp[:, i1] - dp[:, i0])


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
    regulation: np.ndarray  # (B, 4, n): ankle, neck, trunk, knee
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
    reg = np.zeros((B, 4, n))
    reg[:, 0, mech.ankle_dof] = lam[:, 0]
    reg[:, 1, mech.neck_dof] = lam[:, 1]
    reg[:, 2] = f_ext[:, None] * ext + f_flx[:, None] * flx
    if mech.knee_dof >= 0:  # the knees' postural spring (standing only)
        reg[:, 3, mech.knee_dof] = -mech.knee_stiffness_Nm_per_rad * q[:, mech.knee_dof]
    trunk_dir = ext - flx  # d(moment)/d(lam) far from zero effort, for reporting
    Q = Q + reg.sum(axis=1)
    mass = c.seg_mass_kg / c.seg_mass_kg.sum()
    com_x = p[:, :S, 0] @ mass
    goals = np.stack((com_x - mech.com_target_x_m, alpha[:, mech.gaze_seg],
                      alpha[:, mech.upright_seg] - mech.upright_compliance_rad_per_N * (lam[:, 2] - mech.upright_effort_ref_N)), axis=1)
    dgoals = np.stack((np.einsum("s,bsn->bn", mass, dp[:, :S, :, 0]),
                       np.broadcast_to(c.anc[mech.gaze_seg], q.shape),
                       np.broadcast_to(c.anc[mech.upright_seg], q.shape)), axis=1)
    return Loads(Q, goals, p, F, r, grav, pas, reg, dgoals, trunk_dir, Pj, strut, Fs, press)


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
        J[n + 2, n + 2] = -mech.upright_compliance_rad_per_N
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
    _, kl, ps, pa, pb, cpl = mech.passive_arrays
    ex = ps * np.exp(pa + pb * deg[:, None] + cpl @ deg)  # (n, T): each exponential term's moment
    dM = np.einsum("jt,jtk->jk", ex, cpl)  # coupled laws: d M_j / d deg_k of another joint
    dM[np.arange(n), np.arange(n)] = kl + np.sum(ex * pb, axis=1)
    K += c.dof_bilateral[:, None] * dM * 180.0 / np.pi
    J = np.zeros((n + k, n + k))
    if k:
        f_ext, f_flx = trunk_forces_N(lam[2:3])
        K -= f_ext[0] * H[mech.extensor_idx].mean(axis=0) + f_flx[0] * H[mech.flexor_idx].mean(axis=0)
        J[n:, :n] = L.dgoals[0]
        J[n + 2, n + 2] = -mech.upright_compliance_rad_per_N
        J[mech.ankle_dof, n] = 1.0
        J[mech.neck_dof, n + 1] = 1.0
        if mech.knee_dof >= 0:
            K[mech.knee_dof, mech.knee_dof] -= mech.knee_stiffness_Nm_per_rad
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


def _norm(L: Loads) -> np.ndarray:
    """Size of the residual of each pose in a batch (goals weighted so 1 mm ~ 1 N·m)."""
    return np.sqrt(np.sum(L.Q**2, axis=1) + np.sum((L.goals * 1e3) ** 2, axis=1))


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
    L = evaluate(mech, q[None], act, lam[None])  # the residual at the end point, for the verdict
    return _finish(mech, act, q, lam, it, J, np.concatenate((L.Q[0], L.goals[0])), loose=not check)


def _converged(L: Loads, k: int, loose: bool = False) -> bool:
    f = PATH_TOL_FACTOR if loose else 1.0
    return bool(np.max(np.abs(L.Q[0])) < f * TOL_MOMENT_NM and (not k or np.max(np.abs(L.goals[0])) < f * TOL_GOAL))


def _trust(dz: np.ndarray, n: int) -> np.ndarray:
    """Scale a Newton step so no joint angle changes by more than :data:`MAX_STEP_RAD`."""
    big = np.max(np.abs(dz[:n]))
    return dz * (MAX_STEP_RAD / big) if big > MAX_STEP_RAD else dz


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


def follow_numpy(mech: Mechanics, t0: np.ndarray, act: np.ndarray, q0: np.ndarray, lam0: np.ndarray,
                 J0: np.ndarray, tendon_m: np.ndarray | None = None, direct: bool = True) -> Path:
    """:func:`musclesim.mechanics.follow` in numpy (same arguments, same answer up to the solver's tolerance)."""
    t0 = np.ascontiguousarray(t0, dtype=float)
    act = np.ascontiguousarray(act, dtype=float)
    lt1 = mech.chain.l_tendon_m if tendon_m is None else np.ascontiguousarray(tendon_m, dtype=float)
    return _follow_numpy(mech, t0, act, q0, lam0, J0, lt1, direct)
