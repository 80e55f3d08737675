"""The left-right solve as it was before its derivatives were analytic: a test oracle.

:func:`solve_lateral_fd` is ``musclesim.lateral.solve_lateral`` of version c398527: the Hessian from
central finite differences of the exact 3-D kinematics over 211 poses (h = 1e-4), the gradient from
29, Broyden chord iterations with a trust region. The kinematics, energies and measures it
differentiates are the package's own (:func:`musclesim.lateral.poses`, ``_lengths``, ``_scalars``,
``preload``, ``measures``), so the analytic derivatives of :mod:`musclesim.lateral_kernels` can be
checked against finite differences of the same energy, and the new solve against this one.
"""

from __future__ import annotations

import numpy as np

from musclesim.lateral import (LATERAL_MEASURES, Lateral, _lengths, _scalars, coordinate_names, frame3d, layout,
                               measures, poses, preload)
from musclesim.mechanics import muscle_force_N, muscle_force_slope_N_per_m, pose_geometry, total_force

FD_STEP = 1e-4
MAX_ITER = 20
TOL_RESIDUAL_NM = 1e-7
TOL_CONVERGED_NM = 1e-6
BROYDEN_RUN = 6
MAX_STEP_RAD = 0.05
SLOW_FIRST_STEP = 0.01
MAX_STEP_M = 0.01


def _stencil(x: np.ndarray, h: float, hessian: bool) -> np.ndarray:
    """Poses for central differences around ``x``: centre, +h e_i, -h e_i [, +h(e_i+e_j), -h(e_i+e_j)]."""
    n = len(x)
    E = np.eye(n) * h
    rows = [x[None], x + E, x - E]
    if hessian:
        i, j = np.triu_indices(n, 1)
        rows += [x + E[i] + E[j], x - E[i] - E[j]]
    return np.concatenate(rows)


def _differentiate(v: np.ndarray, n: int, h: float, hessian: bool):
    """(value, gradient (n, K), Hessian (n, n, K) or None) from values (B, K) on :func:`_stencil`."""
    v0, vp, vm = v[0], v[1:1 + n], v[1 + n:1 + 2 * n]
    grad = (vp - vm) / (2 * h)
    if not hessian:
        return v0, grad, None
    H = np.empty((n, n) + v0.shape)
    H[np.arange(n), np.arange(n)] = (vp - 2 * v0 + vm) / h**2
    i, j = np.triu_indices(n, 1)
    m = len(i)
    vpp, vmm = v[1 + 2 * n:1 + 2 * n + m], v[1 + 2 * n + m:]
    off = (vpp - vp[i] - vp[j] + 2 * v0 - vm[i] - vm[j] + vmm) / (2 * h**2)
    H[i, j] = off
    H[j, i] = off
    return v0, grad, H



def solve_lateral_fd(mech: Mechanics, q: np.ndarray, act: np.ndarray, lam: np.ndarray, lift_m: float = 0.0) -> Lateral:
    """Frontal/transverse equilibrium at the solved sagittal pose ``q`` with activations ``act``.

    ``mech`` carries the tendon lengths of the solve (tightness) and ``lam`` its regulation
    efforts. Muscle forces are the sagittal solve's at ``x = 0`` and follow the 3-D length change.
    ``lift_m`` puts a lift of that height under the left foot (a leg-length difference).
    """

    lay = layout(mech)
    f = frame3d(mech, lay, q, lift_m)
    pre = preload(mech, lay, q, lam)
    g_acc = mech.chain.gravity
    J = len(lay.spine_seg)
    n = 2 + 2 * J
    h = FD_STEP
    l2d = pose_geometry(mech, q[None])[2][0]  # the sagittal pose's musculotendon lengths
    M = len(l2d)
    extra = total_force(mech, np.zeros(M), lam)  # the regulating trunk muscle's extra (constant) force

    def evaluate(x: np.ndarray, hessian: bool):
        X = _stencil(x, h, hessian)
        pose = poses(lay, f, X)
        lv = _differentiate(_lengths(lay, pose.p), n, h, hessian)
        sv = _differentiate(_scalars(lay, pose, X, pre, g_acc), n, h, hessian)
        return pose, lv, sv

    ext_l, ext_r = lay.extensor_sides

    def actuators(glx, gsx):  # (n, 2): generalised force per unit effort of the two regulators
        # an inversion torque at both ankles; one unit of force more on the left trunk extensor, one less right
        return np.column_stack((gsx[:, 3], -(glx[:, ext_l].mean(axis=1) - glx[:, ext_r].mean(axis=1))))

    def forces(lx):
        lm = l2d + (lx - l0)
        return muscle_force_N(mech, act, lm) + extra, muscle_force_slope_N_per_m(mech, act, lm)

    def curvature(Hlx, Hsx):  # (2, n, n): how each regulator's direction turns with the posture
        return np.stack((Hsx[:, :, 3], -(Hlx[:, :, ext_l].mean(axis=2) - Hlx[:, :, ext_r].mean(axis=2))))

    def kkt(lv, sv, mu):
        """Jacobian of the regulated lateral equilibrium from one Hessian stencil (efforts ``mu``)."""
        (lx, glx, Hlx), (_, gsx, Hsx) = lv, sv
        Fx, kx = forces(lx)
        H = np.einsum("m,im,jm->ij", kx, glx, glx) + Hlx @ Fx + Hsx[:, :, 0] + Hsx[:, :, 1]
        H = 0.5 * (H + H.T)
        D, C = actuators(glx, gsx), gsx[:, 4:6].T  # goals: centre of mass lateral (m), rib-cage roll (rad)
        K = np.zeros((n + 2, n + 2))
        K[:n, :n], K[:n, n:], K[n:, :n] = H - np.tensordot(mu, curvature(Hlx, Hsx), 1), -D, C
        return K, H, D, C, Fx

    pose0, lv0, sv0 = evaluate(np.zeros(n), True)
    (l0, gl, Hl0), (s0, gs, Hs0) = lv0, sv0
    K, H, D, C, F = kkt(lv0, sv0, np.zeros(2))
    curv0 = curvature(Hl0, Hs0)
    goal0 = s0[4:6]
    x, mu = np.zeros(n), np.zeros(2)
    r = np.concatenate((gl @ F + gs[:, 0] + gs[:, 1], [0.0, 0.0]))  # force balance, goal violations
    residual, it, since_fresh = float(np.max(np.abs(r[:n]))), 0, 0
    first = residual
    A = K.copy()
    for it in range(1, MAX_ITER + 1):
        if residual < TOL_RESIDUAL_NM:
            it -= 1
            break
        step = np.linalg.solve(A, -r)
        big = max(np.max(np.abs(step[1:n])) / MAX_STEP_RAD, abs(step[0]) / MAX_STEP_M, 1.0)
        step /= big  # a trust region: large steps (strong asymmetry) are taken in parts
        x, mu = x + step[:n], mu + step[n:]
        A[:n, :n] -= np.tensordot(step[n:], curv0, 1)  # the regulators' share of the curvature, known exactly
        # the exact Jacobian again after a long quasi-Newton run, a trust-region step, or a first step that
        # left more than SLOW_FIRST_STEP of the residual (strong nonlinearity: Newton converges faster)
        fresh = since_fresh >= BROYDEN_RUN or big > 1.0 or (it == 2 and residual > SLOW_FIRST_STEP * first)
        _, lv, sv = evaluate(x, fresh)
        Fx = muscle_force_N(mech, act, l2d + (lv[0] - l0)) + extra
        r_new = np.concatenate((lv[1] @ Fx + sv[1][:, 0] + sv[1][:, 1] - actuators(lv[1], sv[1]) @ mu,
                                sv[0][4:6] - goal0))
        if fresh:  # Newton: the exact Jacobian at the new point
            A, since_fresh = kkt(lv, sv, mu)[0], 0
        else:  # Broyden's update of the rest of the Jacobian
            A += np.outer(r_new - r - A @ step, step) / (step @ step)
            since_fresh += 1
        r = r_new
        residual = float(np.max(np.abs(r[:n])))
    converged = residual < TOL_CONVERGED_NM
    # stability: the reduced Hessian on the motions that keep the regulated goals
    _, _, Vt = np.linalg.svd(C)
    N = Vt[2:].T
    min_eig = float(np.linalg.eigvalsh(N.T @ H @ N).min())
    final = poses(lay, f, x[None])
    metrics = {k: float(v[0]) for k, v in measures(lay, f, final).items()}
    # linear shares: each muscle's unequal pull, through the same regulated stiffness, to each measure
    meas0 = measures(lay, f, pose0)
    Jm = {k: (v[1:1 + n] - v[1 + n:1 + 2 * n]) / (2 * h) for k, v in meas0.items()}
    Kinv = np.linalg.inv(K)[:n, :n]
    dx = -(Kinv @ (gl * F))  # (n, M): each muscle's own response
    names = mech.chain.muscle_names
    contributions = {}
    for key in LATERAL_MEASURES:
        share = Jm[key] @ dx
        contributions[key] = {names[m]: float(share[m]) for m in np.argsort(-np.abs(share)) if abs(share[m]) > 1e-6}
    return Lateral(coordinates=coordinate_names(mech), x=x, metrics=metrics, balance_torque_Nm=float(mu[0]),
                   trunk_side_force_N=float(mu[1]), converged=converged, stable=min_eig > 0.0, moment=-(gl * F),
                   regulation_moment=D * mu, measure_gradient={k: Jm[k] for k in LATERAL_MEASURES},
                   response=dx, min_stiffness=min_eig, residual_Nm=residual, iterations=it,
                   contributions=contributions)
