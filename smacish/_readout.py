"""What a run shows, read off the Optimizer's public state: the incumbent (or the Pareto front),
the run's counters and how the Optimizer prints itself. The :class:`~smacish.Optimizer`
inherits it; nothing here changes the run."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

from ConfigSpace import Configuration

from smacish import _display
from smacish._stats import RunStats, finished_by_status
from smacish.runhistory import Incumbent


class Readout:
    """The reading side of an :class:`~smacish.Optimizer` (see there): built on its public
    ``runhistory``, ``intensifier``, ``trajectory``, ``clock``, ``pending`` and ``to_ask_again``."""

    @property
    def incumbent(self) -> Optional[Configuration]:
        """The best configuration so far under the intensifier's ``incumbent_selection``
        (with several objectives there is none: see :attr:`incumbents`)."""
        return self.runhistory.incumbent(self.intensifier.incumbent_selection, self.intensifier.max_budget)

    @property
    def incumbents(self) -> List[Incumbent]:
        """The Pareto front so far, under the intensifier's ``incumbent_selection``: each
        configuration with its id, the budget it was judged on and its costs, by first cost.
        With one objective, the incumbent alone (or nothing).

        >>> from ConfigSpace import ConfigurationSpace
        >>> import smacish
        >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}, seed=1),
        ...                         smacish.SuccessiveHalving(min_budget=1, max_budget=1), objectives=["a", "b"])
        >>> _ = opt.optimize(lambda config: {"a": config["x"], "b": (1 - config["x"]) ** 2}, n_trials=20)
        >>> front = opt.incumbents
        >>> all(x.cost[0] < y.cost[0] and x.cost[1] > y.cost[1] for x, y in zip(front, front[1:]))
        True
        """
        return self.runhistory.incumbents(self.intensifier.incumbent_selection, self.intensifier.max_budget)

    @property
    def objectives(self) -> Optional[List[str]]:
        """The names of the objectives, or None for one."""
        return self.runhistory.objectives

    @property
    def queued(self) -> List[Tuple[Configuration, Optional[float]]]:
        """Enqueued configurations not asked yet, with their budgets (None: the first stage)."""
        return self.intensifier.queued

    @property
    def stats(self) -> RunStats:
        """A read-only snapshot of the run's counters: trials submitted, finished by status and
        running, budget spent, the run clock, the time spent in ask/tell, incumbent changes.

        >>> from ConfigSpace import ConfigurationSpace
        >>> import smacish
        >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}), smacish.Hyperband(min_budget=1, max_budget=9))
        >>> info = opt.ask()
        >>> opt.tell(info, 0.5)
        >>> s = opt.stats
        >>> s.n_submitted, dict(s.n_finished), s.n_running, s.budget_spent, s.incumbent_changes
        (1, {'SUCCESS': 1}, 0, 1.0, 1)
        """
        again = len(self.to_ask_again)
        return RunStats(n_submitted=self.n_asked + again, n_finished=finished_by_status(self.runhistory),
                        n_running=len(self.pending) - again, budget_spent=self.budget_spent,
                        walltime=self.clock.now(), optimizer_time=self.optimizer_seconds,
                        incumbent_changes=len(self.trajectory))

    @property
    def output_dir(self) -> Optional[Path]:
        """The run directory's path (None: the run is not kept)."""
        return self.run_directory.path if self.run_directory is not None else None

    def _repr_html_(self) -> str:
        return _display.optimizer_html(self)

    def __repr__(self) -> str:
        if self.objectives:
            best = f", {len(self.incumbents)} on the Pareto front of {', '.join(self.objectives)}"
        else:
            inc = self.runhistory.incumbent_entry(self.intensifier.incumbent_selection, self.intensifier.max_budget)
            best = f", incumbent cost {inc.cost:.6g} on budget {inc.budget:g}" if inc else ""
        return f"Optimizer({self.intensifier!r}, {len(self.runhistory)} trials{best})"
