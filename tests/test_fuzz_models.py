"""Model-file fuzzing: broken model files always give a ModelFileError naming the file and a field.

A corpus of mutated copies of the default model (``models/adult_standing/model.toml``) is
generated from fixed seeds, so every case is reproducible by its id (``delete_key-7``):

* structural edits of the parsed file, written back as TOML: delete a random key, change a
  value's type, swap a number for a string / a negative / a NaN-like string / an infinity /
  zero / a huge number, duplicate an item of an array of tables, retarget a reference to a
  misspelt name, empty a list;
* edits of the text itself: truncate at a random byte, insert garbage at a random place,
  duplicate a table header block, delete a random line, replace a number literal with
  something that is not one.

Each case must either raise :class:`ModelFileError` whose ``file`` is the file and whose
``field`` names where (or a line number), or load -- some edits leave a valid model (a deleted
``notes``, a number changed to another allowed one) -- and then solve its resting posture
without an exception other than a documented :class:`MusclesimError`. Never a ``KeyError``
from deep in the mechanics, never a numpy warning turned error.

The second part sends mutated scenario-like tone requests through :func:`musclesim.tone.resolve`.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import tomllib

import musclesim as ms
from musclesim.errors import ModelFileError, ModelNotFoundError, MusclesimError, ToneRangeError, UnknownMuscleError
from musclesim.io import find_model, load_model
from musclesim.tone import resolve

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILE = find_model("adult_standing")
TEXT = MODEL_FILE.read_text(encoding="utf-8")
DATA = tomllib.loads(TEXT)
N_PER_KIND = 20  # cases per mutation kind; 11 kinds -> 220 files


def _writer():
    spec = importlib.util.spec_from_file_location("make_invalid", ROOT / "tests" / "data" / "invalid" / "make_invalid.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.to_toml


to_toml = _writer()


# ------------------------------------------------------------------------------ walking the data
def _paths(node, prefix=()):
    """Every (path, value) below ``node``; paths are tuples of keys and list indices."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,), v
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,), v
            yield from _paths(v, prefix + (i,))


def _get(d, path):
    for k in path:
        d = d[k]
    return d


def _set(d, path, value):
    _get(d, path[:-1])[path[-1]] = value


def _pick(rng, d, want=lambda p, v: True):
    cands = [(p, v) for p, v in _paths(d) if want(p, v)]
    return rng.choice(cands)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ------------------------------------------------------------------------------ structural mutations
def delete_key(rng, d):
    path, _ = _pick(rng, d, lambda p, v: isinstance(p[-1], str))
    del _get(d, path[:-1])[path[-1]]
    return f"deleted {path}"


def change_type(rng, d):
    path, v = _pick(rng, d, lambda p, v: not isinstance(v, (dict, list)) or rng.random() < 0.2)
    if isinstance(v, bool):
        new = rng.choice(["true", 1, [True]])
    elif _is_num(v):
        new = rng.choice([str(v), [v], {"value": v}, True])
    elif isinstance(v, str):
        new = rng.choice([1.5, ["x"], {"id": v}, False])
    elif isinstance(v, list):
        new = rng.choice(["[1, 2, 3]", 3.0, {"0": "x"}])
    else:
        new = rng.choice([[1.0], "table", 0])
    _set(d, path, new)
    return f"{path}: {v!r} -> {new!r}"


def swap_number(rng, d):
    path, v = _pick(rng, d, lambda p, v: _is_num(v))
    new = rng.choice([str(v), "nan", "NaN", "inf", "-inf", "1e400", -abs(v) - 1.0, 0.0, 1e308, -1e308, "", "0,5"])
    if new in ("nan", "inf", "-inf") and rng.random() < 0.5:
        new = float(new)  # a real TOML nan / inf
    _set(d, path, new)
    return f"{path}: {v!r} -> {new!r}"


def duplicate_item(rng, d):
    section = rng.choice(["segments", "joints", "muscles", "relations"])
    i = rng.randrange(len(d[section]))
    d[section].insert(rng.randrange(len(d[section]) + 1), copy.deepcopy(d[section][i]))
    return f"duplicated {section}[{i}]"


REF_KEYS = ("parent", "joint", "segment", "child", "a", "b", "upright_segment", "gaze_segment", "ankle_joint",
            "neck_joint", "trunk_extensor", "trunk_flexor")


def retarget_reference(rng, d):
    path, v = _pick(rng, d, lambda p, v: isinstance(v, str) and (p[-1] in REF_KEYS or p[0] == "groups") and v != "")
    new = rng.choice([v + "s", v[:-1], v.upper(), "", "nowhere", v.replace("_", "")])
    _set(d, path, new)
    return f"{path}: {v!r} -> {new!r}"


def empty_container(rng, d):
    path, v = _pick(rng, d, lambda p, v: isinstance(v, (list, dict)) and len(p) <= 3)
    new = [] if isinstance(v, list) else {}
    _set(d, path, new)
    return f"{path}: emptied"


STRUCTURAL = [delete_key, change_type, swap_number, duplicate_item, retarget_reference, empty_container]


# ------------------------------------------------------------------------------ text mutations
def truncate(rng, text):
    n = rng.randrange(1, len(text.encode("utf-8")))
    return text.encode("utf-8")[:n], f"truncated at byte {n}"


def insert_garbage(rng, text):
    raw = text.encode("utf-8")
    n = rng.randrange(len(raw))
    junk = rng.choice([b"}}{{", b"[[", b"= =", b"\x00\xff\xfe", b'"unterminated', b"\n[subject]\n", b"\n]]\n",
                       bytes(rng.randrange(256) for _ in range(8))])
    return raw[:n] + junk + raw[n:], f"inserted {junk!r} at byte {n}"


def duplicate_table(rng, text):
    lines = text.splitlines(keepends=True)
    heads = [i for i, ln in enumerate(lines) if ln.startswith("[") and not ln.startswith("[[")]
    i = rng.choice(heads)
    j = next((k for k in range(i + 1, len(lines)) if lines[k].startswith("[")), len(lines))
    block = lines[i:j]
    at = rng.choice([j, len(lines)])
    return "".join(lines[:at] + block + lines[at:]).encode("utf-8"), f"duplicated table {lines[i].strip()}"


def delete_line(rng, text):
    lines = text.splitlines(keepends=True)
    cands = [i for i, ln in enumerate(lines) if ln.strip() and not ln.startswith("#")]
    i = rng.choice(cands)
    return "".join(lines[:i] + lines[i + 1:]).encode("utf-8"), f"deleted line {i + 1}: {lines[i].strip()[:60]}"


def mangle_number(rng, text):
    import re

    nums = [m for m in re.finditer(r"(?<=[=\[, ])-?\d+\.\d+(?=[\],\n ])", text)]
    m = rng.choice(nums)
    new = rng.choice(["nan", "inf", "-inf", "1..5", "1e", "0x1G", "'1.0'", "--1.0", "1_000.0", "1e999", "-0.0"])
    return (text[:m.start()] + new + text[m.end():]).encode("utf-8"), f"number {m.group()} at char {m.start()} -> {new}"


TEXTUAL = [truncate, insert_garbage, duplicate_table, delete_line, mangle_number]


def _case(kind: str, k: int) -> tuple[bytes, str]:
    rng = random.Random(f"{kind}-{k}")
    for fn in STRUCTURAL:
        if fn.__name__ == kind:
            d = copy.deepcopy(DATA)
            what = fn(rng, d)
            return to_toml(d).encode("utf-8"), what
    fn = next(f for f in TEXTUAL if f.__name__ == kind)
    return fn(rng, TEXT)


CASES = [f"{fn.__name__}-{k}" for fn in STRUCTURAL + TEXTUAL for k in range(N_PER_KIND)]


# ------------------------------------------------------------------------------ the property
def test_corpus_is_big_enough_and_reproducible():
    assert len(CASES) >= 50
    assert _case("truncate", 3) == _case("truncate", 3)
    assert _case("swap_number", 5) == _case("swap_number", 5)


def test_unmutated_round_trip_loads(tmp_path):
    """The writer used for structural cases writes the default model so that it loads unchanged."""
    f = tmp_path / "model.toml"
    f.write_text(to_toml(copy.deepcopy(DATA)), encoding="utf-8")
    assert load_model(f).muscle_ids == load_model().muscle_ids


@pytest.mark.parametrize("case", CASES)
def test_mutated_model_file_fails_cleanly_or_loads_and_solves(case, tmp_path):
    kind, k = case.rsplit("-", 1)
    raw, what = _case(kind, int(k))
    f = tmp_path / "model.toml"
    f.write_bytes(raw)
    try:
        model = load_model(f)
    except ModelFileError as err:
        assert err.file == str(f), (what, str(err))
        assert str(err).startswith(str(f)), (what, str(err))
        assert err.field and (err.field not in ("<document>",) or err.line), (what, str(err))
        assert err.problem, what
        return
    except ModelNotFoundError as err:  # pragma: no cover - the file exists; kept for the contract
        assert str(f) in str(err)
        return
    # the edit left a valid file: the resting posture solves or fails with a documented error
    try:
        res = ms.simulate(model, frames=False)
    except MusclesimError:
        return
    assert res.ok or (all(math.isnan(v) for v in res.metrics.values()) and res.message), (what, res.message)
    if res.ok:
        assert all(math.isfinite(v) for v in res.metrics.values()), what


# ------------------------------------------------------------------------------ tone requests
BAD_NAMES = ["psoas_majr", "", " psoas_major", "PSOAS_MAJOR", "psoas_major_centre", "glute", None, 3, 0.3,
             b"glutes", ("psoas_major",), "hip_flexors ", "left", "psoas_major=0.3"]
BAD_VALUES = [1.0001, -1e-9, 7, -1, float("nan"), float("inf"), -float("inf"), "0.3", "", None, [0.3], {"v": 0.3},
              True, False, complex(0.3, 0), np.float64("nan"), np.float32("inf"), np.array(0.3), np.array([0.3]),
              Decimal("0.3"), Fraction(1, 3), 1e308]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_unknown_tone_names_are_reported(model, name):
    with pytest.raises(UnknownMuscleError) as info:
        resolve(model, {"psoas_major": 0.2, name: 0.3})
    assert repr(str(name)) in str(info.value)


@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_bad_tone_values_are_reported(model, value):
    with pytest.raises(ToneRangeError) as info:
        resolve(model, {"glutes": value, "psoas_major": 0.2})
    assert "glutes" in str(info.value) and "[0, 1]" in str(info.value)


def test_huge_integer_tone_is_a_range_error(model):
    with pytest.raises(ToneRangeError):
        resolve(model, {"glutes": 10 ** 400})


@pytest.mark.parametrize("tone", ["glutes=0.3", ["glutes", 0.3], 0.3, ("glutes", 0.3)], ids=repr)
def test_tone_that_is_not_a_mapping_is_a_type_error(model, tone):
    with pytest.raises(TypeError, match="mapping"):
        resolve(model, tone)


def test_random_scenario_dicts_fail_only_with_documented_errors(model):
    """200 scenario-like dicts mixing good and bad names and values: resolve returns or raises one of
    the three documented errors, with a message naming the culprit."""
    rng = random.Random(8)
    names = list(model.names())
    good_values = [0.0, 0.25, 1.0, 1, np.float64(0.5)]
    outcomes = {"ok": 0, "UnknownMuscleError": 0, "ToneRangeError": 0}
    for _ in range(200):
        tone = {}
        for _ in range(rng.randrange(1, 5)):
            name = rng.choice(names) if rng.random() < 0.8 else rng.choice(BAD_NAMES)
            value = rng.choice(good_values) if rng.random() < 0.8 else rng.choice(BAD_VALUES)
            try:
                tone[name] = value
            except TypeError:  # pragma: no cover - all BAD_NAMES are hashable
                pass
        try:
            out = resolve(model, tone)
        except (UnknownMuscleError, ToneRangeError) as err:
            assert str(err)
            outcomes[type(err).__name__] += 1
            continue
        assert all(0.0 <= v <= 1.0 for v in out.values())
        outcomes["ok"] += 1
    assert all(outcomes.values()), outcomes


# ------------------------------------------------------------------------------ rules the fuzzing found
def _load_edited(tmp_path, edit):
    d = copy.deepcopy(DATA)
    edit(d)
    f = tmp_path / "model.toml"
    f.write_text(to_toml(d), encoding="utf-8")
    return f, (lambda: load_model(f))


def _joint(d, jid):
    return next(j for j in d["joints"] if j["id"] == jid)


def _seg(d, sid):
    return next(s for s in d["segments"] if s["id"] == sid)


def _mus(d, mid):
    return next(m for m in d["muscles"] if m["id"] == mid)


@pytest.mark.parametrize("edit, field, words", [
    # swap_number-7: exp(a + b * angle) overflowed to inf and numba's solve raised LinAlgError
    (lambda d: _joint(d, "ankle")["passive"]["exp_terms"][1].__setitem__(2, -1e308), "joints[0] (ankle).passive.exp_terms[1][2]",
     "implausibly large"),
    (lambda d: _joint(d, "knee")["passive"]["exp_terms"].__setitem__(0, [5.0, 0.0, -6.0]),
     "joints[1] (knee).passive.exp_terms[0]", "passive moment of"),
    (lambda d: d["subject"].__setitem__("body_mass_kg", 1e300), "subject.body_mass_kg", "implausibly large"),
    # empty_container-9: the pelvis without landmarks loaded, then the measures raised KeyError ('pelvis', 'asis')
    (lambda d: _seg(d, "pelvis").__setitem__("landmarks", {}), "segments[3] (pelvis).landmarks", "'asis' is missing"),
    (lambda d: _seg(d, "head_neck")["landmarks"].pop("tragus"), "(head_neck).landmarks", "head_forward_mm"),
    # compile_chain raised a plain ValueError at the first simulate
    (lambda d: _mus(d, "soleus").__setitem__("fiber_length_at_reference_normalized", 9.0),
     "(soleus).fiber_length_at_reference_normalized", "no room for the tendon"),
    (lambda d: _mus(d, "iliacus")["insertion"].__setitem__("point_m", list(_mus(d, "iliacus")["via"][-1]["point_m"])),
     "(iliacus).insertion.point_m", "coincides"),
])
def test_mechanics_rules(tmp_path, edit, field, words):
    f, load = _load_edited(tmp_path, edit)
    with pytest.raises(ModelFileError) as info:
        load()
    assert field in info.value.field, str(info.value)
    assert words in str(info.value) and str(info.value).startswith(str(f))


def test_measure_landmarks_match_what_metrics_reads():
    """validate.MEASURE_LANDMARKS lists exactly the (segment, landmark) pairs the sagittal measures
    read: those the registry names (musclesim.MEASURES) and the compiled kernel takes."""
    from musclesim.measure_kernels import LANDMARKS
    from musclesim.metrics import MEASURES
    from musclesim.validate import MEASURE_LANDMARKS

    read = {lm for m in MEASURES.values() if m.plane == "sagittal" for lm in m.landmarks}
    listed = {(seg, name) for seg, names in MEASURE_LANDMARKS.items() for name in names}
    assert read and read == listed == set(LANDMARKS)


def _relation_on_instance(d):
    d["relations"][0]["a"] = "psoas_major_left"


def _group_only_on_muscles(d):
    del d["groups"]["abdominals"]  # still declared in each abdominal muscle's own `groups`


def _strong_coupling(d):
    d["coupling"]["synergist_gain"] = 0.9


@pytest.mark.parametrize("edit", [_relation_on_instance, _group_only_on_muscles, _strong_coupling])
def test_valid_files_the_core_must_handle(tmp_path, edit):
    """Files that pass validation must solve, or fail with a documented MusclesimError."""
    _, load = _load_edited(tmp_path, edit)
    model = load()
    try:
        ms.simulate(model, {"psoas_major": 0.2}, frames=False)
    except MusclesimError:
        pass


# ------------------------------------------------------------------------------ scenario files
SCENARIO = {
    "description": "psoas and glutes, with a hamstrings contracture",
    "model": "adult_standing",
    "position": "standing",
    "coupling": True,
    "measures": ["pelvic_tilt_deg", "lumbar_lordosis_deg"],
    "tone": {"psoas_major": 0.3, "glutes": 0.1},
    "tightness": {"hamstrings": 10.0},
}
SCENARIO_KINDS = ("delete_key", "change_type", "swap_number", "retarget_reference", "empty_container",
                  "truncate", "insert_garbage", "rename_key")
N_SCENARIO_PER_KIND = 8  # 8 kinds -> 64 files


def _scenario_case(kind: str, k: int) -> tuple[bytes, str]:
    rng = random.Random(f"scenario-{kind}-{k}")
    d = copy.deepcopy(SCENARIO)
    text = to_toml(d)
    if kind == "truncate":
        return truncate(rng, text)
    if kind == "insert_garbage":
        return insert_garbage(rng, text)
    if kind == "rename_key":
        path, _ = _pick(rng, d, lambda p, v: isinstance(p[-1], str))
        parent = _get(d, path[:-1])
        new = path[-1] + rng.choice(["s", "_x", "X"])
        parent[new] = parent.pop(path[-1])
        what = f"renamed {path} to {new!r}"
    elif kind == "retarget_reference":
        path, v = _pick(rng, d, lambda p, v: isinstance(v, str) and p[0] in ("model", "position", "measures")
                        or (len(p) == 2 and p[0] in ("tone", "tightness")))
        if len(path) == 2 and path[0] in ("tone", "tightness"):  # a muscle name is a key
            parent = d[path[0]]
            new = rng.choice([path[1] + "s", path[1][:-1], "biceps", ""])
            parent[new] = parent.pop(path[1])
        else:
            new = rng.choice([v + "s", v[:-1], "nowhere", ""])
            _set(d, path, new)
        what = f"{path} -> {new!r}"
    else:
        what = {"delete_key": delete_key, "change_type": change_type, "swap_number": swap_number,
                "empty_container": empty_container}[kind](rng, d)
    return to_toml(d).encode("utf-8"), what


SCENARIO_CASES = [f"{kind}-{k}" for kind in SCENARIO_KINDS for k in range(N_SCENARIO_PER_KIND)]


def test_base_scenario_loads(tmp_path):
    from musclesim.scenarios import load_scenario

    f = tmp_path / "s.toml"
    f.write_text(to_toml(copy.deepcopy(SCENARIO)), encoding="utf-8")
    assert load_scenario(f).coupling is True


@pytest.mark.parametrize("case", SCENARIO_CASES)
def test_mutated_scenario_file_fails_cleanly_or_loads(case, tmp_path):
    from musclesim.errors import ScenarioFileError
    from musclesim.scenarios import load_scenario

    kind, k = case.rsplit("-", 1)
    raw, what = _scenario_case(kind, int(k))
    f = tmp_path / "scenario.toml"
    f.write_bytes(raw)
    try:
        load_scenario(f)
    except ScenarioFileError as err:
        assert err.file == str(f) and str(err).startswith(str(f)), (what, str(err))
        assert err.field and err.problem, (what, str(err))
