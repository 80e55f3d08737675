"""The model as the compiled core reads it: named arrays instead of positional tuples.

:class:`CompiledModel` holds every array and constant of the sagittal equations (what used to be
``kernels.pack()``'s 25-element tuple with magic indices such as ``floats[9]``); :class:`Settings`
holds the solver's tolerances and path-following limits; :class:`Structure` the sparsity pattern of
the equations. All three are ``typing.NamedTuple`` classes, which numba passes into compiled code
by field name. They are built once per prepared model (:func:`compile_model`, :func:`settings`,
:func:`musclesim.physics.kinematics.structure`) and never change: the inputs of a scenario
(activation and tendon rest lengths, which tightness shortens) are passed beside them, so one
compiled model serves every scenario of a batch.

Units: SI throughout (m, N, kg, rad), except the passive joint laws, which take degrees (their
source tables do) and give N·m.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import constants as C


class CompiledModel(NamedTuple):
    """Arrays of one model's sagittal chain, muscles, passive joints, regulation and pressure.

    Chain: ``S`` segments, ``n`` joint angles, ``Np`` points (segment centres of mass first, index =
    segment index, then landmarks, then muscle path points), ``K`` straight path pieces, ``M``
    muscle instances.
    """

    # --- chain (see musclesim.chain.Chain)
    anc: np.ndarray  # (S, n) sign with which joint j pitches segment s (0 if s is not distal to j)
    seg_parent: np.ndarray  # (S,) int64, parent segment, -1 for the root
    seg_c0: np.ndarray  # (S, 2) m, proximal joint centre in the reference configuration
    dof_seg: np.ndarray  # (n,) int64, the segment whose proximal joint each angle is
    pt_seg: np.ndarray  # (Np,) int64, segment of each point
    pt_r0: np.ndarray  # (Np, 2) m, point in the reference configuration
    pair_i0: np.ndarray  # (K,) int64, first point of each path piece
    pair_i1: np.ndarray  # (K,) int64, second point
    pair_m: np.ndarray  # (K,) int64, muscle of each piece
    seg_mass: np.ndarray  # (S,) kg
    dof_bil: np.ndarray  # (n,) 2 for a joint standing for both sides (moments of both), else 1
    gravity: float  # m/s^2
    # --- muscles: F = F0 (a fL + fPE + gamma a (l~ - l~ref)), kept >= 0 smoothly
    F0: np.ndarray  # (M,) N, maximal isometric force
    lopt: np.ndarray  # (M,) m, optimal fibre length
    lref: np.ndarray  # (M,) normalised fibre length in the reference standing pose
    slack: np.ndarray  # (M,) normalised fibre length where passive force sets in
    gamma: float  # short-range stiffness, F0 per normalised length per unit activation
    fl_width: float  # width of the Gaussian active force-length curve (normalised length)
    pe_strain: float  # strain at which passive force reaches F0
    pe_shape: float  # exponential shape factor of the passive force
    smooth_force: float  # N, width of the smooth max(F, 0)
    passive_onset: float  # normalised length over which passive muscle force sets in
    # --- passive joint laws, per angle: c0 + kl deg + sum_t s_t exp(a_t + b_t deg), N·m, deg = angle in degrees
    pc0: np.ndarray  # (n,) N·m
    pkl: np.ndarray  # (n,) N·m/deg
    ps: np.ndarray  # (n, T) signs of the exponential terms
    pa: np.ndarray  # (n, T)
    pb: np.ndarray  # (n, T) 1/deg
    pcpl: np.ndarray  # (n, T, n) 1/deg: term t of joint j's exponent per degree of joint k (two-joint muscles)
    p_coupled: bool  # some passive law depends on another joint's angle
    # --- postural regulation (k goals and efforts; k = 0 for an unregulated model)
    k: int
    ankle_dof: int  # joint of the ankle torque lam[0] (N·m) that keeps the centre of mass
    neck_dof: int  # joint of the neck torque lam[1] (N·m) that keeps gaze level
    gaze_seg: int  # segment whose pitch is held at zero (gaze)
    upright_seg: int  # segment whose pitch the trunk muscles' effort lam[2] (N) regulates
    upright_compliance: float  # rad/N: goal ``pitch - c (lam[2] - upright_ref) = 0`` (c = 0: pitch held at 0)
    upright_ref: float  # N, the habitual posture's trunk effort (the regulator's set point)
    com_target: float  # m, x of the centre of mass the ankle torque holds
    ext_idx: np.ndarray  # (E,) int64, muscles carrying a positive trunk effort
    flx_idx: np.ndarray  # (F,) int64, muscles carrying a negative trunk effort
    trunk_blend: float  # N, width of the smooth hand-over between them
    knee_dof: int  # joint held near its reference angle by the knees' postural spring (-1: none)
    knee_k: float  # N·m/rad, that spring's stiffness (both sides); only with k > 0 (standing)
    # --- intra-abdominal pressure strut (strut_i0 < 0: none)
    strut_i0: int  # point index of the pelvic floor
    strut_i1: int  # point index of the diaphragm
    iap_rest: float  # N, strut force at rest
    iap_gain: float  # N of strut force per N of abdominal-wall hoop tension
    iap_weight: np.ndarray  # (M,) weight of each muscle's force in the hoop tension


class Settings(NamedTuple):
    """Tolerances and limits of the Newton driver and the path from the baseline (see
    :mod:`musclesim.physics.newton`, where each is explained)."""

    tol_moment: float  # N·m, every moment residual below this at an answer
    tol_goal: float  # m or rad, every postural goal met to this
    path_tol_factor: float  # intermediate path points are solved this many times more loosely
    max_iter: int  # Newton/Broyden iterations per solve
    max_step: float  # rad, largest change of a joint angle in one step (trust region)
    chord_contraction: float  # a quasi-Newton step must shrink the residual at least this much
    base_steps: int  # steps of the path from the baseline
    max_halvings: int  # halvings of a failing step before the path is declared lost
    jump_factor: float  # a path step moving the joints more than this x the last one jumped branch ...
    jump_floor: float  # rad, ... plus this allowance
    first_step: float  # rad, allowance for the first step
    direct_contraction: float  # contraction test of the straight Newton attempt (0: no attempt)
    direct_max_iter: int  # steps allowed to the straight attempt
    goal_weight: float  # weight of the rows after the moments (goals, floor) in the line search's norm


class Structure(NamedTuple):
    """Sparsity pattern of one model's equations (:func:`musclesim.physics.kinematics.structure`).

    Every term it leaves out is an exact zero, so the sums that remain give the dense formula's
    numbers bit for bit. Read-only: one serves every thread of a batch.
    """

    touch: np.ndarray  # (M, n) bool, muscle m's length depends on joint j
    pts: np.ndarray  # points the equations need (centres of mass and path points), ascending
    seg_sup: np.ndarray  # (S, n) per segment, the joints that move it, ascending (seg_cnt of them)
    seg_cnt: np.ndarray
    pair_sup: np.ndarray  # (K, n) per path piece, the joints that move either end (pair_cnt)
    pair_cnt: np.ndarray
    dof_mus: np.ndarray  # (n, M) per joint, the muscles spanning it (dof_mcnt)
    dof_mcnt: np.ndarray
    mus_dof: np.ndarray  # (M, n) per muscle, the joints it spans (mus_dcnt)
    mus_dcnt: np.ndarray
    jl_mus: np.ndarray  # (n, n, M) per pair of joints, the muscles spanning both (jl_cnt)
    jl_cnt: np.ndarray
    jl_seg: np.ndarray  # (n, n, S) per pair of joints, the segments both move (jl_scnt)
    jl_scnt: np.ndarray
    pair_c0: np.ndarray  # (K,) path pieces' ends as computed points (coincident points merged)
    pair_c1: np.ndarray
    twin: np.ndarray  # (M,) an earlier muscle with the same path (left and right share it), else itself


class Workspace(NamedTuple):
    """Scratch arrays of one thread's residual evaluations (every call overwrites them)."""

    alpha: np.ndarray  # (S,) segment pitch, rad
    cos_a: np.ndarray  # (S,)
    sin_a: np.ndarray  # (S,)
    P: np.ndarray  # (S, 2) proximal joint centres, m
    p: np.ndarray  # (Np, 2) points, m
    dp: np.ndarray  # (Np, n, 2) dp/dq (stays zero where anc is zero)
    length: np.ndarray  # (M,) musculotendon length, m
    g: np.ndarray  # (M, n) dl/dq, m/rad
    H: np.ndarray  # (M, n, n) d2l/dq2
    delta: np.ndarray  # (n, 2)
    proj: np.ndarray  # (n,)
    d1: np.ndarray  # (n,)
    d0: np.ndarray  # (n,)
    F: np.ndarray  # (M,) N
    dF: np.ndarray  # (M,) N/m
    no_jac: np.ndarray  # (0, 0), returned when no Jacobian is wanted


def compile_model(mech) -> CompiledModel:
    """The :class:`CompiledModel` of a prepared :class:`musclesim.mechanics.Mechanics`."""
    c = mech.chain
    c0, kl, s, a, b, cpl = mech.passive_arrays
    strut = c.iap_pts if c.has_pressure else np.array([-1, -1])
    i64 = lambda x: np.ascontiguousarray(x, dtype=np.int64)  # noqa: E731
    f64 = lambda x: np.ascontiguousarray(x, dtype=float)  # noqa: E731
    return CompiledModel(
        anc=f64(c.anc), seg_parent=i64(c.seg_parent), seg_c0=f64(c.seg_c0), dof_seg=i64(c.dof_seg),
        pt_seg=i64(c.pt_seg), pt_r0=f64(c.pt_r0), pair_i0=i64(c.pair_i0), pair_i1=i64(c.pair_i1),
        pair_m=i64(c.pair_muscle), seg_mass=f64(c.seg_mass_kg), dof_bil=f64(c.dof_bilateral), gravity=float(c.gravity),
        F0=f64(c.F0_N), lopt=f64(c.l_opt_m), lref=f64(c.l_ref_norm), slack=f64(c.slack_norm),
        gamma=float(mech.gamma), fl_width=float(mech.fl_width), pe_strain=float(mech.pe_strain),
        pe_shape=float(mech.pe_shape), smooth_force=float(C.SMOOTH_FORCE_N), passive_onset=float(C.PASSIVE_ONSET),
        pc0=f64(c0), pkl=f64(kl), ps=f64(s), pa=f64(a), pb=f64(b),
        pcpl=f64(cpl), p_coupled=bool(np.any(cpl != 0.0)),
        k=int(mech.k), ankle_dof=int(mech.ankle_dof), neck_dof=int(mech.neck_dof), gaze_seg=int(mech.gaze_seg),
        upright_seg=int(mech.upright_seg), upright_compliance=float(mech.upright_compliance_rad_per_N),
        upright_ref=float(mech.upright_effort_ref_N),
        com_target=float(mech.com_target_x_m), ext_idx=i64(mech.extensor_idx),
        flx_idx=i64(mech.flexor_idx), trunk_blend=float(C.TRUNK_BLEND_N),
        knee_dof=int(mech.knee_dof), knee_k=float(mech.knee_stiffness_Nm_per_rad),
        strut_i0=int(strut[0]), strut_i1=int(strut[1]), iap_rest=float(c.iap_rest_N), iap_gain=float(c.iap_gain),
        iap_weight=f64(c.iap_weight if c.has_pressure else np.zeros(len(c.F0_N))),
    )


def settings(direct: bool = True, loose: bool = False) -> Settings:
    """The solver :class:`Settings` from :mod:`musclesim.physics.constants` (their one source).

    ``direct=False`` drops the straight Newton attempt; ``loose`` multiplies the tolerances by the
    path factor (intermediate points of a path)."""
    f = C.PATH_TOL_FACTOR if loose else 1.0
    return Settings(
        tol_moment=C.TOL_MOMENT_NM * f, tol_goal=C.TOL_GOAL * f, path_tol_factor=float(C.PATH_TOL_FACTOR),
        max_iter=int(C.MAX_ITER), max_step=float(C.MAX_STEP_RAD), chord_contraction=float(C.CHORD_CONTRACTION),
        base_steps=int(C.CONTINUATION_STEPS), max_halvings=int(C.MAX_HALVINGS), jump_factor=float(C.JUMP_FACTOR),
        jump_floor=float(C.JUMP_FLOOR_RAD), first_step=float(C.FIRST_STEP_RAD),
        direct_contraction=float(C.DIRECT_CONTRACTION) if direct else 0.0, direct_max_iter=int(C.DIRECT_MAX_ITER),
        goal_weight=1e3,
    )


class Floor(NamedTuple):
    """A lying position's compliant floor contacts (:mod:`musclesim.physics.contact`)."""

    contact_pt: np.ndarray  # (m,) int64, point index of each contact
    height: np.ndarray  # (m,) m, support height of each contact above the floor
    anchored: np.ndarray  # (m,) bool, held along the floor by a shear spring
    anchor: np.ndarray  # (m,) m, where an anchored contact is held along the floor (0 if not anchored)
    has_shear: bool  # some contact is anchored: the unknowns include the floor's offset s along it
    stiffness: float  # N/m, normal stiffness of the soft tissue under each contact
    smoothing: float  # m, width of the smooth onset of the contact force
    shear_ratio: float  # tangential over normal stiffness of an anchored contact
    pts: np.ndarray  # int64, the points the equations need (those of Structure.pts and the contacts), ascending
