"""The dashboard's calls into the musclesim API, memoised.

No physics here: every number comes from :func:`musclesim.simulate` and
:func:`musclesim.explain`. The caches hold pure functions of their arguments (a tone, a
position), never a user's state, so any number of users share them safely; each is bounded.
"""

from __future__ import annotations

from functools import lru_cache

import musclesim as ms

from .state import tone_key

#: Solves kept per process (a Result with its frames is roughly 100 kB).
SOLVE_CACHE = 128


@lru_cache(maxsize=1)
def get_model():
    """The default model, loaded once per process (models are immutable)."""
    return ms.load_model()


def positions() -> tuple[str, ...]:
    """The positions the model offers, as the API lists them."""
    return tuple(ms.POSITIONS)


def measures() -> tuple[str, ...]:
    from musclesim.metrics import MEASURES

    return tuple(MEASURES)


def measure_info():
    from musclesim.metrics import MEASURES

    return MEASURES


@lru_cache(maxsize=SOLVE_CACHE)
def _solve(tone_items: tuple[tuple[str, float], ...], position: str, tight_items: tuple = ()):
    return ms.simulate(get_model(), tone=dict(tone_items) or None, position=position,
                       **({"tightness": dict(tight_items)} if tight_items else {}))


def solve(tone: dict, position: str, tight: dict | None = None):
    """``ms.simulate`` for ``{muscle id: value}`` tone and ``{muscle id: degrees}`` tightness
    (memoised)."""
    return _solve(tone_key(tone), position, tone_key(tight or {}))


def baseline(position: str):
    """The resting-tone result in ``position``."""
    return _solve((), position, ())


@lru_cache(maxsize=SOLVE_CACHE)
def _explain(tone_items: tuple[tuple[str, float], ...], position: str, measure: str, tight_items: tuple = ()):
    res, base = _solve(tone_items, position, tight_items), _solve((), position, ())
    if not (res.ok and base.ok) or not (tone_items or tight_items):
        return None, ""
    try:
        return ms.explain(res, base, measures=[measure]).get(measure), ""
    except ValueError as exc:  # the API declines (a failed solve, or a position it cannot explain yet)
        return None, str(exc)


def explain(tone: dict, position: str, measure: str, tight: dict | None = None):
    """``(Explanation or None, the API's reason when it declined)`` for one measure's change."""
    return _explain(tone_key(tone), position, measure, tone_key(tight or {}))


@lru_cache(maxsize=1)
def tightness_joints() -> dict[str, str]:
    """``{muscle id: the joint where its tightness is measured}`` (empty if the API lacks it)."""
    try:
        from musclesim.simulation import tightness_joints as tj
    except ImportError:  # pragma: no cover - older core
        return {}
    return {m: j for m, (j, _) in tj(get_model()).items()}


def graph():
    """The model's interaction graph (cached on the model by the API)."""
    return ms.interaction_graph(get_model())


@lru_cache(maxsize=1)
def graph_positions() -> dict:
    """The graph view's node positions (deterministic, computed once)."""
    from musclesim.plot import graph_layout

    return graph_layout(graph())


@lru_cache(maxsize=1)
def partners() -> dict[str, str]:
    """``{muscle id: the same muscle on the other side}`` for bilateral muscles."""
    by_base: dict[str, list[str]] = {}
    for inst in get_model().instances:
        by_base.setdefault(inst.base, []).append(inst.id)
    out = {}
    for ids in by_base.values():
        if len(ids) == 2:
            out[ids[0]], out[ids[1]] = ids[1], ids[0]
    return out


@lru_cache(maxsize=64)
def claim_verdict(claim_id: str) -> dict | None:
    """The claims catalogue's computed verdict for one claim (None if the catalogue lacks it)."""
    try:
        from musclesim import claims
    except ImportError:  # pragma: no cover - older core
        return None
    try:
        return claims.evaluate(get_model(), claims.claim(claim_id)).as_dict()
    except (KeyError, ValueError):
        return None


def clear_caches() -> None:
    """Forget memoised solves (benchmarks use it to time cold updates)."""
    _solve.cache_clear()
    _explain.cache_clear()
