"""Sweeps and grids: the same numbers as single solves, failures kept, tidy output, scale-out."""

from __future__ import annotations

import csv
import io
import json
import math
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import musclesim as ms
from musclesim import progress as progress_mod
from musclesim.cli import UsageError, parse_range
from musclesim.errors import ToneRangeError, UnknownMeasureError, UnknownMuscleError

METRICS = ["pelvic_tilt_deg", "lumbar_lordosis_deg"]


@pytest.fixture(scope="module")
def psoas(model):
    return ms.sweep(model, "psoas_major", np.linspace(0.0, 0.6, 13), metrics=METRICS)


def test_sweep_rows_equal_simulate_at_the_same_tone(model, psoas):
    assert len(psoas) == 13 * len(METRICS)
    for i in (0, 4, 12):
        tone = psoas.values[0][i]
        single = ms.simulate(model, {"psoas_major": float(tone)}, frames=False)
        for m in METRICS:
            row = psoas[i * len(METRICS) + METRICS.index(m)]
            assert row["psoas_major"] == tone and row["measure"] == m
            assert row["value"] == pytest.approx(single.metrics[m], abs=1e-7)
            assert row["change"] == pytest.approx(single.change[m], abs=1e-7)


def test_psoas_tone_tilts_the_pelvis_forward_and_deepens_the_lordosis(psoas):
    tone, tilt = psoas.series("pelvic_tilt_deg")
    _, lordosis = psoas.series("lumbar_lordosis_deg")
    assert psoas.ok.all()
    assert np.all(np.diff(tilt) > 0)  # monotonic over 0..0.6 (README: +3.7 deg at 0.3, +10.3 at 0.6)
    assert lordosis[-1] - lordosis[0] > 10
    base = psoas[0]["baseline"]
    assert np.interp(0.05, tone, tilt) == pytest.approx(base, abs=0.05)  # resting psoas tone: the baseline


def test_failures_stay_as_rows(model):
    t = ms.sweep(model, "hamstrings", [0.0, 0.2, 0.6], metrics="pelvic_tilt_deg")
    assert list(t.ok) == [True, True, False]
    failed = t[2]
    assert not failed["ok"] and math.isnan(failed["value"]) and "no standing posture" in failed["message"]
    single = ms.simulate(model, {"hamstrings": 0.6}, frames=False)
    assert not single.ok
    assert "found no posture" in t._repr_html_()


def test_fixed_tones_apply_to_every_scenario(model):
    t = ms.sweep(model, "psoas_major", [0.1, 0.3], metrics=METRICS, fixed={"glutes": 0.2, "psoas_major": 0.9})
    for i, v in enumerate((0.1, 0.3)):
        single = ms.simulate(model, {"glutes": 0.2, "psoas_major": v}, frames=False)
        assert t.wide()[i]["pelvic_tilt_deg"] == pytest.approx(single.metrics["pelvic_tilt_deg"], abs=1e-7)


def test_grid_is_a_major_and_matches_single_solves(model):
    va, vb = [0.0, 0.2, 0.4], [0.0, 0.25]
    g = ms.grid(model, "psoas_major", va, "glutes", vb, metrics=METRICS)
    assert g.shape == (3, 2) and len(g) == 6 * len(METRICS)
    M = g.matrix("pelvic_tilt_deg")
    for i, a in enumerate(va):
        for j, b in enumerate(vb):
            single = ms.simulate(model, {"psoas_major": a, "glutes": b}, frames=False)
            assert M[i, j] == pytest.approx(single.metrics["pelvic_tilt_deg"], abs=1e-7)
    assert np.all(M[:, 1] < M[:, 0])  # glutes tilt the pelvis back whatever the psoas does
    with pytest.raises(ValueError):
        ms.grid(model, "glutes", va, "glutes", vb)


def test_bad_input_raises_before_any_work(model):
    with pytest.raises(UnknownMuscleError, match="did you mean 'psoas_major'"):
        ms.sweep(model, "psoas_majr", [0.1])
    with pytest.raises(ToneRangeError):
        ms.sweep(model, "psoas_major", [0.1, 1.2])
    with pytest.raises(UnknownMeasureError):
        ms.sweep(model, "psoas_major", [0.1], metrics=["tilt"])


def test_csv_has_the_header_and_n_times_measures_rows(psoas, tmp_path):
    out = tmp_path / "sweep.csv"
    text = psoas.to_csv(out)
    assert out.read_text() == text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["psoas_major", "measure", "unit", "baseline", "value", "change", "ok", "message"]
    assert len(rows) == 1 + 13 * len(METRICS)
    assert float(rows[1][4]) == psoas[0]["value"]  # full precision
    data = json.loads(psoas.to_json())
    assert len(data) == len(psoas) and data[0]["measure"] == "pelvic_tilt_deg"


def test_to_pandas_and_html(psoas):
    pd = pytest.importorskip("pandas")
    df = psoas.to_pandas()
    assert isinstance(df, pd.DataFrame) and df.shape == (len(psoas), len(psoas.columns))
    wide = df.pivot(index="psoas_major", columns="measure", values="value")
    assert wide.shape == (13, 2)
    html = psoas._repr_html_()
    assert "<table>" in html and "pelvic_tilt_deg" in html


def test_progress_pieces_give_the_same_rows(model, monkeypatch):
    tones = [{"psoas_major": float(v)} for v in np.linspace(0, 0.5, 9)]
    whole = ms.simulate_many(model, tones)
    monkeypatch.setattr(progress_mod, "PIECE", 4)
    monkeypatch.setattr(progress_mod, "DELAY_S", 0.0)
    stream = io.StringIO()
    monkeypatch.setattr(progress_mod, "progress_bar", lambda total, desc, enabled, stream=stream:
                        progress_mod._LineBar(total, desc, stream, 0.0))
    pieces = progress_mod.simulate_in_pieces(model, tones, progress=True)
    for k in METRICS:
        np.testing.assert_allclose(pieces.metrics[k], whole.metrics[k], atol=1e-9)
    assert "9/9 scenarios (100%)" in stream.getvalue()


def test_no_progress_bar_when_not_a_terminal():
    assert isinstance(progress_mod.progress_bar(10, "x", None, stream=io.StringIO()), progress_mod._NoBar)


# --------------------------------------------------------------------------- scale-out

TONES = np.linspace(0.0, 0.7, 24)


def test_process_pool_gives_exactly_the_serial_numbers(model):
    serial = ms.sweep(model, "psoas_major", TONES, metrics=METRICS)
    ctx = multiprocessing.get_context("spawn")  # forking a process whose numba threads ran is unsafe
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as ex:
        spread = ms.sweep(model, "psoas_major", TONES, metrics=METRICS, executor=ex)
        batch = ms.simulate_many(model, [{"psoas_major": float(t)} for t in TONES], executor=ex, chunk_size=5)
    assert np.array_equal(serial.column("value"), spread.column("value"), equal_nan=True)
    assert np.array_equal(serial.ok, spread.ok)
    for m in METRICS:
        assert np.array_equal(ms.simulate_many(model, [{"psoas_major": float(t)} for t in TONES],
                                               chunk_size=5).metrics[m], batch.metrics[m], equal_nan=True)


def test_dask_local_cluster_gives_exactly_the_serial_numbers(model):
    distributed = pytest.importorskip("distributed")
    serial = ms.sweep(model, "psoas_major", TONES, metrics=METRICS)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        spread = ms.sweep(model, "psoas_major", TONES, metrics=METRICS, executor=client)
    assert np.array_equal(serial.column("value"), spread.column("value"), equal_nan=True)


# --------------------------------------------------------------------------- CLI

def cli(*args):
    return subprocess.run([sys.executable, "-m", "musclesim", *args], capture_output=True, text=True)


@pytest.mark.parametrize("text,expected", [
    ("0:1:5", [0.0, 0.25, 0.5, 0.75, 1.0]), ("0.1,0.2", [0.1, 0.2]), ("0.3", [0.3]), ("0.2:0.2:1", [0.2]),
])
def test_range_syntax(text, expected):
    assert parse_range(text) == pytest.approx(expected)


@pytest.mark.parametrize("text,needle", [
    ("0:1", "START:STOP:COUNT"), ("0:1:x", "COUNT must be an integer"), ("0:1:0", "COUNT must be"),
    ("0:2:3", "[0, 1]"), ("a,b", "START:STOP:COUNT"), ("", "START:STOP:COUNT"), ("nan", "[0, 1]"),
])
def test_bad_ranges_are_usage_errors(text, needle):
    with pytest.raises(UsageError) as e:
        parse_range(text)
    assert needle in str(e.value)


def test_cli_sweep_csv(tmp_path):
    out = tmp_path / "s.csv"
    p = cli("sweep", "psoas_major", "0:1:21", "--metric", "pelvic_tilt_deg", "--csv", "-o", str(out))
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 21 and rows[0]["measure"] == "pelvic_tilt_deg"
    assert [float(r["psoas_major"]) for r in rows] == pytest.approx(np.linspace(0, 1, 21))
    assert "Traceback" not in p.stderr


def test_cli_grid_json_and_text():
    p = cli("sweep", "hamstrings", "0,0.6", "--metric", "pelvic_tilt_deg", "--grid", "glutes", "0:0.2:2", "--json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert len(rows) == 4 and {"hamstrings", "glutes"} <= set(rows[0])
    assert any(r["value"] is None and r["ok"] is False for r in rows)  # hamstrings 0.6: no posture, kept
    assert "found no standing posture" in p.stderr
    p = cli("sweep", "glutes", "0:0.3:4", "--metric", "pelvic_tilt_deg")
    assert p.returncode == 0 and len(p.stdout.strip().splitlines()) == 5


@pytest.mark.parametrize("args,needle", [
    (["sweep", "psoas_major", "0:1"], "START:STOP:COUNT"),
    (["sweep", "psoas_majr", "0:1:3"], "did you mean 'psoas_major'"),
    (["sweep", "psoas_major", "0:1:3", "--metric", "tilt"], "unknown measure"),
    (["sweep", "psoas_major", "0:1:3", "--grid", "psoas_major", "0:1:2"], "second name"),
    (["sweep", "psoas_major", "0:1:3", "--json", "--csv"], "one of --json and --csv"),
])
def test_cli_sweep_errors_exit_2_with_one_line(args, needle, capsys):
    from musclesim.cli import main

    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
