"""Frontal and transverse posture: the left-right (antisymmetric) part of the standing equilibrium.

Why a separate solve is exact to first order
--------------------------------------------
The body and its geometry are mirror-symmetric; only the tones may differ between the sides. Split
every displacement into a mirror-symmetric part (the sagittal chain of :mod:`musclesim.mechanics`,
which already carries both sides' muscle forces) and a mirror-antisymmetric part (pelvic shift,
obliquity and rotation, spinal side-bend and twist, and the left-minus-right difference of the leg
angles). The total potential energy is invariant under mirroring, so at a mirror-symmetric posture
its Hessian has **no cross terms** between the two parts. Hence, to first order in the left-right
difference of tone, the antisymmetric displacement solves its own problem at the sagittal
equilibrium, driven by the antisymmetric generalised force of the unequal muscle forces, and the
sagittal answer is unchanged (its feedback is of second order in the asymmetry). Within the
antisymmetric subspace this module solves the nonlinear equilibrium (Newton's method on exact 3-D
kinematics), and reports the remaining residual.

Kinematics (3-D, at the solved sagittal pose)
---------------------------------------------
* Both feet stay flat on the floor. Each leg (shank and thigh, the knee held at its sagittal
  angle) pivots on its foot about the ankle (dorsiflexion) and subtalar (inversion-eversion) axes,
  without twisting on the planted foot; so each hip centre stays at a fixed distance from its
  ankle.
* The pelvis moves sideways by ``u`` and turns about the vertical by ``rho``; its height and its
  obliquity follow from the two legs' lengths (closure, solved exactly by Newton's method), its
  fore-aft place and sagittal tilt are those of the sagittal solution.
* Every spinal joint above the pelvis (L5-S1 to T7-T8) side-bends about its antero-posterior axis
  and twists about its long axis. The head moves with the upper thorax (frontal gaze is not
  regulated).
* Coordinates: ``[u (m), rho, bend_1..bend_J, twist_1..twist_J]`` (rad).

Energy: muscles (Hill forces and short-range stiffness from the sagittal solve; 3-D path lengths,
so moment arms out of the plane are exact derivatives of the model's 3-D attachment points),
gravity, passive joints (the sagittal laws at the hips and ankles per side, and the model file's
``[joints.out_of_plane]`` stiffness for side-bend, twist, hip ab/adduction and rotation, ankle
inversion), and the sagittal preloads (passive moments and the ankle regulation torque).
Gradient and Hessian are analytic (:mod:`musclesim.lateral_kernels`: second-order jets through the
pelvic closure, the legs and the spine's chain of rigid bodies), compiled, and the equilibrium is
solved by the shared Newton driver (:func:`musclesim.physics.newton.newton_on`). The solver they
replaced (finite differences over 211 poses per Hessian) is the test oracle
``tests/reference/lateral_fd.py``.

Frontal balance is regulated like the sagittal one: the whole-body centre of mass stays over the
middle of the base of support, held by an inversion-eversion torque at both ankles (the
multiplier is that actuator's effort, reported as ``lateral_balance_torque_Nm``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _backend
from .chain import rot
from .mechanics import Mechanics, muscle_force_N, muscle_force_slope_N_per_m, pose_geometry, total_force

#: Newton iterations of the pelvic closure (quadratic convergence from the reference pose).
CLOSURE_ITER = 4
#: Iterations of the Newton driver on the antisymmetric equilibrium; the residual target (N·m, N).
MAX_ITER = 20
TOL_RESIDUAL_NM = 1e-7
#: A lateral equilibrium counts as found below this residual (the sagittal solver's tolerance).
TOL_CONVERGED_NM = 1e-6
#: The trust region of one step (rad; metres for the pelvic shift).
MAX_STEP_RAD = 0.05

#: The measures this module computes (names and signs: DESIGN section 6).
LATERAL_MEASURES = (
    "pelvic_obliquity_deg", "trunk_lateral_bend_deg", "hip_height_difference_mm",
    "apparent_leg_length_difference_mm", "pelvic_rotation_deg", "hip_rotation_left_deg", "hip_rotation_right_deg",
)


@dataclass(frozen=True, eq=False)
class Layout:
    """Which rigid body every 3-D point rides on (built once per model)."""

    pt_seg: np.ndarray  # (Np,) chain segment of each point
    pt_r0: np.ndarray  # (Np, 3) reference-configuration coordinates
    pt_body: np.ndarray  # (Np,) rigid body: 0/1 foot L/R, 2/3 leg L/R, 4 pelvis, 5.. spine bodies
    pt_mass: np.ndarray  # (Np,) kg for the centre-of-mass points, else 0
    landmark: dict  # (segment, name, side) -> point index; side "" for midline segments
    path_pts: tuple  # per muscle instance: point indices along its path
    pair_i0: np.ndarray  # (K,) straight pieces of the muscle paths: first point
    pair_i1: np.ndarray  # (K,) second point
    pair_onehot: np.ndarray  # (K, M) which muscle each piece belongs to
    pair_muscle: np.ndarray  # (K,) the same as indices
    body_points: tuple  # per rigid body: indices of its points
    spine_dofs: tuple[int, ...]  # chain dof index of each spinal joint (bottom up)
    spine_seg: tuple[int, ...]  # chain segment each spinal joint moves (its child)
    top_seg: int  # segment whose proximal joint ends the last spine body's long axis
    hip_seg: int  # the pelvis (its proximal joint is the hip)
    shank_seg: int
    thigh_seg: int
    leg_z: float  # lateral offset of the left leg's joints (m)
    stiff: dict  # out-of-plane stiffness, N·m/rad per side: hip_add, hip_rot, subtalar, bend (J,), twist (J,)
    dof_hip: int
    dof_ankle: int
    roll_pair: tuple[int, int]  # left/right landmark of the upright segment (rib-cage roll)
    extensor_sides: tuple  # muscle indices of the regulating trunk extensor, left and right


def layout(mech: Mechanics) -> Layout:
    """The model's points as rigid-body riders for the 3-D perturbation (cached on the model)."""
    model = mech.model
    cached = model._cache.get("lateral_layout")
    if cached is not None:
        return cached
    c = mech.chain
    seg_index = {s: i for i, s in enumerate(c.seg_names)}
    segs = {s.id: s for s in model.segments}
    hip_seg = next(i for i, s in enumerate(c.seg_names) if not segs[s].bilateral)
    # the spine bends and twists up to the regulated rib cage; what lies above it moves with it
    upright = seg_index[model.regulation.upright_segment]
    spine_seg = tuple(s for s in range(hip_seg + 1, upright + 1))
    spine_dofs = tuple(int(c.seg_dof[s]) for s in spine_seg)
    body_of_seg = {}
    for s in range(len(c.seg_names)):
        if s < hip_seg:
            body_of_seg[s] = 0 if s == 0 else 2  # (+1 for the right side)
        elif s == hip_seg:
            body_of_seg[s] = 4
        else:
            k = sum(1 for t in spine_seg if t <= s)  # spine bodies passed on the way up
            body_of_seg[s] = 4 + k
    pts_seg, pts_r0, pts_body, pts_mass, landmark = [], [], [], [], {}

    def add(seg: int, r0, side: str, mass: float = 0.0) -> int:
        z = r0[2] if side != "right" else -r0[2]
        body = body_of_seg[seg] + (1 if side == "right" and seg < hip_seg else 0)
        pts_seg.append(seg)
        pts_r0.append((r0[0], r0[1], z))
        pts_body.append(body)
        pts_mass.append(mass)
        return len(pts_seg) - 1

    for s, name in enumerate(c.seg_names):
        seg = segs[name]
        sides = ("left", "right") if seg.bilateral else ("",)
        for side in sides:
            add(s, seg.com_m, side, c.seg_mass_kg[s] / len(sides))
            for lm, p in seg.landmarks.items():
                if side or p[2] == 0.0:
                    landmark[(name, lm, side)] = add(s, p, side)
                else:  # a paired landmark on a midline segment (ASIS, crest): described on the left
                    landmark[(name, lm, "left")] = add(s, p, "")
                    landmark[(name, lm, "right")] = add(s, (p[0], p[1], -p[2]), "")
    paths = []
    for inst in model.instances:
        idx = []
        for att in inst.path:
            s = seg_index[att.segment]
            side = inst.side if segs[att.segment].bilateral else ""
            # the instance's path is already mirrored for the right side: keep its z as it is
            idx.append(add(s, (att.point_m[0], att.point_m[1], att.point_m[2] if side != "right" else -att.point_m[2]),
                           side))
        paths.append(tuple(idx))
    shank_seg = next(s for s in range(1, hip_seg) if c.seg_parent[s] == 0)
    thigh_seg = hip_seg - 1
    joints = {j.id: j for j in model.joints}

    def oop(jid: str, which: str) -> float:
        o = joints[jid].out_of_plane
        return float(np.degrees(1.0) * getattr(o, which)) if o is not None else 0.0

    dof_names = c.dof_names
    hip_joint, ankle_joint = dof_names[c.seg_dof[hip_seg]], dof_names[c.seg_dof[shank_seg]]
    stiff = {
        "hip_add": oop(hip_joint, "lateral_Nm_per_deg"), "hip_rot": oop(hip_joint, "axial_Nm_per_deg"),
        "subtalar": oop(ankle_joint, "lateral_Nm_per_deg"),
        "bend": np.array([oop(dof_names[d], "lateral_Nm_per_deg") for d in spine_dofs]),
        "twist": np.array([oop(dof_names[d], "axial_Nm_per_deg") for d in spine_dofs]),
    }
    top = [s for s in range(len(c.seg_names)) if c.seg_parent[s] == spine_seg[-1]]
    pairs = sorted(k[1] for k in landmark if k[0] == model.regulation.upright_segment and k[2] == "left")
    if not pairs:
        raise ValueError(f"the upright segment {model.regulation.upright_segment!r} needs a landmark off the midline "
                         "(its left-right pair measures the rib cage's roll)")
    ext = model.names()[model.regulation.trunk_extensor]
    ids = list(model.muscle_ids)
    i0 = [a for path in paths for a in path[:-1]]
    i1 = [b for path in paths for b in path[1:]]
    pm = [m for m, path in enumerate(paths) for _ in path[1:]]
    out = Layout(
        pt_seg=np.array(pts_seg), pt_r0=np.array(pts_r0, dtype=float), pt_body=np.array(pts_body),
        pt_mass=np.array(pts_mass), landmark=landmark, path_pts=tuple(paths),
        pair_i0=np.array(i0), pair_i1=np.array(i1), pair_onehot=np.eye(len(paths))[np.array(pm)],
        pair_muscle=np.array(pm),
        body_points=tuple(np.flatnonzero(np.array(pts_body) == b) for b in range(max(pts_body) + 1)),
        spine_dofs=spine_dofs,
        spine_seg=spine_seg, top_seg=top[0] if top else -1, hip_seg=hip_seg, shank_seg=shank_seg,
        thigh_seg=thigh_seg, leg_z=float(joints[hip_joint].centre_m[2]), stiff=stiff,
        roll_pair=(landmark[(model.regulation.upright_segment, pairs[0], "left")],
                   landmark[(model.regulation.upright_segment, pairs[0], "right")]),
        extensor_sides=(np.array([ids.index(m) for m in ext if m.endswith("_left")]),
                        np.array([ids.index(m) for m in ext if m.endswith("_right")])),
        dof_hip=int(c.seg_dof[hip_seg]), dof_ankle=int(c.seg_dof[shank_seg]),
    )
    model._cache["lateral_layout"] = out
    return out


# ----------------------------------------------------------------------------- rotations
def _rodrigues(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (B, 3, 3) about unit ``axis`` (3,) by ``angle`` (B,) rad (right hand)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    s, c1 = np.sin(angle)[:, None, None], (1.0 - np.cos(angle))[:, None, None]
    return np.eye(3) + s * k + c1 * (k @ k)


def _rot_x(a: np.ndarray) -> np.ndarray:
    return _rodrigues(np.array([1.0, 0.0, 0.0]), a)


def _rot_y(a: np.ndarray) -> np.ndarray:
    return _rodrigues(np.array([0.0, 1.0, 0.0]), a)


def _rot_z(a: np.ndarray) -> np.ndarray:
    return _rodrigues(np.array([0.0, 0.0, 1.0]), a)


def _vee(R: np.ndarray) -> np.ndarray:
    """Rotation vector (first-order exact) of rotations (..., 3, 3)."""
    return 0.5 * np.stack((R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]), -1)


# ----------------------------------------------------------------------------- the state
@dataclass(frozen=True, eq=False)
class Frame3D:
    """The solved sagittal pose in 3-D: reference positions of every point and joint."""

    p0: np.ndarray  # (Np, 3) points
    ankle: np.ndarray  # (2, 3) left, right ankle centres
    hip: np.ndarray  # (2, 3) left, right hip centres
    knee: np.ndarray  # (2, 3)
    spine_c: np.ndarray  # (J, 3) spinal joint centres
    spine_long: np.ndarray  # (J, 3) unit long axes
    spine_bend: np.ndarray  # (J, 3) unit side-bend axes
    leg_len2: np.ndarray  # (2,) squared ankle-to-hip distances (the legs' lengths, which the closure keeps)
    leg_vec0: np.ndarray  # (2, 3) each leg's ankle-to-hip vector in the reference pose


def frame3d(mech: Mechanics, lay: Layout, q: np.ndarray, lift_m: float = 0.0, P: np.ndarray | None = None) -> Frame3D:
    """Place the model's 3-D points at the sagittal pose ``q`` (rad).

    ``lift_m`` raises the left foot (a lift under it, or the left leg that much longer than the
    right): the pelvis then tilts so both hips stay on their legs (the closure). ``P``: the pose's
    joint centres (S, 2) if already computed (:func:`musclesim.mechanics.pose_geometry`)."""
    c = mech.chain
    if P is None:
        P = pose_geometry(mech, q[None])[1][0]  # joint centres (compiled)
    alpha = c.anc @ q  # segment angles
    s = lay.pt_seg
    xy = P[s] + rot(alpha[s], lay.pt_r0[:, :2] - c.seg_c0[s])
    p0 = np.column_stack((xy, lay.pt_r0[:, 2]))
    z = lay.leg_z

    def both(seg: int) -> np.ndarray:
        return np.array([[P[seg, 0], P[seg, 1], z], [P[seg, 0], P[seg, 1], -z]])

    centres = np.array([[P[t, 0], P[t, 1], 0.0] for t in lay.spine_seg])
    tops = list(centres[1:]) + [np.array([P[lay.top_seg, 0], P[lay.top_seg, 1], 0.0])]
    long = np.array(tops) - centres
    long /= np.linalg.norm(long, axis=1, keepdims=True)
    bend = np.column_stack((long[:, 1], -long[:, 0], np.zeros(len(long))))  # long x (0, 0, 1)
    bend /= np.linalg.norm(bend, axis=1, keepdims=True)
    ankle, hip = both(lay.shank_seg), both(lay.hip_seg)
    leg_vec0 = hip - ankle
    leg_len2 = np.sum(leg_vec0**2, axis=1)
    knee = both(lay.thigh_seg)
    if lift_m:
        up = np.array([0.0, lift_m, 0.0])
        p0 = p0.copy()
        p0[np.isin(lay.pt_body, (0, 2))] += up  # left foot and left leg
        ankle[0] += up
        knee[0] += up
    return Frame3D(p0=p0, ankle=ankle, hip=hip, knee=knee, spine_c=centres, spine_long=long, spine_bend=bend,
                   leg_len2=leg_len2, leg_vec0=leg_vec0)


@dataclass(frozen=True, eq=False)
class Pose3D:
    """A batch of perturbed poses."""

    p: np.ndarray  # (B, Np, 3)
    R_pelvis: np.ndarray  # (B, 3, 3)
    R_leg: np.ndarray  # (B, 2, 3, 3)
    subtalar: np.ndarray  # (B, 2) rad, left/right, rotation about +x of each leg on its foot
    dorsi: np.ndarray  # (B, 2) rad, rotation about +z of each leg on its foot
    hip_rel: np.ndarray  # (B, 2, 3) rotation vector of the pelvis relative to each thigh


def poses(lay: Layout, f: Frame3D, X: np.ndarray, compiled: bool | None = None) -> Pose3D:
    """Exact 3-D positions for the antisymmetric coordinates ``X`` (B, 2 + 2J).

    Runs the compiled twin (:mod:`musclesim.lateral_kernels`) unless ``compiled`` is False or
    the backend is switched to the reference (:func:`musclesim._backend.compiled`); this numpy code is the reference.
    """
    if compiled is None:
        compiled = _backend.compiled()
    if compiled:
        from .lateral_kernels import poses_kernel

        out = poses_kernel(np.ascontiguousarray(X, dtype=float), f.p0, lay.pt_body, f.hip, f.ankle, f.spine_c,
                           f.spine_long, f.spine_bend, f.leg_len2, f.leg_vec0, CLOSURE_ITER)
        return Pose3D(*out)
    B = X.shape[0]
    J = len(lay.spine_seg)
    u, rho = X[:, 0], X[:, 1]
    bend, twist = X[:, 2:2 + J], X[:, 2 + J:2 + 2 * J]
    cP = 0.5 * (f.hip[0] + f.hip[1])
    Ry = _rot_y(rho)
    L2 = f.leg_len2  # (2,) squared leg lengths
    # closure: pelvis height change dy and obliquity angle psi keep both hips on their leg spheres
    dy, psi = np.zeros(B), np.zeros(B)
    r0 = f.hip - cP  # (2, 3)
    for _ in range(CLOSURE_ITER):  # Newton from the reference: quadratic convergence
        Rx = _rot_x(psi)
        R = Ry @ Rx
        H = cP + np.einsum("bij,sj->bsi", R, r0)
        H[:, :, 1] += dy[:, None]
        H[:, :, 2] += u[:, None]
        d = H - f.ankle
        g = np.sum(d * d, axis=2) - L2  # (B, 2)
        dR = Ry @ _drot_x(psi)
        dH_psi = np.einsum("bij,sj->bsi", dR, r0)
        a = 2.0 * d[:, :, 1]  # dg/d dy
        b = 2.0 * np.sum(d * dH_psi, axis=2)  # dg/d psi
        det = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        ddy = (g[:, 0] * b[:, 1] - g[:, 1] * b[:, 0]) / det
        dpsi = (a[:, 0] * g[:, 1] - a[:, 1] * g[:, 0]) / det
        dy, psi = dy - ddy, psi - dpsi
    Rx = _rot_x(psi)
    R_P = Ry @ Rx
    H = cP + np.einsum("bij,sj->bsi", R_P, r0)
    H[:, :, 1] += dy[:, None]
    H[:, :, 2] += u[:, None]
    t_P = H.mean(axis=1) - np.einsum("bij,j->bi", R_P, cP)  # pelvis: p -> R_P p + t_P
    # legs: R = Rx(s) Rz(a) carries the reference leg vector onto the new one (no twist on the foot)
    d0 = f.leg_vec0  # (2, 3)
    d = H - f.ankle  # (B, 2, 3)
    r = np.hypot(d0[:, 0], d0[:, 1])
    th0 = np.arctan2(d0[:, 1], d0[:, 0])
    a_ang = np.arccos(np.clip(d[:, :, 0] / r, -1.0, 1.0)) - th0
    vy = r * np.sin(a_ang + th0)
    vz = np.broadcast_to(d0[:, 2], vy.shape)
    s_ang = np.arctan2(d[:, :, 2], d[:, :, 1]) - np.arctan2(vz, vy)
    R_leg = (_rot_x(s_ang.reshape(-1)) @ _rot_z(a_ang.reshape(-1))).reshape(B, 2, 3, 3)
    t_leg = f.ankle[None] - np.einsum("bsij,sj->bsi", R_leg, f.ankle)
    # spine: each joint turns the bodies above it about its own (moving) axes
    nb = 5 + J
    Rb = np.empty((B, nb, 3, 3))
    tb = np.empty((B, nb, 3))
    Rb[:, 0] = Rb[:, 1] = np.eye(3)
    tb[:, 0] = tb[:, 1] = 0.0
    Rb[:, 2:4], tb[:, 2:4] = R_leg, t_leg
    Rb[:, 4], tb[:, 4] = R_P, t_P
    for j in range(J):
        Rj = _rodrigues(f.spine_bend[j], bend[:, j]) @ _rodrigues(f.spine_long[j], twist[:, j])
        tj = f.spine_c[j] - Rj @ f.spine_c[j]
        Rb[:, 5 + j] = Rb[:, 4 + j] @ Rj
        tb[:, 5 + j] = np.einsum("bij,bj->bi", Rb[:, 4 + j], tj) + tb[:, 4 + j]
    p = np.empty((B,) + f.p0.shape)
    for b, idx in enumerate(lay.body_points):  # each rigid body's points in one product
        if len(idx):
            p[:, idx] = f.p0[idx] @ np.swapaxes(Rb[:, b], 1, 2) + tb[:, b, None]
    hip_rel = _vee(np.swapaxes(R_leg, -1, -2) @ R_P[:, None])
    return Pose3D(p=p, R_pelvis=R_P, R_leg=R_leg, subtalar=s_ang, dorsi=a_ang, hip_rel=hip_rel)


def _drot_x(a: np.ndarray) -> np.ndarray:
    """d/da of :func:`_rot_x`."""
    s, c = np.sin(a), np.cos(a)
    out = np.zeros((len(a), 3, 3))
    out[:, 1, 1], out[:, 1, 2], out[:, 2, 1], out[:, 2, 2] = -s, -c, c, -s
    return out


# ----------------------------------------------------------------------------- energy pieces
def _lengths(lay: Layout, p: np.ndarray) -> np.ndarray:
    """3-D musculotendon path lengths (B, M), m."""
    if _backend.compiled():
        from .lateral_kernels import lengths_kernel

        return lengths_kernel(p, lay.pair_i0, lay.pair_i1, lay.pair_muscle, lay.pair_onehot.shape[1])
    seg = np.linalg.norm(p[:, lay.pair_i1] - p[:, lay.pair_i0], axis=-1)
    return seg @ lay.pair_onehot


@dataclass(frozen=True)
class Preload:
    """Sagittal quantities of the solved pose that the lateral energy needs (per side)."""

    hip_moment_Nm: float  # passive hip moment, flexion positive
    hip_stiffness_Nm_per_rad: float
    ankle_moment_Nm: float  # passive ankle moment plus the ankle regulation torque
    ankle_stiffness_Nm_per_rad: float


def preload(mech: Mechanics, lay: Layout, q: np.ndarray, lam: np.ndarray) -> Preload:
    model, c = mech.model, mech.chain
    out = []
    for dof in (lay.dof_hip, lay.dof_ankle):
        law = model.joint(c.dof_names[dof]).passive
        deg = float(np.degrees(q[dof]))
        others = dict(zip(c.dof_names, np.degrees(q).tolist()))  # laws coupled to the neighbouring joints
        m = law.moment_Nm(deg, others)
        k = -(law.moment_Nm(deg + 1e-3, others) - law.moment_Nm(deg - 1e-3, others)) / 2e-3 * np.degrees(1.0)
        out += [m, k]
    reg_ankle = float(lam[0]) / 2.0 if mech.regulated and lay.dof_ankle == mech.ankle_dof else 0.0
    return Preload(out[0], out[1], out[2] + reg_ankle, out[3])


def _scalars(lay: Layout, pose: Pose3D, X: np.ndarray, pre: Preload, gravity: float) -> np.ndarray:
    """Per pose: [gravity potential (J), passive energy (J), inversion angles (rad, both ankles summed),
    unused, COM lateral (m), rib-cage roll (rad, left side up positive)]."""
    J = len(lay.spine_seg)
    st = lay.stiff
    if _backend.compiled():
        from .lateral_kernels import scalars_kernel

        return scalars_kernel(pose.p, lay.pt_mass, gravity, pose.hip_rel, pose.subtalar, pose.dorsi,
                              np.ascontiguousarray(X, dtype=float), J, st["subtalar"], st["hip_add"], st["hip_rot"],
                              pre.hip_stiffness_Nm_per_rad, pre.hip_moment_Nm, pre.ankle_stiffness_Nm_per_rad,
                              pre.ankle_moment_Nm, st["bend"], st["twist"], lay.roll_pair[0], lay.roll_pair[1])
    p = pose.p
    mass = lay.pt_mass
    Ug = gravity * (p[:, :, 1] @ mass)
    zc = (p[:, :, 2] @ mass) / mass.sum()
    hip_flex = -pose.hip_rel[:, :, 2]  # pelvis pitched forward on the thigh (chain convention)
    hip_add = pose.hip_rel[:, :, 0]
    hip_rot = pose.hip_rel[:, :, 1]
    dorsi = -pose.dorsi  # shank pitched forward on the foot
    Up = 0.5 * st["subtalar"] * np.sum(pose.subtalar**2, axis=1)
    Up += 0.5 * st["hip_add"] * np.sum(hip_add**2, axis=1) + 0.5 * st["hip_rot"] * np.sum(hip_rot**2, axis=1)
    Up += np.sum(0.5 * pre.hip_stiffness_Nm_per_rad * hip_flex**2 - pre.hip_moment_Nm * hip_flex, axis=1)
    Up += np.sum(0.5 * pre.ankle_stiffness_Nm_per_rad * dorsi**2 - pre.ankle_moment_Nm * dorsi, axis=1)
    bend, twist = X[:, 2:2 + J], X[:, 2 + J:2 + 2 * J]
    Up += 0.5 * (bend**2 @ st["bend"]) + 0.5 * (twist**2 @ st["twist"])
    reg = pose.subtalar.sum(axis=1)
    rl, rr = p[:, lay.roll_pair[0]], p[:, lay.roll_pair[1]]
    roll = np.arctan2(rl[:, 1] - rr[:, 1], rl[:, 2] - rr[:, 2])
    return np.stack((Ug, Up, zc, reg, zc, roll), axis=1)


# ----------------------------------------------------------------------------- measures
def measures(lay: Layout, f: Frame3D, pose: Pose3D) -> dict[str, np.ndarray]:
    """The frontal and transverse measures (DESIGN section 6 signs) of a batch of poses, arrays (B,)."""
    p = pose.p
    L = lambda seg, name, side="": p[:, lay.landmark[(seg, name, side)]]
    crest_l, crest_r = L("pelvis", "iliac_crest", "left"), L("pelvis", "iliac_crest", "right")
    asis_l, asis_r = L("pelvis", "asis", "left"), L("pelvis", "asis", "right")
    thigh = next(s[0] for s in lay.landmark if s[1] == "hip_centre")
    hip_l, hip_r = L(thigh, "hip_centre", "left"), L(thigh, "hip_centre", "right")
    foot = next(s[0] for s in lay.landmark if s[1] == "medial_malleolus")
    mal_l, mal_r = L(foot, "medial_malleolus", "left"), L(foot, "medial_malleolus", "right")
    umb = p[:, next(i for k, i in lay.landmark.items() if k[1] == "umbilicus")]
    c7, s1 = L("thorax_upper", "c7"), L("pelvis", "s1_endplate_mid")
    axis = f.hip - f.knee
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    rot = np.einsum("bsi,si->bs", pose.hip_rel, axis)  # pelvis turned on each thigh about its long axis
    return {
        "pelvic_obliquity_deg": np.degrees(np.arctan2(crest_l[:, 1] - crest_r[:, 1], crest_l[:, 2] - crest_r[:, 2])),
        "trunk_lateral_bend_deg": np.degrees(np.arctan2(c7[:, 2] - s1[:, 2], c7[:, 1] - s1[:, 1])),
        "hip_height_difference_mm": 1000.0 * (hip_l[:, 1] - hip_r[:, 1]),
        "apparent_leg_length_difference_mm": 1000.0 * (np.linalg.norm(umb - mal_l, axis=1)
                                                       - np.linalg.norm(umb - mal_r, axis=1)),
        "pelvic_rotation_deg": np.degrees(np.arctan2(asis_l[:, 0] - asis_r[:, 0], asis_l[:, 2] - asis_r[:, 2])),
        # the thigh turns on the pelvis opposite to the pelvis on the thigh; outward is +y turn for the right leg
        "hip_rotation_left_deg": np.degrees(rot[:, 0]),
        "hip_rotation_right_deg": np.degrees(-rot[:, 1]),
        "hip_flexion_change_left_deg": np.degrees(-pose.hip_rel[:, 0, 2]),
        "hip_flexion_change_right_deg": np.degrees(-pose.hip_rel[:, 1, 2]),
    }


# ----------------------------------------------------------------------------- the solve
@dataclass(frozen=True, eq=False)
class Lateral:
    """The antisymmetric (frontal and transverse) equilibrium at a sagittal pose."""

    coordinates: tuple[str, ...]
    x: np.ndarray  # solved coordinates (m for the pelvic shift, rad otherwise)
    metrics: dict  # LATERAL_MEASURES plus hip_flexion_change_left/right_deg
    balance_torque_Nm: float  # inversion-eversion torque at each ankle that keeps the COM centred
    trunk_side_force_N: float  # extra pull of the left trunk extensor (negative: of the right) keeping the rib cage level
    converged: bool  # residual below TOL_CONVERGED_NM
    stable: bool
    min_stiffness: float  # smallest eigenvalue of the reduced Hessian (SI, mixed units)
    residual_Nm: float  # largest generalised-force residual after the chord iterations
    iterations: int
    contributions: dict  # measure -> {muscle instance: linear share of the change}
    moment: np.ndarray  # (n, M) each muscle's generalised force on each coordinate at x = 0 (N·m; N for the shift)
    regulation_moment: np.ndarray  # (n, 2) the two regulators' generalised forces at the answer
    measure_gradient: dict  # measure -> (n,) its derivative with respect to the coordinates at x = 0
    response: np.ndarray  # (n, M) each muscle's own pull sent through the regulated stiffness (linear)


def mirror_pairs(model) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the left and right instances of every bilateral muscle (cached on the model)."""
    cached = model._cache.get("mirror_pairs")
    if cached is None:
        ids = list(model.muscle_ids)
        left = [i for i, m in enumerate(ids) if m.endswith("_left")]
        cached = (np.array(left, dtype=int), np.array([ids.index(ids[i][:-5] + "_right") for i in left], dtype=int))
        model._cache["mirror_pairs"] = cached
    return cached


#: Left and right activations (and tendon lengths, m) closer than this count as equal: the coupling
#: iterates sum the two sides in different orders, so equal requests differ in the last bits.
SYMMETRY_TOL = 1e-12


def is_mirror_symmetric(model, act: np.ndarray, tendon_m: np.ndarray) -> np.ndarray | bool:
    """True where activations and tendon rest lengths (..., M) are equal on both sides (to
    :data:`SYMMETRY_TOL`): then the left-right answer is zero by mirror symmetry (below 1e-9 in every
    measure) and need not be solved."""
    left, right = mirror_pairs(model)
    act, tendon_m = np.asarray(act), np.asarray(tendon_m)
    return ((np.abs(act[..., left] - act[..., right]) <= SYMMETRY_TOL).all(axis=-1)
            & (np.abs(tendon_m[..., left] - tendon_m[..., right]) <= SYMMETRY_TOL).all(axis=-1))


def coordinate_names(mech: Mechanics) -> tuple[str, ...]:
    lay = layout(mech)
    names = [mech.chain.dof_names[d] for d in lay.spine_dofs]
    return ("pelvic_shift_m", "pelvic_rotation") + tuple(f"{j}_bend" for j in names) + tuple(f"{j}_twist" for j in names)


def _static(mech: Mechanics, lay: Layout) -> dict:
    """The parts of :class:`~musclesim.lateral_kernels.LateralProblem` that depend on the model only
    (cached on the prepared model)."""
    cached = mech._local.get("lateral_static")
    if cached is not None:
        return cached
    J = len(lay.spine_seg)
    ext_l, ext_r = lay.extensor_sides
    M = lay.pair_onehot.shape[1]
    s_tr = np.zeros(M)
    s_tr[ext_l] += 1.0 / len(ext_l)
    s_tr[ext_r] -= 1.0 / len(ext_r)
    perm = [0, 1]
    for j in range(J):
        perm += [2 + j, 2 + J + j]
    i64 = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731
    st = lay.stiff
    out = dict(
        pt_body=i64(lay.pt_body), nd_body=i64([0, 0, 2, 2, 2] + [4 + 2 * j for j in range(J)]),
        pair_i0=i64(lay.pair_i0), pair_i1=i64(lay.pair_i1), pair_muscle=i64(lay.pair_muscle),
        mass=np.ascontiguousarray(lay.pt_mass, dtype=float), gravity=float(mech.chain.gravity),
        k_sub=float(st["subtalar"]), k_add=float(st["hip_add"]), k_rot=float(st["hip_rot"]),
        k_bend=np.ascontiguousarray(st["bend"], dtype=float), k_twist=np.ascontiguousarray(st["twist"], dtype=float),
        roll_l=int(lay.roll_pair[0]), roll_r=int(lay.roll_pair[1]), s_tr=s_tr, perm=i64(perm),
        measure_points=i64(_measure_points(lay)),
    )
    mech._local["lateral_static"] = out
    return out


def _measure_points(lay: Layout) -> list[int]:
    """Point indices the measures read, in the order :func:`_measure_gradients` expects."""
    lm = lay.landmark
    thigh = next(s[0] for s in lm if s[1] == "hip_centre")
    foot = next(s[0] for s in lm if s[1] == "medial_malleolus")
    umb = next(i for k, i in lm.items() if k[1] == "umbilicus")
    return [lm[("pelvis", "iliac_crest", "left")], lm[("pelvis", "iliac_crest", "right")],
            lm[("pelvis", "asis", "left")], lm[("pelvis", "asis", "right")],
            lm[(thigh, "hip_centre", "left")], lm[(thigh, "hip_centre", "right")],
            lm[(foot, "medial_malleolus", "left")], lm[(foot, "medial_malleolus", "right")], umb,
            lm[("thorax_upper", "c7", "")], lm[("pelvis", "s1_endplate_mid", "")]]


def lateral_problem(mech: Mechanics, q: np.ndarray, act: np.ndarray, lam: np.ndarray, lift_m: float = 0.0):
    """The compiled :class:`~musclesim.lateral_kernels.LateralProblem` at the sagittal pose ``q``
    (activations ``act``, regulation efforts ``lam``), its layout and frame; ``goal0`` is zero
    until :func:`solve_lateral` sets it."""
    from .lateral_kernels import LateralProblem, lengths_kernel
    from .physics import compiled_model

    lay = layout(mech)
    _, joints, lengths, _, _ = pose_geometry(mech, q[None])
    f = frame3d(mech, lay, q, lift_m, joints[0])
    pre = preload(mech, lay, q, lam)
    stat = _static(mech, lay)
    cm, _ = compiled_model(mech)
    M = lay.pair_onehot.shape[1]
    l2d = lengths[0]  # the sagittal pose's musculotendon lengths
    p_start = f.p0[None] if not lift_m else poses(lay, f, np.zeros((1, 2 + 2 * len(lay.spine_seg)))).p  # x = 0
    l0 = lengths_kernel(p_start, stat["pair_i0"], stat["pair_i1"], stat["pair_muscle"], M)[0]
    f64 = lambda a: np.ascontiguousarray(a, dtype=float)  # noqa: E731
    pr = LateralProblem(
        F0=cm.F0, lopt=cm.lopt, lref=cm.lref, slack=cm.slack,
        hill=np.array([cm.gamma, cm.fl_width, cm.pe_strain, cm.pe_shape, cm.smooth_force, cm.passive_onset]), p0=f64(f.p0), pt_body=stat["pt_body"], nd_body=stat["nd_body"], hip=f64(f.hip), ankle=f64(f.ankle),
        spine_c=f64(f.spine_c), spine_long=f64(f.spine_long), spine_bend=f64(f.spine_bend), leg_len2=f64(f.leg_len2),
        leg_vec0=f64(f.leg_vec0), n_iter=CLOSURE_ITER, pair_i0=stat["pair_i0"], pair_i1=stat["pair_i1"],
        pair_muscle=stat["pair_muscle"], act=f64(act), ltendon=f64(mech.chain.l_tendon_m), lbase=l2d - l0,
        extra=f64(total_force(mech, np.zeros(M), lam)), mass=stat["mass"], gravity=stat["gravity"],
        k_sub=stat["k_sub"], k_add=stat["k_add"], k_rot=stat["k_rot"], k_hip=float(pre.hip_stiffness_Nm_per_rad),
        m_hip=float(pre.hip_moment_Nm), k_ank=float(pre.ankle_stiffness_Nm_per_rad), m_ank=float(pre.ankle_moment_Nm),
        k_bend=stat["k_bend"], k_twist=stat["k_twist"], roll_l=stat["roll_l"], roll_r=stat["roll_r"],
        s_tr=stat["s_tr"], goal0=np.zeros(2), perm=stat["perm"])
    return pr, lay, f


def _atan2_grad(a, b, ga, gb):
    """Gradient of atan2(a, b) from the gradients of a and b."""
    return (b * ga - a * gb) / (a * a + b * b)


def _measure_gradients(lay: Layout, f: Frame3D, P: np.ndarray, JP: np.ndarray, HRJ: np.ndarray) -> dict:
    """Derivatives (n,) of the measures (:func:`measures`, same units) at a pose with points ``P``
    (:func:`_measure_points`) and point gradients ``JP``; ``HRJ`` the gradient of each thigh's
    pelvis rotation vector."""
    cl, cr, al, ar, hl, hr, ml, mr, umb, c7, s1 = range(11)
    d = lambda i, j: (P[i] - P[j], JP[i] - JP[j])  # noqa: E731
    deg = np.degrees(1.0)
    (o, go) = d(cl, cr)
    (b, gb) = d(c7, s1)
    (r, gr) = d(al, ar)
    ul, gl = d(umb, ml)
    ur, gr_ = d(umb, mr)
    axis = f.hip - f.knee
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    rot = np.einsum("sin,si->sn", HRJ, axis)
    return {
        "pelvic_obliquity_deg": deg * _atan2_grad(o[1], o[2], go[1], go[2]),
        "trunk_lateral_bend_deg": deg * _atan2_grad(b[2], b[1], gb[2], gb[1]),
        "hip_height_difference_mm": 1000.0 * (JP[hl, 1] - JP[hr, 1]),
        "apparent_leg_length_difference_mm": 1000.0 * (ul @ gl / np.linalg.norm(ul) - ur @ gr_ / np.linalg.norm(ur)),
        "pelvic_rotation_deg": deg * _atan2_grad(r[0], r[2], gr[0], gr[2]),
        "hip_rotation_left_deg": deg * rot[0],
        "hip_rotation_right_deg": -deg * rot[1],
    }


def _measure_values(f: Frame3D, P: np.ndarray, HR: np.ndarray) -> dict:
    """The measures of :func:`measures` (same names, units and signs) from the points of
    :func:`_measure_points` and each thigh's pelvis rotation vector ``HR`` (2, 3) at one pose."""
    cl, cr, al, ar, hl, hr, ml, mr, umb, c7, s1 = P.tolist()
    deg = 180.0 / math.pi
    axis = f.hip - f.knee
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    rot = (HR * axis).sum(axis=1).tolist()
    hip_rel = HR.tolist()
    return {
        "pelvic_obliquity_deg": deg * math.atan2(cl[1] - cr[1], cl[2] - cr[2]),
        "trunk_lateral_bend_deg": deg * math.atan2(c7[2] - s1[2], c7[1] - s1[1]),
        "hip_height_difference_mm": 1000.0 * (hl[1] - hr[1]),
        "apparent_leg_length_difference_mm": 1000.0 * (math.dist(umb, ml) - math.dist(umb, mr)),
        "pelvic_rotation_deg": deg * math.atan2(al[0] - ar[0], al[2] - ar[2]),
        "hip_rotation_left_deg": deg * rot[0],
        "hip_rotation_right_deg": deg * -rot[1],
        "hip_flexion_change_left_deg": deg * -hip_rel[0][2],
        "hip_flexion_change_right_deg": deg * -hip_rel[1][2],
    }


#: The goals' tolerance of the left-right solve (m for the centre of mass, rad for the rib cage's roll).
LATERAL_TOL_GOAL = 1e-11


def _settings():
    """The Newton driver's :class:`~musclesim.physics.compiled.Settings` for the left-right solve
    (cached: the same tuple every call)."""
    global _SETTINGS
    if _SETTINGS is not None:
        return _SETTINGS
    from .physics.compiled import settings

    _SETTINGS = settings()._replace(tol_moment=TOL_RESIDUAL_NM, tol_goal=LATERAL_TOL_GOAL, max_iter=MAX_ITER,
                                    max_step=MAX_STEP_RAD)
    return _SETTINGS


_SETTINGS = None


def solve_lateral(mech: Mechanics, q: np.ndarray, act: np.ndarray, lam: np.ndarray, lift_m: float = 0.0) -> Lateral:
    """Frontal/transverse equilibrium at the solved sagittal pose ``q`` with activations ``act``.

    ``mech`` carries the tendon lengths of the solve (tightness) and ``lam`` its regulation
    efforts. Muscle forces are the sagittal solve's at ``x = 0`` and follow the 3-D length change.
    ``lift_m`` puts a lift of that height under the left foot (a leg-length difference).

    Compiled: the residual and its exact Jacobian (:func:`musclesim.lateral_kernels.lateral_evaluate`),
    solved by the shared Newton driver (:func:`musclesim.physics.newton.newton_on`) from ``x = 0``
    with the Jacobian there; stability and the linear shares from that Jacobian.
    """
    from .lateral_kernels import lateral_solve

    pr, lay, f = lateral_problem(mech, q, act, lam, lift_m)
    n = 2 + 2 * len(lay.spine_seg)
    z, R, it, min_eig, G, F, D, P0, JP0, HRJ0, P1, HR1, dx = lateral_solve(pr, _settings(), _static(mech, lay)["measure_points"])
    x, mu = z[:n], z[n:]
    residual = float(np.max(np.abs(R[:n])))
    converged = residual < TOL_CONVERGED_NM
    metrics = _measure_values(f, P1, HR1)
    # linear shares: each muscle's unequal pull, through the same regulated stiffness, to each measure
    Jm = _measure_gradients(lay, f, P0, JP0, HRJ0)
    pull = G.T * F  # (n, M): each muscle's generalised pull (dE/dx)
    names = np.array(mech.chain.muscle_names, dtype=object)
    shares = np.array([Jm[key] for key in LATERAL_MEASURES]) @ dx
    contributions = {}
    for key, share in zip(LATERAL_MEASURES, shares):
        keep = np.flatnonzero(np.abs(share) > 1e-6)
        keep = keep[np.argsort(-np.abs(share[keep]), kind="stable")]
        contributions[key] = dict(zip(names[keep].tolist(), share[keep].tolist()))
    min_eig = float(min_eig)
    return Lateral(coordinates=coordinate_names(mech), x=x, metrics=metrics, balance_torque_Nm=float(mu[0]),
                   trunk_side_force_N=float(mu[1]), converged=converged, stable=min_eig > 0.0, moment=-pull,
                   regulation_moment=D * mu, measure_gradient=Jm,
                   response=dx, min_stiffness=min_eig, residual_Nm=residual, iterations=int(it),
                   contributions=contributions)


def geometry(mech: Mechanics, q: np.ndarray, x: np.ndarray) -> dict:
    """Where everything is in 3-D (metres; x anterior, y up, z to the body's left) at the sagittal
    pose ``q`` with the lateral coordinates ``x``: for frontal and top views.

    ``{"joints": {"hip_left": (x, y, z), ...}, "landmarks": {"segment.name[.side]": (x, y, z)},
    "muscles": {muscle id: [(x, y, z), ...]}, "spine": [(x, y, z), ...] sacrum to C7,
    "com": (x, y, z)}``.
    """
    lay = layout(mech)
    f = frame3d(mech, lay, q)
    pose = poses(lay, f, np.asarray(x, dtype=float)[None], compiled=False)
    p = pose.p[0]
    ids = mech.chain.muscle_names
    muscles = {ids[m]: [tuple(map(float, p[i])) for i in path] for m, path in enumerate(lay.path_pts)}
    landmarks = {f"{s}.{n}" + (f".{side}" if side else ""): tuple(map(float, p[i])) for (s, n, side), i in lay.landmark.items()}
    joints: dict[str, tuple] = {}
    for (seg, name, side), i in lay.landmark.items():
        if side and name in ("ankle_centre", "knee_centre", "hip_centre"):
            joints[f"{name.replace('_centre', '')}_{side}"] = tuple(map(float, p[i]))
    # the spine as a line through the vertebral bodies, from the sacrum to C7
    spine = [landmarks["pelvis.s1_endplate_mid"]]
    spine += [v for k, v in landmarks.items() if k.endswith(".body_centre")]
    spine += [landmarks[k] for k in ("thorax_upper.c7",) if k in landmarks]
    mass = lay.pt_mass
    com = tuple(map(float, (p * mass[:, None]).sum(axis=0) / mass.sum()))
    return {"joints": joints, "landmarks": landmarks, "muscles": muscles, "spine": spine, "com": com}
