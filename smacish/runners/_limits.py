"""When an optimisation loop stops asking: trials, wall time, budget."""

from __future__ import annotations

import math
import numbers
import time
from typing import Callable, Optional


class Limits:
    """``n_trials``, ``walltime_limit`` (seconds) and ``budget_limit`` (sum of budgets), any
    of them None; the loop stops asking as soon as one is reached. Time is ``clock()`` minus
    ``origin`` (by default the clock's reading when the limits are made).

    >>> lim = Limits(n_trials=2)
    >>> lim.may_ask(n_asked=1, budget_committed=0.0), lim.may_ask(n_asked=2, budget_committed=0.0)
    (True, False)
    """

    def __init__(
        self, n_trials: Optional[int] = None, walltime_limit: Optional[float] = None,
        budget_limit: Optional[float] = None, clock: Callable[[], float] = time.monotonic,
        origin: Optional[float] = None,
    ):
        errors = []
        # numpy's numbers are numbers too (a budget summed from an array is an np.int64)
        if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral)
                                     or n_trials < 0):
            errors.append(f"n_trials is {n_trials!r}, but must be None or an int >= 0")
        for name, value in (("walltime_limit", walltime_limit), ("budget_limit", budget_limit)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0):
                errors.append(f"{name} is {value!r}, but must be None or a number > 0")
        if n_trials is None and walltime_limit is None and budget_limit is None:
            errors.append("give at least one of n_trials, walltime_limit, budget_limit, or the run never ends")
        if errors:
            raise ValueError("; ".join(errors))
        self.n_trials = None if n_trials is None else int(n_trials)
        self.walltime_limit = None if walltime_limit is None else float(walltime_limit)
        self.budget_limit = None if budget_limit is None else float(budget_limit)
        self._clock = clock
        self._start = clock() if origin is None else origin

    def elapsed(self) -> float:
        return self._clock() - self._start

    def remaining_time(self) -> float:
        return math.inf if self.walltime_limit is None else self.walltime_limit - self.elapsed()

    def out_of_time(self) -> bool:
        return self.remaining_time() <= 0

    def may_ask(self, n_asked: int, budget_committed: float) -> bool:
        """True while no limit is reached (``budget_committed``: finished plus in-flight)."""
        if self.n_trials is not None and n_asked >= self.n_trials:
            return False
        if self.budget_limit is not None and budget_committed >= self.budget_limit:
            return False
        return not self.out_of_time()
