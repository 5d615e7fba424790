"""With the model, a smooth function ends at a lower regret than random sampling in the same
number of trials: fixed seeds, many repetitions, a paired test with a margin."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace
from scipy.stats import wilcoxon

import smacish

BRANIN_MIN = 0.397887357729738


def branin(x1: float, x2: float, fidelity: float = 1.0) -> float:
    """Branin; below fidelity 1 its shape is biased (Kandasamy et al., 2017)."""
    b = 5.1 / (4 * math.pi**2) - 0.1 * (1 - fidelity)
    t = 1 / (8 * math.pi) + 0.05 * (1 - fidelity)
    return (x2 - b * x1**2 + 5 / math.pi * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def branin_space(seed: int) -> ConfigurationSpace:
    return ConfigurationSpace({"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}, seed=seed)


def final_regret(selector: str, seed: int, intensifier, n_trials: int, target) -> float:
    opt = smacish.Optimizer(branin_space(seed), intensifier, selector=selector, seed=seed)
    opt.optimize(target, n_trials=n_trials)
    best = opt.incumbent
    return branin(best["x1"], best["x2"]) - BRANIN_MIN


def compare(n_seeds: int, make_intensifier, n_trials: int, target):
    rf = np.array([final_regret("rf", s, make_intensifier(), n_trials, target) for s in range(n_seeds)])
    rnd = np.array([final_regret("random", s, make_intensifier(), n_trials, target) for s in range(n_seeds)])
    return rf, rnd


def test_rf_beats_random_search_on_branin():
    rf, rnd = compare(
        10, lambda: smacish.SuccessiveHalving(min_budget=1, max_budget=1), 40,
        lambda config: branin(config["x1"], config["x2"]),
    )
    assert wilcoxon(rf, rnd, alternative="less").pvalue < 0.05
    assert np.median(rf) < 0.5 * np.median(rnd)


@pytest.mark.slow
def test_rf_beats_random_search_on_multi_fidelity_branin_with_hyperband():
    rf, rnd = compare(
        20, lambda: smacish.Hyperband(min_budget=1, max_budget=27, eta=3), 207,
        lambda config, budget: branin(config["x1"], config["x2"], math.log(budget, 27)),
    )
    assert wilcoxon(rf, rnd, alternative="less").pvalue < 0.01
    assert np.median(rf) < 0.5 * np.median(rnd)
