"""Positions: standing (regulated) and lying on the floor (contacts).

``standing`` is solved by :mod:`musclesim.mechanics` (postural regulation by real actuators).
The lying positions replace the regulation by **floor contact**: the body rests on a few
points of its back (heel, calf, thigh, sacrum, upper back, occiput), each pushed by a normal
force from the floor; gravity points into the floor; the floor's orientation and place relative
to the body are unknowns, as are the contact forces; the body as a whole must be in equilibrium
(the contact forces carry its weight and their moments balance).

Unknowns: joint angles ``q`` (n), the floor's pitch ``phi`` and offset ``d`` (2), one normal force
per contact (m), one support effort per held joint (h). Equations: joint moment balance (n),
whole-body force and moment balance (2), each contact point on the floor (m), each held angle (h). Newton's method with a finite-difference
Jacobian solves them (numpy; lying positions are not on the fast compiled path).

Positions (names are the API; :data:`POSITIONS`):

* ``supine`` -- lying on the back with the legs straight: heels, calves, thighs, sacrum, upper
  back and back of the head on the floor.
Not yet offered: ``supine_knees_bent`` (hook lying, the "pillow under the knees" of
``001_881622d7f40ce67f.txt``). Two formulations were tried and rejected: frictionless point
supports under the calves let the legs and pelvis roll as one lever, and hip/knee angles held by
internal torques leave the legs' weight cantilevered from the pelvis. The right model is compliant
contact (soft tissue and a pillow as stiff springs), listed as the next step in the README.

In the lying positions the measures are read in the body's frame relative to the floor (as on an
examination table): pelvic tilt and sacral slope are angles to the floor's normal plane.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .mechanics import (MAX_ITER, TOL_GOAL, TOL_MOMENT_NM, Mechanics, muscle_force_N, passive_moment_Nm,
                        reduced_stiffness)
from .chain import _lengths_from_points, kinematics




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


POSITIONS: dict[str, Position] = {p.name: p for p in (
    Position("standing", "standing quietly: centre of mass over the feet, level gaze, upright rib cage"),
    Position("supine", "lying on the back, legs straight", tone_scale=LYING_TONE_SCALE, contacts=
             (("foot", "heel_back", 0.0), ("pelvis", "sacrum_back", 0.0), ("thorax_upper", "upper_back", 0.0),
              ("head_neck", "occiput", 0.0))),
)}

#: Finite-difference step for the lying-position Jacobian.
FD = 1e-7


def _contact_index(mech: Mechanics, pos: Position) -> np.ndarray:
    return np.array([mech.chain.landmark_index[(seg, lm)] for seg, lm, _ in pos.contacts], dtype=int)


def residual(mech: Mechanics, pos: Position, z: np.ndarray, act: np.ndarray, tendon_m: np.ndarray,
             detail: bool = False):
    """Residual of the lying equilibrium at ``z = [q, phi, d, contact forces]``."""
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
    cross = lambda a, b: a[..., 0] * b[1] - a[..., 1] * b[0]  # noqa: E731
    whole = [f.sum() - weight.sum(), float(np.sum(weight * -cross(p[:S], nrm)) + np.sum(f * cross(p[ci], nrm)))]
    out = np.concatenate((Q_musc + Q_grav + Q_pas + Q_cont, whole, p[ci] @ nrm - d - h))
    if not detail:
        return out
    return out, {"points": p, "joints": P[0], "force_N": F, "moment_arm_m": -dl[0], "Q_gravity": Q_grav,
                 "Q_passive": Q_pas, "Q_contact": Q_cont, "contact_N": f, "phi": phi, "normal": nrm}


def initial_guess(mech: Mechanics, pos: Position) -> np.ndarray:
    """Reference pose, floor along the body's long axis behind the contacts, weight shared."""
    n = mech.n
    ci = _contact_index(mech, pos)
    p = kinematics(mech.chain, np.zeros((1, n)))[0][0]
    d = float(np.min(p[ci, 0]))
    f = np.full(len(ci), mech.chain.seg_mass_kg.sum() * mech.chain.gravity / len(ci))
    return np.concatenate((np.zeros(n), [0.0, d], f))


def solve_lying(mech: Mechanics, pos: Position, act: np.ndarray, tendon_m: np.ndarray, z0: np.ndarray,
                max_iter: int = 4 * MAX_ITER):
    """Newton's method on :func:`residual` from ``z0``. Returns (z, converged, stable, iterations, message)."""
    n = mech.n

    def F(z):
        return residual(mech, pos, z, act, tendon_m)

    def norm(r):
        return float(np.linalg.norm(r))

    z = np.array(z0, dtype=float)
    r = F(z)
    it = 0
    steps = (1.0, 0.5, 0.25, 0.1, 0.03)
    while it < max_iter and not _done(r, n):
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
    converged = _done(r, n)
    if not converged:
        return z, False, False, it, f"not converged after {it} iterations (residual {norm(r):.2e})"
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


def _done(r: np.ndarray, n: int) -> bool:
    return bool(np.max(np.abs(r[:n])) < TOL_MOMENT_NM and np.max(np.abs(r[n:n + 2])) < 1e-6
                and np.max(np.abs(r[n + 2:])) < TOL_GOAL * 10)


def _fd_jacobian(F, z, r0) -> np.ndarray:
    J = np.empty((len(r0), len(z)))
    for j in range(len(z)):
        h = FD * max(1.0, abs(z[j]))
        e = np.zeros_like(z)
        e[j] = h
        J[:, j] = (F(z + e) - F(z - e)) / (2 * h)
    return J


def solve_with_lift_off(mech: Mechanics, pos: Position, act: np.ndarray, tendon_m: np.ndarray, z0: np.ndarray):
    """:func:`solve_lying` with unilateral contacts: a contact whose force would pull is released
    and the posture solved again (its point then rests above the floor); a released point that
    would sink into the floor makes the answer invalid. Returns (z, ok, stable, iterations,
    message, position actually in contact)."""
    import dataclasses

    n = mech.n
    current, z, total = pos, np.array(z0, dtype=float), 0
    for _ in range(len(pos.contacts)):
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
