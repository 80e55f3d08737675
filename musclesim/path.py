"""The straight path from the baseline to a solved tone, and the propagation frames drawn from it.

The solver reaches an answer either straight from the baseline (Newton's method, when it passes
the contraction test of :data:`musclesim.mechanics.DIRECT_CONTRACTION`) or by following the path
in steps. What the user sees should not depend on which: the dashboard's posture frames and the
explanation's integral of the linear response both use the equilibria at :data:`FRACTIONS` of
the way, taken from the solver's own steps where it made them and otherwise solved on first use
(each from the straight line between the baseline and the answer, a few Newton steps). Nothing
here runs unless frames or explanations are asked for, so :func:`musclesim.simulate` stays fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

#: Fractions of the way from the baseline to the answer (activation and tendon lengths change
#: along a straight line) at which the path is shown and integrated.
FRACTIONS = (0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Frame:
    """One step of the propagation: a coupling iterate, or a posture along the path from the
    baseline (:mod:`musclesim.path`)."""

    kind: str  # "coupling" (activation spreading) or "posture" (body moving)
    step: int
    fraction: float  # of the way from the baseline to the answer
    activation: Mapping[str, float]
    pose_deg: Mapping[str, float] | None = None
    metrics: Mapping[str, float] | None = None


class StraightPath:
    """Equilibria along the straight line from the baseline (fraction 0) to the answer (1).

    ``fractions`` and ``states`` ((q, lam) per fraction) are what the solver passed through; they
    start at 0 and end at 1. :meth:`states_at` returns ``(fraction, activation, q, lam, tendon
    lengths)`` per fraction, solving the ones the solver skipped (cached; a fraction whose solve
    does not converge is left out).
    """

    def __init__(self, mech, t0: np.ndarray, act: np.ndarray, lt0: np.ndarray, lt1: np.ndarray,
                 fractions: Sequence[float], states: Sequence[tuple[np.ndarray, np.ndarray]]):
        self.mech, self.t0, self.act, self.lt0, self.lt1 = mech, t0, act, lt0, lt1
        self.solved = {float(f): (q, lam) for f, (q, lam) in zip(fractions, states)}
        self._filled = len(self.solved) > 2  # the solver's own steps already show the path
        self._lock = threading.Lock()  # a Result may be shared by a server's threads

    def point(self, frac: float) -> tuple[np.ndarray, np.ndarray]:
        """(activation, tendon rest lengths) at ``frac`` of the way."""
        return self.t0 + frac * (self.act - self.t0), self.lt0 + frac * (self.lt1 - self.lt0)

    def states_at(self) -> list[tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        with self._lock:
            if not self._filled:
                self._fill()
        out = []
        for f in sorted(self.solved):
            a, lt = self.point(f)
            q, lam = self.solved[f]
            out.append((f, a, q, lam, lt))
        return out

    def _fill(self) -> None:
        from .mechanics import solve, with_tendons

        (q0, l0), (q1, l1) = self.solved[min(self.solved)], self.solved[max(self.solved)]
        for f in FRACTIONS:
            if f in self.solved:
                continue
            a, lt = self.point(f)
            eq = solve(with_tendons(self.mech, lt), a, q0 + f * (q1 - q0), l0 + f * (l1 - l0), check=False)
            if eq.converged:
                self.solved[f] = (eq.q, eq.lam)
        self._filled = True


def frames(path: StraightPath | None, coupling_iterates: Callable[[], Sequence[np.ndarray]], ids: Sequence[str], dof_names: Sequence[str],
           metrics: Callable) -> list:
    """Coupling frames (one per iterate of the tone coupling, from ``coupling_iterates()``) then posture frames (one per
    equilibrium along ``path`` after the baseline; none without a path: a failed solve, or nothing
    changed); ``metrics(mech, q, lam, act)`` gives a posture's measures."""
    from .mechanics import with_tendons

    freeze = MappingProxyType
    out = [Frame("coupling", k, 0.0, freeze(dict(zip(ids, a.tolist())))) for k, a in enumerate(coupling_iterates())]
    for k, (f, a, q, lam, lt) in enumerate(path.states_at()[1:] if path is not None else [], start=1):
        out.append(Frame("posture", k, f, freeze(dict(zip(ids, a.tolist()))),
                         freeze(dict(zip(dof_names, np.degrees(q).tolist()))),
                         freeze(metrics(with_tendons(path.mech, lt), q, lam, a))))
    return out
