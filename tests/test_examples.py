"""The example scripts run, finish quickly and write what they say, with sensible numbers."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, out: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, MUSCLESIM_OUT=str(out))
    p = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, env=env,
                       cwd=out, timeout=120)
    assert p.returncode == 0, p.stderr
    return p


def test_every_example_script_is_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == {"handout.py", "psoas_sweep.py", "sensitivity_ranking.py"}


def test_handout(tmp_path):
    target = tmp_path / "given"  # the argument wins over $MUSCLESIM_OUT
    env = dict(os.environ, MUSCLESIM_OUT=str(tmp_path / "env"))
    p = subprocess.run([sys.executable, str(EXAMPLES / "handout.py"), str(target)], capture_output=True, text=True,
                       env=env, cwd=tmp_path, timeout=120)
    assert p.returncode == 0, p.stderr
    assert not (tmp_path / "env").exists()
    page = (target / "handout.html").read_text(encoding="utf-8")
    assert "Desk sitter" in page and "plotly" in page and "What the research says" in page
    rows = list(csv.DictReader(io.StringIO((target / "handout.csv").read_text())))
    tilt = next(r for r in rows if r["measure"] == "pelvic_tilt_deg")
    assert float(tilt["change"]) > 0  # tight hip flexors tilt the pelvis forward in the model


def test_psoas_sweep(tmp_path):
    p = run_example("psoas_sweep.py", tmp_path)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "psoas_sweep.csv").read_text())))
    assert len(rows) == 41 * 2
    lordosis = {float(r["psoas_major"]): float(r["value"]) for r in rows if r["measure"] == "lumbar_lordosis_deg"}
    assert lordosis[0.5] > lordosis[0.0] + 10
    assert (tmp_path / "psoas_sweep.html").stat().st_size > 10_000
    assert "deg per +0.1 psoas tone" in p.stdout


def test_sensitivity_ranking(tmp_path):
    p = run_example("sensitivity_ranking.py", tmp_path)
    for m in ("pelvic_tilt_deg", "lumbar_lordosis_deg"):
        assert (tmp_path / f"tornado_{m}.html").exists()
        data = json.loads((tmp_path / f"sensitivity_{m}.json").read_text())
        assert len(data["muscles"]) == 20
    assert "Morris mu*" in p.stdout


def test_batch_benchmark_smoke(tmp_path):
    out = tmp_path / "bench.json"
    p = subprocess.run([sys.executable, str(EXAMPLES.parent / "benchmarks" / "bench_batch.py"), "--quick",
                        "--sizes", "1,20", "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    data = json.loads(out.read_text())
    assert set(data["sizes"]) == {"1", "20"}
    assert all(r["scenarios_per_s"] > 0 for r in data["sizes"].values())
    assert "| scenarios | runs |" in p.stdout
