"""The force terms of the sagittal equilibrium, compiled (the OpenSim "force producer" idea).

Each term adds its generalised force ``Q`` (N·m per joint angle, flexion positive) to the residual
``R`` and, when asked, its derivative ``dQ/dz`` to the Jacobian ``J``, where ``z = [q; lam]`` (joint
angles, rad; regulation efforts). The equations are ``R = [sum of terms; goals] = 0``. Adding a
term to the model touches this module and :data:`TERMS` only.

Terms, in the order the residual adds them:

* :func:`add_muscles` -- each muscle's static Hill force along its path, ``Q = -F dl/dq``;
* :func:`add_gravity` -- segment weights, ``Q = -m g dy_com/dq``;
* :func:`add_passive_joints` -- ligaments, capsules and discs, ``c0 + kl deg + sum s exp(a + b deg)``;
* :func:`add_knee_regulation` -- the knees' postural spring in standing (quadriceps), ``-k q_knee``;
* :func:`add_regulation` -- the postural actuators (ankle torque, neck torque, trunk muscles' extra
  force along their own paths) and the goals they hold (centre of mass, gaze, rib cage);
* :func:`add_pressure` -- the intra-abdominal pressure's strut between pelvic floor and diaphragm.

:func:`muscle_forces` computes the muscle forces the last two share.
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import njit

#: Labels of the contributors to a joint's moment (muscles are labelled by their ids), in the order
#: of :func:`musclesim.physics.residual.contributions`' rows after the muscles; they are the keys of
#: ``Result.moments[joint]`` (public names).
TERMS = ("gravity", "passive", "regulation:ankle", "regulation:neck", "regulation:trunk", "abdominal_pressure",
         "regulation:knee")


@njit
def logaddexp0(x):
    """log(1 + e^x) without overflow."""
    if x > 0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@njit
def muscle_forces(cm, st, ws, act, ltendon, want_slope):
    """Hill forces ``F`` (N) and, if ``want_slope``, ``dF/dl`` (N/m) of every muscle into ``ws``, from
    the lengths of :func:`musclesim.physics.kinematics.muscle_paths`; activation ``act`` (M,) in
    [0, 1], tendon rest lengths ``ltendon`` (M,) m. Returns False if a force is not finite.

    ``F = F0 (a fL + fPE + gamma a (l~ - l~ref))``, kept >= 0 by ``(raw + sqrt(raw^2 + w^2)) / 2``,
    with ``l~`` the fibre length over the optimal length, ``fL`` a Gaussian of width ``fl_width``
    and ``fPE`` an exponential set in smoothly at ``slack`` (see :mod:`musclesim.mechanics`).
    """
    M = cm.F0.shape[0]
    F, dF, length = ws.F, ws.dF, ws.length
    w, onset, pe_strain, pe_shape, gamma, smooth = cm.fl_width, cm.passive_onset, cm.pe_strain, cm.pe_shape, \
        cm.gamma, cm.smooth_force
    F0, lopt, lref, slack, twin = cm.F0, cm.lopt, cm.lref, cm.slack, st.twin
    ek = math.exp(pe_shape) - 1.0
    for m in range(M):
        m2 = twin[m]
        if m2 != m and act[m] == act[m2] and ltendon[m] == ltendon[m2] and lopt[m] == lopt[m2] \
                and F0[m] == F0[m2] and lref[m] == lref[m2] and slack[m] == slack[m2]:
            F[m] = F[m2]  # the same inputs as its twin: the same numbers
            dF[m] = dF[m2]
            continue
        lt = (length[m] - ltendon[m]) / lopt[m]
        fl = math.exp(-((lt - 1.0) / w) ** 2)
        x = (lt - slack[m]) / onset
        stretch = onset * logaddexp0(x)
        e = math.exp(pe_shape * stretch / pe_strain)
        fpe = (e - 1.0) / ek
        raw = F0[m] * (act[m] * fl + fpe + gamma * act[m] * (lt - lref[m]))
        root = math.sqrt(raw * raw + smooth * smooth)
        F[m] = 0.5 * (raw + root)
        if not (abs(F[m]) < np.inf):
            return False
        if want_slope:
            dfl = fl * (-2.0 * (lt - 1.0) / (w * w))
            dfpe = e * (pe_shape / pe_strain) / ek * (0.5 * (1.0 + math.tanh(x / 2.0)))
            draw = F0[m] * (act[m] * dfl + dfpe + gamma * act[m]) / lopt[m]
            dF[m] = 0.5 * (1.0 + raw / root) * draw
            if not (abs(dF[m]) < np.inf):
                return False
    return True


@njit
def add_muscles(cm, st, ws, R, J, want_jac):
    """``Q_j = -sum_m F_m dl_m/dq_j``; ``dQ_j/dq_l = -sum_m (dF_m g_mj g_ml + F_m H_mjl)``."""
    n = cm.anc.shape[1]
    F, dF, g, H = ws.F, ws.dF, ws.g, ws.H
    for j in range(n):
        acc = R[j]
        for t in range(st.dof_mcnt[j]):
            m = st.dof_mus[j, t]
            acc -= F[m] * g[m, j]
        R[j] = acc
    if want_jac:
        for j in range(n):
            for l in range(n):
                acc = J[j, l]
                for t in range(st.jl_cnt[j, l]):
                    m = st.jl_mus[j, l, t]
                    acc -= dF[m] * g[m, j] * g[m, l] + F[m] * H[m, j, l]
                J[j, l] = acc


@njit
def add_gravity(cm, st, ws, R, J, want_jac):
    """``Q_j = -sum_s m_s g dy_s/dq_j``; its derivative from ``d2p/dq_j dq_l = -A_j A_l (p - P_max(j,l))``."""
    S, n = cm.anc.shape
    anc, seg_mass, grav, dp, p, P = cm.anc, cm.seg_mass, cm.gravity, ws.dp, ws.p, ws.P
    for j in range(n):
        acc = R[j]
        for s in range(S):
            if anc[s, j] != 0.0:
                acc -= seg_mass[s] * grav * dp[s, j, 1]
        R[j] = acc
    if want_jac:
        for j in range(n):
            for l in range(n):
                js = cm.dof_seg[max(l, j)]
                acc = J[j, l]
                for t in range(st.jl_scnt[j, l]):
                    s = st.jl_seg[j, l, t]
                    acc += seg_mass[s] * grav * anc[s, j] * anc[s, l] * (p[s, 1] - P[js, 1])
                J[j, l] = acc


@njit
def passive_joint_moment(cm, j, q):
    """Passive moment (N·m, both sides of a bilateral joint) of joint ``j`` at the pose ``q`` (rad)
    and its slope with its own angle (N·m/rad). A law coupled to other joints' angles
    (``cm.pcpl``) reads them from ``q``; :func:`add_passive_joints` adds the cross slopes."""
    deg = q[j] * 180.0 / math.pi
    pm = cm.pc0[j] + cm.pkl[j] * deg
    slope = cm.pkl[j]
    for t in range(cm.ps.shape[1]):
        e = cm.pa[j, t] + cm.pb[j, t] * deg
        if cm.p_coupled:
            for k in range(cm.anc.shape[1]):
                e += cm.pcpl[j, t, k] * q[k] * 180.0 / math.pi
        ex = cm.ps[j, t] * math.exp(e)
        pm += ex
        slope += ex * cm.pb[j, t]
    return pm * cm.dof_bil[j], cm.dof_bil[j] * slope * 180.0 / math.pi


@njit
def passive_cross_slope(cm, j, k, q):
    """dM_j/dq_k (N·m/rad, both sides) of joint ``j``'s passive law with respect to another joint
    ``k``'s angle (0 unless the law is coupled to it)."""
    deg = q[j] * 180.0 / math.pi
    out = 0.0
    for t in range(cm.ps.shape[1]):
        c = cm.pcpl[j, t, k]
        if c != 0.0:
            e = cm.pa[j, t] + cm.pb[j, t] * deg
            for l in range(cm.anc.shape[1]):
                e += cm.pcpl[j, t, l] * q[l] * 180.0 / math.pi
            out += cm.dof_bil[j] * (cm.ps[j, t] * math.exp(e)) * c * 180.0 / math.pi
    return out


@njit
def add_passive_joints(cm, q, R, J, want_jac):
    """Each joint's passive law at its angle (diagonal Jacobian) and, for a law coupled to
    neighbouring joints (two-joint muscles), the cross terms ``dM_j / dq_k``."""
    n = cm.anc.shape[1]
    for j in range(n):
        pm, slope = passive_joint_moment(cm, j, q)
        R[j] += pm
        if want_jac:
            J[j, j] += slope
            if cm.p_coupled:
                for k in range(n):
                    if k != j:
                        J[j, k] += passive_cross_slope(cm, j, k, q)


@njit
def trunk_efforts(cm, lam_trunk):
    """(f_ext, f_flx, d f_ext / d lam): the trunk effort ``lam_trunk`` (N) split smoothly between the
    extensor (positive) and the flexor (negative), ``f_ext - f_flx = lam`` exactly."""
    x = lam_trunk / cm.trunk_blend
    f_ext = cm.trunk_blend * logaddexp0(x)
    return f_ext, f_ext - lam_trunk, 0.5 * (1.0 + math.tanh(x / 2.0))


@njit
def add_knee_regulation(cm, q, R, J, want_jac):
    """The knees' postural spring in standing: ``-knee_k q_knee`` (N·m) about the reference angle,
    the quadriceps keeping the knees near extension (``Regulation.knee_*``). Nothing for an
    unregulated model or lying (the floor carries the body; contact terms replace the regulation)."""
    if cm.k == 0 or cm.knee_dof < 0:
        return
    R[cm.knee_dof] -= cm.knee_k * q[cm.knee_dof]
    if want_jac:
        J[cm.knee_dof, cm.knee_dof] -= cm.knee_k


@njit
def add_regulation(cm, ws, lam, R, J, want_jac):
    """The postural actuators' moments and the goals they hold (rows n..n+2 of ``R``).

    ``lam[0]`` is an ankle torque (N·m) holding the centre of mass at ``com_target``; ``lam[1]`` a
    neck torque holding the gaze segment level; ``lam[2]`` extra trunk-muscle force (N, both sides)
    along the extensor's paths when positive, the flexor's when negative, regulating the rib cage's
    pitch: ``pitch - c (lam[2] - ref) = 0``, a spring of stiffness ``1/c`` (N/rad) on the pitch in space, or
    the pitch held at 0 when ``c = upright_compliance = 0``. Nothing for an unregulated model (``k = 0``).
    """
    if cm.k == 0:
        return
    S, n = cm.anc.shape
    anc, g, H, dp, p, alpha = cm.anc, ws.g, ws.H, ws.dp, ws.p, ws.alpha
    ext_idx, flx_idx = cm.ext_idx, cm.flx_idx
    ankle, neck = cm.ankle_dof, cm.neck_dof
    f_ext, f_flx, s_ext = trunk_efforts(cm, lam[2])
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
        total += cm.seg_mass[s]
        comx += cm.seg_mass[s] * p[s, 0]
    R[n] = comx / total - cm.com_target
    R[n + 1] = alpha[cm.gaze_seg]
    R[n + 2] = alpha[cm.upright_seg] - cm.upright_compliance * (lam[2] - cm.upright_ref)
    if want_jac:
        J[n + 2, n + 2] = -cm.upright_compliance
        J[ankle, n] = 1.0
        J[neck, n + 1] = 1.0
        for j in range(n):
            acc = 0.0
            for s in range(S):
                acc += cm.seg_mass[s] * dp[s, j, 0]
            J[n, j] = acc / total
            J[n + 1, j] = anc[cm.gaze_seg, j]
            J[n + 2, j] = anc[cm.upright_seg, j]


@njit
def add_pressure(cm, ws, lam, R, J, want_jac):
    """The intra-abdominal pressure's strut: ``Q = F_s dl_s/dq`` with ``F_s = rest + gain T_wall``,
    ``T_wall = sum_m w_m F_m`` (plus the trunk efforts' share); see
    :func:`musclesim.mechanics.strut_force_N`. Nothing for a model without pressure."""
    i0, i1 = cm.strut_i0, cm.strut_i1
    if i0 < 0:
        return
    anc, seg_c0, dof_seg, pt_seg, pt_r0, wts = cm.anc, cm.seg_c0, cm.dof_seg, cm.pt_seg, cm.pt_r0, cm.iap_weight
    F, dF, g, alpha, P = ws.F, ws.dF, ws.g, ws.alpha, ws.P
    S, n = anc.shape
    M = F.shape[0]
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
        T += wts[m] * F[m]
    s_ext = 0.0
    wext = 0.0
    wflx = 0.0
    if cm.k > 0:
        f_ext, f_flx, s_ext = trunk_efforts(cm, lam[2])
        for i in range(cm.ext_idx.shape[0]):
            wext += wts[cm.ext_idx[i]]
        wext /= cm.ext_idx.shape[0]
        for i in range(cm.flx_idx.shape[0]):
            wflx += wts[cm.flx_idx[i]]
        wflx /= cm.flx_idx.shape[0]
        T += f_ext * wext + f_flx * wflx
    Fs = cm.iap_rest + cm.iap_gain * T
    for j in range(n):
        R[j] += Fs * gs[j]
    if not want_jac:
        return
    dT = np.zeros(n)
    for l in range(n):
        acc = 0.0
        for m in range(M):
            acc += wts[m] * dF[m] * g[m, l]
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
            J[j, l] += cm.iap_gain * gs[j] * dT[l] + Fs * Hs
        if cm.k > 0:
            J[j, n + 2] += gs[j] * cm.iap_gain * (s_ext * wext + (s_ext - 1.0) * wflx)
