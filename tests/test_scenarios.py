"""Scenario files: the example files and article presets run, and every mistake names file and field."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import musclesim as ms
from musclesim.errors import ScenarioFileError
from musclesim.scenarios import load_scenario, preset_ids, preset_info, run_scenarios, scenario_from_dict
from musclesim.simulation import POSITIONS
from musclesim.tables import write_atomic

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "scenarios"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.toml"))
FUTURE_FILES = sorted((EXAMPLES / "future").glob("*.toml"))


@pytest.fixture(scope="module")
def example_table():
    return run_scenarios(EXAMPLE_FILES)


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_every_example_file_runs_and_reports_its_measures(example_table):
    assert len(EXAMPLE_FILES) >= 8
    scenarios = {s.name: s for s in example_table.scenarios}
    assert list(scenarios) == [p.stem for p in EXAMPLE_FILES]
    assert len(example_table) == sum(len(s.measures) for s in scenarios.values())
    for row in example_table:
        assert row["ok"], (row["scenario"], row["message"])
        assert row["measure"] in scenarios[row["scenario"]].measures
        assert row["change"] == pytest.approx(row["value"] - row["baseline"], abs=1e-9)


def test_scenario_rows_equal_single_simulations(model, example_table):
    for s in example_table.scenarios:
        single = ms.simulate(model, s.tone, s.position, tightness=s.tightness, coupling=s.coupling, frames=False)
        rows = example_table.where(scenario=s.name)
        for r in rows:
            assert r["value"] == pytest.approx(single.metrics[r["measure"]], abs=1e-7), (s.name, r["measure"])
            assert r["baseline"] == pytest.approx(single.baseline_metrics[r["measure"]], abs=1e-9)


def test_every_article_preset_has_an_example_file():
    """One source of truth: each preset of musclesim/data/presets.toml is run from examples/scenarios/."""
    referenced = {}
    for p in EXAMPLE_FILES + FUTURE_FILES:
        text = p.read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.strip().startswith("preset"):
                referenced.setdefault(line.split("=", 1)[1].strip().strip('"'), []).append(p.name)
    missing = [pid for pid in preset_ids() if pid not in referenced]
    assert not missing, f"add examples/scenarios/<id>.toml with preset = \"<id>\" for: {missing}"
    unknown = [pid for pid in referenced if pid not in preset_ids()]
    assert not unknown


@pytest.mark.parametrize("pid", preset_ids())
def test_presets_take_tone_and_position_from_the_presets_file(pid):
    info = preset_info(pid)
    if info["position"] not in POSITIONS:
        with pytest.raises(ScenarioFileError) as e:
            scenario_from_dict({"preset": pid}, "x.toml")
        assert e.value.field == "position" and info["position"] in str(e.value) and pid in str(e.value)
        return
    s = scenario_from_dict({"preset": pid}, "x.toml")
    assert s.tone == {k: float(v) for k, v in info["tone"].items()}
    assert s.tightness == {k: float(v) for k, v in info.get("tightness", {}).items()}
    assert s.position == info["position"]
    assert info["title"] in s.description


def test_future_presets_wait_for_their_position():
    for p in FUTURE_FILES:
        pid = load_preset_id(p)
        if preset_info(pid)["position"] in POSITIONS:  # the position arrived: the file must run now
            assert run_scenarios([p]).column("ok").all()
        else:
            with pytest.raises(ScenarioFileError) as e:
                load_scenario(p)
            assert e.value.field == "position" and e.value.file == str(p)


def load_preset_id(path: Path) -> str:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    return tomllib.loads(path.read_text(encoding="utf-8"))["preset"]


def test_file_tone_is_added_on_top_of_the_preset():
    s = load_scenario(EXAMPLES / "desk_sitter_strong_glutes.toml")
    assert s.tone == {"psoas_major": 0.4, "iliacus": 0.4, "glutes": 0.3}
    assert s.description.startswith("Desk sitter who trains")
    s2 = scenario_from_dict({"preset": "desk_sitter", "tone": {"psoas_major": 0.1}})
    assert s2.tone["psoas_major"] == 0.1 and s2.tone["iliacus"] == 0.4


def test_tightness_scenarios_match_simulate_with_tightness(model):
    files = [EXAMPLES / "hamstrings_contracture.toml", EXAMPLES / "desk_sitter.toml"]
    t = run_scenarios(files)
    s = t.scenarios[0]
    assert s.tightness == {"hamstrings": 10.0}
    ref = ms.simulate(model, s.tone, tightness=s.tightness)
    for r in t.where(scenario="hamstrings_contracture"):
        assert r["value"] == pytest.approx(ref.metrics[r["measure"]], abs=1e-7)
    # a contracture of the hip extensors tilts the pelvis back
    assert t.where(scenario="hamstrings_contracture", measure="pelvic_tilt_deg")[0]["change"] < 0


def test_coupling_off_matches_simulate_without_coupling(model):
    s = load_scenario(EXAMPLES / "psoas_alone.toml")
    assert s.coupling is False and s.tightness == {}
    t = run_scenarios([s])
    ref = ms.simulate(model, {"psoas_major": 0.3}, coupling=False)
    tilt = t.where(measure="pelvic_tilt_deg")[0]
    assert tilt["value"] == pytest.approx(ref.metrics["pelvic_tilt_deg"], abs=1e-7)
    assert tilt["change"] < 2.0  # the psoas alone tilts the pelvis only a little (README)


@pytest.mark.parametrize("text,field,needles", [
    ('tone = { psoas_majr = 0.3 }', "tone.psoas_majr", ["unknown muscle or group", "did you mean 'psoas_major'"]),
    ('tone = { psoas_major = 1.5 }', "tone.psoas_major", ["[0, 1]", "1.5"]),
    ('tone = { psoas_major = "high" }', "tone.psoas_major", ["[0, 1]"]),
    ('tone = { psoas_major = true }', "tone.psoas_major", ["[0, 1]"]),
    ('tone = 0.3', "tone", ["must be a table"]),
    ('mesures = ["pelvic_tilt_deg"]', "mesures", ["unknown field", "did you mean 'measures'", "allowed:"]),
    ('measures = ["pelvic_tilt"]', "measures[0]", ["unknown measure", "did you mean 'pelvic_tilt_deg'"]),
    ('measures = []', "measures", ["non-empty list"]),
    ('measures = "pelvic_tilt_deg"', "measures", ["list"]),
    ('position = "lying"', "position", ["not offered", "allowed: standing"]),
    ('preset = "desk_siter"', "preset", ["no such preset", "did you mean 'desk_sitter'"]),
    ('model = "adult_standng"', "model", ["no such model", "allowed: ", "adult_standing"]),
    ('coupling = "yes"', "coupling", ["true or false"]),
    ('description = 3', "description", ["must be a string"]),
    ('[tightness]\npsoas_major = 60', "tightness.psoas_major", ["degrees", "[0, 45]", "60"]),
    ('[tightness]\npsoas_majr = 10', "tightness.psoas_majr", ["unknown muscle or group", "did you mean"]),
    ('tightness = 10', "tightness", ["must be a table"]),
    ('tone = { psoas_major = ', "<toml>", ["not valid TOML"]),
])
def test_bad_files_name_file_field_and_what_is_allowed(tmp_path, text, field, needles):
    p = write(tmp_path, text + "\n")
    with pytest.raises(ScenarioFileError) as e:
        load_scenario(p)
    err = e.value
    assert isinstance(err, ValueError) and isinstance(err, ms.errors.MusclesimError)
    assert err.field == field and err.file == str(p)
    msg = str(err)
    assert msg.startswith(str(p))
    for needle in needles:
        assert needle in msg, msg


def test_bad_preset_tone_is_reported_in_the_file_not_the_solver(tmp_path):
    with pytest.raises(ScenarioFileError) as e:
        load_scenario(tmp_path / "missing.toml")
    assert "no such file" in str(e.value)


def test_empty_tightness_table_is_accepted(tmp_path):
    s = load_scenario(write(tmp_path, '[tone]\nglutes = 0.2\n[tightness]\n'))
    assert s.tightness == {} and s.tone == {"glutes": 0.2} and s.model == "adult_standing"
    assert s.measures == tuple(ms.MEASURES)


def test_model_path_is_relative_to_the_scenario_file(tmp_path):
    model_file = ROOT / "models" / "adult_standing" / "model.toml"
    rel = os.path.relpath(model_file, tmp_path)
    s = load_scenario(write(tmp_path, f'model = "{rel}"\nmeasures = ["pelvic_tilt_deg"]\n[tone]\nglutes = 0.2\n'))
    t = run_scenarios([s])
    assert t[0]["ok"] and t[0]["model"] == "adult_standing"


def test_validation_happens_before_any_solve(tmp_path, monkeypatch):
    good = write(tmp_path, '[tone]\nglutes = 0.2\n', "good.toml")
    bad = write(tmp_path, '[tone]\nglutes = 2\n', "bad.toml")
    from musclesim import progress

    monkeypatch.setattr(progress, "simulate_in_pieces", lambda *a, **k: pytest.fail("solved before validating"))
    with pytest.raises(ScenarioFileError) as e:
        run_scenarios([good, bad])
    assert e.value.file == str(bad)


# --------------------------------------------------------------------------- CLI

def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "musclesim", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_scenario_csv_has_header_and_one_row_per_measure(tmp_path):
    files = [EXAMPLES / "desk_sitter.toml", EXAMPLES / "flat_back.toml"]
    out = tmp_path / "table.csv"
    p = cli("scenario", *map(str, files), "--csv", "-o", str(out))
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    expected = sum(len(load_scenario(f).measures) for f in files)
    assert len(rows) == expected
    assert list(rows[0]) == ["scenario", "model", "position", "measure", "unit", "baseline", "value", "change",
                             "ok", "message"]
    tilt = {r["scenario"]: float(r["change"]) for r in rows if r["measure"] == "pelvic_tilt_deg"}
    assert tilt["desk_sitter"] > 0 > tilt["flat_back"]  # tight hip flexors tilt forward, tight hamstrings back
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_cli_scenario_json_and_text(tmp_path):
    p = cli("scenario", str(EXAMPLES / "sway_back.toml"), "--json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert {r["measure"] for r in rows} == set(load_scenario(EXAMPLES / "sway_back.toml").measures)
    p = cli("scenario", str(EXAMPLES / "sway_back.toml"))
    assert p.returncode == 0 and "sway_back (adult_standing, standing)" in p.stdout


def test_cli_scenario_bad_file_exits_2_with_one_line(tmp_path):
    bad = write(tmp_path, 'tone = { psoas_majr = 0.3 }\n')
    p = cli("scenario", str(bad))
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "tone.psoas_majr" in p.stderr and "psoas_major" in p.stderr
    p = cli("scenario", str(EXAMPLES / "desk_sitter.toml"), "-o", str(tmp_path / "no" / "such" / "dir.csv"))
    assert p.returncode == 2 and "does not exist" in p.stderr


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_failed_scenario_keeps_its_rows(tmp_path):
    p = write(tmp_path, 'measures = ["pelvic_tilt_deg", "lumbar_lordosis_deg"]\n[tone]\ncalves = 0.5\n')
    t = run_scenarios([p])
    assert len(t) == 2 and not any(t.column("ok"))
    assert all(math.isnan(v) for v in t.column("value"))
    assert "no standing posture" in t[0]["message"]
    assert t.to_csv().splitlines()[1].split(",")[6] == ""  # NaN is an empty CSV field
    assert json.loads(t.to_json())[0]["value"] is None
