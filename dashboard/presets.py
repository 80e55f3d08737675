"""Article presets (``musclesim/data/presets.toml``) and their live verdicts.

A preset is a scenario built from a seed article's claim: tones, a position, the claim in a
paraphrased line, the article file names, the literature's evidence grade, and the measures the
claim is about with the direction it expects. :func:`verdict` solves nothing: it compares the
signs of changes in results the caller computed with the claim, so the verdict is always the
model's, never typed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from musclesim.claims import NO_CHANGE, Expectation, judge  # noqa: F401 (NO_CHANGE: the thresholds verdict uses)

PRESETS_FILE = Path(__file__).resolve().parents[1] / "musclesim" / "data" / "presets.toml"
#: Directions a preset may claim (the engine also knows "either", which presets do not use).
DIRECTIONS = ("up", "down")


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    position: str
    tone: Mapping[str, float]
    claim: str
    articles: tuple[str, ...]
    evidence_grade: str
    evidence_note: str
    expect: tuple[Expectation, ...]
    compare_position: str = ""
    disagreement: str = ""
    tightness: Mapping[str, float] = field(default_factory=dict)  # degrees of motion lost, by name
    claims: tuple[str, ...] = ()  # related ids of the claims catalogue

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(e.measure for e in self.expect if e.measure)


def _presets_path() -> Path:
    try:
        from importlib.resources import files

        p = files("musclesim").joinpath("data", "presets.toml")
        if p.is_file():
            return Path(str(p))
    except (ModuleNotFoundError, AttributeError):  # pragma: no cover
        pass
    return PRESETS_FILE


@lru_cache(maxsize=4)
def load_presets(path: str | None = None) -> tuple[Preset, ...]:
    """Every preset in the presets file (in file order), checked for shape."""
    p = Path(path) if path else _presets_path()
    with open(p, "rb") as fh:
        raw = tomllib.load(fh)
    out = []
    for k, item in enumerate(raw.get("preset", [])):
        where = f"{p.name}: preset[{k}]"
        for key in ("id", "title", "position", "tone", "claim", "articles", "evidence_grade", "evidence_note", "expect"):
            if key not in item:
                raise ValueError(f"{where}: missing {key!r}")
        expects = []
        for e in item["expect"]:
            if e.get("direction") not in DIRECTIONS or not (e.get("measure") or e.get("muscle_force")):
                raise ValueError(f"{where}: each expect needs a measure or muscle_force and a direction up/down; got {e}")
            expects.append(Expectation(e["direction"], e.get("measure", ""), e.get("muscle_force", "")))
        out.append(Preset(item["id"], item["title"], item["position"], dict(item["tone"]), item["claim"],
                          tuple(item["articles"]), item["evidence_grade"], item["evidence_note"], tuple(expects),
                          item.get("compare_position", ""), item.get("disagreement", ""),
                          dict(item.get("tightness", {})), tuple(item.get("claims", ()))))
    ids = [p.id for p in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{p}: duplicate preset ids")
    return tuple(out)


def available_presets(positions: Sequence[str], path: str | None = None) -> tuple[Preset, ...]:
    """The presets whose positions (and comparison position) the model offers."""
    return tuple(p for p in load_presets(path)
                 if p.position in positions and (not p.compare_position or p.compare_position in positions))


def preset_by_id(preset_id: str, path: str | None = None) -> Preset | None:
    return next((p for p in load_presets(path) if p.id == preset_id), None)


def verdict(preset: Preset, result: Any, reference: Any, units: Mapping[str, str] | None = None) -> dict:
    """The model's verdict on ``preset``'s claim, from :func:`musclesim.claims.judge` (the one
    claim-verdict engine; its no-change thresholds are :data:`musclesim.claims.NO_CHANGE`).

    ``result`` is the preset solved; ``reference`` what the claim compares it with (the baseline
    in the same position, or the same tone in ``compare_position``); ``units`` overrides the
    registry's unit of a measure. Each expectation is ``reproduced`` (the change has the claimed
    sign), ``opposite``, ``no change``, ``not modelled`` (the model has no such measure) or
    ``no posture`` (the solve failed). The overall verdict: ``reproduced`` when all are,
    ``not reproduced`` when none is, ``partly reproduced`` otherwise, ``outside the model's
    scope`` when nothing is testable and ``no stable posture`` when a solve failed.

    Returns ``{"preset": id, "verdict": ..., "rows": [{"key", "direction", "change", "unit",
    "status", and "value"/"reference" or "message"}]}``.
    """
    j = judge(preset.expect, result, reference, units)
    return {"preset": preset.id, "verdict": j.verdict, "rows": [c.as_row() for c in j.checks]}


def describe_row(row: Mapping) -> str:
    """One line for a verdict row: ``pelvic tilt: claimed up, model +3.8° -> reproduced``."""
    from musclesim.plot import measure_label, unit_symbol

    key = row["key"]
    label = f"{key[6:].replace('_', ' ')} force" if key.startswith("force:") else measure_label(key)
    if row["change"] is None:
        return f"{label}: claimed {row['direction']}; {row['status']}"
    u = unit_symbol(row["unit"])
    return f"{label}: claimed {row['direction']}, model {row['change']:+.1f}{u if u == '°' else ' ' + u} → {row['status']}"
