"""Compiled (numba) 3-D poses for :mod:`musclesim.lateral`: the same kinematics as its numpy
:func:`~musclesim.lateral.poses`, one pose per loop iteration (``tests/test_lateral.py`` checks
that both agree). Used when numba is installed and ``MUSCLESIM_NO_NUMBA`` is not set.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import types
from numba.extending import overload

from ._backend import njit
from .physics.newton import min_reduced_eig, newton_on, problem_equations


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


# ----------------------------------------------------------------------------- exact derivatives
class LateralProblem(NamedTuple):
    """One left-right equilibrium as compiled code reads it (built by
    :func:`musclesim.lateral.lateral_problem`): the sagittal pose's 3-D frame, the muscles'
    paths and inputs, the energy's constants and the goals' reference values."""

    F0: np.ndarray  # (M,) N, the muscles' force law (as the sagittal CompiledModel's)
    lopt: np.ndarray  # (M,) m
    lref: np.ndarray  # (M,)
    slack: np.ndarray  # (M,)
    hill: np.ndarray  # (6,) gamma, fl_width, pe_strain, pe_shape, smooth_force, passive_onset
    p0: np.ndarray  # (Np, 3) m, points at the sagittal pose
    pt_body: np.ndarray  # (Np,) int64, rigid body of each point
    nd_body: np.ndarray  # (nb,) int64, how many (internal) coordinates move each body
    hip: np.ndarray  # (2, 3)
    ankle: np.ndarray  # (2, 3)
    spine_c: np.ndarray  # (J, 3)
    spine_long: np.ndarray  # (J, 3)
    spine_bend: np.ndarray  # (J, 3)
    leg_len2: np.ndarray  # (2,)
    leg_vec0: np.ndarray  # (2, 3)
    n_iter: int  # closure iterations in floats (as poses_kernel)
    pair_i0: np.ndarray  # (K,) int64
    pair_i1: np.ndarray
    pair_muscle: np.ndarray
    act: np.ndarray  # (M,) activation
    ltendon: np.ndarray  # (M,) m, tendon rest lengths (tightness)
    lbase: np.ndarray  # (M,) m, sagittal length minus the 3-D length at x = 0
    extra: np.ndarray  # (M,) N, the regulating trunk muscles' extra force
    mass: np.ndarray  # (Np,) kg
    gravity: float
    k_sub: float
    k_add: float
    k_rot: float
    k_hip: float
    m_hip: float
    k_ank: float
    m_ank: float
    k_bend: np.ndarray  # (J,)
    k_twist: np.ndarray  # (J,)
    roll_l: int
    roll_r: int
    s_tr: np.ndarray  # (M,) the trunk regulator: +1/E on the left extensor's parts, -1/E on the right's
    goal0: np.ndarray  # (2,) centre of mass lateral (m) and rib-cage roll (rad) at x = 0
    perm: np.ndarray  # (n,) int64, internal coordinate -> public index



# The left-right equilibrium's residual and Jacobian with analytic first and second derivatives.
#
# The pelvis and the legs depend on the pelvic shift ``u`` and rotation ``rho`` only (the closure
# gives the pelvis's height change and obliquity from them). Their quantities are carried as
# second-order jets in (u, rho): tuples ``(v, d_u, d_rho, h_uu, h_urho, h_rhorho)``. The closure's
# derivatives come from two Newton steps taken in jet arithmetic from its converged value (each
# Newton step doubles the order of the derivatives that are exact: values exact, then first, then up
# to third). Every rigid body's transform ``p -> R p + t`` is then held with its gradient and Hessian
# in all coordinates; the spine's bodies are composed from the pelvis up (each joint's local rotation
# ``Rod(bend axis, b) Rod(long axis, tau)`` has derivatives ``K R`` in closed form). Internally the
# coordinates are ordered ``[u, rho, b_0, tau_0, b_1, tau_1, ...]``, so that the body above spinal
# joint ``j`` depends on the first ``4 + 2 j`` of them only; ``perm`` maps them to the public order
# ``[u, rho, bend_0..bend_J-1, twist_0..twist_J-1]``.
#
# Energy ``E = sum_m int F_m dl_m + U_gravity + U_passive``; with the two regulators' efforts ``mu``
# the residual is ``[-(dE/dx) + D mu; goals(x) - goals(0)]`` (the sagittal driver's sign: generalised
# forces), ``D = [d(inversion angles)/dx, -d(l_ext,left - l_ext,right)/dx]``.

@njit
def _jc(v):
    return (v, 0.0, 0.0, 0.0, 0.0, 0.0)


@njit
def _ja(a, b):
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5])


@njit
def _js(a, b):
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3], a[4] - b[4], a[5] - b[5])


@njit
def _jk(c, a):
    return (c * a[0], c * a[1], c * a[2], c * a[3], c * a[4], c * a[5])


@njit
def _jac(a, c):
    return (a[0] + c, a[1], a[2], a[3], a[4], a[5])


@njit
def _jm(a, b):
    return (a[0] * b[0], a[1] * b[0] + a[0] * b[1], a[2] * b[0] + a[0] * b[2],
            a[3] * b[0] + 2.0 * a[1] * b[1] + a[0] * b[3], a[4] * b[0] + a[1] * b[2] + a[2] * b[1] + a[0] * b[4],
            a[5] * b[0] + 2.0 * a[2] * b[2] + a[0] * b[5])


@njit
def _jf(a, f0, f1, f2):
    """f(a) from f, f' and f'' at a's value (the chain rule to second order)."""
    return (f0, f1 * a[1], f1 * a[2], f1 * a[3] + f2 * a[1] * a[1], f1 * a[4] + f2 * a[1] * a[2],
            f1 * a[5] + f2 * a[2] * a[2])


@njit
def _jsin(a):
    s, c = math.sin(a[0]), math.cos(a[0])
    return _jf(a, s, c, -s)


@njit
def _jcos(a):
    s, c = math.sin(a[0]), math.cos(a[0])
    return _jf(a, c, -s, -c)


@njit
def _jdiv(a, b):
    v = b[0]
    return _jm(a, _jf(b, 1.0 / v, -1.0 / (v * v), 2.0 / (v * v * v)))


@njit
def _jacos(a):
    v = a[0]
    w = 1.0 - v * v
    return _jf(a, math.acos(v), -1.0 / math.sqrt(w), -v / (w * math.sqrt(w)))


@njit
def _jatan2(y, x):
    """atan2(y, x) of two jets."""
    x0, y0 = x[0], y[0]
    r2 = x0 * x0 + y0 * y0
    fy, fx = x0 / r2, -y0 / r2
    fyy, fxx, fxy = -2.0 * x0 * y0 / (r2 * r2), 2.0 * x0 * y0 / (r2 * r2), (y0 * y0 - x0 * x0) / (r2 * r2)
    return (math.atan2(y0, x0), fy * y[1] + fx * x[1], fy * y[2] + fx * x[2],
            fy * y[3] + fx * x[3] + fyy * y[1] * y[1] + fxx * x[1] * x[1] + 2.0 * fxy * x[1] * y[1],
            fy * y[4] + fx * x[4] + fyy * y[1] * y[2] + fxx * x[1] * x[2] + fxy * (x[1] * y[2] + x[2] * y[1]),
            fy * y[5] + fx * x[5] + fyy * y[2] * y[2] + fxx * x[2] * x[2] + 2.0 * fxy * x[2] * y[2])


@njit
def _pelvis_rot(cr, sr, cp, sp):
    """Ry(rho) Rx(psi) and its derivative in psi, row-major tuples of jets."""
    R = (cr, _jm(sr, sp), _jm(sr, cp), _jc(0.0), cp, _jk(-1.0, sp), _jk(-1.0, sr), _jm(cr, sp), _jm(cr, cp))
    D = (_jc(0.0), _jm(sr, cp), _jk(-1.0, _jm(sr, sp)), _jc(0.0), _jk(-1.0, sp), _jk(-1.0, cp), _jc(0.0),
         _jm(cr, cp), _jk(-1.0, _jm(cr, sp)))
    return R, D


@njit
def _hip_point(R, cP, r0, s, DY, U, i):
    h = _jac(_ja(_ja(_jk(r0[s, 0], R[3 * i]), _jk(r0[s, 1], R[3 * i + 1])), _jk(r0[s, 2], R[3 * i + 2])), cP[i])
    if i == 1:
        h = _ja(h, DY)
    elif i == 2:
        h = _ja(h, U)
    return h


@njit
def _closure_rows(Rp, Dp, cP, r0, s, DY, U, ankle, L2):
    """Hip ``s`` on its leg's sphere: ``g = |hip - ankle|^2 - L^2`` and its derivatives in the
    pelvis's height change (``a``) and obliquity (``b``), as jets."""
    gs, bs, a = _jc(-L2[s]), _jc(0.0), _jc(0.0)
    for i in range(3):
        d = _jac(_hip_point(Rp, cP, r0, s, DY, U, i), -ankle[s, i])
        gs = _ja(gs, _jm(d, d))
        dh = _ja(_ja(_jk(r0[s, 0], Dp[3 * i]), _jk(r0[s, 1], Dp[3 * i + 1])), _jk(r0[s, 2], Dp[3 * i + 2]))
        bs = _ja(bs, _jk(2.0, _jm(d, dh)))
        if i == 1:
            a = _jk(2.0, d)
    return gs, a, bs


@njit
def _rtr(A, B, i, k):
    """(A^T B)[i, k] of two row-major 3x3 tuples of jets."""
    return _ja(_ja(_jm(A[i], B[k]), _jm(A[3 + i], B[3 + k])), _jm(A[6 + i], B[6 + k]))


@njit
def _put(R, dR, ddR, b, i, k, jet, want_hess):
    """Write a (u, rho) jet into body ``b``'s transform entry ``[i, k]`` (``R`` (nb, 3, 3) or a
    translation viewed as (nb, 3, 1))."""
    R[b, i, k] = jet[0]
    dR[b, 0, i, k] = jet[1]
    dR[b, 1, i, k] = jet[2]
    if want_hess:
        ddR[b, 0, 0, i, k] = jet[3]
        ddR[b, 0, 1, i, k] = jet[4]
        ddR[b, 1, 0, i, k] = jet[4]
        ddR[b, 1, 1, i, k] = jet[5]


@njit
def _pelvis_and_legs(pr, x, want_hess, R, dR, ddR, t, dt, ddt, hip_rel):
    """Bodies 0-4 (feet, legs, pelvis) into the transform arrays; ``hip_rel`` (2, 3, 6) gets the
    jets of the pelvis's rotation vector on each thigh. Returns the jets of the passive energy of
    the legs and pelvis and of the summed inversion angles."""
    hip, ankle, L2, d0v = pr.hip, pr.ankle, pr.leg_len2, pr.leg_vec0
    u, rho = x[0], x[1]
    cP = 0.5 * (hip[0] + hip[1])
    r0 = np.empty((2, 3))
    for s in range(2):
        for k in range(3):
            r0[s, k] = hip[s, k] - cP[k]
    # the closure in floats: the steps of poses_kernel
    cr0, sr0 = math.cos(rho), math.sin(rho)
    dy, psi = 0.0, 0.0
    for _ in range(pr.n_iter):
        cp0, sp0 = math.cos(psi), math.sin(psi)
        Rf = (cr0, sr0 * sp0, sr0 * cp0, 0.0, cp0, -sp0, -sr0, cr0 * sp0, cr0 * cp0)
        Df = (0.0, sr0 * cp0, -sr0 * sp0, 0.0, -sp0, -cp0, 0.0, cr0 * cp0, -cr0 * sp0)
        gg = np.zeros(2)
        aa = np.zeros(2)
        bb = np.zeros(2)
        for s in range(2):
            for i in range(3):
                h = cP[i] + Rf[3 * i] * r0[s, 0] + Rf[3 * i + 1] * r0[s, 1] + Rf[3 * i + 2] * r0[s, 2]
                if i == 1:
                    h += dy
                elif i == 2:
                    h += u
                d = h - ankle[s, i]
                gg[s] += d * d
                bb[s] += 2.0 * d * (Df[3 * i] * r0[s, 0] + Df[3 * i + 1] * r0[s, 1] + Df[3 * i + 2] * r0[s, 2])
                if i == 1:
                    aa[s] = 2.0 * d
            gg[s] -= L2[s]
        det = aa[0] * bb[1] - aa[1] * bb[0]
        dy -= (gg[0] * bb[1] - gg[1] * bb[0]) / det
        psi -= (aa[0] * gg[1] - aa[1] * gg[0]) / det
    U = (u, 1.0, 0.0, 0.0, 0.0, 0.0)
    RH = (rho, 0.0, 1.0, 0.0, 0.0, 0.0)
    cr, sr = _jcos(RH), _jsin(RH)
    DY, PS = _jc(dy), _jc(psi)
    for _ in range(2):  # Newton in jets: exact first, then second derivatives of the closure
        Rp, Dp = _pelvis_rot(cr, sr, _jcos(PS), _jsin(PS))
        g0, a0, b0 = _closure_rows(Rp, Dp, cP, r0, 0, DY, U, ankle, L2)
        g1, a1, b1 = _closure_rows(Rp, Dp, cP, r0, 1, DY, U, ankle, L2)
        det = _js(_jm(a0, b1), _jm(a1, b0))
        DY, PS = (_js(DY, _jdiv(_js(_jm(g0, b1), _jm(g1, b0)), det)),
                  _js(PS, _jdiv(_js(_jm(a0, g1), _jm(a1, g0)), det)))
    Rp, _ = _pelvis_rot(cr, sr, _jcos(PS), _jsin(PS))
    H0 = (_hip_point(Rp, cP, r0, 0, DY, U, 0), _hip_point(Rp, cP, r0, 0, DY, U, 1), _hip_point(Rp, cP, r0, 0, DY, U, 2))
    H1 = (_hip_point(Rp, cP, r0, 1, DY, U, 0), _hip_point(Rp, cP, r0, 1, DY, U, 1), _hip_point(Rp, cP, r0, 1, DY, U, 2))
    t3 = t.reshape((t.shape[0], 3, 1))
    dt3 = dt.reshape((dt.shape[0], dt.shape[1], 3, 1))
    ddt3 = ddt.reshape((ddt.shape[0], ddt.shape[1], ddt.shape[2], 3, 1))
    for b_ in range(2):  # the feet stay where they are
        for i in range(3):
            for k in range(3):
                R[b_, i, k] = 1.0 if i == k else 0.0
            t[b_, i] = 0.0
    for i in range(3):
        for k in range(3):
            _put(R, dR, ddR, 4, i, k, Rp[3 * i + k], want_hess)
        tp = _jk(0.5, _ja(H0[i], H1[i]))  # mean of the hips minus R cP
        for k in range(3):
            tp = _js(tp, _jk(cP[k], Rp[3 * i + k]))
        _put(t3, dt3, ddt3, 4, i, 0, tp, want_hess)
    Up = _jc(0.0)
    reg = _jc(0.0)
    for s in range(2):
        d0x, d0y, d0z = d0v[s, 0], d0v[s, 1], d0v[s, 2]
        Hs = H0 if s == 0 else H1
        dx, dyy, dz = _jac(Hs[0], -ankle[s, 0]), _jac(Hs[1], -ankle[s, 1]), _jac(Hs[2], -ankle[s, 2])
        r = math.hypot(d0x, d0y)
        th0 = math.atan2(d0y, d0x)
        an = _jac(_jacos(_jk(1.0 / r, dx)), -th0)
        vy = _jk(r, _jsin(_jac(an, th0)))
        st = _js(_jatan2(dz, dyy), _jatan2(_jc(d0z), vy))
        ca, sa, cs, ss = _jcos(an), _jsin(an), _jcos(st), _jsin(st)
        RL = (ca, _jk(-1.0, sa), _jc(0.0), _jm(cs, sa), _jm(cs, ca), _jk(-1.0, ss), _jm(ss, sa), _jm(ss, ca), cs)
        for i in range(3):
            for k in range(3):
                _put(R, dR, ddR, 2 + s, i, k, RL[3 * i + k], want_hess)
            tl = _jc(ankle[s, i])
            for k in range(3):
                tl = _js(tl, _jk(ankle[s, k], RL[3 * i + k]))
            _put(t3, dt3, ddt3, 2 + s, i, 0, tl, want_hess)
        # pelvis relative to the thigh: vee(RL^T Rp)
        hr = (_jk(0.5, _js(_rtr(RL, Rp, 2, 1), _rtr(RL, Rp, 1, 2))), _jk(0.5, _js(_rtr(RL, Rp, 0, 2), _rtr(RL, Rp, 2, 0))),
              _jk(0.5, _js(_rtr(RL, Rp, 1, 0), _rtr(RL, Rp, 0, 1))))
        for c in range(3):
            for k in range(6):
                hip_rel[s, c, k] = hr[c][k]
        flex, dorsi = _jk(-1.0, hr[2]), _jk(-1.0, an)
        Up = _ja(Up, _jk(0.5 * pr.k_sub, _jm(st, st)))
        Up = _ja(Up, _ja(_jk(0.5 * pr.k_add, _jm(hr[0], hr[0])), _jk(0.5 * pr.k_rot, _jm(hr[1], hr[1]))))
        Up = _ja(Up, _js(_jk(0.5 * pr.k_hip, _jm(flex, flex)), _jk(pr.m_hip, flex)))
        Up = _ja(Up, _js(_jk(0.5 * pr.k_ank, _jm(dorsi, dorsi)), _jk(pr.m_ank, dorsi)))
        reg = _ja(reg, st)
    return Up, reg


@njit
def _skew(a):
    K = np.zeros((3, 3))
    K[0, 1], K[0, 2], K[1, 0], K[1, 2], K[2, 0], K[2, 1] = -a[2], a[1], a[2], -a[0], -a[1], a[0]
    return K


@njit
def _mva(A, v, add, out):
    """out = A v + add (3,)."""
    for i in range(3):
        out[i] = A[i, 0] * v[0] + A[i, 1] * v[1] + A[i, 2] * v[2] + add[i]


@njit
def _spine(pr, x, want_hess, R, dR, ddR, t, dt, ddt):
    """Bodies 5.. (above each spinal joint), composed from the pelvis up: child = parent o local,
    the local rotation ``L = Rod(bend axis, b) Rod(long axis, tau)`` about the joint centre ``c``."""
    J = pr.spine_c.shape[0]
    A, T, Ka, Kl = np.empty((3, 3)), np.empty((3, 3)), np.empty((3, 3)), np.empty((3, 3))
    L0, Lb, Lt, Lbb, Ltt, Lbt = (np.empty((3, 3)), np.empty((3, 3)), np.empty((3, 3)), np.empty((3, 3)),
                                 np.empty((3, 3)), np.empty((3, 3)))
    AK, tmp = np.empty((3, 3)), np.empty((3, 3))
    l0, lb, lt, lbb, ltt, lbt = np.empty(3), np.empty(3), np.empty(3), np.empty(3), np.empty(3), np.empty(3)
    zero = np.zeros(3)
    for j in range(J):
        p, c = 4 + j, 5 + j
        nd = 2 + 2 * j
        kb, kt = nd, nd + 1
        cj = pr.spine_c[j]
        _rod(pr.spine_bend[j], x[2 + j], A)
        _rod(pr.spine_long[j], x[2 + J + j], T)
        Ka[:, :] = _skew(pr.spine_bend[j])
        Kl[:, :] = _skew(pr.spine_long[j])
        _mul(A, T, L0)  # L
        _mul(Ka, L0, Lb)  # dL/db = Ka L
        _mul(A, Kl, AK)
        _mul(AK, T, Lt)  # dL/dtau = A Kl T
        for i in range(3):  # translations c - L c and their derivatives -L' c
            v0 = L0[i, 0] * cj[0] + L0[i, 1] * cj[1] + L0[i, 2] * cj[2]
            l0[i] = cj[i] - v0
            lb[i] = -(Lb[i, 0] * cj[0] + Lb[i, 1] * cj[1] + Lb[i, 2] * cj[2])
            lt[i] = -(Lt[i, 0] * cj[0] + Lt[i, 1] * cj[1] + Lt[i, 2] * cj[2])
        _mul(R[p], L0, R[c])
        _mva(R[p], l0, t[p], t[c])
        for i in range(nd):
            _mul(dR[p, i], L0, dR[c, i])
            _mva(dR[p, i], l0, dt[p, i], dt[c, i])
        _mul(R[p], Lb, dR[c, kb])
        _mva(R[p], lb, zero, dt[c, kb])
        _mul(R[p], Lt, dR[c, kt])
        _mva(R[p], lt, zero, dt[c, kt])
        if not want_hess:
            continue
        _mul(Ka, Lb, Lbb)
        _mul(AK, Kl, tmp)
        _mul(tmp, T, Ltt)
        _mul(Ka, Lt, Lbt)
        for i in range(3):
            lbb[i] = -(Lbb[i, 0] * cj[0] + Lbb[i, 1] * cj[1] + Lbb[i, 2] * cj[2])
            ltt[i] = -(Ltt[i, 0] * cj[0] + Ltt[i, 1] * cj[1] + Ltt[i, 2] * cj[2])
            lbt[i] = -(Lbt[i, 0] * cj[0] + Lbt[i, 1] * cj[1] + Lbt[i, 2] * cj[2])
        for i in range(nd):
            for i2 in range(nd):
                _mul(ddR[p, i, i2], L0, ddR[c, i, i2])
                _mva(ddR[p, i, i2], l0, ddt[p, i, i2], ddt[c, i, i2])
            _mul(dR[p, i], Lb, ddR[c, i, kb])
            _mva(dR[p, i], lb, zero, ddt[c, i, kb])
            _mul(dR[p, i], Lt, ddR[c, i, kt])
            _mva(dR[p, i], lt, zero, ddt[c, i, kt])
            ddR[c, kb, i] = ddR[c, i, kb]
            ddt[c, kb, i] = ddt[c, i, kb]
            ddR[c, kt, i] = ddR[c, i, kt]
            ddt[c, kt, i] = ddt[c, i, kt]
        _mul(R[p], Lbb, ddR[c, kb, kb])
        _mva(R[p], lbb, zero, ddt[c, kb, kb])
        _mul(R[p], Ltt, ddR[c, kt, kt])
        _mva(R[p], ltt, zero, ddt[c, kt, kt])
        _mul(R[p], Lbt, ddR[c, kb, kt])
        _mva(R[p], lbt, zero, ddt[c, kb, kt])
        ddR[c, kt, kb] = ddR[c, kb, kt]
        ddt[c, kt, kb] = ddt[c, kb, kt]


@njit
def _point(R, dR, dt, t, b, nd, p0, out_p, out_J):
    """Position (3,) and gradient (3, n; zero past ``nd``) of the point ``p0`` riding on body ``b``."""
    for i in range(3):
        out_p[i] = R[b, i, 0] * p0[0] + R[b, i, 1] * p0[1] + R[b, i, 2] * p0[2] + t[b, i]
    out_J[:, :] = 0.0
    for k in range(nd):
        for i in range(3):
            out_J[i, k] = dR[b, k, i, 0] * p0[0] + dR[b, k, i, 1] * p0[1] + dR[b, k, i, 2] * p0[2] + dt[b, k, i]


@njit
def _hill(F0, lopt, lref, slack, hill, act, ltendon, length):
    """Force (N) and slope (N/m) of a muscle at musculotendon length ``length`` (the formula of
    :func:`musclesim.physics.forces.muscle_forces`; ``hill`` as :class:`LateralProblem`'s)."""
    gamma, w, pe_strain, pe_shape, smooth, onset = hill[0], hill[1], hill[2], hill[3], hill[4], hill[5]
    ek = math.exp(pe_shape) - 1.0
    lt = (length - ltendon) / lopt
    fl = math.exp(-((lt - 1.0) / w) ** 2)
    xx = (lt - slack) / onset
    stretch = onset * (xx + math.log1p(math.exp(-xx)) if xx > 0 else math.log1p(math.exp(xx)))
    e = math.exp(pe_shape * stretch / pe_strain)
    fpe = (e - 1.0) / ek
    raw = F0 * (act * fl + fpe + gamma * act * (lt - lref))
    root = math.sqrt(raw * raw + smooth * smooth)
    dfl = fl * (-2.0 * (lt - 1.0) / (w * w))
    dfpe = e * (pe_shape / pe_strain) / ek * (0.5 * (1.0 + math.tanh(xx / 2.0)))
    draw = F0 * (act * dfl + dfpe + gamma * act) / lopt
    return 0.5 * (raw + root), 0.5 * (1.0 + raw / root) * draw


@njit
def _transforms(pr, x, want_hess):
    J = pr.spine_c.shape[0]
    n = 2 + 2 * J
    nb = 5 + J
    R = np.zeros((nb, 3, 3))
    dR = np.zeros((nb, n, 3, 3))
    t = np.zeros((nb, 3))
    dt = np.zeros((nb, n, 3))
    if want_hess:
        ddR = np.zeros((nb, n, n, 3, 3))
        ddt = np.zeros((nb, n, n, 3))
    else:
        ddR = np.zeros((nb, 2, 2, 3, 3))
        ddt = np.zeros((nb, 2, 2, 3))
    hip_rel = np.zeros((2, 3, 6))
    Up, reg = _pelvis_and_legs(pr, x, want_hess, R, dR, ddR, t, dt, ddt, hip_rel)
    _spine(pr, x, want_hess, R, dR, ddR, t, dt, ddt)
    return R, dR, ddR, t, dt, ddt, hip_rel, Up, reg


@njit
def lateral_evaluate(pr, z, want_jac):
    """The left-right equations at ``z = [x; mu]`` (public coordinate order).

    Returns (R (n+2,), J (n+2, n+2) or (0, 0), G (M, n) the muscles' length gradients, F (M,) their
    forces (N, the regulating trunk force included), D (n, 2) the regulators' directions, C (2, n)
    the goals' gradients, H (n, n) the energy's Hessian (exact at mu = 0; or (0, 0))). The goal rows of ``R`` are
    the goals' values minus ``pr.goal0``."""
    J = pr.spine_c.shape[0]
    n = 2 + 2 * J
    M = pr.act.shape[0]
    K = pr.pair_i0.shape[0]
    x = z[:n]
    mu0, mu1 = z[n], z[n + 1]
    R_, dR, ddR, t, dt, ddt, hip_rel, Up, reg = _transforms(pr, x, want_jac)
    nb = R_.shape[0]
    ndb = pr.nd_body
    # muscle path pieces
    length = np.zeros(M)
    G = np.zeros((M, n))  # internal order
    su = np.zeros((K, 3))
    ss = np.ones(K)
    Jd = np.zeros((K, 3, n))
    pa, pc = np.empty(3), np.empty(3)
    Ja, Jc = np.empty((3, n)), np.empty((3, n))
    for k in range(K):
        a, c = pr.pair_i0[k], pr.pair_i1[k]
        ba, bc = pr.pt_body[a], pr.pt_body[c]
        m = pr.pair_muscle[k]
        _point(R_, dR, dt, t, ba, ndb[ba], pr.p0[a], pa, Ja)
        _point(R_, dR, dt, t, bc, ndb[bc], pr.p0[c], pc, Jc)
        d = pc - pa
        s = math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
        length[m] += s
        if ba == bc:
            ss[k] = -1.0  # a rigid piece: its length does not change
            continue
        ss[k] = s
        nd = max(ndb[ba], ndb[bc])
        for i in range(3):
            su[k, i] = d[i] / s
        for q in range(nd):
            acc = 0.0
            for i in range(3):
                Jd[k, i, q] = Jc[i, q] - Ja[i, q]
                acc += su[k, i] * Jd[k, i, q]
            G[m, q] += acc
    F = np.empty(M)
    kF = np.empty(M)
    for m in range(M):
        F[m], kF[m] = _hill(pr.F0[m], pr.lopt[m], pr.lref[m], pr.slack[m], pr.hill, pr.act[m], pr.ltendon[m],
                            length[m] + pr.lbase[m])
        F[m] += pr.extra[m]
    # gravity and the centre of mass, per body
    mb = np.zeros(nb)
    mc = np.zeros((nb, 3))
    for i in range(pr.p0.shape[0]):
        w = pr.mass[i]
        if w != 0.0:
            b = pr.pt_body[i]
            mb[b] += w
            for r in range(3):
                mc[b, r] += w * pr.p0[i, r]
    mtot = mb.sum()
    g = pr.gravity
    grad = np.zeros(n)  # dE/dx, internal
    Cz = np.zeros(n)
    zc = 0.0
    for b in range(nb):
        zc += R_[b, 2, 0] * mc[b, 0] + R_[b, 2, 1] * mc[b, 1] + R_[b, 2, 2] * mc[b, 2] + mb[b] * t[b, 2]
        for q in range(ndb[b]):
            grad[q] += g * (dR[b, q, 1, 0] * mc[b, 0] + dR[b, q, 1, 1] * mc[b, 1] + dR[b, q, 1, 2] * mc[b, 2]
                            + mb[b] * dt[b, q, 1])
            Cz[q] += (dR[b, q, 2, 0] * mc[b, 0] + dR[b, q, 2, 1] * mc[b, 1] + dR[b, q, 2, 2] * mc[b, 2]
                      + mb[b] * dt[b, q, 2]) / mtot
    zc /= mtot
    # rib-cage roll
    rl, rr = pr.roll_l, pr.roll_r
    _point(R_, dR, dt, t, pr.pt_body[rl], ndb[pr.pt_body[rl]], pr.p0[rl], pa, Ja)
    _point(R_, dR, dt, t, pr.pt_body[rr], ndb[pr.pt_body[rr]], pr.p0[rr], pc, Jc)
    ry, rz = pa[1] - pc[1], pa[2] - pc[2]
    roll = math.atan2(ry, rz)
    Cr = np.zeros(n)
    r2 = ry * ry + rz * rz
    for q in range(n):
        Cr[q] = (rz * (Ja[1, q] - Jc[1, q]) - ry * (Ja[2, q] - Jc[2, q])) / r2
    # passive energy
    grad[0] += Up[1]
    grad[1] += Up[2]
    for j in range(J):
        grad[2 + 2 * j] += pr.k_bend[j] * x[2 + j]
        grad[3 + 2 * j] += pr.k_twist[j] * x[2 + J + j]
    Dreg = np.zeros(n)
    Dreg[0], Dreg[1] = reg[1], reg[2]
    Dtr = np.zeros(n)
    for m in range(M):
        if pr.s_tr[m] != 0.0:
            for q in range(n):
                Dtr[q] -= pr.s_tr[m] * G[m, q]
    for m in range(M):
        for q in range(n):
            grad[q] += F[m] * G[m, q]
    perm = pr.perm
    Rout = np.empty(n + 2)
    for q in range(n):
        Rout[perm[q]] = -grad[q] + mu0 * Dreg[q] + mu1 * Dtr[q]
    Rout[n] = zc - pr.goal0[0]
    Rout[n + 1] = roll - pr.goal0[1]
    Gout = np.empty((M, n))
    Dout = np.empty((n, 2))
    Cout = np.empty((2, n))
    for q in range(n):
        Gout[:, perm[q]] = G[:, q]
        Dout[perm[q], 0], Dout[perm[q], 1] = Dreg[q], Dtr[q]
        Cout[0, perm[q]], Cout[1, perm[q]] = Cz[q], Cr[q]
    if not want_jac:
        return Rout, np.zeros((0, 0)), Gout, F, Dout, Cout, np.zeros((0, 0))
    # the energy's Hessian
    Hm = np.zeros((n, n))
    W = np.zeros((nb, 3, 3))
    V = np.zeros((nb, 3))
    for b in range(nb):  # gravity: linear in the transforms
        for r in range(3):
            W[b, 1, r] += g * mc[b, r]
        V[b, 1] += g * mb[b]
    gk = np.empty(n)
    for k in range(K):
        if ss[k] < 0.0:
            continue
        a, c = pr.pair_i0[k], pr.pair_i1[k]
        ba, bc = pr.pt_body[a], pr.pt_body[c]
        m = pr.pair_muscle[k]
        wgt = F[m] + mu1 * pr.s_tr[m]  # the trunk regulator's curvature joins the muscle's force
        nd = max(ndb[ba], ndb[bc])
        ws = wgt / ss[k]
        for q in range(nd):
            gk[q] = su[k, 0] * Jd[k, 0, q] + su[k, 1] * Jd[k, 1, q] + su[k, 2] * Jd[k, 2, q]
        for q in range(nd):
            for q2 in range(q, nd):
                v = ws * (Jd[k, 0, q] * Jd[k, 0, q2] + Jd[k, 1, q] * Jd[k, 1, q2] + Jd[k, 2, q] * Jd[k, 2, q2]
                          - gk[q] * gk[q2])
                Hm[q, q2] += v
        for i in range(3):
            wu = wgt * su[k, i]
            V[bc, i] += wu
            V[ba, i] -= wu
            for r in range(3):
                W[bc, i, r] += wu * pr.p0[c, r]
                W[ba, i, r] -= wu * pr.p0[a, r]
    for q in range(n):
        for q2 in range(q + 1, n):
            Hm[q2, q] = Hm[q, q2]
    for m in range(M):
        for q in range(n):
            gq = kF[m] * G[m, q]
            if gq != 0.0:
                for q2 in range(n):
                    Hm[q, q2] += gq * G[m, q2]
    for b in range(nb):
        nd = ndb[b]
        for q in range(nd):
            for q2 in range(nd):
                acc = 0.0
                for i in range(3):
                    acc += V[b, i] * ddt[b, q, q2, i]
                    for r in range(3):
                        acc += W[b, i, r] * ddR[b, q, q2, i, r]
                Hm[q, q2] += acc
    Hm[0, 0] += Up[3]
    Hm[0, 1] += Up[4]
    Hm[1, 0] += Up[4]
    Hm[1, 1] += Up[5]
    for j in range(J):
        Hm[2 + 2 * j, 2 + 2 * j] += pr.k_bend[j]
        Hm[3 + 2 * j, 3 + 2 * j] += pr.k_twist[j]
    # Hm: the energy's Hessian, with the trunk regulator's curvature (mu1) in the muscles' weights
    Jout = np.zeros((n + 2, n + 2))
    Hout = np.empty((n, n))
    for q in range(n):
        for q2 in range(n):
            Hout[perm[q], perm[q2]] = Hm[q, q2]
            Jout[perm[q], perm[q2]] = -Hm[q, q2]
    Jout[perm[0], perm[0]] += mu0 * reg[3]  # the inversion regulator's curvature
    Jout[perm[0], perm[1]] += mu0 * reg[4]
    Jout[perm[1], perm[0]] += mu0 * reg[4]
    Jout[perm[1], perm[1]] += mu0 * reg[5]
    for q in range(n):
        Jout[q, n] = Dout[q, 0]
        Jout[q, n + 1] = Dout[q, 1]
        Jout[n, q] = Cout[0, q]
        Jout[n + 1, q] = Cout[1, q]
    return Rout, Jout, Gout, F, Dout, Cout, Hout


@njit
def lateral_equations(pr, z, want_jac):
    """(R, J) of :func:`lateral_evaluate`: the problem as the Newton driver sees it."""
    out = lateral_evaluate(pr, z, want_jac)
    return out[0], out[1]


@njit
def point_gradients(pr, x, idx):
    """Positions (k, 3) and gradients (k, 3, n) (public coordinate order) of the points ``idx``, and
    the pelvis's rotation vector on each thigh (2, 3) with its gradient (2, 3, n)."""
    J = pr.spine_c.shape[0]
    n = 2 + 2 * J
    R_, dR, ddR, t, dt, ddt, hip_rel, Up, reg = _transforms(pr, x, False)
    P = np.empty((idx.shape[0], 3))
    JP = np.zeros((idx.shape[0], 3, n))
    Jq = np.empty((3, n))
    for r in range(idx.shape[0]):
        i = idx[r]
        b = pr.pt_body[i]
        _point(R_, dR, dt, t, b, pr.nd_body[b], pr.p0[i], P[r], Jq)
        for q in range(n):
            JP[r, :, pr.perm[q]] = Jq[:, q]
    HR = np.empty((2, 3))
    HRJ = np.zeros((2, 3, n))
    for s in range(2):
        for c in range(3):
            HR[s, c] = hip_rel[s, c, 0]
            HRJ[s, c, 0] = hip_rel[s, c, 1]
            HRJ[s, c, 1] = hip_rel[s, c, 2]
    return P, JP, HR, HRJ


@overload(problem_equations)
def _lateral_problem_equations(problem, z, want_jac):
    if isinstance(problem, types.BaseNamedTuple) and problem.instance_class is LateralProblem:
        def impl(problem, z, want_jac):
            return lateral_equations(problem, z, want_jac)
        return impl
    return None


@njit
def lateral_solve(pr, s, idx):
    """The whole left-right solve in one call: the equations and their exact Jacobian at ``x = 0``
    (which set ``pr.goal0``), the Newton driver from there (:func:`newton_on`, settings ``s``), the
    stability at ``x = 0`` (:func:`min_reduced_eig`), the points ``idx`` the measures read (at
    ``x = 0`` with their gradients, and at the answer) and each muscle's linear response.

    Returns (z, R, iterations, min_eig, G, F, D, P0, JP0, HRJ0, P1, HR1, dx)."""
    J = pr.spine_c.shape[0]
    n = 2 + 2 * J
    z0 = np.zeros(n + 2)
    R0, J0, G, F, D, C, H = lateral_evaluate(pr, z0, True)
    pr.goal0[0] = R0[n]
    pr.goal0[1] = R0[n + 1]
    z, R, it, B, exact = newton_on(pr, n, z0, J0, True, s.tol_moment, s.tol_goal, False, s)
    min_eig = min_reduced_eig(J0, n, 2)
    P0, JP0, HR0, HRJ0 = point_gradients(pr, z0[:n], idx)
    P1, _, HR1, _ = point_gradients(pr, z[:n], idx)
    M = G.shape[0]
    rhs = np.zeros((n + 2, M))
    for m in range(M):
        for q in range(n):
            rhs[q, m] = G[m, q] * F[m]  # each muscle's generalised pull dE/dx
    dx = np.linalg.solve(J0, rhs)[:n].copy()
    return z, R, it, min_eig, G, F, D, P0, JP0, HRJ0, P1, HR1, dx
