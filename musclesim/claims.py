"""The claims catalogue: the articles' posture claims as executable checks with computed verdicts.

The catalogue is data (``musclesim/data/claims.toml``); this module loads it and computes each
claim's verdict from the mechanics:

* ``outside scope`` -- the claim is marked so, with the reason (organs, emotions, planes or
  positions the model does not have);
* ``contradicted by another article`` -- articles state opposite things and the model cannot
  decide between them (the claim names the other claim);
* ``reproduced`` -- every expected change appears in the claimed direction and reaches the
  smallest meaningful size (:data:`NO_CHANGE`);
* ``not reproduced`` -- otherwise, with the mechanical reason (the measured changes and, for
  standing, the explanation's top causes).

Verdicts are never typed in: ``expected_verdict`` in the file is what review recorded, and
``tests/test_claims.py`` fails when the computed verdict differs.

:func:`judge` is the one claim-verdict engine of the package: given expectations (a measure or a
muscle force, and a direction) and two results, it returns each expectation's status and the
overall verdict. :func:`evaluate` (the catalogue, CLI) and ``dashboard.presets.verdict`` (the
article presets) both call it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

import numpy as np

VERDICTS = ("reproduced", "not reproduced", "contradicted by another article", "outside scope")

#: The smallest change that counts, per unit (a change of smaller size is "no change"); one
#: threshold per unit for every verdict in the package (:func:`judge`).
#:
#: The question a verdict answers is whether the *mechanics* moves a measure in the claimed
#: direction, not whether a clinician could detect it (that is the evidence grade's job; the
#: minimal detectable change of a radiographic angle is several degrees). The solver's own
#: resolution is far finer (residual < 1e-6 N·m: pose errors ~1e-7 deg), so the threshold is set
#: by what a reader sees: a change is shown as the value's last displayed digit, and smaller
#: changes read as "+0.0" and must not be called a reproduction.
#:
#: * ``deg`` 0.1 -- angles are shown to 0.1 deg (tables, dashboard, explanations). 0.2 deg (the
#:   dashboard's former value) would call the 0.16 deg hip rotation of claim C24 "no change"
#:   although every display shows it; no verdict of the catalogue or the presets lies between 0.1
#:   and 0.2, so this unification flips none.
#: * ``mm`` 1.0 and ``mmHg`` 1.0 -- distances and pressures are shown in whole units.
#: * ``N`` 5.0 -- forces are shown in whole newtons, but a 1 N change is 0.2 % of the standing
#:   lumbar compression (~600 N) and 1 % of the weakest muscle's F0 (psoas minor, 100 N); 5 N is
#:   ~1 % of the compression and the weight of half a kilogram.
#: * ``N·m`` 0.5 -- about 3 % of the standing balance effort (~18 N·m) and the moment of that
#:   half kilogram on a 10 cm lever.
NO_CHANGE: Mapping[str, float] = MappingProxyType({"deg": 0.1, "mm": 1.0, "mmHg": 1.0, "N": 5.0, "N·m": 0.5})
#: Directions an expectation may claim ("either": a change of any sign).
DIRECTIONS = ("up", "down", "either")
#: Status of one expectation, as :func:`judge` gives it.
STATUSES = ("reproduced", "opposite", "no change", "not modelled", "no posture")
#: Overall verdicts of :func:`judge`.
JUDGEMENTS = ("reproduced", "partly reproduced", "not reproduced", "outside the model's scope", "no stable posture")


@dataclass(frozen=True)
class Expectation:
    """One measure (or muscle force, N) a claim is about, and the direction it claims."""

    direction: str
    measure: str = ""
    muscle_force: str = ""

    def __post_init__(self):
        if self.direction not in DIRECTIONS or not (self.measure or self.muscle_force):
            raise ValueError(f"an expectation needs a measure or muscle_force and a direction in {DIRECTIONS}; "
                             f"got {self}")

    @classmethod
    def of(cls, e) -> Expectation:
        """``e`` as an Expectation (from a mapping with ``direction`` and ``measure`` or ``muscle_force``)."""
        if isinstance(e, Expectation):
            return e
        return cls(e["direction"], e.get("measure", ""), e.get("muscle_force", ""))

    @property
    def key(self) -> str:
        """The measure's name, or ``force:<muscle id>``."""
        return self.measure or f"force:{self.muscle_force}"

    @property
    def label(self) -> str:
        """The measure's name, or ``force of <muscle id>`` (for sentences)."""
        return self.measure or f"force of {self.muscle_force}"

    def unit(self, units: Mapping[str, str] | None = None) -> str:
        """The unit of the change: ``units[measure]`` if given, else the registry's; N for a force."""
        if not self.measure:
            return "N"
        from .metrics import MEASURES

        unit = (units or {}).get(self.measure) or (MEASURES[self.measure].unit if self.measure in MEASURES else "")
        return unit

    def value(self, result) -> float | None:
        """The expected quantity in ``result`` (None when the result has no such measure or muscle)."""
        table = result.metrics if self.measure else result.muscle_force_N
        v = table.get(self.key if self.measure else self.muscle_force) if hasattr(table, "get") else None
        return None if v is None else float(v)


@dataclass(frozen=True)
class Check:
    """The status of one expectation: ``change`` = value - reference (in ``unit``; None when not
    computed), ``threshold`` the :data:`NO_CHANGE` size it was held to."""

    expectation: Expectation
    status: str
    unit: str
    change: float | None = None
    value: float | None = None
    reference: float | None = None
    threshold: float = float("nan")
    message: str = ""

    def as_row(self) -> dict:
        """The row ``dashboard.presets.verdict`` returns (keys as the dashboard reads them)."""
        e = self.expectation
        row = {"key": e.key, "direction": e.direction, "change": self.change, "unit": self.unit, "status": self.status}
        if self.status == "no posture" and self.change is None:
            row["message"] = self.message
        elif self.change is not None:
            row.update(value=self.value, reference=self.reference)
        return row


@dataclass(frozen=True)
class Judgement:
    """:func:`judge`'s answer: one :class:`Check` per expectation (in order) and the verdict."""

    checks: tuple[Check, ...]
    verdict: str


def _threshold(unit: str) -> float:
    try:
        return NO_CHANGE[unit]
    except KeyError:
        raise ValueError(f"no no-change threshold for unit {unit!r} (claims.NO_CHANGE has {list(NO_CHANGE)})") from None


def judge(expectations, result, reference, units: Mapping[str, str] | None = None) -> Judgement:
    """The verdict on expectations, comparing ``result`` with ``reference``.

    ``expectations``: :class:`Expectation` objects or mappings (``direction`` up / down /
    either, and ``measure`` or ``muscle_force``). ``result`` and ``reference`` are
    :class:`~musclesim.Result` objects (or anything with ``metrics``, ``muscle_force_N`` and
    optionally ``ok``, ``message``). ``units`` overrides the registry's unit of a measure.

    Each expectation's status (:data:`STATUSES`): ``no posture`` when either solve failed (or the
    change is not finite), ``not modelled`` when a result lacks the quantity, ``no change`` when
    the change is smaller than :data:`NO_CHANGE` of its unit, else ``reproduced`` when its sign
    is the claimed one (any sign for "either") and ``opposite`` otherwise.

    The verdict (:data:`JUDGEMENTS`): ``no stable posture`` if any expectation has no posture;
    ``outside the model's scope`` if none is testable (reproduced, opposite or no change);
    ``reproduced`` if every expectation is reproduced; ``partly reproduced`` if some are;
    ``not reproduced`` if none is.
    """
    solved = getattr(result, "ok", True) and getattr(reference, "ok", True)
    failed = result if not getattr(result, "ok", True) else reference
    checks = []
    for e in map(Expectation.of, expectations):
        unit = e.unit(units)
        if not solved:
            checks.append(Check(e, "no posture", unit, message=getattr(failed, "message", "")))
            continue
        v, b = e.value(result), e.value(reference)
        if v is None or b is None:
            checks.append(Check(e, "not modelled", unit))
            continue
        d = v - b
        thr = _threshold(unit)
        if not math.isfinite(d):
            status = "no posture"
        elif (abs(d) if e.direction == "either" else d if e.direction == "up" else -d) >= thr:
            status = "reproduced"
        elif abs(d) < thr:
            status = "no change"
        else:
            status = "opposite"
        checks.append(Check(e, status, unit, d, v, b, thr))
    statuses = [c.status for c in checks]
    testable = [s for s in statuses if s in ("reproduced", "opposite", "no change")]
    if "no posture" in statuses:
        verdict = "no stable posture"
    elif not testable:
        verdict = "outside the model's scope"
    elif statuses.count("reproduced") == len(statuses):
        verdict = "reproduced"
    elif "reproduced" in statuses:
        verdict = "partly reproduced"
    else:
        verdict = "not reproduced"
    return Judgement(tuple(checks), verdict)


@dataclass(frozen=True)
class Claim:
    """One claim of the catalogue (see the file's header for the fields)."""

    id: str
    claim: str
    articles: tuple[str, ...]
    grade: str
    evidence: str
    expected_verdict: str
    scenario: Mapping = field(default_factory=dict)
    compare: object = "baseline"
    expect: tuple[Mapping, ...] = ()
    scope: str = "in"
    reason: str = ""
    contradicted_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The computed verdict of a claim, with the numbers behind it."""

    claim: Claim
    verdict: str
    reason: str
    changes: Mapping[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        c = self.claim
        return {"id": c.id, "claim": c.claim, "articles": list(c.articles), "verdict": self.verdict,
                "expected_verdict": c.expected_verdict, "reason": self.reason, "grade": c.grade,
                "evidence": c.evidence, "changes": dict(self.changes), "scenario": _plain(c.scenario),
                "compare": _plain(c.compare)}


def _plain(x):
    if isinstance(x, Mapping):
        return {k: _plain(v) for k, v in x.items()}
    return x


@lru_cache(maxsize=1)
def catalogue() -> tuple[Claim, ...]:
    """All claims, in file order (read once; the data is immutable)."""
    import tomllib

    text = resources.files("musclesim").joinpath("data/claims.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    out = []
    for raw in data["claim"]:
        raw = dict(raw)
        for key in ("articles", "expect", "contradicted_by"):
            if key in raw:
                raw[key] = tuple(raw[key])
        out.append(Claim(**raw))
    ids = [c.id for c in out]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate claim ids in claims.toml")
    for c in out:
        if c.expected_verdict not in VERDICTS:
            raise ValueError(f"claim {c.id}: expected_verdict {c.expected_verdict!r} not one of {VERDICTS}")
        for other in c.contradicted_by:
            if other not in ids:
                raise ValueError(f"claim {c.id}: contradicted_by names unknown claim {other!r}")
    return tuple(out)


def claim(claim_id: str) -> Claim:
    """One claim by id. Raises :class:`~musclesim.errors.UnknownNameError` with close ids."""
    from .errors import UnknownNameError

    for c in catalogue():
        if c.id == claim_id:
            return c
    err = UnknownNameError(claim_id, [c.id for c in catalogue()])
    raise err


def _run(model, spec: Mapping):
    from .simulation import baseline, simulate

    position = spec.get("position", "standing")
    if not spec.get("tone") and not spec.get("tightness"):
        return baseline(model, position)
    return simulate(model, dict(spec.get("tone", {})), position, tightness=dict(spec.get("tightness", {})),
                    coupling=bool(spec.get("coupling", True)))


def evaluate(model, c: Claim) -> Verdict:
    """Compute the verdict of claim ``c`` with ``model`` (its expectations judged by :func:`judge`:
    ``reproduced`` only when every one is)."""
    if c.scope == "outside":
        return Verdict(c, "outside scope", c.reason)
    if not c.expect:
        if c.contradicted_by:
            others = [claim(o) for o in c.contradicted_by]
            said = "; ".join(f"{o.id} ({', '.join(o.articles)}): {o.claim}" for o in others)
            return Verdict(c, "contradicted by another article", f"the opposite is stated in {said}")
        return Verdict(c, "outside scope", c.reason or "no measurable expectation")
    res = _run(model, c.scenario)
    position = c.scenario.get("position", "standing")
    ref = _run(model, {"position": position}) if c.compare == "baseline" else _run(model, {"position": position, **c.compare})
    if not (res.ok and ref.ok):
        bad = res if not res.ok else ref
        return Verdict(c, "not reproduced", f"the model finds no posture for the scenario: {bad.message}")
    checks = judge(c.expect, res, ref).checks
    changes = {k.expectation.label: float("nan") if k.change is None else k.change for k in checks}
    misses = [k for k in checks if k.status != "reproduced"]
    disagree = ""
    if c.contradicted_by:
        disagree = " The articles disagree here: " + " ".join(
            f"{o.id} says: {o.claim}" for o in (claim(i) for i in c.contradicted_by))
    if not misses:
        return Verdict(c, "reproduced", "every expected change appears: " + _fmt(changes) + "." + disagree, changes)
    miss = misses[0]
    name, unit, direction, measure = miss.expectation.label, miss.unit, miss.expectation.direction, miss.expectation.measure
    if miss.change is None:
        reason = f"{name} is not modelled (claimed: {direction})"
        delta = float("nan")
    else:
        delta = miss.change
        reason = f"{name} changes by {delta:+.2f} {unit} (claimed: {direction}, at least {miss.threshold:g} {unit})"
    sided = [o for o in c.contradicted_by if _reproduced_alone(model, claim(o))]
    if sided:  # the mechanics gives what the other article says
        return Verdict(c, "contradicted by another article",
                       reason + f"; the mechanics sides with {', '.join(sided)}." + disagree, changes)
    if measure and position == "standing" and abs(delta) >= 1e-3:
        from .explanation import explain

        try:
            why = explain(res, ref, measures=[measure])[measure]
            reason += ". " + why.text
        except ValueError:
            pass
    elif measure and math.isfinite(delta) and abs(delta) < 1e-3:
        reason += ". " + _no_change_reason(measure)
    return Verdict(c, "not reproduced", reason.rstrip(".") + "." + disagree, changes)


def _reproduced_alone(model, c: Claim) -> bool:
    """Whether claim ``c``'s own expectations appear (without looking at its contradictions)."""
    if not c.expect:
        return False
    return evaluate(model, replace(c, contradicted_by=())).verdict == "reproduced"


#: The bones of the rib cage and the head: a measure read on these only is held by the regulation.
_HELD_BONES = frozenset({"thorax_lower", "thorax_upper", "head_neck"})


def _no_change_reason(measure: str) -> str:
    from .metrics import MEASURES

    if set(MEASURES[measure].bones) <= _HELD_BONES:
        return ("The postural regulation keeps the rib cage upright and the gaze level, so pulls below the rib "
                "cage cannot move the thoracic curve or the head; the back extensors take up the pull instead")
    return "The mechanics gives no change of this measure"


def _fmt(changes: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:+.2f}" for k, v in changes.items())


def evaluate_all(model=None) -> list[Verdict]:
    """Verdicts of the whole catalogue (default model if none given)."""
    if model is None:
        from .io import load_model

        model = load_model()
    return [evaluate(model, c) for c in catalogue()]


def validation_rows(model) -> list[dict]:
    """The model against measurements (not articles): each row has the model's number, the
    published one and the difference (written to docs/validation.md by tools/make_validation.py)."""
    from .simulation import baseline, simulate

    base = baseline(model).metrics
    pi = base["pelvic_incidence_deg"]
    rows = []
    for label, tone, published in (("anterior tilt (hip flexor tone: psoas 0.3)", {"psoas_major": 0.3}, 10.8 / 11.4),
                                   ("posterior tilt (glute tone 0.3)", {"glutes": 0.3}, -9.0 / -8.7)):
        r = simulate(model, tone)
        ratio = r.change["lumbar_lordosis_deg"] / r.change["pelvic_tilt_deg"]
        rows.append({"quantity": f"lordosis change / pelvic-tilt change, {label}", "model": ratio,
                     "published": published, "source": "Levine & Whittle 1996 (voluntary tilts within a person)"})
    for name, slope, icpt in (("lumbar_lordosis_deg", 0.54, 27.6), ("radiographic_pelvic_tilt_deg", 0.44, -11.4),
                              ("sacral_slope_deg", 0.54, 11.9)):
        rows.append({"quantity": f"{name} at PI {pi:.1f} deg", "model": base[name], "published": slope * pi + icpt,
                     "source": f"Le Huec & Hasegawa 2016 regression ({slope} PI {icpt:+g})"})
    from .lateral import solve_lateral

    st = baseline(model)._state
    lifts_mm = np.array([6.0, 10.0, 15.0, 22.0])
    obliq = np.array([solve_lateral(st["mech"], st["eq"].q, st["act"], st["eq"].lam, lift_m=h / 1000.0)
                      .metrics["pelvic_obliquity_deg"] for h in lifts_mm])
    slope = float(np.polyfit(lifts_mm, obliq, 1)[0])
    rows.append({"quantity": "pelvic obliquity per mm of lift under one foot (6-22 mm; standing, knees straight)",
                 "model": slope, "published": 1.2 / 15.0,
                 "source": "Young 2000: lifts of 15 mm or more give at least 1.2 deg of lateral pelvic tilt (a lower "
                           "bound); Cummings 1993: about linear for 6-22 mm (model: linear, "
                           f"{obliq[0]:.1f}-{obliq[-1]:.1f} deg). The model's legs do not bend or pronate to compensate"})
    for r in rows:
        r["difference"] = r["model"] - r["published"]
    return rows


#: The hip muscles whose tone sweeps test that lordosis follows pelvic tilt (issue 16).
TILT_MUSCLES = ("psoas_major", "iliacus", "gluteus_maximus", "hamstrings")
#: Tones (both sides) of those sweeps.
TILT_TONES = tuple(np.round(np.linspace(0.0, 0.5, 11), 3))


def lordosis_tilt_ratio(model, muscle: str, coupling: bool = True, tones=TILT_TONES) -> dict:
    """dLL/dPT over a tone sweep of ``muscle`` (both sides) in standing: the least-squares slope of the
    lumbar lordosis change on the pelvic tilt change over the sweep's standing postures (deg/deg),
    with the tilt range it spans and the number of postures found. Within-person voluntary tilts
    give about 1 in both directions (Levine & Whittle 1996)."""
    from .simulation import simulate

    pt, ll = [], []
    for t in tones:
        r = simulate(model, {muscle: float(t)}, coupling=coupling)
        if r.ok:
            pt.append(r.change["pelvic_tilt_deg"])
            ll.append(r.change["lumbar_lordosis_deg"])
    pt, ll = np.array(pt), np.array(ll)
    ratio = float(np.polyfit(pt, ll, 1)[0]) if pt.size >= 3 and np.ptp(pt) > 0.2 else float("nan")
    return {"muscle": muscle, "coupling": coupling, "ratio": ratio, "n": int(pt.size),
            "tilt_min": float(pt.min()) if pt.size else float("nan"),
            "tilt_max": float(pt.max()) if pt.size else float("nan")}


def range_of_motion_rows(model, tones=(0.0, 0.5, 1.0)) -> list[dict]:
    """Per joint: the smallest and largest angle (deg from the reference) over every muscle's tone
    at ``tones`` (one muscle at a time, standing, coupling on), the joint's range, and how many of
    those postures put it outside the range."""
    from .simulation import simulate

    names = [j.id for j in model.joints]
    lo = {n: math.inf for n in names}
    hi = {n: -math.inf for n in names}
    out = dict.fromkeys(names, 0)
    solved = 0
    for mid in dict.fromkeys(i.muscle.id for i in model.instances):
        for t in tones:
            r = simulate(model, {mid: float(t)})
            if not r.converged:
                continue
            solved += 1
            for n, a in r.pose_deg.items():
                lo[n], hi[n] = min(lo[n], a), max(hi[n], a)
                rng = model.joint(n).range_deg
                out[n] += not (rng[0] <= a <= rng[1])
    return [{"joint": n, "min_deg": lo[n], "max_deg": hi[n], "range_deg": model.joint(n).range_deg,
             "outside": out[n], "postures": solved} for n in names if n in hi and hi[n] > -math.inf]


def _mechanism(res, base, measure: str | None) -> str:
    """The largest contributor to ``measure``'s change and the joint that carries it, in words
    (``musclesim.explain``); empty where explain declines (a failed solve, a lying position)."""
    if measure is None or not (res.ok and base.ok):
        return ""
    from .explanation import explain

    try:
        e = explain(res, base, measures=[measure]).get(measure)
    except ValueError:
        return ""
    if e is None or not e.drivers:
        return ""
    name, share = e.drivers[0]
    return f"{name} {share:+.2f} {e.unit} (at {e.joint})"


def _describe(spec) -> str:
    parts = [f"{k} {v:g}" for k, v in dict(spec.get("tone", {})).items()]
    parts += [f"{k} tight {v:g} deg" for k, v in dict(spec.get("tightness", {})).items()]
    where = spec.get("position", "standing")
    return ((", ".join(parts) or "resting tone") + ("" if where == "standing" else f", {where}")
            + ("" if spec.get("coupling", True) else " (coupling off)"))


def claim_rows(model) -> list[dict]:
    """For every testable claim of the catalogue and each of its expected changes: the change, its
    mechanics and coupling parts, and the claim's verdict with the coupling on (as the catalogue
    computes it) and off (the scenario and what it is compared with, both solved with
    ``coupling=False``). ``depends_on_coupling`` is True when the two verdicts differ.
    Written to docs/validation.md by tools/make_validation.py."""
    from dataclasses import replace

    from .attribution import _exact_parts
    from .simulation import baseline, simulate

    def run(spec):
        position = spec.get("position", "standing")
        if not spec.get("tone") and not spec.get("tightness"):
            return baseline(model, position)
        return simulate(model, dict(spec.get("tone", {})), position, tightness=dict(spec.get("tightness", {})),
                        coupling=bool(spec.get("coupling", True)), frames=False)

    rows = []
    for c in catalogue():
        if c.scope == "outside" or not c.expect:
            continue
        on = evaluate(model, c)
        off_compare = c.compare if c.compare == "baseline" else {**c.compare, "coupling": False}
        off = evaluate(model, replace(c, scenario={**c.scenario, "coupling": False}, compare=off_compare))
        position = c.scenario.get("position", "standing")
        res = run(c.scenario)
        ref = run({"position": position} if c.compare == "baseline" else {"position": position, **c.compare})
        for e in c.expect:
            if "measure" in e:
                name = e["measure"]

                def get(r, name=name):
                    return float(r.metrics[name])
            else:
                name = f"force of {e['muscle_force']} (N)"

                def get(r, m=e["muscle_force"]):
                    return float(r.muscle_force_N[m]) if r.ok else float("nan")
            total = get(res) - get(ref)
            if res.split.ok and ref.split.ok:
                mech, coup = _exact_parts(total, get(res.split.mechanics_result) - get(ref.split.mechanics_result))
            else:
                mech = coup = float("nan")
            mechanism = _mechanism(res, ref, e.get("measure")) if c.compare == "baseline" else ""
            rows.append({"id": c.id, "scenario": _describe(c.scenario), "mechanism": mechanism,
                         "compare": "baseline" if c.compare == "baseline" else _describe(
                             {"position": position, **c.compare}),
                         "quantity": name, "direction": e["direction"], "total": total, "mechanics": mech,
                         "coupling": coup, "verdict": on.verdict, "verdict_coupling_off": off.verdict,
                         "depends_on_coupling": on.verdict != off.verdict})
    return rows
