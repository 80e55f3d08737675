"""Many scenarios at once: ``simulate_many``.

All scenarios are solved together: the tone coupling is iterated for the whole batch in numpy,
the continuations run in the compiled Newton driver (:mod:`musclesim.physics.newton`) over parallel threads (numba ``prange``; a numpy loop
when numba is missing), so does the geometry of the solved poses, and the measures are computed
for the whole batch in numpy. Scenarios are
independent, so ``executor=`` (any :class:`concurrent.futures.Executor`, or a Dask
``distributed.Client``) can spread chunks over processes or a cluster; the answers are the same
numbers as a serial run, because each chunk does the same arithmetic on the same rows.

A scenario that does not converge is reported in its row (``ok`` False and a message); it is never
dropped and never fails the batch. Invalid input (an unknown muscle, a tone out of range) is a
user error and raises before any work, naming the scenario.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import MusclesimError, ToneRangeError
from .metrics import MEASURES, measure_batch
from .model import Model

#: Rows solved per chunk (bounds the memory of the measure step).
CHUNK = 2000
#: Smallest chunk solved on parallel threads (smaller ones run in the calling thread).
PARALLEL_FROM = 8
#: Scenarios a thread takes at a time from a batch (``numba.set_parallel_chunksize``): small, so
#: that threads finish together even when a few scenarios (those that fail, halving their steps)
#: take ten times longer than the rest.
BATCH_GRAIN = 4
#: Scenarios a thread solves one after the other, each from its neighbour's answer, in a batch
#: whose neighbours are close (:func:`neighbours_close`).
NEIGHBOUR_RUN = 64


def neighbour_order(acts: np.ndarray, tendons: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """An order of the scenarios (rows of ``acts`` and ``tendons``, (N, M)) in which consecutive
    ones are close: the input order (sweeps and grids come in their natural order), the order along
    the first principal direction (a sweep given in any order) or a Z-order (Morton) curve over the
    columns that vary, each scaled to [0, 1], whichever has the smallest median step (:func:`neighbour_steps`; ``scale`` (M,) m turns tendon lengths into the same units)."""
    X = np.hstack((acts, tendons))
    var = np.flatnonzero(np.ptp(X, axis=0) > 0) if len(X) else np.zeros(0, int)
    given = np.arange(len(X))
    if len(X) < 3 or not len(var):
        return given
    Y = X[:, var]
    Y = (Y - Y.min(axis=0)) / np.ptp(Y, axis=0)
    d = len(var)
    bits = max(1, 62 // d)
    q = np.minimum((Y * (1 << bits)).astype(np.int64), (1 << bits) - 1)
    key = np.zeros(len(Y), dtype=np.uint64)
    for b in range(bits - 1, -1, -1):
        for j in range(d):
            key = (key << np.uint64(1)) | ((q[:, j] >> b) & 1).astype(np.uint64)
    z = np.argsort(key, kind="stable")
    # the first principal direction (of up to 1000 scenarios): a sweep given in any order, coupled
    # tones included, lies along it
    sample = Y[:: max(1, len(Y) // 1000)]
    direction = np.linalg.svd(sample - sample.mean(axis=0), full_matrices=False)[2][0]
    line = np.argsort(Y @ direction, kind="stable")
    orders = (given, line, z)
    steps = [np.median(neighbour_steps(acts[o], tendons[o], scale)) for o in orders]
    return orders[int(np.argmin(steps))]


def neighbour_steps(acts: np.ndarray, tendons: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(N - 1,) the largest change of any muscle's activation, or tendon length over ``scale`` (m),
    from each scenario to the next."""
    return np.maximum(np.abs(np.diff(acts, axis=0)).max(axis=1, initial=0.0),
                      (np.abs(np.diff(tendons, axis=0)) / scale).max(axis=1, initial=0.0))


def neighbours_close(acts: np.ndarray, tendons: np.ndarray, mech) -> bool:
    """True when consecutive scenarios mostly lie within the neighbour start's reach
    (:data:`musclesim.physics.newton.NEIGHBOUR_MAX_DELTA`): then starting each from the one before
    pays (a sweep or a grid); for scattered scenarios (a random mix) it does not."""
    from .physics.newton import NEIGHBOUR_MAX_DELTA

    if len(acts) < 3:
        return False
    return bool(np.median(neighbour_steps(acts, tendons, mech.chain.l_opt_m)) <= NEIGHBOUR_MAX_DELTA)


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


def simulate_many(model: Model, tones: Sequence[Mapping[str, float] | None] | np.ndarray, position: str = "standing",
                  *, tightness: Sequence[Mapping[str, float] | None] | Mapping[str, float] | None = None,
                  coupling: bool = True, executor=None, chunk_size: int = CHUNK, lateral: bool = True) -> BatchResult:
    """Solve many tone scenarios of one model and position.

    Parameters
    ----------
    model : Model
    tones : sequence of mappings (or None for the resting tone), as for :func:`musclesim.simulate`;
        or an array (N, number of muscles) of tones in model order (``model.muscle_ids``), the fast
        entry point for large sweeps
    tightness : mapping, or sequence of mappings aligned with ``tones``, optional
        Contractures in degrees (as for :func:`musclesim.simulate`).
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
    lateral : bool
        Solve the left-right posture (:mod:`musclesim.lateral`) of scenarios whose two sides differ,
        one by one (about 2-5 ms each); False leaves their left-right measures NaN. Scenarios with
        the same tone and tightness on both sides get exact zeros either way (mirror symmetry).

    Returns
    -------
    BatchResult

    Raises
    ------
    UnknownMuscleError, ToneRangeError
        For invalid input, with the scenario's index in the message.
    UnknownPositionError
    TypeError
        A scenario's tone or tightness is not a mapping.
    ValueError
        ``tones`` as an array has the wrong shape, or ``tightness`` the wrong length.
    """
    from .simulation import _check_position, _coupling, _coupling_solver, baseline, tendon_lengths
    from .tone import couple_batch, tone_vector

    _check_position(position)
    M = len(model.muscle_ids)
    array_input = isinstance(tones, np.ndarray)
    if array_input:
        t = np.asarray(tones, dtype=float)
        if t.ndim != 2 or t.shape[1] != M:
            raise ValueError(f"tones as an array must have shape (N, {M}) (one column per muscle id), got {t.shape}")
        bad = ~np.isfinite(t) | (t < 0) | (t > 1)
        if bad.any():
            i, j = map(int, np.argwhere(bad)[0])
            raise ToneRangeError(f"scenario {i}: {model.muscle_ids[j]}", float(t[i, j]))
        tones = tuple({m: float(v) for m, v in zip(model.muscle_ids, row)} for row in t)
    else:
        tones = tuple(dict(tn or {}) for tn in tones)
    tight = [tightness] * len(tones) if tightness is None or isinstance(tightness, Mapping) else list(tightness)
    if len(tight) != len(tones):
        raise ValueError(f"tightness has {len(tight)} entries for {len(tones)} scenarios")
    base_lt = tendon_lengths(model, None)
    lt = np.broadcast_to(base_lt, (len(tones), M)).copy()
    tone_row = None if array_input else _ToneRows(model)
    rows = []
    for i, tone in enumerate(tones):
        try:
            if tone_row is not None:
                rows.append(tone_row(tone))
            if tight[i]:
                lt[i] = tendon_lengths(model, tight[i])
        except MusclesimError as exc:  # name the scenario, keep the class and the hint
            exc.args = (f"scenario {i}: {exc}",)
            if hasattr(exc, "message"):
                exc.message = f"scenario {i}: {exc.message}"
            raise
    if tone_row is not None:
        t = np.array(rows, dtype=float).reshape(len(tones), M)
    t0 = tone_vector(model, None)
    acts = couple_batch(t, t0, _coupling(model), _coupling_solver(model)) if coupling else t
    base = baseline(model, position)
    if position != "standing":  # lying positions: no compiled path; solve one by one
        return _lying_batch(model, tones, tight, position, coupling, base)
    # solve in an order where neighbours are close (a sweep's or grid's scenarios start from the one
    # before), then put the answers back in input order
    from .mechanics import prepare

    order = neighbour_order(acts, lt, prepare(model).chain.l_opt_m)
    acts, lt = acts[order], lt[order]
    spans = [(i, i + chunk_size) for i in range(0, len(acts), chunk_size)] or [(0, 0)]
    if executor is None:
        parts = [_solve_chunk(model, acts[a:b], lt[a:b], position, lateral) for a, b in spans]
    else:
        futures = [executor.submit(_solve_chunk, model, acts[a:b], lt[a:b], position, lateral) for a, b in spans]
        parts = [f.result() for f in futures]
    back = np.argsort(order)  # position of each input scenario in the solving order
    metrics = {k: np.concatenate([p["metrics"][k] for p in parts])[back] for k in MEASURES}
    cat = lambda key: np.concatenate([p[key] for p in parts])[back]
    ok = cat("ok")
    reached = cat("reached")
    side = cat("side")
    messages = tuple(
        "converged to a stable posture" if o else
        "no left-right equilibrium found (or unstable side to side)" if sd else
        f"cannot stand: no standing posture connected to the baseline; followed {100 * r:.0f}% of the way from the "
        f"resting tone"
        for o, r, sd in zip(ok.tolist(), reached.tolist(), side.tolist()))
    return BatchResult(tones, position, metrics, dict(base.metrics), ok, cat("iterations"), cat("residual"),
                       reached, messages)


class _ToneRows:
    """:func:`musclesim.tone.tone_vector` of one scenario as a list, resolving each set of names
    once per batch (scenarios of a sweep name the same muscles): the same numbers, the same
    errors in the same order, without resolving the names again for every scenario."""

    def __init__(self, model: Model):
        self.model = model
        self.default = [float(model.default_tone[m]) for m in model.muscle_ids]
        self.column = {m: i for i, m in enumerate(model.muscle_ids)}
        self.plans: dict[tuple, list] = {}

    def __call__(self, tone: Mapping[str, float]) -> list[float]:
        from .tone import _is_number, _names_by_specificity

        key = tuple(tone)
        plan = self.plans.get(key)
        if plan is None:  # names in the order resolve() applies them: least specific first
            plan = [(name, [self.column[m] for m in ids]) for name, ids in _names_by_specificity(self.model, tone)]
            self.plans[key] = plan
        row = self.default.copy()
        for name, cols in plan:
            value = tone[name]
            if not (type(value) is float and 0.0 <= value <= 1.0):  # fast path for plain floats
                if not _is_number(value) or not 0.0 <= float(value) <= 1.0:
                    raise ToneRangeError(name, value)
                value = float(value)
            for c in cols:
                row[c] = value
        return row


def _solve_chunk(model: Model, acts: np.ndarray, tendons: np.ndarray, position: str, lateral: bool = True) -> dict:
    """Solve one chunk of activation rows (with their tendon rest lengths, i.e. tightness); the
    unit of work sent to an executor."""
    from . import _backend
    from .mechanics import follow, muscle_force_N, pose_geometry, prepare, total_force, with_tendons
    from .simulation import baseline, hip_extension_limit_deg

    mech = prepare(model)
    base = baseline(model, position)._state["eq"]
    t0 = np.array([model.default_tone[m] for m in model.muscle_ids])
    n, N = mech.n, len(acts)
    if _backend.compiled():
        from .physics import compiled_model, floor_of, newton
        from .physics.compiled import settings

        cm, st = compiled_model(mech)
        args = (cm, st, floor_of(mech), t0, mech.chain.l_tendon_m, np.ascontiguousarray(acts), np.ascontiguousarray(tendons),
                np.concatenate((base.q, base.lam)), np.ascontiguousarray(base.jacobian), settings())
        serial = N < PARALLEL_FROM  # a few scenarios run in this thread: waking the thread pool costs more
        # threads take a few scenarios (or runs of neighbours) at a time rather than an equal share up
        # front: a thread that the machine delays, or that draws the slow (failing) scenarios, does not
        # hold up the others
        warm = neighbours_close(acts, tendons, mech)
        previous = _backend.set_parallel_chunksize(1 if warm else BATCH_GRAIN)
        try:
            if warm:  # a sweep or a grid: start each scenario from the one before
                order = np.arange(N)
                if serial:
                    ok, reached, Z, its, res, _, _ = newton.follow_many_warm_serial(*args, order)
                else:
                    ok, reached, Z, its, res, _, _ = newton.follow_many_warm(*args, order, NEIGHBOUR_RUN)
            else:
                ok, reached, Z, its, res, _ = (newton.follow_many_serial if serial else newton.follow_many)(*args)
        finally:
            _backend.set_parallel_chunksize(previous)
    else:
        ok, reached = np.zeros(N, bool), np.zeros(N)
        Z, its, res = np.zeros((N, n + mech.k)), np.zeros(N, int), np.zeros(N)
        for i in range(N):
            p = follow(mech, t0, acts[i], base.q, base.lam, base.jacobian, compiled=False, tendon_m=tendons[i])
            ok[i], reached[i], its[i], res[i] = p.ok, p.reached, p.iterations, p.final.residual_Nm
            Z[i] = np.concatenate((p.final.q, p.final.lam))
    q, lam = Z[:, :n], Z[:, n:]
    metrics = {k: np.full(N, np.nan) for k in MEASURES}
    good = np.flatnonzero(ok)
    if good.size:
        c = mech.chain
        points, joints, lengths, arm, trunk_dir = pose_geometry(mech, q[good], parallel=good.size >= PARALLEL_FROM)
        force = total_force(mech, muscle_force_N(mech, acts[good], lengths, tendons[good]), lam[good])
        tight_rows = np.any(tendons[good] != mech.chain.l_tendon_m, axis=1)
        limits = np.full(len(good), model.joint("hip").range_deg[0])
        for k in np.flatnonzero(tight_rows):
            limits[k] = hip_extension_limit_deg(with_tendons(mech, tendons[good][k]))
        vals = measure_batch(c, points, joints, q[good], force, arm, lam[good], trunk_dir, limits)
        for k, v in vals.items():
            metrics[k][good] = v
    ok = np.asarray(ok, bool).copy()
    side = np.zeros(N, bool)  # scenarios whose left-right solve failed
    if good.size:
        _left_right(model, mech, acts, tendons, q, lam, good, lateral, metrics, ok, side)
    return {"ok": ok, "reached": np.asarray(reached, float), "iterations": np.asarray(its, int),
            "residual": np.asarray(res, float), "metrics": metrics, "side": side}


def _left_right(model: Model, mech, acts, tendons, q, lam, good, lateral: bool, metrics, ok, side) -> None:
    """The left-right measures of the solved rows ``good``, in place: zero by mirror symmetry where
    both sides have the same tone and tightness, else the lateral solve (one scenario at a time;
    NaN when ``lateral`` is False). A failed lateral solve fails its scenario (``side`` marks it)."""
    from .lateral import LATERAL_MEASURES, is_mirror_symmetric, solve_lateral
    from .mechanics import with_tendons

    sym = is_mirror_symmetric(model, acts[good], tendons[good])
    for k in LATERAL_MEASURES:
        metrics[k][good] = np.where(sym, 0.0, np.nan)
    if not lateral:
        return
    for i in good[~sym]:
        lat = solve_lateral(with_tendons(mech, tendons[i]), q[i], acts[i], lam[i])
        if not (lat.converged and lat.stable):
            ok[i], side[i] = False, True
            for k in metrics:
                metrics[k][i] = np.nan
            continue
        for k in LATERAL_MEASURES:
            metrics[k][i] = lat.metrics[k]
        for s in ("left", "right"):
            metrics[f"hip_extension_reserve_{s}_deg"][i] += lat.metrics[f"hip_flexion_change_{s}_deg"]


def _lying_batch(model: Model, tones, tight, position: str, coupling: bool, base) -> BatchResult:
    from .simulation import simulate

    res = [simulate(model, t, position, tightness=k, coupling=coupling, frames=False) for t, k in zip(tones, tight)]
    metrics = {k: np.array([r.metrics[k] for r in res]) for k in MEASURES}
    return BatchResult(tones, position, metrics, dict(base.metrics), np.array([r.ok for r in res]),
                       np.array([r.iterations for r in res]), np.array([r.residual_Nm for r in res]),
                       np.array([1.0 if r.ok else 0.0 for r in res]), tuple(r.message for r in res))
