"""The compiled backend: numba's decorators, and the one switch between compiled and reference code.

numba is a required dependency. Every compiled function of the package is decorated here, so the
compilation options (``cache=True``: compiled once, then loaded from disk; ``nogil=True``: threads
of a server or a batch run in parallel) are set in one place.

:func:`compiled` is the only place that decides whether the compiled core runs. It is True unless
the environment variable ``MUSCLESIM_NO_NUMBA`` is set to a non-empty value, which switches the
package to its numpy reference mechanics (slow; for tests and debugging). It is read on every call
(no module-level state), so a test can set it with ``monkeypatch.setenv``.
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
