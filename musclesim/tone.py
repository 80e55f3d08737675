"""Resting tone: resolving names to muscles, and the coupling between related muscles.

Tone is resting activation in [0, 1], absolute (not a change). ``tone=`` accepts muscle ids
(``psoas_major_left``), bilateral names (``psoas_major`` = both sides) and group names
(``hip_flexors``). When several names cover a muscle, the most specific wins
(muscle id > bilateral name > group), whatever the order they are given in.

Coupling (DESIGN section 4): raising one muscle's tone changes its partners' through the
interaction graph, reciprocal inhibition of antagonists and co-activation of synergists. We
propagate *changes from the resting tone* ``t0``::

    a = clip(t + W (a - t0), 0, 1)

so the resting state is its own fixed point, and iterate from ``a = t``. ``W`` has the model's
``synergist_gain`` between geometric synergists and ``antagonist_gain`` between antagonists
(same side, sharing a joint); its infinity norm is checked to be below 1, so the iteration is a
contraction (``clip`` is non-expansive) and converges. Every iterate is a propagation frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .errors import TightnessRangeError, ToneRangeError, ToneTypeError, UnknownMuscleError

#: Largest contracture accepted (degrees of range of motion lost at the muscle's main joint).
MAX_TIGHTNESS_DEG = 45.0
from .model import Model

COUPLING_TOL = 1e-12
COUPLING_MAX_ITER = 200


def _names_by_specificity(model: Model, request: Mapping[str, float]):
    names = model.names()
    ids = set(model.muscle_ids)
    bases = {m.id for m in model.muscles}

    def rank(name: str) -> int:
        return 2 if name in ids else 1 if name in bases else 0

    for name in sorted(request, key=lambda k: rank(k) if isinstance(k, str) and k in names else -1):
        if not isinstance(name, str) or name not in names:
            raise UnknownMuscleError(str(name), names)
        yield name, names[name]


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int too large for a float
        return False


def resolve_tightness(model: Model, tightness: Mapping[str, float] | None) -> dict[str, float]:
    """Map ``{name: degrees}`` to ``{muscle id: degrees}`` (same naming rules as tone).

    Tightness is a contracture expressed clinically: the degrees of range of motion the muscle
    takes away at its main joint, as a Thomas test measures a hip flexor contracture. Raises
    :class:`UnknownMuscleError` or :class:`TightnessRangeError` (not a number in [0, 45]).
    """
    if tightness is None:
        return {}
    if not isinstance(tightness, Mapping):
        raise ToneTypeError(f"tightness must be a mapping of muscle or group name to degrees, got {type(tightness).__name__}")
    out: dict[str, float] = {}
    for name, ids in _names_by_specificity(model, tightness):
        value = tightness[name]
        if not _is_number(value) or not 0.0 <= float(value) <= MAX_TIGHTNESS_DEG:
            raise TightnessRangeError(name, value, MAX_TIGHTNESS_DEG)
        for mid in ids:
            out[mid] = float(value)
    return out


def resolve(model: Model, tone: Mapping[str, float] | None, *, what: str = "tone") -> dict[str, float]:
    """Map a ``{name: value}`` request to ``{muscle id: value}`` for the muscles it names.

    Raises :class:`UnknownMuscleError` (with close names) for an unknown name and
    :class:`ToneRangeError` for a value that is not a finite number in [0, 1].
    """
    if tone is None:
        return {}
    if not isinstance(tone, Mapping):
        raise ToneTypeError(f"{what} must be a mapping of muscle or group name to a value in [0, 1], got {type(tone).__name__}")
    out: dict[str, float] = {}
    for name, ids in _names_by_specificity(model, tone):
        value = tone[name]
        if not _is_number(value) or not 0.0 <= float(value) <= 1.0:
            raise ToneRangeError(name, value)
        for mid in ids:
            out[mid] = float(value)
    return out


def tone_vector(model: Model, tone: Mapping[str, float] | None) -> np.ndarray:
    """Requested tone of every muscle instance (model order): defaults overridden by ``tone``."""
    cache = model._cache
    if "default_tone_vector" not in cache:  # built once per model
        cache["default_tone_vector"] = np.array([model.default_tone[m] for m in model.muscle_ids])
        cache["muscle_column"] = {m: i for i, m in enumerate(model.muscle_ids)}
    out = cache["default_tone_vector"].copy()
    if tone:
        column = cache["muscle_column"]
        for m, v in resolve(model, tone).items():
            out[column[m]] = v
    else:
        resolve(model, tone)  # the same checks (a mapping or None)
    return out


def coupling_matrix(model: Model, graph) -> np.ndarray:
    """``W`` (M, M) from the geometric relation edges of the interaction graph."""
    idx = {m: i for i, m in enumerate(model.muscle_ids)}
    W = np.zeros((len(idx), len(idx)))
    gains = {"synergist": model.coupling.synergist_gain, "antagonist": model.coupling.antagonist_gain}
    for a, b, d in graph.edges(data=True):
        if d.get("type") == "relation" and d.get("geometric") and d["relation"] in gains:
            W[idx[a], idx[b]] = gains[d["relation"]]
    norm = np.abs(W).sum(axis=1).max() if W.size else 0.0
    if norm >= 1.0:
        from .errors import ModelFileError

        gain = "synergist_gain" if abs(model.coupling.synergist_gain) >= abs(model.coupling.antagonist_gain) \
            else "antagonist_gain"
        raise ModelFileError(
            model.path, f"coupling.{gain}", "too large: the tone coupling would not converge",
            value=getattr(model.coupling, gain),
            allowed=f"gains whose coupling-matrix row sums stay below 1 (they reach {norm:.2f} with this graph)")
    return W


def couple(t: np.ndarray, t0: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Fixed point ``a = clip(t + W (a - t0), 0, 1)``; returns it and every iterate (frames)."""
    a = np.clip(t, 0.0, 1.0)
    frames = [a.copy()]
    if not np.any(W) or np.allclose(t, t0):
        return a, frames
    for _ in range(COUPLING_MAX_ITER):
        nxt = np.clip(t + W @ (a - t0), 0.0, 1.0)
        frames.append(nxt)
        if np.max(np.abs(nxt - a)) < COUPLING_TOL:
            a = nxt
            break
        a = nxt
    return a, frames


def coupling_solver(W: np.ndarray) -> np.ndarray:
    """``inv(I - W)``: the fixed point of :func:`couple` is ``inv(I - W) (t - W t0)`` wherever that
    lies inside [0, 1] (no clipping is active there, and the fixed point is unique)."""
    return np.linalg.inv(np.eye(len(W)) - W)


def coupled(t: np.ndarray, t0: np.ndarray, W: np.ndarray, solver: np.ndarray) -> np.ndarray:
    """The fixed point of :func:`couple` (to :data:`COUPLING_TOL`) without the iterates: one linear
    solve (``solver`` from :func:`coupling_solver`) when the answer needs no clipping, else the
    iteration started from the clipped solve (the fixed point is unique; it only gets there in
    fewer steps). The same numbers as :func:`couple_batch` with a solver."""
    d = t - t0
    if not np.any(W) or np.all(np.abs(d) <= 1e-8 + 1e-5 * np.abs(t0)):  # np.allclose(t, t0), as in couple
        return np.clip(t, 0.0, 1.0)
    a = t0 + solver @ d  # = inv(I - W) (t - W t0)
    if a.min() >= 0.0 and a.max() <= 1.0:
        return a
    return _iterate(np.clip(a, 0.0, 1.0)[None], t[None], t0, W)[0]


def _iterate(a: np.ndarray, t: np.ndarray, t0: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Iterate ``a = clip(t + W (a - t0), 0, 1)`` on rows (N, M) from ``a`` until each row moves
    less than :data:`COUPLING_TOL` (rows stop one by one)."""
    a = a.copy()
    rows = np.arange(len(a))
    for _ in range(COUPLING_MAX_ITER):
        nxt = np.clip(t[rows] + (a[rows] - t0) @ W.T, 0.0, 1.0)
        moving = np.max(np.abs(nxt - a[rows]), axis=1) >= COUPLING_TOL
        a[rows] = nxt
        rows = rows[moving]
        if not rows.size:
            break
    return a


def couple_batch(t: np.ndarray, t0: np.ndarray, W: np.ndarray, solver: np.ndarray | None = None) -> np.ndarray:
    """:func:`couple` for many rows of requested tone at once (N, M); the same iteration per row.
    Given ``solver`` (:func:`coupling_solver`), rows whose fixed point lies inside [0, 1] take it
    from one linear solve and only the others iterate."""
    a = np.clip(t, 0.0, 1.0)
    if not np.any(W):
        return a
    active = ~np.all(np.isclose(t, t0[None]), axis=1)
    if solver is not None:  # as coupled(), row by row
        exact = t0 + (t - t0) @ solver.T
        inside = np.all((exact >= 0.0) & (exact <= 1.0), axis=1) & active
        a[inside] = exact[inside]
        rest = np.flatnonzero(active & ~inside)
        if rest.size:
            a[rest] = _iterate(np.clip(exact[rest], 0.0, 1.0), t[rest], t0, W)
        return a
    for _ in range(COUPLING_MAX_ITER):
        nxt = np.where(active[:, None], np.clip(t + (a - t0) @ W.T, 0.0, 1.0), a)
        done = np.max(np.abs(nxt - a), axis=1) < COUPLING_TOL
        a = nxt
        active &= ~done
        if not active.any():
            break
    return a
