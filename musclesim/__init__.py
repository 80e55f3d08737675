"""musclesim: an anatomical muscle-interaction simulator.

Raise a muscle's resting tone and see what happens to pelvic tilt, the lumbar curve and the rest
of the standing body -- and why::

    import musclesim as ms
    model = ms.load_model()
    base = ms.simulate(model)
    res = ms.simulate(model, tone={"psoas_major": 0.6})
    res.change["pelvic_tilt_deg"]
    ms.explain(res, base)["pelvic_tilt_deg"].text

Importing the package does no work: submodules (numpy, scipy, networkx) load on first use.
The functions live in modules with different names (``simulate`` in :mod:`musclesim.simulation`,
``explain`` in :mod:`musclesim.explanation`): a submodule named like a lazily exported function
would replace it as a package attribute once imported.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load_model": "io", "available_models": "io", "read_model_file": "io",
    "simulate_many": "batch", "BatchResult": "batch", "BatchRow": "batch", "Status": "status",
    "simulate": "simulation", "baseline": "simulation", "Result": "simulation", "POSITIONS": "simulation",
    "interaction_graph": "simulation",
    "explain": "explanation", "Explanation": "explanation",
    "build_graph": "graph", "contradicted_relations": "graph", "graph_to_json": "graph",
    "MEASURES": "metrics",
    "load_scenario": "scenarios", "run_scenarios": "scenarios", "Scenario": "scenarios",
    "sweep": "sweeps", "grid": "sweeps", "SweepTable": "sweeps",
    "sensitivity": "sensitivity_analysis", "Sensitivity": "sensitivity_analysis",
    "errors": None,
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'musclesim' has no attribute {name!r}")
    mod = _EXPORTS[name]
    if mod is None:
        return importlib.import_module(f".{name}", __name__)
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
