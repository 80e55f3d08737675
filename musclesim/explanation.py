"""Why a measure changed: ranked causes from the mechanics and the path through the graph.

For a result and its baseline, :func:`explain` gives for every measure that changed:

* ``drivers`` -- the share of the change due to each muscle whose activation changed. A step of
  the tone change alters each muscle's moments at the current pose (its "drive" ``dQ_i``); the
  regulated equilibrium turns drives into posture by the linear response ``dz = -J^-1 [dQ_i; 0]``
  (``J`` the solver's Jacobian), and the measure's gradient turns posture into the measure:
  ``share_i = grad m . dq_i``. The shares are integrated along the path from the baseline (the
  equilibria at 25/50/75/100 % of the way, :mod:`musclesim.path`; trapezoid rule), because muscle responses saturate (short-range stiffness grows with
  activation). They add up to ``linear_estimate``; ``nonlinear_remainder`` is what is left.
* ``moments`` -- a waterfall at the joint that carries most of the change: how each contributor's
  moment there (each muscle, gravity, passive structures, regulation) differs between the result
  and the baseline, largest first. Both postures are equilibria, so these changes sum to ~0: what
  the drivers add, the rest takes up.
* ``path`` -- the graph path from the strongest driver to the measure (muscle -> joint -> bone ->
  measure), for the dashboard's propagation view.
* ``mechanics`` and ``coupling`` -- how much of the change the mechanics gives with the tone
  coupling off and how much the assumed coupling adds (``change = mechanics + coupling``; see
  :mod:`musclesim.attribution`), with the coupling's evidence grade and source
  (``coupling_grade``, ``coupling_source``).
* ``text`` -- a plain-language summary generated from these numbers, ending with the split.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from .mechanics import _lengths, muscle_force_N, pose_geometry, prepare, with_tendons
from .metrics import MEASURES
from .simulation import Result

#: Changes smaller than this (in the measure's unit) are not explained.
MIN_CHANGE = 1e-3
FD_STEP = 1e-6


@dataclass(frozen=True)
class Explanation:
    """The causes of one measure's change."""

    measure: str
    unit: str
    baseline: float
    value: float
    change: float
    drivers: tuple[tuple[str, float], ...]  # (muscle id, share of the change), largest first
    linear_estimate: float
    nonlinear_remainder: float
    joint: str  # the joint whose motion carries most of the change
    moments: tuple[tuple[str, float], ...]  # (contributor, change of its moment at ``joint``, N·m)
    path: tuple[str, ...]
    text: str
    #: The part of ``change`` the mechanics gives with the coupling off, and the part the assumed
    #: tone coupling adds (``change = mechanics + coupling``; :attr:`musclesim.Result.split`). NaN
    #: when the coupling-off solve found no posture.
    mechanics: float = float("nan")
    coupling: float = float("nan")
    #: The coupling gains' evidence grade (``musclesim.attribution.ESTIMATE_GRADE`` for an
    #: estimate) and the model file's source for them.
    coupling_grade: str = ""
    coupling_source: str = ""

    def as_dict(self) -> dict:
        return {
            "measure": self.measure, "unit": self.unit, "baseline": self.baseline, "value": self.value,
            "change": self.change, "drivers": [list(d) for d in self.drivers],
            "linear_estimate": self.linear_estimate, "nonlinear_remainder": self.nonlinear_remainder,
            "joint": self.joint, "moments": [list(m) for m in self.moments], "path": list(self.path),
            "text": self.text,
            "split": {"total": self.change, "mechanics": _num(self.mechanics), "coupling": _num(self.coupling)},
            "coupling_grade": self.coupling_grade, "coupling_source": self.coupling_source,
        }


def _num(v: float):
    return None if isinstance(v, float) and np.isnan(v) else v


def _with_split(result: Result, baseline: Result, e: Explanation) -> Explanation:
    """``e`` with its mechanics/coupling split (:func:`musclesim.attribution.relative`) and a
    sentence about it appended to the text."""
    from dataclasses import replace

    from .attribution import FAILED, relative

    sp = relative(result, baseline, e.measure)
    ev = result.split.evidence
    mech, coup = sp["mechanics"], sp["coupling"]
    on = {result.split.state, baseline.split.state}
    if FAILED in on:
        why = result.split if result.split.state == FAILED else baseline.split
        extra = f"How much of it is mechanics is unknown: {why.message}."
    elif coup == 0.0 and not ({"applied"} & on):
        extra = ("All of it is mechanics: the tone coupling is off (coupling=False)." if "off" in on else
                 "All of it is mechanics: the tone coupling changed no muscle's tone here.")
    else:
        f = lambda v: _fmt(v if round(v, 1) else 0.0, e.unit)  # noqa: E731 (no "-0.0")
        extra = (f"Of the {f(e.change)}, {f(mech)} is mechanics (coupling off) and "
                 f"{f(coup)} the assumed tone coupling (evidence: {ev.label}, grade {ev.grade}).")
    return replace(e, text=e.text + " " + extra, mechanics=mech, coupling=coup, coupling_grade=ev.grade,
                   coupling_source=ev.source)


def explain(result: Result, baseline: Result, measures: list[str] | None = None, model=None,
            top: int = 6) -> dict[str, Explanation]:
    """Explain each changed measure of ``result`` relative to ``baseline``.

    ``model`` is the model both came from (defaults to the cached one they were solved with).
    Returns ``{measure: Explanation}`` for the measures whose change exceeds :data:`MIN_CHANGE`
    (or for ``measures`` if given). Raises :class:`~musclesim.errors.UnknownMeasureError` for an
    unknown measure name, :class:`~musclesim.errors.NotStandingError` (a ``ValueError``) if either
    result did not converge, and ``ValueError`` if they are in different positions.
    """
    from .errors import NotStandingError, UnknownMeasureError

    if not (result.ok and baseline.ok):
        raise NotStandingError("cannot explain a result that did not converge to a stable posture: " + result.message)
    if baseline.position != result.position:
        raise ValueError(f"a result is explained against the baseline in the same position; "
                         f"got {result.position!r} against {baseline.position!r}")
    mech = result._state["mech"] if model is None else prepare(model)
    names = list(result.metrics) if measures is None else list(measures)
    for name in names:
        if name not in result.metrics:
            raise UnknownMeasureError(name, result.metrics)
    if result.position != "standing":
        names = [k for k in names if np.isfinite(result.metrics[k])]
        return {k: _with_split(result, baseline, e)
                for k, e in _explain_lying(result, baseline, names, measures is None, top).items()}
    from .lateral import LATERAL_MEASURES

    side = [k for k in names if k in LATERAL_MEASURES]
    names = [k for k in names if k not in LATERAL_MEASURES]
    lateral = _explain_lateral(result, baseline, side, measures is None, top) if side else {}
    c = mech.chain
    n = mech.n
    bq = baseline._state["eq"].q
    lt_base = mech.chain.l_tendon_m if model is None else prepare(model).chain.l_tendon_m
    straight = result._state.get("path")  # musclesim.path.StraightPath: equilibria at fixed fractions of the way
    path = ([(a, q, lam, lt) for _, a, q, lam, lt in straight.states_at()] if straight is not None else
            [(baseline._state["act"], bq, baseline._state["eq"].lam, lt_base)])
    if len(path) == 1 or not np.allclose(path[-1][1], result._state["eq"].q):
        path = [path[0], (result._state["act"], result._state["eq"].q, result._state["eq"].lam, path[-1][3])]
    changed = np.flatnonzero((np.abs(path[-1][0] - path[0][0]) > 1e-12) | (np.abs(path[-1][3] - path[0][3]) > 1e-12))
    shares = {k: np.zeros(len(changed)) for k in names}
    # integrate the linear response along the path from the baseline (trapezoid rule over its states)
    states = [_linear_state(with_tendons(mech, lt), a, q, lam, names) for a, q, lam, lt in path]
    for k in range(1, len(path)):
        for st in (states[k - 1], states[k]):
            dz = _response(mech, st, path[k - 1], path[k], changed)
            for name in names:
                shares[name] += 0.5 * (st["grads"][name] @ dz[:n])
    G = result._state.get("graph")
    out: dict[str, Explanation] = {}
    for name in names:
        ch = result.metrics[name] - baseline.metrics[name]
        if measures is None and abs(ch) < MIN_CHANGE:
            continue
        g = states[0]["grads"][name]
        sh = shares[name]
        order = sorted(range(len(sh)), key=lambda i: (-round(abs(sh[i]), 9), c.muscle_names[changed[i]]))
        drivers = tuple((c.muscle_names[changed[i]], float(sh[i])) for i in order[:top] if abs(sh[i]) > 0)
        lin = float(sh.sum())
        dq = result._state["eq"].q - bq
        joint_idx = int(np.argmax(np.abs(g * dq))) if np.any(g * dq) else int(np.argmax(np.abs(g)))
        joint = c.dof_names[joint_idx]
        moments = _moment_waterfall(result, baseline, joint, top)
        path = _path(G, drivers[0][0] if drivers else None, name)
        info = MEASURES.get(name)
        unit = info.unit if info else ""
        out[name] = Explanation(name, unit, baseline.metrics[name], result.metrics[name], ch, drivers, lin,
                                ch - lin, joint, moments, path,
                                _sentence(name, unit, baseline.metrics[name], result.metrics[name], drivers, joint,
                                          moments, _coupled(result, baseline)))
    out.update(lateral)
    return {k: _with_split(result, baseline, e) for k, e in out.items()}


def _explain_lateral(result: Result, baseline: Result, names: list[str], only_changed: bool,
                     top: int) -> dict[str, Explanation]:
    """Explanations of the left-right measures (:mod:`musclesim.lateral`).

    The lateral equilibrium is linear in the muscles' pulls to first order, so each muscle's share
    is its own pull sent through the regulated lateral stiffness; a bilateral muscle's two sides
    are summed (equal pulls cancel), so what remains is the effect of the difference between them,
    named after the side whose tone changed more. ``joint`` is the coordinate that carries most of
    the change and ``moments`` the net (left-minus-right) moments about it, with the regulators'.
    """
    lat = result._state.get("lateral")
    if lat is None:
        return {}
    mech = result._state["mech"]
    model = mech.model
    ids = list(mech.chain.muscle_names)
    twin: dict[str, str] = {}
    for inst in model.instances:
        if inst.side != "midline":
            dt = abs(result.activation[inst.id] - baseline.activation[inst.id])
            other = inst.id.replace("_left", "_right") if inst.side == "left" else inst.id.replace("_right", "_left")
            do = abs(result.activation[other] - baseline.activation[other])
            twin[inst.id] = inst.id if dt > do or (dt == do and inst.side == "left") else other
    coupled = _coupled(result, baseline)
    out: dict[str, Explanation] = {}
    for name in names:
        ch = result.metrics[name] - baseline.metrics[name]
        if only_changed and abs(ch) < MIN_CHANGE:
            continue
        agg: dict[str, float] = {}
        for m, v in lat.contributions[name].items():
            key = twin.get(m, m)
            agg[key] = agg.get(key, 0.0) + v
        order = sorted(agg, key=lambda m: (-round(abs(agg[m]), 9), m))
        drivers = tuple((m, float(agg[m])) for m in order[:top] if abs(agg[m]) > 1e-9)
        lin = float(sum(agg.values()))
        # the coordinate through which the main driver moves this measure most
        top_ids = [i for i, m in enumerate(ids) if drivers and twin.get(m, m) == drivers[0][0]]
        via = lat.response[:, top_ids].sum(axis=1) if top_ids else lat.x
        j = int(np.argmax(np.sign(ch or 1.0) * lat.measure_gradient[name] * via))
        joint = lat.coordinates[j]
        mom: dict[str, float] = {}
        for i, m in enumerate(ids):
            key = twin.get(m, m)
            mom[key] = mom.get(key, 0.0) + float(lat.moment[j, i])
        mom["regulation:ankle_inversion"] = float(lat.regulation_moment[j, 0])
        mom["regulation:trunk_side"] = float(lat.regulation_moment[j, 1])
        rows = sorted(((k, v) for k, v in mom.items() if abs(v) > 1e-6), key=lambda r: (-round(abs(r[1]), 9), r[0]))
        moments = tuple(rows[:top])
        info = MEASURES.get(name)
        unit = info.unit if info else ""
        path = _path(result._state.get("graph"), drivers[0][0] if drivers else None, name)
        text = _sentence(name, unit, baseline.metrics[name], result.metrics[name], drivers, "", (), coupled)
        if moments:
            what = "force (N)" if joint.endswith("_m") else "moment (N·m)"
            text = text[:-1] + (f". About the {joint.replace('_m', '').replace('_', ' ')} axis, the net left-minus-right "
                                f"{what}: " + ", ".join(f"{k} ({v:+.1f})" for k, v in moments[:3]) + ".")
        out[name] = Explanation(name, unit, baseline.metrics[name], result.metrics[name], ch, drivers, lin, ch - lin,
                                joint, moments, path, text)
    return out


def _explain_lying(result: Result, baseline: Result, names: list[str], only_changed: bool,
                   top: int) -> dict[str, Explanation]:
    """Explanations for a lying position: the linear response of the contact equilibrium (its
    Jacobian by central differences) integrated along the continuation path (trapezoid rule; a
    step where a contact lifted off or touched down uses its end state only)."""
    from .mechanics import with_tendons as _wt

    mech = result._state["mech"]
    n = mech.n
    path = result._state.get("lying_path") or [
        (baseline._state["act"], baseline._state["tendon"], baseline._state["z"], baseline._state["position"]),
        (result._state["act"], result._state["tendon"], result._state["z"], result._state["position"])]
    a_first, lt_first = path[0][0], path[0][1]
    a_last, lt_last = path[-1][0], path[-1][1]
    changed = np.flatnonzero((np.abs(a_last - a_first) > 1e-12) | (np.abs(lt_last - lt_first) > 1e-12))
    shares = {k: np.zeros(len(changed)) for k in names}
    cache: dict[int, tuple] = {}

    def linear(i):
        if i not in cache:
            act, lt, z, pos = path[i]
            cache[i] = _lying_linear_state(_wt(mech, lt), pos, z, act, names)
        return cache[i]

    for k in range(1, len(path)):
        before, after = path[k - 1], path[k]
        ends = [k - 1, k] if before[3].contacts == after[3].contacts else [k]
        for i in ends:
            J, det, grads = linear(i)
            dz = _lying_response(_wt(mech, path[i][1]), J, det, before, after, changed, n)
            for name in names:
                shares[name] += (grads[name] @ dz[:n + 2]) / len(ends)
    c = mech.chain
    out: dict[str, Explanation] = {}
    for name in names:
        ch = result.metrics[name] - baseline.metrics[name]
        if only_changed and abs(ch) < MIN_CHANGE:
            continue
        sh = shares[name]
        order = sorted(range(len(sh)), key=lambda i: (-round(abs(sh[i]), 9), c.muscle_names[changed[i]]))
        drivers = tuple((c.muscle_names[changed[i]], float(sh[i])) for i in order[:top] if abs(sh[i]) > 0)
        dq = result._state["eq"].q - baseline._state["eq"].q
        joint = c.dof_names[int(np.argmax(np.abs(dq)))]
        moments = _moment_waterfall(result, baseline, joint, top)
        unit = MEASURES[name].unit if name in MEASURES else ""
        lin = float(sh.sum())
        out[name] = Explanation(name, unit, baseline.metrics[name], result.metrics[name], ch, drivers, lin, ch - lin,
                                joint, moments, _path(result._state.get("graph"), drivers[0][0] if drivers else None,
                                                      name),
                                _sentence(name, unit, baseline.metrics[name], result.metrics[name], drivers, joint,
                                          moments, _coupled(result, baseline)))
    return out


def _lying_linear_state(mech, pos, z, act, names):
    """Jacobian, residual details and measure gradients (w.r.t. q, floor pitch and offset) of a lying state."""
    from .positions import _fd_jacobian, residual
    from .simulation import lying_metrics

    n = mech.n

    def F(zz):
        return residual(mech, pos, zz, act, mech.chain.l_tendon_m)

    J = _fd_jacobian(F, z, F(z))
    _, det = residual(mech, pos, z, act, mech.chain.l_tendon_m, detail=True)
    grads = {k: np.zeros(n + 2) for k in names}
    for j in range(n + 2):
        e = np.zeros_like(z)
        e[j] = FD_STEP
        up, dn = lying_metrics(mech, pos, z + e, act), lying_metrics(mech, pos, z - e, act)
        for k in names:
            grads[k][j] = (up[k] - dn[k]) / (2 * FD_STEP)
    return J, det, grads


def _lying_response(mech, J, det, before, after, changed, n) -> np.ndarray:
    """Response of a lying state to each changed muscle's step from ``before`` to ``after``
    (path entries ``(activation, tendon lengths, z, contacts)``)."""
    return _step_response(mech, J, det["points"], det["moment_arm_m"], before[0], before[1], after[0], after[1],
                          changed)


def _step_response(mech, J, points, moment_arm_m, a0, lt0, a1, lt1, changed) -> np.ndarray:
    """Linear response ``-J^-1 [drive_i; 0]`` (len(z), len(changed)) to each changed muscle's step
    from (``a0``, ``lt0``) to (``a1``, ``lt1``): activation and tendon rest length, i.e. tone and
    tightness, with the moment change taken at the given pose (``points``, ``moment_arm_m``)."""
    n = mech.n
    if not len(changed):
        return np.zeros((J.shape[0], 0))
    l_mt = _lengths(mech, points)
    F0 = muscle_force_N(mech, a0, l_mt, lt0)
    rows = np.arange(len(changed))
    acts = np.repeat(a0[None], len(changed), 0)
    tend = np.repeat(lt0[None], len(changed), 0)
    acts[rows, changed] = a1[changed]
    tend[rows, changed] = lt1[changed]
    F1 = muscle_force_N(mech, acts, l_mt[None], tend)
    drives = np.zeros((len(changed), J.shape[0]))
    drives[:, :n] = (F1[rows, changed] - F0[changed])[:, None] * moment_arm_m[changed]
    return -np.linalg.solve(J, drives.T)


def _linear_state(mech, act, q, lam, names) -> dict:
    """What the linear response needs at one equilibrium: Jacobian, loads, measure gradients."""
    from .physics import compiled_model, residual
    from .physics.kinematics import workspace

    cm, st = compiled_model(mech)
    _, J = residual.residual_jacobian(cm, st, workspace(cm), np.concatenate((q, lam)),
                                      np.ascontiguousarray(act, dtype=float), mech.chain.l_tendon_m, True)
    points, _, _, arm, _ = pose_geometry(mech, q[None])
    return {"act": act, "q": q, "lam": lam, "J": J, "points": points[0], "arm": arm[0],
            "grads": _measure_gradients(mech, q, lam, act, names)}


def _response(mech, st, before, after, changed) -> np.ndarray:
    """Posture response (n+k, len(changed)) at state ``st`` to each changed muscle's step from the
    path state ``before`` to ``after`` (entries ``(activation, q, lam, tendon lengths)``)."""
    return _step_response(mech, st["J"], st["points"], st["arm"], before[0], before[3],
                          after[0], after[3], changed)


def _measure_gradients(mech, q, lam, act, names) -> dict[str, np.ndarray]:
    """d(measure)/dq at a pose by central differences (unit per rad): one batch of 2n poses."""
    from .mechanics import total_force
    from .metrics import measure_batch
    from .simulation import hip_extension_limit_deg

    n = mech.n
    E = np.eye(n) * FD_STEP
    qs = np.vstack((q + E, q - E))
    lams = np.broadcast_to(lam, (2 * n, len(lam)))
    points, joints, lengths, arm, trunk_dir = pose_geometry(mech, qs)
    force = total_force(mech, muscle_force_N(mech, act, lengths), lams)
    vals = measure_batch(mech.chain, points, joints, qs, force, arm, lams, trunk_dir, hip_extension_limit_deg(mech))
    return {k: (vals[k][:n] - vals[k][n:]) / (2 * FD_STEP) for k in names}


def _moment_waterfall(result: Result, baseline: Result, joint: str, top: int) -> tuple[tuple[str, float], ...]:
    a, b = result.moments[joint], baseline.moments[joint]
    keys = set(a) | set(b)
    rows = [(k, a.get(k, 0.0) - b.get(k, 0.0)) for k in keys]
    rows = [r for r in rows if abs(r[1]) > 1e-6]
    rows.sort(key=lambda r: (-round(abs(r[1]), 9), r[0]))  # ties (left/right twins) by name: deterministic
    if len(rows) > top:
        rest = sum(v for _, v in rows[top:])
        rows = rows[:top] + [("others", rest)]
    return tuple((k, float(v)) for k, v in rows)


def _path(G, muscle: str | None, measure: str) -> tuple[str, ...]:
    if G is None or muscle is None or muscle not in G or measure not in G:
        return ()
    H = nx.DiGraph()
    for u, v, d in G.edges(data=True):
        if d["type"] in ("crosses", "measured_on"):
            H.add_edge(u, v)
        elif d["type"] == "connects":  # joint -> bone, and bone -> joint so paths can pass joints
            H.add_edge(u, v)
            H.add_edge(v, u)
    try:
        return tuple(nx.shortest_path(H, muscle, measure))
    except nx.NetworkXNoPath:
        return ()


def _fmt(v: float, unit: str) -> str:
    return f"{v:+.1f} {unit}" if unit != "N" else f"{v:+.0f} N"


def _coupled(result: Result, baseline: Result) -> dict[str, float]:
    """Activation changes of muscles the user did not set (they changed through the coupling)."""
    mech = result._state["mech"]
    requested = set()
    names = mech.model.names()
    for k in result.tone:
        requested.update(names.get(k, ()))
    return {m: result.activation[m] - baseline.activation[m] for m in result.activation
            if m not in requested and abs(result.activation[m] - baseline.activation[m]) > 1e-9}


def _sentence(name, unit, before, after, drivers, joint, moments, coupled=None) -> str:
    info = MEASURES.get(name)
    label = name.replace("_deg", "").replace("_mm", "").replace("_Nm", "").replace("_N", "").replace("_", " ")
    verb = "rose" if after > before else "fell"
    s = f"{label.capitalize()} {verb} from {before:.1f} to {after:.1f} {unit}"
    if drivers:
        main = [d for d in drivers if abs(d[1]) >= 0.2 * abs(drivers[0][1])][:3]
        coupled = coupled or {}

        def who(m, v):
            note = ""
            if m in coupled:
                how = "raised" if coupled[m] > 0 else "lowered"
                note = f", its tone {how} by {abs(coupled[m]):.3f} through the coupling"
            return f"{m} ({_fmt(v, unit)}{note})"

        s += "; the change comes mostly from " + ", ".join(who(m, v) for m, v in main)
    if moments:
        push = [m for m in moments if m[1] > 0][:2]
        pull = [m for m in moments if m[1] < 0][:2]
        parts = []
        if push:
            parts.append("more flexing moment from " + ", ".join(f"{k} ({v:+.1f} N·m)" for k, v in push))
        if pull:
            parts.append("more extending moment from " + ", ".join(f"{k} ({v:+.1f} N·m)" for k, v in pull))
        s += f". At the {joint} joint: " + "; ".join(parts)
    if info and info.normal:
        lo, hi = info.normal
        if not lo <= after <= hi:
            s += f". {after:.1f} lies outside the normal band {lo:g}-{hi:g} ({info.normal_source})"
    return s + "."
