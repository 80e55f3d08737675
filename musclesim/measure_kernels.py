"""The sagittal measures of a batch of poses, compiled (numba): the one implementation behind
:func:`musclesim.metrics.measure` and :func:`musclesim.metrics.measure_batch`, used by
``Result.metrics``, the propagation frames, the lying positions, the explanations' gradients and
``simulate_many``.

The kernel returns one row per pose whose columns are the sagittal measures in the order of
:data:`musclesim.metrics.MEASURES` (:data:`musclesim.metrics.SAGITTAL`); it holds no names
itself. The numpy formulas it replaced are kept as the test oracle in
``tests/reference/measures.py``; ``tests/test_measure_oracles.py`` compares both, column by
name, to 1e-12.

Why compiled and not numpy: medians measured on the 2-core test machine (load average ~2 from
other jobs), default model (162 points, 39 muscles, 11 joint angles), poses scattered about a
solved one; "numpy" is the former ``metrics.measure_batch`` (now ``tests/reference``):

========================================  ==============  ===============================
poses                                      numpy           compiled (this kernel)
========================================  ==============  ===============================
1 (a Result, a frame): ``measure``         102 us          6.9 us (2.8 us in the kernel)
1 through ``measure_batch``                102 us          7.6 us
10,000 (a batch): ``measure_batch``        17.5 ms         7.7 ms (7.3 ms in the kernel)
========================================  ==============  ===============================

Numpy pays its per-call cost on ~60 small array operations, which dominates one pose (15x);
for 10,000 poses it allocates a temporary per operation while the loop keeps a pose in
registers (2.3x; the loop is then mostly reading each pose's scattered points and moment arms,
~0.75 us per pose). A serial loop is enough: the measures are ~4 % of a 10,000-scenario batch's
time at 50,000 scenarios/s, so a parallel variant would save ~2 % for a second compilation.

Inputs are float64 C-contiguous arrays (the caller in :mod:`musclesim.metrics` makes them so,
which keeps one compiled specialisation). The per-model constants come from
:func:`musclesim.metrics.measure_arrays`; their slots are named by the ``I_*``, ``F_*`` and
``L_*`` constants below (module constants, frozen into the compiled code; the cache is
invalidated when this file changes).
"""

from __future__ import annotations

import math

import numpy as np

from ._backend import njit

# slots of the integer parameters ``ints``
I_NSEG, I_HIP, I_KNEE, I_ANKLE, I_L5S1, I_SEG_L4, I_SEG_L5, I_HAS_PRESSURE, I_STRUT_FROM, I_STRUT_TO, N_INTS = range(11)
# slots of the float parameters ``flt``: ankle x (m), gravity (m/s2), the pressure's rest force (N)
# and gain (1), the strut's area (m2), Pa per mmHg
F_ANKLE_X, F_GRAVITY, F_IAP_REST, F_IAP_GAIN, F_IAP_AREA, F_PA_PER_MMHG, N_FLT = range(7)
# slots of the landmark point indices ``lm`` (the order of :data:`LANDMARKS`)
(L_ASIS, L_PSIS, L_S1_ANT, L_S1_POST, L_S1_MID, L_HIP_AXIS, L_L1_ANT, L_L1_POST, L_T12_ANT, L_T12_POST,
 L_T4_ANT, L_T4_POST, L_C7, L_TRAGUS) = range(14)
#: (segment, landmark) of each ``L_*`` slot: the landmarks the kernel reads.
LANDMARKS = (("pelvis", "asis"), ("pelvis", "psis"), ("pelvis", "s1_endplate_anterior"),
             ("pelvis", "s1_endplate_posterior"), ("pelvis", "s1_endplate_mid"), ("pelvis", "hip_axis"),
             ("L1", "l1_endplate_anterior"), ("L1", "l1_endplate_posterior"),
             ("thorax_lower", "t12_endplate_anterior"), ("thorax_lower", "t12_endplate_posterior"),
             ("thorax_upper", "t4_endplate_anterior"), ("thorax_upper", "t4_endplate_posterior"),
             ("thorax_upper", "c7"), ("head_neck", "tragus"))
#: Columns of the kernel's output (the number of sagittal measures in the registry).
N_OUT = 18


@njit
def _slope(p, a, b):
    """Endplate slope (deg) from its anterior point ``a`` to its posterior point ``b`` (rows of
    ``p``, (x forward, y up) in m): the anterior edge below the posterior edge is positive."""
    return math.degrees(math.atan2(p[b, 1] - p[a, 1], p[a, 0] - p[b, 0]))


@njit
def _pose(points, joints, q, force, arm, lam, trunk_dir, limit, gx, gy, strut, lm, ints, flt, seg_mass, above,
          upper, lower, muscle, iap_idx, iap_w, out):
    """The measures of one pose into ``out`` (N_OUT,); arguments as :func:`sagittal_measures`, one pose."""
    ss = _slope(points, lm[L_S1_ANT], lm[L_S1_POST])
    asis, psis, s1m, hip = lm[L_ASIS], lm[L_PSIS], lm[L_S1_MID], lm[L_HIP_AXIS]
    # pelvic tilt: the ASIS-PSIS line below horizontal, anterior positive
    out[0] = math.degrees(math.atan2(points[psis, 1] - points[asis, 1], points[asis, 0] - points[psis, 0]))
    out[1] = ss  # sacral slope
    # pelvic incidence: angle between the S1 plate's upward normal and the line from its midpoint to the hip axis
    nx, ny = math.sin(math.radians(ss)), math.cos(math.radians(ss))
    vx, vy = points[hip, 0] - points[s1m, 0], points[hip, 1] - points[s1m, 1]
    pi = math.degrees(math.atan2(abs(nx * vy - ny * vx), -(nx * vx + ny * vy)))
    out[2] = pi
    # radiographic pelvic tilt: vertical vs the line from the S1 midpoint to the hip axis (hip ahead: +)
    out[3] = math.degrees(math.atan2(points[hip, 0] - points[s1m, 0], points[s1m, 1] - points[hip, 1]))
    ll = ss - _slope(points, lm[L_L1_ANT], lm[L_L1_POST])  # Cobb L1 superior to S1 endplate
    out[4] = ll
    out[5] = pi - ll
    out[6] = _slope(points, lm[L_T4_ANT], lm[L_T4_POST]) - _slope(points, lm[L_T12_ANT], lm[L_T12_POST])
    c7, tragus = lm[L_C7], lm[L_TRAGUS]
    out[7] = 1000.0 * (points[tragus, 0] - points[c7, 0])  # head forward of C7 (mm)
    out[8] = 1000.0 * (points[c7, 0] - points[lm[L_S1_POST], 0])  # SVA (mm)
    S = ints[I_NSEG]
    acc, total_mass = 0.0, 0.0
    for s in range(S):  # segment centres of mass are the chain's first S points
        acc += points[s, 0] * seg_mass[s]
        total_mass += seg_mass[s]
    out[9] = 1000.0 * (acc / total_mass - flt[F_ANKLE_X])
    hip_deg = math.degrees(q[ints[I_HIP]])
    out[10] = hip_deg
    out[11] = math.degrees(q[ints[I_KNEE]])
    out[12] = math.degrees(q[ints[I_ANKLE]])
    out[13] = hip_deg - limit  # extension reserve, both sides in the sagittal model
    out[14] = hip_deg - limit
    has_p = ints[I_HAS_PRESSURE] != 0
    # intra-abdominal pressure from the wall's hoop tension (in muscle order, as the solver sums it)
    T = 0.0
    for i in range(iap_idx.shape[0]):
        T += iap_w[i] * force[iap_idx[i]]
    pressure = (flt[F_IAP_REST] + flt[F_IAP_GAIN] * T) / flt[F_IAP_AREA] / flt[F_PA_PER_MMHG] if has_p else np.nan
    # axial compression at L5-S1 along the L5 axis (L5-S1 -> L4-L5 joint centre): the weight above,
    # each crossing muscle's pull along its path piece spanning the joint, less the strut's push
    l5 = ints[I_L5S1]
    ax = joints[ints[I_SEG_L4], 0] - joints[ints[I_SEG_L5], 0]
    ay = joints[ints[I_SEG_L4], 1] - joints[ints[I_SEG_L5], 1]
    norm = math.sqrt(ax * ax + ay * ay)
    ax, ay = ax / norm, ay / norm
    mass_above = 0.0
    for s in range(S):
        if above[s]:
            mass_above += seg_mass[s]
    total = mass_above * flt[F_GRAVITY] * -(ax * gx + ay * gy)
    for k in range(upper.shape[0]):
        m = muscle[k]
        if abs(arm[m, l5]) > 1e-9:
            ux = points[lower[k], 0] - points[upper[k], 0]
            uy = points[lower[k], 1] - points[upper[k], 1]
            un = math.sqrt(ux * ux + uy * uy)
            total += force[m] * -((ux / un) * ax + (uy / un) * ay)
    if strut and has_p:
        sx = points[ints[I_STRUT_TO], 0] - points[ints[I_STRUT_FROM], 0]
        sy = points[ints[I_STRUT_TO], 1] - points[ints[I_STRUT_FROM], 1]
        sn = math.sqrt(sx * sx + sy * sy)
        total -= pressure * flt[F_PA_PER_MMHG] * flt[F_IAP_AREA] * ((sx / sn) * ax + (sy / sn) * ay)
    out[15] = total
    out[16] = pressure
    out[17] = abs(lam[0]) + abs(lam[1]) + abs(lam[2] * trunk_dir[l5])  # balance effort (N·m)


@njit
def sagittal_measures(points, joints, q, force, arm, lam, trunk_dir, limit, gx, gy, strut, lm, ints, flt,
                      seg_mass, above, upper, lower, muscle, iap_idx, iap_w):
    """The sagittal measures of B poses: array (B, N_OUT), columns in registry order.

    Per pose: ``points`` (B, Np, 2) the chain's points (m; x forward, y up; the first S are the
    segment centres of mass), ``joints`` (B, S, 2) each segment's proximal joint, ``q`` (B, n) the
    joint angles (rad), ``force`` (B, M) muscle forces (N, with the regulating trunk muscle's
    extra force), ``arm`` (B, M, n) moment arms (m), ``lam`` (B, 3) the regulation efforts,
    ``trunk_dir`` (B, n) the trunk actuator's moment-arm vector, ``limit`` (B,) the hip extension
    limit (deg). For all poses: ``gx, gy`` the unit vector of gravity in the points' frame,
    ``strut`` whether the abdominal pressure's strut is part of the equilibrium (its push is then
    taken off the compression). Per model (:func:`musclesim.metrics.measure_arrays`): ``lm`` the
    landmark point indices (``L_*``), ``ints``/``flt`` the ``I_*``/``F_*`` parameters,
    ``seg_mass`` (S,) kg, ``above`` (S,) segments moved by L5-S1, ``upper, lower, muscle`` the
    muscle path pieces spanning L5-S1, ``iap_idx, iap_w`` the muscles with a wall weight and
    their weights.
    """
    B = q.shape[0]
    out = np.empty((B, N_OUT))
    for b in range(B):
        _pose(points[b], joints[b], q[b], force[b], arm[b], lam[b], trunk_dir[b], limit[b], gx, gy, strut, lm, ints,
              flt, seg_mass, above, upper, lower, muscle, iap_idx, iap_w, out[b])
    return out
