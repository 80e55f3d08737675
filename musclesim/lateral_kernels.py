"""Compiled (numba) 3-D poses for :mod:`musclesim.lateral`: the same kinematics as its numpy
:func:`~musclesim.lateral.poses`, one pose per loop iteration (``tests/test_lateral.py`` checks
that both agree). Used when numba is installed and ``MUSCLESIM_NO_NUMBA`` is not set.
"""

from __future__ import annotations

import math

import numpy as np

from ._backend import njit


@njit
def _rod(axis, angle, out):
    """Rotation matrix about unit ``axis`` by ``angle`` (right hand), written into ``out``."""
    x, y, z = axis[0], axis[1], axis[2]
    s, c = math.sin(angle), math.cos(angle)
    t = 1.0 - c
    out[0, 0] = c + t * x * x
    out[0, 1] = t * x * y - s * z
    out[0, 2] = t * x * z + s * y
    out[1, 0] = t * x * y + s * z
    out[1, 1] = c + t * y * y
    out[1, 2] = t * y * z - s * x
    out[2, 0] = t * x * z - s * y
    out[2, 1] = t * y * z + s * x
    out[2, 2] = c + t * z * z


@njit
def _mul(A, B, out):
    for i in range(3):
        for j in range(3):
            out[i, j] = A[i, 0] * B[0, j] + A[i, 1] * B[1, j] + A[i, 2] * B[2, j]


@njit
def poses_kernel(X, p0, pt_body, hip, ankle, spine_c, spine_long, spine_bend, leg_len2, leg_vec0, n_iter):
    """Arrays of :class:`~musclesim.lateral.Pose3D` for coordinates ``X`` (B, 2 + 2J)."""
    B = X.shape[0]
    Np = p0.shape[0]
    J = spine_c.shape[0]
    nb = 5 + J
    p = np.empty((B, Np, 3))
    RP_out = np.empty((B, 3, 3))
    Rleg_out = np.empty((B, 2, 3, 3))
    sub = np.empty((B, 2))
    dors = np.empty((B, 2))
    hip_rel = np.empty((B, 2, 3))
    ex = np.array([1.0, 0.0, 0.0])
    ey = np.array([0.0, 1.0, 0.0])
    ez = np.array([0.0, 0.0, 1.0])
    cP = 0.5 * (hip[0] + hip[1])
    r0 = np.empty((2, 3))
    L2 = np.empty(2)
    for s in range(2):
        for k in range(3):
            r0[s, k] = hip[s, k] - cP[k]
        L2[s] = leg_len2[s]
    Ry = np.empty((3, 3))
    Rx = np.empty((3, 3))
    R = np.empty((3, 3))
    dRx = np.zeros((3, 3))
    dR = np.empty((3, 3))
    H = np.empty((2, 3))
    Rb = np.empty((nb, 3, 3))
    tb = np.empty((nb, 3))
    Ra = np.empty((3, 3))
    Rt = np.empty((3, 3))
    Rj = np.empty((3, 3))
    tmp = np.empty((3, 3))
    for b in range(B):
        u, rho = X[b, 0], X[b, 1]
        _rod(ey, rho, Ry)
        dy, psi = 0.0, 0.0
        for _ in range(n_iter):
            _rod(ex, psi, Rx)
            _mul(Ry, Rx, R)
            sp, cp = math.sin(psi), math.cos(psi)
            dRx[1, 1], dRx[1, 2], dRx[2, 1], dRx[2, 2] = -sp, -cp, cp, -sp
            _mul(Ry, dRx, dR)
            g0 = g1 = a0 = a1 = b0 = b1 = 0.0
            for s in range(2):
                gs = 0.0
                bs = 0.0
                as_ = 0.0
                for i in range(3):
                    h = cP[i] + R[i, 0] * r0[s, 0] + R[i, 1] * r0[s, 1] + R[i, 2] * r0[s, 2]
                    if i == 1:
                        h += dy
                    elif i == 2:
                        h += u
                    d = h - ankle[s, i]
                    gs += d * d
                    bs += 2.0 * d * (dR[i, 0] * r0[s, 0] + dR[i, 1] * r0[s, 1] + dR[i, 2] * r0[s, 2])
                    if i == 1:
                        as_ = 2.0 * d
                gs -= L2[s]
                if s == 0:
                    g0, a0, b0 = gs, as_, bs
                else:
                    g1, a1, b1 = gs, as_, bs
            det = a0 * b1 - a1 * b0
            dy -= (g0 * b1 - g1 * b0) / det
            psi -= (a0 * g1 - a1 * g0) / det
        _rod(ex, psi, Rx)
        _mul(Ry, Rx, R)
        for s in range(2):
            for i in range(3):
                H[s, i] = cP[i] + R[i, 0] * r0[s, 0] + R[i, 1] * r0[s, 1] + R[i, 2] * r0[s, 2]
            H[s, 1] += dy
            H[s, 2] += u
        for i in range(3):
            Rb[0, i, :] = 0.0
            Rb[0, i, i] = 1.0
            Rb[1, i, :] = 0.0
            Rb[1, i, i] = 1.0
            tb[0, i] = 0.0
            tb[1, i] = 0.0
        for i in range(3):
            for k in range(3):
                Rb[4, i, k] = R[i, k]
            tb[4, i] = 0.5 * (H[0, i] + H[1, i]) - (R[i, 0] * cP[0] + R[i, 1] * cP[1] + R[i, 2] * cP[2])
            for k in range(3):
                RP_out[b, i, k] = R[i, k]
        # legs: Rx(s) Rz(a) carries the reference leg vector onto the new one
        for s in range(2):
            d0x, d0y, d0z = leg_vec0[s, 0], leg_vec0[s, 1], leg_vec0[s, 2]
            dx, dyy, dz = H[s, 0] - ankle[s, 0], H[s, 1] - ankle[s, 1], H[s, 2] - ankle[s, 2]
            r = math.hypot(d0x, d0y)
            th0 = math.atan2(d0y, d0x)
            a = math.acos(min(1.0, max(-1.0, dx / r))) - th0
            vy = r * math.sin(a + th0)
            st = math.atan2(dz, dyy) - math.atan2(d0z, vy)
            _rod(ex, st, Ra)
            _rod(ez, a, Rt)
            _mul(Ra, Rt, tmp)
            sub[b, s], dors[b, s] = st, a
            for i in range(3):
                for k in range(3):
                    Rb[2 + s, i, k] = tmp[i, k]
                    Rleg_out[b, s, i, k] = tmp[i, k]
                tb[2 + s, i] = ankle[s, i] - (tmp[i, 0] * ankle[s, 0] + tmp[i, 1] * ankle[s, 1] + tmp[i, 2] * ankle[s, 2])
            # pelvis relative to the thigh: vee(Rleg^T R)
            for i in range(3):
                for k in range(3):
                    Rj[i, k] = tmp[0, i] * R[0, k] + tmp[1, i] * R[1, k] + tmp[2, i] * R[2, k]
            hip_rel[b, s, 0] = 0.5 * (Rj[2, 1] - Rj[1, 2])
            hip_rel[b, s, 1] = 0.5 * (Rj[0, 2] - Rj[2, 0])
            hip_rel[b, s, 2] = 0.5 * (Rj[1, 0] - Rj[0, 1])
        # spine
        for j in range(J):
            _rod(spine_bend[j], X[b, 2 + j], Ra)
            _rod(spine_long[j], X[b, 2 + J + j], Rt)
            _mul(Ra, Rt, Rj)
            _mul(Rb[4 + j], Rj, tmp)
            for i in range(3):
                acc = tb[4 + j, i]
                for k in range(3):
                    tk = spine_c[j, k] - (Rj[k, 0] * spine_c[j, 0] + Rj[k, 1] * spine_c[j, 1] + Rj[k, 2] * spine_c[j, 2])
                    acc += Rb[4 + j, i, k] * tk
                tb[5 + j, i] = acc
            for i in range(3):
                for k in range(3):
                    Rb[5 + j, i, k] = tmp[i, k]
        for n in range(Np):
            bb = pt_body[n]
            for i in range(3):
                p[b, n, i] = Rb[bb, i, 0] * p0[n, 0] + Rb[bb, i, 1] * p0[n, 1] + Rb[bb, i, 2] * p0[n, 2] + tb[bb, i]
    return p, RP_out, Rleg_out, sub, dors, hip_rel


@njit
def lengths_kernel(p, i0, i1, pair_muscle, M):
    """Path lengths (B, M) of the muscles whose straight pieces run from ``p[i0]`` to ``p[i1]``."""
    B = p.shape[0]
    out = np.zeros((B, M))
    for b in range(B):
        for k in range(i0.shape[0]):
            a, c = i0[k], i1[k]
            dx = p[b, c, 0] - p[b, a, 0]
            dy = p[b, c, 1] - p[b, a, 1]
            dz = p[b, c, 2] - p[b, a, 2]
            out[b, pair_muscle[k]] += math.sqrt(dx * dx + dy * dy + dz * dz)
    return out


@njit
def scalars_kernel(p, mass, gravity, hip_rel, sub, dors, X, J, k_sub, k_add, k_rot, k_hip, m_hip, k_ank, m_ank,
                   k_bend, k_twist, roll_l, roll_r):
    """The per-pose scalars of :func:`musclesim.lateral._scalars` (same formulas, one loop)."""
    B, Np = p.shape[0], p.shape[1]
    out = np.empty((B, 6))
    total = 0.0
    for i in range(Np):
        total += mass[i]
    for b in range(B):
        ug = 0.0
        zc = 0.0
        for i in range(Np):
            if mass[i] != 0.0:
                ug += mass[i] * p[b, i, 1]
                zc += mass[i] * p[b, i, 2]
        up = 0.0
        for s in range(2):
            flex = -hip_rel[b, s, 2]
            dorsi = -dors[b, s]
            up += 0.5 * k_sub * sub[b, s] ** 2 + 0.5 * k_add * hip_rel[b, s, 0] ** 2 + 0.5 * k_rot * hip_rel[b, s, 1] ** 2
            up += 0.5 * k_hip * flex * flex - m_hip * flex + 0.5 * k_ank * dorsi * dorsi - m_ank * dorsi
        for j in range(J):
            up += 0.5 * k_bend[j] * X[b, 2 + j] ** 2 + 0.5 * k_twist[j] * X[b, 2 + J + j] ** 2
        out[b, 0] = gravity * ug
        out[b, 1] = up
        out[b, 2] = zc / total
        out[b, 3] = sub[b, 0] + sub[b, 1]
        out[b, 4] = zc / total
        out[b, 5] = math.atan2(p[b, roll_l, 1] - p[b, roll_r, 1], p[b, roll_l, 2] - p[b, roll_r, 2])
    return out
