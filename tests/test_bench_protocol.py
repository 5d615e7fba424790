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


def test_a_tuning_run_on_the_virtual_clock_judges_the_incumbent_at_t():
    serial = tune.run_one(("rf", tune.VARIANTS["rf"], "branin-hi", DEV_SEEDS[0], 3.0))
    parallel = tune.run_one(("rf", tune.VARIANTS["rf"], "branin-hi", DEV_SEEDS[0], 3.0, 4))
    again = tune.run_one(("rf", tune.VARIANTS["rf"], "branin-hi", DEV_SEEDS[0], 3.0, 4))
    assert parallel["final"] == again["final"]  # the virtual clock charges no real time: reproducible
    assert parallel["final"] != serial["final"] and parallel["final"] >= 0


def test_the_headline_table_pairs_the_default_with_each_peer(monkeypatch):
    seeds = range(10)
    fake = {
        heldout.OURS: {"branin-hi": {s: 0.1 for s in seeds}, "park1": {s: 1.0 for s in seeds}},
        "optuna-tpe-hb": {"branin-hi": {s: 1.0 for s in seeds}, "park1": {s: 0.1 for s in seeds}},
        "dehb": {"branin-hi": {s: 0.1 for s in seeds}},  # one problem only
    }
    monkeypatch.setattr(heldout, "finals", lambda result, fraction=1.0: fake)
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


def test_the_virtual_clock_charges_the_optimiser_s_own_time():
    import time as _time

    from benchmarks.problems import get_problem
    from benchmarks.record import Job
    from benchmarks.simclock import DurationModel, simulate

    class SlowAsk:
        """Always the same trial on the full budget; each ask burns 20 ms of CPU."""

        def ask(self):
            t0 = _time.process_time()
            while _time.process_time() - t0 < 0.02:
                pass
            return Job({"x1": 0.0, "x2": 0.0}, 27.0, 27.0)

        def tell(self, job, cost):
            pass

    p = get_problem("branin-hi")
    no_straggler = DurationModel(unit=1.0, straggler_sd=0.0)
    free = simulate(SlowAsk(), p, 0, 1, 3, no_straggler)
    charged = simulate(SlowAsk(), p, 0, 1, 3, no_straggler, optimiser_scale=100.0)  # 20 ms -> >= 2 virtual s
    assert [r[0] for r in free["rows"]] == [0.0, 27.0, 54.0]
    starts = [r[0] for r in charged["rows"]]
    assert starts[0] >= 2.0 and all(b - a >= 27.0 + 2.0 for a, b in zip(starts, starts[1:]))


def test_a_run_is_judged_at_a_time_by_what_had_ended_by_then():
    from benchmarks.problems import get_problem
    from benchmarks.record import final_value

    p = get_problem("branin-hi")
    far, near = {"x1": 10.0, "x2": 15.0}, {"x1": 3.14159, "x2": 2.275}
    record = {"rows": [[0, 10, 27, 27, p.evaluate(far, 27, 0)], [0, 20, 27, 27, p.evaluate(near, 27, 0)]],
              "xs": [[10.0, 15.0], [3.14159, 2.275]]}
    assert final_value(p, record, 0, until=15) == pytest.approx(p.true_regret(far))
    assert final_value(p, record, 0) == pytest.approx(p.true_regret(near))
    assert final_value(p, record, 0, until=5) == float("inf")


def test_report_only_rewrites_one_section_and_keeps_the_rest():
    from benchmarks import report

    page = "# Title\n\nintro\n\n## Headline: old\n\nold table\n\n## Problems\n\nkept\n"
    new = report.splice(page, "## Headline: old\n\nnew table\n")
    assert new == "# Title\n\nintro\n\n## Headline: old\n\nnew table\n\n## Problems\n\nkept\n"
    assert report.splice(new, "## Problems\n\nlast\n").endswith("## Problems\n\nlast\n")
    with pytest.raises(ValueError, match="no section '## Other'"):
        report.splice(page, "## Other\n\nx\n")
    # one run within the headline: up to the next title of its level or above, #### below it kept out
    page = "## Headline\n\nintro\n\n### Serial\n\ns\n\n#### detail\n\nd\n\n### 8 workers\n\nold\n\n## Problems\n\nkept\n"
    new = report.splice(page, "### Serial\n\nnew\n")
    assert new == "## Headline\n\nintro\n\n### Serial\n\nnew\n\n### 8 workers\n\nold\n\n## Problems\n\nkept\n"
    new = report.splice(page, "### 8 workers\n\nnew\n")
    assert new.endswith("### 8 workers\n\nnew\n\n## Problems\n\nkept\n") and "#### detail" in new


def test_time_to_target_pairs_the_worse_regret_at_t_and_says_who_got_there_first():
    from benchmarks.problems import get_problem

    p = get_problem("branin-hi")
    far, near = {"x1": 10.0, "x2": 15.0}, {"x1": 3.14159, "x2": 2.275}

    def row(t, x):
        return [0, t, 27, 27, p.evaluate(x, 27, 0)]

    # smacish finds the optimum at t=2, the peer at t=8; T = 4 x 27 / 2 = 54, so both by T
    ours = {"rows": [row(1, far), row(2, near)], "xs": [[10.0, 15.0], [3.14159, 2.275]]}
    peer = {"rows": [row(1, far), row(8, near)], "xs": [[10.0, 15.0], [3.14159, 2.275]]}
    assert heldout.time_to_target(p, ours, p.true_regret(near)) == 2.0
    assert heldout.time_to_target(p, peer, p.true_regret(near)) == 8.0
    assert heldout.time_to_target(p, ours, -1.0) == float("inf")
    runs = [{"variant": v, "problem": "branin-hi", "seed": s, "record": rec}
            for s in range(6) for v, rec in ((heldout.OURS, ours), ("dehb", peer))]
    result = {"settings": {"problems": ["branin-hi"], "n_workers": 2, "units": 4.0},
              "batches": {"all": {"runs": runs}}}
    c = heldout.time_comparisons(result)["dehb"]
    assert c.ratio == pytest.approx(2 / 8) and c.wins == 6


def _random_result(n_workers: int) -> dict:
    """Recorded traces of two variants on branin-hi, with incumbents that change, get worse
    (a higher budget) and stall, in end-time order as the runners record them."""
    import numpy as np

    from benchmarks.problems import get_problem

    p = get_problem("branin-hi")
    runs = []
    for variant in (heldout.OURS, "dehb"):
        for seed in range(8):
            rng = np.random.default_rng([seed, len(variant)])
            rows, xs, t = [], [], 0.0
            for _ in range(25):
                x = {"x1": float(rng.uniform(-5, 10)), "x2": float(rng.uniform(0, 15))}
                budget = float(rng.choice([3.0, 9.0, 27.0]))
                t += float(rng.uniform(0.5, 6.0))
                rows.append([t - budget, t, budget, budget, p.evaluate(x, budget, seed)])
                xs.append([x["x1"], x["x2"]])
            runs.append({"variant": variant, "problem": "branin-hi", "seed": seed, "record": {"rows": rows, "xs": xs}})
    settings = {"problems": ["branin-hi"], "units": 4.0, "seeds": list(range(8))}
    if n_workers > 1:
        settings["n_workers"] = n_workers
    return {"settings": settings, "command": "test", "seconds": 1.0,
            "batches": {"smacish": {"runs": runs[:8], "defaults": {"x": 1}}, "dehb": {"runs": runs[8:]}}}


@pytest.mark.parametrize("n_workers", [1, 2])
def test_a_committed_summary_gives_the_same_tables_as_the_full_traces(n_workers, tmp_path, monkeypatch):
    import json

    from benchmarks import runner

    result = _random_result(n_workers)
    monkeypatch.setattr(heldout, "SUMMARIES", tmp_path / "summaries")
    monkeypatch.setattr(runner, "RESULTS", tmp_path / "results")
    heldout.save_summary("heldout-x", result)
    summary = heldout.load_result("heldout-x")  # no full result in this checkout: the summary
    assert summary["summarised"] and "record" not in json.dumps(summary)
    assert summary["batches"]["smacish"]["defaults"] == {"x": 1}
    assert heldout.table(summary) == heldout.table(result)
    for fraction in heldout.FRACTIONS:
        assert heldout.finals(summary, fraction) == heldout.finals(result, fraction)
    if n_workers > 1:
        assert repr(heldout.time_comparisons(summary)) == repr(heldout.time_comparisons(result))
    # a rerun of one library in a new checkout keeps the others' batches from the summary
    kept, command = runner.keep_other_batches("heldout-x", result["settings"], {"dehb": result["batches"]["dehb"]},
                                              "again", rerun=True, loader=heldout.load_result)
    assert set(kept) == {"smacish", "dehb"} and command == "test, then again (kept: smacish)"
    assert heldout.table({**result, "batches": kept}) == heldout.table(result)  # summarised and full runs mixed
    runner.save("heldout-x", result)
    assert "record" in json.dumps(heldout.load_result("heldout-x"))  # the full result, where there is one
