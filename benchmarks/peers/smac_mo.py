"""SMAC3 2.x on two objectives: ``Scenario(objectives=[...])`` with the multi-fidelity facade
(random forest + Hyperband), whose successive halving promotes by non-dominated sorting with a
crowding-distance tie-break.

``smac-mf-parego``: with ``multi_objective_algorithm=ParEGO(scenario)``, as SMAC3's
multi-objective example does (a random Tchebycheff scalarisation per iteration for the model).
``smac-mf-mean``: the facade's own default, ``MeanAggregationStrategy`` (the model sees the
mean of the normalised objectives).
"""

from __future__ import annotations

import logging
import tempfile
from typing import Any, List, Optional, Sequence

from benchmarks.problems import to_configspace
from benchmarks.record import Job

LIBRARY = "smac"
VENV = "smac"


def variants() -> List[str]:
    return ["smac-mf-parego", "smac-mf-mean"]


def versions() -> dict:
    from importlib.metadata import version

    return {"smac": version("smac"), "ConfigSpace": version("ConfigSpace"), "pyrfr": version("pyrfr")}


class SmacMO:
    def __init__(self, variant: str, problem: Any, seed: int, n_trials: Optional[int]):
        from smac import MultiFidelityFacade, Scenario
        from smac.multi_objective.parego import ParEGO
        from smac.runhistory.dataclasses import TrialValue

        if variant not in variants():
            raise ValueError(f"variant is {variant!r}, but must be one of {variants()}")
        self.TrialValue = TrialValue
        scenario = Scenario(
            to_configspace(problem.params, seed=seed), deterministic=True, objectives=list(problem.objectives),
            # the evaluations the budget allows, as a user would set it (SMAC3 sizes its initial design from it)
            n_trials=n_trials if n_trials is not None else 10**9,
            min_budget=problem.min_budget, max_budget=problem.max_budget, seed=int(seed),
            output_directory=tempfile.mkdtemp(prefix="bench-smac-mo-"),
        )
        mo = ParEGO(scenario) if variant == "smac-mf-parego" else None  # None: the facade's default
        # incumbent_selection="highest_budget": with the default ("highest_observed_budget") a multi-objective
        # run fails an assertion in update_incumbents (SMAC3 issue #1050, PR #1129; the maintainers' workaround)
        intensifier = MultiFidelityFacade.get_intensifier(scenario, eta=int(problem.eta),
                                                          incumbent_selection="highest_budget")
        self.smac = MultiFidelityFacade(scenario, None, intensifier=intensifier, multi_objective_algorithm=mo,
                                        overwrite=True, logging_level=logging.ERROR)

    def ask(self) -> Job:
        info = self.smac.ask()
        return Job(dict(info.config), float(info.budget), float(info.budget), info)

    def tell(self, job: Job, costs: Sequence[float]) -> None:
        self.smac.tell(job.handle, self.TrialValue(cost=[float(c) for c in costs]), save=False)


def make_mo(variant: str, problem: Any, seed: int, n_trials: Optional[int] = None, units: Optional[float] = None) -> SmacMO:
    return SmacMO(variant, problem, seed, n_trials)
