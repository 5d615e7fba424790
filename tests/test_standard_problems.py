"""The standard benchmark problems against published values: mfpbench's multi-fidelity
Hartmann evaluated by mf-prior-bench 1.10 itself, and the optima of Kandasamy et al.'s
Branin, Currin and Park1."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.problems import PROBLEMS, STANDARD, get_problem, sample_uniform
from benchmarks.standard_problems import CURRIN_OPT, PARK1_OPT, branin_boca, currin, park1

REFERENCE = Path(__file__).parent / "data" / "mfpbench_mfh_reference.json"


def test_every_standard_problem_is_registered():
    assert set(STANDARD) <= set(PROBLEMS) and len(STANDARD) == 11


def test_mfhartmann_gives_mfpbench_s_values_noise_included():
    """48 points, written by ``mfpbench.get(f"mfh{dim}_{level}", seed=s).query(config, at=z)``
    (mf-prior-bench 1.10.0) at z = 1, 10, 100 for seeds 0 and 7."""
    rows = json.loads(REFERENCE.read_text())
    assert len(rows) == 48
    for dim, level, seed, z, x, value in rows:
        got = get_problem(f"mfh{dim}-{level}").evaluate({f"X_{i}": v for i, v in enumerate(x)}, z, seed)
        assert got == pytest.approx(value, abs=1e-12), (dim, level, seed, z, x)


@pytest.mark.parametrize("dim, optimum, at", [
    (3, -3.86278, (0.114614, 0.555649, 0.852547)),
    (6, -3.32237, (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)),
])
def test_mfhartmann_optimum_and_regret(dim, optimum, at):
    for level in ("good", "terrible"):
        p = get_problem(f"mfh{dim}-{level}")
        x = {f"X_{i}": v for i, v in enumerate(at)}
        assert p.evaluate(x, p.max_budget, seed=3) == pytest.approx(optimum, abs=1e-5)  # noiseless there
        assert p.true_regret(x) == pytest.approx(0.0, abs=1e-5)
        assert p.evaluate(x, p.min_budget, seed=3) > optimum + 1.0  # the bias flattens the low fidelity
        rng = np.random.default_rng(0)
        assert min(p.true_regret(sample_uniform(p.params, rng)) for _ in range(500)) > 0.0


def test_branin_boca_is_branin_at_full_fidelity_and_biased_below():
    minima = [(-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)]
    for x in minima:
        assert branin_boca(np.array(x), 1.0) == pytest.approx(0.397887, abs=1e-5)
        assert branin_boca(np.array(x), 0.0) != pytest.approx(0.397887, abs=1e-3)
    p = get_problem("branin-boca")
    assert p.true_regret({"x1": math.pi, "x2": 2.275}) == pytest.approx(0.0, abs=1e-6)


def test_currin_optimum_and_its_irrelevant_input_at_full_fidelity():
    assert currin(np.array([0.2166667, 0.3]), 1.0) == pytest.approx(CURRIN_OPT, abs=1e-6)
    assert currin(np.array([0.2166667, 0.9]), 1.0) == currin(np.array([0.2166667, 0.05]), 1.0)
    assert currin(np.array([0.2166667, 0.9]), 0.0) < currin(np.array([0.2166667, 0.05]), 0.0)
    p = get_problem("currin")
    rng = np.random.default_rng(1)
    regrets = [p.true_regret(sample_uniform(p.params, rng)) for _ in range(2000)]
    assert min(regrets) >= 0.0 and min(regrets) < 0.05
    assert p.evaluate({"x1": 0.2166667, "x2": 0.5}, 27, 0) == pytest.approx(-CURRIN_OPT, abs=1e-6)  # a cost


def test_park1_optimum_is_the_corner():
    assert park1(np.ones(4), 1.0) == pytest.approx(25.5893, abs=1e-4) == PARK1_OPT
    p = get_problem("park1")
    rng = np.random.default_rng(2)
    assert min(p.true_regret(sample_uniform(p.params, rng)) for _ in range(2000)) > 0.0
    assert math.isfinite(p.evaluate({"x1": 0.0, "x2": 0.5, "x3": 0.5, "x4": 0.5}, 1, 0))  # z = 0 is defined


# ---------------------------------------------------------------------- tasks with a test split
def test_the_train_validation_split_varies_with_the_seed_and_the_test_split_does_not():
    from benchmarks.ml_tasks import split

    a, b = split("cancer", 0), split("cancer", 1)
    assert len(a[2]) == len(b[2]) and (a[5] == b[5]).all()  # the same test labels ...
    assert not np.array_equal(a[4], b[4]) or not np.array_equal(a[1], b[1])  # ... other validation parts
    n_rest = len(a[0]) + len(a[1])
    assert len(a[2]) == pytest.approx(0.25 * (n_rest + len(a[2])), abs=1)


def test_a_run_on_a_task_with_a_test_split_is_judged_by_its_incumbent_s_test_error():
    from benchmarks.problems import WITH_TEST_SPLIT
    from benchmarks.record import Recorder, final_value

    assert set(WITH_TEST_SPLIT) <= set(PROBLEMS)
    p = get_problem("hgb-cancer-test")
    good = {"learning_rate": 0.1, "max_leaf_nodes": 16, "min_samples_leaf": 10, "l2_regularization": 1e-3}
    bad = dict(good, learning_rate=0.01, max_leaf_nodes=4)
    rec = Recorder(p, 0, budget_limit=10)
    rec.start()
    for x in (bad, good):
        rec.evaluate(x, 27, 27)
    record = rec.to_json()
    incumbent = good if p.evaluate(good, 27, 0) <= p.evaluate(bad, 27, 0) else bad
    assert final_value(p, record, 0) == pytest.approx(p.test_error(incumbent, 0))
    assert 0 <= p.test_error(good, 0) < 0.2 and p.test_error(good, 0) != p.evaluate(good, 27, 0)


def test_the_noise_problem_is_noise_and_in_no_problem_set():
    from benchmarks.problems import DIAGNOSTIC

    noise = get_problem("noise")
    assert "noise" in DIAGNOSTIC and "noise" not in PROBLEMS and "noise" not in STANDARD
    rng = np.random.default_rng(0)
    xs = [sample_uniform(noise.params, rng) for _ in range(400)]
    low = np.array([noise.evaluate(x, 1.0, seed=3) for x in xs])
    high = np.array([noise.evaluate(x, 27.0, seed=3) for x in xs])
    assert abs(low.mean()) < 0.2 and abs(high.std() - 1.0) < 0.15
    assert abs(np.corrcoef(low, high)[0, 1]) < 0.15  # a low budget says nothing about a high one
    assert noise.true_regret(xs[0]) == 0.0
