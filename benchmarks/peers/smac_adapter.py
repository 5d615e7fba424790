"""SMAC3 2.x through ask/tell: the multi-fidelity facade (random forest + Hyperband, BOHB-like)
and the Hyperband facade (random configurations + Hyperband)."""

from __future__ import annotations

import logging
import tempfile
from typing import List, Optional

from benchmarks.problems import Problem, to_configspace
from benchmarks.record import Job

LIBRARY = "smac"
VENV = "smac"


def variants() -> List[str]:
    return ["smac-mf", "smac-hb"]


def versions() -> dict:
    from importlib.metadata import version

    return {"smac": version("smac"), "ConfigSpace": version("ConfigSpace"), "pyrfr": version("pyrfr")}


class SmacAskTell:
    def __init__(self, variant: str, problem: Problem, seed: int, n_trials: Optional[int] = None):
        from smac import HyperbandFacade, MultiFidelityFacade, Scenario
        from smac.runhistory.dataclasses import TrialValue

        self.TrialValue = TrialValue
        facade = MultiFidelityFacade if variant == "smac-mf" else HyperbandFacade
        scenario = Scenario(
            to_configspace(problem.params, seed=seed), deterministic=True,
            # the evaluations the budget allows, as a user would set it: SMAC3 sizes its initial
            # design from n_trials (with 10**9 it would be 10 x dim random configurations)
            n_trials=n_trials if n_trials is not None else 10**9,
            min_budget=problem.min_budget, max_budget=problem.max_budget, seed=int(seed),
            output_directory=tempfile.mkdtemp(prefix="bench-smac-"),
        )
        intensifier = facade.get_intensifier(scenario, eta=int(problem.eta))
        self.smac = facade(scenario, None, intensifier=intensifier, overwrite=True, logging_level=logging.ERROR)

    def ask(self) -> Job:
        info = self.smac.ask()
        return Job(dict(info.config), float(info.budget), float(info.budget), info)

    def tell(self, job: Job, cost: float) -> None:
        self.smac.tell(job.handle, self.TrialValue(cost=float(cost)), save=False)


def make(variant: str, problem: Problem, seed: int, n_workers: int = 1, n_trials: Optional[int] = None) -> SmacAskTell:
    return SmacAskTell(variant, problem, seed, n_trials)
