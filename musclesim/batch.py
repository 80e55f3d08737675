"""Many scenarios at once: ``simulate_many``.

All scenarios are solved together: the tone coupling is iterated for the whole batch in numpy,
the continuations run in compiled kernels over parallel threads (numba ``prange``; a numpy loop
when numba is missing), and the measures are computed for the whole batch in numpy. Scenarios are
independent, so ``executor=`` (any :class:`concurrent.futures.Executor`, or a Dask
``distributed.Client``) can spread chunks over processes or a cluster; the answers are the same
numbers as a serial run, because each chunk does the same arithmetic on the same rows.

A scenario that does not converge is reported in its row (``ok`` False and a message); it is never
dropped and never fails the batch. Invalid input (an unknown muscle, a tone out of range) is a
user error and raises before any work, naming the scenario.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .errors import MusclesimError
from .metrics import MEASURES, measure_batch
from .model import Model

#: Rows solved per chunk (bounds memory: the numpy measure step holds (chunk, points, joints, 2)).
CHUNK = 2000


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Results of :func:`simulate_many`, one row per scenario, in input order.

    ``metrics`` maps each measure name to an array (N,) (NaN where a scenario failed);
    ``ok``/``iterations``/``residual_Nm``/``reached`` are arrays (N,); ``messages`` a tuple of str.
    """

    tones: tuple[Mapping[str, float], ...]
    position: str
    metrics: Mapping[str, np.ndarray]
    baseline_metrics: Mapping[str, float]
    ok: np.ndarray
    iterations: np.ndarray
    residual_Nm: np.ndarray
    reached: np.ndarray
    messages: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.tones)

    @property
    def change(self) -> dict[str, np.ndarray]:
        """Each measure minus its baseline value, per scenario."""
        return {k: v - self.baseline_metrics[k] for k, v in self.metrics.items()}

    def rows(self) -> list[dict]:
        """Tidy rows: one per scenario and measure (scenario, measure, baseline, value, change, ok)."""
        out = []
        for i in range(len(self)):
            for k, v in self.metrics.items():
                out.append({"scenario": i, "measure": k, "baseline": self.baseline_metrics[k], "value": float(v[i]),
                            "change": float(v[i] - self.baseline_metrics[k]), "ok": bool(self.ok[i])})
        return out

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{k}</th>" for k in self.metrics)
        body = "".join(
            "<tr><td>" + ", ".join(f"{n}={t:g}" for n, t in self.tones[i].items()) + "</td><td>"
            + ("ok" if self.ok[i] else "failed") + "</td>"
            + "".join(f"<td>{self.metrics[k][i]:.2f}</td>" for k in self.metrics) + "</tr>"
            for i in range(min(len(self), 50)))
        more = f"<p>... {len(self) - 50} more rows</p>" if len(self) > 50 else ""
        return f"<table><tr><th>tone</th><th>status</th>{head}</tr>{body}</table>{more}"


def simulate_many(model: Model, tones: Sequence[Mapping[str, float] | None], position: str = "standing", *,
                  coupling: bool = True, executor=None, chunk_size: int = CHUNK) -> BatchResult:
    """Solve many tone scenarios of one model and position.

    Parameters
    ----------
    model : Model
    tones : sequence of mappings (or None for the resting tone), as for :func:`musclesim.simulate`
    position : str
    coupling : bool
        Propagate tone changes to related muscles.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where to run the chunks; None runs them here (the compiled kernels already use all cores).
        A ``ProcessPoolExecutor`` must start its workers with "spawn" or "forkserver"
        (``mp_context=multiprocessing.get_context("spawn")``): forking a process whose numba
        thread pool has run is unsafe.
    chunk_size : int
        Scenarios per chunk.

    Returns
    -------
    BatchResult

    Raises
    ------
    UnknownMuscleError, ToneRangeError
        For invalid input, with the scenario's index in the message.
    UnknownPositionError
    """
    from .simulation import _check_position, _coupling, baseline
    from .tone import couple_batch, tone_vector

    _check_position(position)
    tones = tuple(dict(t or {}) for t in tones)
    t = np.empty((len(tones), len(model.muscle_ids)))
    for i, tone in enumerate(tones):
        try:
            t[i] = tone_vector(model, tone)
        except MusclesimError as exc:  # name the scenario, keep the class and the hint
            exc.args = (f"scenario {i}: {exc}",)
            if hasattr(exc, "message"):
                exc.message = f"scenario {i}: {exc.message}"
            raise
    t0 = tone_vector(model, None)
    acts = couple_batch(t, t0, _coupling(model)) if coupling else t
    base = baseline(model, position)
    if position != "standing":  # lying positions: no compiled path; solve one by one
        return _lying_batch(model, tones, position, coupling, base)
    chunks = [acts[i:i + chunk_size] for i in range(0, len(acts), chunk_size)] or [acts]
    if executor is None:
        parts = [_solve_chunk(model, c, position) for c in chunks]
    else:
        futures = [executor.submit(_solve_chunk, model, c, position) for c in chunks]
        parts = [f.result() for f in futures]
    metrics = {k: np.concatenate([p["metrics"][k] for p in parts]) for k in MEASURES}
    cat = lambda key: np.concatenate([p[key] for p in parts])  # noqa: E731
    ok = cat("ok")
    reached = cat("reached")
    messages = tuple(
        "converged to a stable posture" if o else
        f"no standing posture connected to the baseline: followed {100 * r:.0f}% of the way from the resting tone"
        for o, r in zip(ok, reached))
    return BatchResult(tones, position, metrics, dict(base.metrics), ok, cat("iterations"), cat("residual"),
                       reached, messages)


def _solve_chunk(model: Model, acts: np.ndarray, position: str) -> dict:
    """Solve one chunk of activation rows; the unit of work sent to an executor."""
    from . import kernels
    from .mechanics import (CONTINUATION_STEPS, MAX_HALVINGS, MAX_ITER, evaluate, follow, jump_limits, prepare,
                            total_force)
    from .simulation import baseline

    mech = prepare(model)
    base = baseline(model, position)._state["eq"]
    t0 = np.array([model.default_tone[m] for m in model.muscle_ids])
    n, N = mech.n, len(acts)
    if kernels.available() and not os.environ.get("MUSCLESIM_NO_NUMBA"):
        lt1s = np.ascontiguousarray(np.broadcast_to(mech.chain.l_tendon_m, acts.shape))
        ok, reached, Z, its, res, _ = kernels.follow_batch_kernel(
            t0, np.ascontiguousarray(acts), lt1s, base.q, base.lam, np.ascontiguousarray(base.jacobian),
            CONTINUATION_STEPS, MAX_HALVINGS, MAX_ITER, jump_limits(), *mech._packed())
    else:
        ok, reached = np.zeros(N, bool), np.zeros(N)
        Z, its, res = np.zeros((N, n + mech.k)), np.zeros(N, int), np.zeros(N)
        for i in range(N):
            p = follow(mech, t0, acts[i], base.q, base.lam, base.jacobian, compiled=False)
            ok[i], reached[i], its[i], res[i] = p.ok, p.reached, p.iterations, p.final.residual_Nm
            Z[i] = np.concatenate((p.final.q, p.final.lam))
    q, lam = Z[:, :n], Z[:, n:]
    metrics = {k: np.full(N, np.nan) for k in MEASURES}
    good = np.flatnonzero(ok)
    if good.size:
        L = evaluate(mech, q[good], acts[good], lam[good])
        force = total_force(mech, L.force_N, lam[good])
        vals = measure_batch(mech.chain, L.points, L.joints, q[good], force, L.moment_arm_m, lam[good],
                             L.trunk_dir, model.joint("hip").range_deg[0])
        for k, v in vals.items():
            metrics[k][good] = v
    return {"ok": np.asarray(ok, bool), "reached": np.asarray(reached, float), "iterations": np.asarray(its, int),
            "residual": np.asarray(res, float), "metrics": metrics}


def _lying_batch(model: Model, tones, position: str, coupling: bool, base) -> BatchResult:
    from .simulation import simulate

    res = [simulate(model, t, position, coupling=coupling, frames=False) for t in tones]
    metrics = {k: np.array([r.metrics[k] for r in res]) for k in MEASURES}
    return BatchResult(tones, position, metrics, dict(base.metrics), np.array([r.ok for r in res]),
                       np.array([r.iterations for r in res]), np.array([r.residual_Nm for r in res]),
                       np.array([1.0 if r.ok else 0.0 for r in res]), tuple(r.message for r in res))
