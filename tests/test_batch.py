"""simulate_many: the same answers as simulate, in order, with failures reported per scenario."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial

import numpy as np
import pytest

import musclesim as ms
from musclesim.errors import ToneRangeError, UnknownMuscleError

TONES = [None, {"psoas_major": 0.3}, {"glutes": 0.25}, {"calves": 0.5}, {"abdominals": 0.2, "hamstrings": 0.1},
         {"psoas_major_left": 0.45}]


def test_batch_equals_single_simulations(model):
    batch = ms.simulate_many(model, TONES)
    assert len(batch) == len(TONES)
    for i, tone in enumerate(TONES):
        single = ms.simulate(model, tone)
        assert bool(batch.ok[i]) == single.ok, (tone, single.message)
        for k in single.metrics:
            if single.ok:
                assert batch.metrics[k][i] == pytest.approx(single.metrics[k], abs=1e-7), (tone, k)
            else:
                assert np.isnan(batch.metrics[k][i])


def test_failures_are_reported_not_dropped(model):
    batch = ms.simulate_many(model, [{"calves": 0.5}, {"psoas_major": 0.2}])
    assert not batch.ok[0] and batch.ok[1]
    assert "no standing posture" in batch.messages[0]
    assert 0 <= batch.reached[0] < 1


def test_bad_input_names_the_scenario(model):
    with pytest.raises(UnknownMuscleError) as e:
        ms.simulate_many(model, [{"psoas_major": 0.2}, {"psoas_majr": 0.2}])
    assert "scenario 1" in str(e.value) and "psoas_major" in str(e.value)
    with pytest.raises(ToneRangeError) as e:
        ms.simulate_many(model, [{"psoas_major": 2.0}])
    assert "scenario 0" in str(e.value)


# processes are started with "spawn": forking a process whose numba thread pool is running is unsafe
@pytest.mark.parametrize("executor_cls", [ThreadPoolExecutor,
                                          partial(ProcessPoolExecutor, mp_context=multiprocessing.get_context("spawn"))])
def test_executors_give_exactly_the_serial_numbers(model, executor_cls):
    rng = np.random.default_rng(5)
    tones = [{"psoas_major": float(a), "glutes": float(b)} for a, b in rng.uniform(0, 0.3, size=(40, 2))]
    serial = ms.simulate_many(model, tones)
    with executor_cls(max_workers=2) as ex:
        spread = ms.simulate_many(model, tones, executor=ex, chunk_size=7)
    assert np.array_equal(serial.ok, spread.ok)
    for k in serial.metrics:
        assert np.array_equal(serial.metrics[k], spread.metrics[k], equal_nan=True), k


def test_tidy_rows(model):
    batch = ms.simulate_many(model, [{"psoas_major": 0.3}])
    rows = batch.rows()
    tilt = next(r for r in rows if r["measure"] == "pelvic_tilt_deg")
    assert tilt["change"] == pytest.approx(tilt["value"] - tilt["baseline"])
    assert "<table>" in batch._repr_html_()


def test_tightness_and_array_input(model):
    tones = [{"psoas_major": 0.2}, None]
    tight = [{"psoas_major": 15}, {"hamstrings": 10}]
    batch = ms.simulate_many(model, tones, tightness=tight)
    for i in range(2):
        single = ms.simulate(model, tones[i], tightness=tight[i])
        for k in ("pelvic_tilt_deg", "hip_extension_reserve_left_deg", "lumbar_compression_N"):
            assert batch.metrics[k][i] == pytest.approx(single.metrics[k], abs=1e-7), k
    arr = np.array([[model.default_tone[m] for m in model.muscle_ids]])
    arr[0, model.muscle_ids.index("iliacus_right")] = 0.35
    by_array = ms.simulate_many(model, arr)
    assert by_array.metrics["pelvic_tilt_deg"][0] == pytest.approx(
        ms.simulate(model, {"iliacus_right": 0.35}).metrics["pelvic_tilt_deg"], abs=1e-9)
    with pytest.raises(ToneRangeError):
        ms.simulate_many(model, arr * 10)
    with pytest.raises(ValueError, match="shape"):
        ms.simulate_many(model, arr[:, :5])


# ------------------------------------------------------------------------------ BatchResult as a sequence of rows
ROW_TONES = [None, {"psoas_major": 0.3}, {"calves": 0.5}, {"psoas_major_left": 0.45}, {"abdominals": 0.2}]


@pytest.fixture(scope="module")
def rows_batch(model):
    return ms.simulate_many(model, ROW_TONES, tightness=[None, {"hamstrings": 10}, None, None, None])


def test_row_equals_simulate_of_its_scenario(model, rows_batch):
    tight = [None, {"hamstrings": 10}, None, None, None]
    for i, tone in enumerate(ROW_TONES):
        one = ms.simulate(model, tone, tightness=tight[i], frames=False)
        row = rows_batch[i]
        assert row.index == i and row.ok == one.ok and row.status == one.status
        assert set(row.metrics) == set(one.metrics)
        for k, v in one.metrics.items():
            if one.ok:  # the one-sided scenario's left-right solve starts from poses equal to ~1e-10 rad
                assert row.metrics[k] == pytest.approx(v, rel=1e-9, abs=1e-9), (tone, k)
                assert row.change[k] == pytest.approx(one.change[k], rel=1e-9, abs=1e-9), (tone, k)
            else:
                assert np.isnan(row.metrics[k])
        assert dict(row.activation) == pytest.approx(dict(one.activation), abs=1e-12)
        assert dict(row.tone) == dict(tone or {}) and dict(row.tightness) == dict(tight[i] or {})
        assert row.position == "standing" and row.model_name == model.name
        assert row.baseline_metrics == pytest.approx(dict(one.baseline_metrics))
    assert not rows_batch[2].ok and rows_batch[2].status == "path_lost" and "cannot stand" in rows_batch[2].message


def test_rows_are_read_only(rows_batch):
    import dataclasses

    row = rows_batch[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.ok = False
    with pytest.raises(TypeError):
        row.metrics["pelvic_tilt_deg"] = 0.0
    with pytest.raises(TypeError):
        row.activation["psoas_major_left"] = 1.0


def test_negative_indices_and_clear_index_errors(rows_batch):
    n = len(rows_batch)
    assert n == len(ROW_TONES)
    assert rows_batch[-1].index == n - 1 and rows_batch[-n].index == 0
    assert rows_batch[np.int64(1)].index == 1
    for bad in (n, -n - 1):
        with pytest.raises(IndexError, match=rf"scenario {bad} out of range: the batch has {n} scenarios; "
                                             rf"valid indices: 0 to {n - 1} \(or -{n} to -1 from the end\)"):
            rows_batch[bad]
    for bad in ("pelvic_tilt_deg", 1.0, [0, 1], True):
        with pytest.raises(TypeError, match="indexed by an integer"):
            rows_batch[bad]
    empty = rows_batch[0:0]
    assert len(empty) == 0 and list(empty) == []
    with pytest.raises(IndexError, match="the batch is empty"):
        empty[0]


def test_slices_are_batches_of_those_rows(rows_batch):
    part = rows_batch[1:4]
    assert isinstance(part, ms.BatchResult) and len(part) == 3
    back = rows_batch[::-1]
    for j, i in enumerate(range(len(rows_batch) - 1, -1, -1)):
        a, b = back[j], rows_batch[i]
        assert a.status == b.status and a.message == b.message and a.tone == b.tone
        assert np.array_equal(np.array(list(a.metrics.values())), np.array(list(b.metrics.values())), equal_nan=True)
        assert dict(a.activation) == dict(b.activation) and dict(a.tightness) == dict(b.tightness)
    assert list(part.status) == list(rows_batch.status[1:4])
    assert np.array_equal(part.activation, rows_batch.activation[1:4])


def test_iteration_and_concat(rows_batch):
    rows = list(rows_batch)
    assert [r.index for r in rows] == list(range(len(rows_batch)))
    assert [r.status for r in rows] == list(rows_batch.status)
    joined = ms.BatchResult.concat([rows_batch[:2], rows_batch[2:]])
    assert list(joined.status) == list(rows_batch.status) and joined.messages == rows_batch.messages
    for k in rows_batch.metrics:
        assert np.array_equal(joined.metrics[k], rows_batch.metrics[k], equal_nan=True)
    assert np.array_equal(joined.activation, rows_batch.activation)


def test_old_attributes_still_work_and_old_constructor_fills_status(rows_batch):
    b = rows_batch
    assert isinstance(b.messages, tuple) and b.ok.dtype == bool and b.residual_Nm.shape == (len(b),)
    assert b.change["pelvic_tilt_deg"][1] == pytest.approx(b[1].change["pelvic_tilt_deg"])
    old = ms.BatchResult(b.tones, b.position, b.metrics, b.baseline_metrics, b.ok, b.iterations, b.residual_Nm,
                         b.reached, b.messages)  # positional, as before status existed
    assert list(old.status) == list(b.status) and old.activation is None
    assert dict(old[0].activation) == {} and dict(old[1].tightness) == {}


def test_to_pandas_tidy_and_wide(rows_batch):
    pd = pytest.importorskip("pandas")
    b = rows_batch
    m = len(b.metrics)
    tidy = b.to_pandas()
    assert isinstance(tidy, pd.DataFrame) and len(tidy) == len(b) * m
    assert list(tidy.columns[:8]) == ["scenario", "measure", "unit", "baseline", "value", "change", "ok", "message"]
    assert {"status", "iterations", "residual_Nm", "reached"} <= set(tidy.columns)
    tilt = tidy[tidy.measure == "pelvic_tilt_deg"].set_index("scenario")
    assert np.array_equal(tilt["value"].to_numpy(), b.metrics["pelvic_tilt_deg"], equal_nan=True)
    assert list(tilt["status"]) == list(b.status) and list(tilt["message"]) == list(b.messages)
    assert np.array_equal(tilt["iterations"].to_numpy(), b.iterations)
    wide = b.to_pandas(wide=True)
    assert wide.shape == (len(b), 6 + m) and wide.index.name == "scenario"
    assert np.array_equal(wide["lumbar_lordosis_deg"].to_numpy(), b.metrics["lumbar_lordosis_deg"], equal_nan=True)
    assert list(wide["status"]) == list(b.status) and list(wide["ok"]) == list(b.ok)


def test_to_xarray_round_trips_the_values(rows_batch):
    pytest.importorskip("xarray")
    b = rows_batch
    ds = b.to_xarray()
    assert ds["value"].dims == ("scenario", "measure")
    assert ds.sizes["scenario"] == len(b) and ds.sizes["measure"] == len(b.metrics)
    for k, v in b.metrics.items():
        assert np.array_equal(ds["value"].sel(measure=k).to_numpy(), v, equal_nan=True), k
        assert np.array_equal(ds["change"].sel(measure=k).to_numpy(), b.change[k], equal_nan=True), k
        assert float(ds["baseline"].sel(measure=k)) == b.baseline_metrics[k]
        assert str(ds["unit"].sel(measure=k).item()) == ms.MEASURES[k].unit
    assert list(ds["status"].to_numpy()) == list(b.status) and list(ds["message"].to_numpy()) == list(b.messages)
    assert np.array_equal(ds["ok"].to_numpy(), b.ok) and np.array_equal(ds["residual_Nm"].to_numpy(), b.residual_Nm)
    assert np.array_equal(ds["activation"].to_numpy(), b.activation)
    assert list(ds["muscle"].to_numpy()) == list(b.muscle_ids)
    assert ds.attrs["position"] == "standing"


@pytest.mark.parametrize("module, method", [("pandas", "to_pandas"), ("xarray", "to_xarray")])
def test_missing_extra_names_it(rows_batch, monkeypatch, module, method):
    import sys

    from musclesim.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, module, None)  # import then raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'musclesim\[analysis\]'") as e:
        getattr(rows_batch, method)()
    assert isinstance(e.value, MissingExtraError) and module in str(e.value)


def test_lying_batch_rows(model):
    batch = ms.simulate_many(model, [{"psoas_major": 0.3}], "supine")
    one = ms.simulate(model, {"psoas_major": 0.3}, "supine", frames=False)
    row = batch[0]
    assert row.position == "supine" and row.status == one.status and row.iterations == one.iterations
    assert dict(row.activation) == dict(one.activation)
    for k, v in one.metrics.items():
        assert np.isnan(v) and np.isnan(row.metrics[k]) or row.metrics[k] == pytest.approx(v, abs=1e-9), k
