"""Plain random search: uniform configurations, each on the highest budget (numpy only)."""

from __future__ import annotations

from typing import Any, List, Optional

import numpy as np

from benchmarks.problems import Problem, sample_uniform
from benchmarks.record import Job

LIBRARY = None
VENV = None


def variants() -> List[str]:
    return ["random-search"]


def versions() -> dict:
    return {"numpy": np.__version__}


class RandomSearch:
    def __init__(self, problem: Problem, seed: int):
        self.problem = problem
        self.rng = np.random.default_rng(seed)

    def ask(self) -> Job:
        b = self.problem.max_budget
        return Job(sample_uniform(self.problem.params, self.rng), b, b)

    def tell(self, job: Job, cost: float) -> None:
        pass


def make(variant: str, problem: Problem, seed: int, n_workers: int = 1, n_trials: Optional[int] = None) -> Any:
    return RandomSearch(problem, seed)
