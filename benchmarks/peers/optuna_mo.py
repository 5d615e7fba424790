"""Optuna on two objectives, as its users set it up: ``create_study(directions=[...])`` with a
sampler, every trial evaluated at the highest budget (Optuna has no pruning for several
objectives: ``Trial.report`` refuses multi-objective studies).

``optuna-tpe``: the sampler ``create_study`` uses when none is given (``TPESampler``; on several
objectives it is MOTPE, Ozaki et al. 2020). ``optuna-nsga2``: ``NSGAIISampler`` with its
defaults (population 50), Optuna's evolutionary multi-objective sampler.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from benchmarks.record import Job

LIBRARY = "optuna"
VENV = "optuna"


def variants() -> List[str]:
    return ["optuna-tpe", "optuna-nsga2"]


def versions() -> dict:
    import optuna

    return {"optuna": optuna.__version__}


class OptunaMO:
    def __init__(self, variant: str, problem: Any, seed: int):
        import optuna
        from optuna.distributions import FloatDistribution, IntDistribution

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if variant == "optuna-nsga2":
            sampler = optuna.samplers.NSGAIISampler(seed=seed)
        elif variant == "optuna-tpe":
            sampler = optuna.samplers.TPESampler(seed=seed)
        else:
            raise ValueError(f"variant is {variant!r}, but must be one of {variants()}")
        self.study = optuna.create_study(directions=["minimize"] * len(problem.objectives), sampler=sampler,
                                         study_name=f"bench-mo-{problem.name}-{seed}")
        self.dists = {
            p.name: (IntDistribution(int(p.low), int(p.high), log=p.log) if p.kind == "int"
                     else FloatDistribution(p.low, p.high, log=p.log))
            for p in problem.params
        }
        self.max_budget = float(problem.max_budget)

    def ask(self) -> Job:
        trial = self.study.ask(self.dists)
        return Job(dict(trial.params), self.max_budget, self.max_budget, trial)

    def tell(self, job: Job, costs: Sequence[float]) -> None:
        self.study.tell(job.handle, [float(c) for c in costs])


def make_mo(variant: str, problem: Any, seed: int, n_trials: Optional[int] = None, units: Optional[float] = None) -> OptunaMO:
    return OptunaMO(variant, problem, seed)
