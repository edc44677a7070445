"""The triage evaluation: its labelled data, its output, and the quality guards."""
from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path

import pytest

from engine.triage.model import Category
from eval.datasets import SHARED_DATASETS
from eval.triage import print_triage_eval, run_triage_eval, sentiment_eval
from eval.triage_data import FIXTURES, intent_categories, sentiment_fixture
from tests.fakes import HashingEmbedder

BANKING77 = SHARED_DATASETS / "banking77"
HADOOP = SHARED_DATASETS / "gitbugs" / "hadoop"


def test_sentiment_fixture_is_whole_and_split_in_halves() -> None:
    """200 labelled texts, each label one of three, even ids dev and odd ids test, no overlap."""
    dev, test = sentiment_fixture("dev"), sentiment_fixture("test")
    assert len(dev) == len(test) == 100
    assert {r.label for r in dev + test} == {"negative", "neutral", "positive"}
    assert not {r.text for r in dev} & {r.text for r in test}


def test_intent_mapping_is_one_category_per_intent() -> None:
    """Every mapped intent gets a valid category; the mapping has exactly 77 rows."""
    mapping = intent_categories()
    assert len(mapping) == 77
    assert set(mapping.values()) <= {c.value for c in Category}


@pytest.mark.skipif(not (BANKING77 / "categories.json").exists(), reason=f"dev data set absent: {BANKING77}")
def test_intent_mapping_covers_banking77() -> None:
    assert set(intent_categories()) == set(json.loads((BANKING77 / "categories.json").read_text()))


def test_eval_runs_end_to_end_on_tiny_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The evaluation reads the dataset layout and prints every table (hashing embedder, tiny files)."""
    (tmp_path / "banking77").mkdir()
    (tmp_path / "gitbugs" / "hadoop").mkdir(parents=True)
    for name in ("train.csv", "test.csv"):
        with (tmp_path / "banking77" / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerows([("text", "category"), ("my card is not working", "card_not_working"),
                              ("how do I change my pin", "change_pin"),
                              ("my transfer is still pending", "pending_transfer")])
    (tmp_path / "gitbugs" / "hadoop" / "reports.jsonl").write_text("".join(
        json.dumps({"id": str(i), "title": f"NPE in reader {i}", "description": "throws an exception"}) + "\n"
        for i in range(4)))
    result = run_triage_eval(tmp_path, "test", embedder=HashingEmbedder())
    assert result["category"]["banking77"]["n"] == 3 and result["category"]["hadoop"]["n"] == 2
    print_triage_eval(result)
    out = capsys.readouterr().out
    assert "Banking77" in out and "Hadoop" in out and "keyword_rules" in out and "vader_stock" in out
    assert "Ingest cost" in out and result["category"]["cost"]["triage_ms"] > 0


def test_sentiment_guard_on_the_held_out_half() -> None:
    """Guard: held-out sentiment stays at its measured level (macro-F1 0.691, accuracy 0.71), well
    above stock VADER (0.547) and the majority class."""
    figures = sentiment_eval("test")
    ours, vader = figures["hypercorr"], figures["vader_stock"]
    assert ours["macro_f1"] >= 0.66 and ours["accuracy"] >= 0.68
    assert ours["macro_f1"] >= vader["macro_f1"] + 0.10
    assert ours["macro_f1"] > figures["majority_class"]["macro_f1"] + 0.3


@lru_cache(maxsize=1)
def _category_figures() -> dict:
    from engine.embedder import create_embedder
    from engine.settings import Settings
    from eval.triage import category_eval

    return category_eval(create_embedder(Settings()), SHARED_DATASETS, "test")


@pytest.mark.dataset
@pytest.mark.skipif(not (BANKING77 / "test.csv").exists() or not (HADOOP / "reports.jsonl").exists(),
                    reason=f"dev data sets absent under {SHARED_DATASETS}")
def test_category_guard_on_the_test_splits() -> None:
    """Guard: category quality on Banking77 test and the Hadoop test half (real model) stays where
    it was measured, ahead of the keyword rules and the majority class."""
    figures = _category_figures()
    bank, bugs = figures["banking77"], figures["hadoop"]
    assert bank["hypercorr"]["macro_f1"] >= GUARD["bank_f1"] and bank["hypercorr"]["accuracy"] >= GUARD["bank_acc"]
    assert bank["hypercorr"]["macro_f1"] >= bank["keyword_rules"]["macro_f1"] + 0.1
    assert bank["hypercorr"]["macro_f1"] > bank["majority_class"]["macro_f1"]
    assert bugs["hypercorr"]["defect_class"] >= GUARD["hadoop_defect"]
    assert bugs["hypercorr"]["defect_class"] > bugs["keyword_rules"]["defect_class"]
    assert bugs["hypercorr"]["software_bug"] >= GUARD["hadoop_bug"]


# Measured (test splits): Banking77 macro-F1 0.609 / accuracy 0.666 (keyword rules 0.397 / 0.406);
# Hadoop called a defect class 0.779 (keywords 0.497), called software_bug 0.369 (keywords 0.328).
GUARD = {"bank_f1": 0.58, "bank_acc": 0.64, "hadoop_defect": 0.75, "hadoop_bug": 0.34}
