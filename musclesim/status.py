"""One status vocabulary for every solve: :class:`Status`.

Every answer musclesim gives (:class:`musclesim.Result`, each row of
:class:`musclesim.BatchResult`) carries the same five things: ``ok`` (bool), ``status`` (one word
of :class:`Status`), ``message`` (a sentence for people), ``iterations`` and ``residual`` (N·m,
the largest joint-moment residual). ``status`` is what scripts should test; ``message`` is for
reading and its wording may change.

The solvers (:mod:`musclesim.mechanics`, :mod:`musclesim.positions`, :mod:`musclesim.lateral`)
report today through flags (``converged``, ``stable``) and a message; :func:`classify` turns those
into a :class:`Status` in one place.
"""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """What a solve ended with. A ``str``, so ``res.status == "path_lost"`` works and it prints
    as its value; :attr:`ok` says whether the posture is an answer.

    Answers (``ok`` True: a converged, stable posture; the measures are valid):

    - ``converged``: a stable equilibrium, nothing to report.
    - ``out_of_range``: a stable equilibrium with a joint beyond its range of motion (model file);
      the message names the joints.
    - ``would_slip``: lying, a stable equilibrium whose anchored contacts (feet, sacrum) would need
      more friction than the floor gives; the message says how much.

    Failures (``ok`` False: the measures are NaN):

    - ``path_lost``: standing, the equilibrium was followed part of the way from the resting tone
      and then lost (a limit point: the body would snap to another posture, or cannot stand).
    - ``max_iterations``: the Newton iteration stopped without reaching the tolerance.
    - ``diverged``: the joint angles left any plausible range during the iteration.
    - ``unstable``: an equilibrium was found but it is a saddle (the reduced stiffness is not
      positive definite), not a posture.
    - ``lateral_max_iterations``: standing, the sagittal posture was found but the left-right
      (frontal and transverse) equilibrium was not.
    - ``lateral_unstable``: standing, the left-right equilibrium is unstable side to side.
    - ``contact_lost``: lying, no set of floor contacts carries the body (no contact would carry
      it, or a point that lifted off would sink into the floor).
    """

    CONVERGED = "converged"
    OUT_OF_RANGE = "out_of_range"
    WOULD_SLIP = "would_slip"
    PATH_LOST = "path_lost"
    MAX_ITERATIONS = "max_iterations"
    DIVERGED = "diverged"
    UNSTABLE = "unstable"
    LATERAL_MAX_ITERATIONS = "lateral_max_iterations"
    LATERAL_UNSTABLE = "lateral_unstable"
    CONTACT_LOST = "contact_lost"

    @property
    def ok(self) -> bool:
        """True for the statuses of an answer (converged, out_of_range, would_slip)."""
        return self in _OK

    def __str__(self) -> str:
        return self.value


_OK = frozenset({Status.CONVERGED, Status.OUT_OF_RANGE, Status.WOULD_SLIP})

#: For a failed solve: the first phrase found in its message gives the status. Order matters
#: ("cannot stand" messages quote the inner solver's "not converged"; lateral failures follow a
#: sagittal "converged"). The phrases are the solvers' own (mechanics._finish, follow's wrapper in
#: simulation.simulate, simulation._result, batch.simulate_many, positions.solve_lying and
#: solve_with_lift_off).
_FAILURES = (
    ("cannot stand", Status.PATH_LOST),
    ("no left-right equilibrium", Status.LATERAL_MAX_ITERATIONS),
    ("unstable side to side", Status.LATERAL_UNSTABLE),
    ("diverged", Status.DIVERGED),
    ("would sink into the floor", Status.CONTACT_LOST),
    ("no contact with the floor", Status.CONTACT_LOST),
    ("unstable", Status.UNSTABLE),
    ("not converged", Status.MAX_ITERATIONS),
)
#: For an answer: the notes a solver appends to its message.
_NOTES = (
    ("beyond the range of motion", Status.OUT_OF_RANGE),
    ("would need a friction coefficient", Status.WOULD_SLIP),
)


def classify(message: str, converged: bool, stable: bool) -> Status:
    """The :class:`Status` of a solve from what the solvers report today: its ``message`` and its
    ``converged`` / ``stable`` flags.

    ``Status(...).ok`` always equals ``converged and stable``: the flags decide whether the solve
    is an answer, the message only which kind of answer or failure. A failure whose message names
    no known cause is ``max_iterations`` when not converged, else ``unstable``.

    This is the only place that reads solver messages. It is a bridge: when the solvers return
    a status themselves (issue 15, requirement 3: one Newton driver with one record), their
    records carry the :class:`Status` directly and this function, and the phrase tables it reads,
    can go; callers (``Result.status``, ``BatchResult.status``) then read the record's field.
    """
    text = message or ""
    if converged and stable:
        return next((s for phrase, s in _NOTES if phrase in text), Status.CONVERGED)
    found = next((s for phrase, s in _FAILURES if phrase in text), None)
    if found is not None:
        return found
    return Status.MAX_ITERATIONS if not converged else Status.UNSTABLE


def classify_many(messages, ok) -> list[Status]:
    """:func:`classify` of many rows (a batch: ``ok`` stands for converged and stable), each
    distinct message classified once."""
    seen: dict[tuple[str, bool], Status] = {}
    out = []
    for m, o in zip(messages, ok):
        key = (m, bool(o))
        s = seen.get(key)
        if s is None:
            s = seen[key] = classify(m, bool(o), bool(o))
        out.append(s)
    return out
