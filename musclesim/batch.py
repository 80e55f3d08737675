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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from .errors import MusclesimError, ToneRangeError
from .metrics import MEASURES, measure_batch
from .model import Model
from .status import Status, classify_many
from .tables import measure_rows_columns, require

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
    """Results of :func:`simulate_many`, one row per scenario, in input order. Read-only.

    Per scenario (arrays of length N, in input order):

    - ``metrics``: measure name -> values (the measure's unit, :data:`musclesim.MEASURES`; NaN
      where the scenario failed); ``change`` the same minus ``baseline_metrics``;
    - ``ok`` (bool), ``status`` (str, a :class:`musclesim.status.Status` value such as
      ``"converged"`` or ``"path_lost"``), ``message`` (str), ``iterations`` (int), ``residual``
      (N·m, the largest joint-moment residual; also ``residual_Nm``), ``reached`` (fraction of the
      way from the resting tone the equilibrium was followed: 1 for a standing answer);
    - ``activation``: (N, M) activations after coupling, columns ``muscle_ids``;
    - ``tones``, ``tightness``: the scenarios as given.

    ``len(batch)``, ``batch[i]`` (a :class:`BatchRow`, negative ``i`` from the end), ``batch[a:b:c]``
    (a BatchResult of those rows) and ``for row in batch`` work as for a sequence of results.
    ``to_pandas()`` and ``to_xarray()`` convert (the ``analysis`` extra). ``messages`` is the
    tuple of the messages (the older name of ``message``).
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
    #: (N,) str: each scenario's :class:`musclesim.status.Status` value; from the messages when not given.
    status: np.ndarray | None = None
    #: (N, M) activation after coupling (columns ``muscle_ids``); None when not recorded.
    activation: np.ndarray | None = None
    muscle_ids: tuple[str, ...] = ()
    #: Contractures as given (degrees), one mapping per scenario; empty mappings when not recorded.
    tightness: tuple[Mapping[str, float], ...] = ()
    model_name: str = ""

    def __post_init__(self):
        if self.status is None:
            object.__setattr__(self, "status", _status_array(classify_many(self.messages, self.ok)))
        if not self.tightness:
            object.__setattr__(self, "tightness", tuple(MappingProxyType({}) for _ in self.tones))

    # ---------------------------------------------------------------- the status vocabulary
    @property
    def message(self) -> np.ndarray:
        """(N,) object array of each scenario's message (the same strings as ``messages``)."""
        out = np.empty(len(self.messages), dtype=object)
        out[:] = self.messages
        return out

    @property
    def residual(self) -> np.ndarray:
        """(N,) the largest joint-moment residual of each solve (N·m); the same as ``residual_Nm``."""
        return self.residual_Nm

    @property
    def change(self) -> dict[str, np.ndarray]:
        """Each measure minus its baseline value, per scenario."""
        return {k: v - self.baseline_metrics[k] for k, v in self.metrics.items()}

    # ---------------------------------------------------------------- a sequence of rows
    def __len__(self) -> int:
        return len(self.tones)

    def __getitem__(self, index):
        """``batch[i]``: the :class:`BatchRow` of scenario ``i`` (negative from the end);
        ``batch[a:b:c]``: a :class:`BatchResult` of those scenarios, in that order.

        Raises
        ------
        IndexError
            ``i`` outside ``-len(batch) .. len(batch) - 1``.
        TypeError
            ``index`` is neither an integer nor a slice.
        """
        n = len(self)
        if isinstance(index, slice):
            return self._take(np.arange(n)[index])
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"a BatchResult is indexed by an integer (one scenario) or a slice (a BatchResult of "
                            f"those scenarios), got {type(index).__name__}")
        i = int(index)
        if not -n <= i < n:
            valid = f"0 to {n - 1} (or -{n} to -1 from the end)" if n else "none: the batch is empty"
            raise IndexError(f"scenario {i} out of range: the batch has {n} scenarios; valid indices: {valid}")
        return self._row(i % n)

    def __iter__(self) -> Iterator[BatchRow]:
        return (self._row(i) for i in range(len(self)))

    def _row(self, i: int) -> BatchRow:
        act = (MappingProxyType(dict(zip(self.muscle_ids, self.activation[i].tolist())))
               if self.activation is not None else MappingProxyType({}))
        return BatchRow(
            index=i, model_name=self.model_name, position=self.position, tone=MappingProxyType(dict(self.tones[i])),
            tightness=MappingProxyType(dict(self.tightness[i])), activation=act,
            metrics=MappingProxyType({k: float(v[i]) for k, v in self.metrics.items()}),
            baseline_metrics=MappingProxyType(dict(self.baseline_metrics)), ok=bool(self.ok[i]),
            status=Status(self.status[i]), message=self.messages[i], iterations=int(self.iterations[i]),
            residual_Nm=float(self.residual_Nm[i]), reached=float(self.reached[i]))

    def _take(self, idx: np.ndarray) -> BatchResult:
        """The scenarios at integer positions ``idx``, as a BatchResult."""
        idx = np.asarray(idx, dtype=np.intp)
        return replace(
            self, tones=tuple(self.tones[i] for i in idx), metrics={k: v[idx] for k, v in self.metrics.items()},
            ok=self.ok[idx], iterations=self.iterations[idx], residual_Nm=self.residual_Nm[idx],
            reached=self.reached[idx], messages=tuple(self.messages[i] for i in idx), status=self.status[idx],
            activation=None if self.activation is None else self.activation[idx],
            tightness=tuple(self.tightness[i] for i in idx))

    @classmethod
    def concat(cls, parts: Sequence[BatchResult]) -> BatchResult:
        """One BatchResult of ``parts`` (same model and position) in order."""
        first = parts[0]
        cat = lambda name: np.concatenate([getattr(p, name) for p in parts])
        acts = None if any(p.activation is None for p in parts) else cat("activation")
        return cls(tuple(t for p in parts for t in p.tones), first.position,
                   {k: np.concatenate([p.metrics[k] for p in parts]) for k in first.metrics},
                   dict(first.baseline_metrics), cat("ok"), cat("iterations"), cat("residual_Nm"), cat("reached"),
                   tuple(m for p in parts for m in p.messages), status=cat("status"), activation=acts,
                   muscle_ids=first.muscle_ids, tightness=tuple(t for p in parts for t in p.tightness),
                   model_name=first.model_name)

    # ---------------------------------------------------------------- tables
    def rows(self) -> list[dict]:
        """Tidy rows: one per scenario and measure (scenario, measure, baseline, value, change, ok)."""
        out = []
        for i in range(len(self)):
            for k, v in self.metrics.items():
                out.append({"scenario": i, "measure": k, "baseline": self.baseline_metrics[k], "value": float(v[i]),
                            "change": float(v[i] - self.baseline_metrics[k]), "ok": bool(self.ok[i])})
        return out

    def _scenario_columns(self) -> dict[str, np.ndarray]:
        """One value per scenario: the status vocabulary and ``reached``."""
        return {"ok": np.asarray(self.ok, bool), "status": np.asarray(self.status, dtype=object),
                "message": self.message, "iterations": np.asarray(self.iterations, int),
                "residual_Nm": np.asarray(self.residual_Nm, float), "reached": np.asarray(self.reached, float)}

    def to_pandas(self, wide: bool = False):
        """The batch as a pandas DataFrame (needs pandas: ``pip install 'musclesim[analysis]'``).

        Tidy by default: one row per scenario and measure (scenario-major), columns ``scenario``
        (index in the batch), ``measure``, ``unit``, ``baseline``, ``value``, ``change`` (in the
        measure's unit), then ``ok``, ``message``, ``status``, ``iterations``, ``residual_Nm``
        (N·m) and ``reached``, repeated per measure. ``wide=True``: one row per scenario, indexed
        by ``scenario``, with those per-scenario columns and then one column per measure (its
        value).

        Raises
        ------
        MissingExtraError (an ImportError)
            pandas is not installed; the message names the extra.
        """
        pd = require("pandas", "analysis", "BatchResult.to_pandas()")
        n = len(self)
        per = self._scenario_columns()
        if wide:
            cols = dict(per)
            cols.update({k: np.asarray(v, float) for k, v in self.metrics.items()})
            return pd.DataFrame(cols, index=pd.RangeIndex(n, name="scenario"))
        cols = measure_rows_columns(self, list(self.metrics), {"scenario": np.arange(n)})
        m = len(self.metrics)
        for k, v in per.items():
            if k not in cols:
                cols[k] = np.repeat(v, m)
        return pd.DataFrame(cols)

    def to_xarray(self):
        """The batch as an :class:`xarray.Dataset` (needs xarray: ``pip install 'musclesim[analysis]'``).

        Dimensions ``scenario`` (index in the batch) x ``measure`` (and ``muscle`` for the
        activation). Variables: ``value`` and ``change`` (scenario, measure; each measure in its
        unit, the coordinate ``unit``; NaN where a scenario failed), ``baseline`` (measure),
        ``ok``, ``status``, ``message``, ``iterations``, ``residual_Nm`` (N·m), ``reached``
        (scenario) and, when recorded, ``activation`` (scenario, muscle). Attributes:
        ``position``, ``model``.

        Raises
        ------
        MissingExtraError (an ImportError)
            xarray is not installed; the message names the extra.
        """
        xr = require("xarray", "analysis", "BatchResult.to_xarray()")
        names = list(self.metrics)
        n = len(self)
        values = np.stack([np.asarray(self.metrics[k], float) for k in names], axis=1) if names else np.empty((n, 0))
        base = np.array([self.baseline_metrics[k] for k in names], float)
        data = {"value": (("scenario", "measure"), values), "change": (("scenario", "measure"), values - base),
                "baseline": ("measure", base)}
        data.update({k: ("scenario", v) for k, v in self._scenario_columns().items()})
        coords = {"scenario": np.arange(n), "measure": names,
                  "unit": ("measure", [MEASURES[k].unit if k in MEASURES else "" for k in names])}
        if self.activation is not None:
            data["activation"] = (("scenario", "muscle"), np.asarray(self.activation, float))
            coords["muscle"] = list(self.muscle_ids)
        return xr.Dataset(data, coords=coords, attrs={"position": self.position, "model": self.model_name})

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{k}</th>" for k in self.metrics)
        body = "".join(
            "<tr><td>" + ", ".join(f"{n}={t:g}" for n, t in self.tones[i].items()) + "</td><td>"
            + str(self.status[i]) + "</td>"
            + "".join(f"<td>{self.metrics[k][i]:.2f}</td>" for k in self.metrics) + "</tr>"
            for i in range(min(len(self), 50)))
        more = f"<p>... {len(self) - 50} more rows</p>" if len(self) > 50 else ""
        return f"<table><tr><th>tone</th><th>status</th>{head}</tr>{body}</table>{more}"


@dataclass(frozen=True, eq=False)
class BatchRow:
    """One scenario of a :class:`BatchResult` (``batch[i]``), read like a :class:`musclesim.Result`.

    It has what the batch solve keeps: ``tone`` and ``tightness`` (as given), ``activation``
    (after coupling, per muscle id), ``metrics``, ``baseline_metrics``, ``change``, and the status
    vocabulary ``ok``, ``status``, ``message``, ``iterations``, ``residual`` (N·m; also
    ``residual_Nm``), plus ``reached`` and ``index`` (its position in the batch). The pose, the
    moment tables and the frames are not kept by a batch: ``simulate`` the scenario for those.
    """

    index: int
    model_name: str
    position: str
    tone: Mapping[str, float]
    tightness: Mapping[str, float]
    activation: Mapping[str, float]
    metrics: Mapping[str, float]
    baseline_metrics: Mapping[str, float]
    ok: bool
    status: Status
    message: str
    iterations: int
    residual_Nm: float
    reached: float

    @property
    def residual(self) -> float:
        """The largest joint-moment residual of the solve (N·m); the same as ``residual_Nm``."""
        return self.residual_Nm

    @property
    def change(self) -> dict[str, float]:
        """Each measure minus its baseline value."""
        return {k: v - self.baseline_metrics[k] for k, v in self.metrics.items()}


def _status_array(statuses) -> np.ndarray:
    """(N,) str array of :class:`Status` values (compares elementwise: ``batch.status == "path_lost"``)."""
    return np.array([s.value for s in statuses], dtype=f"<U{max(len(s.value) for s in Status)}")


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
    beyond = [b for p in parts for b in p["beyond"]]
    beyond = [beyond[i] for i in back]
    acts = acts[back]
    messages = tuple(
        ("converged to a stable posture" + (f"; beyond the range of motion: {b}" if b else "")) if o else
        _LATERAL_FAILURE[sd] if sd else
        f"cannot stand: no standing posture connected to the baseline; followed {100 * r:.0f}% of the way from the "
        f"resting tone"
        for o, r, sd, b in zip(ok.tolist(), reached.tolist(), side.tolist(), beyond))
    return BatchResult(tones, position, metrics, dict(base.metrics), ok, cat("iterations"), cat("residual"),
                       reached, messages, activation=acts if coupling else acts.copy(), muscle_ids=tuple(model.muscle_ids),
                       tightness=_tightness_rows(tight), model_name=model.name)


#: Messages of a scenario whose left-right solve failed, by the code ``_left_right`` gives it.
_LATERAL_FAILURE = {1: "no left-right equilibrium found", 2: "unstable side to side (the frontal/transverse "
                    "stiffness is not positive definite)"}


def _tightness_rows(tight) -> tuple[Mapping[str, float], ...]:
    """Each scenario's tightness as given (degrees), read-only; empty for None."""
    return tuple(MappingProxyType(dict(k or {})) for k in tight)


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
    from .mechanics import muscle_force_N, pose_geometry, prepare, total_force, with_tendons
    from .physics import compiled_model, floor_of, newton
    from .physics.compiled import settings
    from .simulation import baseline, hip_extension_limit_deg

    mech = prepare(model)
    base = baseline(model, position)._state["eq"]
    t0 = np.array([model.default_tone[m] for m in model.muscle_ids])
    n, N = mech.n, len(acts)
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
    side = np.zeros(N, np.int8)  # scenarios whose left-right solve failed (_LATERAL_FAILURE's codes)
    if good.size:
        _left_right(model, mech, acts, tendons, q, lam, good, lateral, metrics, ok, side)
    return {"ok": ok, "reached": np.asarray(reached, float), "iterations": np.asarray(its, int),
            "residual": np.asarray(res, float), "metrics": metrics, "side": side,
            "beyond": _range_notes(model, q, ok)}


def _range_notes(model: Model, q: np.ndarray, ok: np.ndarray) -> list[str]:
    """Per row, the joints of a solved pose outside their range of motion (as
    :func:`musclesim.simulation.range_violations` words them; "" for none or a failed row)."""
    from .simulation import range_bounds_deg, range_violations

    lo, hi = range_bounds_deg(model)
    deg = np.degrees(q)
    out = [""] * len(q)
    for i in np.flatnonzero(ok & np.any((deg < lo) | (deg > hi), axis=1)):
        out[i] = ", ".join(range_violations(model, q[i]))
    return out


def _left_right(model: Model, mech, acts, tendons, q, lam, good, lateral: bool, metrics, ok, side) -> None:
    """The left-right measures of the solved rows ``good``, in place: zero by mirror symmetry where
    both sides have the same tone and tightness, else the lateral solve (one scenario at a time;
    NaN when ``lateral`` is False). A failed lateral solve fails its scenario (``side`` marks it: 1
    not converged, 2 unstable)."""
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
            ok[i], side[i] = False, (1 if not lat.converged else 2)
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
    ids = tuple(model.muscle_ids)
    activation = np.array([[r.activation[m] for m in ids] for r in res], dtype=float).reshape(len(res), len(ids))
    return BatchResult(tones, position, metrics, dict(base.metrics), np.array([r.ok for r in res], dtype=bool),
                       np.array([r.iterations for r in res], dtype=int), np.array([r.residual_Nm for r in res], dtype=float),
                       np.array([1.0 if r.ok else 0.0 for r in res]), tuple(r.message for r in res),
                       status=_status_array([r.status for r in res]), activation=activation, muscle_ids=ids,
                       tightness=_tightness_rows(tight), model_name=model.name)
