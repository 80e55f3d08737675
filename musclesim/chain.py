"""The model compiled into arrays: a planar (sagittal) kinematic chain with points on it.

:func:`compile_chain` turns a :class:`~musclesim.model.Model` into a :class:`Chain` of numpy
arrays once; the mechanics then evaluates positions, muscle lengths and their derivatives for a
whole batch of poses at a time.

Kinematics
----------
The foot is the root, fixed flat on the floor. Segment ``s`` has absolute pitch
``alpha_s = sum_j A[s, j] * q_j`` (radians, top of the segment forward positive), where ``A``
holds the sign with which joint ``j`` (flexion positive) pitches every segment above it. A point
fixed to ``s`` with reference position ``r0`` sits at ``P_s + R(alpha_s) (r0 - c0_s)``, with
``P_s`` the world position of the segment's proximal joint. Because the chain is serial and
planar, ``dp/dq_j = A[s, j] * perp(p - P_j)`` with ``perp(x, y) = (y, -x)``: moment arms are the
exact derivatives ``-dl/dq`` of the path lengths, never typed-in constants.

Bilateral segments (feet, shanks, thighs) form one sagittal chain carrying both sides' mass;
left and right muscles act on it separately (their sagittal projections coincide). The frontal
plane, where the sides differ, is outside this chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .model import Model

#: One millimetre of mercury in pascals.
MMHG_PA = 133.322387415


@dataclass(frozen=True, eq=False)
class Chain:
    """Arrays describing a model's sagittal chain (all SI)."""

    dof_names: tuple[str, ...]  # joint ids, one degree of freedom each
    dof_range_rad: np.ndarray  # (n, 2)
    dof_bilateral: np.ndarray  # (n,) 2.0 for bilateral joints (moments of both sides), else 1.0
    seg_names: tuple[str, ...]
    seg_parent: np.ndarray  # (S,) parent index, -1 for the root
    seg_dof: np.ndarray  # (S,) index of the proximal joint's dof, -1 for the root
    seg_c0: np.ndarray  # (S, 2) proximal joint centre in the reference configuration
    anc: np.ndarray  # (S, n) A[s, j]: sign with which dof j pitches segment s (0 if not below s)
    path_matrix: np.ndarray  # (S, S-1): 1 where segment t+1 lies on the path from the root to segment s
    pt_sign2: np.ndarray  # (Np, n, n): A_j * A_k of each point's segment (second-derivative signs)
    dof_seg: np.ndarray  # (n,) the segment whose proximal joint each dof is
    seg_mass_kg: np.ndarray  # (S,)
    # points: COMs first (index = segment index), then landmarks, then muscle path points
    pt_seg: np.ndarray  # (Np,)
    pt_r0: np.ndarray  # (Np, 2)
    landmark_index: dict  # (segment, landmark) -> point index
    # muscles
    muscle_names: tuple[str, ...]
    pair_i0: np.ndarray  # (Npairs,) first point of each straight piece of a path
    pair_i1: np.ndarray  # (Npairs,)
    pair_muscle: np.ndarray  # (Npairs,) muscle index
    pair_onehot: np.ndarray  # (Npairs, M)
    F0_N: np.ndarray  # (M,)
    l_opt_m: np.ndarray
    l_tendon_m: np.ndarray  # tendon slack length, derived from the reference fibre length
    l_ref_norm: np.ndarray  # normalised fibre length in the reference configuration
    slack_norm: np.ndarray  # normalised length where passive force starts
    gravity: float
    body_mass_kg: float
    ankle_x_m: float
    # intra-abdominal pressure (see :func:`musclesim.mechanics.strut_force_N`); none when iap_pts is empty
    iap_pts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # (2,) point indices: pelvic floor, diaphragm
    iap_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,) weight of each muscle instance's force in the wall's hoop tension
    iap_rest_N: float = 0.0  # strut force at rest, area x resting pressure
    iap_gain: float = 0.0  # strut force per newton of hoop tension, area / (h R)
    iap_area_m2: float = 0.0

    @property
    def has_pressure(self) -> bool:
        """True when the model has an intra-abdominal pressure (its strut acts in the equilibrium)."""
        return len(self.iap_pts) == 2


def rot(alpha: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pitch vectors ``v`` (..., 2) forward by ``alpha`` (...) radians."""
    c, s = np.cos(alpha), np.sin(alpha)
    x, y = v[..., 0], v[..., 1]
    return np.stack((x * c + y * s, -x * s + y * c), axis=-1)


def perp(v: np.ndarray) -> np.ndarray:
    """Derivative of a forward pitch applied to ``v``: (x, y) -> (y, -x)."""
    return np.stack((v[..., 1], -v[..., 0]), axis=-1)


def compile_chain(model: Model) -> Chain:
    """Compile ``model`` into a :class:`Chain`. Pure; called once per model (cached on it)."""
    segs = _ordered_segments(model)
    sidx = {s.id: i for i, s in enumerate(segs)}
    joints = {j.id: j for j in model.joints}
    dof_names = tuple(s.joint for s in segs if s.parent)
    didx = {d: i for i, d in enumerate(dof_names)}
    n, S = len(dof_names), len(segs)
    seg_parent = np.array([sidx[s.parent] if s.parent else -1 for s in segs])
    seg_dof = np.array([didx[s.joint] if s.parent else -1 for s in segs])
    seg_c0 = np.array([joints[s.joint].centre_m[:2] if s.parent else (0.0, 0.0) for s in segs], dtype=float)
    anc = np.zeros((S, n))
    for i, s in enumerate(segs):
        if s.parent:
            anc[i] = anc[seg_parent[i]]
            anc[i, seg_dof[i]] = joints[s.joint].flexion_pitches_child
    M = model.subject.body_mass_kg
    seg_mass = np.array([s.mass_fraction * M * (2.0 if s.bilateral else 1.0) for s in segs])

    pt_seg: list[int] = [i for i in range(S)]
    pt_r0: list[tuple[float, float]] = [s.com_m[:2] for s in segs]
    landmark_index: dict[tuple[str, str], int] = {}
    for i, s in enumerate(segs):
        for name, p in s.landmarks.items():
            landmark_index[(s.id, name)] = len(pt_seg)
            pt_seg.append(i)
            pt_r0.append(p[:2])
    pair_i0, pair_i1, pair_m = [], [], []
    for m, inst in enumerate(model.instances):
        first = len(pt_seg)
        for att in inst.path:
            pt_seg.append(sidx[att.segment])
            pt_r0.append(att.point_m[:2])
        for k in range(len(inst.path) - 1):
            pair_i0.append(first + k)
            pair_i1.append(first + k + 1)
            pair_m.append(m)
    ms = [inst.muscle for inst in model.instances]
    ap = model.abdominal_pressure
    iap = {}
    if ap is not None:
        iap = dict(
            iap_pts=np.array([landmark_index[ap.pelvic_floor], landmark_index[ap.diaphragm]], dtype=int),
            # each side of a bilateral muscle counts half: the hoop's two halves carry its tension in series
            iap_weight=np.array([ap.wall_weights.get(inst.base, 0.0) / (2.0 if inst.muscle.bilateral else 1.0)
                                 for inst in model.instances], dtype=float),
            iap_rest_N=ap.area_m2 * ap.rest_mmHg * MMHG_PA, iap_gain=ap.area_m2 / ap.wall_hR_m2,
            iap_area_m2=ap.area_m2)
    chain = Chain(
        dof_names=dof_names,
        dof_range_rad=np.radians([joints[d].range_deg for d in dof_names]),
        dof_bilateral=np.array([2.0 if joints[d].bilateral else 1.0 for d in dof_names]),
        seg_names=tuple(s.id for s in segs), seg_parent=seg_parent, seg_dof=seg_dof, seg_c0=seg_c0,
        anc=anc, path_matrix=_path_matrix(seg_parent),
        pt_sign2=(anc[pt_seg][:, :, None] * anc[pt_seg][:, None, :]), dof_seg=_dof_seg(seg_dof), seg_mass_kg=seg_mass, pt_seg=np.array(pt_seg), pt_r0=np.array(pt_r0, dtype=float),
        landmark_index=landmark_index, muscle_names=model.muscle_ids,
        pair_i0=np.array(pair_i0), pair_i1=np.array(pair_i1), pair_muscle=np.array(pair_m),
        pair_onehot=np.eye(len(model.instances))[np.array(pair_m)],
        F0_N=np.array([m.max_isometric_force_N for m in ms], dtype=float),
        l_opt_m=np.array([m.optimal_fiber_length_m for m in ms], dtype=float),
        l_tendon_m=np.zeros(len(ms)),
        l_ref_norm=np.array([m.fiber_length_at_reference_normalized for m in ms], dtype=float),
        slack_norm=np.array([m.passive_slack_length_normalized for m in ms], dtype=float),
        gravity=model.subject.gravity_m_per_s2, body_mass_kg=float(seg_mass.sum()),
        ankle_x_m=float(joints[model.regulation.ankle_joint].centre_m[0]), **iap,
    )
    l_ref, _ = muscle_lengths(chain, np.zeros((1, n)))
    tendon = l_ref[0] - chain.l_ref_norm * chain.l_opt_m
    if np.any(tendon <= 0):
        bad = [chain.muscle_names[i] for i in np.flatnonzero(tendon <= 0)]
        raise ValueError(f"muscle path shorter than its reference fibre length: {bad}")
    chain.l_tendon_m[:] = tendon
    return chain


def _dof_seg(seg_dof: np.ndarray) -> np.ndarray:
    out = np.empty(len(seg_dof) - 1, dtype=int)
    out[seg_dof[1:]] = np.arange(1, len(seg_dof))
    return out


def _path_matrix(parent: np.ndarray) -> np.ndarray:
    S = len(parent)
    M = np.zeros((S, S - 1))
    for s in range(1, S):
        t = s
        while t > 0:
            M[s, t - 1] = 1.0
            t = parent[t]
    return M


def _ordered_segments(model: Model):
    """Segments ordered root first, parents before children (the chain's topology)."""
    by_parent: dict[str, list] = {}
    for s in model.segments:
        by_parent.setdefault(s.parent, []).append(s)
    out, todo = [], list(by_parent.get("", []))
    while todo:
        s = todo.pop(0)
        out.append(s)
        todo.extend(by_parent.get(s.id, []))
    return out


def kinematics(chain: Chain, q: np.ndarray, derivatives: bool = True):
    """Positions (and their q-derivatives) of every point for poses ``q`` (B, n) in radians.

    Returns ``(p, dp, P, alpha)``: points (B, Np, 2); their derivatives (B, Np, n, 2) or None;
    proximal-joint positions of the segments (B, S, 2); segment pitches (B, S).
    """
    alpha = q @ chain.anc.T  # (B, S)
    # each segment's joint = the root's + every ancestor's rotated joint-to-joint offset
    par = chain.seg_parent[1:]
    offsets = rot(alpha[:, par], chain.seg_c0[1:] - chain.seg_c0[par])  # (B, S-1, 2)
    P = chain.seg_c0[0] + np.einsum("st,btc->bsc", chain.path_matrix, offsets)
    seg = chain.pt_seg
    p = P[:, seg] + rot(alpha[:, seg], chain.pt_r0 - chain.seg_c0[seg])
    if not derivatives:
        return p, None, P, alpha
    # joint j sits at the proximal joint of the segment it moves
    Pj = P[:, chain.dof_seg]  # (B, n, 2)
    dp = chain.anc[seg][None, :, :, None] * perp(p[:, :, None, :] - Pj[:, None, :, :])
    return p, dp, P, alpha


def distal_joint_positions(chain: Chain, P: np.ndarray) -> np.ndarray:
    """(n, n, 2): position of the more distal of each pair of joints, for one pose (P: (S, 2)).

    For a planar chain, rotating a point about joint j and then k moves it like a rotation about
    the more distal of the two applied twice: ``d2p/dq_j dq_k = -A_j A_k (p - P_max(j,k))``.
    Segments are ordered root first, so along a root path the deeper joint has the larger index.
    """
    idx = np.arange(len(chain.dof_names))
    return P[chain.dof_seg][np.maximum(idx[:, None], idx[None, :])]


def muscle_lengths(chain: Chain, q: np.ndarray):
    """Musculotendon lengths (B, M) in m and their derivatives dl/dq (B, M, n)."""
    p, dp, _, _ = kinematics(chain, q)
    return _lengths_from_points(chain, p, dp)


def _lengths_from_points(chain: Chain, p: np.ndarray, dp: np.ndarray):
    d = p[:, chain.pair_i1] - p[:, chain.pair_i0]  # (B, K, 2)
    seglen = np.linalg.norm(d, axis=-1)
    u = d / seglen[..., None]
    ddp = dp[:, chain.pair_i1] - dp[:, chain.pair_i0]  # (B, K, n, 2)
    dseg = np.einsum("bkd,bknd->bkn", u, ddp)
    onehot = chain.pair_onehot  # (K, M): which muscle each straight piece belongs to
    return seglen @ onehot, np.einsum("bkn,km->bmn", dseg, onehot)
