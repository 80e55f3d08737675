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
