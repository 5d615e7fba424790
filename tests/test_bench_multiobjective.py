"""The multi-objective benchmark: ZDT1/ZDT2 with a fidelity, the 2-d hypervolume, how a run is
judged, and the plumbing from an adapter through the batch runner to the docs section."""

from __future__ import annotations

import itertools
import math
import types

import numpy as np
import pytest

from benchmarks import multiobjective as mo
from benchmarks.hypervolume import hypervolume_2d, hypervolume_regret, non_dominated
from benchmarks.mo_problems import _closed_form, get_mo_problem, make_zdt
from benchmarks.mo_record import front_found, regret_at
from benchmarks.record import Job

NAMES = [f"x{i}" for i in range(6)]


def _x(*values: float) -> dict:
    return dict(zip(NAMES, values))


def _published(which: int, x: np.ndarray) -> tuple:
    """ZDT1/ZDT2 written out again from Zitzler, Deb, Thiele (2000), independently of the module."""
    g = 1 + 9 * sum(x[1:]) / (len(x) - 1)
    h = 1 - math.sqrt(x[0] / g) if which == 1 else 1 - (x[0] / g) ** 2
    return x[0], g * h


# ---------------------------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------------------------
def test_the_true_fronts_hypervolume_is_the_closed_form():
    assert _closed_form(1 / 3, (1.0, 1.0)) == pytest.approx(2 / 3)  # ZDT1: integral of sqrt(f1)
    assert _closed_form(2 / 3, (1.0, 1.0)) == pytest.approx(1 / 3)  # ZDT2: integral of f1^2
    for which, at_unit in ((1, 2 / 3), (2, 1 / 3)):
        unit = make_zdt(which, reference=(1.0, 1.0))
        assert unit.true_hypervolume() == pytest.approx(at_unit)
        assert unit.sampled_front_hypervolume() == pytest.approx(at_unit, abs=1e-4)
        assert unit.sampled_front_hypervolume() <= at_unit  # a finite sample only approaches it from below
        p = get_mo_problem(f"zdt{which}")
        assert p.sampled_front_hypervolume() == pytest.approx(p.true_hypervolume(), abs=1e-4)


def test_known_points():
    zdt1, zdt2 = get_mo_problem("zdt1"), get_mo_problem("zdt2")
    on_front = _x(0.25, 0, 0, 0, 0, 0)
    assert zdt1.true_values(on_front) == pytest.approx((0.25, 0.5))
    assert zdt2.true_values(on_front) == pytest.approx((0.25, 0.9375))
    worst = _x(1, 1, 1, 1, 1, 1)  # g = 10
    assert zdt1.true_values(worst) == pytest.approx((1.0, 10 * (1 - math.sqrt(0.1))))
    assert zdt2.true_values(worst) == pytest.approx((1.0, 9.9))
    # every value of f2 is below the reference point's 11
    assert max(zdt1.true_values(worst)[1], zdt2.true_values(worst)[1]) < zdt1.reference[1]


def test_the_highest_budget_gives_the_published_functions_and_lower_ones_do_not():
    rng = np.random.default_rng(0)
    for which in (1, 2):
        p = get_mo_problem(f"zdt{which}")
        for _ in range(50):
            v = rng.random(6)
            assert p.evaluate(_x(*v), 27) == pytest.approx(_published(which, v), abs=1e-12)
            assert p.evaluate(_x(*v), 27, seed=5) == p.evaluate(_x(*v), 27, seed=0)  # deterministic
            low = p.evaluate(_x(*v), 1)
            assert low != pytest.approx(_published(which, v), abs=1e-6)
            assert low == p.evaluate(_x(*v), 1, seed=7)
        # the distortion shrinks as the budget grows
        v = _x(0.3, 0.05, 0.0, 0.1, 0.0, 0.02)
        gaps = [abs(p.evaluate(v, b)[1] - p.true_values(v)[1]) for b in (1, 3, 9, 27)]
        assert gaps[-1] == 0 and all(a > b for a, b in zip(gaps, gaps[1:]))


# ---------------------------------------------------------------------------------------------
# hypervolume
# ---------------------------------------------------------------------------------------------
def test_hypervolume_of_hand_made_fronts():
    assert hypervolume_2d([], (1, 1)) == 0.0
    assert hypervolume_2d([[0.5, 0.5]], (1, 1)) == pytest.approx(0.25)
    staircase = [[0.2, 0.6], [0.4, 0.3]]  # 0.2 x 0.4 + 0.6 x 0.7
    assert hypervolume_2d(staircase, (1, 1)) == pytest.approx(0.5)
    # dominated points, duplicates and points not dominating the reference point add nothing
    extra = staircase + [[0.5, 0.7], [0.4, 0.3], [1.2, 0.1], [1.0, 0.0], [0.3, 1.0]]
    assert hypervolume_2d(extra, (1, 1)) == pytest.approx(0.5)
    assert hypervolume_2d(staircase, (2, 1)) == pytest.approx(0.5 + 1.0 * 0.7)
    assert non_dominated(extra).tolist() == [[0.2, 0.6], [0.4, 0.3], [1.0, 0.0]]
    with pytest.raises(ValueError, match="finite"):
        hypervolume_2d([[0.1, math.inf]], (1, 1))


def test_hypervolume_agrees_with_counting_cells_on_a_grid():
    rng = np.random.default_rng(1)
    for _ in range(20):
        pts = rng.integers(0, 20, size=(int(rng.integers(1, 12)), 2)) / 20  # on the grid: the count is exact
        cells = sum(1 for i, j in itertools.product(range(20), repeat=2)
                    if any(p[0] <= i / 20 and p[1] <= j / 20 for p in pts))
        assert hypervolume_2d(pts, (1, 1)) == pytest.approx(cells / 400)


def test_hypervolume_regret():
    p = get_mo_problem("zdt1")
    assert hypervolume_regret([], p.reference, p.true_hypervolume()) == p.true_hypervolume()
    assert hypervolume_regret(p.front_points(), p.reference, p.true_hypervolume()) == pytest.approx(0, abs=1e-4)
    one = hypervolume_regret([[0.0, 1.0]], p.reference, p.true_hypervolume())  # the front's end: 1.1 x 10
    assert one == pytest.approx(p.true_hypervolume() - 11.0)


def test_a_run_is_judged_by_the_true_values_of_its_top_budget_evaluations_within_the_budget():
    p = get_mo_problem("zdt1")
    xs = [[0.0, 0, 0, 0, 0, 0], [0.25, 0, 0, 0, 0, 0], [1.0, 0, 0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]]
    # rows: start, end, budget, charge, f1, f2 -- observed costs deliberately wrong: the judge recomputes them
    rows = [[0, 0, 27, 27, 9, 9], [0, 0, 9, 9, 0, 0], [0, 0, 27, 27, 9, 9], [0, 0, 27, 27, 9, 9]]
    record = {"rows": rows, "xs": xs}
    assert front_found(p, record, spent=1).tolist() == [[0.0, 1.0]]
    assert front_found(p, record, spent=1.3).tolist() == [[0.0, 1.0]]  # the budget-9 one is not at the top budget
    assert front_found(p, record, spent=2.34).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert len(front_found(p, record)) == 3
    r = regret_at(p, record, [0.5, 1, 2.34])
    assert r[0] == p.true_hypervolume()
    assert r[1] == pytest.approx(p.true_hypervolume() - 11.0)
    assert r[2] < r[1]


# ---------------------------------------------------------------------------------------------
# plumbing: an adapter through benchmarks.peers._run, outcomes, comparisons, the docs section
# ---------------------------------------------------------------------------------------------
class _FakePeer:
    """Asks budget 9 then 27 for random configurations; remembers what it was told."""

    def __init__(self, problem, seed):
        self.problem, self.rng, self.told, self.k = problem, np.random.default_rng(seed), [], 0

    def ask(self):
        self.k += 1
        budget = 27.0 if self.k % 2 == 0 else 9.0
        x = {p.name: float(self.rng.random()) for p in self.problem.params}
        return Job(x, budget, budget)

    def tell(self, job, costs):
        self.told.append((job.budget, costs))


def test_a_fake_peer_through_the_batch_runner():
    from benchmarks.peers import _run

    made = []

    def make_mo(variant, problem, seed, n_trials=None, units=None):
        made.append((variant, problem.name, seed, units))
        made.append(_FakePeer(problem, seed))
        return made[-1]

    record = _run._one(types.SimpleNamespace(make_mo=make_mo), "multiobjective", "fake", "zdt2", 3, {"budget_units": 4})
    assert made[0] == ("fake", "zdt2", 3, 4.0)
    peer = made[1]
    charged = sum(r[3] for r in record["rows"]) / 27
    assert 4 <= charged < 4 + 1  # stops once the budget is spent
    assert len(peer.told) == len(record["rows"]) and all(len(c) == 2 for _, c in peer.told)
    problem = get_mo_problem("zdt2")
    for (budget, costs), row, x in zip(peer.told, record["rows"], record["xs"]):
        assert tuple(row[4:6]) == costs == problem.evaluate(dict(zip(NAMES, x)), budget)


def _result(per_variant: dict) -> dict:
    """A stored result with one batch per variant: ``{variant: {problem: {seed: [x1 of each top eval]}}}``."""
    batches = {}
    for variant, problems in per_variant.items():
        runs = []
        for problem, seeds in problems.items():
            for seed, x1s in seeds.items():
                xs = [[x1, 0, 0, 0, 0, 0] for x1 in x1s]
                p = get_mo_problem(problem)
                rows = [[0, 0, 27, 27, *p.true_values(dict(zip(NAMES, x)))] for x in xs]
                runs.append({"variant": variant, "problem": problem, "seed": seed, "record": {"rows": rows, "xs": xs}})
        batches[variant] = {"runs": runs}
    return {"settings": {"seeds": [0, 1, 2, 3, 4, 5], "problems": ["zdt1", "zdt2"], "units": 4}, "batches": batches,
            "command": "python -m benchmarks.multiobjective --seeds 6"}


def test_outcomes_comparisons_and_the_docs_section(tmp_path, monkeypatch):
    import benchmarks.report as report

    monkeypatch.setattr(report, "IMG", tmp_path / "img")
    seeds = range(6)
    spread = {s: [0.0, 0.5, 1.0, 0.25] for s in seeds}  # four points of the front
    narrow = {s: [0.0, 0.1] for s in seeds}
    result = _result({mo.OURS: {"zdt1": spread, "zdt2": spread},
                      "optuna-tpe": {"zdt1": narrow, "zdt2": narrow},
                      "smac-mf-parego": {"zdt1": spread}})
    by = mo.outcomes(result)
    assert by[mo.OURS]["zdt1"][0]["top"] == 4
    assert by[mo.OURS]["zdt1"][0]["regret"][-1] < by["optuna-tpe"]["zdt1"][0]["regret"][-1]
    assert by[mo.OURS]["zdt1"][0]["regret"][0] == get_mo_problem("zdt1").true_hypervolume()  # 10 %: nothing yet
    comps = mo.comparisons(by, ["zdt1", "zdt2"])
    assert set(comps) == {"optuna-tpe", "smac-mf-parego"}
    assert comps["optuna-tpe"]["overall"].wins == 12 and comps["optuna-tpe"]["overall"].ratio < 1
    assert comps["smac-mf-parego"]["zdt1"].ratio == pytest.approx(1.0) and "zdt2" not in comps["smac-mf-parego"]
    assert "img/" not in mo.section(result)  # no plot yet
    assert mo.plot(result).exists()
    text = mo.section(result)
    assert f"(img/{mo.PLOT})" in text
    assert text.startswith(mo.SECTION) and "smacish's final regret is lower (better) than Optuna TPESampler" in text
    assert "| **smacish (default: RF, Hyperband)** |" in text

    docs = tmp_path / "benchmarks.md"
    docs.write_text("# B\n\n## A\n\na\n\n## Other headline ratios\n\nh\n")
    mo.write_section(text, docs)
    first = docs.read_text()
    assert first.index("## A") < first.index(mo.SECTION) < first.index("## Other headline ratios")
    mo.write_section(mo.section(None), docs)  # replaced in place, the rest untouched
    second = docs.read_text()
    assert second.count(mo.SECTION) == 1 and "Not measured yet" in second and "smacish's final regret" not in second
    assert second.startswith("# B\n\n## A\n\na\n\n") and second.endswith("## Other headline ratios\n\nh\n")


def test_a_reported_front_that_is_not_the_recorded_one_is_named():
    result = _result({mo.OURS: {"zdt1": {0: [0.0, 0.5, 1.0]}}})
    run = result["batches"][mo.OURS]["runs"][0]
    costs = [row[4:6] for row in run["record"]["rows"]]
    run["record"]["reported"] = {"costs": costs, "budgets": [27.0] * 3}
    assert mo.front_mismatches(result) == []
    run["record"]["reported"] = {"costs": costs[:2], "budgets": [27.0] * 2}
    assert "1 missing" in mo.front_mismatches(result)[0]
    run["record"]["reported"] = {"costs": costs + [[2.0, 2.0]], "budgets": [27.0] * 4}
    assert "1 extra" in mo.front_mismatches(result)[0]


def test_the_script_runs_a_batch_in_a_subprocess_and_stores_it(tmp_path, monkeypatch, capsys):
    import benchmarks.runner as runner

    monkeypatch.setattr(runner, "RESULTS", tmp_path)
    monkeypatch.setattr(mo, "BATCHES", {"smacish-mo": ["random-max-budget"]})
    assert mo.main(["--dev", "--seeds", "2", "--problems", "zdt1", "--units", "3"]) == 0
    stored = runner.load("multiobjective-dev")
    runs = stored["batches"]["smacish-mo"]["runs"]
    assert [(r["variant"], r["seed"]) for r in runs] == [("random-max-budget", 0), ("random-max-budget", 1)]
    assert all(len(r["record"]["rows"]) == 3 for r in runs)
    assert "random search at budget 27" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        mo.main(["--table"])  # nothing stored under the held-out name


def test_smacish_s_adapter_reports_the_front_of_what_it_was_told():
    from benchmarks import mo_record
    from benchmarks.peers import smacish_mo

    record = mo_record.run_one(smacish_mo, smacish_mo.DEFAULT, "zdt1", 0, 3)
    assert 3 <= sum(r[3] for r in record["rows"]) / 27 < 4
    assert record["reported"]["costs"]  # budget 27 was reached: there is a front
    result = {"batches": {"smacish-mo": {"runs": [{"variant": smacish_mo.DEFAULT, "problem": "zdt1", "seed": 0,
                                                  "record": record}]}}}
    assert mo.front_mismatches(result) == []


def test_docs_rewrites_only_its_section_from_the_stored_result(tmp_path, monkeypatch, capsys):
    import benchmarks.report as report
    import benchmarks.runner as runner

    monkeypatch.setattr(runner, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(report, "DOCS", tmp_path / "docs")
    monkeypatch.setattr(report, "IMG", tmp_path / "docs" / "img")
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "benchmarks.md"
    page.write_text("# B\n\n## Held out\n\nkeep me\n\n## Other headline ratios\n\nh\n")
    runner.save(mo.NAME, _result({mo.OURS: {"zdt1": {0: [0.0, 1.0]}}, "optuna-tpe": {"zdt1": {0: [0.5]}}}))
    assert mo.main(["--docs"]) == 0
    text = page.read_text()
    assert "keep me" in text and text.count(mo.SECTION) == 1 and (tmp_path / "docs" / "img" / mo.PLOT).exists()
    assert "| **smacish (default: RF, Hyperband)** |" in text
