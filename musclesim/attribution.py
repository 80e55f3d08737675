"""How much of each change is mechanics and how much the assumed tone coupling.

``simulate`` propagates a tone change through the interaction graph before it solves the posture
(:mod:`musclesim.tone`: reciprocal inhibition of antagonists, co-activation of synergists,
``a = clip(t + W (a - t0), 0, 1)``). The gains of ``W`` are an estimate, not a measurement, so a
result's change is reported in two parts (:attr:`musclesim.Result.split`):

* ``mechanics`` -- the change of the same request (tone, tightness, position) solved with the
  coupling off (``simulate(..., coupling=False)``), against the same baseline;
* ``coupling`` -- ``total - mechanics``: what the coupling's tone changes add (with everything
  they do to the posture through the mechanics);
* ``total`` -- the result's own change (``Result.change``).

The baseline is the same for both: it is solved at the resting tone ``t0``, where the coupling
has nothing to propagate (``a - t0 = 0`` is its own fixed point), so ``simulate(model)`` and
``simulate(model, coupling=False)`` give the same measures (``tests/test_attribution.py``).

The coupling-off solve runs when the split is first read (never inside ``simulate``), once per
result even when several threads read it together (:mod:`musclesim.lazy`). It is not run at all
when the coupling changed no muscle's activation (``coupling=False`` was requested, the model's
gains are zero, or nothing changed): then the mechanics is the whole change and the coupling's
share is exactly 0. If the coupling-off solve finds no posture, its share is NaN and
:attr:`Split.message` says why; a failed result has a NaN total and coupling share.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from .lazy import LazyMapping

if TYPE_CHECKING:  # pragma: no cover
    from .model import Model

#: A :class:`musclesim.Result` (typed loosely: this module sits below the simulation layer, which
#: passes its results and its ``simulate`` in).
Result = Any

#: Evidence grade of a coupling whose source in the model file is an estimate (the source string
#: starts with ``estimate``). The model file has no grade field (its schema,
#: ``musclesim.validate.CouplingTable``, allows a ``source`` string only), so the grade is derived
#: here from the source, in the vocabulary of the claims catalogue (``musclesim/data/claims.toml``:
#: "none" = no study of the claim found, "weak", "indirect", "moderate"). A review of the
#: literature (docs/validation.md, models/adult_standing/README.md) found no measurement of how
#: much a change of one muscle's resting tone changes its antagonists' and synergists' resting
#: tone in quiet standing: reciprocal Ia inhibition is measured as a conditioning of reflexes
#: (H-reflex depression after nerve stimulation), which gives its existence and sign but no
#: steady tone gain. Hence "none" for the gains' size.
ESTIMATE_GRADE = "none"
#: How the grade reads in sentences (explanations, the command line).
ESTIMATE_LABEL = "estimate, unsourced"
#: Grade when the model's coupling source cites something other than an estimate: the file does
#: not grade it, and this module does not guess.
UNGRADED = "not graded"


@dataclass(frozen=True)
class CouplingEvidence:
    """What the model says about its coupling gains: their values, source and evidence grade."""

    grade: str  # ESTIMATE_GRADE for an estimate, else UNGRADED
    label: str  # short text for sentences ("estimate, unsourced")
    source: str  # the model file's coupling source, verbatim
    synergist_gain: float
    antagonist_gain: float

    def as_dict(self) -> dict:
        return {"grade": self.grade, "label": self.label, "source": self.source,
                "synergist_gain": self.synergist_gain, "antagonist_gain": self.antagonist_gain}


def coupling_evidence(model: Model) -> CouplingEvidence:
    """The coupling's evidence as the model file states it (grade derived from the source)."""
    c = model.coupling
    estimate = c.source.strip().lower().startswith("estimate")
    return CouplingEvidence(ESTIMATE_GRADE if estimate else UNGRADED,
                            ESTIMATE_LABEL if estimate else f"source: {c.source}", c.source,
                            float(c.synergist_gain), float(c.antagonist_gain))


#: Split states (:attr:`Split.state`).
APPLIED = "applied"  # the coupling changed some activation; the coupling-off solve gives the mechanics
OFF = "off"  # coupling=False was requested: everything is mechanics
NO_EFFECT = "no effect"  # coupling on, but it changed no activation (zero gains, or no tone change)
FAILED = "failed"  # the coupling-off solve found no posture: the shares are unknown (NaN)

DEFINITION = ("mechanics = the same tone, tightness and position solved with the coupling off "
              "(simulate(..., coupling=False)) against the same baseline; coupling = total - mechanics")


def _exact_parts(total: float, mech: float) -> tuple[float, float]:
    """``(mech, total - mech)`` adjusted by an ulp or two so that the parts add up to ``total``
    exactly in floating point, where that is possible: first the rest ``total - mech`` and its
    neighbours, then ``mech`` recomputed from the rest, then ``mech`` moved by one ulp of itself
    (far below the solver's tolerance) and again. It is not always possible (a ``total`` much
    smaller than the parts, with bits below their last place); then the parts add up to ``total``
    within an ulp of the larger part."""
    if not (math.isfinite(mech) and math.isfinite(total)):
        return mech, total - mech
    m = mech
    for _ in range(4):
        c = total - m
        if m + c == total:
            return m, c
        m2 = total - c
        if m2 + c == total:
            return m2, c
        for direction in (math.inf, -math.inf):
            cc = c
            for _ in range(3):
                cc = math.nextafter(cc, direction)
                if m + cc == total:
                    return m, cc
        m = math.nextafter(m, math.inf)
    return mech, total - mech


def _build(result: Result, solve: Callable[..., Result], uncoupled: np.ndarray) -> dict:
    model = result._state["mech"].model
    requested = bool(result._state.get("coupling", True))
    act = result._state["act"]
    same = np.array_equal(act, uncoupled)
    measures = list(result.metrics)
    totals = {k: float(result.metrics[k] - result.baseline_metrics[k]) for k in measures}
    off = None
    if same:
        state = OFF if not requested else NO_EFFECT
        mech = dict(totals)
        message = ("the coupling is off for this result (coupling=False): all of each change is mechanics"
                   if state == OFF else
                   "the coupling changed no muscle's activation (zero gains or no tone change): all of each "
                   "change is mechanics")
        off = result
    else:
        off = solve(model, dict(result.tone), result.position, tightness=dict(result.tightness),
                       coupling=False, frames=False)
        if off.ok:
            state = APPLIED
            mech = {k: float(off.change[k]) for k in measures}
            message = DEFINITION
        else:
            state = FAILED
            mech = dict.fromkeys(measures, float("nan"))
            message = ("with the coupling off no posture was found for this request, so how much of each change "
                       f"is mechanics is unknown (NaN): {off.message}")
        if not result.ok:
            message = (f"this result found no posture (its changes are NaN); with the coupling off: "
                       f"{'a posture exists, its changes are the mechanics column' if off.ok else off.message}")
    rows = {}
    for k in measures:
        t, m = totals[k], mech[k]
        if same:
            c = 0.0 if math.isfinite(t) else float("nan")
        else:
            m, c = _exact_parts(t, m)
        rows[k] = MappingProxyType({"total": t, "mechanics": m, "coupling": c})
    coupled_delta = {mid: float(a - r) for mid, a, r in zip(model.muscle_ids, act, uncoupled)
                     if abs(a - r) > 1e-12}
    return {"measures": rows, "state": state, "message": message, "mechanics_result": off,
            "coupling_activation": MappingProxyType(coupled_delta)}


class Split(Mapping):
    """``{measure: {"total": d, "mechanics": d_off, "coupling": d - d_off}}`` for one result (see the
    module docstring), built on first read; also :attr:`state`, :attr:`message`, :attr:`evidence`,
    :attr:`coupling_activation` and :attr:`mechanics_result`."""

    def __init__(self, result: Result, solve: Callable[..., Result], uncoupled: np.ndarray):
        """``solve`` (:func:`musclesim.simulate`, passed in so this module stays below the simulation
        layer) solves the coupling-off request; ``uncoupled`` (M,) is the activation the request
        asks for before any coupling."""
        self._parts = LazyMapping(partial(_build, result, solve, uncoupled))
        self._evidence = coupling_evidence(result._state["mech"].model)

    def __getitem__(self, measure: str) -> Mapping[str, float]:
        return self._parts["measures"][measure]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts["measures"])

    def __len__(self) -> int:
        return len(self._parts["measures"])

    def __repr__(self) -> str:
        return f"Split({self.state!r}, {dict(self._parts['measures'])!r})"

    @property
    def state(self) -> str:
        """``"applied"`` (the coupling changed tones; mechanics from the coupling-off solve), ``"off"``
        (``coupling=False`` was requested), ``"no effect"`` (coupling on but no tone changed through it)
        or ``"failed"`` (the coupling-off solve found no posture: mechanics and coupling are NaN)."""
        return self._parts["state"]

    @property
    def ok(self) -> bool:
        """True when both parts are known (not ``"failed"``; the result itself may still have failed)."""
        return self.state != FAILED

    @property
    def message(self) -> str:
        """How the split was made, or why part of it is unknown."""
        return self._parts["message"]

    @property
    def evidence(self) -> CouplingEvidence:
        """The model's coupling gains, their source and evidence grade (no solve needed)."""
        return self._evidence

    @property
    def coupling_activation(self) -> Mapping[str, float]:
        """Activation the coupling added to each muscle it changed (after minus before coupling)."""
        return self._parts["coupling_activation"]

    @property
    def mechanics_result(self) -> Result:
        """The coupling-off :class:`~musclesim.Result` (the result itself when the coupling changed nothing)."""
        return self._parts["mechanics_result"]

    def as_dict(self) -> dict:
        """Plain data for JSON: the state, message, evidence and per-measure parts (NaN as None)."""
        def num(v):
            return None if isinstance(v, float) and math.isnan(v) else v

        return {"state": self.state, "message": self.message, "evidence": self.evidence.as_dict(),
                "coupling_activation": dict(self.coupling_activation),
                "measures": {k: {p: num(v) for p, v in row.items()} for k, row in self.items()}}


def relative(result: Result, reference: Result, measure: str) -> dict[str, float]:
    """The split of ``result.metrics[measure] - reference.metrics[measure]`` for any reference in the
    same position (the baseline, or another scenario as a claim compares): both splits are against
    the same baseline, so the mechanics of the difference is the difference of their mechanics."""
    total = float(result.metrics[measure] - reference.metrics[measure])
    a, b = result.split[measure], reference.split[measure]
    mech = float(a["mechanics"] - b["mechanics"])
    if reference.split.state in (OFF, NO_EFFECT) and result.split.state in (OFF, NO_EFFECT):
        return {"total": total, "mechanics": total, "coupling": 0.0}
    mech, coup = _exact_parts(total, mech)
    return {"total": total, "mechanics": mech, "coupling": coup}
