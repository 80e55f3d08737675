"""The sagittal equations assembled from the force terms, compiled.

``R(z) = [Q_muscles + Q_gravity + Q_passive + Q_regulation + Q_pressure; goals]`` with
``z = [q; lam]``: ``n`` moment balances (N·m) and ``k`` postural goals (m, rad, rad). The
Jacobian is analytic; ``tests/reference/`` holds the dense formula and the numpy mechanics it is
checked against.
"""

from __future__ import annotations

import numpy as np

from .._backend import njit
from . import forces
from .kinematics import muscle_paths, place, workspace


@njit
def muscle_state(cm, st, ws, pts, q, act, ltendon, want_jac):
    """Place the points ``pts`` at pose ``q`` and compute the muscle paths and forces into ``ws``
    (with their derivatives if ``want_jac``). False for a degenerate pose (see
    :func:`musclesim.physics.kinematics.muscle_paths`, :func:`musclesim.physics.forces.muscle_forces`)."""
    place(cm, st, q, ws, pts)
    ok = muscle_paths(cm, st, ws, st.pair_c0, st.pair_c1, want_jac)
    if ok:
        ok = forces.muscle_forces(cm, st, ws, act, ltendon, want_jac)
    return ok


@njit
def empty_equations(ws, N, want_jac, ok):
    """Zero residual (N,) and Jacobian (or ``ws.no_jac``) to add the terms to; NaN if not ``ok``."""
    R = np.zeros(N)
    J = np.zeros((N, N)) if want_jac else ws.no_jac
    if not ok:
        R[:] = np.nan
        if want_jac:
            J[:] = np.nan
    return R, J


@njit
def residual_jacobian(cm, st, ws, z, act, ltendon, want_jac):
    """Residual (n+k,) and, if ``want_jac``, Jacobian (n+k, n+k) at ``z`` for activation ``act``
    (M,) and tendon rest lengths ``ltendon`` (M,) m. A pose with a degenerate muscle path or a
    non-finite force gives a NaN residual (the Newton driver treats it as a failed step). Without
    ``want_jac`` the Jacobian returned is ``ws.no_jac`` (0, 0)."""
    n = cm.anc.shape[1]
    N = n + cm.k
    q = z[:n]
    lam = z[n:]
    ok = muscle_state(cm, st, ws, st.pts, q, act, ltendon, want_jac)
    R, J = empty_equations(ws, N, want_jac, ok)
    if not ok:
        return R, J
    forces.add_muscles(cm, st, ws, R, J, want_jac)
    forces.add_gravity(cm, st, ws, R, J, want_jac)
    forces.add_passive_joints(cm, q, R, J, want_jac)
    forces.add_knee_regulation(cm, q, R, J, want_jac)
    forces.add_regulation(cm, ws, lam, R, J, want_jac)
    forces.add_pressure(cm, ws, lam, R, J, want_jac)
    return R, J


@njit
def contributions(cm, st, z, act, ltendon):
    """Each contributor's moment at every joint (N·m): rows are the muscles (M, their Hill force
    alone), then :data:`musclesim.physics.forces.TERMS` (gravity, passive, the three regulating
    actuators, pressure, the knees' spring); the rows sum to the moment residual. Returns the table
    (M + len(TERMS), n)."""
    n = cm.anc.shape[1]
    M = cm.F0.shape[0]
    N = n + cm.k
    ws = workspace(cm)
    q = z[:n]
    lam = z[n:]
    muscle_state(cm, st, ws, st.pts, q, act, ltendon, False)
    out = np.zeros((M + len(forces.TERMS), n))
    for j in range(n):
        for m in range(M):
            out[m, j] = -ws.F[m] * ws.g[m, j]
    R = np.zeros(N)
    J = ws.no_jac
    forces.add_gravity(cm, st, ws, R, J, False)
    out[M, :] = R[:n]
    R[:] = 0.0
    forces.add_passive_joints(cm, q, R, J, False)
    out[M + 1, :] = R[:n]
    if cm.k > 0:
        out[M + 2, cm.ankle_dof] = lam[0]
        out[M + 3, cm.neck_dof] = lam[1]
        R[:] = 0.0
        forces.add_regulation(cm, ws, lam, R, J, False)
        R[cm.ankle_dof] -= lam[0]
        R[cm.neck_dof] -= lam[1]
        out[M + 4, :] = R[:n]
    R[:] = 0.0
    forces.add_pressure(cm, ws, lam, R, J, False)
    out[M + 5, :] = R[:n]
    R[:] = 0.0
    forces.add_knee_regulation(cm, q, R, J, False)
    out[M + 6, :] = R[:n]
    return out

