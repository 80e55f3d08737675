"""Reading model files: ``load_model`` finds a model, ``read_model_file`` parses and validates it.

Models live in folders ``models/<name>/model.toml``. After a regular (wheel) install they are
shipped inside the package as ``musclesim/_models/<name>/``; in a source checkout (editable
install) they are read from the repository's ``models/`` folder.
"""

from __future__ import annotations

import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from pathlib import Path

from .errors import ModelFileError, ModelNotFoundError
from .model import (
    AbdominalPressure,
    Attachment,
    Coupling,
    Joint,
    Model,
    Muscle,
    MuscleModel,
    OutOfPlaneStiffness,
    PassiveLaw,
    Regulation,
    Relation,
    Segment,
    Subject,
)

DEFAULT_MODEL = "adult_standing"


def model_dirs() -> list[Path]:
    """Folders searched for models by name, in order."""
    here = Path(__file__).resolve().parent
    return [p for p in (here / "_models", here.parent / "models") if p.is_dir()]


def available_models() -> list[str]:
    """Names of the models that :func:`load_model` can load by name."""
    names = {p.parent.name for d in model_dirs() for p in d.glob("*/model.toml")}
    return sorted(names)


def find_model(name_or_path: str | Path | None = None) -> Path:
    """The ``model.toml`` for a model name, a folder or a file path.

    Raises :class:`ModelNotFoundError` naming what was tried and the models available.
    """
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    p = Path(name_or_path)
    if p.suffix == ".toml" and p.is_file():
        return p
    if p.is_dir() and (p / "model.toml").is_file():
        return p / "model.toml"
    if p.name == str(name_or_path):  # a bare name
        for d in model_dirs():
            f = d / str(name_or_path) / "model.toml"
            if f.is_file():
                return f
    raise ModelNotFoundError(
        f"no model {str(name_or_path)!r}: not a model.toml file, a folder holding one, or a model name; "
        f"available models: {', '.join(available_models()) or 'none'}"
    )


def load_model(name_or_path: str | Path | None = None) -> Model:
    """Load and validate a model: the default (``adult_standing``), a name in ``models/`` or a path.

    Raises :class:`~musclesim.errors.ModelNotFoundError` or
    :class:`~musclesim.errors.ModelFileError` (naming the file, field, value and what is allowed).
    """
    return read_model_file(find_model(name_or_path))


def read_model_file(path: str | Path) -> Model:
    """Parse and validate one ``model.toml``. Raises :class:`ModelFileError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelFileError(path, "<file>", f"cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ModelFileError(path, "<file>", f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)  # Python >= 3.14; before that only in the message
        if line is None:
            found = re.search(r"at line (\d+), column \d+", str(exc))
            line = int(found.group(1)) if found else None
        lines = text.splitlines()
        bad = lines[line - 1].strip() if line and line <= len(lines) else None
        raise ModelFileError(path, "<toml>", f"is not valid TOML: {exc}", value=bad, line=line) from None
    from .validate import validate_model_data  # deferred: pydantic import is not free

    return build_model(validate_model_data(data, path), path)


def _vec(v) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def _att(d: dict) -> Attachment:
    return Attachment(d["segment"], _vec(d["point_m"]))


def build_model(d: dict, path: Path | None = None) -> Model:
    """Build a :class:`Model` from already-validated data."""
    sub = d["subject"]
    segments = tuple(
        Segment(s["id"], s["bilateral"], s["parent"], s["joint"], s["mass_fraction"], _vec(s["com_m"]),
                {k: _vec(v) for k, v in s["landmarks"].items()}, s["mass_source"], s["com_source"],
                s["landmarks_source"])
        for s in d["segments"])
    joints = tuple(
        Joint(j["id"], j["bilateral"], j["parent"], j["child"], _vec(j["centre_m"]), int(j["flexion_pitches_child"]),
              (float(j["range_deg"][0]), float(j["range_deg"][1])),
              PassiveLaw(j["passive"]["constant_Nm"], j["passive"]["linear_Nm_per_deg"],
                         tuple(tuple(float(x) for x in t) for t in j["passive"]["exp_terms"]), j["passive"]["source"],
                         tuple((k, tuple(float(x) for x in v))
                               for k, v in j["passive"].get("exp_coupling", {}).items())),
              j["range_source"],
              OutOfPlaneStiffness(**j["out_of_plane"]) if j.get("out_of_plane") else None)
        for j in d["joints"])
    muscles = tuple(
        Muscle(m["id"], m["bilateral"], tuple(m["groups"]), _att(m["origin"]), tuple(_att(v) for v in m["via"]),
               _att(m["insertion"]), m["max_isometric_force_N"], m["optimal_fiber_length_m"],
               m["fiber_length_at_reference_normalized"], m["passive_slack_length_normalized"], m["default_tone"],
               m["path_source"], m["force_source"], m["length_source"], m["tone_source"], m.get("notes", ""))
        for m in d["muscles"])
    mm = d["muscle_model"]
    reg = d["regulation"]
    cp = d["coupling"]
    ap = d.get("abdominal_pressure")
    pressure = None if ap is None else AbdominalPressure(
        ap["rest_mmHg"], ap["area_m2"], ap["wall_hR_m2"], dict(ap["wall_weights"]),
        (ap["diaphragm"]["segment"], ap["diaphragm"]["landmark"]),
        (ap["pelvic_floor"]["segment"], ap["pelvic_floor"]["landmark"]),
        ap["rest_source"], ap["geometry_source"], ap["weights_source"],
        ap.get("lying_rest_mmHg"), ap.get("lying_rest_source", ""))
    return Model(
        name=d["model"]["name"], description=d["model"]["description"], path=path,
        subject=Subject(sub["body_mass_kg"], sub["height_m"], sub["pelvic_incidence_deg"], sub["gravity_m_per_s2"], sub["source"]),
        segments=segments, joints=joints, muscles=muscles,
        groups={k: tuple(v) for k, v in d["groups"].items()},
        relations=tuple(Relation(r["a"], r["b"], r["kind"], r["action"], r["source"]) for r in d["relations"]),
        muscle_model=MuscleModel(mm["short_range_stiffness_gamma"], mm["force_length_width"], mm["passive_strain_at_F0"],
                                 mm["passive_shape"], {k: v for k, v in mm.items() if k.endswith("_source")}),
        coupling=Coupling(cp["synergist_gain"], cp["antagonist_gain"], cp["min_moment_arm_m"], cp["source"]),
        regulation=Regulation(reg["com_anterior_of_ankle_m"], reg["upright_segment"], reg["gaze_segment"], reg["ankle_joint"],
                              reg["neck_joint"], reg["trunk_extensor"], reg["trunk_flexor"], reg["com_source"], reg["source"],
                              reg.get("upright_gain_N_per_deg"), reg.get("upright_gain_source", ""),
                              reg.get("knee_joint"), reg.get("knee_stiffness_Nm_per_deg") or 0.0, reg.get("knee_source", "")),
        abdominal_pressure=pressure,
    )
