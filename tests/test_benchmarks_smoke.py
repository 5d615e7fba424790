"""A tiny slice of the benchmark harness, so that it does not rot: smacish only, one problem,
two seeds, a tiny budget, through the same subprocess path the peers use, then the report."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from benchmarks.problems import PROBLEMS, STANDARD, get_problem, sample_uniform
from benchmarks.record import Job, Recorder, drive, incumbent_trace, optimiser_gaps, run_curves


@pytest.fixture()
def bench_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import benchmarks.report as report
    import benchmarks.runner as runner

    results, docs = tmp_path / "results", tmp_path / "docs"
    monkeypatch.setattr(runner, "RESULTS", results)
    monkeypatch.setattr(report, "DOCS", docs)
    monkeypatch.setattr(report, "IMG", docs / "img")
    return results, docs


def test_synthetic_problems_have_exact_regret_at_their_optimum():
    optima = {"branin": {"x1": math.pi, "x2": 2.275},
              "hartmann3": {"x0": 0.114614, "x1": 0.555649, "x2": 0.852547},
              "hartmann6": {f"x{i}": v for i, v in enumerate([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573])}}
    for name in PROBLEMS:
        problem = get_problem(name)
        if problem.kind != "synthetic" or name in STANDARD:  # those: tests/test_standard_problems.py
            continue
        x = optima[name.split("-")[0]]
        assert problem.true_regret(x) == pytest.approx(0.0, abs=1e-5), name
        # the low fidelity is biased, the noise reproducible
        assert problem.evaluate(x, problem.min_budget, 1) != problem.evaluate(x, problem.max_budget, 1)
        assert problem.evaluate(x, problem.min_budget, 1) == problem.evaluate(x, problem.min_budget, 1)


def test_incumbent_is_the_best_on_the_highest_budget_so_far():
    # rows: start, end, budget, charge, cost
    rows = [[0, 1, 1, 1, 0.5], [1, 2, 1, 1, 0.2], [2, 3, 3, 3, 0.9], [3, 4, 3, 3, 0.4], [4, 5, 1, 1, 0.0]]
    xs = [[0.0], [1.0], [1.0], [2.0], [3.0]]
    assert incumbent_trace(rows, xs) == [0, 1, 2, 3, 3]
    assert list(optimiser_gaps(rows)) == [0, 0, 0, 0, 0]


def test_recorder_counts_budget_in_full_evaluations():
    problem = get_problem("branin-hi")
    rng = np.random.default_rng(0)

    class Fixed:
        def ask(self):
            return Job(sample_uniform(problem.params, rng), 9.0, 9.0)

        def tell(self, job, cost):
            pass

    rec = Recorder(problem, seed=0, budget_limit=1.0)
    drive(Fixed(), rec)
    assert len(rec.rows) == 3 and rec.spent == pytest.approx(1.0)
    curves = run_curves(problem, rec.to_json())
    assert list(curves["spent"]) == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert np.all(np.isfinite(curves["regret"])) and np.all(np.diff(curves["regret"]) <= 0)


def test_generic_virtual_clock_agrees_with_smacish_run_simulated():
    from benchmarks.peers import smacish_adapter
    from benchmarks.simclock import DurationModel, simulate

    problem = get_problem("branin-hi")
    spec = {"n_workers": 4, "budget_units": 6, "duration": {"unit": 1.0, "startup": 0.0, "straggler_sd": 0.3}}
    ours = smacish_adapter.simulate("smacish-random", problem, 0, spec)
    generic = simulate(smacish_adapter.make("smacish-random", problem, 0, n_workers=4), problem, 0, 4, 6,
                       DurationModel(**spec["duration"]))
    assert ours["utilisation"] == pytest.approx(ours["utilisation_runner"], rel=1e-12)
    assert generic["utilisation"] == pytest.approx(ours["utilisation"], rel=1e-12)
    np.testing.assert_allclose(np.array(sorted(map(tuple, generic["rows"]))), np.array(sorted(map(tuple, ours["rows"]))),
                               rtol=1e-12)


@pytest.mark.timeout(300)
def test_quality_overhead_parallel_and_report_smoke(bench_dirs):
    from benchmarks import durability, overhead, parallel, quality, report

    results, docs = bench_dirs
    q = quality.run("smoke")
    batch = q["batches"]["smacish"]
    assert not batch.get("skipped") and not batch.get("timed_out"), batch
    assert all("error" not in r for r in batch["runs"]), [r.get("error") for r in batch["runs"]]
    entry = q["summary"]["problems"]["branin-hi"]
    assert "smacish-random" in entry["variants"]
    assert entry["variants"]["smacish-random"]["n_seeds"] == 2
    assert math.isfinite(entry["variants"]["smacish-random"]["final_q"][1])

    o = overhead.run("smoke")
    entry = o["summary"]["variants"]["smacish-random"]
    cell = entry["cells"]["20"]
    # 20 real gaps between evaluations: positive (ask + tell take time), far below a second with
    # random selection, ordered as statistics of one sample are, and summing to the optimiser's time
    assert cell["reached"] and cell["n"] == 20 and entry["total_trials"] >= 20
    assert 0 < cell["median"] <= cell["p95"] < 0.5
    assert 0 < cell["mean"] * 20 <= entry["optimiser_seconds"] + 1e-9

    p = parallel.run("smoke")
    errors = [r["error"] for b in p["batches"] for r in b.get("runs", []) if "error" in r]
    assert not errors, errors[0]
    groups = p["summary"]["groups"]
    (group,) = groups.values()
    assert 0 < group["variants"]["smacish-random"]["util_median"] <= 1
    assert (group["variants"]["smacish-random"]["util_median"]
            >= group["variants"]["smacish-random@1-instance"]["util_median"])

    durability.main(["--trials", "60", "--load-trials", "400", "--selectors", "random", "--save"])
    d = json.loads((results / "durability.json").read_text())
    assert d["overhead"]["random"]["trials"] == 60
    assert {r["trials"] for r in d["load"].values()} == {400}
    assert d["load"]["no snapshot: the whole log"]["replayed"] == 800  # every ask and tell

    for name in ("quality-smoke", "overhead-smoke", "parallel-smoke"):
        assert (results / f"{name}.json").exists()
    page = report.build("smoke")
    text = page.read_text()
    assert "## 1. Anytime quality" in text and "## 2. Optimiser overhead" in text and "## 3. Parallel" in text
    assert "## Durability" in text and "no snapshot: the whole log" in text
    assert "smacish-random" in text
    for image in ("bench-regret-budget-smoke.png", "bench-timeline-sim-smoke.png"):
        assert (docs / "img" / image).exists()
    assert os.path.commonpath([page, docs]) == str(docs)


def test_trust_overhead_measures_the_check_and_the_lock(capsys):
    from benchmarks import trust_overhead

    costs = trust_overhead.signature_costs(n=200)
    assert all(v > 0 for v in costs.values())
    locks = trust_overhead.lock_costs(n_trials=15, repeats=1)
    assert all(v > 0 for v in locks.values())
    assert trust_overhead.run_directory_module.RunLock is trust_overhead.RunLock  # put back after the no-lock runs


def test_hyperband_trials_counts_what_a_hyperband_round_runs():
    from benchmarks.peers import hyperband_trials

    import smacish
    from ConfigSpace import ConfigurationSpace

    opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}), smacish.Hyperband(min_budget=1, max_budget=27, eta=3),
                            selector="random")
    opt.optimize(lambda config, budget: config["x"], budget_limit=423)  # one round of its brackets
    assert len(opt.runhistory) == hyperband_trials(1, 27, 3, 423 / 27) == 69
    assert hyperband_trials(1, 27, 3, 2 * 423 / 27) == 138


def test_a_peer_is_given_the_trials_its_budget_allows_through_the_adapter_interface():
    import types

    from benchmarks.peers import _run, hyperband_trials, random_search

    seen = {}

    def make(variant, problem, seed, n_workers=1, n_trials=None):
        seen.update(variant=variant, seed=seed, n_trials=n_trials)
        return random_search.make("random-search", problem, seed)

    fake = types.SimpleNamespace(make=make)
    record = _run._one(fake, "quality", "fake-peer", "branin-hi", 3, {"budget_units": 10})
    assert seen == {"variant": "fake-peer", "seed": 3, "n_trials": hyperband_trials(1, 27, 3, 10)}
    spent = sum(row[3] for row in record["rows"])  # charges, in budget units
    assert 10 * 27 <= spent < 10 * 27 + 27  # the run stops once its budget is spent


def test_optuna_is_charged_the_increment_or_the_whole_rung():
    from benchmarks.peers.optuna_adapter import rung_charge, variants

    assert "optuna-tpe-hb" in variants() and "optuna-tpe-hb-retrain" in variants()
    rungs = [1.0, 3.0, 9.0, 27.0]
    assert [rung_charge(rungs, k, retrain=False) for k in range(4)] == [1.0, 2.0, 6.0, 18.0]
    assert [rung_charge(rungs, k, retrain=True) for k in range(4)] == rungs


@pytest.mark.timeout(300)
def test_continued_training_smoke(bench_dirs, capsys):
    """benchmarks.continued_training on its tiny setting: what it prints and saves agrees with
    itself, a continued run pays less per top-budget evaluation than the same run from scratch,
    and a resumed model gives the same validation error as one retrained from scratch."""
    from benchmarks import continued_training as ct

    results, _ = bench_dirs
    assert ct.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    for heading in ("### Synthetic problems", "### MLP with partial_fit", "Goal (vs optuna-tpe-hb)"):
        assert heading in out
    saved = json.loads((results / "continued-training-smoke.json").read_text())
    assert saved["settings"]["seed_block"][0] == 2000 and saved["command"].startswith("python -m benchmarks.continued")
    errors = [r["error"] for b in saved["batches"] for r in b.get("runs", []) if "error" in r]
    assert not errors, errors[0]
    runs = {(b["part"], r["variant"], r["problem"], r["seed"]): r["record"]
            for b in saved["batches"] for r in b.get("runs", []) if "record" in r}
    for part, units in (("synthetic", saved["settings"]["units"]), ("mlp", saved["settings"]["mlp_units"])):
        by = ct.outcomes(saved, part)
        assert set(by[ct.CONTINUED]) == set(by[ct.SCRATCH]) and by[ct.CONTINUED]
        for problem, seeds in by[ct.CONTINUED].items():
            for seed, cont in seeds.items():
                scratch = by[ct.SCRATCH][problem][seed]
                for o in (cont, scratch):  # the run stops once its budget is spent: one evaluation over at most
                    assert units <= o["spent"] + 1e-9 < units + 1 + 1e-9
                    assert o["top_per_budget"] == pytest.approx(o["top"] * units / o["spent"])
                assert cont["top_per_budget"] >= scratch["top_per_budget"]
                if scratch["top"]:
                    assert cont["spent"] / max(cont["top"], 1) <= scratch["spent"] / scratch["top"] + 1e-9
                rc, rs = runs[(part, ct.CONTINUED, problem, seed)], runs[(part, ct.SCRATCH, problem, seed)]
                # the same optimiser asks the same trials, until the continued run can afford more;
                # equal costs: a model resumed from its checkpoint is the model retrained from scratch
                n = len(rs["rows"])
                assert len(rc["rows"]) >= n and rc["xs"][:n] == rs["xs"]
                assert [r[2] for r in rc["rows"][:n]] == [r[2] for r in rs["rows"]]
                assert [r[4] for r in rc["rows"][:n]] == pytest.approx([r[4] for r in rs["rows"]])
                done: dict = {}  # a promotion is charged only its increment, a new configuration its budget
                for row, x in zip(rc["rows"], rc["xs"]):
                    assert row[3] == pytest.approx(row[2] - done.get(tuple(x), 0.0))
                    done[tuple(x)] = row[2]
                assert len(done) < len(rc["rows"])  # some were promoted
                assert all(r[3] == r[2] for r in rs["rows"])
    opt = ct.outcomes(saved, "mlp").get(ct.OPTUNA)
    if opt is not None:  # the Optuna venv is set up: its study stops once the epochs reach the budget
        (o,) = opt[ct.MLP_PROBLEM].values()
        assert saved["settings"]["mlp_units"] <= o["spent"] < saved["settings"]["mlp_units"] + 1


def test_continued_training_seeds_are_a_block_no_decision_looked_at():
    from benchmarks.continued_training import SEEDS, SETTINGS
    from benchmarks.quality import SETTINGS as QUALITY
    from benchmarks.stats import DEV_SEEDS, HELDOUT_SEEDS

    looked_at = set(DEV_SEEDS) | set(HELDOUT_SEEDS) | {s for cfg in QUALITY.values() for s in cfg["seeds"]}
    assert not set(SEEDS) & looked_at
    assert SETTINGS["full"]["seeds"] >= 10 and SETTINGS["full"]["mlp_seeds"] >= 10
