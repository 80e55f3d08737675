"""The compiled physics core of the sagittal equilibrium.

Layers, each importing only those before it::

    compiled   (CompiledModel, Settings, Structure, Workspace: named arrays, no numba)
    kinematics (points, derivatives, muscle paths, pose geometry)
    forces     (the force terms: muscles, gravity, passive joints, regulation, pressure)
    residual   (the equations assembled from the terms; the per-contributor moment table)
    newton     (the Newton driver: globalised solve, contraction test, stability, path, batches)

:func:`compiled_model` gives a prepared model's :class:`~musclesim.physics.compiled.CompiledModel`
and :class:`~musclesim.physics.compiled.Structure`, built once per
:class:`musclesim.mechanics.Mechanics` and kept on it.
"""

from __future__ import annotations


def compiled_model(mech):
    """(CompiledModel, Structure) of a prepared model, built on first use and kept on ``mech``."""
    parts = mech._local.get("compiled")
    if parts is None:
        from .compiled import compile_model
        from .kinematics import structure

        cm = compile_model(mech)
        parts = (cm, structure(cm))
        mech._local["compiled"] = parts
    return parts


def floor_of(mech, position=None):
    """The :class:`~musclesim.physics.compiled.Floor` of a position for a prepared model: no
    contacts when ``position`` is None (standing: the regulated equations), else the compliant
    contacts of ``position`` (a :class:`musclesim.positions.Position`; see
    :mod:`musclesim.physics.contact`). Built once per position and kept on ``mech``."""
    key = ("floor", position)
    fl = mech._local.get(key)
    if fl is None:
        import numpy as np

        from .compiled import Floor

        _, st = compiled_model(mech)
        if position is None:
            fl = Floor(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.bool_), np.zeros(0), False, 0.0, 0.0, 0.0,
                       st.pts)
        elif not position.compliant:
            raise ValueError(f"position {position.name!r} has rigid contacts: the compiled core solves compliant ones")
        else:
            fl = position.compiled_floor(mech, st)
        mech._local[key] = fl
    return fl
