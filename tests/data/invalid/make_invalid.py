"""Write the broken model files in this folder, one per validation rule.

Run ``python tests/data/invalid/make_invalid.py`` after changing this script or
``models/adult_standing/model.toml``; ``tests/test_validate.py`` fails while the committed files
differ from what this script writes.

Each file is the same small *valid* model with ONE edit. The small model is
``models/adult_standing/model.toml`` cut down to the legs and pelvis (segments foot, shank, thigh,
pelvis; joints ankle, knee, hip; four hip muscles) so that each file stays short:

* numbers and coordinates are copied unchanged, except the pelvis mass fraction, which takes the
  mass of the trunk, arms and head that were cut off (so the fractions still add up to 1);
* every source text is replaced by a pointer to the full model (the numbers come from there);
* regulation and the one relation name the parts that remain.

The first line of each file says what is broken (``# rule: ...``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
FULL_MODEL = HERE.parents[2] / "models" / "adult_standing" / "model.toml"

KEEP_SEGMENTS = ("foot", "shank", "thigh", "pelvis")
KEEP_JOINTS = ("ankle", "knee", "hip")
KEEP_MUSCLES = ("iliacus", "gluteus_maximus", "hamstrings", "rectus_femoris")
SOURCE = "as in models/adult_standing/model.toml"


# ------------------------------------------------------------------------------ the small model
def base_model() -> dict:
    """The valid small model (a dict as tomllib returns it)."""
    full = tomllib.loads(FULL_MODEL.read_text(encoding="utf-8"))
    d = {k: v for k, v in full.items() if k not in ("segments", "joints", "muscles", "groups", "relations")}
    d["model"] = {"name": "legs_and_pelvis",
                  "description": "adult_standing cut down to the legs and pelvis, for validation tests"}
    d["segments"] = [s for s in full["segments"] if s["id"] in KEEP_SEGMENTS]
    d["joints"] = [j for j in full["joints"] if j["id"] in KEEP_JOINTS]
    d["muscles"] = [m for m in full["muscles"] if m["id"] in KEEP_MUSCLES]
    groups = {g: [m for m in ms if m in KEEP_MUSCLES] for g, ms in full["groups"].items()}
    d["groups"] = {g: ms for g, ms in groups.items() if ms}
    for m in d["muscles"]:
        m["groups"] = [g for g in m["groups"] if g in d["groups"] or g == m["id"]]
    legs = sum(s["mass_fraction"] * (2 if s["bilateral"] else 1) for s in d["segments"] if s["id"] != "pelvis")
    pelvis = next(s for s in d["segments"] if s["id"] == "pelvis")
    pelvis["mass_fraction"] = round(1.0 - legs, 5)  # the pelvis carries the trunk, arms and head
    d["regulation"].update(upright_segment="pelvis", gaze_segment="pelvis", neck_joint="hip",
                           trunk_extensor="gluteus_maximus", trunk_flexor="iliacus")
    d["relations"] = [{"a": "iliacus", "b": "gluteus_maximus", "kind": "antagonist",
                       "action": "hip flexion against hip extension", "source": SOURCE}]
    _replace_sources(d)
    # the order of sections in the full file (the schema reports the first problem in this order)
    order = ["schema_version", "model", "subject", "segments", "joints", "muscles", "groups", "muscle_model",
             "coupling", "regulation", "relations"]
    return {k: d[k] for k in order}


def _replace_sources(node) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if (k == "source" or k.endswith("_source")) and isinstance(v, str):
                node[k] = SOURCE
            else:
                _replace_sources(v)
    elif isinstance(node, list):
        for v in node:
            _replace_sources(v)


# ------------------------------------------------------------------------------ a small TOML writer
def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def _table(name: str, d: dict, out: list[str], header: str) -> None:
    """Keys first, then sub-tables; small dicts without dicts inside are written inline."""
    out.append(header)
    subs = []
    for k, v in d.items():
        if isinstance(v, dict) and (any(isinstance(x, dict) for x in v.values()) or len(_value(v)) > 90):
            subs.append((k, v))
        else:
            out.append(f"{_key(k)} = {_value(v)}")
    for k, v in subs:
        _table(f"{name}.{k}", v, out, f"[{name}.{_key(k)}]")


def to_toml(d: dict) -> str:
    out: list[str] = []
    for k, v in d.items():
        if not isinstance(v, (dict, list)) or (isinstance(v, list) and not all(isinstance(x, dict) for x in v)):
            out.append(f"{_key(k)} = {_value(v)}")
    for k, v in d.items():
        if isinstance(v, dict):
            out.append("")
            _table(k, v, out, f"[{_key(k)}]")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                out.append("")
                _table(k, item, out, f"[[{_key(k)}]]")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------ one edit per file
def _item(d: dict, section: str, ident: str) -> dict:
    return next(x for x in d[section] if x["id"] == ident)


def _rename_key(table: dict, old: str, new: str) -> None:
    items = [(new if k == old else k, v) for k, v in table.items()]
    table.clear()
    table.update(items)


class TextEdit:
    """An edit of the written text, for breaks that cannot be expressed as data (bad TOML)."""

    def __init__(self, old: str, new: str):
        self.old, self.new = old, new

    def __call__(self, text: str) -> str:
        n = text.count(self.old)
        assert n == 1, f"{self.old!r} occurs {n} times in the small model"
        return text.replace(self.old, self.new)


# name -> (rule, edit of the data, or of the text when the break cannot be expressed as data)
CASES: dict[str, tuple[str, Callable]] = {
    "malformed_toml": ("not TOML: the model name lacks its quotes",
                       TextEdit('name = "legs_and_pelvis"\n', "name = legs_and_pelvis\n")),
    "schema_version": ("schema_version is 2; this musclesim reads 1",
                       lambda d: d.update(schema_version=2)),
    "missing_section": ("the [coupling] section is missing",
                        lambda d: d.pop("coupling")),
    "unknown_key": ("misspelt key max_isometric_force (no _N) in gluteus_maximus",
                    lambda d: _rename_key(_item(d, "muscles", "gluteus_maximus"),
                                          "max_isometric_force_N", "max_isometric_force")),
    "missing_source": ("iliacus has no force_source",
                       lambda d: _item(d, "muscles", "iliacus").pop("force_source")),
    "empty_source": ("the hip passive law has an empty source",
                     lambda d: _item(d, "joints", "hip")["passive"].update(source=" ")),
    "negative_force": ("iliacus has a negative max_isometric_force_N",
                       lambda d: _item(d, "muscles", "iliacus").update(max_isometric_force_N=-1073.0)),
    "zero_length": ("gluteus_maximus has optimal_fiber_length_m = 0",
                    lambda d: _item(d, "muscles", "gluteus_maximus").update(optimal_fiber_length_m=0.0)),
    "not_finite": ("body mass is nan",
                   lambda d: d["subject"].update(body_mass_kg=float("nan"))),
    "tone_out_of_range": ("hamstrings default_tone 3.0 (a percentage, not an activation in [0, 1])",
                          lambda d: _item(d, "muscles", "hamstrings").update(default_tone=3.0)),
    "duplicate_id": ("two muscles have the id iliacus (rectus_femoris renamed)",
                     lambda d: _item(d, "muscles", "rectus_femoris").update(id="iliacus")),
    "unknown_segment": ("gluteus_maximus via point on segment 'femur', which does not exist",
                        lambda d: _item(d, "muscles", "gluteus_maximus")["via"][0].update(segment="femur")),
    "unknown_parent": ("the thigh's parent is 'calf', which does not exist",
                       lambda d: _item(d, "segments", "thigh").update(parent="calf")),
    "two_roots": ("the shank has no parent and no joint: two roots",
                  lambda d: _item(d, "segments", "shank").update(parent="", joint="")),
    "joint_unknown_child": ("the hip joint's child is 'hips', which does not exist",
                            lambda d: _item(d, "joints", "hip").update(child="hips")),
    "range_reversed": ("the hip range_deg is [high, low]",
                       lambda d: _item(d, "joints", "hip").update(range_deg=[120, -20])),
    "flexion_sign": ("the knee flexion_pitches_child is 0 (must be 1 or -1)",
                     lambda d: _item(d, "joints", "knee").update(flexion_pitches_child=0)),
    "vector_length": ("the thigh landmark hip_centre has 2 coordinates",
                      lambda d: _item(d, "segments", "thigh")["landmarks"].update(hip_centre=[0.0, 0.94])),
    "exp_terms_shape": ("the hip passive law's first exp term is a pair, not [sign, a, b]",
                        lambda d: _item(d, "joints", "hip")["passive"]["exp_terms"].__setitem__(0, [1.0, 1.5])),
    "unknown_group_member": ("group glutes lists gluteus_maximum (misspelt)",
                             lambda d: d["groups"].update(glutes=["gluteus_maximum"])),
    "group_shadows_muscle": ("a group named gluteus_maximus holds iliacus",
                             lambda d: d["groups"].update(gluteus_maximus=["iliacus"])),
    "bad_relation_kind": ("relation kind 'opposes' (not agonist, synergist or antagonist)",
                          lambda d: d["relations"][0].update(kind="opposes")),
    "unknown_relation_muscle": ("relation names the muscle 'glute_max', which does not exist",
                                lambda d: d["relations"][0].update(b="glute_max")),
    "unknown_regulation_joint": ("regulation ankle_joint names 'ankles', which does not exist",
                                 lambda d: d["regulation"].update(ankle_joint="ankles")),
    "coupling_gain": ("antagonist_gain -1.5 (|gain| must be < 1)",
                      lambda d: d["coupling"].update(antagonist_gain=-1.5)),
    "mass_fractions": ("the pelvis mass fraction is that of the pelvis alone (trunk, arms, head missing)",
                       lambda d: _item(d, "segments", "pelvis").update(mass_fraction=0.1117)),
}


def render(name: str) -> str:
    """The text of ``<name>.toml``."""
    rule, edit = CASES[name]
    d = base_model()
    if isinstance(edit, TextEdit):
        text = edit(to_toml(d))
    else:
        edit(d)
        text = to_toml(d)
    return f"# rule: {rule}\n# written by make_invalid.py from models/adult_standing/model.toml; do not edit\n{text}"


def main() -> int:
    for old in HERE.glob("*.toml"):
        if old.stem not in CASES:
            old.unlink()
    for name in CASES:
        (HERE / f"{name}.toml").write_text(render(name), encoding="utf-8")
    print(f"wrote {len(CASES)} files to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
