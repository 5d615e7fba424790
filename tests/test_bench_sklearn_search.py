"""benchmarks/sklearn_search.py's table, its "where smacish loses" list and the pooling of runs,
and dask-ml's budget accounting (benchmarks/peers/daskml_search.py), on made-up results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.peers.daskml_search import fit_fraction, full_trainings
from benchmarks.sklearn_search import losses, markdown, pooled, section, table


def _runs(ours, theirs, our_seconds=1.0, their_seconds=2.0, first_seed=2000):
    return [{"seed": first_seed + i, "smacish": {"test_accuracy": a, "seconds": our_seconds},
             "sklearn-halving": {"test_accuracy": b, "seconds": their_seconds}}
            for i, (a, b) in enumerate(zip(ours, theirs))]


def test_table_medians_wins_and_paired_p_values() -> None:
    runs = _runs([0.9 + 0.01 * i for i in range(10)], [0.85 + 0.01 * i for i in range(10)])
    rows = {r["search"]: r for r in table({"t": runs})}
    assert rows["smacish"]["test_accuracy"] == pytest.approx(0.945) and rows["smacish"]["p_accuracy"] is None
    halving = rows["sklearn-halving"]
    assert halving["n_seeds"] == 10 and (halving["wins"], halving["losses"]) == (10, 0)
    assert halving["p_accuracy"] < 0.01 and halving["p_seconds"] < 0.01  # ten of ten the same way
    assert losses(list(rows.values())) == []
    assert "| t | sklearn-halving | 10 | 0.8950 | 2.0 | 10/0 |" in markdown(list(rows.values()))


def test_losses_name_each_worse_median() -> None:
    rows = table({"t": _runs([0.8] * 5, [0.9] * 5, our_seconds=3.0, their_seconds=2.0)})
    lost = losses(rows)
    assert len(lost) == 2 and "test accuracy below sklearn-halving's" in lost[0] and "wall time above" in lost[1]
    text = section({"command": "python -m benchmarks.sklearn_search", "per_task": {"t": _runs([0.8] * 5, [0.9] * 5)}})
    assert "## scikit-learn search" in text and "Where smacish loses (medians): t: test accuracy below" in text


def test_pooled_joins_runs_by_seed_and_refuses_a_seed_twice(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"per_task": {"t": _runs([0.9], [0.8], first_seed=2001)}}))
    b.write_text(json.dumps({"per_task": {"t": _runs([0.7], [0.6], first_seed=2000)}}))
    assert [r["seed"] for r in pooled([str(a), str(b)])["t"]] == [2000, 2001]
    with pytest.raises(ValueError, match="a seed appears twice"):
        pooled([str(a), str(a)])


def test_daskml_budget_in_full_trainings() -> None:
    assert fit_fraction(1347, 1) == (1347, pytest.approx(0.8))  # test_size min(0.2, 1 / partitions)
    assert fit_fraction(1000, 10) == (100, pytest.approx(0.9))
    # 81 calls of one model on all the training rows it has are one full training on that fraction of the data
    assert full_trainings(81, 81, 0.8) == pytest.approx(0.8)
    assert full_trainings(1581, 81, 0.8) == pytest.approx(1581 / 81 * 0.8)
