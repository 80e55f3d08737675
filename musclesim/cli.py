"""The ``musclesim`` command line.

    musclesim run --set psoas_major=0.6 [--set ...] [--position standing] [--json] [--explain pelvic_tilt_deg]
    musclesim models
    musclesim graph [-o graph.json]
    musclesim serve [--host 127.0.0.1] [--port 8050] [--workers N] [--threads T] [--frame-ancestors ORIGINS]
    musclesim scenario FILE... [--json|--csv] [-o OUT]
    musclesim sweep psoas_major 0:1:21 --metric pelvic_tilt_deg [--grid iliacus 0:0.5:6] [--json|--csv] [-o OUT]
    musclesim sensitivity pelvic_tilt_deg [-o tornado.html] [--json]

User errors (unknown muscle, tone out of range, bad syntax, missing model) exit with status 2 and
one line on stderr, never a traceback; an internal error exits 1 with a short report.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import traceback

from .errors import MusclesimError, UsageError  # UsageError: defined in errors.py, importable from here too

EXIT_USER = 2
EXIT_INTERNAL = 1


def _parse_set(items: list[str], flag: str = "--set", example: str = "psoas_major=0.6",
               what: str = "tone must be a number in [0, 1]") -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{flag} expects NAME=VALUE (e.g. {example}), got {item!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"{flag} {name.strip()}: {what}, got {value!r}") from None
    return out


def _fmt_band(band) -> str:
    return f"{band[0]:g}..{band[1]:g}" if band else ""


def cmd_run(args) -> int:
    import musclesim as ms

    from .metrics import MEASURES

    model = ms.load_model(args.model)
    tone = _parse_set(args.set or [])
    tight = _parse_set(args.tight or [], "--tight", "psoas_major=10", "tightness must be degrees in [0, 45]")
    base = ms.simulate(model, position=args.position)
    res = ms.simulate(model, tone, position=args.position, tightness=tight, coupling=not args.no_coupling)
    split = res.split  # mechanics (coupling off) and coupling share of each change (one more solve)
    explanation = None
    if args.explain:
        if not res.ok:
            raise UsageError(f"cannot explain: {res.message}")
        explanation = ms.explain(res, base, measures=[args.explain])[args.explain]
    if args.json:
        out = {
            "model": model.name, "position": args.position, "tone": tone, "tightness": tight, "ok": res.ok, "status": res.status.value,
            "converged": res.converged, "stable": res.stable, "message": res.message, "residual_Nm": res.residual_Nm,
            "iterations": res.iterations,
            "measures": {k: {"baseline": base.metrics[k], "value": _num(res.metrics[k]),
                             "change": _num(res.metrics[k] - base.metrics[k]),
                             "mechanics": _num(split[k]["mechanics"]), "coupling": _num(split[k]["coupling"]),
                             "unit": MEASURES[k].unit, "normal": MEASURES[k].normal} for k in res.metrics},
            "activation": dict(res.activation), "regulation": dict(res.regulation),
            "coupling": {"requested": not args.no_coupling, "state": split.state, "message": split.message,
                         "evidence": split.evidence.as_dict(), "activation_change": dict(split.coupling_activation)},
        }
        if explanation:
            out["explain"] = explanation.as_dict()
        print(json.dumps(out, indent=2))
        return 0 if res.ok else EXIT_USER
    changed = ", ".join([f"{k}={v:g}" for k, v in tone.items()] + [f"{k} tight {v:g} deg" for k, v in tight.items()]) \
        or "resting tone"
    print(f"musclesim {model.name}, {args.position}: {changed}")
    print(f"  {res.message} [status: {res.status}]")
    if not res.ok:
        return EXIT_USER
    print(f"  {'measure':34s} {'baseline':>9s} {'value':>9s} {'change':>8s} {'mechanics':>9s} {'coupling':>8s}"
          f"  {'normal':>10s}")
    for k, v in res.metrics.items():
        info = MEASURES[k]
        ch = v - base.metrics[k]
        flag = "" if not info.normal or info.normal[0] <= v <= info.normal[1] else "  out of band"
        part = split[k]
        print(f"  {k:34s} {base.metrics[k]:9.2f} {v:9.2f} {ch:+8.2f} {part['mechanics']:+9.2f} {part['coupling']:+8.2f}"
              f"  {_fmt_band(info.normal):>10s}{flag}")
    ev = split.evidence
    print(f"  mechanics = the same request with the coupling off; coupling = change - mechanics "
          f"(coupling gains {ev.synergist_gain:+g} synergist / {ev.antagonist_gain:+g} antagonist, evidence: "
          f"{ev.label}, grade {ev.grade})")
    if split.state != "applied":
        print(f"  {split.message}")
    reg = res.regulation
    if "ankle_torque_Nm" not in reg:  # lying: floor contacts instead of regulation
        print("  floor: " + ", ".join(f"{k.removeprefix('contact:')} {v:.1f}" for k, v in reg.items()))
    else:
        print(f"  regulation: ankle {reg['ankle_torque_Nm']:+.1f} N·m, neck {reg['neck_torque_Nm']:+.1f} N·m, "
              f"trunk {reg['trunk_extra_force_N']:+.0f} N ({reg['trunk_muscle']})")
        lat = res.lateral
        if "balance_torque_Nm" in lat:  # the sides differ: the left-right regulators' efforts
            print(f"  left-right regulation: ankle torque about the forward axis {lat['balance_torque_Nm']:+.1f} "
                  f"N·m (each), extra left-minus-right trunk extensor pull {lat['trunk_side_force_N']:+.0f} N")
    if explanation:
        print()
        print("  why: " + explanation.text)
        print("  drivers: " + ", ".join(f"{m} {v:+.2f}" for m, v in explanation.drivers))
        print(f"  moment changes at {explanation.joint}: "
              + ", ".join(f"{m} {v:+.1f} N·m" for m, v in explanation.moments))
        print("  graph path: " + " -> ".join(explanation.path))
    return 0


def _num(v: float):
    return None if isinstance(v, float) and math.isnan(v) else v


def cmd_models(args) -> int:
    from .io import available_models, find_model

    for name in available_models():
        print(f"{name}\t{find_model(name).parent}")
    return 0


def cmd_graph(args) -> int:
    import musclesim as ms

    text = ms.graph_to_json(ms.interaction_graph(ms.load_model(args.model)))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


# --------------------------------------------------------------------------- batch commands

#: Largest number of values a range may expand to.
MAX_RANGE = 1_000_000


def parse_range(text: str, what: str = "range") -> list[float]:
    """``START:STOP:COUNT`` (evenly spaced, both ends included), ``A,B,C`` or one value; tones in [0, 1]."""
    import numpy as np

    syntax = f"{what} must be START:STOP:COUNT (e.g. 0:1:21), a list like 0.1,0.2,0.3 or one value in [0, 1]"
    text = text.strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise UsageError(f"{syntax}; got {text!r}")
            start, stop = float(parts[0]), float(parts[1])
            try:
                count = int(parts[2])
            except ValueError:
                raise UsageError(f"{what}: COUNT must be an integer from 1 to {MAX_RANGE}; got {parts[2]!r}") from None
            if not 1 <= count <= MAX_RANGE:
                raise UsageError(f"{what}: COUNT must be an integer from 1 to {MAX_RANGE}; got {parts[2]!r}")
            values = np.linspace(start, stop, count).tolist()
        else:
            values = [float(v) for v in text.split(",") if v.strip()]
    except UsageError:
        raise
    except ValueError:  # float() of something that is not a number
        raise UsageError(f"{syntax}; got {text!r}") from None
    if not values:
        raise UsageError(f"{syntax}; got {text!r}")
    bad = [v for v in values if not (0.0 <= v <= 1.0)]  # also catches NaN
    if bad:
        raise UsageError(f"{what}: tones must lie in [0, 1] (resting activation); got {bad[0]:g} in {text!r}")
    return values


def _fmt(args, explicit_json: bool, explicit_csv: bool) -> str:
    if explicit_json and explicit_csv:
        raise UsageError("choose one of --json and --csv")
    if explicit_json:
        return "json"
    if explicit_csv:
        return "csv"
    if args.output and args.output.lower().endswith(".json"):
        return "json"
    if args.output and args.output.lower().endswith(".csv"):
        return "csv"
    return "text"


def _emit(text: str, output: str | None, what: str) -> None:
    """Print ``text`` or write it atomically to ``output``."""
    if output:
        from .tables import write_atomic

        write_atomic(output, text if text.endswith("\n") else text + "\n")
        print(f"wrote {what} to {output}")
    else:
        print(text)


def _report_failures(ok, label: str) -> None:
    failed = int(len(ok) - sum(bool(x) for x in ok))
    if failed:
        print(f"musclesim: note: {failed} of {len(ok)} {label} found no standing posture (ok=false in the table)",
              file=sys.stderr)


def cmd_scenario(args) -> int:
    from .scenarios import run_scenarios

    fmt = _fmt(args, args.json, args.csv)
    table = run_scenarios(args.files, progress=None)
    text = {"json": lambda: table.to_json(), "csv": lambda: table.to_csv().rstrip("\n"),
            "text": table.text}[fmt]()
    _emit(text, args.output, f"{len(table)} rows")
    _report_failures([s for s, first in zip(table.column("ok"), _firsts(table.column("scenario"))) if first],
                     "scenarios")
    return 0


def _firsts(names) -> list[bool]:
    """True at the first row of each run of equal values."""
    out, prev = [], object()
    for n in names:
        out.append(n != prev)
        prev = n
    return out


def cmd_sweep(args) -> int:
    import musclesim as ms

    from .sweeps import grid, sweep

    fmt = _fmt(args, args.json, args.csv)
    model = ms.load_model(args.model)
    values = parse_range(args.range, f"range of {args.name}")
    fixed = _parse_set(args.fixed or [])
    metrics = args.metric or None
    common = dict(metrics=metrics, fixed=fixed, position=args.position, coupling=not args.no_coupling, progress=None)
    if args.grid:
        other, other_range = args.grid
        if other == args.name:
            raise UsageError(f"--grid needs a second name, different from {args.name!r}")
        table = grid(model, args.name, values, other, parse_range(other_range, f"range of {other}"), **common)
    else:
        table = sweep(model, args.name, values, **common)
    if fmt == "json":
        text = table.to_json()
    elif fmt == "csv":
        text = table.to_csv().rstrip("\n")
    else:
        text = _wide_text(table)
    _emit(text, args.output, f"{len(table)} rows")
    if args.plot:
        from .analysis_plots import grid_figure, sweep_figure, write_html

        fig = grid_figure(table, table.metrics[0]) if args.grid else sweep_figure(table)
        write_html(fig, args.plot, title=table.title)
        print(f"wrote the figure to {args.plot}")
    _report_failures(table.ok, "scenarios")
    return 0


def _wide_text(table) -> str:
    wide = table.wide()
    cols = wide.columns
    width = {c: max(9, len(c)) for c in cols}
    lines = ["  ".join(f"{c:>{width[c]}s}" for c in cols)]
    for row in wide:
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, bool):
                cells.append(f"{'ok' if v else 'failed':>{width[c]}s}")
            elif isinstance(v, float):
                cells.append(f"{'-' if math.isnan(v) else f'{v:.3f}' if c in table.varied else f'{v:.2f}':>{width[c]}s}")
            else:
                cells.append(f"{v!s:>{width[c]}s}")
        lines.append("  ".join(cells))
    return "\n".join(lines)


def cmd_sensitivity(args) -> int:
    import musclesim as ms

    from .sensitivity_analysis import sensitivity

    model = ms.load_model(args.model)
    lo_hi = parse_range(args.range, "--range")
    if len(lo_hi) != 2 or not lo_hi[0] < lo_hi[1]:
        raise UsageError(f"--range must be LOW,HIGH with LOW < HIGH in [0, 1] (e.g. 0,0.3); got {args.range!r}")
    muscles = [m.strip() for m in args.muscles.split(",") if m.strip()] if args.muscles else None
    if args.trajectories < 2:
        raise UsageError(f"--trajectories must be at least 2; got {args.trajectories}")
    if args.samples < 2 or args.samples & (args.samples - 1):
        raise UsageError(f"--samples must be a power of 2 (e.g. 64, 256); got {args.samples}")
    s = sensitivity(model, args.measure, muscles, position=args.position, coupling=not args.no_coupling,
                    method=args.method, tone_range=(lo_hi[0], lo_hi[1]), trajectories=args.trajectories,
                    samples=args.samples, seed=args.seed, progress=None)
    data = json.dumps(s.as_dict(), indent=1)
    if args.output:
        if args.output.lower().endswith(".json"):
            _emit(data, args.output, "the sensitivity table")
        else:
            from .analysis_plots import tornado_figure, write_html

            write_html(tornado_figure(s, n=args.top), args.output, title=f"sensitivity of {args.measure}")
            print(f"wrote the tornado plot to {args.output}")
    if args.json:
        print(data)
    elif not (args.output and args.output.lower().endswith(".json")):
        unit = s.unit
        print(f"sensitivity of {s.measure} (baseline {s.baseline:.2f} {unit}), ranked by {s.key} ({s.method}, "
              f"tone {s.tone_range[0]:g}..{s.tone_range[1]:g}, {s.n_scenarios} scenarios)")
        keys = [k for k in s.indices if k != "n_effects"]
        print(f"  {'#':>2s} {'muscle':24s} {'d/dtone':>9s} {f'at {s.tone_range[0]:g}':>8s} "
              f"{f'at {s.tone_range[1]:g}':>8s} " + " ".join(f"{k:>8s}" for k in keys))
        for r in list(s.table())[: args.top or None]:
            f = lambda v: "       -" if v is None or math.isnan(v) else f"{v:+8.2f}"
            print(f"  {r['rank']:2d} {r['muscle']:24s} {f(r['derivative']):>9s} {f(r['low'])} {f(r['high'])} "
                  + " ".join(f(r[k]) for k in keys))
        print(f"  (d/dtone: {unit} per unit activation at rest; 'at': change with that muscle alone at that tone; "
              f"{s.key}: global index)")
        for note in s.notes:
            print(f"  note: {note}")
    return 0


def cmd_claims(args) -> int:
    import musclesim as ms

    from .claims import catalogue, claim, evaluate

    model = ms.load_model(args.model)
    claims = [claim(args.id)] if args.id else list(catalogue())
    verdicts = [evaluate(model, c) for c in claims]
    if args.json:
        print(json.dumps([v.as_dict() for v in verdicts], indent=2))
        return 0
    if args.id:
        v = verdicts[0]
        c = v.claim
        print(f"{c.id}: {c.claim}")
        print(f"  articles: {', '.join(c.articles)}")
        print(f"  scenario: {c.scenario or '-'}  compared with: {c.compare}")
        print(f"  verdict: {v.verdict}  (evidence: {c.grade})")
        print(f"  why: {v.reason}")
        print(f"  evidence: {c.evidence}")
        if args.explain and c.expect and c.scope != "outside":
            from .claims import _run

            res = _run(model, c.scenario)
            for joint in ("hip", "L5S1"):
                row = sorted(res.moments[joint].items(), key=lambda kv: -abs(kv[1]))[:8]
                print(f"  moments at {joint} (N·m, flexion +): " + ", ".join(f"{k} {val:+.1f}" for k, val in row))
        return 0
    print(f"{'id':4s} {'verdict':32s} {'evidence':8s} claim (articles)")
    for v in verdicts:
        c = v.claim
        arts = ", ".join(a[:3] for a in c.articles)
        print(f"{c.id:4s} {v.verdict:32s} {c.grade:8s} {c.claim} ({arts})")
    counts = {k: sum(v.verdict == k for v in verdicts) for k in dict.fromkeys(x.verdict for x in verdicts)}
    print("\n" + ", ".join(f"{k}: {n}" for k, n in counts.items()))
    return 0


def cmd_serve(args) -> int:
    try:
        from dashboard.app import serve
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise UsageError(f"the dashboard is not available in this install ({exc})") from None
    serve(host=args.host, port=args.port, threads=args.threads, frame_ancestors=args.frame_ancestors,
          workers=args.workers)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``musclesim: error: ...`` and exit status 2 (no usage dump)."""

    def error(self, message: str):
        self.exit(EXIT_USER, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="musclesim", description="Raise a muscle's tone, see the posture change, and why.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="simulate one scenario and print the measures")
    run.add_argument("--set", action="append", metavar="NAME=VALUE",
                     help="resting tone 0..1 for a muscle id, bilateral name or group (repeatable)")
    run.add_argument("--tight", action="append", metavar="NAME=DEG",
                     help="tightness (contracture): degrees of range of motion lost at the muscle's main joint (repeatable)")
    run.add_argument("--position", default="standing")
    run.add_argument("--model", default=None, help="model name in models/ or path (default adult_standing)")
    run.add_argument("--json", action="store_true", help="machine-readable output")
    run.add_argument("--no-coupling", action="store_true", help="do not propagate tone to related muscles")
    run.add_argument("--explain", metavar="MEASURE", help="explain the change of one measure")
    run.set_defaults(func=cmd_run)
    models = sub.add_parser("models", help="list the models available by name")
    models.set_defaults(func=cmd_models)
    graph = sub.add_parser("graph", help="export the interaction graph as JSON")
    graph.add_argument("--model", default=None)
    graph.add_argument("-o", "--output")
    graph.set_defaults(func=cmd_graph)
    claims = sub.add_parser("claims", help="the articles' claims, their computed verdicts and evidence")
    claims.add_argument("--id", help="one claim (e.g. C07)")
    claims.add_argument("--explain", action="store_true", help="with --id: the scenario's moment breakdown")
    claims.add_argument("--json", action="store_true")
    claims.add_argument("--model", default=None)
    claims.set_defaults(func=cmd_claims)
    serve = sub.add_parser("serve", help="start the dashboard (gunicorn, one worker process per core)")
    try:
        from dashboard.__main__ import add_serve_arguments
    except ImportError:  # pragma: no cover - an install without the dashboard: cmd_serve says so
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=8050)
        serve.add_argument("--workers", type=int, default=None)
        serve.add_argument("--threads", type=int, default=None)
        serve.add_argument("--frame-ancestors", metavar="ORIGINS")
    else:
        add_serve_arguments(serve)
    serve.set_defaults(func=cmd_serve)

    scen = sub.add_parser("scenario", help="run scenario files (TOML) and print a tidy table")
    scen.add_argument("files", nargs="+", metavar="FILE", help="scenario files (see examples/scenarios/)")
    _add_output(scen)
    scen.set_defaults(func=cmd_scenario)

    sw = sub.add_parser("sweep", help="sweep one muscle's tone (or two over a grid) and tabulate measures")
    sw.add_argument("name", metavar="NAME", help="muscle id, bilateral name or group")
    sw.add_argument("range", metavar="RANGE", help="START:STOP:COUNT (e.g. 0:1:21) or a list 0.1,0.2")
    sw.add_argument("--metric", action="append", metavar="MEASURE", help="measure to report (repeatable; default all)")
    sw.add_argument("--grid", nargs=2, metavar=("NAME2", "RANGE2"), help="sweep a second muscle too (all pairs)")
    sw.add_argument("--fixed", action="append", metavar="NAME=VALUE", help="tone held fixed (repeatable)")
    sw.add_argument("--position", default="standing")
    sw.add_argument("--model", default=None)
    sw.add_argument("--no-coupling", action="store_true")
    sw.add_argument("--plot", metavar="HTML", help="also save a plotly figure to this HTML file")
    _add_output(sw)
    sw.set_defaults(func=cmd_sweep)

    se = sub.add_parser("sensitivity", help="rank muscles by their effect on a measure (tornado plot)")
    se.add_argument("measure", metavar="MEASURE")
    se.add_argument("-o", "--output", help="write the tornado plot (HTML), or the table if OUT ends in .json")
    se.add_argument("--json", action="store_true", help="print the table as JSON")
    se.add_argument("--method", choices=("morris", "sobol"), default="morris",
                    help="global method (sobol needs the analysis extra: SALib)")
    se.add_argument("--muscles", metavar="A,B,...", help="factors (default: every bilateral muscle)")
    se.add_argument("--range", default="0,0.3", metavar="LOW,HIGH", help="tone range of the design (default 0,0.3)")
    se.add_argument("--trajectories", type=int, default=30, help="Morris trajectories (default 30)")
    se.add_argument("--samples", type=int, default=64, help="Sobol base samples, a power of 2 (default 64)")
    se.add_argument("--seed", type=int, default=0)
    se.add_argument("--top", type=int, default=0, help="show only the top N muscles")
    se.add_argument("--position", default="standing")
    se.add_argument("--model", default=None)
    se.add_argument("--no-coupling", action="store_true")
    se.set_defaults(func=cmd_sensitivity)
    return p


def _add_output(parser) -> None:
    parser.add_argument("--json", action="store_true", help="JSON: a list of row objects")
    parser.add_argument("--csv", action="store_true", help="CSV with a header row")
    parser.add_argument("-o", "--output", help="write to this file (atomically) instead of stdout")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed a one-line usage error
        return int(exc.code or 0)
    try:
        return args.func(args)
    except MusclesimError as exc:
        print(f"musclesim: error: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into a command that stopped reading (e.g. head)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the report below is the point
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"musclesim: internal error: {type(exc).__name__}: {exc} (at {tb.filename}:{tb.lineno}); "
              f"please report it with the command you ran", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
