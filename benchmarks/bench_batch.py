"""Benchmark of batch solving: scenarios per second of ``simulate_many`` at 1, 100, 10,000 and 100,000 scenarios.

    python benchmarks/bench_batch.py            # full run, writes benchmarks/results_batch.json
    python benchmarks/bench_batch.py --quick    # fewer repetitions, a few seconds (writes nothing unless -o)

The scenarios are a fixed random mix (seed 0): the resting tone of psoas_major, iliacus, glutes,
hamstrings and abdominals each drawn uniformly in [0, 0.3], tone coupling on, standing. Each size
is timed several times after a warm-up (compilation and the baseline solve are not counted); the
median rate is reported with the slowest and fastest runs. Timings are for reading, not for
asserting: machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES = ("psoas_major", "iliacus", "glutes", "hamstrings", "abdominals")
#: (scenarios, repetitions) of the full run; the quick run uses fewer repetitions.
SIZES = ((1, 50), (100, 15), (10_000, 5), (100_000, 3))


def scenarios(n: int, seed: int = 0) -> list[dict]:
    import numpy as np

    x = np.random.default_rng(seed).uniform(0.0, 0.3, size=(n, len(NAMES)))
    return [dict(zip(NAMES, map(float, row))) for row in x]


def sweep(n: int) -> list[dict]:
    """psoas_major from 0 to 1 in ``n`` steps (what ``musclesim.sweep`` sends)."""
    return [{"psoas_major": i / (n - 1)} for i in range(n)]


def grid(n: int) -> list[dict]:
    """psoas_major x glutes, each 0 to 0.5, ``n`` scenarios in all (what ``musclesim.grid`` sends)."""
    k = int(round(n ** 0.5))
    return [{"psoas_major": 0.5 * i / (k - 1), "glutes": 0.5 * j / (k - 1)} for i in range(k) for j in range(k)]


def machine() -> dict:
    import numba

    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "numba": numba.__version__, "numba_threads": numba.config.NUMBA_NUM_THREADS,
            "system": platform.platform()}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-o", "--output", default=None, help="JSON results (default benchmarks/results_batch.json "
                                                         "for a full run)")
    ap.add_argument("--sizes", default=None, help="comma-separated batch sizes instead of 1,100,10000 (smoke tests)")
    args = ap.parse_args(argv)
    sizes = SIZES if not args.sizes else tuple((int(n), 3) for n in args.sizes.split(","))
    output = args.output or (None if args.quick else str(HERE / "results_batch.json"))

    import musclesim as ms

    model = ms.load_model()
    ms.simulate_many(model, scenarios(50, seed=1))  # warm-up: compile, baseline, coupling matrix (threaded kernels)
    ms.simulate_many(model, scenarios(1, seed=2))  # and the kernels a small batch runs in the calling thread
    results = {"machine": machine(), "scenario_mix": f"{', '.join(NAMES)} uniform in [0, 0.3], seed 0",
               "sizes": {}}
    for n, repeat in sizes:
        repeat = max(2, repeat // 5) if args.quick else repeat
        tones = scenarios(n)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            batch = ms.simulate_many(model, tones)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        results["sizes"][str(n)] = {
            "scenarios": n, "runs": repeat, "median_s": med, "min_s": min(times), "max_s": max(times),
            "scenarios_per_s": n / med, "failed_fraction": float(1 - batch.ok.mean()),
        }
    results["ordered"] = {}
    for name, make in (("sweep", sweep), ("grid", grid)):  # scenarios start from their solved neighbours
        tones = make(10_000)
        ms.simulate_many(model, tones[:50])
        times = []
        for _ in range(2 if args.quick else 5):
            t = time.perf_counter()
            batch = ms.simulate_many(model, tones)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        results["ordered"][name] = {"scenarios": len(tones), "median_s": med, "scenarios_per_s": len(tones) / med,
                                    "failed_fraction": float(1 - batch.ok.mean())}
    print("| scenarios | runs | median time (s) | scenarios/s (median) | range (scenarios/s) | no posture |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results["sizes"].values():
        n = r["scenarios"]
        print(f"| {n:,} | {r['runs']} | {r['median_s']:.4f} | {r['scenarios_per_s']:,.0f} | "
              f"{n / r['max_s']:,.0f}-{n / r['min_s']:,.0f} | {100 * r['failed_fraction']:.1f}% |")
    for name, r in results["ordered"].items():
        print(f"| {name} of {r['scenarios']:,} | | {r['median_s']:.4f} | {r['scenarios_per_s']:,.0f} | | "
              f"{100 * r['failed_fraction']:.1f}% |")
    m = results["machine"]
    # other work on the machine slows every run: read the rates against the load at the end of the run
    load = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    m["load_average_1_5_15min"] = load
    print(f"\n({m['cpus']} CPUs, {m['machine']}, Python {m['python']}, numba {m['numba']} with "
          f"{m['numba_threads']} threads" + (f"; load average {load[0]:.1f} at the end)" if load else ")"))
    if output:
        Path(output).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
