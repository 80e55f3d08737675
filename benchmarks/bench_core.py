"""Benchmark of the core: import, first solve, simulate (baseline and changed tone), explain.

    python benchmarks/bench_core.py            # full run (>= 200 repetitions), writes benchmarks/results_core.json
    python benchmarks/bench_core.py --quick    # a few seconds
    python benchmarks/bench_core.py --lateral  # only the one-sided (left-right) benchmark, printed

Reports the median and p90 of wall-clock times over many runs and the machine it ran on.
Timings are for reading, not for asserting: machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(fn, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return {"median_ms": 1e3 * statistics.median(times), "p90_ms": 1e3 * times[int(0.9 * (len(times) - 1))],
            "runs": repeat}


def timed_pair(fn1, fn2, repeat: int) -> tuple[dict, dict]:
    """:func:`timed` of two functions called in turn, so that a slow spell of the machine falls on
    both alike (their ratio is what is read)."""
    t1, t2 = [], []
    for _ in range(repeat):
        for fn, times in ((fn1, t1), (fn2, t2)):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    out = []
    for times in (t1, t2):
        times.sort()
        out.append({"median_ms": 1e3 * statistics.median(times), "p90_ms": 1e3 * times[int(0.9 * (len(times) - 1))],
                    "runs": repeat})
    return out[0], out[1]


def in_fresh_process(code: str, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        times.append(float(out.strip().splitlines()[-1]))
    times.sort()
    return {"median_ms": 1e3 * statistics.median(times), "p90_ms": 1e3 * times[int(0.9 * (len(times) - 1))],
            "runs": repeat}


def side_by_side(model, count: int) -> dict:
    """The same equilibria solved three ways: the compiled kernels, the numpy reference path (the
    same algorithm in numpy arrays with the analytic Jacobian and Python loops) and the compiled
    stepped continuation alone (``direct=False``: no Newton straight to the answer).

    Reports the median time of each, the speed-ups, the largest joint-angle difference (rad)
    between compiled and numpy, and between the direct and stepped answers (those agree to the
    solver's tolerance, 1e-6 N·m, not to round-off: they stop at different iterates).
    """
    import numpy as np

    sys.path.insert(0, str(HERE.parent / "tests"))  # the numpy reference is a test oracle, not part of the package
    from reference.numpy_mechanics import follow_numpy

    from musclesim.mechanics import follow, prepare
    from musclesim.simulation import _coupling, baseline
    from musclesim.tone import couple, tone_vector

    mech = prepare(model)
    base = baseline(model)._state["eq"]
    t0 = tone_vector(model, None)
    rng = np.random.default_rng(0)
    names = ["psoas_major", "iliacus", "glutes", "hamstrings", "abdominals"]
    acts = [couple(tone_vector(model, {n: float(rng.uniform(0, 0.3)) for n in names}), t0, _coupling(model))[0]
            for _ in range(count)]
    fast, slow, stepped, diff, diff_stepped, agree, direct = [], [], [], 0.0, 0.0, 0, 0
    for a in acts:
        t = time.perf_counter()
        p1 = follow(mech, t0, a, base.q, base.lam, base.jacobian)
        fast.append(time.perf_counter() - t)
        t = time.perf_counter()
        p2 = follow_numpy(mech, t0, a, base.q, base.lam, base.jacobian)
        slow.append(time.perf_counter() - t)
        t = time.perf_counter()
        p3 = follow(mech, t0, a, base.q, base.lam, base.jacobian, direct=False)
        stepped.append(time.perf_counter() - t)
        direct += len(p1.fractions) == 2
        if p1.ok and p2.ok:
            agree += 1
            diff = max(diff, float(np.max(np.abs(p1.final.q - p2.final.q))))
        if p1.ok and p3.ok:
            diff_stepped = max(diff_stepped, float(np.max(np.abs(p1.final.q - p3.final.q))))
    return {"scenarios": count, "both_ok": agree, "went_straight": direct,
            "compiled_median_ms": 1e3 * statistics.median(fast),
            "numpy_median_ms": 1e3 * statistics.median(slow),
            "stepped_only_median_ms": 1e3 * statistics.median(stepped),
            "speedup": statistics.median(slow) / statistics.median(fast),
            "speedup_over_stepped": statistics.median(stepped) / statistics.median(fast),
            "max_angle_difference_rad": diff, "max_angle_difference_direct_vs_stepped_rad": diff_stepped}


#: The last commit of the core before it was rebuilt on musclesim/physics (kernels.py with pack()).
OLD_CORE_REF = "730f30a"


def old_vs_new(model, count: int, ref: str = OLD_CORE_REF) -> dict | None:
    """The compiled solve of the core before the rebuild (``musclesim/kernels.py`` at ``ref``, read
    from git into a temporary module) and of today's core (:mod:`musclesim.physics`), called in turn
    on the same scenarios: median time per solve and the largest joint-angle difference (rad). None
    without git or that commit."""
    import importlib.util
    import tempfile

    import numpy as np

    from musclesim.mechanics import CONTINUATION_STEPS, MAX_HALVINGS, MAX_ITER, prepare
    from musclesim.physics import compiled_model, floor_of, newton
    from musclesim.physics.compiled import settings
    from musclesim.simulation import _coupling, baseline
    from musclesim.tone import couple, tone_vector

    src = subprocess.run(["git", "show", f"{ref}:musclesim/kernels.py"], capture_output=True, text=True,
                         cwd=HERE.parent)
    if src.returncode != 0:
        return None
    folder = Path(tempfile.mkdtemp(prefix="musclesim-old-core-"))
    (folder / "old_kernels.py").write_text(src.stdout)
    spec = importlib.util.spec_from_file_location("musclesim._old_kernels", folder / "old_kernels.py")
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    mech = prepare(model)
    packed = old.pack(mech)
    structure = old.structure(packed[0], packed[4], packed[5], packed[6], packed[7], packed[8], len(packed[9]))
    limits = np.array([2.0, 0.005, 0.15, 1e3, 0.5, 8])  # jump_limits(direct=True) of that version
    cm, st = compiled_model(mech)
    fl, s = floor_of(mech), settings()
    base = baseline(model)._state["eq"]
    t0, lt = tone_vector(model, None), mech.chain.l_tendon_m
    z0, J0 = np.concatenate((base.q, base.lam)), np.ascontiguousarray(base.jacobian)
    rng = np.random.default_rng(0)
    names = ["psoas_major", "iliacus", "glutes", "hamstrings", "abdominals"]
    acts = [couple(tone_vector(model, {n: float(rng.uniform(0, 0.3)) for n in names}), t0, _coupling(model))[0]
            for _ in range(count)]

    def run_old(a):
        return old.follow_kernel_st(t0, a, lt, base.q, base.lam, J0, CONTINUATION_STEPS, MAX_HALVINGS, MAX_ITER,
                                    limits, *packed, *structure)

    def run_new(a):
        return newton.follow(cm, st, fl, t0, lt, a, lt, z0, J0, s)

    run_old(acts[0]), run_new(acts[0])  # compile (old) / load (new)
    t_old, t_new, diff, same_ok = [], [], 0.0, 0
    for a in acts:
        for _ in range(5):
            t = time.perf_counter()
            o = run_old(a)
            t_old.append(time.perf_counter() - t)
            t = time.perf_counter()
            w = run_new(a)
            t_new.append(time.perf_counter() - t)
        same_ok += bool(o[0]) == bool(w[0])
        if o[0] and w[0]:
            diff = max(diff, float(np.max(np.abs(o[4][o[2] - 1][:mech.n] - w[4][w[2] - 1][:mech.n]))))
    return {"ref": ref, "scenarios": count, "same_ok": same_ok, "old_median_ms": 1e3 * statistics.median(t_old),
            "new_median_ms": 1e3 * statistics.median(t_new), "max_angle_difference_rad": diff}


#: One-sided tones of the left-right benchmark (the first is the README's row).
ONE_SIDED_TONES = ({"psoas_major_left": 0.3}, {"gluteus_medius_right": 0.5},
                   {"external_oblique_left": 0.4, "internal_oblique_left": 0.4}, {"quadratus_lumborum_left": 0.6})


def bench_one_sided(model, repeat: int) -> dict:
    """The whole-body model's one-sided solve: ``simulate`` with a one-sided tone and the left-right
    solve (:func:`musclesim.lateral.solve_lateral`) alone at its sagittal answer, called in turn
    (:func:`timed_pair`), per tone of :data:`ONE_SIDED_TONES`; median and p90 of ``repeat`` runs."""
    import musclesim as ms
    from musclesim import lateral

    out = {}
    for tone in ONE_SIDED_TONES:
        st = ms.simulate(model, tone)._state  # warm
        args = (st["mech"], st["eq"].q, st["act"], st["eq"].lam)
        lateral.solve_lateral(*args)
        full, alone = timed_pair(lambda: ms.simulate(model, tone), lambda: lateral.solve_lateral(*args), repeat)
        out[",".join(f"{k}={v}" for k, v in tone.items())] = {"simulate": full, "solve_lateral": alone}
    return out


def print_one_sided(res: dict) -> None:
    print("| one-sided tone | simulate median (ms) | p90 | solve_lateral median (ms) | p90 | runs |")
    print("|---|---:|---:|---:|---:|---:|")
    for k, v in res.items():
        a, b = v["simulate"], v["solve_lateral"]
        print(f"| {k} | {a['median_ms']:.3f} | {a['p90_ms']:.3f} | {b['median_ms']:.3f} | {b['p90_ms']:.3f} | {a['runs']} |")


def read_everything(result) -> None:
    """Read every part of a Result (the tables and frames are built on first read)."""
    for joint in result.moments.values():
        dict(joint)
    for arms in result.moment_arms_m.values():
        dict(arms)
    list(result.frames)


def machine() -> dict:
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "system": platform.platform()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--lateral", action="store_true", help="only the one-sided benchmark (printed, not written)")
    ap.add_argument("-o", "--output", default=str(HERE / "results_core.json"))
    args = ap.parse_args()
    n = 20 if args.quick else 200
    fresh = 3 if args.quick else 10

    import musclesim as ms

    model = ms.load_model()
    if args.lateral:
        print(f"machine: {machine()}")
        print_one_sided(bench_one_sided(model, n if args.quick else 1000))
        return
    base = ms.simulate(model)  # warm: compile the chain, build the graph once
    changed = ms.simulate(model, {"psoas_major": 0.3})
    from musclesim import lateral

    st = ms.simulate(model, {"psoas_major_left": 0.3})._state
    one_sided = (st["mech"], st["eq"].q, st["act"], st["eq"].lam)
    res = {
        "machine": machine(),
        "import_musclesim": in_fresh_process(
            "import time; t=time.perf_counter(); import musclesim; print(time.perf_counter()-t)", fresh),
        "first_solve_fresh_process": in_fresh_process(
            "import time; t=time.perf_counter(); import musclesim as ms; m=ms.load_model(); "
            "ms.simulate(m, {'psoas_major': 0.3}); print(time.perf_counter()-t)", fresh),
        "simulate_baseline": timed(lambda: ms.simulate(model), n),
        "simulate_psoas_0.3": timed(lambda: ms.simulate(model, {"psoas_major": 0.3}), n),
        "simulate_psoas_0.3_no_frames": timed(lambda: ms.simulate(model, {"psoas_major": 0.3}, frames=False), n),
        "simulate_psoas_0.3_then_read_everything": timed(
            lambda: read_everything(ms.simulate(model, {"psoas_major": 0.3})), max(10, n // 4)),
    }
    res["simulate_left_psoas_0.3_full_model"], res["left_right_solve_alone"] = timed_pair(
        lambda: ms.simulate(model, {"psoas_major_left": 0.3}), lambda: lateral.solve_lateral(*one_sided), n)
    res["one_sided"] = bench_one_sided(model, n)
    res.update({
        "explain_all_measures": timed(lambda: ms.explain(changed, base), max(10, n // 4)),
        "explain_one_measure": timed(lambda: ms.explain(changed, base, measures=["pelvic_tilt_deg"]), max(10, n // 4)),
    })
    full, side = res["simulate_left_psoas_0.3_full_model"]["median_ms"], res["left_right_solve_alone"]["median_ms"]
    res["full_over_sagittal"] = full / (full - side)  # the whole-body model against the sagittal part alone
    res["side_by_side"] = side_by_side(model, 10 if args.quick else 40)
    res["old_vs_new_core"] = old_vs_new(model, 10 if args.quick else 40)
    Path(args.output).write_text(json.dumps(res, indent=2))
    print(f"machine: {res['machine']}")
    print("| benchmark | median (ms) | p90 (ms) | runs |")
    print("|---|---:|---:|---:|")
    for k, v in res.items():
        if k not in ("machine", "side_by_side", "full_over_sagittal", "old_vs_new_core", "one_sided"):
            print(f"| {k} | {v['median_ms']:.2f} | {v['p90_ms']:.2f} | {v['runs']} |")
    full, side = res["simulate_left_psoas_0.3_full_model"]["median_ms"], res["left_right_solve_alone"]["median_ms"]
    print(f"\nleft psoas 0.3: full model {full:.2f} ms = sagittal {full - side:.2f} ms + left-right {side:.2f} ms "
          f"({res['full_over_sagittal']:.2f}x the sagittal-only time)")
    print()
    print_one_sided(res["one_sided"])
    sbs = res["side_by_side"]
    print(f"\nside by side ({sbs['scenarios']} scenarios, {sbs['both_ok']} solved by both, {sbs['went_straight']} "
          f"straight to the answer): compiled {sbs['compiled_median_ms']:.3f} ms, numpy {sbs['numpy_median_ms']:.2f} ms "
          f"per solve, speed-up {sbs['speedup']:.1f}x, largest angle difference {sbs['max_angle_difference_rad']:.1e} "
          f"rad; stepped path alone {sbs['stepped_only_median_ms']:.3f} ms ({sbs['speedup_over_stepped']:.1f}x slower, "
          f"answers within {sbs['max_angle_difference_direct_vs_stepped_rad']:.1e} rad)")
    ovn = res["old_vs_new_core"]
    if ovn:
        print(f"\nold core ({ovn['ref']}, kernels.py) against today's (musclesim/physics), {ovn['scenarios']} scenarios "
              f"in turn: {ovn['old_median_ms']:.3f} ms and {ovn['new_median_ms']:.3f} ms per compiled solve; the same "
              f"success on {ovn['same_ok']}; postures within {ovn['max_angle_difference_rad']:.1e} rad")


if __name__ == "__main__":
    main()
