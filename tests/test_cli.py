"""The command line: output for people and scripts, one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from musclesim.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "musclesim", *args], capture_output=True, text=True)


def test_run_prints_measures_and_changes(capsys):
    assert main(["run", "--set", "psoas_major=0.3"]) == 0
    out = capsys.readouterr().out
    assert "pelvic_tilt_deg" in out and "lumbar_lordosis_deg" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("pelvic_tilt_deg"))
    assert float(line.split()[3]) > 0  # change column: anterior tilt


def test_run_one_sided_prints_the_left_right_answer_and_its_regulators(capsys):
    assert main(["run", "--set", "psoas_major_left=0.4", "--no-coupling"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("trunk_lateral_bend_deg"))
    assert float(line.split()[3]) > 0  # toward the toned (left) side
    assert "left-right regulation" in out
    assert main(["run", "--set", "psoas_major=0.4"]) == 0  # equal sides: zero by symmetry, no regulators
    assert "left-right regulation" not in capsys.readouterr().out


def test_run_json_is_machine_readable(capsys):
    assert main(["run", "--json", "--set", "glutes=0.25", "--explain", "pelvic_tilt_deg"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    m = data["measures"]["pelvic_tilt_deg"]
    assert m["change"] == pytest.approx(m["value"] - m["baseline"])
    assert m["change"] < 0
    assert data["explain"]["measure"] == "pelvic_tilt_deg"


@pytest.mark.parametrize("args,needle", [
    (["run", "--set", "psoas_majr=0.3"], "did you mean 'psoas_major'"),
    (["run", "--set", "psoas_major=7"], "[0, 1]"),
    (["run", "--set", "psoas_major=abc"], "must be a number"),
    (["run", "--set", "psoas_major"], "NAME=VALUE"),
    (["run", "--position", "lying"], "unknown position"),
    (["run", "--model", "nope"], "available models"),
    (["run", "--explain", "tilt"], "unknown measure"),
])
def test_user_errors_exit_2_with_one_line_and_no_traceback(args, needle):
    p = run(*args)
    assert p.returncode == 2
    assert needle in p.stderr
    assert "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_models_lists_the_default():
    p = run("models")
    assert p.returncode == 0 and "adult_standing" in p.stdout
