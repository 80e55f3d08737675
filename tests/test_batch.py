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
