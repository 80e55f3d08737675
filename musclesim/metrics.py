"""Clinical measures computed from a solved pose (names and signs: DESIGN section 6).

Every measure is computed from landmark positions of the solved body, the way a radiograph or a
photograph would measure it; nothing is read off a joint angle. Angles in degrees, distances in
millimetres, forces in newtons, moments in N·m, pressures in mmHg.

:data:`MEASURES` is the one registry of measures: name, unit, plane, meaning, normal band and
its source, the landmarks and bones each is read from, and what its sign means. Every other list
of measure names in the package derives from it (:data:`SAGITTAL`, :data:`LATERAL`, the compiled
kernel's column order).

The sagittal measures have one implementation, compiled and batched
(:func:`musclesim.measure_kernels.sagittal_measures`, timings in its docstring), called through
:func:`measure` (one pose, a dict of floats) and :func:`measure_batch` (B poses, a dict of
arrays). It ignores ``MUSCLESIM_NO_NUMBA`` (numba is a required dependency; without numba
installed the same kernel runs as plain Python, slowly). The frontal and transverse ones are
computed by :mod:`musclesim.lateral`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .chain import MMHG_PA, Chain


@dataclass(frozen=True)
class MeasureInfo:
    """One measure: what it means, its unit, its normal band (with the band's source), where it is
    read from, and what its sign means.

    ``normal`` (lo, hi) is in ``unit`` (None: no published band used); ``plane`` is
    ``"sagittal"`` (computed by the sagittal model, :func:`measure_batch`), ``"frontal"`` or
    ``"transverse"`` (the left-right model, :mod:`musclesim.lateral`). ``landmarks`` are the
    (segment, landmark) pairs the formula reads (for the left-right measures, both sides of a
    bilateral landmark); ``bones`` the segments the graph's ``measured_on`` edges join it to;
    ``positive`` and ``negative`` say in words what a value above and below zero means (empty
    for a magnitude that is never negative).
    """

    name: str
    unit: str
    meaning: str
    normal: tuple[float, float] | None
    normal_source: str
    plane: str = "sagittal"
    positive: str = ""
    negative: str = ""
    landmarks: tuple[tuple[str, str], ...] = ()
    bones: tuple[str, ...] = ()

    def sign_word(self, value: float) -> str:
        """What the sign of ``value`` means (``"anterior"`` for +3 deg of pelvic tilt); "" at 0."""
        return self.positive if value > 0 else self.negative if value < 0 else ""


_ASIS_PSIS = (("pelvis", "asis"), ("pelvis", "psis"))
_S1 = (("pelvis", "s1_endplate_anterior"), ("pelvis", "s1_endplate_posterior"))
_S1_HIP = (("pelvis", "s1_endplate_mid"), ("pelvis", "hip_axis"))
_L1 = (("L1", "l1_endplate_anterior"), ("L1", "l1_endplate_posterior"))
_T12_T4 = (("thorax_lower", "t12_endplate_anterior"), ("thorax_lower", "t12_endplate_posterior"),
           ("thorax_upper", "t4_endplate_anterior"), ("thorax_upper", "t4_endplate_posterior"))
_C7 = (("thorax_upper", "c7"),)
_RESERVE = "hip extension left before the joint's extension limit (stride proxy)"

#: The registry of measures, by name (DESIGN section 6 fixes names and signs). Insertion order is
#: the order of tables and of the compiled kernel's columns.
MEASURES: dict[str, MeasureInfo] = {m.name: m for m in (
    MeasureInfo("pelvic_tilt_deg", "deg", "ASIS-PSIS line below horizontal; anterior tilt positive",
                (8.0, 18.0), "Preece 2008: 13 +/- 5 deg (REFERENCE.md A)",
                positive="anterior", negative="posterior", landmarks=_ASIS_PSIS, bones=("pelvis",)),
    MeasureInfo("sacral_slope_deg", "deg", "S1 endplate to horizontal",
                (28.0, 48.0), "meta-analysis PMID 28368866: 37.7 (28-48)",
                positive="front edge lower", negative="back edge lower", landmarks=_S1, bones=("pelvis",)),
    MeasureInfo("pelvic_incidence_deg", "deg", "subject constant; PI = PT + SS",
                (39.0, 62.0), "meta-analysis PMID 28368866: 50.6 (39-62)",
                landmarks=_S1 + _S1_HIP, bones=("pelvis",)),
    MeasureInfo("radiographic_pelvic_tilt_deg", "deg", "hip axis to S1 midpoint vs vertical; rises with posterior tilt",
                (3.0, 22.0), "meta-analysis PMID 28368866: 12.6 (3-22)",
                positive="hip axis ahead of S1", negative="hip axis behind S1", landmarks=_S1_HIP, bones=("pelvis",)),
    MeasureInfo("lumbar_lordosis_deg", "deg", "Cobb angle L1 superior endplate to S1 endplate; lordosis positive",
                (42.0, 67.0), "meta-analysis PMID 28368866: 54.6 (42-67)",
                positive="lordosis", negative="kyphosis", landmarks=_S1 + _L1, bones=("pelvis", "L1")),
    MeasureInfo("pi_minus_ll_deg", "deg", "pelvic incidence minus lumbar lordosis (spinopelvic mismatch)",
                (-10.0, 10.0), "Schwab: non-pathologic |PI - LL| < 10",
                positive="lordosis short of the incidence", negative="lordosis beyond the incidence",
                landmarks=_S1 + _S1_HIP + _L1, bones=("pelvis", "L1")),
    MeasureInfo("thoracic_kyphosis_deg", "deg", "T4 superior to T12 inferior endplate; kyphosis positive",
                (30.0, 55.0), "surface kyphosis men 42.8 +/- 8.8 (REFERENCE.md A)",
                positive="kyphosis", negative="lordosis", landmarks=_T12_T4, bones=("thorax_lower", "thorax_upper")),
    MeasureInfo("head_forward_mm", "mm", "tragus horizontally ahead of C7",
                (60.0, 110.0), "craniovertebral angle 48-56 deg with the tragus ~11 cm above C7 [estimate]",
                positive="ahead of C7", negative="behind C7", landmarks=_C7 + (("head_neck", "tragus"),),
                bones=("thorax_upper", "head_neck")),
    MeasureInfo("sagittal_vertical_axis_mm", "mm", "C7 plumb line ahead of the posterosuperior corner of S1",
                (-40.0, 40.0), "Schwab: SVA < 4 cm",
                positive="ahead of S1", negative="behind S1", landmarks=_C7 + (("pelvis", "s1_endplate_posterior"),),
                bones=("thorax_upper", "pelvis")),
    MeasureInfo("com_anterior_mm", "mm", "whole-body centre of mass ahead of the ankle joints",
                (30.0, 70.0), "Winter 1995: 4-6 cm [estimate band]",
                positive="ahead of the ankles", negative="behind the ankles", bones=("foot",)),
    MeasureInfo("hip_flexion_deg", "deg", "hip joint angle (both sides in the sagittal model); flexion positive",
                None, "", positive="flexion", negative="extension", bones=("thigh", "pelvis")),
    MeasureInfo("knee_flexion_deg", "deg", "knee joint angle; flexion positive", None, "",
                positive="flexion", negative="hyperextension", bones=("shank", "thigh")),
    MeasureInfo("ankle_dorsiflexion_deg", "deg", "ankle joint angle (shank forward of vertical); dorsiflexion positive",
                None, "", positive="dorsiflexion", negative="plantarflexion", bones=("foot", "shank")),
    MeasureInfo("hip_extension_reserve_left_deg", "deg", _RESERVE, None, "",
                positive="extension left", negative="past the limit", bones=("thigh", "pelvis")),
    MeasureInfo("hip_extension_reserve_right_deg", "deg", _RESERVE, None, "",
                positive="extension left", negative="past the limit", bones=("thigh", "pelvis")),
    MeasureInfo("lumbar_compression_N", "N", "axial force at L5-S1 from all muscles and the weight above, less the "
                "abdominal pressure's relief (standing)",
                (400.0, 1000.0), "standing L4-L5/L5-S1 compression ~500-800 N (Nachemson; Wilke 1999) [estimate band]",
                positive="compression", negative="traction", bones=("pelvis", "L5")),
    MeasureInfo("intra_abdominal_pressure_mmHg", "mmHg",
                "from the abdominal wall's hoop tension and the abdominal contents; standing, it pushes diaphragm and "
                "pelvic floor apart in the equilibrium",
                (15.0, 25.0), "Cobb et al. 2005 (bladder): standing 20 mmHg (REFERENCE.md A) [estimate band +/- 5]",
                positive="above atmospheric", negative="below atmospheric", bones=("pelvis", "thorax_lower")),
    MeasureInfo("balance_effort_Nm", "N·m", "moment the postural regulation supplies: |ankle| + |neck| + |trunk at L5-S1|",
                None, "", bones=("foot", "head_neck", "thorax_lower")),
    # the left-right measures (standing; computed by musclesim.lateral, NaN lying)
    MeasureInfo("pelvic_obliquity_deg", "deg", "iliac crests' line to horizontal; left crest higher positive",
                None, "", plane="frontal", positive="left crest up", negative="right crest up",
                landmarks=(("pelvis", "iliac_crest"),), bones=("pelvis",)),
    MeasureInfo("trunk_lateral_bend_deg", "deg", "C7 over the S1 midpoint, frontal angle from vertical; toward the left positive",
                None, "", plane="frontal", positive="to the left", negative="to the right",
                landmarks=_C7 + (("pelvis", "s1_endplate_mid"),), bones=("pelvis", "L1", "thorax_upper")),
    MeasureInfo("hip_height_difference_mm", "mm", "left hip joint centre height minus right", None, "", plane="frontal",
                positive="left hip up", negative="right hip up", landmarks=(("thigh", "hip_centre"),),
                bones=("thigh", "pelvis")),
    MeasureInfo("apparent_leg_length_difference_mm", "mm", "umbilicus to medial malleolus, left minus right",
                None, "", plane="frontal", positive="left longer", negative="right longer",
                landmarks=(("L3", "umbilicus"), ("foot", "medial_malleolus")), bones=("L3", "foot")),
    MeasureInfo("pelvic_rotation_deg", "deg", "ASIS line turned about the vertical; left side forward positive",
                None, "", plane="transverse", positive="left side forward", negative="right side forward",
                landmarks=(("pelvis", "asis"),), bones=("pelvis",)),
    MeasureInfo("hip_rotation_left_deg", "deg", "left hip: thigh turned on the pelvis about its long axis; external positive",
                None, "", plane="transverse", positive="external", negative="internal", bones=("thigh", "pelvis")),
    MeasureInfo("hip_rotation_right_deg", "deg", "right hip: thigh turned on the pelvis about its long axis; external positive",
                None, "", plane="transverse", positive="external", negative="internal", bones=("thigh", "pelvis")),
)}

#: The measures of the sagittal model, in registry order: the columns of
#: :func:`musclesim.measure_kernels.sagittal_measures` and the keys of :func:`measure`.
SAGITTAL: tuple[str, ...] = tuple(n for n, m in MEASURES.items() if m.plane == "sagittal")
#: The left-right (frontal and transverse) measures, in registry order (:mod:`musclesim.lateral`).
LATERAL: tuple[str, ...] = tuple(n for n, m in MEASURES.items() if m.plane in ("frontal", "transverse"))


@functools.lru_cache(maxsize=16)
def pieces_spanning(chain: Chain, dof: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each muscle crossing ``dof``, its first path piece that spans it: (index of the point
    above the joint, of the point below, muscle index), arrays of equal length."""
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


@functools.lru_cache(maxsize=16)
def measure_arrays(chain: Chain) -> tuple:
    """The per-model constants :func:`musclesim.measure_kernels.sagittal_measures` takes after its
    per-pose arguments: (lm, ints, flt, seg_mass, above, upper, lower, muscle, iap_idx, iap_w),
    in the slots its ``L_*``, ``I_*`` and ``F_*`` constants name (read-only arrays)."""
    from . import measure_kernels as K

    dof = {d: i for i, d in enumerate(chain.dof_names)}
    j0 = dof["L5S1"]
    upper, lower, muscle = pieces_spanning(chain, j0)
    has_p = chain.has_pressure
    ints = np.zeros(K.N_INTS, dtype=np.int64)
    ints[[K.I_NSEG, K.I_HIP, K.I_KNEE, K.I_ANKLE, K.I_L5S1, K.I_SEG_L4, K.I_SEG_L5, K.I_HAS_PRESSURE]] = (
        len(chain.seg_names), dof["hip"], dof["knee"], dof["ankle"], j0, chain.seg_names.index("L4"),
        chain.seg_names.index("L5"), int(has_p))
    ints[[K.I_STRUT_FROM, K.I_STRUT_TO]] = chain.iap_pts if has_p else (-1, -1)
    flt = np.zeros(K.N_FLT)
    flt[[K.F_ANKLE_X, K.F_GRAVITY, K.F_IAP_REST, K.F_IAP_GAIN, K.F_IAP_AREA, K.F_PA_PER_MMHG]] = (
        chain.ankle_x_m, chain.gravity, chain.iap_rest_N if has_p else 0.0, chain.iap_gain if has_p else 0.0,
        chain.iap_area_m2 if has_p else 1.0, MMHG_PA)
    iap_idx = np.flatnonzero(chain.iap_weight) if has_p else np.zeros(0, dtype=np.int64)
    out = (np.array([chain.landmark_index[k] for k in K.LANDMARKS], dtype=np.int64), ints, flt,
           np.ascontiguousarray(chain.seg_mass_kg, dtype=float), np.ascontiguousarray(chain.anc[:, j0] != 0),
           upper.astype(np.int64), lower.astype(np.int64), muscle.astype(np.int64), iap_idx.astype(np.int64),
           np.ascontiguousarray(chain.iap_weight[iap_idx], dtype=float) if has_p else np.zeros(0))
    for a in out:
        a.setflags(write=False)
    return out


@functools.cache
def _kernel():
    """The compiled kernel (imported on first use: the registry alone does not import numba)."""
    from .measure_kernels import sagittal_measures

    return sagittal_measures


def _f64(a) -> np.ndarray:
    """``a`` as a C-contiguous float64 array (itself when it already is one: the usual case)."""
    if type(a) is np.ndarray and a.dtype == np.float64 and a.flags.c_contiguous:
        return a
    return np.ascontiguousarray(a, dtype=np.float64)


def measure_rows(chain: Chain, points: np.ndarray, joints: np.ndarray, q: np.ndarray, force_N: np.ndarray,
                 moment_arm_m: np.ndarray, lam: np.ndarray, trunk_dir: np.ndarray, hip_extension_limit_deg,
                 gravity_dir: np.ndarray | None = None, strut_acts: bool | None = None) -> np.ndarray:
    """The sagittal measures of B poses as an array (B, len(:data:`SAGITTAL`)), columns in the
    order of :data:`SAGITTAL`; arguments as :func:`measure_batch`."""
    B = q.shape[0]
    if isinstance(hip_extension_limit_deg, (float, int)):
        limit = np.empty(B)
        limit.fill(hip_extension_limit_deg)
    else:
        limit = np.broadcast_to(np.asarray(hip_extension_limit_deg, dtype=np.float64), (B,))
    gx, gy = (0.0, -1.0) if gravity_dir is None else (float(gravity_dir[0]), float(gravity_dir[1]))
    strut = (gravity_dir is None) if strut_acts is None else bool(strut_acts)
    return _kernel()(_f64(points), _f64(joints), _f64(q), _f64(force_N), _f64(moment_arm_m), _f64(lam),
                             _f64(trunk_dir), _f64(limit), gx, gy, strut, *measure_arrays(chain))


def measure(chain: Chain, points: np.ndarray, joints: np.ndarray, q: np.ndarray, force_N: np.ndarray,
            moment_arm_m: np.ndarray, lam: np.ndarray, trunk_dir: np.ndarray,
            hip_extension_limit_deg: float) -> dict[str, float]:
    """The sagittal measures of one solved standing pose, ``{name: value}`` in the order of
    :data:`SAGITTAL` (units of :data:`MEASURES`). The arguments are those of :func:`measure_batch`
    for one pose (without the batch axis)."""
    rows = measure_rows(chain, points[None], joints[None], q[None], force_N[None], moment_arm_m[None], lam[None],
                        trunk_dir[None], hip_extension_limit_deg)
    return dict(zip(SAGITTAL, rows[0].tolist()))


def measure_batch(chain: Chain, points: np.ndarray, joints: np.ndarray, q: np.ndarray, force_N: np.ndarray,
                  moment_arm_m: np.ndarray, lam: np.ndarray, trunk_dir: np.ndarray,
                  hip_extension_limit_deg, gravity_dir: np.ndarray | None = None,
                  strut_acts: bool | None = None) -> dict[str, np.ndarray]:
    """The sagittal measures of a batch of solved poses, ``{name: array (B,)}`` in the order of
    :data:`SAGITTAL` (each array its own memory).

    ``points`` (B, Np, 2) are the chain's points (m), ``joints`` (B, S, 2) each segment's proximal
    joint position, ``q`` (B, n) the joint angles (rad), ``force_N`` (B, M) muscle forces (N)
    including the regulating trunk muscle's extra force, ``moment_arm_m`` (B, M, n) (m), ``lam``
    (B, 3) the regulation efforts and ``trunk_dir`` (B, n) the trunk actuator's moment-arm vector;
    ``hip_extension_limit_deg`` the hip's extension limit (deg), one for all poses or (B,).

    ``gravity_dir``: unit vector of gravity in the points' frame (default straight down, standing).
    ``strut_acts``: whether the intra-abdominal pressure's strut is part of the equilibrium solved
    (then its axial push is taken off the lumbar compression). By default it is when standing
    (``gravity_dir`` None); the lying positions (:mod:`musclesim.positions`) report the pressure
    from the wall's tension but do not include its strut in their equilibrium.
    """
    rows = measure_rows(chain, points, joints, q, force_N, moment_arm_m, lam, trunk_dir, hip_extension_limit_deg,
                        gravity_dir, strut_acts)
    cols = np.ascontiguousarray(rows.T)
    return {name: cols[k] for k, name in enumerate(SAGITTAL)}
