"""Positions: standing (regulated) and lying on the floor (contacts).

``standing`` is solved by :mod:`musclesim.mechanics` (postural regulation by real actuators).
The lying positions replace the regulation by **floor contact**: the body rests on a few
points (heel, sacrum, upper back, occiput; the soles when the knees are bent), each pushed by a normal
force from the floor; gravity points into the floor; the floor's orientation and place relative
to the body are unknowns, as are the contact forces; the body as a whole must be in equilibrium
(the contact forces carry its weight and their moments balance).

Rigid contacts: unknowns are the joint angles ``q`` (n), the floor's pitch ``phi`` and offset ``d``
(2) and one normal force per contact (m); equations are joint moment balance (n), whole-body force
and moment balance (2) and each contact point on the floor (m). Compliant contacts: see
``supine_knees_bent`` below. Newton's method with a finite-difference Jacobian solves them (numpy;
lying positions are not on the fast compiled path).

Positions (names are the API; :data:`POSITIONS`):

* ``supine`` -- lying on the back with the legs straight: heels, sacrum, upper back and back of
  the head on the floor (rigid contacts, forces as unknowns, lift-off by :func:`solve_with_lift_off`).
* ``supine_pillow`` -- lying on the back with a pillow under the knees (``001_881622d7f40ce67f.txt``):
  heels, the back of the thighs just above the knees (on a support :data:`PILLOW_HEIGHT_M` high),
  sacrum, upper back and back of the head on compliant contacts as below, nothing anchored.
* ``supine_knees_bent`` -- hook lying, the "pillow under the knees" of ``001_881622d7f40ce67f.txt``:
  feet flat (heel and toe), sacrum, upper back and back of the head on **compliant contacts**
  (:func:`compliant_residual`). The soft tissue under each contact is a spring that only pushes,
  ``k w softplus(depth / w)`` with ``k`` = 30 kN/m and ``w`` = 0.5 mm; the feet and the sacrum are
  also held along the floor by springs of ``k / 3`` (shear over compression stiffness of an
  incompressible pad) anchored where :func:`placement` puts them (knee 90 deg, trunk in its reference
  curve, ankle and hip solved so that soles and back touch the floor). Unknowns ``z = [q, phi, d, s]``:
  the equilibrium is a minimum of the total energy, no multipliers; its Hessian (joints and floor
  placement) must be positive definite. The knee and hip angles are outputs; each anchored part's
  friction demand ``|T| / N`` is reported. Stiffness estimate: ``E A / t`` with gluteal tissue moduli
  60-440 kPa (Isogai et al. 2022, J Phys Ther Sci 34:777), ~0.01 m^2 and 2-3 cm of tissue: 20-150 kN/m;
  doubling it moves the lordosis by 0.2 deg (tests/test_positions_knees_bent.py).
  Rejected before: frictionless point supports under the calves (legs and pelvis roll as one lever),
  hip/knee angles held by internal torques (the legs' weight cantilevered from the pelvis), feet
  flat with a rigid friction anchor (statically indeterminate: negative contact forces).
  Limits (README): the model's knee and ankle passive laws, its muscles' passive curves and its
  short-range stiffness are calibrated about standing and are out of range in hook lying.

In the lying positions the measures are read in the body's frame relative to the floor (as on an
examination table): pelvic tilt and sacral slope are angles to the floor's normal plane.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .chain import _lengths_from_points, kinematics
from .mechanics import (
    MAX_ITER,
    TOL_GOAL,
    TOL_MOMENT_NM,
    Mechanics,
    muscle_force_N,
    passive_moment_Nm,
    reduced_stiffness,
)

#: Lying, the postural part of the resting tone is gone: muscles not set by the user rest at this
#: fraction of their standing tone (estimate: quiet-standing EMG is mostly postural; supine EMG of
#: trunk and leg muscles is near the noise floor).
LYING_TONE_SCALE = 0.25


@dataclass(frozen=True)
class Position:
    """A named set of constraints for the posture."""

    name: str
    description: str
    contacts: tuple[tuple[str, str, float], ...] = ()  # (segment, landmark, support height above the floor m)
    tone_scale: float = 1.0  # resting tone of the muscles not set by the user, relative to standing
    #: Compliant contacts (> 0): normal stiffness of the soft tissue under each contact, N/m. 0: rigid
    #: contacts whose forces are multipliers (``supine``).
    stiffness_N_per_m: float = 0.0
    #: Contacts ("segment.landmark") that do not slide: a tangential spring of ``shear_ratio`` x the
    #: normal stiffness anchors them where the feet were placed (compliant positions only).
    anchored: tuple[str, ...] = ()
    shear_ratio: float = 1.0 / 3.0
    #: Where the anchors are: the pose with these joint angles (deg) held, the ``placement_free`` joints
    #: solved so that the root segment's contacts (the soles) and the other contacts all touch the floor.
    placement_deg: tuple[tuple[str, float], ...] = ()
    placement_free: tuple[str, ...] = ()
    #: Friction coefficient above which an anchored contact is reported as sliding (skin and cloth on
    #: a mat or floor: about 0.4-1; estimate).
    friction_limit: float = 1.0

    @property
    def compliant(self) -> bool:
        return self.stiffness_N_per_m > 0

    def compiled_floor(self, mech: Mechanics, structure):
        """This compliant position's contacts as the compiled core reads them
        (:class:`musclesim.physics.compiled.Floor`; see :func:`musclesim.physics.floor_of`)."""
        from .physics.compiled import Floor

        ci = _contact_index(mech, self)
        anchors = placement(mech, self)[2] if self.anchored else np.full(len(ci), np.nan)
        anchored = ~np.isnan(anchors)
        return Floor(
            contact_pt=np.ascontiguousarray(ci, dtype=np.int64),
            height=np.array([c[2] for c in self.contacts], dtype=float), anchored=anchored,
            anchor=np.where(anchored, np.nan_to_num(anchors), 0.0), has_shear=bool(anchored.any()),
            stiffness=float(self.stiffness_N_per_m), smoothing=float(CONTACT_SMOOTHING_M),
            shear_ratio=float(self.shear_ratio), pts=np.union1d(structure.pts, ci).astype(np.int64),
        )


#: Height (m) of the pillow under the back of the knees in ``supine_pillow``: a bed pillow pressed
#: under the legs' weight (estimate: 12-15 cm thick, about a third less under load).
PILLOW_HEIGHT_M = 0.10

POSITIONS: dict[str, Position] = {p.name: p for p in (
    Position("standing", "standing quietly: centre of mass over the feet, level gaze, upright rib cage"),
    Position("supine", "lying on the back, legs straight", tone_scale=LYING_TONE_SCALE, contacts=
             (("foot", "heel_back", 0.0), ("pelvis", "sacrum_back", 0.0), ("thorax_upper", "upper_back", 0.0),
              ("head_neck", "occiput", 0.0))),
    Position("supine_knees_bent", "lying on the back, knees bent about 90 deg and feet flat on the floor (hook lying)",
             tone_scale=LYING_TONE_SCALE, stiffness_N_per_m=30e3, contacts=
             (("foot", "heel", 0.0), ("foot", "toe", 0.0), ("pelvis", "sacrum_back", 0.0),
              ("thorax_upper", "upper_back", 0.0), ("head_neck", "occiput", 0.0)),
             anchored=("foot.heel", "foot.toe", "pelvis.sacrum_back"),
             placement_deg=(("knee", 90.0),), placement_free=("ankle", "hip")),
    Position("supine_pillow", "lying on the back with a pillow under the knees (heels on the floor)",
             tone_scale=LYING_TONE_SCALE, stiffness_N_per_m=30e3, contacts=
             (("foot", "heel_back", 0.0), ("thigh", "knee_back", PILLOW_HEIGHT_M), ("pelvis", "sacrum_back", 0.0),
              ("thorax_upper", "upper_back", 0.0), ("head_neck", "occiput", 0.0))),
)}

#: Width (m) of the smooth onset of a compliant contact's force: ``k w softplus(depth / w)`` is
#: ``k depth`` once the tissue is pressed a few widths and never pulls.
CONTACT_SMOOTHING_M = 5e-4

#: Finite-difference step for the lying-position Jacobian.
FD = 1e-7


def _contact_index(mech: Mechanics, pos: Position) -> np.ndarray:
    return np.array([mech.chain.landmark_index[(seg, lm)] for seg, lm, _ in pos.contacts], dtype=int)


def residual(mech: Mechanics, pos: Position, z: np.ndarray, act: np.ndarray, tendon_m: np.ndarray,
             detail: bool = False):
    """Residual of the lying equilibrium at ``z = [q, phi, d, contact forces]`` (rigid contacts) or
    ``z = [q, phi, d, s]`` (compliant contacts, :func:`compliant_residual`)."""
    if pos.compliant:
        return compliant_residual(mech, pos, z, act, tendon_m, detail)
    c = mech.chain
    n = mech.n
    ci = _contact_index(mech, pos)
    m = len(ci)
    h = np.array([c_[2] for c_ in pos.contacts])
    q, phi, d = z[:n], z[n], z[n + 1]
    f = z[n + 2:n + 2 + m]
    p, dp, P, _ = kinematics(c, q[None])
    p, dp = p[0], dp[0]
    l, dl = _lengths_from_points(c, p[None], dp[None])
    F = muscle_force_N(mech, act, l[0], tendon_m)
    nrm = np.array([math.cos(phi), -math.sin(phi)])  # floor normal, pointing from the floor into the body
    S = len(c.seg_names)
    weight = c.seg_mass_kg * c.gravity
    Q_musc = -(F[:, None] * dl[0]).sum(axis=0)
    Q_grav = -np.einsum("s,snc,c->n", weight, dp[:S], nrm)
    Q_pas = passive_moment_Nm(mech, q[None])[0]
    Q_cont = np.einsum("i,inc,c->n", f, dp[ci], nrm)
    cross = lambda a, b: a[..., 0] * b[1] - a[..., 1] * b[0]
    whole = [f.sum() - weight.sum(), float(np.sum(weight * -cross(p[:S], nrm)) + np.sum(f * cross(p[ci], nrm)))]
    out = np.concatenate((Q_musc + Q_grav + Q_pas + Q_cont, whole, p[ci] @ nrm - d - h))
    if not detail:
        return out
    return out, {"points": p, "joints": P[0], "force_N": F, "moment_arm_m": -dl[0], "Q_gravity": Q_grav,
                 "Q_passive": Q_pas, "Q_contact": Q_cont, "contact_N": f, "phi": phi, "normal": nrm}


def _floor_frame(phi: float) -> tuple[np.ndarray, np.ndarray]:
    """(normal from the floor into the body, tangent along the floor toward the head) in the chain frame."""
    return np.array([math.cos(phi), -math.sin(phi)]), np.array([math.sin(phi), math.cos(phi)])


def compliant_residual(mech: Mechanics, pos: Position, z: np.ndarray, act: np.ndarray, tendon_m: np.ndarray,
                       detail: bool = False):
    """Generalised forces ``-dV/dz`` of the compliant lying position at ``z = [q, phi, d, s]``.

    ``V`` is the total potential energy: muscles, passive joints, gravity (height above the floor
    times weight) and the contact springs. Each contact ``i`` is pressed ``depth_i = h_i + d - p_i . n``
    into the floor and pushed by ``k w softplus(depth_i / w)`` along the floor normal ``n``; an anchored
    contact is also held along the floor by ``-k_t (p_i . t - s - u_i)``, its anchor ``u_i`` from
    :func:`placement`. ``phi`` is the floor's pitch, ``d`` its offset along ``n``, ``s`` along ``t``
    (only when some contact is anchored). The answer is where these vanish; no multipliers.
    """
    c = mech.chain
    n = mech.n
    ci = _contact_index(mech, pos)
    h = np.array([c_[2] for c_ in pos.contacts])
    u0 = placement(mech, pos)[2] if pos.anchored else np.full(len(ci), np.nan)
    anchored = ~np.isnan(u0)
    q, phi, d = z[:n], float(z[n]), float(z[n + 1])
    s = float(z[n + 2]) if anchored.any() else 0.0
    p, dp, P, _ = kinematics(c, q[None])
    p, dp = p[0], dp[0]
    l, dl = _lengths_from_points(c, p[None], dp[None])
    F = muscle_force_N(mech, act, l[0], tendon_m)
    nrm, tan = _floor_frame(phi)
    S = len(c.seg_names)
    weight = c.seg_mass_kg * c.gravity
    k, w = pos.stiffness_N_per_m, CONTACT_SMOOTHING_M
    depth = h + d - p[ci] @ nrm
    fn = k * w * np.logaddexp(0.0, depth / w)
    slide = np.where(anchored, p[ci] @ tan - s - np.nan_to_num(u0), 0.0)
    ft = -k * pos.shear_ratio * slide
    Q_musc = -(F[:, None] * dl[0]).sum(axis=0)
    Q_grav = -np.einsum("s,snc,c->n", weight, dp[:S], nrm)
    Q_pas = passive_moment_Nm(mech, q[None])[0]
    Q_cont = np.einsum("i,inc,c->n", fn, dp[ci], nrm) + np.einsum("i,inc,c->n", ft, dp[ci], tan)
    floor = [weight @ (p[:S] @ tan) - fn @ (p[ci] @ tan) + ft @ (p[ci] @ nrm), weight.sum() - fn.sum()]
    if anchored.any():
        floor.append(-ft.sum())
    out = np.concatenate((Q_musc + Q_grav + Q_pas + Q_cont, floor))
    if not detail:
        return out
    return out, {"points": p, "joints": P[0], "force_N": F, "moment_arm_m": -dl[0], "Q_gravity": Q_grav,
                 "Q_passive": Q_pas, "Q_contact": Q_cont, "contact_N": fn, "shear_N": ft, "depth_m": depth,
                 "phi": phi, "normal": nrm}


def friction_needed(pos: Position, det: dict) -> dict[str, float]:
    """Tangential over normal force of the anchored contacts, per segment (``|sum T| / sum N``):
    the friction coefficient each anchored part needs to stay put (NaN if it carries no load)."""
    out: dict[str, list[float]] = {}
    for (seg, lm, _), fn, ft in zip(pos.contacts, det["contact_N"], det["shear_N"]):
        if f"{seg}.{lm}" in pos.anchored:
            acc = out.setdefault(seg, [0.0, 0.0])
            acc[0] += ft
            acc[1] += fn
    return {seg: abs(t) / n if n > 1.0 else float("nan") for seg, (t, n) in out.items()}


def placement(mech: Mechanics, pos: Position) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a compliant position's body is put down: ``(q, [phi, d, s], anchors)``.

    The pose holds the ``placement_deg`` joint angles, the other joints at their reference (0),
    and solves the ``placement_free`` joints so that, with the root segment's contacts (the soles)
    on the floor, the other contacts of the trunk touch it too (heights ``h``). The anchors are the
    anchored contacts' places along the floor in that pose (NaN for contacts free to slide): the
    feet stand where this pose puts them, and the knee and hip angles of the answer are outputs.
    """
    key = ("placement", pos)
    cache = mech.model._cache
    if key in cache:
        return cache[key]
    c = mech.chain
    n = mech.n
    ci = _contact_index(mech, pos)
    h = np.array([c_[2] for c_ in pos.contacts])
    q = np.zeros(n)
    for name, deg in pos.placement_deg:
        q[c.dof_names.index(name)] = math.radians(deg)
    free = [c.dof_names.index(name) for name in pos.placement_free]
    root = [i for i, k in enumerate(ci) if c.pt_seg[k] == 0]
    others = [i for i, k in enumerate(ci) if c.pt_seg[k] != 0][:len(free)]
    p = kinematics(c, q[None], derivatives=False)[0][0]
    sole = p[ci[root]]
    t = sole[0] - sole[-1]
    phi = math.atan2(t[0], t[1])  # tangent (sin phi, cos phi) from the toe toward the heel (head side)
    nrm, tan = _floor_frame(phi)
    d = float(sole[0] @ nrm - h[root[0]])

    def gaps(x):
        qq = q.copy()
        qq[free] = x
        pp = kinematics(c, qq[None], derivatives=False)[0][0]
        return pp[ci[others]] @ nrm - d - h[others]

    x = q[free]
    for _ in range(50):
        g = gaps(x)
        if np.max(np.abs(g)) < 1e-12:
            break
        J = np.column_stack([(gaps(x + e) - gaps(x - e)) / 2e-7 for e in np.eye(len(x)) * 1e-7])
        x = x - np.linalg.solve(J, g)
    else:
        raise ValueError(f"position {pos.name}: no placement pose puts the body on the floor")
    q[free] = x
    p = kinematics(c, q[None], derivatives=False)[0][0]
    names = [f"{s_}.{lm}" for s_, lm, _ in pos.contacts]
    anchors = np.array([p[k] @ tan if nm in pos.anchored else np.nan for k, nm in zip(ci, names)])
    out = (q, np.array([phi, d, 0.0]), anchors)
    cache[key] = out
    return out


def initial_guess(mech: Mechanics, pos: Position) -> np.ndarray:
    """Reference pose, floor along the body's long axis behind the contacts, weight shared
    (compliant positions: the :func:`placement` pose)."""
    n = mech.n
    if pos.compliant and pos.anchored:
        q, floor, _ = placement(mech, pos)
        return np.concatenate((q, floor))
    ci = _contact_index(mech, pos)
    p = kinematics(mech.chain, np.zeros((1, n)))[0][0]
    d = float(np.min(p[ci, 0]))
    if pos.compliant:  # no anchors: [q, phi, d]
        return np.concatenate((np.zeros(n), [0.0, d]))
    f = np.full(len(ci), mech.chain.seg_mass_kg.sum() * mech.chain.gravity / len(ci))
    return np.concatenate((np.zeros(n), [0.0, d], f))


def solve_lying(mech: Mechanics, pos: Position, act: np.ndarray, tendon_m: np.ndarray, z0: np.ndarray,
                max_iter: int = 4 * MAX_ITER):
    """Newton's method on :func:`residual` from ``z0``. Returns (z, converged, stable, iterations, message).

    Compliant positions run the compiled Newton driver on the compiled contact equations
    (:mod:`musclesim.physics.contact`, analytic Jacobian) unless the backend is switched to the
    reference; rigid contacts (``supine``, whose forces are multipliers and lift off one by one)
    and the reference use the numpy residual with a finite-difference Jacobian below.
    """
    from . import _backend

    n = mech.n
    if pos.compliant and _backend.compiled():
        return _solve_compliant_compiled(mech, pos, act, tendon_m, z0, max_iter)

    def F(z):
        return residual(mech, pos, z, act, tendon_m)

    def norm(r):
        return float(np.linalg.norm(r))

    done = _done_compliant if pos.compliant else _done
    z = np.array(z0, dtype=float)
    r = F(z)
    it = 0
    steps = (1.0, 0.5, 0.25, 0.1, 0.03)
    while it < max_iter and not done(r, n):
        it += 1
        J = _fd_jacobian(F, z, r)
        try:
            dz = np.linalg.solve(J, -r)
        except np.linalg.LinAlgError:
            dz = np.linalg.lstsq(J, -r, rcond=None)[0]
        big = np.max(np.abs(dz[:n + 1]))
        if big > 0.1:
            dz *= 0.1 / big
        f0 = norm(r)
        for t in steps:
            r1 = F(z + t * dz)
            if np.all(np.isfinite(r1)) and norm(r1) < f0:
                break
        z, r = z + t * dz, r1
        if not np.all(np.isfinite(z)) or np.max(np.abs(z[:n])) > np.pi:
            return z, False, False, it, "diverged: the joint angles left any plausible range"
    converged = done(r, n)
    if not converged:
        return z, False, False, it, f"not converged after {it} iterations (residual {norm(r):.2e})"
    if pos.compliant:  # an energy minimum: the Hessian -dr/dz (joints and floor placement) is positive definite
        eig = reduced_stiffness(_fd_jacobian(F, z, r), np.zeros((0, len(z))))
        if eig[0] <= 0:
            return z, True, False, it, f"unstable resting posture (stiffness eigenvalue {eig[0]:.3g})"
        return z, True, True, it, "converged to a stable resting posture"
    m = len(pos.contacts)
    forces = z[n + 2:n + 2 + m]
    if np.any(forces < 0):  # a contact that would have to pull: see solve_with_lift_off
        lifted = [f"{s}.{lm}" for (s, lm, _), fc in zip(pos.contacts, forces) if fc < 0]
        return z, True, True, it, f"{', '.join(lifted)} would lift off the floor"
    J = _fd_jacobian(F, z, r)
    # stiffness of the joints with the contacts kept (the constraints' gradients span the goals)
    cons = J[n:, :n]
    eig = reduced_stiffness(J[:n, :n], cons)
    if eig.size and eig[0] <= 0:
        return z, True, False, it, f"unstable resting posture (reduced stiffness eigenvalue {eig[0]:.3g} N·m/rad)"
    return z, True, True, it, "converged to a stable resting posture"


def _solve_compliant_compiled(mech: Mechanics, pos: Position, act: np.ndarray, tendon_m: np.ndarray, z0: np.ndarray,
                              max_iter: int):
    """:func:`solve_lying` for a compliant position, compiled (same equations, same tolerances:
    every moment and floor row below 1e-6)."""
    from .physics import compiled_model, floor_of, newton
    from .physics.compiled import settings

    cm, st = compiled_model(mech)
    fl = floor_of(mech, pos)
    z0 = np.ascontiguousarray(z0, dtype=float)
    s = settings()._replace(max_iter=int(max_iter), tol_goal=1e-6, goal_weight=1.0)  # floor rows are N and N·m
    z, r, it, J, exact = newton.solve(cm, st, fl, z0, np.ascontiguousarray(act, dtype=float),
                                      np.ascontiguousarray(tendon_m, dtype=float), np.zeros((len(z0), len(z0))), False,
                                      True, s, False)
    n = mech.n
    if not np.all(np.isfinite(z)) or np.max(np.abs(z[:n])) > np.pi:
        return z, False, False, int(it), "diverged: the joint angles left any plausible range"
    if not _done_compliant(r, n):
        return z, False, False, int(it), f"not converged after {it} iterations (residual {np.linalg.norm(r):.2e})"
    eig = newton.stability(cm, fl, J)
    if eig <= 0:
        return z, True, False, int(it), f"unstable resting posture (stiffness eigenvalue {eig:.3g})"
    return z, True, True, int(it), "converged to a stable resting posture"


def _done(r: np.ndarray, n: int) -> bool:
    return bool(np.max(np.abs(r[:n])) < TOL_MOMENT_NM and np.max(np.abs(r[n:n + 2])) < 1e-6
                and np.max(np.abs(r[n + 2:])) < TOL_GOAL * 10)


def _done_compliant(r: np.ndarray, n: int) -> bool:
    return bool(np.max(np.abs(r[:n])) < TOL_MOMENT_NM and np.max(np.abs(r[n:])) < 1e-6)


def _fd_jacobian(F, z, r0) -> np.ndarray:
    J = np.empty((len(r0), len(z)))
    for j in range(len(z)):
        h = FD * max(1.0, abs(z[j]))
        e = np.zeros_like(z)
        e[j] = h
        J[:, j] = (F(z + e) - F(z - e)) / (2 * h)
    return J


def solve_with_lift_off(mech: Mechanics, pos: Position, act: np.ndarray, tendon_m: np.ndarray, z0: np.ndarray,
                        start: tuple[Position, np.ndarray] | None = None):
    """:func:`solve_lying` with unilateral contacts: a contact whose force would pull is released
    and the posture solved again (its point then rests above the floor); a released point that
    would sink into the floor makes the answer invalid. Returns (z, ok, stable, iterations,
    message, position actually in contact).

    ``start`` = (contact subset, its state): where a continuation step ended; if the solve with
    every contact does not converge from ``z0``, it is tried again from there (the released points
    stay released unless they would sink)."""
    import dataclasses

    n = mech.n
    if pos.compliant:  # soft contacts lift off by themselves (their force fades smoothly to zero)
        z, ok, stable, it, msg = solve_lying(mech, pos, act, tendon_m, z0)
        return z, ok, stable, it, msg, pos
    current, z, total = pos, np.array(z0, dtype=float), 0
    for k in range(len(pos.contacts)):
        z, ok, stable, it, msg = solve_lying(mech, current, act, tendon_m, z)
        total += it
        if not ok and k == 0 and start is not None and start[0].contacts != pos.contacts:
            current, z = start[0], np.array(start[1], dtype=float)
            z, ok, stable, it, msg = solve_lying(mech, current, act, tendon_m, z)
            total += it
        if not ok:
            return z, ok, stable, total, msg, current
        forces = z[n + 2:n + 2 + len(current.contacts)]
        if np.all(forces >= 0):
            break
        keep = [i for i, f in enumerate(forces) if f >= 0]
        if not keep:
            return z, False, False, total, "no contact with the floor would carry the body", current
        current = dataclasses.replace(current, contacts=tuple(current.contacts[i] for i in keep))
        z = np.concatenate((z[:n + 2], forces[keep]))
    released = [c_ for c_ in pos.contacts if c_ not in current.contacts]
    if released:
        p = kinematics(mech.chain, z[None, :n])[0][0]
        nrm = np.array([math.cos(z[n]), -math.sin(z[n])])
        for seg, lm, h in released:
            gap = p[mech.chain.landmark_index[(seg, lm)]] @ nrm - z[n + 1] - h
            if gap < -1e-6:
                return z, True, False, total, f"{seg}.{lm} would sink into the floor after lifting off", current
        msg = msg + " (" + ", ".join(f"{s}.{lm}" for s, lm, _ in released) + " lifted off the floor)"
    return z, ok, stable, total, msg, current
