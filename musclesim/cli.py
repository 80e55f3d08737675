"""The ``musclesim`` command line.

    musclesim run --set psoas_major=0.6 [--set ...] [--position standing] [--json] [--explain pelvic_tilt_deg]
    musclesim models
    musclesim graph [-o graph.json]
    musclesim serve [--host 127.0.0.1] [--port 8050]

User errors (unknown muscle, tone out of range, bad syntax, missing model) exit with status 2 and
one line on stderr, never a traceback; an internal error exits 1 with a short report.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import traceback

from .errors import MusclesimError

EXIT_USER = 2
EXIT_INTERNAL = 1


class UsageError(MusclesimError, ValueError):
    """Bad command-line syntax."""


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
    explanation = None
    if args.explain:
        if not res.ok:
            raise UsageError(f"cannot explain: {res.message}")
        explanation = ms.explain(res, base, measures=[args.explain])[args.explain]
    if args.json:
        out = {
            "model": model.name, "position": args.position, "tone": tone, "tightness": tight, "ok": res.ok, "converged": res.converged,
            "stable": res.stable, "message": res.message, "residual_Nm": res.residual_Nm,
            "iterations": res.iterations,
            "measures": {k: {"baseline": base.metrics[k], "value": _num(res.metrics[k]),
                             "change": _num(res.metrics[k] - base.metrics[k]), "unit": MEASURES[k].unit,
                             "normal": MEASURES[k].normal} for k in res.metrics},
            "activation": dict(res.activation), "regulation": dict(res.regulation),
        }
        if explanation:
            out["explain"] = explanation.as_dict()
        print(json.dumps(out, indent=2))
        return 0 if res.ok else EXIT_USER
    changed = ", ".join([f"{k}={v:g}" for k, v in tone.items()] + [f"{k} tight {v:g} deg" for k, v in tight.items()]) \
        or "resting tone"
    print(f"musclesim {model.name}, {args.position}: {changed}")
    print(f"  {res.message}")
    if not res.ok:
        return EXIT_USER
    print(f"  {'measure':34s} {'baseline':>9s} {'value':>9s} {'change':>8s}  {'normal':>10s}")
    for k, v in res.metrics.items():
        info = MEASURES[k]
        ch = v - base.metrics[k]
        flag = "" if not info.normal or info.normal[0] <= v <= info.normal[1] else "  out of band"
        print(f"  {k:34s} {base.metrics[k]:9.2f} {v:9.2f} {ch:+8.2f}  {_fmt_band(info.normal):>10s}{flag}")
    reg = res.regulation
    print(f"  regulation: ankle {reg['ankle_torque_Nm']:+.1f} N·m, neck {reg['neck_torque_Nm']:+.1f} N·m, "
          f"trunk {reg['trunk_extra_force_N']:+.0f} N ({reg['trunk_muscle']})")
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


def cmd_serve(args) -> int:
    try:
        from dashboard.app import serve
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise UsageError(f"the dashboard is not available in this install ({exc})") from None
    serve(host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="musclesim", description="Raise a muscle's tone, see the posture change, and why.")
    sub = p.add_subparsers(dest="command", required=True)
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
    serve = sub.add_parser("serve", help="start the dashboard (production WSGI server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.set_defaults(func=cmd_serve)
    return p


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
