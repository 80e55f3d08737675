"""Benchmark of one dashboard update: the server time of a slider change and the payload size.

    python benchmarks/bench_dashboard.py            # 50 updates, writes benchmarks/results_dashboard.json
    python benchmarks/bench_dashboard.py --runs 200

A slider change is one callback, :func:`dashboard.callbacks.apply`: ``next_state`` (no physics:
the new state and URL) then ``update_views`` (one simulate with its coupling-off split, every
figure and table, and one explain while the *Why?* panel is open). It is called directly, as
Dash would, each time with a tone not seen before (so no memoised solve helps), and the answer
is serialised with Dash's JSON encoder to measure its size as sent (uncompressed, and gzipped at
the server's level, as a browser receives it). The changes are timed twice: with the *Why?*
panel closed (the page's default, what ``load_test.py``'s clients do) and open (``why=1``). Target (DESIGN section 10): <= 50 ms p95 server-side and
<= 300 KB per update. Timings are for reading, not for asserting: machines are noisy.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("-o", "--output", default=str(HERE / "results_dashboard.json"))
    args = ap.parse_args()

    import plotly
    import plotly.io.json  # noqa: F401  (Dash's encoder: orjson when installed)

    from dashboard import callbacks, compute, ids
    from dashboard.app import warm_up

    warm_up()
    from dashboard.app import GZIP_LEVEL
    from dashboard.lessons import all_controls

    model = compute.get_model()
    positions = compute.positions()
    slider_ids = [ids.tone(m) for m in model.muscle_ids]
    lesson_ids = [ids.lesson_tone(n) for n in all_controls()]
    state = None
    # first update: pays for imports and caches; not counted
    callbacks.update_views({"tone": {"psoas_major_left": 0.07}, "position": positions[0],
                            "measure": "pelvic_tilt_deg"})

    sync_ms, update_ms, total_ms, sizes, gz_sizes, failed, open_ms = [], [], [], [], [], 0, []
    for k in range(args.runs):
        values = [model.default_tone[m] for m in model.muscle_ids]
        tone = 0.10 + 0.5 * k / max(args.runs - 1, 1)  # a new tone each run: no memoised solve
        values[model.muscle_ids.index("psoas_major_left")] = round(tone, 4)
        kw = dict(search="", values=values, slider_ids=slider_ids, position=positions[0], measure="pelvic_tilt_deg",
                  view="trunk", link=[], state=state, lesson_ids=lesson_ids,
                  lesson_values=[0.0] * len(lesson_ids), lesson=None, draw=[])
        t0 = time.perf_counter()
        out = callbacks.next_state(ids.tone("psoas_major_left"), **kw)
        t1 = time.perf_counter()
        views = callbacks.update_views(out["state"])
        body = plotly.io.json.to_json_plotly({"response": {**views, "state": out["state"]}}).encode()
        t2 = time.perf_counter()
        state = out["state"]
        failed += not views[f"{ids.RESULT}.data"]["ok"]
        t3 = time.perf_counter()  # the same change with the why panel open (a new tone: uncached)
        st_open = {**state, "why": True, "tone": {"psoas_major_left": round(tone + 0.003, 4)}}
        opened = callbacks.update_views(st_open)
        plotly.io.json.to_json_plotly({"response": {**opened, "state": st_open}})
        open_ms.append(1e3 * (time.perf_counter() - t3))
        sync_ms.append(1e3 * (t1 - t0))
        update_ms.append(1e3 * (t2 - t1))
        total_ms.append(1e3 * (t2 - t0))
        sizes.append(len(body))
        gz_sizes.append(len(gzip.compress(body, GZIP_LEVEL)))

    # where the update's time goes (one more cold update, timed by stage)
    compute.clear_caches()
    warm_up()
    st = {"tone": {"psoas_major_left": 0.333}, "position": positions[0], "measure": "pelvic_tilt_deg"}
    t = time.perf_counter()
    res = compute.solve(st["tone"], positions[0])
    t_solve = time.perf_counter()
    compute.split(st["tone"], positions[0])  # the coupling-off solve of the mechanics/coupling split
    t_sim = time.perf_counter()
    compute.explain(st["tone"], positions[0], "pelvic_tilt_deg")
    t_expl = time.perf_counter()
    callbacks.update_views(st)  # the why panel closed: no explain in it
    t_rest = time.perf_counter()

    result = {
        "runs": args.runs,
        "failed_solves": failed,
        "sync_state_ms": {"median": statistics.median(sync_ms), "p95": pct(sync_ms, 0.95)},
        "update_views_ms": {"median": statistics.median(update_ms), "p95": pct(update_ms, 0.95)},
        "slider_change_total_ms": {"median": statistics.median(total_ms), "p95": pct(total_ms, 0.95)},
        "update_views_why_open_ms": {"median": statistics.median(open_ms), "p95": pct(open_ms, 0.95)},
        "round_trips_per_change": 1,
        "payload_bytes": {"median": int(statistics.median(sizes)), "max": max(sizes)},
        "payload_gzip_bytes": {"median": int(statistics.median(gz_sizes)), "max": max(gz_sizes)},
        "breakdown_ms": {"simulate": 1e3 * (t_solve - t), "split_coupling_off": 1e3 * (t_sim - t_solve), "explain_one_measure": 1e3 * (t_expl - t_sim),
                         "update_views_why_closed": 1e3 * (t_rest - t_expl)},
        "solve_ok": bool(res.ok),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "system": platform.platform()},
    }
    print(f"dashboard update over {args.runs} slider changes (server side, uncached solves):")
    print(f"  next_state    median {result['sync_state_ms']['median']:6.1f} ms   p95 {result['sync_state_ms']['p95']:6.1f} ms")
    print(f"  update_views  median {result['update_views_ms']['median']:6.1f} ms   p95 {result['update_views_ms']['p95']:6.1f} ms")
    print(f"  total         median {result['slider_change_total_ms']['median']:6.1f} ms   "
          f"p95 {result['slider_change_total_ms']['p95']:6.1f} ms   (target p95 <= 50 ms; why panel closed)")
    print(f"  why panel open median {result['update_views_why_open_ms']['median']:6.1f} ms   "
          f"p95 {result['update_views_why_open_ms']['p95']:6.1f} ms   (update_views + JSON)")
    print(f"  payload       median {result['payload_bytes']['median'] / 1e3:6.1f} KB   max "
          f"{result['payload_bytes']['max'] / 1e3:6.1f} KB   gzip {result['payload_gzip_bytes']['median'] / 1e3:.1f} KB"
          "   (target <= 300 KB)")
    b = result["breakdown_ms"]
    print(f"  one cold update: simulate {b['simulate']:.1f} ms + split {b['split_coupling_off']:.1f} ms, explain {b['explain_one_measure']:.1f} ms, "
          f"the rest of update_views (figures and tables) {b['update_views_why_closed']:.1f} ms")
    if failed:
        print(f"  note: {failed} of {args.runs} solves did not converge (shown as messages, still timed)")
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
