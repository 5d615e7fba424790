"""Hyperband: successive halving over every bracket, from most to least aggressive."""

from __future__ import annotations

from typing import List, Optional

from smacish.intensifiers._brackets import Schedule, hyperband_brackets
from smacish.intensifiers.parallel_scheduler import ParallelScheduler


class Hyperband(ParallelScheduler):
    """Hyperband (Li et al., JMLR 2018, Algorithm 1): cycles through its brackets, each a
    successive-halving run that starts fewer configurations on a larger budget.

    >>> hb = Hyperband(min_budget=1, max_budget=81, eta=3)
    >>> [[n for n, _ in b] for b in hb.schedules]
    [[81, 27, 9, 3, 1], [34, 11, 3, 1], [15, 5, 1], [8, 2], [5]]
    """

    def _check_extra(self, num_initial_challengers: Optional[int]) -> List[str]:
        if num_initial_challengers is not None:
            return [
                f"num_initial_challengers is {num_initial_challengers}, but Hyperband sizes its "
                "brackets itself; use SuccessiveHalving to set the number of challengers"
            ]
        return []

    def _make_schedules(self) -> List[Schedule]:
        return hyperband_brackets(
            self.min_budget, self.max_budget, self.eta, integer=self.instance_mode
        )
