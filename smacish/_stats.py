"""A run's counters as one read-only snapshot (``Optimizer.stats``, ``smacish status``)."""

from __future__ import annotations

import functools
import time
from collections import Counter
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Dict, Mapping, TypeVar

from smacish.runhistory import RunHistory

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RunStats:
    """What a run has done so far; a snapshot, it does not change as the run goes on.

    >>> s = RunStats(n_submitted=5, n_finished={"SUCCESS": 3, "CRASHED": 1}, n_running=1, budget_spent=7.0,
    ...              walltime=12.5, optimizer_time=0.25, incumbent_changes=2)
    >>> s.n_finished_total, s.n_finished["CRASHED"]
    (4, 1)
    >>> print(s)
    5 submitted, 4 finished (3 SUCCESS, 1 CRASHED), 1 running; budget spent 7; run time 12.5 s, 0.25 s of it in ask/tell; 2 incumbent change(s)

    Attributes:
        n_submitted: trials asked so far (told or running; warm-start trials not counted).
        n_finished: finished trials by status name (``"SUCCESS"``, ``"CRASHED"``, ...); trials told
            ABORTED and not yet run again are under ``"ABORTED"``.
        n_running: trials asked and not told (those to be asked again after an abort not counted).
        budget_spent: the sum of the budgets of the finished trials (warm-start ones not counted).
        walltime: the run clock (``opt.clock``), the time the trajectory and the DataFrame use.
        optimizer_time: seconds spent inside ``ask`` and ``tell``.
        incumbent_changes: entries of the trajectory.
    """

    n_submitted: int
    n_finished: Mapping[str, int]
    n_running: int
    budget_spent: float
    walltime: float
    optimizer_time: float
    incumbent_changes: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_finished", MappingProxyType(dict(self.n_finished)))

    @property
    def n_finished_total(self) -> int:
        """Finished trials of every status (ABORTED ones are not finished)."""
        return sum(n for status, n in self.n_finished.items() if status != "ABORTED")

    def __str__(self) -> str:
        by = ", ".join(f"{n} {status}" for status, n in self.n_finished.items() if status != "ABORTED")
        aborted = self.n_finished.get("ABORTED", 0)
        return (f"{self.n_submitted} submitted, {self.n_finished_total} finished ({by or 'none'}), "
                + (f"{aborted} aborted to run again, " if aborted else "")
                + f"{self.n_running} running; budget spent {self.budget_spent:g}; run time {self.walltime:.1f} s, "
                f"{self.optimizer_time:.3g} s of it in ask/tell; {self.incumbent_changes} incumbent change(s)")


def finished_by_status(runhistory: RunHistory) -> Dict[str, int]:
    """This run's finished trials by status (those with a tell time: warm-start trials have
    none), most frequent first, then the aborted ones that will run again."""
    counts = Counter(value.status.value for info, value in runhistory.items() if runhistory.walltime(info) is not None)
    out = dict(counts.most_common())
    aborted = len(runhistory.aborted())
    if aborted:
        out["ABORTED"] = aborted
    return out


def timed(method: F) -> F:
    """Add the seconds ``method`` takes to ``self.optimizer_seconds`` (ask and tell)."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        finally:
            self.optimizer_seconds += time.perf_counter() - t0
    return wrapper  # type: ignore[return-value]
