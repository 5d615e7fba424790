"""The vocabulary every part of smacish speaks: what to run, what came back, what to do next."""

from __future__ import annotations

import enum
import math
import numbers
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Tuple, Union

import numpy as np
from ConfigSpace import Configuration

ConfigId = Tuple[int, int, int]
"""HpBandSter's ``(iteration, budget index, running index)`` of a configuration."""


class StatusType(enum.Enum):
    """How a trial ended (or that it is still running)."""

    SUCCESS = "SUCCESS"
    CRASHED = "CRASHED"
    TIMEOUT = "TIMEOUT"
    MEMORYOUT = "MEMORYOUT"
    ABORTED = "ABORTED"
    RUNNING = "RUNNING"


class TrialInfoIntent(enum.Enum):
    """What the scheduler says: RUN the trial, or WAIT for results."""

    RUN = "RUN"
    WAIT = "WAIT"


class WaitForResults(RuntimeError):
    """Raised by ``Optimizer.ask`` when nothing can run until pending trials are told."""

    def __init__(self, n_pending: int):
        self.n_pending = n_pending
        if n_pending:
            message = (f"nothing can run until a result arrives: {n_pending} trial(s) pending "
                       "(opt.pending). Tell their results, or ask with a larger n_workers. A trial "
                       "that will never be told (its worker was interrupted) is put back with "
                       "opt.tell(info, TrialValue(cost=math.inf, status=StatusType.ABORTED)): the "
                       "next ask hands it out again.")
        else:
            message = ("nothing is left to run: a full cycle of brackets found every configuration "
                       "already evaluated on its budgets (the search space is used up)")
        super().__init__(message)


@dataclass(frozen=True)
class TrialInfo:
    """What to run: a configuration on a budget, instance and seed.

    ``config_id`` is ``(iteration, budget index, running index)``: it names the configuration
    inside its iteration and survives promotion, so ``(config_id, budget)`` names the trial.
    ``cutoff`` is the time limit in seconds for this trial (None: no limit).

    >>> from ConfigSpace import ConfigurationSpace
    >>> cs = ConfigurationSpace({"x": (0.0, 1.0)}, seed=1)
    >>> info = TrialInfo(cs.sample_configuration(), budget=3.0, seed=7, config_id=(0, 0, 2))
    >>> info.budget, info.config_id
    (3.0, (0, 0, 2))
    """

    config: Configuration
    budget: Optional[float] = None
    instance: Optional[str] = None
    seed: int = 0
    config_id: Optional[ConfigId] = None
    cutoff: Optional[float] = None

    def __post_init__(self) -> None:
        if not isinstance(self.config, Configuration):
            raise TypeError(
                f"config must be a ConfigSpace Configuration, got {type(self.config).__name__}"
            )
        if type(self.budget) is float and 0 < self.budget < math.inf:  # the usual case, checked fast
            pass
        elif self.budget is not None:
            # numbers.Real covers int, float and numpy scalars; not str or bool
            if isinstance(self.budget, bool) or not isinstance(self.budget, numbers.Real):
                raise TypeError(f"budget must be a number (int or float) or None, got {self.budget!r}")
            if not math.isfinite(self.budget) or self.budget <= 0:
                raise ValueError(f"budget must be a finite number > 0, got {self.budget!r}")
            object.__setattr__(self, "budget", float(self.budget))
        if self.instance is not None and not isinstance(self.instance, str):
            raise TypeError(f"instance must be a str or None, got {self.instance!r}")
        if type(self.seed) is not int:
            if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
                raise TypeError(f"seed must be an int, got {self.seed!r}")
            object.__setattr__(self, "seed", int(self.seed))  # numpy integers -> int
        if self.cutoff is not None:
            if isinstance(self.cutoff, bool) or not isinstance(self.cutoff, numbers.Real) or not self.cutoff > 0:
                raise ValueError(f"cutoff must be None or a number of seconds > 0, got {self.cutoff!r}")
            object.__setattr__(self, "cutoff", float(self.cutoff))
        if self.config_id is not None:
            cid = tuple(map(int, self.config_id))
            if len(cid) != 3:
                raise ValueError(
                    "config_id must be an (iteration, budget index, running index) triplet, "
                    f"got {self.config_id!r}"
                )
            object.__setattr__(self, "config_id", cid)

    @property
    def key(self) -> tuple:
        """``(config_id, instance, seed, budget)``: names this trial within a run, cheap to hash."""
        return (self.config_id, self.instance, self.seed, self.budget)


@dataclass(frozen=True)
class TrialValue:
    """What came back from a trial: its cost, how long it took, how it ended.

    With several objectives (``Optimizer(objectives=[...])``) ``cost`` is a tuple, one cost
    per objective in their order.

    >>> TrialValue(cost=0.25, time=1.5).status
    <StatusType.SUCCESS: 'SUCCESS'>
    >>> TrialValue(cost=[0.1, 20]).cost
    (0.1, 20.0)
    """

    cost: Union[float, Tuple[float, ...]]
    time: float = 0.0
    status: StatusType = StatusType.SUCCESS
    starttime: float = 0.0
    endtime: float = 0.0
    additional_info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if type(self.status) is not StatusType:
            try:
                object.__setattr__(self, "status", StatusType(self.status))
            except ValueError:
                accepted = ", ".join(s.value for s in StatusType)
                raise ValueError(
                    f"status must be a StatusType ({accepted}), got {self.status!r}"
                ) from None
        if type(self.cost) is float or not isinstance(self.cost, (tuple, list, np.ndarray)):
            cost = _as_float("cost", self.cost)  # one objective: the usual case, checked without a loop
            object.__setattr__(self, "cost", cost)
            nan, finite = math.isnan(cost), math.isfinite(cost)
        else:  # several objectives
            costs = tuple(_as_float("cost", c) for c in self.cost)
            if not costs:
                raise ValueError("cost is an empty sequence; give one cost per objective")
            object.__setattr__(self, "cost", costs)
            nan, finite = any(map(math.isnan, costs)), all(map(math.isfinite, costs))
        object.__setattr__(self, "time", _as_float("time", self.time))
        object.__setattr__(self, "starttime", _as_float("starttime", self.starttime))
        object.__setattr__(self, "endtime", _as_float("endtime", self.endtime))
        if nan:
            raise ValueError(
                f"cost is {self.cost!r} with status {self.status.value}: NaN is no cost; use a number (or inf) instead"
            )
        if self.status is StatusType.SUCCESS and not finite:
            raise ValueError(
                f"cost is {self.cost!r} with status SUCCESS; a successful trial needs a finite "
                "cost. Report a failed trial with status=StatusType.CRASHED."
            )
        if not (self.time >= 0):
            raise ValueError(f"time must be >= 0 seconds, got {self.time!r}")
        if not isinstance(self.additional_info, dict):
            raise TypeError(
                f"additional_info must be a dict, got {type(self.additional_info).__name__}"
            )


class TrialContext:
    """What a target that has a ``trial`` parameter gets: where to keep its checkpoint and what
    it may continue from.

    - ``checkpoint_dir``: a directory private to this configuration (its ``config_id``), kept
      across its budgets; empty when ``previous_budget`` is None.
    - ``previous_budget``: the largest budget this configuration already finished successfully,
      whose checkpoint the directory holds, or None (train from scratch).
    - ``report(step, cost)``: an intermediate point of the learning curve (kept in the trial's
      ``additional_info["reports"]``).
    - ``continued_from``: set it (or return ``{"cost": ..., "continued_from": budget}``) when the
      trial continued from a checkpoint: the trial is then charged only the increment.

    >>> import tempfile
    >>> trial = TrialContext((0, 0, 1), 9.0, tempfile.mkdtemp(), previous_budget=3.0)
    >>> trial.report(4, 0.5)
    >>> trial.continued_from = trial.previous_budget
    >>> trial.result_info()
    {'reports': [[4.0, 0.5]], 'continued_from': 3.0}
    """

    def __init__(self, config_id: Optional[ConfigId], budget: Optional[float], checkpoint_dir: "os.PathLike | str",
                 previous_budget: Optional[float] = None, holder: Optional[str] = None):
        self.config_id = config_id
        self.budget = budget
        self.checkpoint_dir = Path(checkpoint_dir)
        self.previous_budget = previous_budget
        self.holder = holder  # the Dask worker whose local disk holds the checkpoint (None: shared)
        self.continued_from: Optional[float] = None
        self.reports: List[List[float]] = []

    def report(self, step: float, cost: float) -> None:
        """Record the cost after ``step`` (an epoch, a number of samples) of this trial."""
        step, cost = _as_float("step", step), _as_float("cost", cost)
        if not (math.isfinite(step) and math.isfinite(cost)):
            raise ValueError(f"trial.report({step!r}, {cost!r}): step and cost must be finite numbers")
        self.reports.append([step, cost])

    def prepare(self, here: Optional[str] = None) -> None:
        """Make the directory ready where the trial runs (``here``: the Dask worker's address).

        Run away from the worker that holds a local checkpoint, or with nothing to continue
        from, the trial starts from scratch in an emptied directory."""
        if self.holder is not None and here != self.holder:
            self.previous_budget = None
        if self.previous_budget is None and self.checkpoint_dir.exists():
            shutil.rmtree(self.checkpoint_dir)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)

    def result_info(self) -> dict:
        """What the trial's ``additional_info`` gets from this context."""
        info: dict = {}
        if self.reports:
            info["reports"] = self.reports
        if self.continued_from is not None:
            info["continued_from"] = self.continued_from
        return info

    def __repr__(self) -> str:
        return (f"TrialContext(config_id={self.config_id}, budget={self.budget}, "
                f"previous_budget={self.previous_budget}, checkpoint_dir={str(self.checkpoint_dir)!r})")


def check_continued(info: TrialInfo, additional_info: dict) -> Optional[str]:
    """Why ``additional_info["continued_from"]`` is wrong for ``info``, or None if it is fine
    (absent, None, or a budget > 0 below the trial's own)."""
    if additional_info.get("continued_from") is None:
        return None
    value = additional_info["continued_from"]
    if info.budget is None:
        return (f"continued_from={value!r}, but trial {info.key} has no budget (instance-based "
                "budgets cannot continue); leave continued_from out")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < info.budget:
        return (f"continued_from={value!r}, but it must be the budget the trial continued from: a "
                f"number > 0 and below the trial's budget {info.budget:g} (None: trained from scratch)")
    return None


def charged_budget(info: TrialInfo, value: TrialValue) -> float:
    """The budget a finished trial spent: its budget, less ``continued_from`` when it continued
    from a checkpoint; 1 for a trial without a budget.

    >>> from ConfigSpace import ConfigurationSpace
    >>> info = TrialInfo(ConfigurationSpace({"x": (0.0, 1.0)}).get_default_configuration(), budget=9.0)
    >>> charged_budget(info, TrialValue(cost=0.1, additional_info={"continued_from": 3.0}))
    6.0
    """
    if info.budget is None:
        return 1.0
    previous = value.additional_info.get("continued_from")
    return info.budget - float(previous) if previous is not None else info.budget


def format_cost(cost: Union[float, Tuple[float, ...]], spec: str = ".6g") -> str:
    """A cost for people: ``0.25``, or ``(0.1, 20)`` with several objectives.

    >>> format_cost(0.25), format_cost((0.1, 20.0))
    ('0.25', '(0.1, 20)')
    """
    if isinstance(cost, tuple):
        return "(" + ", ".join(format(c, spec) for c in cost) + ")"
    return format(cost, spec)


def _as_float(name: str, value: Any) -> float:
    if type(value) is float:
        return value
    # numbers.Real covers int, float and numpy scalars; a str such as "0.5" is refused
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number (int or float), got {value!r}")
    return float(value)


def key_to_json(key: tuple) -> list:
    """A trial key ``(config_id, instance, seed, budget)`` as JSON-ready data."""
    cid, instance, seed, budget = key
    return [list(cid) if cid is not None else None, instance, seed, budget]


def key_from_json(data: list) -> tuple:
    """The trial key :func:`key_to_json` wrote."""
    cid, instance, seed, budget = data
    return (tuple(cid) if cid is not None else None, instance, seed, None if budget is None else float(budget))
