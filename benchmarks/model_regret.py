"""Anytime regret of the random-forest selector against random sampling, both inside Hyperband.

    python -m benchmarks.model_regret                                   # the full table
    python -m benchmarks.model_regret --problems branin-hi --seeds 5 --rounds 2
    python -m benchmarks.model_regret --rf-options '{"log_costs": false}'   # a variant

Problems (the synthetic ones come from :mod:`benchmarks.problems`, with a known optimum and a
fidelity-dependent bias and noise):

- ``branin-hi``: multi-fidelity Branin (2-d), budgets 1..27;
- ``hartmann6-hi``: multi-fidelity Hartmann-6, budgets 1..27;
- ``sgd-digits``: scikit-learn's SGDClassifier on the bundled digits data, budget = epochs
  1..27, a mixed space: 3 categoricals (loss, penalty, learning rate schedule), 2 log-scaled
  floats and ``l1_ratio``, active only with the elastic-net penalty. Its "regret" is the
  validation error of the incumbent after 27 epochs (the optimum is unknown).

Each run is one Optimizer with Hyperband(1, 27, eta=3), seeded, serial ask/tell, until it has
spent ``rounds`` Hyperband rounds of budget (one round: 423 budget units = 15.7 evaluations on
the full budget, 69 trials). The anytime regret is the true regret of the incumbent
(``highest_executed_budget``) after each round, reported as the median and quartiles over
seeds; ``wins`` counts the seeds where rf ended lower than random with the same seed, and
``p`` is a one-sided Wilcoxon signed-rank test of rf < random on those pairs (and likewise
against any other selector named with ``--selectors``, e.g. ``kde``, BOHB's model).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

import smacish
from smacish.selection import RandomForestSelector

ROUND_BUDGET = 423.0  # Hyperband(1, 27, eta=3): one pass over its four brackets


# ------------------------------------------------------------------ the real task
_DIGITS: Dict[str, Any] = {}


def _digits():
    if not _DIGITS:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        X, y = load_digits(return_X_y=True)
        Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
        scaler = StandardScaler().fit(Xtr)
        _DIGITS["data"] = (scaler.transform(Xtr), scaler.transform(Xva), ytr, yva)
    return _DIGITS["data"]


def sgd_digits_space(seed: int):
    from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float

    cs = ConfigurationSpace(seed=seed)
    cs.add([
        Categorical("loss", ["hinge", "log_loss", "modified_huber"]),
        Categorical("penalty", ["l2", "l1", "elasticnet"]),
        Categorical("learning_rate", ["constant", "invscaling", "adaptive"]),
        Float("alpha", (1e-7, 1e-1), log=True),
        Float("eta0", (1e-4, 1.0), log=True),
        Float("l1_ratio", (0.0, 1.0)),
    ])
    cs.add(EqualsCondition(cs["l1_ratio"], cs["penalty"], "elasticnet"))
    return cs


def sgd_digits(config: Dict[str, Any], budget: float) -> float:
    """Validation error of an SGDClassifier after ``budget`` epochs (deterministic)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier

    Xtr, Xva, ytr, yva = _digits()
    model = SGDClassifier(
        loss=config["loss"], penalty=config["penalty"], alpha=config["alpha"], eta0=config["eta0"],
        learning_rate=config["learning_rate"], l1_ratio=config.get("l1_ratio", 0.15),
        max_iter=max(1, round(budget)), tol=None, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xtr, ytr)
    return 1.0 - float(model.score(Xva, yva))


# ------------------------------------------------------------------ problems
class Task:
    """A space, a target ``(config dict, budget, seed) -> cost`` and the regret of a config."""

    def __init__(self, name: str, space: Callable[[int], Any],
                 target: Callable[[Dict[str, Any], float, int], float],
                 regret: Callable[[Dict[str, Any]], float]):
        self.name, self.space, self.target, self.regret = name, space, target, regret


def get_task(name: str) -> Task:
    if name == "sgd-digits":
        cache: Dict[tuple, float] = {}

        def regret(config: Dict[str, Any]) -> float:
            key = tuple(sorted(config.items()))
            if key not in cache:
                cache[key] = sgd_digits(config, 27)
            return cache[key]

        return Task(name, sgd_digits_space, lambda c, b, s: sgd_digits(c, b), regret)
    from benchmarks.problems import get_problem, to_configspace

    problem = get_problem(name)
    if (problem.min_budget, problem.max_budget) != (1, 27):
        raise ValueError(
            f"{name} has budgets {problem.min_budget}..{problem.max_budget}; this benchmark uses 1..27"
        )
    return Task(name, lambda seed: to_configspace(problem.params, seed=seed), problem.evaluate,
                problem.true_regret)


def run(task: Task, selector: str, seed: int, rounds: int,
        rf_options: Dict[str, Any]) -> Tuple[List[float], int, float]:
    """Regret of the incumbent after each round of budget; trials run; optimiser seconds."""
    cs = task.space(seed)
    sel = RandomForestSelector(cs, seed=seed, **rf_options) if selector == "rf" else selector
    intensifier = smacish.Hyperband(min_budget=1, max_budget=27, eta=3)
    opt = smacish.Optimizer(cs, intensifier, selector=sel, seed=seed)
    regrets: List[float] = []
    overhead = 0.0
    n = 0
    while len(regrets) < rounds:
        t = time.perf_counter()
        info = opt.ask()
        overhead += time.perf_counter() - t
        cost = task.target(dict(info.config), info.budget, info.seed)
        t = time.perf_counter()
        opt.tell(info, cost)
        overhead += time.perf_counter() - t
        n += 1
        while opt.runhistory.budget_spent >= ROUND_BUDGET * (len(regrets) + 1) and len(regrets) < rounds:
            regrets.append(task.regret(dict(opt.incumbent)))
    return regrets, n, overhead


def summarise(values: np.ndarray) -> str:
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return f"{med:.4g} [{q1:.3g}, {q3:.3g}]"


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="*", default=["branin-hi", "hartmann6-hi", "sgd-digits"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4, help="Hyperband rounds of budget per run")
    parser.add_argument("--selectors", nargs="*", default=["random", "rf"],
                        help="names from smacish.optimizer.SELECTORS, e.g. random rf kde")
    parser.add_argument("--rf-options", type=json.loads, default={},
                        help="RandomForestSelector keyword arguments (JSON)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    from scipy.stats import wilcoxon

    print(f"Hyperband(1, 27, eta=3), {args.seeds} seeds, {args.rounds} rounds of {ROUND_BUDGET:g} budget; "
          f"rf options {args.rf_options or 'default'}")
    print("regret of the incumbent after each round: median [25%, 75%] over seeds")
    for name in args.problems:
        task = get_task(name)
        results: Dict[str, np.ndarray] = {}
        for selector in args.selectors:
            runs = [run(task, selector, seed, args.rounds, args.rf_options) for seed in range(args.seeds)]
            results[selector] = np.array([r[0] for r in runs])
            trials = np.mean([r[1] for r in runs])
            ms = 1e3 * np.sum([r[2] for r in runs]) / np.sum([r[1] for r in runs])
            cells = "  ".join(summarise(results[selector][:, k]) for k in range(args.rounds))
            print(f"{name:13} {selector:7} {cells}   ({trials:.0f} trials, {ms:.2f} ms/trial)")
        for other in [s for s in results if s != "rf"] if "rf" in results else []:
            rf, rnd = results["rf"][:, -1], results[other][:, -1]
            wins = int(np.sum(rf < rnd))
            ties = int(np.sum(rf == rnd))
            p = wilcoxon(rf, rnd, alternative="less").pvalue if np.any(rf != rnd) else 1.0
            print(f"{name:13} rf lower than {other} on {wins}/{len(rf)} seeds ({ties} ties), "
                  f"one-sided Wilcoxon p = {p:.3g}")


if __name__ == "__main__":
    main()
