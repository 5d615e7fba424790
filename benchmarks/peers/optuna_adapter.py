"""Optuna: TPE or random sampling with the HyperbandPruner, through ask/tell.

A trial is one configuration trained rung by rung (budgets ``min_budget * eta**k``): after each
rung it reports its cost and asks the pruner whether to go on. Optuna's trials *resume*
training, so an evaluation on rung k is charged ``budget_k - budget_{k-1}``, not ``budget_k``
(the other libraries here restart each evaluation from scratch and are charged the full budget).
``optuna-tpe-hb-retrain`` is the same study charged the full budget of every rung, as if each
rung retrained from scratch: the comparison without the advantage of continued training.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Deque, List, Optional, Tuple

from benchmarks.problems import Problem
from benchmarks.record import Job

LIBRARY = "optuna"
VENV = "optuna"


def variants() -> List[str]:
    return ["optuna-tpe-hb", "optuna-tpe-hb-retrain", "optuna-random-hb"]


def versions() -> dict:
    import optuna

    return {"optuna": optuna.__version__}


def rungs(problem: Problem) -> List[float]:
    out, b = [], float(problem.max_budget)
    while b >= problem.min_budget * (1 - 1e-9):
        out.append(b)
        b /= problem.eta
    return sorted(out)


def rung_charge(rungs: List[float], k: int, retrain: bool) -> float:
    """The budget rung ``k`` costs: the increment over the previous rung when the trial goes
    on training (Optuna's way), the whole rung when it retrains.

    >>> rung_charge([1.0, 3.0, 9.0], 2, retrain=False), rung_charge([1.0, 3.0, 9.0], 2, retrain=True)
    (6.0, 9.0)
    """
    return rungs[k] if retrain or k == 0 else rungs[k] - rungs[k - 1]


class OptunaAskTell:
    def __init__(self, variant: str, problem: Problem, seed: int):
        import optuna
        from optuna.distributions import FloatDistribution, IntDistribution

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = (optuna.samplers.TPESampler(seed=seed) if variant.startswith("optuna-tpe-hb")
                   else optuna.samplers.RandomSampler(seed=seed))
        self.retrain = variant.endswith("-retrain")
        self.rungs = rungs(problem)
        pruner = optuna.pruners.HyperbandPruner(
            min_resource=int(self.rungs[0]), max_resource=int(self.rungs[-1]), reduction_factor=int(problem.eta))
        # a fixed study name: the HyperbandPruner assigns brackets from it (reproducible runs)
        self.study = optuna.create_study(sampler=sampler, pruner=pruner, direction="minimize",
                                         study_name=f"bench-{problem.name}-{seed}")
        self.dists = {
            p.name: (IntDistribution(int(p.low), int(p.high), log=p.log) if p.kind == "int"
                     else FloatDistribution(p.low, p.high, log=p.log))
            for p in problem.params
        }
        self.resume: Deque[Tuple[Any, int]] = deque()
        self.TrialState = optuna.trial.TrialState

    def ask(self) -> Job:
        if self.resume:
            trial, k = self.resume.popleft()
        else:
            trial, k = self.study.ask(self.dists), 0
        return Job(dict(trial.params), self.rungs[k], rung_charge(self.rungs, k, self.retrain), (trial, k))

    def tell(self, job: Job, cost: float) -> None:
        trial, k = job.handle
        trial.report(cost, step=int(round(self.rungs[k])))
        if k == len(self.rungs) - 1:
            self.study.tell(trial, cost)
        elif trial.should_prune():
            self.study.tell(trial, state=self.TrialState.PRUNED)
        else:
            self.resume.append((trial, k + 1))


def make(variant: str, problem: Problem, seed: int, n_workers: int = 1, n_trials: Optional[int] = None) -> OptunaAskTell:
    return OptunaAskTell(variant, problem, seed)
