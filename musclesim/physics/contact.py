"""Lying on the floor, compiled: gravity toward the floor and the compliant floor-contact term.

The unknowns are ``z = [q (n), phi, d, s]``: the joint angles, the floor's pitch ``phi`` (rad) and
its offsets ``d`` along its normal and ``s`` along it (m; ``s`` only when some contact is
anchored). In the chain's frame the floor's normal, pointing from the floor into the body, is
``nrm = (cos phi, -sin phi)`` and its tangent (toward the head) ``tan = (sin phi, cos phi)``;
``d nrm / d phi = -tan`` and ``d tan / d phi = nrm``.

The equations are ``R = -dV/dz = 0`` with the potential energy ``V`` of the muscles and the passive
joints (the terms of :mod:`musclesim.physics.forces`), gravity (each segment's weight times its
height ``p . nrm`` above the floor) and the soft tissue under each contact ``i``: pressed
``depth_i = h_i + d - p_i . nrm`` into the floor, it pushes with ``fn_i = k w softplus(depth_i / w)``
along ``nrm``; an anchored contact is also held along the floor by ``ft_i = -k_t (p_i . tan - s -
u_i)``. The Jacobian ``-d2V/dz2`` is symmetric and analytic (second derivatives of the points from
``d2p/dq_j dq_l = -A_j A_l (p - P_max(j,l))``). The numpy twin, and the oracle of the tests, is
:func:`musclesim.positions.compliant_residual`.
"""

from __future__ import annotations

import math

from .._backend import njit
from . import forces
from .residual import empty_equations, muscle_state


@njit
def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit
def lying_residual_jacobian(cm, st, ws, fl, z, act, ltendon, want_jac):
    """Residual ``-dV/dz`` (n + 2 + has_shear,) and, if ``want_jac``, its Jacobian at ``z`` for
    activation ``act`` and tendon rest lengths ``ltendon`` (m), on the floor ``fl``
    (:class:`~musclesim.physics.compiled.Floor`). NaN for a degenerate pose."""
    S, n = cm.anc.shape
    nf = 3 if fl.has_shear else 2
    N = n + nf
    q = z[:n]
    phi, d = z[n], z[n + 1]
    s = z[n + 2] if fl.has_shear else 0.0
    ok = muscle_state(cm, st, ws, fl.pts, q, act, ltendon, want_jac)
    R, J = empty_equations(ws, N, want_jac, ok)
    if not ok:
        return R, J
    forces.add_muscles(cm, st, ws, R, J, want_jac)
    forces.add_passive_joints(cm, q, R, J, want_jac)
    p, dp, P, anc = ws.p, ws.dp, ws.P, cm.anc
    cph, sph = math.cos(phi), math.sin(phi)
    nx, ny = cph, -sph  # normal
    tx, ty = sph, cph  # tangent
    g = cm.gravity
    # --- gravity: V = sum_s w_s p_s . nrm
    r_phi = 0.0
    r_d = 0.0
    j_pp = 0.0  # d r_phi / d phi
    for seg in range(S):
        w = cm.seg_mass[seg] * g
        r_phi += w * (p[seg, 0] * tx + p[seg, 1] * ty)
        r_d += w
        j_pp += w * (p[seg, 0] * nx + p[seg, 1] * ny)
        for j in range(n):
            A = anc[seg, j]
            if A == 0.0:
                continue
            R[j] -= w * (dp[seg, j, 0] * nx + dp[seg, j, 1] * ny)
            if want_jac:
                J[j, n] += w * (dp[seg, j, 0] * tx + dp[seg, j, 1] * ty)
                for l in range(n):
                    B = anc[seg, l]
                    if B != 0.0:
                        js = cm.dof_seg[max(j, l)]
                        J[j, l] += w * A * B * ((p[seg, 0] - P[js, 0]) * nx + (p[seg, 1] - P[js, 1]) * ny)
    # --- contacts
    k, wd, kt = fl.stiffness, fl.smoothing, fl.stiffness * fl.shear_ratio
    j_pd = 0.0
    j_dd = 0.0
    j_ps = 0.0
    j_ss = 0.0
    r_s = 0.0
    for c in range(fl.contact_pt.shape[0]):
        i = fl.contact_pt[c]
        seg = cm.pt_seg[i]
        pn = p[i, 0] * nx + p[i, 1] * ny
        pt = p[i, 0] * tx + p[i, 1] * ty
        depth = fl.height[c] + d - pn
        x = depth / wd
        fn = k * wd * forces.logaddexp0(x)
        dfn = k * _sigmoid(x)  # d fn / d depth
        ft = 0.0
        if fl.anchored[c]:
            ft = -kt * (pt - s - fl.anchor[c])
        r_phi += -fn * pt + ft * pn
        r_d -= fn
        r_s -= ft
        j_pp += -dfn * pt * pt - fn * pn
        j_pd += -dfn * pt
        j_dd += -dfn
        if fl.anchored[c]:
            j_pp += -kt * pn * pn - ft * pt
            j_ps += kt * pn
            j_ss += -kt
        for j in range(n):
            A = anc[seg, j]
            if A == 0.0:
                continue
            dn_j = dp[i, j, 0] * nx + dp[i, j, 1] * ny
            dt_j = dp[i, j, 0] * tx + dp[i, j, 1] * ty
            R[j] += fn * dn_j + ft * dt_j
            if want_jac:
                J[j, n] += dfn * pt * dn_j - fn * dt_j
                J[j, n + 1] += dfn * dn_j
                if fl.anchored[c]:
                    J[j, n] += -kt * pn * dt_j + ft * dn_j
                    J[j, n + 2] += kt * dt_j
                for l in range(n):
                    B = anc[seg, l]
                    if B == 0.0:
                        continue
                    js = cm.dof_seg[max(j, l)]
                    en = (p[i, 0] - P[js, 0]) * nx + (p[i, 1] - P[js, 1]) * ny
                    et = (p[i, 0] - P[js, 0]) * tx + (p[i, 1] - P[js, 1]) * ty
                    dn_l = dp[i, l, 0] * nx + dp[i, l, 1] * ny
                    dt_l = dp[i, l, 0] * tx + dp[i, l, 1] * ty
                    J[j, l] += -dfn * dn_l * dn_j - fn * A * B * en
                    if fl.anchored[c]:
                        J[j, l] += -kt * dt_l * dt_j - ft * A * B * et
    R[n] = r_phi
    R[n + 1] = r_d
    if fl.has_shear:
        R[n + 2] = r_s
    if want_jac:
        J[n, n] = j_pp
        J[n, n + 1] = j_pd
        J[n + 1, n] = j_pd
        J[n + 1, n + 1] = j_dd
        if fl.has_shear:
            J[n, n + 2] = j_ps
            J[n + 2, n] = j_ps
            J[n + 2, n + 2] = j_ss
        for j in range(n):  # the Jacobian of -dV/dz is symmetric
            for r in range(n, N):
                J[r, j] = J[j, r]
    return R, J
