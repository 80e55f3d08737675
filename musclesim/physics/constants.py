"""Numerical constants of the sagittal equations and of the Newton driver: their one source.

Both the compiled core (:mod:`musclesim.physics`) and the numpy reference mechanics (the test
oracle ``tests/reference/numpy_mechanics.py``) read them from here.
"""

from __future__ import annotations

# --- the equations
#: Width (N) of the smooth max(F, 0) that keeps muscles from pushing.
SMOOTH_FORCE_N = 1.0
#: Normalised fibre length over which passive muscle force sets in smoothly.
PASSIVE_ONSET = 0.005
#: Width (N) of the smooth hand-over between the trunk extensor and flexor regulation.
TRUNK_BLEND_N = 5.0

# --- one solve
#: Newton stops when every moment residual is below this (N·m) ...
TOL_MOMENT_NM = 1e-6
#: ... and every postural goal is met to this (m or rad).
TOL_GOAL = 1e-9
#: Intermediate points of a path are solved this many times more loosely (they only guide the
#: path; the final answer meets the tolerances above).
PATH_TOL_FACTOR = 1e3
#: Newton/Broyden iterations per solve.
MAX_ITER = 15
#: A quasi-Newton step must shrink the residual at least this much to be kept.
CHORD_CONTRACTION = 0.8
#: Largest change of any joint angle in one Newton step (rad): a trust region.
MAX_STEP_RAD = 0.1

# --- the path from the baseline
#: Steps of the path from the baseline to the requested activation ...
CONTINUATION_STEPS = 4
#: ... each of which may be halved this many times before the path is declared lost.
MAX_HALVINGS = 3
#: A step whose largest joint-angle change exceeds JUMP_FACTOR x the previous step's (scaled to the
#: step length) + JUMP_FLOOR_RAD is taken to have jumped to another equilibrium branch and is halved;
#: the first step may change a joint by up to FIRST_STEP_RAD. (A quasi-Newton step from a stale
#: Jacobian can leap across a fold; following the path must not.)
JUMP_FACTOR, JUMP_FLOOR_RAD, FIRST_STEP_RAD = 2.0, 0.005, 0.15
#: Before following the path, Newton's method (exact Jacobians) is tried straight from the
#: baseline pose to the answer. Its answer is kept only if every step after the first is at most
#: DIRECT_CONTRACTION times the one before (largest joint-angle change), it converges within
#: DIRECT_MAX_ITER steps, and the posture is stable; otherwise the path is followed. This is
#: Deuflhard's monotonicity test: an iteration that contracts this fast from its first step is
#: inside the region where Newton converges to the one solution nearby (Newton-Kantorovich), the
#: solution the path reaches from the baseline. Where the path bends (a buckling knee, a second
#: branch), the steps grow and the direct answer is rejected. ``tests/test_fast_paths.py``
#: compares both on hundreds of scenarios; the benchmark's mix of tones had two of 300 scenarios
#: where plain Newton landed on another branch and this test rejects both. (Deuflhard, Newton
#: Methods for Nonlinear Problems, 2011, section 3.2.)
DIRECT_CONTRACTION, DIRECT_MAX_ITER = 0.5, 8
