"""The clustering evaluation: scoring, the CLI's output contract, and the quality guard on DSTC11."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from eval.clustering import clustering_scores, evaluate, load_labelled_texts
from eval.datasets import SHARED_DATASETS

DSTC11_TASK1 = SHARED_DATASETS / "dstc11" / "task1" / "banking_predictions.jsonl"


def test_scores_use_the_best_one_to_one_matching() -> None:
    """ACC matches clusters to labels one-to-one (Hungarian); a relabelled perfect clustering scores 100."""
    gold = ["a", "a", "b", "b", "c"]
    assert clustering_scores(gold, ["x", "x", "y", "y", "z"]) == {"ACC": 100.0, "NMI": 100.0, "ARI": 100.0,
                                                                  "narratives": 3}
    merged = clustering_scores(gold, ["x", "x", "x", "x", "z"])
    assert merged["ACC"] == pytest.approx(60.0) and merged["narratives"] == 2 and merged["ARI"] < 100


def test_loader_accepts_each_field_name_and_names_missing_ones(tmp_path: Path) -> None:
    """utterance|text and reference_label|intent|label are all accepted; a row without them is refused."""
    good = tmp_path / "good.jsonl"
    good.write_text('{"utterance": "u1", "reference_label": "A"}\n{"text": "t2", "intent": "B"}\n'
                    '{"text": "t3", "label": "C"}\n')
    assert load_labelled_texts(good) == (["u1", "t2", "t3"], ["A", "B", "C"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no label"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        load_labelled_texts(bad)


def test_loader_reads_csv_with_a_header_row(tmp_path: Path) -> None:
    """A CSV (Banking77 shape: text, category) is read by its header; quoted commas stay in the text."""
    data = tmp_path / "b77.csv"
    data.write_text('text,category\n"Where is my card, please?",card_arrival\nreset my pin,change_pin\n')
    assert load_labelled_texts(data) == (["Where is my card, please?", "reset my pin"], ["card_arrival", "change_pin"])
    bad = tmp_path / "bad.csv"
    bad.write_text("text,category\nno label,\n")
    with pytest.raises(ValueError, match="bad.csv:2"):
        load_labelled_texts(bad)


def test_cli_ends_with_one_json_line(tmp_path: Path) -> None:
    """`hypercorr eval clustering --json` prints a table and ends with the figures as JSON."""
    rows = [("my card was declined at the shop", "declined"), ("card declined when paying", "declined"),
            ("payment with my card got declined", "declined"), ("how do I reset my app password", "password"),
            ("forgot my password for the app", "password"), ("reset password please", "password")]
    data = tmp_path / "tiny.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": l}) + "\n" for t, l in rows))
    result = CliRunner().invoke(app, ["eval", "clustering", "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert {"ACC", "NMI", "ARI", "narratives", "peers"} <= set(figures)
    assert set(figures["peers"]) == {"kmeans_gold_k", "agglomerative_0.5"}
    assert figures["ACC"] >= 50.0


@pytest.mark.dataset
@pytest.mark.skipif(not DSTC11_TASK1.exists(), reason=f"dev data set absent: {DSTC11_TASK1}")
def test_dstc11_streaming_clustering_holds() -> None:
    """Guard: streamed DSTC11 banking stays at its measured quality (67.8 / 70.4 / 59.3, 64 narratives).

    Targets are ACC > 60, NMI > 70, ARI > 50; the guard keeps ACC and ARI above their targets with
    a margin and NMI within 0.9 of where it stands (70.4: above its target by 0.4 only).
    """
    figures = evaluate(DSTC11_TASK1)
    assert figures["ACC"] >= 62.0 and figures["ARI"] >= 53.0 and figures["NMI"] >= 69.5
    assert 20 <= figures["narratives"] <= 150
    assert figures["ACC"] > figures["peers"]["agglomerative_0.5"]["ACC"]  # type: ignore[index]
