"""The protocol's guards: tuning never sees a held-out seed, the headline table pairs smacish's
default with each peer's default and names where a peer is significantly better."""

from __future__ import annotations

import pytest

from benchmarks import heldout, tune
from benchmarks.stats import DEV_SEEDS, HELDOUT_SEEDS


def test_tuning_refuses_held_out_seeds(capsys):
    with pytest.raises(SystemExit):
        tune.main(["--seeds", str(HELDOUT_SEEDS[0]), "--problems", "branin-hi"])
    assert "not development seeds" in capsys.readouterr().err


def test_tuning_variants_by_name_or_json():
    assert tune.parse_variant("rf") == ("rf", {"selector": "rf"})
    assert tune.parse_variant('x={"selector": "rf", "refit_after": 3}') == ("x", {"selector": "rf", "refit_after": 3})
    with pytest.raises(ValueError, match="unknown"):
        tune.parse_variant("nope")
    with pytest.raises(ValueError, match="selector"):
        tune.parse_variant('x={"selector": "gp"}')


def test_a_tuning_run_reports_paired_ratios_against_the_first_variant():
    runs = [tune.run_one((name, tune.VARIANTS[name], "branin-hi", seed, 2.0))
            for name in ("rf", "random") for seed in DEV_SEEDS[:3]]
    assert all(r["final"] >= 0 for r in runs) and {r["seed"] for r in runs} == set(DEV_SEEDS[:3])
    text = tune.report(runs, ["rf", "random"])
    assert "random / rf" in text and "branin-hi" in text and "overall" in text


def test_the_headline_table_pairs_the_default_with_each_peer(monkeypatch):
    seeds = range(10)
    fake = {
        heldout.OURS: {"branin-hi": {s: 0.1 for s in seeds}, "park1": {s: 1.0 for s in seeds}},
        "optuna-tpe-hb": {"branin-hi": {s: 1.0 for s in seeds}, "park1": {s: 0.1 for s in seeds}},
        "dehb": {"branin-hi": {s: 0.1 for s in seeds}},  # one problem only
    }
    monkeypatch.setattr(heldout, "finals", lambda result: fake)
    result = {"settings": {"problems": ["branin-hi", "park1"]}}
    comps = heldout.comparisons(result)
    assert set(comps) == {"optuna-tpe-hb", "dehb"}  # never smacish against itself
    assert comps["optuna-tpe-hb"]["branin-hi"].ratio == pytest.approx(0.1)
    assert comps["optuna-tpe-hb"]["overall"].ratio == pytest.approx(1.0)
    assert comps["dehb"]["overall"].n == 10
    text = heldout.table(result)
    assert text.splitlines()[0] == "| problem | vs optuna-tpe-hb | vs dehb |"
    assert "**overall**" in text.splitlines()[2]
    assert "**0.10x" in text  # a significant win is bold
    assert "Where a peer is significantly better (p < 0.05): optuna-tpe-hb on park1." in text


def test_numpy_dispatch_is_recorded():
    info = heldout.numpy_dispatch()
    assert info["numpy"] and isinstance(info["cpu_features"], list) and info["threads"]["OMP_NUM_THREADS"] == "1"
