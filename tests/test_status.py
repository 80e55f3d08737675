"""One status vocabulary (issue 15, requirement 7): ``ok``, ``status``, ``message``, ``iterations``
and ``residual`` on Result and on every BatchResult row, from one Status set and one mapping."""

from __future__ import annotations

import numpy as np
import pytest

import musclesim as ms
from musclesim.status import Status, classify


@pytest.fixture(scope="module")
def model():
    return ms.load_model()


#: A one-sided scenario whose left-right equilibrium is not found (from a random search).
LATERAL_FAIL = {"erector_spinae_left": 0.811327759427094, "vasti_left": 0.3945190714251614,
                "gluteus_maximus_left": 0.21959076815838652}

#: (tone, status of simulate and of the batch row) standing.
STANDING = [
    (None, "converged"),
    ({"psoas_major": 0.3}, "out_of_range"),  # the lumbar levels end beyond their range of motion
    ({"hamstrings": 1.0}, "path_lost"),
    ({"calves": 0.5}, "path_lost"),
    (LATERAL_FAIL, "lateral_max_iterations"),
]


def test_the_set_is_one_enumeration_of_short_words():
    values = [s.value for s in Status]
    assert len(set(values)) == len(values)
    assert all(v.isidentifier() and v == v.lower() and len(v) <= 24 for v in values)
    assert {s.value for s in Status if s.ok} == {"converged", "out_of_range", "would_slip"}
    assert Status.PATH_LOST == "path_lost" and str(Status.PATH_LOST) == "path_lost"
    assert f"{Status.UNSTABLE}" == "unstable"
    assert Status("max_iterations") is Status.MAX_ITERATIONS


# the solvers' own wording today (mechanics._finish, simulation.simulate and _result,
# batch.simulate_many, positions.solve_lying / solve_with_lift_off)
MESSAGES = [
    ("converged to a stable posture", True, True, "converged"),
    ("converged (stability not checked)", True, True, "converged"),
    ("converged to a stable resting posture (head_neck.occiput lifted off the floor)", True, True, "converged"),
    ("converged to a stable posture; beyond the range of motion: L4L5 -4.9 deg (range -4 to 8)", True, True,
     "out_of_range"),
    ("converged to a stable resting posture; the foot would need a friction coefficient above 1 to stay put "
     "(they would slide on a real floor)", True, True, "would_slip"),
    ("not converged after 76 iterations (moment residual 1.67e-01 N·m)", False, False, "max_iterations"),
    ("not converged after 12 iterations (residual 3.1e-02)", False, False, "max_iterations"),
    ("unstable equilibrium (reduced stiffness eigenvalue -0.3 N·m/rad <= 0): a saddle, not a posture", True, False,
     "unstable"),
    ("unstable resting posture (stiffness eigenvalue -1.2)", True, False, "unstable"),
    ("diverged: the joint angles left any plausible range", False, False, "diverged"),
    ("cannot stand: no standing posture connected to the baseline at this tone; the equilibrium was followed 78% "
     "of the way from the resting tone and then lost (not converged after 76 iterations (moment residual "
     "1.67e-01 N·m)); the body would have to snap to another posture", False, False, "path_lost"),
    ("cannot stand: no standing posture connected to the baseline; followed 25% of the way from the resting tone",
     False, False, "path_lost"),
    ("converged to a stable posture; beyond the range of motion: L5S1 -9.6 deg (range -8 to 8); no left-right "
     "equilibrium found (residual 0.02 N·m after 40 iterations)", False, True, "lateral_max_iterations"),
    ("no left-right equilibrium found", False, False, "lateral_max_iterations"),
    ("converged to a stable posture; unstable side to side (the frontal/transverse stiffness is not positive "
     "definite)", True, False, "lateral_unstable"),
    ("pelvis.sacrum would sink into the floor after lifting off", True, False, "contact_lost"),
    ("no contact with the floor would carry the body", False, False, "contact_lost"),
    ("", False, False, "max_iterations"),  # no known cause: the flags decide
    ("", True, False, "unstable"),
]


@pytest.mark.parametrize("message, converged, stable, expected", MESSAGES, ids=[m[3] + ":" + m[0][:30] for m in MESSAGES])
def test_classify_maps_each_solver_message(message, converged, stable, expected):
    status = classify(message, converged, stable)
    assert status == expected
    assert status.ok == (converged and stable)


@pytest.mark.parametrize("tone, expected", STANDING, ids=[s[1] + str(i) for i, s in enumerate(STANDING)])
def test_result_and_batch_row_report_the_same_status(model, tone, expected):
    res = ms.simulate(model, tone, frames=False)
    assert res.status == expected and isinstance(res.status, Status)
    assert res.status.ok == res.ok
    assert res.residual == res.residual_Nm and np.isfinite(res.residual)
    row = ms.simulate_many(model, [tone])[0]
    assert row.status == expected and row.ok == res.ok
    assert row.residual == row.residual_Nm and isinstance(row.iterations, int)


def test_lying_statuses(model):
    # hamstrings pull the pelvis toward the heels: the sacrum would need friction above the limit (psoas 0.3 did
    # before the relaxed knee law, when the hook-lying knee could not bend)
    res = ms.simulate(model, {"hamstrings": 0.5}, "supine_knees_bent", frames=False)
    assert res.ok and res.status == "would_slip" and "friction" in res.message
    flat = ms.simulate_many(model, [None, {"psoas_major": 0.3}], "supine")
    assert list(flat.status) == ["converged", "converged"]
    assert flat[1].status == ms.simulate(model, {"psoas_major": 0.3}, "supine", frames=False).status


def test_batch_status_array_compares_elementwise(model):
    batch = ms.simulate_many(model, [t for t, _ in STANDING])
    assert list(batch.status) == [s for _, s in STANDING]
    assert np.array_equal(batch.status == "path_lost", np.array([False, False, True, True, False]))
    assert np.array_equal(batch.ok, np.array([Status(s).ok for s in batch.status]))
    assert list(batch.message) == list(batch.messages)
    assert batch.residual is batch.residual_Nm


def test_batch_splits_left_right_failures_the_way_simulate_does(model):
    batch = ms.simulate_many(model, [LATERAL_FAIL])
    assert batch.messages[0] == "no left-right equilibrium found"
    assert "no left-right equilibrium found" in ms.simulate(model, LATERAL_FAIL, frames=False).message
