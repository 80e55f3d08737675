"""The sagittal measures of one standing pose, compiled (numba): the same formulas as
:func:`musclesim.metrics.measure_batch`, without numpy's per-call cost on arrays of one pose.

:func:`musclesim.metrics.measure` uses it when numba is installed and ``MUSCLESIM_NO_NUMBA`` is
not set; ``tests/test_fast_paths.py`` checks that both give the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from ._backend import njit

#: Landmarks the measures read, in the order of the kernel's ``lm`` array.
LANDMARKS = (("pelvis", "asis"), ("pelvis", "psis"), ("pelvis", "s1_endplate_anterior"),
             ("pelvis", "s1_endplate_posterior"), ("pelvis", "s1_endplate_mid"), ("pelvis", "hip_axis"),
             ("L1", "l1_endplate_anterior"), ("L1", "l1_endplate_posterior"),
             ("thorax_lower", "t12_endplate_anterior"), ("thorax_lower", "t12_endplate_posterior"),
             ("thorax_upper", "t4_endplate_anterior"), ("thorax_upper", "t4_endplate_posterior"),
             ("thorax_upper", "c7"), ("head_neck", "tragus"))
#: The measures the kernel returns, in order (the sagittal part of :data:`musclesim.metrics.MEASURES`).
NAMES = ("pelvic_tilt_deg", "sacral_slope_deg", "pelvic_incidence_deg", "radiographic_pelvic_tilt_deg",
         "lumbar_lordosis_deg", "pi_minus_ll_deg", "thoracic_kyphosis_deg", "head_forward_mm",
         "sagittal_vertical_axis_mm", "com_anterior_mm", "hip_flexion_deg", "knee_flexion_deg",
         "ankle_dorsiflexion_deg", "hip_extension_reserve_left_deg", "hip_extension_reserve_right_deg",
         "lumbar_compression_N", "intra_abdominal_pressure_mmHg", "balance_effort_Nm")


@njit
def _slope(p, a, b):
    """Endplate slope (deg) from anterior point ``a`` and posterior point ``b``: as metrics._slope_deg."""
    return math.degrees(math.atan2(p[b, 1] - p[a, 1], p[a, 0] - p[b, 0]))


@njit
def sagittal_measures(points, joints, q, force, arm, lam, trunk_dir, limit, lm, ints, flt, seg_mass, above, upper,
                      lower, muscle, iap_idx, iap_w):
    """The measures of :data:`NAMES` for one pose (see :func:`musclesim.metrics.measure_batch` for
    the arguments and formulas). ``ints``: segment count, dof of hip, knee, ankle, L5-S1, segment of
    L4 and L5, whether the model has an abdominal pressure and its two strut points; ``flt``:
    ankle x (m), gravity (m/s2), the pressure's rest force (N) and gain, the strut area (m2), Pa per
    mmHg; ``above`` segments moved by L5-S1; ``upper, lower, muscle`` the path pieces spanning it;
    ``iap_idx, iap_w`` the muscles with a wall weight and the weights."""
    out = np.empty(18)
    asis, psis, s1a, s1p, s1m, hip = lm[0], lm[1], lm[2], lm[3], lm[4], lm[5]
    ss = _slope(points, s1a, s1p)
    out[0] = math.degrees(math.atan2(points[psis, 1] - points[asis, 1], points[asis, 0] - points[psis, 0]))
    out[1] = ss
    nx, ny = math.sin(math.radians(ss)), math.cos(math.radians(ss))
    vx, vy = points[hip, 0] - points[s1m, 0], points[hip, 1] - points[s1m, 1]
    pi = math.degrees(math.atan2(abs(nx * vy - ny * vx), -(nx * vx + ny * vy)))
    out[2] = pi
    out[3] = math.degrees(math.atan2(points[hip, 0] - points[s1m, 0], points[s1m, 1] - points[hip, 1]))
    ll = ss - _slope(points, lm[6], lm[7])
    out[4] = ll
    out[5] = pi - ll
    out[6] = _slope(points, lm[10], lm[11]) - _slope(points, lm[8], lm[9])
    c7, tragus = lm[12], lm[13]
    out[7] = 1000.0 * (points[tragus, 0] - points[c7, 0])
    out[8] = 1000.0 * (points[c7, 0] - points[s1p, 0])
    S = ints[0]
    acc, total_mass = 0.0, 0.0
    for s in range(S):
        acc += points[s, 0] * seg_mass[s]
        total_mass += seg_mass[s]
    out[9] = 1000.0 * (acc / total_mass - flt[0])
    hip_deg = math.degrees(q[ints[1]])
    out[10] = hip_deg
    out[11] = math.degrees(q[ints[2]])
    out[12] = math.degrees(q[ints[3]])
    out[13] = hip_deg - limit
    out[14] = hip_deg - limit
    # intra-abdominal pressure from the wall's hoop tension (muscle order, as the kernels sum it)
    T = 0.0
    for i in range(iap_idx.shape[0]):
        T += iap_w[i] * force[iap_idx[i]]
    pressure = (flt[2] + flt[3] * T) / flt[4] / flt[5] if ints[7] else np.nan
    # axial compression at L5-S1: weight above, muscle pulls along the L5 axis, less the strut's push
    l5 = ints[4]
    ax = joints[ints[5], 0] - joints[ints[6], 0]
    ay = joints[ints[5], 1] - joints[ints[6], 1]
    norm = math.sqrt(ax * ax + ay * ay)
    ax, ay = ax / norm, ay / norm
    mass_above = 0.0
    for s in range(S):
        if above[s]:
            mass_above += seg_mass[s]
    total = mass_above * flt[1] * ay  # gravity (0, -1) along the axis
    for k in range(upper.shape[0]):
        m = muscle[k]
        if abs(arm[m, l5]) > 1e-9:
            ux = points[lower[k], 0] - points[upper[k], 0]
            uy = points[lower[k], 1] - points[upper[k], 1]
            un = math.sqrt(ux * ux + uy * uy)
            total += force[m] * -((ux / un) * ax + (uy / un) * ay)
    if ints[7]:
        sx = points[ints[9], 0] - points[ints[8], 0]
        sy = points[ints[9], 1] - points[ints[8], 1]
        sn = math.sqrt(sx * sx + sy * sy)
        total -= pressure * flt[5] * flt[4] * ((sx / sn) * ax + (sy / sn) * ay)
    out[15] = total
    out[16] = pressure
    out[17] = abs(lam[0]) + abs(lam[1]) + abs(lam[2] * trunk_dir[l5])
    return out


def pack(chain) -> tuple:
    """The static arrays :func:`sagittal_measures` needs for a chain (after ``limit``)."""
    from .chain import MMHG_PA
    from .metrics import _pieces_spanning

    dof = {d: i for i, d in enumerate(chain.dof_names)}
    j0 = dof["L5S1"]
    upper, lower, muscle = _pieces_spanning(chain, j0)
    has_p = chain.has_pressure
    iap_idx = np.flatnonzero(chain.iap_weight) if has_p else np.zeros(0, dtype=np.int64)
    ints = np.array([len(chain.seg_names), dof["hip"], dof["knee"], dof["ankle"], j0, chain.seg_names.index("L4"),
                     chain.seg_names.index("L5"), int(has_p), chain.iap_pts[0] if has_p else -1,
                     chain.iap_pts[1] if has_p else -1], dtype=np.int64)
    flt = np.array([chain.ankle_x_m, chain.gravity, chain.iap_rest_N if has_p else 0.0,
                    chain.iap_gain if has_p else 0.0, chain.iap_area_m2 if has_p else 1.0, MMHG_PA])
    lm = np.array([chain.landmark_index[k] for k in LANDMARKS], dtype=np.int64)
    return (lm, ints, flt, np.ascontiguousarray(chain.seg_mass_kg, dtype=float), chain.anc[:, j0] != 0,
            upper.astype(np.int64), lower.astype(np.int64), muscle.astype(np.int64), iap_idx.astype(np.int64),
            np.ascontiguousarray(chain.iap_weight[iap_idx], dtype=float) if has_p else np.zeros(0))
