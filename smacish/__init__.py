"""smacish: multi-fidelity hyperparameter optimisation with ask/tell, run on Dask.

>>> import smacish
>>> from ConfigSpace import ConfigurationSpace
>>> cs = ConfigurationSpace({"lr": (1e-4, 1e-1)}, seed=0)
>>> opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=27), seed=1)
>>> best = opt.optimize(lambda config, budget: abs(config["lr"] - 0.01) + 1 / budget, n_trials=50)
>>> len(opt.runhistory)
50
"""

from smacish._checkpoints import Checkpoints
from smacish._clock import RunClock
from smacish._failures import TargetFailedError
from smacish._lock import RunLockedError
from smacish._stats import RunStats
from smacish.intensifiers import Hyperband, ParallelScheduler, SuccessiveHalving
from smacish.optimizer import Optimizer
from smacish.runhistory import Incumbent, RunHistory
from smacish.selection import ConfigSelector, KDESelector, RandomForestSelector, RandomSelector
from smacish.trajectory import Trajectory, TrajectoryEntry
from smacish.trial import StatusType, TrialContext, TrialInfo, TrialInfoIntent, TrialValue, WaitForResults

__version__ = "0.1.0"

# No NullHandler on the "smacish" logger, on purpose: until the application configures logging,
# Python's last-resort handler prints WARNING and above (failed trials) to stderr, and only those.

__all__ = [
    "Checkpoints",
    "ConfigSelector",
    "Hyperband",
    "Incumbent",
    "Optimizer",
    "ParallelScheduler",
    "KDESelector",
    "RandomForestSelector",
    "RandomSelector",
    "RunClock",
    "RunHistory",
    "StatusType",
    "SuccessiveHalving",
    "RunLockedError",
    "RunStats",
    "TargetFailedError",
    "Trajectory",
    "TrajectoryEntry",
    "TrialContext",
    "TrialInfo",
    "TrialInfoIntent",
    "TrialValue",
    "WaitForResults",
    "__version__",
]
