"""Model-file validation: the default model loads; every broken file in tests/data/invalid fails
with an error that names the file, the field (in the file's own terms), the bad value and what is
allowed."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import tomllib

from musclesim.errors import ModelFileError, ModelNotFoundError
from musclesim.io import available_models, find_model, load_model, read_model_file
from musclesim.validate import validate_model_data

INVALID = Path(__file__).parent / "data" / "invalid"
DEFAULT_FILE = find_model("adult_standing")


@pytest.fixture(scope="module")
def make_invalid():
    """The generator of the broken files, imported from its path (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_invalid", INVALID / "make_invalid.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# file stem -> (substring of the field path, substring of the bad value as shown, substring of `allowed`)
CASES = {
    "malformed_toml": ("<toml>", "name = legs_and_pelvis", ""),
    "schema_version": ("schema_version", "2", "1"),
    "missing_section": ("coupling", "", "synergist_gain"),
    "unknown_key": ("muscles[1] (gluteus_maximus).max_isometric_force", "max_isometric_force", "max_isometric_force_N"),
    "missing_source": ("muscles[0] (iliacus).force_source", "", "estimate: why"),
    "empty_source": ("joints[2] (hip).passive.source", "' '", "estimate: why"),
    "negative_force": ("muscles[0] (iliacus).max_isometric_force_N", "-1073", "> 0"),
    "zero_length": ("muscles[1] (gluteus_maximus).optimal_fiber_length_m", "0.0", "> 0"),
    "not_finite": ("subject.body_mass_kg", "nan", "finite"),
    "tone_out_of_range": ("muscles[2] (hamstrings).default_tone", "3.0", "[0, 1]"),
    "duplicate_id": ("muscles[3] (iliacus).id", "iliacus", "not used before"),
    "unknown_segment": ("muscles[1] (gluteus_maximus).via[0].segment", "femur", "foot, shank, thigh, pelvis"),
    "unknown_parent": ("segments[2] (thigh).parent", "calf", "shank"),
    "two_roots": ("segments", "['foot', 'shank']", "one root"),
    "joint_unknown_child": ("joints[2] (hip).child", "hips", "pelvis"),
    "range_reversed": ("joints[2] (hip).range_deg", "[120, -20]", "low < high"),
    "flexion_sign": ("joints[1] (knee).flexion_pitches_child", "0", "-1"),
    "vector_length": ("segments[2] (thigh).landmarks.hip_centre", "[0.0, 0.94]", "3 finite numbers"),
    "exp_terms_shape": ("joints[2] (hip).passive.exp_terms[0]", "[1.0, 1.5]", "[sign, a, b]"),
    "unknown_group_member": ("groups.glutes[0]", "gluteus_maximum", "gluteus_maximus"),
    "group_shadows_muscle": ("groups.gluteus_maximus", "['iliacus']", "['gluteus_maximus']"),
    "bad_relation_kind": ("relations[0].kind", "opposes", "agonist, synergist or antagonist"),
    "unknown_relation_muscle": ("relations[0].b", "glute_max", "gluteus_maximus"),
    "unknown_regulation_joint": ("regulation.ankle_joint", "ankles", "ankle, knee, hip"),
    "coupling_gain": ("coupling.antagonist_gain", "-1.5", "|gain| < 1"),
    "mass_fractions": ("segments[*].mass_fraction", "0.5089", "0.98"),
}


# ------------------------------------------------------------------------------ valid models
def test_default_model_validates():
    data = tomllib.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    out = validate_model_data(data, DEFAULT_FILE)
    assert [m["id"] for m in out["muscles"]] == [m["id"] for m in data["muscles"]]
    assert all(m["notes"] == "" or isinstance(m["notes"], str) for m in out["muscles"])
    model = read_model_file(DEFAULT_FILE)
    assert model.name == "adult_standing" and "psoas_major_left" in model.muscle_ids


def test_validated_data_is_plain_and_numbers_are_floats():
    data = tomllib.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    out = validate_model_data(data, DEFAULT_FILE)

    def plain(x):
        if isinstance(x, dict):
            return type(x) is dict and all(plain(v) for v in x.values())
        if isinstance(x, list):
            return type(x) is list and all(plain(v) for v in x)
        return isinstance(x, (str, int, float, bool))

    assert plain(out)
    assert all(isinstance(v, float) for j in out["joints"] for v in j["range_deg"])
    assert out["joints"][0]["flexion_pitches_child"] in (-1, 1)


def test_small_base_model_validates(make_invalid, tmp_path):
    """Every broken file is this valid model plus one edit, so each error comes from that edit."""
    f = tmp_path / "model.toml"
    f.write_text(make_invalid.to_toml(make_invalid.base_model()), encoding="utf-8")
    model = read_model_file(f)
    total = sum(s.mass_fraction * (2 if s.bilateral else 1) for s in model.segments)
    assert math.isclose(total, 1.0, abs_tol=1e-4)


def test_notes_are_optional_and_kept(tmp_path):
    text = DEFAULT_FILE.read_text(encoding="utf-8").replace(
        'id = "soleus"\n', 'id = "soleus"\nnotes = "the main tonic muscle of stance"\n', 1)
    f = tmp_path / "model.toml"
    f.write_text(text, encoding="utf-8")
    assert read_model_file(f).muscle("soleus").notes == "the main tonic muscle of stance"


# ------------------------------------------------------------------------------ broken files
def test_one_broken_file_per_case_and_nothing_else():
    assert sorted(p.stem for p in INVALID.glob("*.toml")) == sorted(CASES)


def test_broken_files_are_what_the_generator_writes(make_invalid):
    assert sorted(make_invalid.CASES) == sorted(CASES)
    stale = [name for name in CASES
             if (INVALID / f"{name}.toml").read_text(encoding="utf-8") != make_invalid.render(name)]
    assert not stale, f"stale files {stale}: run python tests/data/invalid/make_invalid.py"


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_file_is_rejected(name):
    path = INVALID / f"{name}.toml"
    field, value, allowed = CASES[name]
    assert path.read_text(encoding="utf-8").startswith("# rule: ")
    with pytest.raises(ModelFileError) as info:
        read_model_file(path)
    err = info.value
    msg = str(err)
    assert err.file == str(path) and msg.startswith(str(path))
    assert field in err.field and field in msg
    if value:
        assert value in repr(err.value) and value in msg
    assert allowed in err.allowed and allowed in msg


def test_malformed_toml_reports_the_line():
    path = INVALID / "malformed_toml.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = next(n for n, text in enumerate(lines, 1) if text == "name = legs_and_pelvis")
    with pytest.raises(ModelFileError) as info:
        read_model_file(path)
    assert info.value.line == expected
    assert f"{path}:{expected}:" in str(info.value) and f"line {expected}" in str(info.value)


@pytest.mark.parametrize("name, text", [
    ("negative_force", "max_isometric_force_N = -1073"),
    ("unknown_key", "max_isometric_force = "),
    ("unknown_segment", '"femur"'),
    ("bad_relation_kind", '"opposes"'),
    ("tone_out_of_range", "default_tone = 3.0"),
])
def test_schema_and_reference_errors_point_at_the_line(name, text):
    path = INVALID / f"{name}.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = next(n for n, line in enumerate(lines, 1) if text in line)
    with pytest.raises(ModelFileError) as info:
        read_model_file(path)
    assert info.value.line == expected


def test_missing_source_says_why():
    with pytest.raises(ModelFileError, match=r"every number needs a source, or 'estimate: why'"):
        read_model_file(INVALID / "missing_source.toml")


def test_mass_fraction_sum_is_in_the_message():
    with pytest.raises(ModelFileError, match=r"sum to 0\.5089"):
        read_model_file(INVALID / "mass_fractions.toml")


def test_unknown_key_suggests_the_right_one():
    with pytest.raises(ModelFileError, match=r"did you mean 'max_isometric_force_N'"):
        read_model_file(INVALID / "unknown_key.toml")


# ------------------------------------------------------------------------------ rules on edited data
def _edited(make_invalid, edit) -> dict:
    d = make_invalid.base_model()
    edit(d)
    return d


def _seg(d, sid):
    return next(s for s in d["segments"] if s["id"] == sid)


def _muscle(d, mid):
    return next(m for m in d["muscles"] if m["id"] == mid)


@pytest.mark.parametrize("edit, field, words", [
    (lambda d: _muscle(d, "iliacus").update(groups=["gluteus_maximus"]), "muscles[0] (iliacus).groups[0]",
     "name of another muscle"),
    (lambda d: _muscle(d, "hamstrings").update(groups=["hamstrings", "glutes"]), "muscles[2] (hamstrings).groups[1]",
     "without this muscle"),
    (lambda d: d["groups"].update(glutes=["gluteus_maximus", "gluteus_maximus"]), "groups.glutes[1]", "listed twice"),
    (lambda d: d["relations"][0].update(b="iliacus"), "relations[0].b", "two different"),
    (lambda d: d["regulation"].update(trunk_extensor="erector_spinae"), "regulation.trunk_extensor",
     "unknown muscle"),
    (lambda d: d["regulation"].update(gaze_segment="head_neck"), "regulation.gaze_segment", "unknown segment"),
    (lambda d: _seg(d, "thigh").update(joint="hip"), "segments[2] (thigh).joint", "connects 'thigh'"),
    (lambda d: _seg(d, "thigh").update(joint=""), "segments[2] (thigh).joint", "needs both"),
    (lambda d: _seg(d, "foot").update(parent="pelvis", joint="hip"), "segments", "exactly one segment"),
    (lambda d: _seg(d, "pelvis").update(bilateral="yes"), "segments[3] (pelvis).bilateral", "true or false"),
    (lambda d: _seg(d, "pelvis").update(com_m=[0.0, "1.0", 0.0]), "segments[3] (pelvis).com_m[1]", "a number"),
    (lambda d: _muscle(d, "iliacus").update(id="ilia cus"), "muscles[0] (ilia cus).id", "identifier"),
    (lambda d: d["joints"][0]["passive"].update(exp_terms=[1.0, 2.0, 3.0]), "joints[0] (ankle).passive.exp_terms[0]",
     "a list"),
    (lambda d: d["subject"].update(height_m=float("inf")), "subject.height_m", "finite"),
    (lambda d: d.pop("schema_version"), "schema_version", "missing"),
    (lambda d: d["groups"].update(calves=[]), "groups.calves", "at least 1 item"),
])
def test_rule(make_invalid, edit, field, words):
    with pytest.raises(ModelFileError) as info:
        validate_model_data(_edited(make_invalid, edit), Path("model.toml"))
    assert info.value.field == field
    assert words in str(info.value)


def test_model_file_error_is_a_value_error():
    assert issubclass(ModelFileError, ValueError)
    with pytest.raises(ValueError):
        read_model_file(INVALID / "negative_force.toml")


def test_unreadable_and_non_utf8_files(tmp_path):
    with pytest.raises(ModelFileError, match="cannot be read"):
        read_model_file(tmp_path / "absent.toml")
    f = tmp_path / "latin1.toml"
    f.write_bytes('schema_version = 1\n# Muskel \xfc\n'.encode("latin-1"))
    with pytest.raises(ModelFileError, match="not UTF-8"):
        read_model_file(f)


# ------------------------------------------------------------------------------ finding models
def test_unknown_model_name_lists_available_models():
    with pytest.raises(ModelNotFoundError) as info:
        load_model("nope")
    assert "'nope'" in str(info.value) and "adult_standing" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "adult_standing" in available_models()


def test_load_model_by_folder_and_by_file():
    by_folder = load_model(DEFAULT_FILE.parent)
    by_file = load_model(DEFAULT_FILE)
    by_name = load_model("adult_standing")
    assert by_folder.muscle_ids == by_file.muscle_ids == by_name.muscle_ids
    assert by_file.path == DEFAULT_FILE and load_model().name == "adult_standing"
