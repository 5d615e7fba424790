"""KDESelector: BOHB's good/bad kernel-density model (smacish.selection.KDESelector), also usable natively
as ``Optimizer(selector="kde")``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    Configuration,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    Integer,
    OrdinalHyperparameter,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

import smacish
from smacish.runhistory import RunHistory
from smacish.selection._kde import KDESelector, KernelDensity, normal_reference_bandwidth
from smacish.trial import StatusType, TrialInfo, TrialValue

CONT, CAT = 0, 1


def history(space, cost, n, budget=1.0, seed=0, runhistory=None):
    """A RunHistory with ``n`` random configurations of ``space`` on ``budget``."""
    runhistory = runhistory if runhistory is not None else RunHistory(space)
    space.seed(seed)
    configs = space.sample_configuration(n) if n > 1 else [space.sample_configuration()]
    for config in configs:
        runhistory.add(TrialInfo(config, budget=budget), TrialValue(cost=cost(config)))
    return runhistory


def test_density_is_the_mean_of_gaussian_kernels():
    kde = KernelDensity(np.array([[0.2], [0.6]]), np.array([0.1]), np.array([CONT]), np.array([0]))
    x = np.array([[0.0], [0.3], [0.65]])
    expected = (norm.pdf(x[:, 0], 0.2, 0.1) + norm.pdf(x[:, 0], 0.6, 0.1)) / 2
    assert kde.pdf(x) == pytest.approx(expected)


def test_density_integrates_to_one_over_numbers_and_levels():
    data = np.array([[0.3, 0.0], [0.5, 2.0], [0.9, 2.0]])
    kde = KernelDensity(data, np.array([0.15, 0.3]), np.array([CONT, CAT]), np.array([0, 3]))
    xs = np.linspace(-1.5, 2.5, 4001)
    total = 0.0
    for level in (0.0, 1.0, 2.0):
        total += np.trapezoid(kde.pdf(np.column_stack([xs, np.full_like(xs, level)])), xs)
    assert total == pytest.approx(1.0, abs=1e-6)
    # the categorical kernel: 1 - h for the same level, h / (levels - 1) for another
    at_03 = kde.pdf(np.array([[0.3, 0.0], [0.3, 1.0]]))
    assert at_03[1] / at_03[0] < 1


def test_normal_reference_bandwidth_is_scotts_rule():
    assert normal_reference_bandwidth(np.array([[0.0], [1.0]]))[0] == pytest.approx(
        1.06 * 0.5 * 2 ** (-1 / 5)
    )
    data = np.arange(20, dtype=float).reshape(10, 2) / 20
    assert normal_reference_bandwidth(data) == pytest.approx(1.06 * data.std(axis=0) * 10 ** (-1 / 6))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3)), min_size=1, max_size=12),
    st.floats(1e-3, 2.0),
    st.floats(1e-3, 1.0),
    st.floats(-1, 2),
    st.integers(0, 3),
)
def test_density_is_finite_and_positive(rows, bw_cont, bw_cat, x, level):
    kde = KernelDensity(
        np.array(rows, dtype=float), np.array([bw_cont, bw_cat]), np.array([CONT, CAT]), np.array([0, 4])
    )
    value = kde.pdf(np.array([[x, float(level)]]))[0]
    assert math.isfinite(value) and value >= 0


def test_random_until_a_budget_has_enough_results_then_model_based():
    space = ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    selector = KDESelector(space, seed=1, random_fraction=0)
    assert selector.min_points_in_model == 3
    runhistory = history(space, lambda c: c["x"], 5)
    # 5 results: 3 good, but only 2 bad; a density needs more rows than dimensions
    assert selector.propose(runhistory, []).origin == "random" and selector.model_budget_ is None
    history(space, lambda c: c["x"], 1, seed=1, runhistory=runhistory)
    config = selector.propose(runhistory, [])
    assert selector.model_budget_ == 1.0 and config.origin == "kde"
    assert all(selector.propose(runhistory, []).origin == "kde" for _ in range(10))


def test_random_fraction_mixes_in_random_configurations():
    space = ConfigurationSpace({"x": (0.0, 1.0)})
    runhistory = history(space, lambda c: c["x"], 30)
    selector = KDESelector(space, seed=2, random_fraction=0.5)
    origins = [selector.propose(runhistory, []).origin for _ in range(200)]
    assert 60 < origins.count("random") < 140


def test_the_model_is_on_the_largest_budget_and_smaller_results_are_ignored_then():
    space = ConfigurationSpace({"x": (0.0, 1.0)})
    selector = KDESelector(space, seed=3, random_fraction=0)
    runhistory = history(space, lambda c: c["x"], 10, budget=1.0)
    selector.propose(runhistory, [])
    assert sorted(selector.kde_models_) == [1.0]
    history(space, lambda c: c["x"], 10, budget=3.0, seed=1, runhistory=runhistory)
    selector.propose(runhistory, [])
    assert sorted(selector.kde_models_) == [1.0, 3.0] and selector.model_budget_ == 3.0
    good_on_1 = selector.kde_models_[1.0][0].data.copy()
    history(space, lambda c: c["x"], 30, budget=1.0, seed=2, runhistory=runhistory)
    selector.propose(runhistory, [])
    assert np.array_equal(selector.kde_models_[1.0][0].data, good_on_1)  # not refit: budget 3 has a model


def test_proposals_concentrate_where_the_cost_is_small():
    space = ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    runhistory = history(space, lambda c: (c["x"] - 0.8) ** 2 + (c["y"] - 0.2) ** 2, 60)
    selector = KDESelector(space, seed=4, random_fraction=0)
    proposals = [selector.propose(runhistory, []) for _ in range(40)]
    distance = np.mean([math.hypot(c["x"] - 0.8, c["y"] - 0.2) for c in proposals])
    random_distance = np.mean(
        [math.hypot(c["x"] - 0.8, c["y"] - 0.2) for c in space.sample_configuration(400)]
    )
    assert distance < random_distance / 2


def test_crashed_results_count_as_bad():
    space = ConfigurationSpace({"x": (0.0, 1.0)})
    runhistory = RunHistory(space)
    space.seed(5)
    for config in space.sample_configuration(40):
        if config["x"] < 0.5:  # the low half crashes
            value = TrialValue(cost=math.inf, status=StatusType.CRASHED)
        else:
            value = TrialValue(cost=config["x"])
        runhistory.add(TrialInfo(config, budget=1.0), value)
    selector = KDESelector(space, seed=5, random_fraction=0)
    proposals = [selector.propose(runhistory, [])["x"] for _ in range(30)]
    assert np.mean(proposals) > 0.5


def test_mixed_conditional_space_with_forbidden_clauses():
    space = ConfigurationSpace(seed=0)
    space.add(
        [
            Float("lr", (1e-5, 1e-1), log=True),
            Integer("layers", (1, 8)),
            Categorical("opt", ["adam", "sgd", "rms"]),
            Float("momentum", (0.0, 0.99)),
            OrdinalHyperparameter("size", ["s", "m", "l"]),
            Constant("loss", "ce"),
        ]
    )
    space.add(EqualsCondition(space["momentum"], space["opt"], "sgd"))
    space.add(
        ForbiddenAndConjunction(
            ForbiddenEqualsClause(space["opt"], "rms"), ForbiddenEqualsClause(space["size"], "l")
        )
    )
    runhistory = history(
        space, lambda c: abs(math.log10(c["lr"]) + 3) + (c["opt"] != "sgd") + c["layers"] / 8, 50
    )
    selector = KDESelector(space, seed=6, random_fraction=0)
    proposals = [selector.propose(runhistory, []) for _ in range(40)]
    for config in proposals:
        config.check_valid_configuration()
        assert ("momentum" in dict(config)) == (config["opt"] == "sgd")
        assert config["loss"] == "ce"
    assert sum(c.origin == "kde" for c in proposals) > 20
    assert np.mean([c["opt"] == "sgd" for c in proposals]) > 0.5  # the good ones use sgd


def test_a_model_pick_already_pending_or_evaluated_is_replaced():
    space = ConfigurationSpace({"opt": ["a", "b", "c"], "act": ["relu", "tanh", "elu"]})
    runhistory = RunHistory(space)
    for opt, act in [("a", "relu"), ("a", "tanh"), ("b", "relu"), ("b", "tanh"), ("c", "elu"), ("c", "relu")]:
        config = Configuration(space, values={"opt": opt, "act": act})
        runhistory.add(TrialInfo(config, budget=1.0), TrialValue(cost=(opt != "a") + (act != "relu")))
    selector = KDESelector(space, seed=7, random_fraction=0)
    evaluated = {tuple(sorted(dict(c).items())) for c in runhistory.get_configs()}
    pending = [Configuration(space, values={"opt": "a", "act": "elu"})]
    origins = []
    for _ in range(20):
        config = selector.propose(runhistory, pending)
        origins.append(config.origin)
        if config.origin == "kde":  # the model prefers ("a", "relu"), evaluated already
            assert tuple(sorted(dict(config).items())) not in evaluated and config != pending[0]
    assert "random" in origins


def test_state_is_json_and_resumes_the_proposals_exactly():
    space = ConfigurationSpace({"x": (0.0, 1.0), "c": ["u", "v", "w"]})
    runhistory = history(space, lambda c: c["x"] + (c["c"] == "w"), 30)
    first = KDESelector(space, seed=8)
    for _ in range(3):
        first.propose(runhistory, [])
    state = json.loads(json.dumps(first.get_state()))
    expected = [first.propose(runhistory, []) for _ in range(6)]
    second = KDESelector(space, seed=8)
    second.set_state(state)
    assert [second.propose(runhistory, []) for _ in range(6)] == expected


def test_optimizer_selector_kde_by_name_resumes_exactly(tmp_path):
    space = ConfigurationSpace({"x": (-3.0, 3.0), "y": (-3.0, 3.0)})

    def target(config, budget):
        return (config["x"] - 1) ** 2 + (config["y"] + 1) ** 2 + 1 / budget

    straight = smacish.Optimizer(
        space,
        smacish.Hyperband(min_budget=1, max_budget=9),
        selector="kde",
        seed=9,
        output_dir=tmp_path / "straight",
    )
    straight.optimize(target, n_trials=70)
    assert isinstance(straight.selector, KDESelector) and straight.selector.model_budget_ is not None
    split = smacish.Optimizer(
        space,
        smacish.Hyperband(min_budget=1, max_budget=9),
        selector="kde",
        seed=9,
        output_dir=tmp_path / "split",
    )
    split.optimize(target, n_trials=35)
    split.close()
    resumed = smacish.Optimizer.load(tmp_path / "split")
    resumed.optimize(target, n_trials=70)

    def rows(opt):
        return [(i.config_id, i.budget, tuple(i.config.get_array())) for i, _ in opt.runhistory.items()]

    assert rows(resumed) == rows(straight)


def test_arguments_are_checked():
    space = ConfigurationSpace({"x": (0.0, 1.0)})
    with pytest.raises(ValueError) as err:
        KDESelector(space, top_n_percent=0, num_samples=0, random_fraction=2)
    assert "top_n_percent is 0" in str(err.value) and "num_samples is 0" in str(err.value)
    assert "random_fraction is 2" in str(err.value)
    with pytest.warns(UserWarning, match="needs at least 2"):
        assert KDESelector(space, min_points_in_model=1).min_points_in_model == 2
    assert "no model yet" in repr(KDESelector(space))
