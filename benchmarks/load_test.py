"""Loopback load test of the dashboard: simulated students moving sliders at the same time.

    python benchmarks/load_test.py                          # 30 clients for 60 s
    python benchmarks/load_test.py --clients 60 --workers 2
    python benchmarks/load_test.py --clients 5 --duration 3 --json

It starts its own server in a child process on 127.0.0.1 with a free port, the same way as
``musclesim serve`` (:func:`dashboard.app.serve`: gunicorn, ``--workers`` processes, default one
per core), and talks only to it: there is no option to aim it anywhere else. It is bounded by
``--duration`` (at most 600 s) and ``--max-requests``, and stops the server when done.

Each client behaves like one browser tab: it loads the page (``/``, ``/_dash-layout``,
``/_dash-dependencies``) and runs the page's initial callbacks, then repeatedly moves a random
tone slider to a random value in [0, 1] (one time in eight it presses "Reset to baseline"
instead), pausing ``--think`` seconds on average between changes (0 for back-to-back). The
callback requests are built the way dash-renderer builds them, from the app's own
``/_dash-dependencies`` and layout, and chained as the browser chains them (a callback after
those that feed it, each with the outputs of the previous applied): with one callback for state
and views, a change is one request.

Reported: requests, errors (any status other than 200/204, an unreadable answer, or an update
the server declined or cut short: ``X-Musclesim-Update``), latency per request and per slider
change (from the change until the figures' answer arrives), posture solves that failed (a
valid answer: "cannot stand"), percentiles p50/p95/p99, and the server's resident memory (RSS,
master and workers together) after warm-up, at each quarter of the run and at the end, and the
server CPU each process used (how evenly the workers shared the changes).

For experiments, ``MUSCLESIM_LOADTEST_GUNICORN='{"keepalive": 30}'`` (JSON) overrides the server's
gunicorn settings (:func:`dashboard.app.gunicorn_options`) in the child.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only, by construction
MAX_DURATION_S = 600.0
UPDATE = "/_dash-update-component"


# --------------------------------------------------------------------------- the server (child)


def _child(threads: int | None, workers: int | None) -> None:
    """Run in the child process: ``musclesim serve`` on 127.0.0.1, port 0 (it prints the URL)."""
    sys.path.insert(0, str(ROOT))
    from dashboard import app

    extra = os.environ.get("MUSCLESIM_LOADTEST_GUNICORN")  # experiments only: JSON merged into the options
    if extra:
        base = app.gunicorn_options
        app.gunicorn_options = lambda *a, **k: {**base(*a, **k), **json.loads(extra)}
    app.serve(HOST, 0, threads, workers=workers)


class Server:
    """The dashboard in a child process on 127.0.0.1:<free port>."""

    def __init__(self, threads: int | None = None, workers: int | None = None, start_timeout: float = 120.0):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child"]
        cmd += ["--threads", str(threads)] if threads else []
        cmd += ["--workers", str(workers)] if workers else []
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=str(ROOT))
        found: list[str] = []
        reader = threading.Thread(target=lambda: found.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(start_timeout)
        m = re.search(r"http://[^:/]+:(\d+)/\s+\((.*?);", found[0]) if found else None
        if not m:
            self.stop()
            raise RuntimeError(f"the dashboard did not start within {start_timeout:.0f} s")
        self.base = f"http://{HOST}:{m.group(1)}"
        self.setup = m.group(2)
        self.start_s = time.perf_counter() - t0

    def _pids(self) -> list[int]:
        pids = [self.proc.pid]
        try:
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
        return pids

    def cpu_by_pid(self) -> dict[int, float]:
        """CPU seconds used so far by the server's master and each worker (Linux /proc)."""
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        out = {}
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                out[pid] = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
        return out

    def cpu_s(self) -> float:
        """CPU seconds used so far by the server's master and workers together."""
        return sum(self.cpu_by_pid().values())

    def rss_mb(self) -> float:
        """The server's resident memory in MiB, master and workers (shared pages counted in each)."""
        total = 0.0
        for pid in self._pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024
            except (OSError, AttributeError):
                try:
                    import psutil

                    total += psutil.Process(pid).memory_info().rss / 2**20
                except Exception:  # noqa: BLE001 - a worker that just ended
                    pass
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------- a browser tab (client)


def _key(cid) -> str:
    """How Dash names a component in responses and changedPropIds (dict ids: sorted compact JSON)."""
    return json.dumps(cid, sort_keys=True, separators=(",", ":")) if isinstance(cid, dict) else cid


def _matches(pattern: dict, cid) -> bool:
    if not isinstance(cid, dict) or set(cid) != set(pattern):
        return False
    return all(isinstance(v, list) or cid[k] == v for k, v in pattern.items())  # ["ALL"] matches any


def _split_outputs(output: str) -> list[tuple[str, str]]:
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [tuple(p.rsplit(".", 1)) for p in parts]


@dataclass
class Stats:
    request_ms: list = field(default_factory=list)
    change_ms: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    requests: int = 0
    changes: int = 0
    failed_solves: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1


class Tab:
    """One simulated browser tab: the page's component properties, updated from each answer."""

    def __init__(self, base: str, stats: Stats, rng: random.Random, timeout: float = 30.0):
        import requests

        self.base, self.stats, self.rng, self.timeout = base, stats, rng, timeout
        self.http = requests.Session()
        self.get("/")
        layout = self.get("/_dash-layout").json()
        self.deps = [d for d in self.get("/_dash-dependencies").json() if not d.get("clientside_function")]
        self.ids: dict[str, object] = {}
        self.props: dict[str, dict] = {}
        self._walk(layout)
        self.props.setdefault("url", {}).update(pathname="/", search="", hash="", href=base + "/")
        self.sliders = [k for k, cid in self.ids.items() if isinstance(cid, dict) and cid.get("type") == "tone-slider"]
        if not self.sliders:
            raise RuntimeError("no tone sliders in the layout")
        self.fire(set(), initial=True)

    # -- the page
    def _walk(self, node) -> None:
        if isinstance(node, list):
            for n in node:
                self._walk(n)
        elif isinstance(node, dict):
            props = node.get("props") if "namespace" in node else None
            if isinstance(props, dict):
                if "id" in props:
                    k = _key(props["id"])
                    self.ids[k] = props["id"]
                    self.props[k] = {p: v for p, v in props.items() if p != "children" or isinstance(v, (str, int, float))}
                for v in props.values():
                    self._walk(v)

    def _concrete(self, spec_id: str) -> list[tuple[str, object]]:
        """The components a callback spec names (memoised: the layout's ids do not change, and
        the load generator must cost the machine as little as it can, since it shares it)."""
        cache = self.__dict__.setdefault("_concrete_cache", {})
        if spec_id not in cache:
            if spec_id.startswith("{"):
                pattern = json.loads(spec_id)
                cache[spec_id] = [(k, cid) for k, cid in self.ids.items() if _matches(pattern, cid)]
            else:
                cache[spec_id] = [(spec_id, spec_id)]
        return cache[spec_id]

    def _entries(self, specs: list[dict]) -> list:
        out = []
        for s in specs:
            items = [{"id": cid, "property": s["property"],
                      "value": cid if s["property"] == "id" else self.props.get(k, {}).get(s["property"])}
                     for k, cid in self._concrete(s["id"])]
            out.append(items if s["id"].startswith("{") else items[0])
        return out

    def _inputs_hit(self, dep: dict, changed: set[str]) -> bool:
        cache = self.__dict__.setdefault("_input_keys", {})
        keys = cache.get(id(dep))
        if keys is None:
            keys = cache[id(dep)] = frozenset(f"{k}.{s['property']}" for s in dep["inputs"]
                                              for k, _ in self._concrete(s["id"]))
        return not keys.isdisjoint(changed)

    def _feeds(self, a: dict, b: dict) -> bool:
        """Whether callback ``a`` writes one of ``b``'s inputs."""
        ins = {(s["id"], s["property"]) for s in b["inputs"]}
        return any((i, p.split("@")[0]) in ins for i, p in _split_outputs(a["output"]))

    # -- requests
    def get(self, path: str):
        return self._timed("GET", path)

    def _timed(self, method: str, path: str, body: dict | None = None):
        t0 = time.perf_counter()
        try:
            r = self.http.request(method, self.base + path, json=body, timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - any failure to get an answer is an error
            self.stats.error(f"{method} {path}: {type(exc).__name__}")
            return None
        ms = 1e3 * (time.perf_counter() - t0)
        with self.stats.lock:
            self.stats.requests += 1
            self.stats.request_ms.append(ms)
        if r.status_code not in (200, 204):
            self.stats.error(f"{method} {path.split('?')[0]}: HTTP {r.status_code}")
        elif r.headers.get("X-Musclesim-Update"):
            self.stats.error(f"update {r.headers['X-Musclesim-Update']}")
        return r

    def dep(self, output: str) -> dict:
        """The server callback whose outputs include ``output`` (``"id.property"``)."""
        return next(d for d in self.deps if output in [f"{i}.{p.split('@')[0]}" for i, p in _split_outputs(d["output"])])

    def body(self, dep: dict, changed: set[str]) -> dict:
        """The request dash-renderer would send for ``dep`` after ``changed``."""
        cache = self.__dict__.setdefault("_hits", {})
        hit = cache.get(id(dep))
        if hit is None:
            hit = cache[id(dep)] = lambda c, dep=dep: self._inputs_hit(dep, {c})
        outputs = []
        for i, p in _split_outputs(dep["output"]):
            items = [{"id": cid, "property": p} for _, cid in self._concrete(i)]
            outputs.append(items if i.startswith("{") else items[0])
        return {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
                "inputs": self._entries(dep["inputs"]), "state": self._entries(dep["state"]),
                "changedPropIds": sorted(c for c in changed if hit(c))}

    def call(self, dep: dict, changed: set[str]) -> set[str]:
        r = self._timed("POST", UPDATE, self.body(dep, changed))
        if r is None or r.status_code != 200:
            return set()
        try:
            resp = r.json()["response"]
        except (ValueError, KeyError):
            self.stats.error("unreadable callback answer")
            return set()
        new = set()
        for k, props in resp.items():
            for p, v in props.items():
                self.props.setdefault(k, {})[p] = v
                new.add(f"{k}.{p}")
        status = resp.get("solver-status", {}).get("children")
        if isinstance(status, str) and status.startswith("Failed"):
            with self.stats.lock:
                self.stats.failed_solves += 1
        return new

    def fire(self, changed: set[str], initial: bool = False, on_figures=None) -> None:
        """Run the callbacks ``changed`` triggers, each once, a callback only after those that
        feed it (dash-renderer's order); ``on_figures`` is called when the figures' answer arrives."""
        pending = [d for d in self.deps if (initial and not d.get("prevent_initial_call")) or self._inputs_hit(d, changed)]
        done: list[dict] = []
        while pending:
            ready = [d for d in pending if not any(o is not d and self._feeds(o, d) for o in pending)] or pending[:1]
            dep = ready[0]
            pending.remove(dep)
            done.append(dep)
            new = self.call(dep, changed)
            if on_figures and "sagittal-figure.figure" in new:
                on_figures()
            changed = changed | new
            for d in self.deps:
                if d is not dep and d not in pending and d not in done and self._inputs_hit(d, new):
                    pending.append(d)

    # -- what a student does
    def change(self) -> None:
        t0 = time.perf_counter()
        seen: list[float] = []
        if self.rng.random() < 1 / 8:
            k, prop = "reset-baseline", "n_clicks"
            self.props.setdefault(k, {})[prop] = (self.props[k].get(prop) or 0) + 1
        else:
            k, prop = self.rng.choice(self.sliders), "value"
            self.props[k][prop] = round(self.rng.random(), 2)
        self.fire({f"{k}.{prop}"}, on_figures=lambda: seen.append(time.perf_counter()))
        with self.stats.lock:
            self.stats.changes += 1
            if seen:
                self.stats.change_ms.append(1e3 * (seen[0] - t0))


# --------------------------------------------------------------------------- the run


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else float("nan")


def run(clients: int = 30, duration: float = 60.0, think: float = 1.0, seed: int = 0, threads: int | None = None,
        max_requests: int = 200_000, quiet: bool = False, workers: int | None = None) -> dict:
    """Start a server, run ``clients`` tabs for ``duration`` seconds, stop; return the figures."""
    duration = min(float(duration), MAX_DURATION_S)
    stats = Stats()
    with Server(threads=threads, workers=workers) as server:
        rss = {"after_warm_up": server.rss_mb()}
        stop = threading.Event()
        started = threading.Barrier(clients + 1)

        def client(i: int) -> None:
            rng = random.Random(seed * 1000 + i)
            try:
                tab = Tab(server.base, stats, rng)
            except Exception as exc:  # noqa: BLE001
                stats.error(f"page load: {type(exc).__name__}: {exc}")
                tab = None
            try:
                started.wait(120)
            except threading.BrokenBarrierError:
                return
            while tab and not stop.is_set() and stats.requests < max_requests:
                tab.change()
                if think > 0:
                    stop.wait(rng.uniform(0.5, 1.5) * think)

        workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
        for w in workers:
            w.start()
        started.wait(180)  # every tab has loaded its page
        rss["after_page_loads"] = server.rss_mb()
        before = (stats.requests, len(stats.request_ms))
        by_pid0, own0 = server.cpu_by_pid(), time.process_time()
        cpu0 = sum(by_pid0.values())
        t0 = time.perf_counter()
        for q in (1, 2, 3):
            stop.wait(duration / 4)
            rss[f"at_{25 * q}pct"] = server.rss_mb()
        stop.wait(max(0.0, duration - (time.perf_counter() - t0)))
        stop.set()
        for w in workers:
            w.join(60)
        elapsed = time.perf_counter() - t0
        by_pid = server.cpu_by_pid()
        server_cpu, client_cpu = sum(by_pid.values()) - cpu0, time.process_time() - own0
        # how the work spread over the processes (master first, then the workers, busiest first)
        spread = [by_pid.get(server.proc.pid, 0.0) - by_pid0.get(server.proc.pid, 0.0)]
        spread += sorted((v - by_pid0.get(pid, 0.0) for pid, v in by_pid.items() if pid != server.proc.pid), reverse=True)
        rss["end"] = server.rss_mb()
    req_ms = stats.request_ms[before[1]:]
    def q(values):
        return {"p50": round(pct(values, 0.5), 1), "p95": round(pct(values, 0.95), 1),
                "p99": round(pct(values, 0.99), 1), "max": round(max(values, default=float("nan")), 1)}

    out = {
        "clients": clients, "duration_s": round(elapsed, 1), "think_s": think, "server": server.setup,
        "server_start_s": round(server.start_s, 2),
        "requests": stats.requests - before[0], "requests_incl_page_loads": stats.requests,
        "requests_per_s": round((stats.requests - before[0]) / elapsed, 1),
        "slider_changes": stats.changes, "errors": sum(stats.errors.values()), "error_kinds": stats.errors,
        "failed_solves": stats.failed_solves,
        "request_ms": q(req_ms), "change_ms": q(stats.change_ms),
        "requests_per_change": round((stats.requests - before[0]) / max(stats.changes, 1), 2),
        "server_cpu_ms_per_request": round(1e3 * server_cpu / max(stats.requests - before[0], 1), 1),
        "server_cpu_s_by_process": {"master": round(spread[0], 1), "workers": [round(v, 1) for v in spread[1:]]},
        "cpu_share": {"server": round(server_cpu / elapsed, 2), "load_generator": round(client_cpu / elapsed, 2),
                      "machine_load_avg_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None},
        "rss_mb": {k: round(v, 1) for k, v in rss.items()},
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    if not quiet:
        _print(out)
    return out


def _print(r: dict) -> None:
    print(f"{r['clients']} clients for {r['duration_s']} s (think {r['think_s']} s; {r['server']}, started in "
          f"{r['server_start_s']} s; {r['machine']['cpus']} CPUs) against {HOST}")
    print(f"  requests        {r['requests']} ({r['requests_per_s']}/s), slider changes {r['slider_changes']} "
          f"({r['requests_per_change']} requests per change)")
    print(f"  errors          {r['errors']} {r['error_kinds'] or ''}")
    for key, what in (("request_ms", "per request "), ("change_ms", "per change  ")):
        v = r[key]
        print(f"  {what}    p50 {v['p50']} ms, p95 {v['p95']} ms, p99 {v['p99']} ms, max {v['max']} ms")
    print(f"  failed solves   {r['failed_solves']} (answered: cannot stand)")
    c = r["cpu_share"]
    print(f"  CPU             server {r['server_cpu_ms_per_request']} ms per request; cores busy: server {c['server']}, "
          f"load generator {c['load_generator']}; machine load average {c['machine_load_avg_1min']}")
    sp = r["server_cpu_s_by_process"]
    print(f"  server CPU s    master {sp['master']}, workers {', '.join(map(str, sp['workers']))}")
    print("  server RSS MB   " + ", ".join(f"{k} {v}" for k, v in r["rss_mb"].items()))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--duration", type=float, default=60.0, help=f"seconds (at most {MAX_DURATION_S:.0f})")
    ap.add_argument("--think", type=float, default=1.0,
                    help="mean seconds a client pauses between slider changes (0: back to back)")
    ap.add_argument("--workers", type=int, default=None, help="server worker processes (default: as musclesim serve)")
    ap.add_argument("--threads", type=int, default=None, help="threads per worker (default: as musclesim serve)")
    ap.add_argument("--max-requests", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("-o", "--output", help="also write the figures (JSON) to this file")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.threads, args.workers)
        return
    if not 1 <= args.clients <= 200:
        ap.error("--clients must be between 1 and 200")
    r = run(args.clients, args.duration, args.think, args.seed, args.threads, args.max_requests, quiet=args.json,
            workers=args.workers)
    if args.json:
        print(json.dumps(r, indent=2))
    if args.output:
        Path(args.output).write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    main()
