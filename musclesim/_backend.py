"""The compiled backend: numba's decorators, and the one switch between compiled and reference code.

numba is a required dependency. Every compiled function of the package is decorated here, so the
compilation options (``cache=True``: compiled once, then loaded from disk; ``nogil=True``: threads
of a server or a batch run in parallel) are set in one place.

:func:`compiled` is the only place that decides whether a compiled twin or its numpy twin runs.
It is True unless the environment variable ``MUSCLESIM_NO_NUMBA`` is set to a non-empty value. It
is read on every call (no module-level state), so a test can set it with ``monkeypatch.setenv``.

What the switch still changes (the numpy twins left in the package, each checked against its
compiled twin by the tests):

* the left-right (frontal) poses: :mod:`musclesim.lateral` (its ``poses``, path lengths and the
  spine's scalar energies) instead of :mod:`musclesim.lateral_kernels`;
* the sagittal measures of one pose: :func:`musclesim.metrics.measure` by ``measure_batch`` instead
  of :mod:`musclesim.measure_kernels`;
* lying on the compliant floor: :func:`musclesim.positions.solve_lying` by the numpy residual with a
  finite-difference Jacobian instead of the compiled contact driver (:mod:`musclesim.physics.contact`;
  rigid-contact lying is numpy either way).

It does not change the standing solve: :func:`musclesim.mechanics.solve`, :func:`~musclesim.mechanics.follow`,
:func:`~musclesim.mechanics.pose_geometry`, the batch runs and the explanations always use the
compiled core (:mod:`musclesim.physics`). Its numpy reference is a test oracle,
``tests/reference/numpy_mechanics.py``, not part of the package. So numba compiles the core on
first use even under the switch (cached on disk, ``NUMBA_CACHE_DIR`` to choose where).
"""

from __future__ import annotations

import os

import numba as _numba

#: Decorator for a compiled function (cached on disk, releases the GIL).
njit = _numba.njit(cache=True, nogil=True)
#: Decorator for a compiled function with ``prange`` loops over threads.
njit_parallel = _numba.njit(cache=True, nogil=True, parallel=True)
prange = _numba.prange
set_parallel_chunksize = _numba.set_parallel_chunksize


def compiled() -> bool:
    """True when the compiled core should run (the default); False under ``MUSCLESIM_NO_NUMBA``."""
    return not os.environ.get("MUSCLESIM_NO_NUMBA")
