"""Why a measure changed: ranked causes from the mechanics and the path through the graph.

For a result and its baseline, :func:`explain` gives for every measure that changed:

* ``drivers`` -- the share of the change due to each muscle whose activation changed. The tone
  change alters each muscle's moments at the baseline pose (its "drive" ``dQ_i``); the regulated
  equilibrium turns drives into posture by the linear response
  ``dz = -J^-1 [dQ_i; 0]`` (``J`` the solver's Jacobian at the baseline), and the measure's
  gradient turns posture into the measure: ``share_i = grad m . dq_i``. Shares add up to the
  linear estimate; ``nonlinear_remainder`` is what the full solve adds beyond it.
* ``moments`` -- a waterfall at the joint that carries most of the change: how each contributor's
  moment there (each muscle, gravity, passive structures, regulation) differs between the result
  and the baseline, largest first. Both postures are equilibria, so these changes sum to ~0: what
  the drivers add, the rest takes up.
* ``path`` -- the graph path from the strongest driver to the measure (muscle -> joint -> bone ->
  measure), for the dashboard's propagation view.
* ``text`` -- a plain-language summary generated from these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from .metrics import MEASURES
from .simulation import Result, _metrics
from .mechanics import _jacobian, evaluate, prepare

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

    def as_dict(self) -> dict:
        return {
            "measure": self.measure, "unit": self.unit, "baseline": self.baseline, "value": self.value,
            "change": self.change, "drivers": [list(d) for d in self.drivers],
            "linear_estimate": self.linear_estimate, "nonlinear_remainder": self.nonlinear_remainder,
            "joint": self.joint, "moments": [list(m) for m in self.moments], "path": list(self.path),
            "text": self.text,
        }


def explain(result: Result, baseline: Result, measures: list[str] | None = None, model=None,
            top: int = 6) -> dict[str, Explanation]:
    """Explain each changed measure of ``result`` relative to ``baseline``.

    ``model`` is the model both came from (defaults to the cached one they were solved with).
    Returns ``{measure: Explanation}`` for the measures whose change exceeds :data:`MIN_CHANGE`
    (or for ``measures`` if given). Raises :class:`~musclesim.errors.UnknownMeasureError` for an
    unknown measure name and ``ValueError`` if either result did not converge.
    """
    from .errors import UnknownMeasureError

    if not (result.ok and baseline.ok):
        raise ValueError("cannot explain a result that did not converge to a stable posture: " + result.message)
    mech = result._state["mech"] if model is None else prepare(model)
    names = list(result.metrics) if measures is None else list(measures)
    for name in names:
        if name not in result.metrics:
            raise UnknownMeasureError(name, result.metrics)
    c = mech.chain
    n = mech.n
    bq, blam, bact = baseline._state["eq"].q, baseline._state["eq"].lam, baseline._state["act"]
    act = result._state["act"]
    _, J, _ = _jacobian(mech, bq, bact, blam)
    # drive of each muscle whose activation changed: its moment change at the baseline pose
    L0 = evaluate(mech, bq[None], bact, blam[None])
    dact = act - bact
    changed = np.flatnonzero(np.abs(dact) > 1e-12)
    F1 = evaluate(mech, np.repeat(bq[None], max(len(changed), 1), 0), _per_muscle_act(bact, act, changed),
                  np.repeat(blam[None], max(len(changed), 1), 0)).force_N
    drives = np.zeros((len(changed), n + J.shape[0] - n))
    for k, m in enumerate(changed):
        drives[k, :n] = (F1[k, m] - L0.force_N[0, m]) * L0.moment_arm_m[0, m]
    dz = -np.linalg.solve(J, drives.T)  # (n+3, k)
    grads = _measure_gradients(mech, bq, blam, bact, names)
    G = result._state.get("graph")
    out: dict[str, Explanation] = {}
    for name in names:
        ch = result.metrics[name] - baseline.metrics[name]
        if measures is None and abs(ch) < MIN_CHANGE:
            continue
        g = grads[name]
        shares = g @ dz[:n] if len(changed) else np.zeros(0)
        order = np.argsort(-np.abs(shares))
        drivers = tuple((c.muscle_names[changed[i]], float(shares[i])) for i in order[:top])
        lin = float(shares.sum())
        dq = result._state["eq"].q - bq
        joint_idx = int(np.argmax(np.abs(g * dq))) if np.any(g * dq) else int(np.argmax(np.abs(g)))
        joint = c.dof_names[joint_idx]
        moments = _moment_waterfall(result, baseline, joint, top)
        path = _path(G, drivers[0][0] if drivers else None, name)
        info = MEASURES.get(name)
        unit = info.unit if info else ""
        out[name] = Explanation(name, unit, baseline.metrics[name], result.metrics[name], ch, drivers, lin,
                                ch - lin, joint, moments, path,
                                _sentence(name, unit, baseline.metrics[name], result.metrics[name], drivers, joint, moments))
    return out


def _per_muscle_act(bact: np.ndarray, act: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """One activation vector per changed muscle: the baseline with only that muscle changed."""
    out = np.repeat(bact[None], max(len(changed), 1), 0)
    for k, m in enumerate(changed):
        out[k, m] = act[m]
    return out


def _measure_gradients(mech, q, lam, act, names) -> dict[str, np.ndarray]:
    """d(measure)/dq at the baseline pose by central differences (unit per rad)."""
    n = mech.n
    grads = {k: np.zeros(n) for k in names}
    for j in range(n):
        vals = []
        for s in (+1, -1):
            qq = q.copy()
            qq[j] += s * FD_STEP
            L = evaluate(mech, qq[None], act, lam[None])
            vals.append(_metrics(mech, qq, lam, act, L))
        for k in names:
            grads[k][j] = (vals[0][k] - vals[1][k]) / (2 * FD_STEP)
    return grads


def _moment_waterfall(result: Result, baseline: Result, joint: str, top: int) -> tuple[tuple[str, float], ...]:
    a, b = result.moments[joint], baseline.moments[joint]
    keys = set(a) | set(b)
    rows = [(k, a.get(k, 0.0) - b.get(k, 0.0)) for k in keys]
    rows = [r for r in rows if abs(r[1]) > 1e-6]
    rows.sort(key=lambda r: -abs(r[1]))
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


def _sentence(name, unit, before, after, drivers, joint, moments) -> str:
    info = MEASURES.get(name)
    label = name.replace("_deg", "").replace("_mm", "").replace("_Nm", "").replace("_N", "").replace("_", " ")
    verb = "rose" if after > before else "fell"
    s = f"{label.capitalize()} {verb} from {before:.1f} to {after:.1f} {unit}"
    if drivers:
        main = [d for d in drivers if abs(d[1]) >= 0.2 * abs(drivers[0][1])][:3]
        s += "; the change comes mostly from " + ", ".join(f"{m} ({_fmt(v, unit)})" for m, v in main)
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
