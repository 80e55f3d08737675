"""Sweeps: one muscle's (or group's) tone over a range of values, or two over a grid.

Built on :func:`musclesim.simulate_many`: every scenario of a sweep is solved in one batch, so a
sweep of 10,000 values costs a few seconds, and ``executor=`` spreads it over processes or a Dask
cluster with the same numbers as a serial run::

    import musclesim as ms
    model = ms.load_model()
    t = ms.sweep(model, "psoas_major", [0.0, 0.1, 0.2, 0.3], metrics=["pelvic_tilt_deg"])
    t.to_pandas()                      # with pandas installed
    t.series("pelvic_tilt_deg")        # (tone values, measure values) as numpy arrays
    g = ms.grid(model, "psoas_major", [0, 0.2, 0.4], "glutes", [0, 0.2])
    g.matrix("pelvic_tilt_deg")        # (3, 2) array

(The module is ``sweeps``, not ``sweep``: a submodule named like a function the package exports
would replace that function as a package attribute once imported.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from .errors import ToneRangeError, UnknownMeasureError, UnknownMuscleError
from .tables import Table, measure_rows_columns


def _values(name: str, values: Sequence[float]) -> np.ndarray:
    vals = np.asarray(list(values), dtype=object)
    out = np.empty(len(vals))
    for i, v in enumerate(vals):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(v)) or not 0.0 <= float(v) <= 1.0:
            raise ToneRangeError(name, v)
        out[i] = float(v)
    return out


def _metrics(metrics: str | Sequence[str] | None) -> tuple[str, ...]:
    from .metrics import MEASURES

    if metrics is None:
        return tuple(MEASURES)
    if isinstance(metrics, str):
        metrics = [metrics]
    for m in metrics:
        if m not in MEASURES:
            raise UnknownMeasureError(m, MEASURES)
    return tuple(dict.fromkeys(metrics))


def _check_name(model, name: str) -> None:
    names = model.names()
    if name not in names:
        raise UnknownMuscleError(name, names)


class SweepTable(Table):
    """The tidy table of a sweep or grid: one row per scenario and measure.

    Columns: the swept names (their tone), ``measure``, ``unit``, ``baseline``, ``value``,
    ``change``, ``ok``, ``message``. Also: ``varied`` (the swept names), ``values`` (the tone
    values per name, shape (N,) each), ``metrics`` (the measures reported), ``shape`` (the grid's
    shape, or (N,)) and ``batch`` (the :class:`~musclesim.batch.BatchResult`).
    """

    def __init__(self, columns, title: str, varied: tuple[str, ...], values: tuple[np.ndarray, ...],
                 metrics: tuple[str, ...], shape: tuple[int, ...], batch):
        super().__init__(columns, title)
        self.varied, self.values, self.metrics, self.shape, self.batch = varied, values, metrics, shape, batch

    @property
    def ok(self) -> np.ndarray:
        """Per scenario (N,): did it find a posture."""
        return np.asarray(self.batch.ok, bool)

    def series(self, measure: str) -> tuple[np.ndarray, np.ndarray]:
        """``(tone values, measure values)`` of a one-muscle sweep (NaN where no posture was found)."""
        if measure not in self.metrics:
            raise UnknownMeasureError(measure, self.metrics)
        return self.values[0].copy(), np.asarray(self.batch.metrics[measure], float).copy()

    def matrix(self, measure: str) -> np.ndarray:
        """A measure over a grid, shape ``(len(values_a), len(values_b))`` (NaN where no posture)."""
        if measure not in self.metrics:
            raise UnknownMeasureError(measure, self.metrics)
        return np.asarray(self.batch.metrics[measure], float).reshape(self.shape)

    def wide(self) -> Table:
        """One row per scenario: the swept tones, ``ok``, then one column per measure."""
        cols = {name: vals for name, vals in zip(self.varied, self.values)}
        cols["ok"] = self.ok
        for m in self.metrics:
            cols[m] = np.asarray(self.batch.metrics[m], float)
        return Table(cols, self.title)

    def _repr_html_(self) -> str:  # a sweep reads better wide: one row per tone
        failed = int((~self.ok).sum())
        note = f" ({failed} of {len(self.ok)} found no posture)" if failed else ""
        wide = self.wide()
        wide.title = f"{self.title}{note}"
        return wide._repr_html_()


def _run(model, tones, position, coupling, executor, progress):
    from .progress import simulate_in_pieces

    return simulate_in_pieces(model, tones, position, coupling=coupling, executor=executor, progress=progress,
                              desc="sweep")


def sweep(model, muscle_or_group: str, values: Sequence[float], metrics: str | Sequence[str] | None = None,
          fixed: Mapping[str, float] | None = None, position: str = "standing", *, coupling: bool = True,
          executor=None, progress: bool | None = False) -> SweepTable:
    """Solve the model with one muscle's (or group's) tone set to each of ``values``.

    Parameters
    ----------
    model : Model
    muscle_or_group : str
        A muscle id, bilateral name or group, as ``tone=`` accepts.
    values : sequence of float
        Resting activations in [0, 1].
    metrics : str or list of str, optional
        Measures to report (default: every measure in :data:`musclesim.MEASURES`).
    fixed : mapping, optional
        Tones held fixed in every scenario (the swept name takes precedence over an entry of the
        same name; otherwise the most specific name wins, as in :func:`musclesim.simulate`).
    position, coupling : as for :func:`musclesim.simulate`
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Passed to :func:`musclesim.simulate_many`.
    progress : bool or None
        Show a progress bar (None: when stderr is a terminal). Runs under a second show none.

    Returns
    -------
    SweepTable
        Rows in the order of ``values``; scenarios that find no posture stay, with ``ok`` False.

    Raises
    ------
    UnknownMuscleError
        ``muscle_or_group`` (or a name in ``fixed``) is not a muscle or group (close names suggested).
    ToneRangeError
        A value (or a fixed tone) is not a number in [0, 1].
    UnknownMeasureError
        A name in ``metrics`` is not a measure.
    UnknownPositionError
        ``position`` is not offered.

    Examples
    --------
    >>> import musclesim as ms
    >>> t = ms.sweep(ms.load_model(), "psoas_major", [0.05, 0.3], metrics="pelvic_tilt_deg")
    >>> [round(r["change"], 1) for r in t]
    [0.0, 3.7]
    """
    _check_name(model, muscle_or_group)
    vals = _values(muscle_or_group, values)
    mets = _metrics(metrics)
    base = {k: v for k, v in dict(fixed or {}).items() if k != muscle_or_group}
    tones = [{**base, muscle_or_group: float(v)} for v in vals]
    batch = _run(model, tones, position, coupling, executor, progress)
    cols = measure_rows_columns(batch, mets, {muscle_or_group: vals})
    return SweepTable(cols, f"sweep of {muscle_or_group}", (muscle_or_group,), (vals,), mets, (len(vals),), batch)


def grid(model, a: str, values_a: Sequence[float], b: str, values_b: Sequence[float],
         metrics: str | Sequence[str] | None = None, fixed: Mapping[str, float] | None = None,
         position: str = "standing", *, coupling: bool = True, executor=None,
         progress: bool | None = False) -> SweepTable:
    """Solve every combination of two muscles' (or groups') tones.

    Scenarios are ordered ``a``-major (``values_a[0]`` with each of ``values_b``, then
    ``values_a[1]``, ...), so ``table.matrix(measure)`` has shape ``(len(values_a), len(values_b))``.
    Other parameters as for :func:`sweep`.

    Raises
    ------
    UnknownMuscleError, ToneRangeError, UnknownMeasureError, UnknownPositionError
        As for :func:`sweep`.
    ValueError
        ``a`` and ``b`` are the same name.
    """
    _check_name(model, a)
    _check_name(model, b)
    if a == b:
        raise ValueError(f"grid needs two different names, got {a!r} twice")
    va, vb = _values(a, values_a), _values(b, values_b)
    mets = _metrics(metrics)
    base = {k: v for k, v in dict(fixed or {}).items() if k not in (a, b)}
    A, B = np.meshgrid(va, vb, indexing="ij")
    A, B = A.reshape(-1), B.reshape(-1)
    tones = [{**base, a: float(x), b: float(y)} for x, y in zip(A, B)]
    batch = _run(model, tones, position, coupling, executor, progress)
    cols = measure_rows_columns(batch, mets, {a: A, b: B})
    return SweepTable(cols, f"grid of {a} x {b}", (a, b), (A, B), mets, (len(va), len(vb)), batch)
