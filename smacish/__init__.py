"""smacish: multi-fidelity hyperparameter optimisation with ask/tell, run on Dask.

>>> import smacish
>>> from ConfigSpace import ConfigurationSpace
>>> cs = ConfigurationSpace({"lr": (1e-4, 1e-1)}, seed=0)
>>> opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=27), seed=1)
>>> best = opt.optimize(lambda config, budget: abs(config["lr"] - 0.01) + 1 / budget, n_trials=50)
>>> len(opt.runhistory)
50
"""

import logging as _logging

from smacish.intensifiers import Hyperband, ParallelScheduler, SuccessiveHalving
from smacish.optimizer import Optimizer
from smacish.runhistory import Incumbent, RunHistory
from smacish.selection import ConfigSelector, RandomForestSelector, RandomSelector
from smacish.trajectory import Trajectory, TrajectoryEntry
from smacish.trial import StatusType, TrialInfo, TrialInfoIntent, TrialValue, WaitForResults

__version__ = "0.1.0"

# Silent unless the application configures logging: one INFO line per finished trial.
_logging.getLogger("smacish").addHandler(_logging.NullHandler())

__all__ = [
    "ConfigSelector",
    "Hyperband",
    "Incumbent",
    "Optimizer",
    "ParallelScheduler",
    "RandomForestSelector",
    "RandomSelector",
    "RunHistory",
    "StatusType",
    "SuccessiveHalving",
    "Trajectory",
    "TrajectoryEntry",
    "TrialInfo",
    "TrialInfoIntent",
    "TrialValue",
    "WaitForResults",
    "__version__",
]
