"""Compiled kernels (numba) for the regulated equilibrium: same equations as :mod:`musclesim.mechanics`.

The numpy implementation in :mod:`musclesim.mechanics` is the readable reference; these kernels
compute the same residual and exact Jacobian for one pose in compiled loops, and run the whole
Newton / Broyden iteration without returning to Python. ``tests/test_kernels.py`` checks that
both give the same residual, Jacobian and answers.

numba is optional (``pip install musclesim[fast]``); without it :func:`available` is False and
the numpy path is used. Kernels are compiled on first use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import math

import numpy as np

try:  # pragma: no cover - exercised when numba is installed
    import numba as _numba

    njit = _numba.njit(cache=True, nogil=True)
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

    def njit(f):
        return f


def available() -> bool:
    """True when the compiled kernels can be used."""
    return HAVE_NUMBA


def pack(mech) -> tuple:
    """The arrays the kernels need, from a prepared :class:`~musclesim.mechanics.Mechanics`."""
    from . import mechanics as mx

    c = mech.chain
    c0, kl, s, a, b = mech.passive_arrays
    # ints[5:7]: the intra-abdominal pressure's strut (pelvic-floor and diaphragm point), -1 without one;
    # floats[13:15]: its rest force and gain (N per N of hoop tension), floats[15:15+M]: the wall weights
    strut = c.iap_pts if c.has_pressure else np.array([-1, -1])
    ints = np.array([mech.ankle_dof, mech.neck_dof, mech.gaze_seg, mech.upright_seg, mech.k, strut[0], strut[1]],
                    dtype=np.int64)
    weights = c.iap_weight if c.has_pressure else np.zeros(len(c.F0_N))
    floats = np.concatenate((np.array([mech.gamma, mech.fl_width, mech.pe_strain, mech.pe_shape, c.gravity,
                                       mech.com_target_x_m, mx.SMOOTH_FORCE_N, mx.PASSIVE_ONSET, mx.TRUNK_BLEND_N,
                                       mx.TOL_MOMENT_NM, mx.TOL_GOAL, mx.MAX_STEP_RAD, mx.CHORD_CONTRACTION,
                                       c.iap_rest_N, c.iap_gain]), weights))
    return (c.anc, c.seg_parent.astype(np.int64), c.seg_c0, c.dof_seg.astype(np.int64), c.pt_seg.astype(np.int64),
            c.pt_r0, c.pair_i0.astype(np.int64), c.pair_i1.astype(np.int64), c.pair_muscle.astype(np.int64),
            c.F0_N, c.l_opt_m, c.l_tendon_m, c.l_ref_norm, c.slack_norm, c.seg_mass_kg, c.dof_bilateral,
            c0, kl, s, a, b, mech.extensor_idx.astype(np.int64), mech.flexor_idx.astype(np.int64), ints, floats)


@njit
def _logaddexp0(x):
    if x > 0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@njit
def _add_pressure(R, J, want_jac, lam, F, dF, g, alpha, P, anc, seg_c0, dof_seg, pt_seg, pt_r0, ext_idx, flx_idx,
                  ints, floats):
    """Add the intra-abdominal pressure's strut to the residual ``R`` (and Jacobian ``J``) in place:
    ``Q_s = F_s dl_s/dq`` with ``F_s = rest + gain * T_wall`` (see :func:`musclesim.mechanics.strut_force_N`).
    Shared by the reference and the sparse kernel, so both give the same bits."""
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


@njit
def _residual_jacobian_ref(q, lam, act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m,
                           F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb, ext_idx, flx_idx,
                           ints, floats, want_jac):
    """Residual [Q; goals] (n+k) and, if ``want_jac``, its Jacobian (n+k, n+k) at one pose: every
    term of the equations written out, zeros included. The reference that :func:`residual_jacobian`
    reproduces bit for bit, and its fallback when a pose gives non-finite values."""
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
            ex = ps[j, t] * math.exp(pa[j, t] + pb[j, t] * deg)
            pm += ex
            slope += ex * pb[j, t]
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
    if k > 0:
        ankle, neck, gaze, upright = ints[0], ints[1], ints[2], ints[3]
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


@njit
def structure(anc, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, M):
    """Sparsity pattern of one model's equations, for :func:`residual_jacobian_ws` (read only: one
    serves every thread; see :func:`workspace`).

    The residual needs the segments' centres of mass (points 0..S-1) and the muscle path points,
    not the landmarks; a point moves with joint ``j`` only if ``anc[s, j] != 0``; a muscle's length
    depends on joint ``j`` only if one of its path pieces spans it. Every term left out for these
    reasons is an exact zero, so the sums that remain give the reference's numbers bit for bit.
    """
    S, n = anc.shape
    Np = pt_seg.shape[0]
    K = pair_i0.shape[0]
    # a point on the same segment at the same place as an earlier one has the same position and
    # derivatives (left and right muscles share their sagittal paths): computed once
    canon = np.arange(Np)
    for i in range(Np):
        for i2 in range(i):
            if canon[i2] == i2 and pt_seg[i2] == pt_seg[i] and pt_r0[i2, 0] == pt_r0[i, 0] \
                    and pt_r0[i2, 1] == pt_r0[i, 1]:
                canon[i] = i2
                break
    need = np.zeros(Np, dtype=np.bool_)
    need[:S] = True
    pair_c0 = np.zeros(K, dtype=np.int64)  # path pieces' ends as computed points
    pair_c1 = np.zeros(K, dtype=np.int64)
    for kk in range(K):
        pair_c0[kk] = canon[pair_i0[kk]]
        pair_c1[kk] = canon[pair_i1[kk]]
        need[pair_c0[kk]] = True
        need[pair_c1[kk]] = True
    pts = np.flatnonzero(need)
    # a muscle whose pieces run between the same computed points, in the same order, as an earlier
    # muscle's has the same length and derivatives (the same sums, term by term): its twin's are copied
    mus_pairs = np.zeros((M, K), dtype=np.int64)
    mus_np = np.zeros(M, dtype=np.int64)
    for kk in range(K):
        m = pair_m[kk]
        mus_pairs[m, mus_np[m]] = kk
        mus_np[m] += 1
    twin = np.arange(M)
    for m in range(M):
        for m2 in range(m):
            if twin[m2] != m2 or mus_np[m2] != mus_np[m]:
                continue
            same = True
            for t in range(mus_np[m]):
                a, b = mus_pairs[m, t], mus_pairs[m2, t]
                if pair_c0[a] != pair_c0[b] or pair_c1[a] != pair_c1[b]:
                    same = False
                    break
            if same:
                twin[m] = m2
                break
    seg_sup = np.zeros((S, n), dtype=np.int64)  # per segment: the joints that move it, ascending
    seg_cnt = np.zeros(S, dtype=np.int64)
    for s in range(S):
        for j in range(n):
            if anc[s, j] != 0.0:
                seg_sup[s, seg_cnt[s]] = j
                seg_cnt[s] += 1
    pair_sup = np.zeros((K, n), dtype=np.int64)  # per path piece: the joints that move either end
    pair_cnt = np.zeros(K, dtype=np.int64)
    touch = np.zeros((M, n), dtype=np.bool_)  # muscle m's length depends on joint j
    for kk in range(K):
        s0, s1 = pt_seg[pair_i0[kk]], pt_seg[pair_i1[kk]]
        for j in range(n):
            if anc[s0, j] != 0.0 or anc[s1, j] != 0.0:
                pair_sup[kk, pair_cnt[kk]] = j
                pair_cnt[kk] += 1
                touch[pair_m[kk], j] = True
    dof_mus = np.zeros((n, M), dtype=np.int64)  # per joint: the muscles spanning it, ascending
    dof_mcnt = np.zeros(n, dtype=np.int64)
    mus_dof = np.zeros((M, n), dtype=np.int64)  # per muscle: the joints it spans, ascending
    mus_dcnt = np.zeros(M, dtype=np.int64)
    for m in range(M):
        for j in range(n):
            if touch[m, j]:
                dof_mus[j, dof_mcnt[j]] = m
                dof_mcnt[j] += 1
                mus_dof[m, mus_dcnt[m]] = j
                mus_dcnt[m] += 1
    jl_mus = np.zeros((n, n, M), dtype=np.int64)  # per pair of joints: the muscles spanning both, ascending
    jl_cnt = np.zeros((n, n), dtype=np.int64)
    jl_seg = np.zeros((n, n, S), dtype=np.int64)  # per pair of joints: the segments both move, ascending
    jl_scnt = np.zeros((n, n), dtype=np.int64)
    for j in range(n):
        for l in range(n):
            for m in range(M):
                if touch[m, j] and touch[m, l]:
                    jl_mus[j, l, jl_cnt[j, l]] = m
                    jl_cnt[j, l] += 1
            for s in range(S):
                if anc[s, j] != 0.0 and anc[s, l] != 0.0:
                    jl_seg[j, l, jl_scnt[j, l]] = s
                    jl_scnt[j, l] += 1
    ints = (pts, seg_sup, seg_cnt, pair_sup, pair_cnt, dof_mus, dof_mcnt, mus_dof, mus_dcnt, jl_mus, jl_cnt, jl_seg,
            jl_scnt, pair_c0, pair_c1, twin)
    return touch, ints


@njit
def scratch(S, Np, n, M):
    """Scratch arrays for :func:`residual_jacobian_ws`, one set per thread (every call overwrites
    them); ``dp`` stays zero wherever ``anc`` is zero (those entries are never written)."""
    return (np.zeros(S), np.zeros((S, 2)), np.zeros((Np, 2)), np.zeros((Np, n, 2)), np.zeros(M), np.zeros((M, n)),
            np.zeros((M, n, n)), np.zeros((n, 2)), np.zeros(n), np.zeros(M), np.zeros(M), np.zeros(S), np.zeros(S), np.zeros(n), np.zeros(n),
            np.zeros((0, 0)))


@njit
def workspace(anc, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, M):
    """(:func:`structure`, :func:`scratch`): what :func:`residual_jacobian_ws` needs besides the model arrays."""
    touch, ints = structure(anc, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, M)
    return touch, ints, scratch(anc.shape[0], pt_seg.shape[0], anc.shape[1], M)


@njit
def residual_jacobian_ws(q, lam, act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m,
                         F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb, ext_idx, flx_idx,
                         ints, floats, want_jac, ws):
    """:func:`_residual_jacobian_ref` with the structural zeros of ``ws`` (:func:`workspace`) skipped.

    Same operations in the same order on every term that is not an exact zero, hence the same bits.
    When ``want_jac`` is False the returned Jacobian is an empty (0, 0) array. A pose with a
    zero-length or non-finite path piece or a non-finite force is handed to the reference (there
    a NaN spreads through terms this version skips).
    """
    touch, wi, bufs = ws
    (pts, seg_sup, seg_cnt, pair_sup, pair_cnt, dof_mus, dof_mcnt, mus_dof, mus_dcnt, jl_mus, jl_cnt, jl_seg, jl_scnt,
     pair_c0, pair_c1, twin) = wi
    alpha, P, p, dp, length, g, H, delta, proj, F, dF, cos_a, sin_a, d1, d0, no_jac = bufs
    S, n = anc.shape
    k = ints[4]
    gamma, w, pe_strain, pe_shape, grav, com_target = floats[0], floats[1], floats[2], floats[3], floats[4], floats[5]
    smooth, onset, blend = floats[6], floats[7], floats[8]
    M = F0.shape[0]
    K = pair_i0.shape[0]
    # --- kinematics
    for s in range(S):
        acc = 0.0
        for j in range(n):
            acc += anc[s, j] * q[j]
        alpha[s] = acc
        cos_a[s] = math.cos(acc)  # once per segment, not once per point
        sin_a[s] = math.sin(acc)
    P[0, 0] = seg_c0[0, 0]
    P[0, 1] = seg_c0[0, 1]
    for s in range(1, S):
        par = seg_parent[s]
        vx = seg_c0[s, 0] - seg_c0[par, 0]
        vy = seg_c0[s, 1] - seg_c0[par, 1]
        ca, sa = cos_a[par], sin_a[par]
        P[s, 0] = P[par, 0] + vx * ca + vy * sa
        P[s, 1] = P[par, 1] - vx * sa + vy * ca
    for ii in range(pts.shape[0]):
        i = pts[ii]
        s = pt_seg[i]
        vx = pt_r0[i, 0] - seg_c0[s, 0]
        vy = pt_r0[i, 1] - seg_c0[s, 1]
        ca, sa = cos_a[s], sin_a[s]
        p[i, 0] = P[s, 0] + vx * ca + vy * sa
        p[i, 1] = P[s, 1] - vx * sa + vy * ca
        for t in range(seg_cnt[s]):
            j = seg_sup[s, t]
            A = anc[s, j]
            js = dof_seg[j]
            dp[i, j, 0] = A * (p[i, 1] - P[js, 1])
            dp[i, j, 1] = -A * (p[i, 0] - P[js, 0])
    # --- muscle lengths, first and second derivatives
    bad = False
    for m in range(M):
        length[m] = 0.0
        for j in range(n):
            g[m, j] = 0.0
    if want_jac:
        H[:] = 0.0
    for kk in range(K):
        a0, a1, m = pair_c0[kk], pair_c1[kk], pair_m[kk]
        if twin[m] != m:
            continue
        dx = p[a1, 0] - p[a0, 0]
        dy = p[a1, 1] - p[a0, 1]
        L = math.sqrt(dx * dx + dy * dy)
        if not (L > 0.0 and L < np.inf):
            bad = True
            break
        ux, uy = dx / L, dy / L
        length[m] += L
        cnt = pair_cnt[kk]
        for t in range(cnt):
            j = pair_sup[kk, t]
            delta[j, 0] = dp[a1, j, 0] - dp[a0, j, 0]
            delta[j, 1] = dp[a1, j, 1] - dp[a0, j, 1]
            proj[j] = ux * delta[j, 0] + uy * delta[j, 1]
            g[m, j] += proj[j]
        if want_jac:
            up1 = ux * p[a1, 0] + uy * p[a1, 1]
            up0 = ux * p[a0, 0] + uy * p[a0, 1]
            s1, s0 = pt_seg[a1], pt_seg[a0]
            for t in range(cnt):  # per column l: u.(p - P_l) at both ends (js of max(j, l) = l below)
                l = pair_sup[kk, t]
                js = dof_seg[l]
                uPD = ux * P[js, 0] + uy * P[js, 1]
                d1[l] = up1 - uPD
                d0[l] = up0 - uPD
            for t in range(cnt):
                j = pair_sup[kk, t]
                c1 = -anc[s1, j]
                c0 = anc[s0, j]
                dj0, dj1, pj = delta[j, 0], delta[j, 1], proj[j]
                for t2 in range(t, cnt):  # j <= l; H is symmetric bit for bit, mirrored below
                    l = pair_sup[kk, t2]
                    curv = c1 * anc[s1, l] * d1[l] + c0 * anc[s0, l] * d0[l]
                    H[m, j, l] += (dj0 * delta[l, 0] + dj1 * delta[l, 1] - pj * proj[l]) / L + curv
    for m in range(M):
        if twin[m] != m:
            length[m] = length[twin[m]]
    # --- muscle forces and their slopes
    ek = math.exp(pe_shape) - 1.0
    if not bad:
        for m in range(M):
            m2 = twin[m]
            if m2 != m and act[m] == act[m2] and ltendon[m] == ltendon[m2] and lopt[m] == lopt[m2] \
                    and F0[m] == F0[m2] and lref[m] == lref[m2] and slack[m] == slack[m2]:
                F[m] = F[m2]  # the same inputs as its twin (same side tone): the same numbers
                dF[m] = dF[m2]
                continue
            lt = (length[m] - ltendon[m]) / lopt[m]
            fl = math.exp(-((lt - 1.0) / w) ** 2)
            x = (lt - slack[m]) / onset
            stretch = onset * _logaddexp0(x)
            e = math.exp(pe_shape * stretch / pe_strain)
            fpe = (e - 1.0) / ek
            raw = F0[m] * (act[m] * fl + fpe + gamma * act[m] * (lt - lref[m]))
            root = math.sqrt(raw * raw + smooth * smooth)
            F[m] = 0.5 * (raw + root)
            if not (abs(F[m]) < np.inf):
                bad = True
            if want_jac:
                dfl = fl * (-2.0 * (lt - 1.0) / (w * w))
                dfpe = e * (pe_shape / pe_strain) / ek * (0.5 * (1.0 + math.tanh(x / 2.0)))
                draw = F0[m] * (act[m] * dfl + dfpe + gamma * act[m]) / lopt[m]
                dF[m] = 0.5 * (1.0 + raw / root) * draw
                if not (abs(dF[m]) < np.inf):
                    bad = True
    if bad:
        R, J = _residual_jacobian_ref(q, lam, act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1,
                                      pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb,
                                      ext_idx, flx_idx, ints, floats, want_jac)
        if not want_jac:
            J = no_jac
        return R, J
    if want_jac:
        for m in range(M):
            if twin[m] != m:
                continue
            c = mus_dcnt[m]
            for t in range(c):
                j = mus_dof[m, t]
                for t2 in range(t + 1, c):
                    l = mus_dof[m, t2]
                    H[m, l, j] = H[m, j, l]
    for m in range(M):
        m2 = twin[m]
        if m2 != m:
            for t in range(mus_dcnt[m]):
                j = mus_dof[m, t]
                g[m, j] = g[m2, j]
                if want_jac:
                    for t2 in range(mus_dcnt[m]):
                        l = mus_dof[m, t2]
                        H[m, j, l] = H[m2, j, l]
    # --- moments
    N = n + k
    R = np.zeros(N)
    J = np.zeros((N, N)) if want_jac else no_jac
    for j in range(n):
        acc = 0.0
        for t in range(dof_mcnt[j]):
            m = dof_mus[j, t]
            acc -= F[m] * g[m, j]
        for s in range(S):
            if anc[s, j] != 0.0:
                acc -= seg_mass[s] * grav * dp[s, j, 1]
        deg = q[j] * 180.0 / math.pi
        pm = pc0[j] + pkl[j] * deg
        slope = pkl[j]
        for t in range(ps.shape[1]):
            ex = ps[j, t] * math.exp(pa[j, t] + pb[j, t] * deg)
            pm += ex
            slope += ex * pb[j, t]
        R[j] = acc + pm * dof_bil[j]
        if want_jac:
            J[j, j] += dof_bil[j] * slope * 180.0 / math.pi
    if want_jac:
        for j in range(n):
            for l in range(n):
                acc = 0.0
                for t in range(jl_cnt[j, l]):
                    m = jl_mus[j, l, t]
                    acc -= dF[m] * g[m, j] * g[m, l] + F[m] * H[m, j, l]
                js = dof_seg[max(l, j)]
                for t in range(jl_scnt[j, l]):
                    s = jl_seg[j, l, t]
                    acc += seg_mass[s] * grav * anc[s, j] * anc[s, l] * (p[s, 1] - P[js, 1])
                J[j, l] += acc
    if k > 0:
        ankle, neck, gaze, upright = ints[0], ints[1], ints[2], ints[3]
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


@njit
def residual_jacobian(q, lam, act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m,
                      F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb, ext_idx, flx_idx,
                      ints, floats, want_jac):
    """Residual [Q; goals] (n+k) and, if ``want_jac``, its Jacobian (n+k, n+k) at one pose."""
    ws = workspace(anc, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0.shape[0])
    R, J = residual_jacobian_ws(q, lam, act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m,
                                F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb, ext_idx,
                                flx_idx, ints, floats, want_jac, ws)
    if not want_jac:
        J = np.zeros((R.shape[0], R.shape[0]))
    return R, J


@njit
def _norm(R, n):
    acc = 0.0
    for i in range(R.shape[0]):
        v = R[i] if i < n else R[i] * 1e3
        acc += v * v
    return math.sqrt(acc)


@njit
def _converged(R, n, tol_m, tol_g):
    for i in range(R.shape[0]):
        if i < n:
            if abs(R[i]) >= tol_m:
                return False
        elif abs(R[i]) >= tol_g:
            return False
    return True


@njit
def _solve_ws(q0, lam0, act, J0, use_J0, max_iter, want_final_jac, anc, seg_parent, seg_c0, dof_seg, pt_seg,
                 pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa,
                 pb, ext_idx, flx_idx, ints, floats, ws):
    """:func:`solve_kernel` with a :func:`workspace` (reused across the solves of a continuation)."""
    n = anc.shape[1]
    tol_m, tol_g, max_step, contraction = floats[9], floats[10], floats[11], floats[12]
    z = np.concatenate((q0, lam0))
    it = 0
    exact = False
    if use_J0:
        R, B = residual_jacobian_ws(z[:n], z[n:], act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0,
                                 pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa,
                                 pb, ext_idx, flx_idx, ints, floats, False, ws)
        B = J0.copy()
    else:
        R, B = residual_jacobian_ws(z[:n], z[n:], act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0,
                                 pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa,
                                 pb, ext_idx, flx_idx, ints, floats, True, ws)
        exact = True
    steps = np.array([1.0, 0.5, 0.25, 0.1, 0.03])
    f0 = _norm(R, n)
    z1 = np.empty_like(z)  # trial points of the line search (z + t dz, element by element as numpy does)
    while it < max_iter and not _converged(R, n, tol_m, tol_g):
        it += 1
        dz = np.linalg.solve(B, -R)
        big = 0.0
        for i in range(n):
            big = max(big, abs(dz[i]))
        if big > max_step:
            dz *= max_step / big
        best_f = np.inf
        best_t = 0.0
        R_best = R
        for t in steps:
            for i in range(z.shape[0]):
                z1[i] = z[i] + t * dz[i]
            R1, Jd = residual_jacobian_ws(z1[:n], z1[n:], act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0,
                                       pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl,
                                       ps, pa, pb, ext_idx, flx_idx, ints, floats, False, ws)
            f1 = _norm(R1, n)
            if np.isfinite(f1) and f1 < best_f:
                best_f, best_t, R_best = f1, t, R1
            if np.isfinite(f1) and f1 < f0:
                break
            if t == 1.0 and not exact:
                break  # a poor quasi-Newton direction: restart with the exact Jacobian instead
        if best_t == 1.0 and best_f <= contraction * f0:
            B += np.outer(R_best - R - B @ dz, dz) / (dz @ dz)  # "good" Broyden update
            z, R, f0 = z + dz, R_best, best_f
            exact = False
            continue
        if best_f < f0 or exact:
            z, R, f0 = z + best_t * dz, R_best, best_f
        R, B = residual_jacobian_ws(z[:n], z[n:], act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1,
                                 pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb,
                                 ext_idx, flx_idx, ints, floats, True, ws)
        f0 = _norm(R, n)
        exact = True
        big = 0.0
        for i in range(n):
            big = max(big, abs(z[i]))
        if not np.isfinite(big) or big > math.pi:
            break
    if want_final_jac and not exact:
        R, B = residual_jacobian_ws(z[:n], z[n:], act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1,
                                 pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb,
                                 ext_idx, flx_idx, ints, floats, True, ws)
        exact = True
    return z, R, it, B, exact


@njit
def solve_kernel(q0, lam0, act, J0, use_J0, max_iter, want_final_jac, anc, seg_parent, seg_c0, dof_seg, pt_seg,
                 pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa,
                 pb, ext_idx, flx_idx, ints, floats):
    """The solver of :func:`musclesim.mechanics.solve`, compiled. Returns (z, R, iterations, J, has_J).

    Quasi-Newton with restarts: steps use a matrix B (the given ``J0``, else the exact Jacobian)
    that is Broyden-updated after every full step that shrinks the residual fast enough; when a
    step does not, the exact Jacobian is recomputed at the current point (a Newton restart) and a
    backtracking line search picks the step length. ``J`` is exact at ``z`` when ``has_J``.
    """
    ws = workspace(anc, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0.shape[0])
    return _solve_ws(q0, lam0, act, J0, use_J0, max_iter, want_final_jac, anc, seg_parent, seg_c0, dof_seg, pt_seg,
                     pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa,
                     pb, ext_idx, flx_idx, ints, floats, ws)


@njit
def min_reduced_eig(J, n, k):
    """Smallest eigenvalue of the stiffness restricted to goal-preserving motions (see mechanics)."""
    Kq = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            Kq[i, j] = -0.5 * (J[i, j] + J[j, i])
    if k == 0:
        return np.linalg.eigvalsh(Kq)[0]
    G = np.ascontiguousarray(J[n:n + k, :n])
    u, sv, vt = np.linalg.svd(G)
    rank = 0
    for s in sv:
        if s > 1e-12 * max(sv.max(), 1.0):
            rank += 1
    Z = np.ascontiguousarray(vt[rank:].T)
    return np.linalg.eigvalsh(Z.T @ Kq @ Z)[0]


@njit
def _newton_ws(z0, act, max_iter, theta, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0,
               lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb, ext_idx, flx_idx, ints, floats, ws):
    """Newton's method with exact Jacobians from ``z0`` for activation ``act`` and tendon rest
    lengths ``ltendon``, kept only if it passes the contraction test of
    :data:`musclesim.mechanics.DIRECT_CONTRACTION`: every step (and the step that would follow the
    converged point) is at most ``theta`` times the one before it (largest joint-angle change).
    (The baseline's Jacobian is no good as a start: the muscles' stiffness grows with activation.)
    Returns (accepted, z, R, steps, J at z)."""
    n = anc.shape[1]
    tol_m, tol_g = floats[9], floats[10]
    z = z0.copy()
    R, B = residual_jacobian_ws(z[:n], z[n:], act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1,
                                pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb,
                                ext_idx, flx_idx, ints, floats, True, ws)
    last = np.inf
    it = 0
    while True:
        if not np.isfinite(_norm(R, n)):
            return False, z, R, it, B
        done = _converged(R, n, tol_m, tol_g)
        if done and it == 0:
            return True, z, R, it, B
        if not done and it >= max_iter:
            return False, z, R, it, B
        dz = np.linalg.solve(B, -R)
        step = 0.0
        for i in range(n):
            step = max(step, abs(dz[i]))
        if it > 0 and step > theta * last:
            return False, z, R, it, B
        if done:
            return True, z, R, it, B
        last = step
        z = z + dz
        R, B = residual_jacobian_ws(z[:n], z[n:], act, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0,
                                    pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps,
                                    pa, pb, ext_idx, flx_idx, ints, floats, True, ws)
        it += 1


@njit
def _follow_ws(t0, act, lt1, q0, lam0, J0, base_steps, max_halvings, max_iter, floors_jump, anc, seg_parent, seg_c0, dof_seg,
                  pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0,
                  pkl, ps, pa, pb, ext_idx, flx_idx, ints, floats, st):
    """:func:`follow_kernel_st` with the model's :func:`structure` ``st`` (shared by a batch's threads)."""
    n = anc.shape[1]
    k = ints[4]
    cap = 1 + base_steps * (1 << max_halvings) + 1
    fracs = np.zeros(cap)
    Z = np.zeros((cap, n + k))
    Z[0, :n] = q0
    Z[0, n:] = lam0
    ns = 1
    frac = 0.0
    h = 1.0 / base_steps
    min_h = h / (1 << max_halvings)
    q = q0.copy()
    lam = lam0.copy()
    J = J0.copy()
    its = 0
    ok = True
    R = np.zeros(n + k)
    Jf = J0.copy()
    has_J = False
    min_eig = np.nan
    same = True
    for i in range(act.shape[0]):
        if abs(act[i] - t0[i]) > 1e-15 or abs(lt1[i] - ltendon[i]) > 1e-15:
            same = False
    if same:
        h = 1.0
    ws = (st[0], st[1], scratch(anc.shape[0], pt_seg.shape[0], n, F0.shape[0]))
    if not same and floors_jump[4] > 0:  # straight to the answer if Newton passes the contraction test
        acc, zd, Rd, itd, Jd = _newton_ws(Z[0], act, int(floors_jump[5]), floors_jump[4], anc, seg_parent, seg_c0,
                                          dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, lt1, lref, slack,
                                          seg_mass, dof_bil, pc0, pkl, ps, pa, pb, ext_idx, flx_idx, ints, floats, ws)
        its += itd
        if acc:
            min_eig = min_reduced_eig(Jd, n, k)
            if min_eig > 0:
                fracs[1] = 1.0
                Z[1] = zd
                return True, 1.0, 2, fracs, Z, its, Jd, True, Rd, min_eig
    jump_factor, jump_floor = floors_jump[0], floors_jump[1]
    loose = floats.copy()  # intermediate path points: tolerances x floors_jump[3]
    loose[9] *= floors_jump[3]
    loose[10] *= floors_jump[3]
    last_dq = floors_jump[2]  # allowance for the first step (rad)
    last_h = h
    while frac < 1.0:
        target = min(1.0, frac + h)
        final = target >= 1.0
        a = t0 + target * (act - t0)
        lt = ltendon + target * (lt1 - ltendon)
        # secant predictor: extrapolate the path from the last two states (Newton corrects it)
        qs, ls = q, lam
        if ns >= 2:
            w = (target - frac) / (fracs[ns - 1] - fracs[ns - 2])
            qs = Z[ns - 1, :n] + w * (Z[ns - 1, :n] - Z[ns - 2, :n])
            ls = Z[ns - 1, n:] + w * (Z[ns - 1, n:] - Z[ns - 2, n:])
        fl = floats if final else loose
        z, R, it, Jn, hasn = _solve_ws(qs, ls, a, J, True, max_iter, final, anc, seg_parent, seg_c0, dof_seg,
                                       pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, lt, lref, slack,
                                       seg_mass, dof_bil, pc0, pkl, ps, pa, pb, ext_idx, flx_idx, ints, fl, ws)
        its += it
        good = _converged(R, n, fl[9], fl[10])
        if good:  # a step that moved much more than the last one may have jumped to another branch
            dq = 0.0
            for i in range(n):
                dq = max(dq, abs(z[i] - q[i]))
            if dq > jump_factor * last_dq * (target - frac) / last_h + jump_floor:
                good = False
        if good and final:
            min_eig = min_reduced_eig(Jn, n, k)
            good = min_eig > 0
            Jf = Jn
            has_J = hasn
        if good:
            dq = 0.0
            for i in range(n):
                dq = max(dq, abs(z[i] - q[i]))
            last_dq = dq
            last_h = target - frac
            frac = target
            q = z[:n].copy()
            lam = z[n:].copy()
            J = Jn  # exact Jacobian if one was computed, else the Broyden-updated matrix
            fracs[ns] = frac
            Z[ns] = z
            ns += 1
        else:
            h = h / 2.0
            if h < min_h * 0.999:
                ok = False
                if final and hasn:
                    Jf = Jn
                    has_J = True
                    Z[ns] = z
                break
    return ok, frac, ns, fracs, Z, its, Jf, has_J, R, min_eig


@njit
def follow_kernel_st(t0, act, lt1, q0, lam0, J0, base_steps, max_halvings, max_iter, floors_jump, anc, seg_parent, seg_c0,
                     dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass,
                     dof_bil, pc0, pkl, ps, pa, pb, ext_idx, flx_idx, ints, floats, touch, wi):
    """Continuation from the baseline (t0, q0, lam0, tendon lengths ``ltendon``) to activation ``act``
    and tendon rest lengths ``lt1`` (tightness shortens them; see
    :func:`musclesim.mechanics.follow`), with the model's :func:`structure` (``touch, wi``) computed
    once per model by the caller. Returns (ok, reached, n_states, fracs, Z, iterations, J_final,
    has_J, R_final, min_eig)."""
    return _follow_ws(t0, act, lt1, q0, lam0, J0, base_steps, max_halvings, max_iter, floors_jump, anc, seg_parent,
                      seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass,
                      dof_bil, pc0, pkl, ps, pa, pb, ext_idx, flx_idx, ints, floats, (touch, wi))


if HAVE_NUMBA:  # pragma: no branch
    _prange = _numba.prange
    set_parallel_chunksize = _numba.set_parallel_chunksize
    njit_parallel = _numba.njit(cache=True, nogil=True, parallel=True)
else:  # pragma: no cover
    _prange = range

    def set_parallel_chunksize(n):
        return 0

    def njit_parallel(f):
        return f

#: Scenarios a thread takes at a time from a batch (``numba.set_parallel_chunksize``, set by the
#: caller): small, so that threads finish together even when a few scenarios (those that fail,
#: halving their steps) take ten times longer than the rest.
BATCH_GRAIN = 4


@njit_parallel
def follow_batch_kernel(t0, acts, lt1s, q0, lam0, J0, base_steps, max_halvings, max_iter, floors_jump, anc, seg_parent, seg_c0,
                        dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass,
                        dof_bil, pc0, pkl, ps, pa, pb, ext_idx, flx_idx, ints, floats):
    """:func:`follow_kernel_st` for every row of ``acts`` (N, M), in parallel threads.

    Returns per scenario: ok (N,), reached fraction (N,), final z (N, n+k), iterations (N,),
    max |moment residual| (N,), smallest reduced-stiffness eigenvalue (N,).
    """
    N = acts.shape[0]
    n = anc.shape[1]
    k = ints[4]
    ok = np.zeros(N, dtype=np.bool_)
    reached = np.zeros(N)
    Zout = np.zeros((N, n + k))
    its = np.zeros(N, dtype=np.int64)
    res = np.zeros(N)
    eig = np.zeros(N)
    # the structure is shared by the threads; a parallel loop captures arrays, not tuples of them
    touch, wi = structure(anc, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0.shape[0])
    w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15 = wi
    for i in _prange(N):
        st = (touch, (w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15))
        o, fr, ns, fracs, Z, it, Jf, hj, R, me = _follow_ws(
            t0, acts[i], lt1s[i], q0, lam0, J0, base_steps, max_halvings, max_iter, floors_jump, anc, seg_parent, seg_c0, dof_seg, pt_seg,
            pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0, pkl, ps, pa, pb,
            ext_idx, flx_idx, ints, floats, st)
        ok[i] = o
        reached[i] = fr
        Zout[i] = Z[ns - 1] if o else Z[ns]
        its[i] = it
        r = 0.0
        for j in range(n):
            r = max(r, abs(R[j]))
        res[i] = r
        eig[i] = me
    return ok, reached, Zout, its, res, eig


@njit
def follow_serial_kernel(t0, acts, lt1s, q0, lam0, J0, base_steps, max_halvings, max_iter, floors_jump, anc, seg_parent,
                         seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, ltendon, lref, slack,
                         seg_mass, dof_bil, pc0, pkl, ps, pa, pb, ext_idx, flx_idx, ints, floats):
    """:func:`follow_batch_kernel` in the calling thread, for a few scenarios (starting the thread
    pool costs more than it saves there, and much more on a busy machine): the same numbers."""
    N = acts.shape[0]
    n = anc.shape[1]
    k = ints[4]
    ok = np.zeros(N, dtype=np.bool_)
    reached = np.zeros(N)
    Zout = np.zeros((N, n + k))
    its = np.zeros(N, dtype=np.int64)
    res = np.zeros(N)
    eig = np.zeros(N)
    st = structure(anc, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0.shape[0])
    for i in range(N):
        o, fr, ns, fracs, Z, it, Jf, hj, R, me = _follow_ws(
            t0, acts[i], lt1s[i], q0, lam0, J0, base_steps, max_halvings, max_iter, floors_jump, anc, seg_parent, seg_c0,
            dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, F0, lopt, ltendon, lref, slack, seg_mass, dof_bil, pc0,
            pkl, ps, pa, pb, ext_idx, flx_idx, ints, floats, st)
        ok[i] = o
        reached[i] = fr
        Zout[i] = Z[ns - 1] if o else Z[ns]
        its[i] = it
        r = 0.0
        for j in range(n):
            r = max(r, abs(R[j]))
        res[i] = r
        eig[i] = me
    return ok, reached, Zout, its, res, eig


@njit
def _pose_one(q, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, p, P, length, arm):
    """One row of :func:`pose_batch_kernel`: fills p (Np, 2), P (S, 2), length (M,) and arm (M, n)."""
    S, n = anc.shape
    Np = pt_seg.shape[0]
    K = pair_i0.shape[0]
    alpha = np.zeros(S)
    for s in range(S):
        acc = 0.0
        for j in range(n):
            acc += anc[s, j] * q[j]
        alpha[s] = acc
    P[0, 0] = seg_c0[0, 0]
    P[0, 1] = seg_c0[0, 1]
    for s in range(1, S):
        par = seg_parent[s]
        vx = seg_c0[s, 0] - seg_c0[par, 0]
        vy = seg_c0[s, 1] - seg_c0[par, 1]
        ca, sa = math.cos(alpha[par]), math.sin(alpha[par])
        P[s, 0] = P[par, 0] + vx * ca + vy * sa
        P[s, 1] = P[par, 1] - vx * sa + vy * ca
    for i in range(Np):
        s = pt_seg[i]
        vx = pt_r0[i, 0] - seg_c0[s, 0]
        vy = pt_r0[i, 1] - seg_c0[s, 1]
        ca, sa = math.cos(alpha[s]), math.sin(alpha[s])
        p[i, 0] = P[s, 0] + vx * ca + vy * sa
        p[i, 1] = P[s, 1] - vx * sa + vy * ca
    for kk in range(K):
        a0, a1, m = pair_i0[kk], pair_i1[kk], pair_m[kk]
        dx = p[a1, 0] - p[a0, 0]
        dy = p[a1, 1] - p[a0, 1]
        L = math.sqrt(dx * dx + dy * dy)
        ux, uy = dx / L, dy / L
        length[m] += L
        s0, s1 = pt_seg[a0], pt_seg[a1]
        for j in range(n):
            A0, A1 = anc[s0, j], anc[s1, j]
            if A0 != 0.0 or A1 != 0.0:
                js = dof_seg[j]
                ddx = A1 * (p[a1, 1] - P[js, 1]) - A0 * (p[a0, 1] - P[js, 1])
                ddy = -A1 * (p[a1, 0] - P[js, 0]) + A0 * (p[a0, 0] - P[js, 0])
                arm[m, j] -= ux * ddx + uy * ddy


@njit_parallel
def pose_batch_kernel(Q, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, M):
    """Geometry of many solved poses ``Q`` (B, n): what the measures need, in parallel threads
    (:func:`pose_serial_kernel` for a few poses).

    Returns points (B, Np, 2), each segment's proximal joint (B, S, 2), musculotendon lengths
    (B, M) and moment arms -dl/dq (B, M, n): the numbers of :func:`musclesim.chain.kinematics` and
    :func:`musclesim.mechanics.evaluate` to round-off, without their (B, Np, n, 2) derivative array.
    """
    B, n = Q.shape
    pts = np.zeros((B, pt_seg.shape[0], 2))
    joints = np.zeros((B, anc.shape[0], 2))
    length = np.zeros((B, M))
    arm = np.zeros((B, M, n))
    for b in _prange(B):
        _pose_one(Q[b], anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, pts[b],
                  joints[b], length[b], arm[b])
    return pts, joints, length, arm


@njit
def pose_serial_kernel(Q, anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, M):
    """:func:`pose_batch_kernel` in the calling thread, for a few poses: a parallel kernel starts
    the thread pool even for its serial branch (its array allocations are parallel loops too)."""
    B, n = Q.shape
    pts = np.zeros((B, pt_seg.shape[0], 2))
    joints = np.zeros((B, anc.shape[0], 2))
    length = np.zeros((B, M))
    arm = np.zeros((B, M, n))
    for b in range(B):
        _pose_one(Q[b], anc, seg_parent, seg_c0, dof_seg, pt_seg, pt_r0, pair_i0, pair_i1, pair_m, pts[b],
                  joints[b], length[b], arm[b])
    return pts, joints, length, arm
