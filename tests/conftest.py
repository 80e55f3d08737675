"""Shared fixtures: the default model, loaded once per test session, and what is derived from it.

``musclesim.load_model()`` reads and validates the model file each time and every Model keeps
its own caches (prepared mechanics, baselines, graph), so a model per test module repeats the
same work in every module. Everything cached on a Model is derived data (no test writes to it),
so sharing one Model across the session changes no result. A module that needs its own model
(e.g. a modified copy) defines a ``model`` fixture of its own, which overrides these.
"""

from __future__ import annotations

import pytest

import musclesim as ms


@pytest.fixture(scope="session")
def model():
    """The default model (``models/adult_standing``), shared by the session."""
    return ms.load_model()


@pytest.fixture(scope="session")
def mech(model):
    """The model's prepared mechanics (:func:`musclesim.mechanics.prepare`; cached on the model)."""
    from musclesim.mechanics import prepare

    return prepare(model)


@pytest.fixture(scope="session")
def baseline_result(model):
    """The standing baseline: resting tone, no tightness (``ms.simulate(model)``)."""
    return ms.simulate(model)
