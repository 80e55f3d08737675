"""Scenario files: a model, a position, tones and the measures to report, in a small TOML file.

A scenario file::

    description = "Desk sitter with strong glutes"
    model = "adult_standing"          # a model name, or a path (relative to this file); optional
    position = "standing"             # optional (default standing, or the preset's)
    preset = "desk_sitter"            # optional: start from an article preset
    measures = ["pelvic_tilt_deg", "lumbar_lordosis_deg"]   # optional (default: every measure)
    coupling = true                   # optional: propagate tone to related muscles (default true)

    [tone]                            # resting activation 0..1 by muscle id, bilateral name or group
    glutes = 0.25

    [tightness]                       # contracture: degrees of motion lost at the muscle's main joint
    hamstrings = 10                   # (0..45; see musclesim.simulate(tightness=...))

``preset = "<id>"`` takes the tone, tightness, position and description of that preset from
``musclesim/data/presets.toml``, the file the dashboard reads too (one source of truth for the
article presets). The file's own ``tone`` and ``tightness`` entries are added on top of the
preset's (a name in both takes the file's value), and its ``position`` and ``description``
replace the preset's.

Every mistake raises :class:`~musclesim.errors.ScenarioFileError` naming the file, the field,
the bad value and what is allowed (close names are suggested), before anything is solved.

:func:`run_scenarios` solves many files together (one :func:`musclesim.simulate_many` call per
model, position and coupling setting; scenarios with tightness one by one with
:func:`musclesim.simulate`, as the batch solver takes tone only) and returns a tidy
:class:`~musclesim.tables.Table`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from .errors import ModelFileError, ModelNotFoundError, ScenarioFileError
from .tables import Table, measure_rows_columns

#: The fields a scenario file may have.
FIELDS = ("description", "model", "position", "preset", "tone", "tightness", "measures", "coupling")
#: The presets file shared with the dashboard.
PRESETS_FILE = Path(__file__).resolve().parent / "data" / "presets.toml"


@dataclass(frozen=True)
class Scenario:
    """One validated scenario. ``measures`` is every measure when the file names none."""

    name: str  # the file's stem, e.g. "desk_sitter"
    path: Path | None
    model: str  # as written (a name or a path resolved against the file's folder)
    position: str
    tone: Mapping[str, float]
    measures: tuple[str, ...]
    description: str = ""
    preset: str = ""
    coupling: bool = True
    tightness: Mapping[str, float] = field(default_factory=dict)


def _hint(name: object, known: Iterable[str]) -> str:
    """``"; did you mean 'a', 'b'?"`` for close names, else ``""``."""
    hits = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.5)
    return f"; did you mean {', '.join(repr(h) for h in hits)}?" if hits else ""


def _listing(known: Sequence[str], limit: int = 40) -> str:
    known = list(known)
    return ", ".join(known[:limit]) + (f", ... ({len(known)} in all)" if len(known) > limit else "")


@lru_cache(maxsize=4)
def _read_presets(path: str) -> dict[str, dict]:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    return {p["id"]: p for p in raw.get("preset", [])}


def preset_ids() -> tuple[str, ...]:
    """Ids of the article presets in ``musclesim/data/presets.toml`` (file order)."""
    return tuple(_read_presets(str(PRESETS_FILE)))


def preset_info(preset_id: str) -> Mapping:
    """One article preset as written in ``musclesim/data/presets.toml`` (title, claim, tone,
    position, articles, evidence grade and note, expectations). Raises :class:`KeyError`."""
    presets = _read_presets(str(PRESETS_FILE))
    if preset_id not in presets:
        from .errors import UnknownNameError

        raise UnknownNameError(preset_id, presets)
    return presets[preset_id]


def _toml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioFileError(path, "<file>", "no such file") from None
    except OSError as exc:
        raise ScenarioFileError(path, "<file>", f"cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(path, "<file>", f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+), column \d+", str(exc))
        line = int(found.group(1)) if found else None
        lines = text.splitlines()
        bad = lines[line - 1].strip() if line and line <= len(lines) else None
        raise ScenarioFileError(path, "<toml>", f"is not valid TOML: {exc}", value=bad, line=line) from None


_models: dict[str, object] = {}


def _load_model(spec: str, file: Path | None):
    """The model a scenario names (cached per resolved name or path)."""
    from .io import available_models, load_model

    key = spec
    if file is not None and ("/" in spec or "\\" in spec or spec.endswith(".toml")):
        p = Path(spec)
        key = str(p if p.is_absolute() else (file.parent / p).resolve())
    if key not in _models:
        try:
            _models[key] = load_model(key)
        except ModelNotFoundError:
            raise ScenarioFileError(file, "model", "no such model (a name in models/, or a path to a model "
                                    "folder or model.toml relative to the scenario file)", value=spec,
                                    allowed=_listing(available_models())) from None
        except ModelFileError as exc:
            raise ScenarioFileError(file, "model", f"the model file is invalid: {exc}", value=spec) from None
    return _models[key]


def _tone_names(model) -> str:
    bases = [m.id for m in model.muscles]
    return (f"a muscle ({', '.join(bases)}; one side: e.g. {bases[0]}_left) or a group "
            f"({', '.join(model.groups)})")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file.

    Raises
    ------
    ScenarioFileError
        The file is missing or not TOML, a field is unknown or of the wrong type, or it names a
        muscle, measure, position, model or preset that does not exist (with close names), or a
        tone is outside [0, 1], or ``tightness`` is not empty (not modelled yet).
    """
    path = Path(path)
    data = _toml(path)
    return scenario_from_dict(data, path, name=path.stem)


def scenario_from_dict(data: Mapping, file: str | Path | None = None, name: str = "scenario") -> Scenario:
    """Validate the contents of a scenario file given as a mapping (see :func:`load_scenario`).

    Raises :class:`~musclesim.errors.ScenarioFileError` naming ``file`` (when given) and the field.
    """
    from .errors import MusclesimError
    from .io import DEFAULT_MODEL
    from .metrics import MEASURES
    from .simulation import POSITIONS
    from .tone import resolve_tightness

    file = Path(file) if file is not None else None

    def err(fld: str, problem: str, value=None, allowed: str = ""):
        return ScenarioFileError(file, fld, problem, value=value, allowed=allowed)

    for key in data:
        if key not in FIELDS:
            raise err(key, "unknown field" + _hint(key, FIELDS), allowed=_listing(FIELDS))

    def text(fld: str, default: str = "") -> str:
        v = data.get(fld, default)
        if not isinstance(v, str):
            raise err(fld, "must be a string", value=v)
        return v

    description = text("description")
    model_spec = text("model", DEFAULT_MODEL) or DEFAULT_MODEL
    coupling = data.get("coupling", True)
    if not isinstance(coupling, bool):
        raise err("coupling", "must be true or false", value=coupling)

    # the preset first: the file's own fields go on top of it
    tone: dict[str, object] = {}
    tight: dict[str, object] = {}
    position = "standing"
    preset_id = text("preset")
    if preset_id:
        presets = _read_presets(str(PRESETS_FILE))
        if preset_id not in presets:
            raise err("preset", "no such preset" + _hint(preset_id, presets), value=preset_id,
                      allowed=_listing(list(presets)))
        pre = presets[preset_id]
        tone.update(pre.get("tone", {}))
        tight.update(pre.get("tightness", {}))
        position = pre.get("position", position)
        if not description:
            description = f"{pre.get('title', preset_id)}. {pre.get('claim', '')}".strip()
    if "position" in data:
        position = text("position")
    if position not in POSITIONS:
        origin = "" if "position" in data else f" (it comes from preset {preset_id!r})"
        raise err("position", f"this position is not offered by the model yet{origin}", value=position,
                  allowed=_listing(POSITIONS))

    own_tone = data.get("tone", {})
    if not isinstance(own_tone, Mapping):
        raise err("tone", "must be a table of muscle or group name = resting activation in [0, 1]", value=own_tone)
    tone.update(own_tone)

    own_tight = data.get("tightness", {})
    if not isinstance(own_tight, Mapping):
        raise err("tightness", "must be a table of muscle or group name = degrees of motion lost", value=own_tight)
    tight.update(own_tight)

    measures_raw = data.get("measures", None)
    if measures_raw is None:
        measures = tuple(MEASURES)
    else:
        if not isinstance(measures_raw, list) or not measures_raw:
            raise err("measures", "must be a non-empty list of measure names", value=measures_raw)
        for k, m in enumerate(measures_raw):
            if not isinstance(m, str) or m not in MEASURES:
                raise err(f"measures[{k}]", "unknown measure" + _hint(m, MEASURES), value=m,
                          allowed=_listing(list(MEASURES)))
        measures = tuple(dict.fromkeys(measures_raw))

    model = _load_model(model_spec, file)
    names = model.names()
    clean: dict[str, float] = {}
    for nm, v in tone.items():
        origin = "" if nm in own_tone else f" (in preset {preset_id!r})"
        if nm not in names:
            raise err(f"tone.{nm}", f"unknown muscle or group{origin}{_hint(nm, names)}",
                      allowed=_tone_names(model))
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v <= 1:
            raise err(f"tone.{nm}", f"tone must be a number in [0, 1] (resting activation){origin}", value=v)
        clean[nm] = float(v)
    clean_tight: dict[str, float] = {}
    for nm, v in tight.items():
        origin = "" if nm in own_tight else f" (in preset {preset_id!r})"
        if nm not in names:
            raise err(f"tightness.{nm}", f"unknown muscle or group{origin}{_hint(nm, names)}",
                      allowed=_tone_names(model))
        try:
            resolve_tightness(model, {nm: v})
        except MusclesimError as exc:
            raise err(f"tightness.{nm}", f"{exc}{origin}") from None
        clean_tight[nm] = float(v)
    return Scenario(name, file, model_spec, position, clean, measures, description, preset_id, coupling,
                    clean_tight)


def run_scenarios(scenarios: Sequence[str | Path | Scenario], *, executor=None,
                  progress: bool | None = False) -> ScenarioTable:
    """Solve scenario files (paths or loaded :class:`Scenario` objects) and tabulate the measures.

    Every file is validated before anything is solved. Scenarios sharing a model, position and
    coupling setting are solved in one :func:`musclesim.simulate_many` call.

    Returns
    -------
    ScenarioTable
        One row per scenario and reported measure, in the order given: ``scenario`` (the file's
        stem), ``model``, ``position``, ``measure``, ``unit``, ``baseline``, ``value``, ``change``,
        ``ok``, ``message``. A scenario that finds no posture keeps its rows, with ``ok`` False,
        NaN values and the solver's message.

    Raises
    ------
    ScenarioFileError
        For the first file that is missing or invalid (see :func:`load_scenario`); nothing is
        solved then.
    """
    from .progress import simulate_in_pieces

    loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(loaded):
        model = _load_model(s.model, s.path)
        groups.setdefault((id(model), s.position, s.coupling, bool(s.tightness)), []).append(i)
    per: dict[int, tuple] = {}
    for (_, position, coupling, tight), idx in groups.items():
        first = loaded[idx[0]]
        model = _load_model(first.model, first.path)
        if tight:  # the batch solver takes tone only: one by one
            from .simulation import simulate

            for i in idx:
                r = simulate(model, loaded[i].tone, position, tightness=loaded[i].tightness, coupling=coupling,
                             frames=False)
                per[i] = (model.name, _One(r.metrics, r.baseline_metrics, r.ok, r.message))
            continue
        batch = simulate_in_pieces(model, [loaded[i].tone for i in idx], position, coupling=coupling,
                                   executor=executor, progress=progress, desc="scenarios")
        for j, i in enumerate(idx):
            per[i] = (model.name, _One({k: v[j] for k, v in batch.metrics.items()}, batch.baseline_metrics,
                                       batch.ok[j], batch.messages[j]))
    cols: dict[str, list] = {}
    for i, s in enumerate(loaded):
        model_name, one = per[i]
        part = measure_rows_columns(one, s.measures, {"scenario": [s.name], "model": [model_name],
                                                      "position": [s.position]})
        for k, v in part.items():
            cols.setdefault(k, []).extend(list(v))
    table = ScenarioTable(cols, "scenarios")
    table.scenarios = tuple(loaded)
    return table


class _One:
    """One solved scenario, shaped like a batch of one (for :func:`measure_rows_columns`)."""

    def __init__(self, metrics: Mapping[str, float], baseline_metrics: Mapping[str, float], ok: bool, message: str):
        import numpy as np

        self.metrics = {k: np.array([float(v)]) for k, v in metrics.items()}
        self.baseline_metrics = baseline_metrics
        self.ok = np.array([bool(ok)])
        self.messages = (message,)

    def __len__(self) -> int:
        return 1


class ScenarioTable(Table):
    """The tidy table of :func:`run_scenarios`; ``scenarios`` holds the loaded scenarios."""

    scenarios: tuple[Scenario, ...] = ()

    def text(self) -> str:
        """A plain-text report for people: one block per scenario."""
        from .metrics import MEASURES

        out, seen = [], None
        for r in self:
            if r["scenario"] != seen:
                seen = r["scenario"]
                if out:
                    out.append("")
                out.append(f"{seen} ({r['model']}, {r['position']}): {r['message']}")
                if r["ok"]:
                    out.append(f"  {'measure':34s} {'baseline':>9s} {'value':>9s} {'change':>8s}  normal")
            if not r["ok"]:
                continue
            band = MEASURES[r["measure"]].normal
            flag = "" if not band or band[0] <= r["value"] <= band[1] else "  out of band"
            change = 0.0 if abs(r["change"]) < 5e-3 else r["change"]  # no "-0.00"
            out.append(f"  {r['measure']:34s} {r['baseline']:9.2f} {r['value']:9.2f} {change:+8.2f}  "
                       f"{f'{band[0]:g}..{band[1]:g}' if band else ''}{flag}")
        return "\n".join(out)
