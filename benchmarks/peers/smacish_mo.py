"""smacish on two objectives: ``Optimizer(space, Hyperband(...), objectives=[...])``, its default
selector, through ask/tell (``TrialValue(cost=(f1, f2))``).

``smacish-mo``: the default (random-forest selector). ``smacish-mo-random``: random
configurations through the same multi-objective Hyperband (what the model adds).
``random-max-budget``: uniform random configurations, each at the highest budget (no library;
the floor every optimiser should beat).

Each run also stores what smacish reports as its front (``opt.incumbents``: costs, budget), so
that the benchmark can check it against the evaluations it recorded.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

import numpy as np

from benchmarks.problems import sample_uniform, to_configspace
from benchmarks.record import Job

LIBRARY = "smacish"
VENV = None
DEFAULT = "smacish-mo"


def variants() -> List[str]:
    return [DEFAULT, "smacish-mo-random", "random-max-budget"]


def versions() -> dict:
    from importlib.metadata import version

    return {"smacish": version("smacish"), "ConfigSpace": version("ConfigSpace")}


class SmacishMO:
    def __init__(self, variant: str, problem: Any, seed: int):
        import smacish

        kwargs = {"selector": "random"} if variant == "smacish-mo-random" else {}
        self.TrialValue = smacish.TrialValue
        self.opt = smacish.Optimizer(
            to_configspace(problem.params, seed=seed),
            smacish.Hyperband(min_budget=problem.min_budget, max_budget=problem.max_budget, eta=problem.eta),
            objectives=list(problem.objectives), seed=seed, **kwargs)

    def ask(self) -> Job:
        info = self.opt.ask()
        return Job(dict(info.config), float(info.budget), float(info.budget), info)

    def tell(self, job: Job, costs: Sequence[float]) -> None:
        self.opt.tell(job.handle, self.TrialValue(cost=tuple(float(c) for c in costs)))

    def reported(self) -> dict:
        """smacish's own front: ``opt.incumbents`` as plain data."""
        incs = self.opt.incumbents
        return {"costs": [[float(c) for c in inc.cost] for inc in incs],
                "budgets": [float(inc.budget) for inc in incs]}


class RandomMaxBudget:
    def __init__(self, problem: Any, seed: int):
        self.problem, self.rng = problem, np.random.default_rng(seed)

    def ask(self) -> Job:
        b = float(self.problem.max_budget)
        return Job(sample_uniform(self.problem.params, self.rng), b, b)

    def tell(self, job: Job, costs: Sequence[float]) -> None:
        pass


def make_mo(variant: str, problem: Any, seed: int, n_trials: Optional[int] = None, units: Optional[float] = None) -> Any:
    if variant == "random-max-budget":
        return RandomMaxBudget(problem, seed)
    if variant not in variants():
        raise ValueError(f"variant is {variant!r}, but must be one of {variants()}")
    return SmacishMO(variant, problem, seed)
