"""Planar kinematics of the sagittal chain, compiled: points, their derivatives, muscle paths.

The one implementation of placing a point of the chain (used by the equilibrium, the measures'
geometry and the frames). A segment ``s`` pitches by ``alpha_s = sum_j anc[s, j] q_j`` (rad); its
proximal joint sits at ``P_s = P_parent + R(alpha_parent) (c0_s - c0_parent)`` and a point ``i`` on
it at ``p_i = P_s + R(alpha_s) (r0_i - c0_s)``, with ``R(a) = [[cos a, sin a], [-sin a, cos a]]``
(flexion positive turns anterior, +x, downward). Its derivative by joint ``j`` is
``dp_i/dq_j = A (p_i,y - P_js,y, -(p_i,x - P_js,x))`` with ``A = anc[s, j]`` and ``js`` the segment
of joint ``j``. A muscle's length is the sum of its straight pieces; ``dl/dq`` is the projection of
the pieces' end velocities on their direction, and ``d2l/dq2`` follows from the planar-chain
identity ``d2p/dq_j dq_l = -A_j A_l (p - P_max(j,l))`` (see :func:`musclesim.chain.distal_joint_positions`).
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import njit, njit_parallel, prange
from .compiled import Structure, Workspace


@njit
def structure(cm):
    """The :class:`~musclesim.physics.compiled.Structure` of a model's equations.

    The residual needs the segments' centres of mass (points 0..S-1) and the muscle path points,
    not the landmarks; a point moves with joint ``j`` only if ``anc[s, j] != 0``; a muscle's length
    depends on joint ``j`` only if one of its path pieces spans it. A point on the same segment at
    the same place as an earlier one (left and right muscles share their sagittal paths) is
    computed once, and a muscle whose pieces run between the same computed points as an earlier
    muscle's copies that twin's length and derivatives.
    """
    anc, pt_seg, pt_r0, pair_i0, pair_i1, pair_m = cm.anc, cm.pt_seg, cm.pt_r0, cm.pair_i0, cm.pair_i1, cm.pair_m
    M = cm.F0.shape[0]
    S, n = anc.shape
    Np = pt_seg.shape[0]
    K = pair_i0.shape[0]
    canon = np.arange(Np)
    for i in range(Np):
        for i2 in range(i):
            if canon[i2] == i2 and pt_seg[i2] == pt_seg[i] and pt_r0[i2, 0] == pt_r0[i, 0] \
                    and pt_r0[i2, 1] == pt_r0[i, 1]:
                canon[i] = i2
                break
    need = np.zeros(Np, dtype=np.bool_)
    need[:S] = True
    pair_c0 = np.zeros(K, dtype=np.int64)
    pair_c1 = np.zeros(K, dtype=np.int64)
    for kk in range(K):
        pair_c0[kk] = canon[pair_i0[kk]]
        pair_c1[kk] = canon[pair_i1[kk]]
        need[pair_c0[kk]] = True
        need[pair_c1[kk]] = True
    pts = np.flatnonzero(need)
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
    seg_sup = np.zeros((S, n), dtype=np.int64)
    seg_cnt = np.zeros(S, dtype=np.int64)
    for s in range(S):
        for j in range(n):
            if anc[s, j] != 0.0:
                seg_sup[s, seg_cnt[s]] = j
                seg_cnt[s] += 1
    pair_sup = np.zeros((K, n), dtype=np.int64)
    pair_cnt = np.zeros(K, dtype=np.int64)
    touch = np.zeros((M, n), dtype=np.bool_)
    for kk in range(K):
        s0, s1 = pt_seg[pair_i0[kk]], pt_seg[pair_i1[kk]]
        for j in range(n):
            if anc[s0, j] != 0.0 or anc[s1, j] != 0.0:
                pair_sup[kk, pair_cnt[kk]] = j
                pair_cnt[kk] += 1
                touch[pair_m[kk], j] = True
    dof_mus = np.zeros((n, M), dtype=np.int64)
    dof_mcnt = np.zeros(n, dtype=np.int64)
    mus_dof = np.zeros((M, n), dtype=np.int64)
    mus_dcnt = np.zeros(M, dtype=np.int64)
    for m in range(M):
        for j in range(n):
            if touch[m, j]:
                dof_mus[j, dof_mcnt[j]] = m
                dof_mcnt[j] += 1
                mus_dof[m, mus_dcnt[m]] = j
                mus_dcnt[m] += 1
    jl_mus = np.zeros((n, n, M), dtype=np.int64)
    jl_cnt = np.zeros((n, n), dtype=np.int64)
    jl_seg = np.zeros((n, n, S), dtype=np.int64)
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
    return Structure(touch, pts, seg_sup, seg_cnt, pair_sup, pair_cnt, dof_mus, dof_mcnt, mus_dof, mus_dcnt,
                     jl_mus, jl_cnt, jl_seg, jl_scnt, pair_c0, pair_c1, twin)


@njit
def workspace(cm):
    """Fresh scratch arrays (:class:`~musclesim.physics.compiled.Workspace`) for one thread."""
    S, n = cm.anc.shape
    Np = cm.pt_seg.shape[0]
    M = cm.F0.shape[0]
    return Workspace(np.zeros(S), np.zeros(S), np.zeros(S), np.zeros((S, 2)), np.zeros((Np, 2)),
                     np.zeros((Np, n, 2)), np.zeros(M), np.zeros((M, n)), np.zeros((M, n, n)), np.zeros((n, 2)),
                     np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(M), np.zeros(M), np.zeros((0, 0)))


@njit
def place(cm, st, q, ws, pts):
    """Segment pitches, joint centres, the points ``pts`` and their derivatives at pose ``q``, into
    ``ws`` (alpha, cos_a, sin_a, P, p, dp)."""
    anc, seg_c0, pt_seg, pt_r0 = cm.anc, cm.seg_c0, cm.pt_seg, cm.pt_r0
    S, n = anc.shape
    alpha, cos_a, sin_a, P, p, dp = ws.alpha, ws.cos_a, ws.sin_a, ws.P, ws.p, ws.dp
    for s in range(S):
        acc = 0.0
        for j in range(n):
            acc += anc[s, j] * q[j]
        alpha[s] = acc
        cos_a[s] = math.cos(acc)
        sin_a[s] = math.sin(acc)
    P[0, 0] = seg_c0[0, 0]
    P[0, 1] = seg_c0[0, 1]
    for s in range(1, S):
        par = cm.seg_parent[s]
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
        for t in range(st.seg_cnt[s]):
            j = st.seg_sup[s, t]
            A = anc[s, j]
            js = cm.dof_seg[j]
            dp[i, j, 0] = A * (p[i, 1] - P[js, 1])
            dp[i, j, 1] = -A * (p[i, 0] - P[js, 0])


@njit
def muscle_paths(cm, st, ws, pair_c0, pair_c1, want_hessian):
    """Musculotendon lengths (m), dl/dq and, if ``want_hessian``, d2l/dq2 into ``ws`` (length, g,
    H), from points placed by :func:`place`; path pieces run between points ``pair_c0`` and
    ``pair_c1``. Muscles with a twin (same computed points) copy it. Returns False for a
    zero-length or non-finite piece (the caller falls back to a formula that lets NaN spread)."""
    anc, pt_seg, dof_seg = cm.anc, cm.pt_seg, cm.dof_seg
    S, n = anc.shape
    M = cm.F0.shape[0]
    K = pair_c0.shape[0]
    p, P, dp, length, g, H, delta, proj, d1, d0 = ws.p, ws.P, ws.dp, ws.length, ws.g, ws.H, ws.delta, ws.proj, \
        ws.d1, ws.d0
    twin = st.twin
    for m in range(M):
        length[m] = 0.0
        for j in range(n):
            g[m, j] = 0.0
    if want_hessian:
        H[:] = 0.0
    for kk in range(K):
        a0, a1, m = pair_c0[kk], pair_c1[kk], cm.pair_m[kk]
        if twin[m] != m:
            continue
        dx = p[a1, 0] - p[a0, 0]
        dy = p[a1, 1] - p[a0, 1]
        L = math.sqrt(dx * dx + dy * dy)
        if not (L > 0.0 and L < np.inf):
            return False
        ux, uy = dx / L, dy / L
        length[m] += L
        cnt = st.pair_cnt[kk]
        for t in range(cnt):
            j = st.pair_sup[kk, t]
            delta[j, 0] = dp[a1, j, 0] - dp[a0, j, 0]
            delta[j, 1] = dp[a1, j, 1] - dp[a0, j, 1]
            proj[j] = ux * delta[j, 0] + uy * delta[j, 1]
            g[m, j] += proj[j]
        if want_hessian:
            up1 = ux * p[a1, 0] + uy * p[a1, 1]
            up0 = ux * p[a0, 0] + uy * p[a0, 1]
            s1, s0 = pt_seg[a1], pt_seg[a0]
            for t in range(cnt):  # per column l: u.(p - P_l) at both ends (js of max(j, l) = l below)
                l = st.pair_sup[kk, t]
                js = dof_seg[l]
                uPD = ux * P[js, 0] + uy * P[js, 1]
                d1[l] = up1 - uPD
                d0[l] = up0 - uPD
            for t in range(cnt):
                j = st.pair_sup[kk, t]
                c1 = -anc[s1, j]
                c0 = anc[s0, j]
                dj0, dj1, pj = delta[j, 0], delta[j, 1], proj[j]
                for t2 in range(t, cnt):  # j <= l; mirrored below
                    l = st.pair_sup[kk, t2]
                    curv = c1 * anc[s1, l] * d1[l] + c0 * anc[s0, l] * d0[l]
                    H[m, j, l] += (dj0 * delta[l, 0] + dj1 * delta[l, 1] - pj * proj[l]) / L + curv
    for m in range(M):
        m2 = twin[m]
        if m2 == m:
            if want_hessian:
                c = st.mus_dcnt[m]
                for t in range(c):
                    j = st.mus_dof[m, t]
                    for t2 in range(t + 1, c):
                        l = st.mus_dof[m, t2]
                        H[m, l, j] = H[m, j, l]
            continue
        length[m] = length[m2]
    for m in range(M):
        m2 = twin[m]
        if m2 != m:
            for t in range(st.mus_dcnt[m]):
                j = st.mus_dof[m, t]
                g[m, j] = g[m2, j]
                if want_hessian:
                    for t2 in range(st.mus_dcnt[m]):
                        l = st.mus_dof[m, t2]
                        H[m, j, l] = H[m2, j, l]
    return True


@njit
def _pose_into(cm, st, q, ws, all_pts, pts, joints, length, arm):
    place(cm, st, q, ws, all_pts)
    muscle_paths(cm, st, ws, cm.pair_i0, cm.pair_i1, False)
    pts[:] = ws.p
    joints[:] = ws.P
    length[:] = ws.length
    for m in range(arm.shape[0]):
        for j in range(arm.shape[1]):
            arm[m, j] = -ws.g[m, j]


@njit
def _pose_outputs(cm, B):
    n = cm.anc.shape[1]
    return (np.zeros((B, cm.pt_seg.shape[0], 2)), np.zeros((B, cm.anc.shape[0], 2)), np.zeros((B, cm.F0.shape[0])),
            np.zeros((B, cm.F0.shape[0], n)))


@njit_parallel
def pose_geometry_parallel(cm, st, Q):
    """Geometry of many solved poses ``Q`` (B, n), in parallel threads: points (B, Np, 2), each
    segment's proximal joint (B, S, 2), musculotendon lengths (B, M), m, and moment arms -dl/dq
    (B, M, n), m/rad. :func:`pose_geometry_serial` gives the same numbers in one thread."""
    B = Q.shape[0]
    pts, joints, length, arm = _pose_outputs(cm, B)
    all_pts = np.arange(cm.pt_seg.shape[0])
    for b in prange(B):
        ws = workspace(cm)
        _pose_into(cm, st, Q[b], ws, all_pts, pts[b], joints[b], length[b], arm[b])
    return pts, joints, length, arm


@njit
def pose_geometry_serial(cm, st, Q):
    """:func:`pose_geometry_parallel` in the calling thread, for a few poses (a parallel kernel
    starts the thread pool even when it has one pose)."""
    B = Q.shape[0]
    pts, joints, length, arm = _pose_outputs(cm, B)
    all_pts = np.arange(cm.pt_seg.shape[0])
    ws = workspace(cm)
    for b in range(B):
        _pose_into(cm, st, Q[b], ws, all_pts, pts[b], joints[b], length[b], arm[b])
    return pts, joints, length, arm
