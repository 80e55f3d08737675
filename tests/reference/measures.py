"""The sagittal measures in plain numpy, vectorised over a batch of poses: the test oracle of
the compiled kernel (:mod:`musclesim.measure_kernels`), which replaced this code in the package.

These are the formulas the package used before the kernel became the one implementation (moved
here unchanged); ``tests/test_measure_oracles.py`` checks that both agree to 1e-12, measure by
measure (by name, so a column out of order in the kernel fails too).
"""

from __future__ import annotations

import numpy as np

from musclesim.chain import MMHG_PA, Chain


def _pieces_spanning(chain: Chain, dof: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each muscle, its path piece that spans ``dof``: (point above, point below, muscle)."""
    above = chain.anc[:, dof] != 0
    upper, lower, muscle = [], [], []
    for m in range(len(chain.muscle_names)):
        for k in np.flatnonzero(chain.pair_muscle == m):
            a, b = chain.pair_i0[k], chain.pair_i1[k]
            if above[chain.pt_seg[a]] != above[chain.pt_seg[b]]:
                upper.append(a if above[chain.pt_seg[a]] else b)
                lower.append(b if above[chain.pt_seg[a]] else a)
                muscle.append(m)
                break
    return np.array(upper, dtype=int), np.array(lower, dtype=int), np.array(muscle, dtype=int)


def _slope_deg(ant: np.ndarray, post: np.ndarray) -> np.ndarray:
    """Endplate slope (..., degrees): anterior edge below the posterior edge is positive."""
    return np.degrees(np.arctan2(post[..., 1] - ant[..., 1], ant[..., 0] - post[..., 0]))


def measure_batch(chain: Chain, points: np.ndarray, joints: np.ndarray, q: np.ndarray, force_N: np.ndarray,
                  moment_arm_m: np.ndarray, lam: np.ndarray, trunk_dir: np.ndarray,
                  hip_extension_limit_deg: float, gravity_dir: np.ndarray | None = None,
                  strut_acts: bool | None = None) -> dict[str, np.ndarray]:
    """All measures for a batch of solved poses, as arrays (B,).

    ``strut_acts``: whether the intra-abdominal pressure's strut is part of the equilibrium solved
    (then its axial push is taken off the lumbar compression). By default it is when standing
    (``gravity_dir`` None); the lying positions (:mod:`musclesim.positions`) report the pressure
    from the wall's tension but do not include its strut in their equilibrium.

    ``points`` (B, Np, 2) are the chain's points, ``joints`` (B, S, 2) each segment's proximal
    joint position, ``q`` (B, n) the joint angles (rad), ``force_N`` (B, M) muscle forces including
    the regulating trunk muscle's extra force, ``moment_arm_m`` (B, M, n), ``lam`` (B, 3) the
    regulation efforts and ``trunk_dir`` (B, n) the trunk actuator's moment-arm vector.
    """
    L = lambda seg, name: points[:, chain.landmark_index[(seg, name)]]
    asis, psis = L("pelvis", "asis"), L("pelvis", "psis")
    s1a, s1p, s1m = L("pelvis", "s1_endplate_anterior"), L("pelvis", "s1_endplate_posterior"), L("pelvis", "s1_endplate_mid")
    hip = L("pelvis", "hip_axis")
    ss = _slope_deg(s1a, s1p)
    # radiographic PT: angle at the S1 midpoint between the vertical and the line to the hip axis;
    # positive when the hip axis lies in front of the S1 midpoint
    pt = np.degrees(np.arctan2(hip[:, 0] - s1m[:, 0], s1m[:, 1] - hip[:, 1]))
    # PI: angle between the S1 endplate's perpendicular and the line from its midpoint to the hip axis
    nx, ny = np.sin(np.radians(ss)), np.cos(np.radians(ss))  # upward normal of the plate
    vx, vy = hip[:, 0] - s1m[:, 0], hip[:, 1] - s1m[:, 1]
    pi = np.degrees(np.arctan2(np.abs(nx * vy - ny * vx), -(nx * vx + ny * vy)))
    l1 = _slope_deg(L("L1", "l1_endplate_anterior"), L("L1", "l1_endplate_posterior"))
    t12 = _slope_deg(L("thorax_lower", "t12_endplate_anterior"), L("thorax_lower", "t12_endplate_posterior"))
    t4 = _slope_deg(L("thorax_upper", "t4_endplate_anterior"), L("thorax_upper", "t4_endplate_posterior"))
    c7, tragus = L("thorax_upper", "c7"), L("head_neck", "tragus")
    S = len(chain.seg_names)
    com_x = points[:, :S, 0] @ chain.seg_mass_kg / chain.seg_mass_kg.sum()
    deg = np.degrees(q)
    dof = {d: i for i, d in enumerate(chain.dof_names)}
    hip_deg = deg[:, dof["hip"]]
    reserve = hip_deg - hip_extension_limit_deg
    l5 = dof["L5S1"]
    return {
        "pelvic_tilt_deg": np.degrees(np.arctan2(psis[:, 1] - asis[:, 1], asis[:, 0] - psis[:, 0])),
        "sacral_slope_deg": ss,
        "pelvic_incidence_deg": pi,
        "radiographic_pelvic_tilt_deg": pt,
        "lumbar_lordosis_deg": ss - l1,
        "pi_minus_ll_deg": pi - (ss - l1),
        "thoracic_kyphosis_deg": t4 - t12,
        "head_forward_mm": 1000.0 * (tragus[:, 0] - c7[:, 0]),
        "sagittal_vertical_axis_mm": 1000.0 * (c7[:, 0] - s1p[:, 0]),
        "com_anterior_mm": 1000.0 * (com_x - chain.ankle_x_m),
        "hip_flexion_deg": hip_deg,
        "knee_flexion_deg": deg[:, dof["knee"]],
        "ankle_dorsiflexion_deg": deg[:, dof["ankle"]],
        "hip_extension_reserve_left_deg": reserve,
        "hip_extension_reserve_right_deg": reserve.copy(),
        "lumbar_compression_N": lumbar_compression_N(chain, points, joints, force_N, moment_arm_m, gravity_dir,
                                                     gravity_dir is None if strut_acts is None else strut_acts),
        "intra_abdominal_pressure_mmHg": intra_abdominal_pressure_mmHg(chain, force_N),
        "balance_effort_Nm": np.abs(lam[:, 0]) + np.abs(lam[:, 1]) + np.abs(lam[:, 2] * trunk_dir[:, l5]),
    }


def intra_abdominal_pressure_mmHg(chain: Chain, force_N: np.ndarray) -> np.ndarray:
    """Intra-abdominal pressure (mmHg, per pose): ``P_rest + T_wall / (h R)`` with the wall's hoop
    tension ``T_wall = sum w_m F_m`` from the muscle forces ``force_N`` (B, M; including the regulating
    trunk muscle's extra force). NaN for a model without an ``[abdominal_pressure]`` table."""
    force_N = np.asarray(force_N)
    if not chain.has_pressure:
        return np.full(force_N.shape[:-1], np.nan)
    T = np.zeros(force_N.shape[:-1])
    for m in np.flatnonzero(chain.iap_weight):  # in muscle order, as the kernels sum it: the same bits in any
        T = T + chain.iap_weight[m] * force_N[..., m]  # batch (the muscles left out add exact zeros)
    return (chain.iap_rest_N + chain.iap_gain * T) / chain.iap_area_m2 / MMHG_PA


def lumbar_compression_N(chain: Chain, points: np.ndarray, joints: np.ndarray, force_N: np.ndarray,
                         moment_arm_m: np.ndarray, gravity_dir: np.ndarray | None = None,
                         strut_acts: bool = True) -> np.ndarray:
    """Axial compression at L5-S1 (N, per pose of a batch): weight above and muscle pulls along L5's axis,
    less the intra-abdominal pressure's push.

    The axis runs from the L5-S1 to the L4-L5 joint centre. Each muscle crossing L5-S1 pulls the
    part above toward its attachment below along the path piece that spans the joint; gravity adds
    the weight of every segment above the sacrum. The pressure's strut (when ``strut_acts`` and the
    model has one) pushes the rib cage away from the pelvic floor: its component along the axis
    unloads the spine. Shear is not included in this sagittal model.
    """
    j0 = chain.dof_names.index("L5S1")
    axis = joints[:, chain.seg_names.index("L4")] - joints[:, chain.seg_names.index("L5")]
    axis /= np.linalg.norm(axis, axis=1)[:, None]
    above = chain.anc[:, j0] != 0  # segments moved by the L5-S1 joint
    g = np.array([0.0, -1.0]) if gravity_dir is None else np.asarray(gravity_dir, dtype=float)
    total = chain.seg_mass_kg[above].sum() * chain.gravity * -(axis @ g)  # weight above, along the axis
    upper, lower, muscle = _pieces_spanning(chain, j0)
    u = points[:, lower] - points[:, upper]
    u /= np.linalg.norm(u, axis=2)[..., None]
    crossing = np.abs(moment_arm_m[:, muscle, j0]) > 1e-9
    total = total + np.sum(force_N[:, muscle] * -np.einsum("bmc,bc->bm", u, axis) * crossing, axis=1)
    if strut_acts and chain.has_pressure:
        i0, i1 = chain.iap_pts
        s = points[:, i1] - points[:, i0]  # pelvic floor -> diaphragm: the push on the part above
        s /= np.linalg.norm(s, axis=1)[:, None]
        total = total - intra_abdominal_pressure_mmHg(chain, force_N) * MMHG_PA * chain.iap_area_m2 \
            * np.einsum("bc,bc->b", s, axis)
    return total
