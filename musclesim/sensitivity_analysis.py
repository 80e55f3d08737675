"""Which muscles' tone moves a measure most: local derivatives, a one-at-a-time swing, and a global
screening (Morris elementary effects in numpy, or Sobol indices with SALib when installed).

Three views, each answering a different question, all from batch solves
(:func:`musclesim.simulate_many`):

``derivative``
    Local: d(measure)/d(tone) at the resting tone, by central differences of step ``step``
    (one-sided where the tone sits at 0 or 1). Units: the measure's unit per unit activation.
    Says what a small change from rest does; blind to thresholds and interactions.
``low`` / ``high``
    One at a time: the measure's change when that muscle alone is set to ``tone_range[0]`` and to
    ``tone_range[1]`` (everything else resting). The bars of the tornado plot.
``mu_star``, ``mu``, ``sigma`` (``method="morris"``, the default)
    Global: Morris (1991) elementary effects over ``trajectories`` random one-factor-at-a-time
    paths on a ``levels``-level grid, every muscle's tone varying in ``tone_range`` at once.
    ``mu_star`` (mean absolute effect, the ranking key) and ``mu`` in the measure's unit per unit
    activation; ``sigma`` (their spread) large against ``mu_star`` flags nonlinearity or
    interactions. Effects whose scenarios found no posture are left out and counted.
``S1``, ``ST`` (``method="sobol"``, needs SALib: ``pip install 'musclesim[analysis]'``)
    Global: first-order and total Sobol indices (Saltelli sampling, ``samples`` base samples).
    Scenarios with no posture get the mean of the others (counted in ``n_failed``, see ``notes``).

The factors are bilateral muscle names by default (``psoas_major`` = both sides); any name that
``tone=`` accepts works (a group moves all its members together).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import SolverError, UnknownMeasureError, UnknownMuscleError
from .tables import Table, require

METHODS = ("morris", "sobol")


@dataclass(frozen=True, eq=False)
class Sensitivity:
    """The sensitivity of one measure to each muscle's tone (see the module docstring).

    Arrays are in the order of ``muscles`` (as given); :meth:`ranking` sorts them.
    """

    measure: str
    unit: str
    baseline: float
    muscles: tuple[str, ...]
    resting_tone: np.ndarray
    derivative: np.ndarray
    step: float
    low: np.ndarray
    high: np.ndarray
    tone_range: tuple[float, float]
    method: str
    indices: Mapping[str, np.ndarray]
    key: str  # the global index that ranks: "mu_star" or "ST"
    n_scenarios: int
    n_failed: int
    settings: Mapping[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def swing(self) -> np.ndarray:
        """``|high - low|`` per muscle; where one end found no posture, ``|change|`` at the other end
        (NaN where neither did)."""
        both = np.abs(self.high - self.low)
        one = np.fmax(np.abs(self.low), np.abs(self.high))
        return np.where(np.isnan(both), one, both)

    def ranking(self, by: str = "global") -> list[tuple[str, float]]:
        """``(muscle, score)`` from the largest effect down.

        ``by``: ``"global"`` (``mu_star`` or ``ST``), ``"local"`` (``|derivative|``) or
        ``"swing"`` (``|high - low|``). NaN scores go last.
        """
        score = {"global": self.indices[self.key], "local": np.abs(self.derivative), "swing": self.swing}.get(by)
        if score is None:
            raise ValueError(f"by must be 'global', 'local' or 'swing', got {by!r}")
        key = np.where(np.isnan(score), -np.inf, score)
        order = sorted(range(len(self.muscles)), key=lambda i: (-key[i], self.muscles[i]))
        return [(self.muscles[i], float(score[i])) for i in order]

    def top(self, n: int = 5, by: str = "global") -> list[str]:
        """The ``n`` muscles with the largest effect."""
        return [m for m, _ in self.ranking(by)[:n]]

    def table(self) -> Table:
        """One row per muscle in ranking order: rank, muscle, derivative, low, high, the global indices."""
        order = [self.muscles.index(m) for m, _ in self.ranking()]
        cols: dict = {"rank": list(range(1, len(order) + 1)), "muscle": [self.muscles[i] for i in order],
                      "resting_tone": self.resting_tone[order], "derivative": self.derivative[order],
                      "low": self.low[order], "high": self.high[order]}
        for k, v in self.indices.items():
            cols[k] = np.asarray(v)[order]
        return Table(cols, f"sensitivity of {self.measure} ({self.method})")

    def as_dict(self) -> dict:
        """Plain data (JSON-ready: NaN as None)."""
        return {
            "measure": self.measure, "unit": self.unit, "baseline": _f(self.baseline), "method": self.method,
            "ranked_by": self.key, "tone_range": list(self.tone_range), "step": self.step,
            "n_scenarios": self.n_scenarios, "n_failed": self.n_failed, "settings": dict(self.settings),
            "notes": list(self.notes), "muscles": self.table().records(),
        }

    def _repr_html_(self) -> str:
        lo, hi = self.tone_range
        unit = html.escape(self.unit)
        head = (f"<p><b>Sensitivity of {html.escape(self.measure)}</b> (baseline {self.baseline:.2f} {unit}); "
                f"ranked by {self.key} ({self.method}, tone {lo:g}–{hi:g}); {self.n_scenarios} scenarios"
                + (f", {self.n_failed} without a posture" if self.n_failed else "") + "</p>")
        keys = list(self.indices)
        th = "".join(f"<th>{html.escape(k)}</th>" for k in
                     ["#", "muscle", f"d/dtone ({unit})", f"tone {lo:g} ({unit})", f"tone {hi:g} ({unit})", *keys])
        rows = []
        for r in self.table():
            cells = [str(r["rank"]), html.escape(r["muscle"])] + [
                _cell(r[k]) for k in ("derivative", "low", "high", *keys)]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        notes = "".join(f"<p><i>{html.escape(n)}</i></p>" for n in self.notes)
        return f"<div>{head}<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>{notes}</div>"


def _f(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _cell(v) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:+.3g}"


def _factor_ids(model, muscles: Sequence[str] | None) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    names = model.names()
    muscles = tuple(m.id for m in model.muscles) if muscles is None else tuple(dict.fromkeys(muscles))
    if not muscles:
        raise ValueError("muscles must name at least one muscle or group")
    for m in muscles:
        if m not in names:
            raise UnknownMuscleError(m, names)
    return muscles, [names[m] for m in muscles]


def morris_design(k: int, trajectories: int, levels: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Morris (1991) trajectories in the unit cube.

    Returns ``X`` (trajectories, k + 1, k), each trajectory moving one factor per step by
    ``±delta`` with ``delta = levels / (2 (levels - 1))``, and ``moved`` (trajectories, k): the
    factor moved at each step.
    """
    if levels < 2 or levels % 2:
        raise ValueError(f"levels must be an even number >= 2, got {levels}")
    delta = levels / (2.0 * (levels - 1))
    grid = np.arange(levels // 2) / (levels - 1)  # starting levels with room for +delta
    X = np.empty((trajectories, k + 1, k))
    moved = np.empty((trajectories, k), int)
    for r in range(trajectories):
        x = rng.choice(grid, size=k)
        sign = rng.choice([-1.0, 1.0], size=k)
        x = np.where(sign < 0, x + delta, x)  # a downward step starts high
        order = rng.permutation(k)
        X[r, 0] = x
        for s, i in enumerate(order, start=1):
            x = x.copy()
            x[i] += sign[i] * delta
            X[r, s] = x
        moved[r] = order
    return X, moved


def morris_effects(U: np.ndarray, moved: np.ndarray, Y: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Elementary effects (trajectories, k) of a :func:`morris_design`.

    ``Y`` (trajectories, k + 1) holds the output at each point; ``scale`` converts unit-cube steps
    to input units (the width of the input range), so effects are output units per input unit.
    An effect is NaN where either of its two outputs is NaN.
    """
    T, k1, k = U.shape
    steps = np.diff(U, axis=1)  # (T, k, k): step s moves factor moved[t, s] only
    t_idx, s_idx = np.meshgrid(np.arange(T), np.arange(k), indexing="ij")
    dx = steps[t_idx, s_idx, moved] * scale  # (T, k) signed step of the moved factor
    ee = np.full((T, k), np.nan)
    ee[t_idx, moved] = np.diff(Y, axis=1) / dx
    return ee


def sensitivity(model, measure: str, muscles: Sequence[str] | None = None, *, position: str = "standing",
                coupling: bool = True, method: str = "morris", step: float = 0.01,
                tone_range: tuple[float, float] = (0.0, 0.3), trajectories: int = 30, levels: int = 4,
                samples: int = 64, seed: int = 0, executor=None, progress: bool | None = False) -> Sensitivity:
    """Rank muscles by their effect on ``measure``.

    Parameters
    ----------
    model : Model
    measure : str
        A name in :data:`musclesim.MEASURES`.
    muscles : list of str, optional
        Factors (names as ``tone=`` accepts). Default: every bilateral muscle name of the model.
    position, coupling : as for :func:`musclesim.simulate`
    method : "morris" or "sobol"
        The global method ("sobol" needs SALib).
    step : float
        Tone step of the central differences around the resting tone.
    tone_range : (float, float)
        The tone interval of the one-at-a-time swing and of the global design.
    trajectories, levels : int
        Morris design: number of trajectories and of grid levels (even).
    samples : int
        Sobol design: Saltelli base samples (a power of 2); ``samples * (k + 2)`` scenarios.
    seed : int
        Seed of the random design (results are reproducible).
    executor, progress : as for :func:`musclesim.sweep`

    Returns
    -------
    Sensitivity

    Raises
    ------
    UnknownMeasureError
        ``measure`` is not in :data:`musclesim.MEASURES`.
    UnknownMuscleError
        A name in ``muscles`` is not a muscle or group.
    UnknownPositionError
        ``position`` is not offered.
    ValueError
        ``method``, ``tone_range``, ``step`` or ``levels`` out of range.
    MissingExtraError
        ``method="sobol"`` without SALib installed (an :class:`ImportError`).
    SolverError
        ``method="sobol"`` and no scenario of the design finds a posture (a :class:`RuntimeError`).
    """
    from .metrics import MEASURES
    from .progress import simulate_in_pieces

    if measure not in MEASURES:
        raise UnknownMeasureError(measure, MEASURES)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    lo, hi = (float(tone_range[0]), float(tone_range[1]))
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"tone_range must satisfy 0 <= low < high <= 1, got {tone_range!r}")
    if not 0.0 < step <= 0.5:
        raise ValueError(f"step must be in (0, 0.5], got {step!r}")
    if method == "sobol":
        require("SALib", "analysis", "method='sobol'")
    names, members = _factor_ids(model, muscles)
    k = len(names)
    t0 = model.default_tone
    rest = np.array([np.mean([t0[i] for i in ids]) for ids in members])

    # local: central differences, each member around its own resting tone
    tones: list[dict] = []
    widths = np.empty(k)
    for j, ids in enumerate(members):
        down = min(step, min(t0[i] for i in ids))
        up = min(step, min(1.0 - t0[i] for i in ids))
        widths[j] = up + down
        tones.append({i: t0[i] - down for i in ids})
        tones.append({i: t0[i] + up for i in ids})
    # one at a time: the whole factor at the ends of the range
    for name in names:
        tones.append({name: lo})
        tones.append({name: hi})
    n_local = len(tones)

    rng = np.random.default_rng(seed)
    notes: list[str] = []
    if method == "morris":
        U, moved = morris_design(k, trajectories, levels, rng)
        X = lo + (hi - lo) * U.reshape(-1, k)
        settings = {"trajectories": trajectories, "levels": levels, "seed": seed}
    else:
        from SALib.sample import sobol as sobol_sample

        problem = {"num_vars": k, "names": list(names), "bounds": [[lo, hi]] * k}
        X = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
        settings = {"samples": samples, "seed": seed}
    tones.extend({n: float(x) for n, x in zip(names, row)} for row in X)

    batch = simulate_in_pieces(model, tones, position, coupling=coupling, executor=executor, progress=progress,
                               desc=f"sensitivity of {measure}")
    y = np.asarray(batch.metrics[measure], float)
    base = float(batch.baseline_metrics[measure])
    pairs = y[:2 * k].reshape(k, 2)
    derivative = (pairs[:, 1] - pairs[:, 0]) / widths
    ends = y[2 * k:n_local].reshape(k, 2) - base
    yg = y[n_local:]
    n_failed = int(np.count_nonzero(~np.asarray(batch.ok, bool)))

    if method == "morris":
        ee = morris_effects(U, moved, yg.reshape(trajectories, k + 1), hi - lo)
        used = np.count_nonzero(~np.isnan(ee), axis=0)
        with np.errstate(invalid="ignore"), _quiet():
            indices = {"mu_star": np.nanmean(np.abs(ee), axis=0), "mu": np.nanmean(ee, axis=0),
                       "sigma": np.nanstd(ee, axis=0, ddof=1) if trajectories > 1 else np.zeros(k)}
        indices["n_effects"] = used.astype(float)
        key = "mu_star"
        lost = int(ee.size - used.sum())
        if lost:
            notes.append(f"{lost} of {ee.size} elementary effects were left out: a scenario at one end found no "
                         f"standing posture")
    else:
        from SALib.analyze import sobol as sobol_analyze

        bad = np.isnan(yg)
        if bad.all():
            raise SolverError(f"no scenario of the Sobol design found a posture; narrow tone_range {tone_range!r}")
        if bad.any():
            notes.append(f"{int(bad.sum())} of {len(yg)} Sobol scenarios found no standing posture; their "
                         f"{measure} was replaced by the mean of the others")
            yg = np.where(bad, np.nanmean(yg), yg)
        Si = sobol_analyze.analyze(problem, yg, calc_second_order=False, print_to_console=False, seed=seed)
        indices = {"ST": np.asarray(Si["ST"]), "ST_conf": np.asarray(Si["ST_conf"]),
                   "S1": np.asarray(Si["S1"]), "S1_conf": np.asarray(Si["S1_conf"])}
        key = "ST"
    if np.isnan(derivative).any():
        notes.append("some local derivatives are missing: the resting posture was lost within one step")
    return Sensitivity(measure, MEASURES[measure].unit, base, names, rest, derivative, step, ends[:, 0],
                       ends[:, 1], (lo, hi), method, indices, key, len(tones), n_failed, settings, tuple(notes))


class _quiet:
    """Silence numpy's "mean of empty slice" warnings (a muscle whose effects all failed is NaN)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)
