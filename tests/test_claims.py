"""The claims catalogue: computed verdicts match the recorded ones; the data is well formed."""

from __future__ import annotations

from pathlib import Path

import pytest

from musclesim.claims import VERDICTS, catalogue, claim, evaluate_all, validation_rows
from musclesim.metrics import MEASURES

ROOT = Path(__file__).resolve().parents[1]
SEEDS = {"000_30301ec732fd73a2.txt", "001_881622d7f40ce67f.txt", "002_5c4430ba6b3a40b6.txt",
         "003_83db9d8bacb067d9.txt", "004_71c9766c3f76f194.txt"}


@pytest.fixture(scope="module")
def verdicts(model):
    return {v.claim.id: v for v in evaluate_all(model)}


@pytest.mark.parametrize("c", catalogue(), ids=lambda c: c.id)
def test_computed_verdict_matches_the_recorded_one(verdicts, c):
    v = verdicts[c.id]
    assert v.verdict == c.expected_verdict, f"{c.id}: computed {v.verdict!r}, recorded {c.expected_verdict!r}: {v.reason}"
    assert v.reason


def test_catalogue_is_well_formed(model):
    names = model.names()
    for c in catalogue():
        assert c.articles and set(c.articles) <= SEEDS, c.id
        assert c.grade in ("none", "weak", "indirect", "moderate") and c.evidence
        assert c.expected_verdict in VERDICTS
        for e in c.expect:
            assert e["direction"] in ("up", "down", "either")
            assert e.get("measure") in MEASURES or e.get("muscle_force") in model.muscle_ids
        for key in ("tone", "tightness"):
            assert set(c.scenario.get(key, {})) <= set(names), c.id
        if c.scope == "outside":
            assert c.reason


def test_every_verdict_kind_is_used(verdicts):
    assert {v.verdict for v in verdicts.values()} == set(VERDICTS)


def test_paraphrases_are_not_copied_sentences():
    """No claim repeats a run of 8 or more words from the articles."""
    seeds = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("the source articles are not beside the project")
    words = lambda t: [w.strip(".,;:()\"'").lower() for w in t.split()]
    grams = set()
    for f in seeds.glob("0*.txt"):
        w = words(f.read_text(encoding="utf-8", errors="replace"))
        grams |= {tuple(w[i:i + 8]) for i in range(len(w) - 7)}
    for c in catalogue():
        w = words(c.claim)
        assert not any(tuple(w[i:i + 8]) in grams for i in range(len(w) - 7)), c.id


def test_unknown_claim_id_suggests():
    with pytest.raises(KeyError) as e:
        claim("C7")
    assert "C07" in str(e.value) or "C17" in str(e.value)


def test_validation_rows_and_doc_are_current(model):
    rows = validation_rows(model)
    lev = rows[0]
    assert lev["model"] == pytest.approx(lev["difference"] + lev["published"])
    doc = (ROOT / "docs" / "validation.md").read_text()
    from tools.make_validation import render

    assert render(rows) == doc, "docs/validation.md is stale: run python tools/make_validation.py"


def test_cli_claims(capsys):
    import json

    from musclesim.cli import main

    assert main(["claims", "--json", "--id", "C01"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["id"] == "C01" and data[0]["verdict"] == data[0]["expected_verdict"]
    assert main(["claims"]) == 0
    out = capsys.readouterr().out
    assert "C28" in out and "outside scope" in out
    assert main(["claims", "--id", "C99"]) == 2
