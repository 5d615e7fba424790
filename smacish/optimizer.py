"""Optimizer: ask / tell / optimize; ties the space, the intensifier, the selector, the RunHistory
and the trajectory together."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Union

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from smacish._io import PathLike, config_key, dumps
from smacish.intensifiers.parallel_scheduler import ParallelScheduler
from smacish.runhistory import RunHistory
from smacish.selection import ConfigSelector, RandomSelector
from smacish.trajectory import Trajectory
from smacish.trial import StatusType, TrialInfo, TrialInfoIntent, TrialValue, WaitForResults

logger = logging.getLogger("smacish")

SELECTORS: Dict[str, Callable[[ConfigurationSpace, int], ConfigSelector]] = {
    "random": lambda space, seed: RandomSelector(space, seed=seed),
}


class Optimizer:
    """Multi-fidelity hyperparameter optimisation with an ask/tell interface.

    >>> from ConfigSpace import ConfigurationSpace
    >>> import smacish
    >>> cs = ConfigurationSpace({"x": (-5.0, 5.0)})
    >>> opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9), seed=0)
    >>> info = opt.ask()
    >>> info.budget, info.config_id
    (1.0, (0, 0, 0))
    >>> opt.tell(info, (info.config["x"] - 1) ** 2)
    >>> incumbent = opt.optimize(lambda config, budget: (config["x"] - 1) ** 2, n_trials=30)
    >>> len(opt.runhistory)
    31

    Args:
        configspace: the search space.
        intensifier: a :class:`SuccessiveHalving` or :class:`Hyperband` (new for each Optimizer).
        selector: ``"random"`` or an object with ``propose(runhistory, pending)``.
        seed: seeds every random choice; the same seed and results give the same asks.
        n_workers: the concurrency ``ask`` plans for when called without ``n_workers``.
        output_dir: where the RunHistory, the trial log and the trajectory are written.
        crash_cost: the cost a crashed trial counts with.
    """

    def __init__(
        self,
        configspace: ConfigurationSpace,
        intensifier: ParallelScheduler,
        selector: Union[str, ConfigSelector] = "random",
        seed: int = 0,
        n_workers: int = 1,
        output_dir: Optional[PathLike] = None,
        crash_cost: float = math.inf,
    ):
        errors = []
        if not isinstance(configspace, ConfigurationSpace):
            errors.append(f"configspace must be a ConfigSpace ConfigurationSpace, got {type(configspace).__name__}")
        elif len(list(configspace.keys())) == 0:
            errors.append("configspace has no hyperparameters; add at least one")
        if not isinstance(intensifier, ParallelScheduler):
            errors.append(
                f"intensifier must be a SuccessiveHalving or Hyperband, got {type(intensifier).__name__}"
            )
        if isinstance(selector, str) and selector not in SELECTORS:
            errors.append(f"selector is {selector!r}, but must be one of {sorted(SELECTORS)} or an object with propose()")
        elif not isinstance(selector, str) and not callable(getattr(selector, "propose", None)):
            errors.append(f"selector {selector!r} has no propose(runhistory, pending) method")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            errors.append(f"seed is {seed!r}, but must be an int")
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            errors.append(f"n_workers is {n_workers!r}, but must be an int >= 1")
        if errors:
            raise ValueError("; ".join(errors))

        self.configspace = configspace
        self.seed = int(seed)
        self.n_workers = n_workers
        self.output_dir = Path(output_dir) if output_dir is not None else None
        if self.output_dir is not None:
            self._prepare_output_dir()
        selector_seed, scheduler_seed = np.random.SeedSequence(self.seed).generate_state(2)
        self.selector = SELECTORS[selector](configspace, int(selector_seed)) if isinstance(selector, str) else selector
        self.runhistory = RunHistory(configspace, crash_cost=crash_cost)
        self.intensifier = intensifier
        intensifier.bind(self.runhistory, self.selector, int(scheduler_seed))
        self.trajectory = Trajectory(path=self.output_dir / "trajectory.jsonl" if self.output_dir else None)
        self._pending: Dict[tuple, TrialInfo] = {}

    def _prepare_output_dir(self) -> None:
        out = self.output_dir
        if out.exists() and any((out / name).exists() for name in ("runhistory.json", "trials.jsonl")):
            raise FileExistsError(
                f"{out} already holds a run; choose a new output_dir so nothing is overwritten"
            )
        out.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ ask / tell
    def ask(self, n_workers: Optional[int] = None) -> TrialInfo:
        """The next trial to run. Never blocks: raises :class:`WaitForResults` when nothing can
        run until pending trials are told (every one of ``n_workers`` instances waits)."""
        intent, info = self.intensifier.get_next_trial(n_workers or self.n_workers)
        if intent is not TrialInfoIntent.RUN:
            raise WaitForResults(len(self._pending))
        self._pending[info.key] = info
        self.runhistory.add_running(info)
        return info

    def tell(self, info: TrialInfo, value: Union[TrialValue, float]) -> None:
        """Report the result of an asked trial: a :class:`TrialValue` or a bare cost."""
        asked = self._pending.get(info.key) if isinstance(info, TrialInfo) else None
        if asked is None or config_key(asked.config) != config_key(info.config):
            if isinstance(info, TrialInfo) and info in self.runhistory:
                raise ValueError(f"trial {info.key} was told already; each trial is told once")
            raise ValueError(f"trial {getattr(info, 'key', info)!r} was never asked; tell only trials from ask()")
        if not isinstance(value, TrialValue):
            value = TrialValue(cost=value)
        self.runhistory.add(asked, value)
        del self._pending[info.key]
        self.intensifier.process_result(asked, value)
        if self.output_dir is not None:
            self._log_trial(asked, value)
        entry = self.trajectory.update(self.runhistory, self.intensifier.incumbent_selection, self.intensifier.max_budget)
        if logger.isEnabledFor(logging.INFO):
            best = self.trajectory[-1].cost if len(self.trajectory) else math.nan
            logger.info(
                "trial %d: config_id=%s budget=%s cost=%.6g status=%s; incumbent cost %.6g%s",
                len(self.runhistory), asked.config_id, asked.budget, value.cost, value.status.value,
                best, " (new)" if entry else "",
            )

    def _log_trial(self, info: TrialInfo, value: TrialValue) -> None:
        row = {
            "config": self.runhistory.config_id(info.config), "config_id": info.config_id,
            "budget": info.budget, "instance": info.instance, "seed": info.seed,
            "cost": value.cost, "time": value.time, "status": value.status.value,
            "starttime": value.starttime, "endtime": value.endtime,
            "additional_info": value.additional_info,
        }
        with open(self.output_dir / "trials.jsonl", "a", encoding="utf-8") as fh:
            fh.write(dumps(row) + "\n")

    # ------------------------------------------------------------------ reading
    @property
    def incumbent(self) -> Optional[Configuration]:
        """The best configuration so far under the intensifier's ``incumbent_selection``."""
        return self.runhistory.incumbent(self.intensifier.incumbent_selection, self.intensifier.max_budget)

    @property
    def pending(self) -> list:
        """Trials asked and not yet told."""
        return list(self._pending.values())

    def save(self) -> None:
        """Write the RunHistory to ``output_dir/runhistory.json`` (atomically)."""
        if self.output_dir is None:
            raise ValueError("this Optimizer has no output_dir; pass output_dir= to save")
        self.runhistory.save(self.output_dir / "runhistory.json")

    # ------------------------------------------------------------------ the loop
    def optimize(
        self,
        target: Callable[..., Any],
        n_trials: Optional[int] = None,
        walltime_limit: Optional[float] = None,
        budget_limit: Optional[float] = None,
        client: Any = None,
        n_workers: Optional[int] = None,
        memory_limit: Optional[float] = None,
        max_retries: int = 1,
    ) -> Optional[Configuration]:
        """Run trials until ``n_trials``, ``walltime_limit`` (s) or ``budget_limit`` (sum of
        budgets) is reached, whichever comes first, and return the incumbent.

        ``target(config, budget=..., seed=..., instance=...)`` gets the keyword arguments its
        signature accepts and returns a cost or a dict with ``"cost"`` (or ``"loss"``). With a
        ``client`` (any ``distributed.Client``) or ``n_workers > 1`` the trials run on Dask;
        otherwise in this process. ``memory_limit`` is in MB per trial.
        """
        from smacish.runners import Limits, run_dask, run_serial

        limits = Limits(n_trials, walltime_limit, budget_limit)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries is {max_retries!r}, but must be an int >= 0")
        if memory_limit is not None and not (isinstance(memory_limit, (int, float)) and memory_limit > 0):
            raise ValueError(f"memory_limit is {memory_limit!r}, but must be None or a number of MB > 0")
        if not callable(target):
            raise TypeError(f"target must be callable, got {type(target).__name__}")
        try:
            if client is not None or (n_workers or 1) > 1:
                run_dask(self, target, limits, client=client, n_workers=n_workers,
                         memory_limit=memory_limit, max_retries=max_retries)
            else:
                run_serial(self, target, limits, memory_limit=memory_limit, max_retries=max_retries)
        finally:
            if self.output_dir is not None:
                self.save()
        return self.incumbent

    def __repr__(self) -> str:
        inc = self.runhistory.incumbent_entry(self.intensifier.incumbent_selection, self.intensifier.max_budget)
        best = f", incumbent cost {inc.cost:.6g} on budget {inc.budget:g}" if inc else ""
        return f"Optimizer({self.intensifier!r}, {len(self.runhistory)} trials{best})"
