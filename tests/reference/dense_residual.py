"""The dense residual and Jacobian of the sagittal equations: an oracle for the compiled core.

This is the first compiled version's formula, every term written out in one function, with the
arrays passed positionally (``ints``: ankle, neck, gaze, upright, k, strut points, knee; ``floats``:
gamma, fl width, pe strain, pe shape, gravity, COM target, smooth force, passive onset, trunk
blend, knee spring (N·m/rad), then [10:13] unused here, iap rest, iap gain, then the wall weights). :func:`dense_args`
builds them from a :class:`musclesim.physics.compiled.CompiledModel`, so the test compares two
independent codings of the same equations. The numpy mechanics (:mod:`musclesim.mechanics`) is the
second oracle.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


def dense_args(cm) -> tuple:
    """The positional arrays of :func:`residual_jacobian_dense` from a CompiledModel ``cm``."""
    ints = np.array([cm.ankle_dof, cm.neck_dof, cm.gaze_seg, cm.upright_seg, cm.k, cm.strut_i0, cm.strut_i1,
                     cm.knee_dof], dtype=np.int64)
    floats = np.concatenate((np.array([cm.gamma, cm.fl_width, cm.pe_strain, cm.pe_shape, cm.gravity, cm.com_target,
                                       cm.smooth_force, cm.passive_onset, cm.trunk_blend, cm.knee_k, 0.0, 0.0, 0.0,
                                       cm.iap_rest, cm.iap_gain]), cm.iap_weight))
    return (cm.anc, cm.seg_parent, cm.seg_c0, cm.dof_seg, cm.pt_seg, cm.pt_r0, cm.pair_i0, cm.pair_i1, cm.pair_m,
            cm.F0, cm.lopt, cm.lref, cm.slack, cm.seg_mass, cm.dof_bil, cm.pc0, cm.pkl, cm.ps, cm.pa, cm.pb, cm.pcpl,
            cm.ext_idx, cm.flx_idx, ints, floats)


@njit(cache=True)
def _logaddexp0(x):
    if x > 0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@njit(cache=True)
def _add_pressure(R, J, want_jac, lam, F, dF, g, alpha, P, anc, seg_c0, dof_seg, pt_seg, pt_r0, ext_idx, flx_idx,
                  ints, floats):
    """Add the intra-abdominal pressure's strut to the residual ``R`` (and Jacobian ``J``) in place."""
    i0, i1 = ints[5], ints[6]
    if i0 < 0:
        return
    S, n = anc.shape
    k = ints[4]
    M = F.shape[0]
    rest, gain, blend = floats[13], floats[14], floats[8]
    pp = np.zeros((2, 2))
    dd = np.zeros((2, n, 2))
    for e in range(2):
        i = i0 if e == 0 else i1
        s = pt_seg[i]
        vx = pt_r0[i, 0] - seg_c0[s, 0]
        vy = pt_r0[i, 1] - seg_c0[s, 1]
        ca, sa = math.cos(alpha[s]), math.sin(alpha[s])
        pp[e, 0] = P[s, 0] + vx * ca + vy * sa
        pp[e, 1] = P[s, 1] - vx * sa + vy * ca
        for j in range(n):
            A = anc[s, j]
            if A != 0.0:
                js = dof_seg[j]
                dd[e, j, 0] = A * (pp[e, 1] - P[js, 1])
                dd[e, j, 1] = -A * (pp[e, 0] - P[js, 0])
    dx = pp[1, 0] - pp[0, 0]
    dy = pp[1, 1] - pp[0, 1]
    L = math.sqrt(dx * dx + dy * dy)
    ux, uy = dx / L, dy / L
    delta = np.zeros((n, 2))
    gs = np.zeros(n)
    for j in range(n):
        delta[j, 0] = dd[1, j, 0] - dd[0, j, 0]
        delta[j, 1] = dd[1, j, 1] - dd[0, j, 1]
        gs[j] = ux * delta[j, 0] + uy * delta[j, 1]
    T = 0.0
    for m in range(M):
        T += floats[15 + m] * F[m]
    s_ext = 0.0
    wext = 0.0
    wflx = 0.0
    if k > 0:
        x = lam[2] / blend
        f_ext = blend * _logaddexp0(x)
        f_flx = f_ext - lam[2]
        s_ext = 0.5 * (1.0 + math.tanh(x / 2.0))
        for i in range(ext_idx.shape[0]):
            wext += floats[15 + ext_idx[i]]
        wext /= ext_idx.shape[0]
        for i in range(flx_idx.shape[0]):
            wflx += floats[15 + flx_idx[i]]
        wflx /= flx_idx.shape[0]
        T += f_ext * wext + f_flx * wflx
    Fs = rest + gain * T
    for j in range(n):
        R[j] += Fs * gs[j]
    if not want_jac:
        return
    dT = np.zeros(n)
    for l in range(n):
        acc = 0.0
        for m in range(M):
            acc += floats[15 + m] * dF[m] * g[m, l]
        dT[l] = acc
    s0, s1 = pt_seg[i0], pt_seg[i1]
    up1 = ux * pp[1, 0] + uy * pp[1, 1]
    up0 = ux * pp[0, 0] + uy * pp[0, 1]
    for j in range(n):
        for l in range(n):
            js = dof_seg[max(l, j)]
            uPD = ux * P[js, 0] + uy * P[js, 1]
            curv = -anc[s1, j] * anc[s1, l] * (up1 - uPD) + anc[s0, j] * anc[s0, l] * (up0 - uPD)
            Hs = (delta[j, 0] * delta[l, 0] + delta[j, 1] * delta[l, 1] - gs[j] * gs[l]) / L + curv
            J[j, l] += gain * gs[j] * dT[l] + Fs * Hs
        if k > 0:
            J[j, n + 2] += gs[j] * gain * (s_ext * wext + (s_ext - 1.0) * wflx)


@njit(cache=True)
def residual_jacobian_dense(q, lam, act, ltendon, want_jac, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0,
                            pair_i1, pair_m, F0, lopt, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb, pcpl, ext_idx,
                            flx_idx, ints, floats):
    """Residual [Q; goals] (n+k) and, if ``want_jac``, its Jacobian (n+k, n+k) at one pose: every
    term of the equations written out in one function, zeros included (the formula of the first
    compiled version, kept as an oracle for :func:`musclesim.physics.residual.residual_jacobian`)."""
    S, n = anc.shape
    k = ints[4]
    gamma, w, pe_strain, pe_shape, grav, com_target = floats[0], floats[1], floats[2], floats[3], floats[4], floats[5]
    smooth, onset, blend = floats[6], floats[7], floats[8]
    Np = pt_seg.shape[0]
    M = F0.shape[0]
    K = pair_i0.shape[0]
    # --- kinematics
    alpha = np.zeros(S)
    for s in range(S):
        acc = 0.0
        for j in range(n):
            acc += anc[s, j] * q[j]
        alpha[s] = acc
    P = np.zeros((S, 2))
    P[0, 0] = seg_c0[0, 0]
    P[0, 1] = seg_c0[0, 1]
    for s in range(1, S):
        par = seg_parent[s]
        vx = seg_c0[s, 0] - seg_c0[par, 0]
        vy = seg_c0[s, 1] - seg_c0[par, 1]
        ca, sa = math.cos(alpha[par]), math.sin(alpha[par])
        P[s, 0] = P[par, 0] + vx * ca + vy * sa
        P[s, 1] = P[par, 1] - vx * sa + vy * ca
    p = np.zeros((Np, 2))
    dp = np.zeros((Np, n, 2))
    for i in range(Np):
        s = pt_seg[i]
        vx = pt_r0[i, 0] - seg_c0[s, 0]
        vy = pt_r0[i, 1] - seg_c0[s, 1]
        ca, sa = math.cos(alpha[s]), math.sin(alpha[s])
        p[i, 0] = P[s, 0] + vx * ca + vy * sa
        p[i, 1] = P[s, 1] - vx * sa + vy * ca
        for j in range(n):
            A = anc[s, j]
            if A != 0.0:
                js = dof_seg[j]
                dp[i, j, 0] = A * (p[i, 1] - P[js, 1])
                dp[i, j, 1] = -A * (p[i, 0] - P[js, 0])
    # --- muscle lengths, first and second derivatives
    length = np.zeros(M)
    g = np.zeros((M, n))
    H = np.zeros((M, n, n)) if want_jac else np.zeros((1, 1, 1))
    delta = np.zeros((n, 2))
    proj = np.zeros(n)
    for kk in range(K):
        a0, a1, m = pair_i0[kk], pair_i1[kk], pair_m[kk]
        dx = p[a1, 0] - p[a0, 0]
        dy = p[a1, 1] - p[a0, 1]
        L = math.sqrt(dx * dx + dy * dy)
        ux, uy = dx / L, dy / L
        length[m] += L
        for j in range(n):
            delta[j, 0] = dp[a1, j, 0] - dp[a0, j, 0]
            delta[j, 1] = dp[a1, j, 1] - dp[a0, j, 1]
            proj[j] = ux * delta[j, 0] + uy * delta[j, 1]
            g[m, j] += proj[j]
        if want_jac:
            up1 = ux * p[a1, 0] + uy * p[a1, 1]
            up0 = ux * p[a0, 0] + uy * p[a0, 1]
            s1, s0 = pt_seg[a1], pt_seg[a0]
            for j in range(n):
                for l in range(n):
                    js = dof_seg[max(l, j)]
                    uPD = ux * P[js, 0] + uy * P[js, 1]
                    curv = -anc[s1, j] * anc[s1, l] * (up1 - uPD) + anc[s0, j] * anc[s0, l] * (up0 - uPD)
                    H[m, j, l] += (delta[j, 0] * delta[l, 0] + delta[j, 1] * delta[l, 1] - proj[j] * proj[l]) / L + curv
    # --- muscle forces and their slopes
    F = np.zeros(M)
    dF = np.zeros(M)
    ek = math.exp(pe_shape) - 1.0
    for m in range(M):
        lt = (length[m] - ltendon[m]) / lopt[m]
        fl = math.exp(-((lt - 1.0) / w) ** 2)
        dfl = fl * (-2.0 * (lt - 1.0) / (w * w))
        x = (lt - slack[m]) / onset
        stretch = onset * _logaddexp0(x)
        e = math.exp(pe_shape * stretch / pe_strain)
        fpe = (e - 1.0) / ek
        dfpe = e * (pe_shape / pe_strain) / ek * (0.5 * (1.0 + math.tanh(x / 2.0)))
        raw = F0[m] * (act[m] * fl + fpe + gamma * act[m] * (lt - lref[m]))
        draw = F0[m] * (act[m] * dfl + dfpe + gamma * act[m]) / lopt[m]
        root = math.sqrt(raw * raw + smooth * smooth)
        F[m] = 0.5 * (raw + root)
        dF[m] = 0.5 * (1.0 + raw / root) * draw
    # --- moments
    N = n + k
    R = np.zeros(N)
    J = np.zeros((N, N))
    cross = np.zeros((n, n))  # coupled passive laws: dM_j/dq_k, added after the other terms
    for j in range(n):
        acc = 0.0
        for m in range(M):
            acc -= F[m] * g[m, j]
        for s in range(S):
            acc -= seg_mass[s] * grav * dp[s, j, 1]
        deg = q[j] * 180.0 / math.pi
        pm = pc0[j] + pkl[j] * deg
        slope = pkl[j]
        for t in range(ps.shape[1]):
            expo = pa[j, t] + pb[j, t] * deg
            for kk in range(n):  # laws coupled to neighbouring joints (two-joint muscles)
                expo += pcpl[j, t, kk] * q[kk] * 180.0 / math.pi
            ex = ps[j, t] * math.exp(expo)
            pm += ex
            slope += ex * pb[j, t]
            if want_jac:
                for kk in range(n):
                    if kk != j:
                        cross[j, kk] += dof_bil[j] * ex * pcpl[j, t, kk] * 180.0 / math.pi
        R[j] = acc + pm * dof_bil[j]
        if want_jac:
            J[j, j] += dof_bil[j] * slope * 180.0 / math.pi
    if want_jac:
        for j in range(n):
            for l in range(n):
                acc = 0.0
                for m in range(M):
                    acc -= dF[m] * g[m, j] * g[m, l] + F[m] * H[m, j, l]
                js = dof_seg[max(l, j)]
                for s in range(S):
                    acc += seg_mass[s] * grav * anc[s, j] * anc[s, l] * (p[s, 1] - P[js, 1])
                J[j, l] += acc
                if l != j:
                    J[j, l] += cross[j, l]
    if k > 0:
        ankle, neck, gaze, upright = ints[0], ints[1], ints[2], ints[3]
        knee = ints[7]
        if knee >= 0:  # the knees' postural spring (standing only)
            R[knee] -= floats[9] * q[knee]
            if want_jac:
                J[knee, knee] -= floats[9]
        x = lam[2] / blend
        f_ext = blend * _logaddexp0(x)
        f_flx = f_ext - lam[2]
        s_ext = 0.5 * (1.0 + math.tanh(x / 2.0))
        ne, nf = ext_idx.shape[0], flx_idx.shape[0]
        R[ankle] += lam[0]
        R[neck] += lam[1]
        for j in range(n):
            ext = 0.0
            flx = 0.0
            for i in range(ne):
                ext -= g[ext_idx[i], j] / ne
            for i in range(nf):
                flx -= g[flx_idx[i], j] / nf
            R[j] += f_ext * ext + f_flx * flx
            if want_jac:
                J[j, n + 2] = s_ext * ext + (s_ext - 1.0) * flx
                for l in range(n):
                    he = 0.0
                    hf = 0.0
                    for i in range(ne):
                        he += H[ext_idx[i], j, l] / ne
                    for i in range(nf):
                        hf += H[flx_idx[i], j, l] / nf
                    J[j, l] -= f_ext * he + f_flx * hf
        total = 0.0
        comx = 0.0
        for s in range(S):
            total += seg_mass[s]
            comx += seg_mass[s] * p[s, 0]
        R[n] = comx / total - com_target
        R[n + 1] = alpha[gaze]
        R[n + 2] = alpha[upright]
        if want_jac:
            J[ankle, n] = 1.0
            J[neck, n + 1] = 1.0
            for j in range(n):
                acc = 0.0
                for s in range(S):
                    acc += seg_mass[s] * dp[s, j, 0]
                J[n, j] = acc / total
                J[n + 1, j] = anc[gaze, j]
                J[n + 2, j] = anc[upright, j]
    _add_pressure(R, J, want_jac, lam, F, dF, g, alpha, P, anc, seg_c0, dof_seg, pt_seg, pt_r0, ext_idx, flx_idx,
                  ints, floats)
    return R, J
