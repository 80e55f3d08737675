"""The dashboard's calls into the musclesim API, memoised.

No physics here: every number comes from :func:`musclesim.simulate` (its ``Result.split``
too) and :func:`musclesim.explain`. The caches hold pure functions of their arguments (a tone, a
position), never a user's state, so any number of users share them safely; each is bounded.
"""

from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType

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
def _solve(tone_items: tuple[tuple[str, float], ...], position: str, tight_items: tuple = (), coupling: bool = True):
    return ms.simulate(get_model(), tone=dict(tone_items) or None, position=position,
                       **({"tightness": dict(tight_items)} if tight_items else {}),
                       **({} if coupling else {"coupling": False}))


def solve(tone: dict, position: str, tight: dict | None = None, coupling: bool = True):
    """``ms.simulate`` for ``{muscle id: value}`` tone and ``{muscle id: degrees}`` tightness, with
    the neural tone coupling on or off (memoised)."""
    return _solve(tone_key(tone), position, tone_key(tight or {}), bool(coupling))


def baseline(position: str):
    """The resting-tone result in ``position`` (the same with the coupling on or off: at the
    resting tone it has nothing to propagate; :mod:`musclesim.attribution`)."""
    return _solve((), position, (), True)


@lru_cache(maxsize=SOLVE_CACHE)
def _explain(tone_items: tuple[tuple[str, float], ...], position: str, measure: str, tight_items: tuple = (),
             coupling: bool = True):
    res, base = _solve(tone_items, position, tight_items, coupling), _solve((), position, (), True)
    if not (res.ok and base.ok) or not (tone_items or tight_items):
        return None, ""
    try:
        return ms.explain(res, base, measures=[measure]).get(measure), ""
    except ValueError as exc:  # the API declines (a failed solve, or a position it cannot explain yet)
        return None, str(exc)


def explain(tone: dict, position: str, measure: str, tight: dict | None = None, coupling: bool = True):
    """``(Explanation or None, the API's reason when it declined)`` for one measure's change."""
    return _explain(tone_key(tone), position, measure, tone_key(tight or {}), bool(coupling))


#: Splits kept per process (plain data, a few kB each: more than the solves they come from).
SPLIT_CACHE = 512


@lru_cache(maxsize=SPLIT_CACHE)
def _split(tone_items: tuple[tuple[str, float], ...], position: str, tight_items: tuple = (), coupling: bool = True):
    res = _solve(tone_items, position, tight_items, coupling)
    sp = res.split  # lazy: one coupling-off solve on first read (none when the coupling changed nothing)
    d = sp.as_dict()
    return MappingProxyType({
        "state": d["state"], "message": d["message"], "ok": bool(sp.ok), "coupling": bool(coupling),
        "evidence": MappingProxyType({k: d["evidence"][k] for k in ("grade", "label", "source")}),
        "measures": MappingProxyType({k: MappingProxyType(dict(row)) for k, row in d["measures"].items()}),
    })


def split(tone: dict, position: str, tight: dict | None = None, coupling: bool = True):
    """How much of each measure's change is mechanics and how much the assumed tone coupling
    (:attr:`musclesim.Result.split` of :func:`solve`'s result), as read-only plain data:
    ``{"state", "message", "ok", "coupling", "evidence": {"grade", "label", "source"},
    "measures": {measure: {"total", "mechanics", "coupling"}}}`` (unknown parts are None).
    Memoised: the coupling-off solve runs once per scenario, however often the page redraws."""
    return _split(tone_key(tone), position, tone_key(tight or {}), bool(coupling))


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
    _split.cache_clear()
