"""The Newton driver of the standing equilibrium, compiled: one place for every way it is solved.

Pieces, each used by the ones after it:

* :func:`newton` -- the globalised solve: quasi-Newton steps (a given matrix, Broyden-updated after
  every full step that shrinks the residual by :attr:`Settings.chord_contraction`), restarting with
  the exact Jacobian and a backtracking line search when a step does not; the joint-angle change of
  a step is capped at :attr:`Settings.max_step` (a trust region).
* :func:`newton_contracting` -- exact Newton straight to the answer, accepted only if every step is
  at most ``theta`` times the one before (Deuflhard's monotonicity test; Deuflhard, *Newton Methods
  for Nonlinear Problems*, 2011, section 3.2): an iteration that contracts this fast from its first
  step is inside the region where Newton converges to the one solution nearby.
* :func:`min_reduced_eig` -- the stability check: the smallest eigenvalue of the stiffness reduced to
  the motions that keep the postural goals (positive: a stable posture).
* :func:`follow` -- the equilibrium connected to the baseline: the straight attempt first, else the
  activation and tendon lengths ramped in :attr:`Settings.base_steps` steps, each started from a
  secant prediction and corrected by :func:`newton`; a failing step, or one that moves the joints
  much more than the last (a jump to another branch), is halved up to
  :attr:`Settings.max_halvings` times.
* :func:`follow_many` / :func:`follow_many_serial` -- :func:`follow` over a batch, in threads or in
  the calling thread.

``z = [q; lam]`` throughout: joint angles (rad) and regulation efforts (N·m, N·m, N).
"""

from __future__ import annotations

import math

import numpy as np

from numba import types
from numba.extending import overload

from .._backend import njit, njit_parallel, prange
from .contact import lying_residual_jacobian
from .kinematics import workspace
from .residual import residual_jacobian

#: Step lengths the line search tries, longest first.
LINE_SEARCH_STEPS = (1.0, 0.5, 0.25, 0.1, 0.03)
#: Goal rows weigh this much more than moment rows in the residual norm (m and rad against N·m).
GOAL_WEIGHT = 1e3


@njit
def equations(cm, st, ws, fl, z, act, lt, want_jac):
    """The residual and Jacobian of the problem: standing (regulated; ``fl`` has no contacts) or
    lying on the floor ``fl`` (:mod:`musclesim.physics.contact`)."""
    if fl.contact_pt.shape[0] > 0:
        return lying_residual_jacobian(cm, st, ws, fl, z, act, lt, want_jac)
    return residual_jacobian(cm, st, ws, z, act, lt, want_jac)


@njit
def residual_norm(R, n, weight=GOAL_WEIGHT):
    """Euclidean norm of ``R`` with the rows after the first ``n`` (goals) weighted by ``weight``."""
    acc = 0.0
    for i in range(R.shape[0]):
        v = R[i] if i < n else R[i] * weight
        acc += v * v
    return math.sqrt(acc)


@njit
def converged(R, n, tol_m, tol_g):
    """Every moment row below ``tol_m`` (N·m) and every goal row below ``tol_g``."""
    for i in range(R.shape[0]):
        if i < n:
            if abs(R[i]) >= tol_m:
                return False
        elif abs(R[i]) >= tol_g:
            return False
    return True


@njit
def _max_abs(x, n):
    big = 0.0
    for i in range(n):
        big = max(big, abs(x[i]))
    return big


def problem_equations(problem, z, want_jac):
    """The residual and Jacobian ``(R, J)`` of a problem at ``z`` (``J`` (0, 0) unless ``want_jac``):
    the one interface :func:`newton_on` drives. Compiled code only; each kind of problem registers
    its own implementation with ``numba.extending.overload``: here the sagittal one, the tuple
    ``(cm, st, ws, fl, act, lt)`` of :func:`equations`; :mod:`musclesim.lateral_kernels` the
    left-right equilibrium (its ``LateralProblem``)."""
    raise NotImplementedError("compiled code only")


@overload(problem_equations)
def _sagittal_problem_equations(problem, z, want_jac):
    if isinstance(problem, types.BaseTuple) and not isinstance(problem, types.BaseNamedTuple) and len(problem) == 6:
        def impl(problem, z, want_jac):
            cm, st, ws, fl, act, lt = problem
            return equations(cm, st, ws, fl, z, act, lt, want_jac)
        return impl
    return None


@njit
def newton(cm, st, fl, ws, z0, act, lt, B0, use_B0, tol_m, tol_g, want_final_jac, s):
    """Globalised quasi-Newton solve of the sagittal problem from ``z0`` (:func:`newton_on`).
    Returns (z, R, iterations, B, exact): ``B`` is the exact Jacobian at ``z`` when ``exact``.
    ``B0`` (used if ``use_B0``) is a nearby solution's Jacobian; otherwise the first step is exact."""
    return newton_on((cm, st, ws, fl, act, lt), cm.anc.shape[1], z0, B0, use_B0, tol_m, tol_g, want_final_jac, s)


@njit
def newton_on(problem, n, z0, B0, use_B0, tol_m, tol_g, want_final_jac, s):
    """Globalised quasi-Newton solve of any ``problem`` (:func:`problem_equations`) from ``z0``:
    the first ``n`` unknowns are the coordinates (their rows the forces, capped steps), the rest the
    efforts (their rows the goals). Returns (z, R, iterations, B, exact)."""
    z = z0.copy()
    it = 0
    exact = False
    if use_B0:
        R, _ = problem_equations(problem, z, False)
        B = B0.copy()
    else:
        R, B = problem_equations(problem, z, True)
        exact = True
    steps = np.array(LINE_SEARCH_STEPS)
    f0 = residual_norm(R, n, s.goal_weight)
    z1 = np.empty_like(z)
    while it < s.max_iter and not converged(R, n, tol_m, tol_g):
        it += 1
        dz = np.linalg.solve(B, -R)
        big = _max_abs(dz, n)
        if big > s.max_step:
            dz *= s.max_step / big
        best_f = np.inf
        best_t = 0.0
        R_best = R
        for t in steps:
            for i in range(z.shape[0]):
                z1[i] = z[i] + t * dz[i]
            R1, _ = problem_equations(problem, z1, False)
            f1 = residual_norm(R1, n, s.goal_weight)
            if np.isfinite(f1) and f1 < best_f:
                best_f, best_t, R_best = f1, t, R1
            if np.isfinite(f1) and f1 < f0:
                break
            if t == 1.0 and not exact:
                break  # a poor quasi-Newton direction: restart with the exact Jacobian instead
        if best_t == 1.0 and best_f <= s.chord_contraction * f0:
            B += np.outer(R_best - R - B @ dz, dz) / (dz @ dz)  # "good" Broyden update
            z, R, f0 = z + dz, R_best, best_f
            exact = False
            continue
        if best_f < f0 or exact:
            z, R, f0 = z + best_t * dz, R_best, best_f
        R, B = problem_equations(problem, z, True)
        f0 = residual_norm(R, n, s.goal_weight)
        exact = True
        big = _max_abs(z, n)
        if not np.isfinite(big) or big > math.pi:
            break
    if want_final_jac and not exact:
        R, B = problem_equations(problem, z, True)
        exact = True
    return z, R, it, B, exact


@njit
def newton_contracting(cm, st, fl, ws, z0, act, lt, theta, max_iter, tol_m, tol_g):
    """Exact Newton from ``z0``, kept only if every step (and the step that would follow the
    converged point) is at most ``theta`` times the one before it (largest joint-angle change).
    Returns (accepted, z, R, steps, J at z)."""
    n = cm.anc.shape[1]
    z = z0.copy()
    R, B = equations(cm, st, ws, fl, z, act, lt, True)
    last = np.inf
    it = 0
    while True:
        if not np.isfinite(residual_norm(R, n)):
            return False, z, R, it, B
        done = converged(R, n, tol_m, tol_g)
        if done and it == 0:
            return True, z, R, it, B
        if not done and it >= max_iter:
            return False, z, R, it, B
        dz = np.linalg.solve(B, -R)
        step = _max_abs(dz, n)
        if it > 0 and step > theta * last:
            return False, z, R, it, B
        if done:
            return True, z, R, it, B
        last = step
        z = z + dz
        R, B = equations(cm, st, ws, fl, z, act, lt, True)
        it += 1


@njit
def min_reduced_eig(J, n, k):
    """Smallest eigenvalue (N·m/rad) of the stiffness ``-dQ/dq`` restricted to ``null(dgoals/dq)``.

    With hard goals only, the eigenvalues of its symmetric part (the stiffness is symmetric but for
    the pressure strut's small share). A soft goal's feedback is not a potential's gradient, so its
    Schur term is far from symmetric and its symmetric part can be indefinite for a stable posture:
    then the smallest real part of the eigenvalues is used (the static, divergence test).

    A soft goal (row ``n + r`` with a non-zero diagonal, the rib cage's spring) is first solved for
    its effort and substituted (Schur complement: its regulator's stiffness joins ``dQ/dq``); the
    hard goals constrain. :func:`musclesim.mechanics.eliminate_soft_goals` is the same in numpy.
    """
    A = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            A[i, j] = J[i, j]
    nh = 0
    hard = np.empty(k, dtype=np.int64)
    for r in range(n, n + k):
        d = J[r, r]
        if d != 0.0:
            for i in range(n):
                for j in range(n):
                    A[i, j] -= J[i, r] * J[r, j] / d
        else:
            hard[nh] = r
            nh += 1
    soft = nh < k
    Kq = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            Kq[i, j] = -A[i, j] if soft else -0.5 * (A[i, j] + A[j, i])
    if nh == 0:
        return _min_real_eig(Kq)
    G = np.empty((nh, n))
    for t in range(nh):
        for j in range(n):
            G[t, j] = J[hard[t], j]
    u, sv, vt = np.linalg.svd(G)
    rank = 0
    for v in sv:
        if v > 1e-12 * max(sv.max(), 1.0):
            rank += 1
    Z = np.ascontiguousarray(vt[rank:].T)
    return _min_real_eig(Z.T @ Kq @ Z)


@njit
def _min_real_eig(K):
    """Smallest real part of the eigenvalues of a square real matrix (symmetric or not)."""
    if K.shape[0] == 0:
        return np.inf
    return np.linalg.eigvals(K.astype(np.complex128)).real.min()


@njit
def stability(cm, fl, J):
    """Smallest stiffness eigenvalue of an answer with Jacobian ``J``: standing, reduced to the
    motions that keep the postural goals (:func:`min_reduced_eig`); lying, of all the unknowns
    (joints and the floor's placement: the answer is an energy minimum)."""
    if fl.contact_pt.shape[0] > 0:
        return min_reduced_eig(J, J.shape[0], 0)
    return min_reduced_eig(J, cm.anc.shape[1], cm.k)


@njit
def solve(cm, st, fl, z0, act, lt, B0, use_B0, check, s, loose):
    """One solve (:func:`newton`) with a fresh workspace; ``loose`` multiplies the tolerances by
    :attr:`Settings.path_tol_factor`; ``check`` asks for the exact Jacobian at the answer."""
    f = s.path_tol_factor if loose else 1.0
    return newton(cm, st, fl, workspace(cm), z0, act, lt, B0, use_B0, s.tol_moment * f, s.tol_goal * f, check, s)


@njit
def follow(cm, st, fl, t0, lt0, act, lt1, z0, J0, s):
    """The equilibrium connected to the baseline (activation ``t0``, tendon rest lengths ``lt0``, m,
    state ``z0``, Jacobian ``J0``) at activation ``act`` and tendon rest lengths ``lt1``.

    Returns (ok, reached, n_states, fracs, Z, iterations, J_final, has_J, R_final, min_eig): the
    states passed are ``Z[:n_states]`` at fractions ``fracs[:n_states]`` of the way; on failure
    ``Z[n_states]`` is the last point tried.
    """
    n = cm.anc.shape[1]
    cap = 1 + s.base_steps * (1 << s.max_halvings) + 1
    fracs = np.zeros(cap)
    Z = np.zeros((cap, z0.shape[0]))
    Z[0] = z0
    ns = 1
    frac = 0.0
    h = 1.0 / s.base_steps
    min_h = h / (1 << s.max_halvings)
    z_last = z0.copy()
    J = J0.copy()
    its = 0
    ok = True
    R = np.zeros(z0.shape[0])
    Jf = J0.copy()
    has_J = False
    min_eig = np.nan
    same = True
    for i in range(act.shape[0]):
        if abs(act[i] - t0[i]) > 1e-15 or abs(lt1[i] - lt0[i]) > 1e-15:
            same = False
    if same:
        h = 1.0
    ws = workspace(cm)
    if not same and s.direct_contraction > 0:  # straight to the answer if Newton passes the contraction test
        acc, zd, Rd, itd, Jd = newton_contracting(cm, st, fl, ws, z0, act, lt1, s.direct_contraction,
                                                  s.direct_max_iter, s.tol_moment, s.tol_goal)
        its += itd
        if acc:
            min_eig = stability(cm, fl, Jd)
            if min_eig > 0:
                fracs[1] = 1.0
                Z[1] = zd
                return True, 1.0, 2, fracs, Z, its, Jd, True, Rd, min_eig
    tol_m_loose = s.tol_moment * s.path_tol_factor
    tol_g_loose = s.tol_goal * s.path_tol_factor
    last_dq = s.first_step
    last_h = h
    while frac < 1.0:
        target = min(1.0, frac + h)
        final = target >= 1.0
        a = t0 + target * (act - t0)
        lt = lt0 + target * (lt1 - lt0)
        zs = z_last  # secant predictor: extrapolate the path from the last two states
        if ns >= 2:
            w = (target - frac) / (fracs[ns - 1] - fracs[ns - 2])
            zs = Z[ns - 1] + w * (Z[ns - 1] - Z[ns - 2])
        tol_m = s.tol_moment if final else tol_m_loose
        tol_g = s.tol_goal if final else tol_g_loose
        z, R, it, Jn, hasn = newton(cm, st, fl, ws, zs, a, lt, J, True, tol_m, tol_g, final, s)
        its += it
        good = converged(R, n, tol_m, tol_g)
        dq = 0.0
        for i in range(n):
            dq = max(dq, abs(z[i] - z_last[i]))
        if good and dq > s.jump_factor * last_dq * (target - frac) / last_h + s.jump_floor:
            good = False  # moved much more than the last step: may have jumped to another branch
        if good and final:
            min_eig = stability(cm, fl, Jn)
            good = min_eig > 0
            Jf = Jn
            has_J = hasn
        if good:
            last_dq = dq
            last_h = target - frac
            frac = target
            z_last = z.copy()
            J = Jn  # exact Jacobian if one was computed, else the Broyden-updated matrix
            fracs[ns] = frac
            Z[ns] = z
            ns += 1
        else:
            h = h / 2.0
            if h < min_h * 0.999:
                ok = False
                if final and hasn:
                    Jf = Jn
                    has_J = True
                    Z[ns] = z
                break
    return ok, frac, ns, fracs, Z, its, Jf, has_J, R, min_eig


@njit
def _follow_row(cm, st, fl, t0, lt0, act, lt1, z0, J0, s, i, ok, reached, Zout, its, res, eig):
    o, fr, ns, fracs, Z, it, Jf, hj, R, me = follow(cm, st, fl, t0, lt0, act, lt1, z0, J0, s)
    n = cm.anc.shape[1]
    ok[i] = o
    reached[i] = fr
    Zout[i] = Z[ns - 1] if o else Z[ns]
    its[i] = it
    res[i] = _max_abs(R, n)
    eig[i] = me


@njit
def _batch_outputs(N, nz):
    """Per-scenario outputs of a batch: ok, reached fraction, final z (N, nz), iterations, max
    moment residual (N·m), smallest stiffness eigenvalue (N·m/rad), started from a neighbour."""
    return (np.zeros(N, dtype=np.bool_), np.zeros(N), np.zeros((N, nz)), np.zeros(N, dtype=np.int64), np.zeros(N),
            np.zeros(N), np.zeros(N, dtype=np.bool_))


@njit_parallel
def follow_many(cm, st, fl, t0, lt0, acts, lt1s, z0, J0, s):
    """:func:`follow` for every row of ``acts`` (N, M) and ``lt1s`` (N, M), in parallel threads.

    Returns per scenario: ok (N,), reached fraction (N,), final z (N, n+k), iterations (N,),
    max |moment residual| (N,), N·m, smallest reduced-stiffness eigenvalue (N,), N·m/rad.
    """
    N = acts.shape[0]
    ok, reached, Zout, its, res, eig, _ = _batch_outputs(N, z0.shape[0])
    for i in prange(N):
        _follow_row(cm, st, fl, t0, lt0, acts[i], lt1s[i], z0, J0, s, i, ok, reached, Zout, its, res, eig)
    return ok, reached, Zout, its, res, eig


@njit
def follow_many_serial(cm, st, fl, t0, lt0, acts, lt1s, z0, J0, s):
    """:func:`follow_many` in the calling thread, for a few scenarios (waking the thread pool costs
    more than it saves there): the same numbers."""
    N = acts.shape[0]
    ok, reached, Zout, its, res, eig, _ = _batch_outputs(N, z0.shape[0])
    for i in range(N):
        _follow_row(cm, st, fl, t0, lt0, acts[i], lt1s[i], z0, J0, s, i, ok, reached, Zout, its, res, eig)
    return ok, reached, Zout, its, res, eig


@njit
def chord_contracting(cm, st, fl, ws, z0, act, lt, Jinv, theta, max_iter, tol_m, tol_g):
    """Chord iteration ``z <- z - J0^-1 R(z)`` with a fixed inverse Jacobian ``Jinv`` (exact at a
    nearby solved scenario), kept only if every step is at most ``theta`` times the one before (the
    contraction test of :func:`newton_contracting`, for the chord map: a map that contracts this fast
    has one fixed point near its start, Banach). One residual per step, no Jacobian. Returns
    (accepted, z, R, steps)."""
    n = cm.anc.shape[1]
    z = z0.copy()
    R, _ = equations(cm, st, ws, fl, z, act, lt, False)
    last = np.inf
    for it in range(max_iter + 1):
        if not np.isfinite(residual_norm(R, n)):
            return False, z, R, it
        if converged(R, n, tol_m, tol_g):
            return True, z, R, it
        if it == max_iter:
            break
        dz = -(Jinv @ R)
        step = _max_abs(dz, n)
        if it > 0 and step > theta * last:
            return False, z, R, it
        last = step
        z = z + dz
        R, _ = equations(cm, st, ws, fl, z, act, lt, False)
    return False, z, R, max_iter


#: Chord steps allowed when a scenario starts from its solved neighbour in a batch, and the
#: largest activation change (or tendon-length change over optimal fibre length) of any muscle
#: for which the neighbour is used. Measured (10,000 scenarios): a sweep or a grid has neighbours
#: 1e-4 to 5e-3 apart and 97-98 % of its scenarios start there (3-7x faster, same answers to
#: 2e-8 rad); a random mix of five groups has them about 0.09 apart, where a neighbour's Jacobian
#: fails the contraction test three times in four and trying costs more than it saves.
NEIGHBOUR_MAX_ITER = 12
NEIGHBOUR_MAX_DELTA = 0.03


@njit
def _from_neighbour(cm, st, fl, ws, act, lt, z_prev, Jinv_prev, s):
    """The scenario ``act``, ``lt`` solved by chord steps from its neighbour's answer ``z_prev``
    (inverse Jacobian ``Jinv_prev``), then checked for stability with the exact Jacobian there and
    polished by one Newton step with it. Returns (accepted, z, R, iterations, J, min_eig); ``J`` is
    exact at the point before the polishing step (1e-9 rad away), where the stability was checked."""
    n = cm.anc.shape[1]
    acc, z, R, it = chord_contracting(cm, st, fl, ws, z_prev, act, lt, Jinv_prev, s.direct_contraction,
                                      NEIGHBOUR_MAX_ITER, s.tol_moment, s.tol_goal)
    if not acc:
        return False, z, R, it, ws.no_jac, np.nan
    R, J = equations(cm, st, ws, fl, z, act, lt, True)
    me = stability(cm, fl, J)
    # one exact Newton step more: the chord's linear convergence leaves the pose up to about
    # tolerance / stiffness (1e-9 rad) from the root; this makes it agree with the path's answer
    z = z - np.linalg.solve(J, R)
    R, _ = equations(cm, st, ws, fl, z, act, lt, False)
    return me > 0 and converged(R, n, s.tol_moment, s.tol_goal), z, R, it + 1, J, me


@njit
def _solve_run(cm, st, fl, t0, lt0, acts, lt1s, z0, J0, s, order, lo, hi, ok, reached, Zout, its, res, eig, warm):
    """Scenarios ``order[lo:hi]`` one after the other: each starts from the answer of the one before
    (if it succeeded and lies within :data:`NEIGHBOUR_MAX_DELTA`), else follows the path from the
    baseline (:func:`follow`); ``warm[i]`` says which way scenario ``i`` was solved."""
    n = cm.anc.shape[1]
    M = acts.shape[1]
    ws = workspace(cm)
    have_prev = False
    z_prev = z0.copy()
    Jinv_prev = np.linalg.inv(J0)
    prev = -1
    for t in range(lo, hi):
        i = order[t]
        done = False
        if have_prev:
            delta = 0.0
            for m in range(M):
                delta = max(delta, abs(acts[i, m] - acts[prev, m]), abs(lt1s[i, m] - lt1s[prev, m]) / cm.lopt[m])
            if delta <= NEIGHBOUR_MAX_DELTA:
                acc, z, R, it, J, me = _from_neighbour(cm, st, fl, ws, acts[i], lt1s[i], z_prev, Jinv_prev, s)
                its[i] = it
                if acc:
                    ok[i] = True
                    reached[i] = 1.0
                    Zout[i] = z
                    res[i] = _max_abs(R, n)
                    eig[i] = me
                    warm[i] = True
                    z_prev = z
                    Jinv_prev = np.linalg.inv(J)
                    prev = i
                    done = True
        if not done:
            o, fr, ns, fracs, Z, it, Jf, hj, R, me = follow(cm, st, fl, t0, lt0, acts[i], lt1s[i], z0, J0, s)
            ok[i] = o
            reached[i] = fr
            Zout[i] = Z[ns - 1] if o else Z[ns]
            its[i] += it
            res[i] = _max_abs(R, n)
            eig[i] = me
            have_prev = o and hj
            if have_prev:
                z_prev = Zout[i].copy()
                Jinv_prev = np.linalg.inv(Jf)
                prev = i


@njit_parallel
def follow_many_warm(cm, st, fl, t0, lt0, acts, lt1s, z0, J0, s, order, run):
    """:func:`follow_many` with scenarios started from their solved neighbours: ``order`` (N,) lists
    the scenarios so that neighbours are close (see :func:`musclesim.batch.neighbour_order`); runs of
    ``run`` consecutive scenarios go to the threads, each solved one after the other by
    :func:`_solve_run`. Returns :func:`follow_many`'s arrays and ``warm`` (N,), True where the
    neighbour's answer was the start."""
    N = acts.shape[0]
    ok, reached, Zout, its, res, eig, warm = _batch_outputs(N, z0.shape[0])
    runs = (N + run - 1) // run
    for r in prange(runs):
        _solve_run(cm, st, fl, t0, lt0, acts, lt1s, z0, J0, s, order, r * run, min(N, (r + 1) * run), ok, reached,
                   Zout, its, res, eig, warm)
    return ok, reached, Zout, its, res, eig, warm


@njit
def follow_many_warm_serial(cm, st, fl, t0, lt0, acts, lt1s, z0, J0, s, order):
    """:func:`follow_many_warm` in the calling thread, one run over the whole ``order``."""
    N = acts.shape[0]
    ok, reached, Zout, its, res, eig, warm = _batch_outputs(N, z0.shape[0])
    _solve_run(cm, st, fl, t0, lt0, acts, lt1s, z0, J0, s, order, 0, N, ok, reached, Zout, its, res, eig, warm)
    return ok, reached, Zout, its, res, eig, warm
