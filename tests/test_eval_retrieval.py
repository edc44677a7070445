"""The retrieval evaluation: metrics, the CLI's output contract, and the quality guard on hadoop."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from eval.datasets import SHARED_DATASETS
from eval.metrics import average_precision, recall_rate_at, summarise
from eval.retrieval import evaluate

HADOOP = SHARED_DATASETS / "gitbugs" / "hadoop"


def test_recall_rate_and_average_precision() -> None:
    """RR@k is any-hit-in-top-k; AP averages precision at each gold hit over all gold ids."""
    ranked = ["a", "g1", "b", "g2"]
    assert recall_rate_at(ranked, {"g1"}, 1) == 0.0 and recall_rate_at(ranked, {"g1"}, 2) == 1.0
    assert average_precision(ranked, {"g1", "g2"}) == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert average_precision(ranked, {"g1", "missing"}) == pytest.approx(0.5 / 2)
    figures = summarise([(ranked, {"g1"}), (["x"], {"y"})], ks=(1, 5))
    assert figures == {"RR@1": 0.0, "RR@5": 0.5, "MAP": pytest.approx(0.25)}


def _write_tiny_set(folder: Path) -> None:
    reports = [
        ("1", "2024-01-01T10:00:00", "NameNode crashes on startup with NullPointerException",
         "NPE in FSNamesystem.loadFSImage when the edit log is empty"),
        ("2", "2024-01-02T10:00:00", "Upgrade jetty to 9.4.51", "CVE fix in jetty server"),
        ("3", "2024-01-03T10:00:00", "S3A listing is slow for large directories", "paged listing takes minutes"),
        ("4", "2024-01-05T10:00:00", "NPE in FSNamesystem.loadFSImage at NameNode start",
         "NameNode fails to start: NullPointerException while loading the fsimage with an empty edit log"),
        ("5", "2024-01-06T10:00:00", "Bump jetty version for CVE", "jetty server upgrade needed for a CVE"),
    ]
    (folder / "reports.jsonl").write_text("".join(
        json.dumps({"id": i, "created": c, "title": t, "description": d}) + "\n" for i, c, t, d in reports))
    queries = [{"query_id": "4", "query_created": "2024-01-05T10:00:00", "gold_earlier_ids": ["1"]},
               {"query_id": "5", "query_created": "2024-01-06T10:00:00", "gold_earlier_ids": ["2"]}]
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))


def test_cli_prints_a_table_and_ends_with_one_json_line(tmp_path: Path) -> None:
    """`hypercorr eval retrieval --json` works on any folder of the format; the last line is the figures."""
    _write_tiny_set(tmp_path)
    result = CliRunner().invoke(app, ["eval", "retrieval", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert any(line.startswith("baseline: tfidf") for line in lines)
    figures = json.loads(lines[-1])
    assert set(figures) == {"RR@1", "RR@5", "RR@10", "MAP", "queries", "baselines"}
    assert set(figures["baselines"]) == {"tfidf", "minilm"} and figures["queries"] == 2
    assert figures["RR@1"] == 1.0  # both duplicates are found first among the earlier reports


def test_missing_files_are_named(tmp_path: Path) -> None:
    """A folder without the expected files gets an error that names them."""
    with pytest.raises(FileNotFoundError, match="reports.jsonl"):
        evaluate(tmp_path)


@pytest.mark.dataset
@pytest.mark.skipif(not HADOOP.exists(), reason=f"dev data set absent: {HADOOP}")
def test_hadoop_retrieval_quality_holds() -> None:
    """Guard: on gitbugs/hadoop the engine stays at its measured quality and beats both baselines.

    Measured (README): RR@10 0.939, MAP 0.804; targets 0.93 / 0.76. The margin allows two of the
    66 queries to move before the guard trips.
    """
    figures = evaluate(HADOOP)
    assert figures["queries"] == 66
    assert figures["RR@10"] >= 0.90
    assert figures["MAP"] >= 0.76
    for baseline in figures["baselines"].values():  # type: ignore[union-attr]
        assert figures["RR@10"] > baseline["RR@10"] and figures["MAP"] > baseline["MAP"]
