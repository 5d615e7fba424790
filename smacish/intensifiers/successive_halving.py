"""SuccessiveHalving: Hyperband's most aggressive bracket, run over and over."""

from __future__ import annotations

from typing import List

from smacish.intensifiers._brackets import Schedule, successive_halving_schedule
from smacish.intensifiers.parallel_scheduler import ParallelScheduler


class SuccessiveHalving(ParallelScheduler):
    """Successive halving: start many configurations on ``min_budget``, keep the best
    ``1/eta`` at each larger budget up to ``max_budget``.

    Each iteration runs Hyperband's first bracket (``num_initial_challengers`` overrides its
    stage-0 size). Several iterations run at once when there are workers to fill.

    >>> sh = SuccessiveHalving(min_budget=1, max_budget=9, eta=3)
    >>> sh.schedules[0]
    [(9, 1.0), (3, 3.0), (1, 9.0)]
    >>> SuccessiveHalving(min_budget=1, max_budget=9, num_initial_challengers=4).schedules[0]
    [(4, 1.0), (1, 3.0), (1, 9.0)]
    """

    def _make_schedules(self) -> List[Schedule]:
        return [
            successive_halving_schedule(
                self.min_budget, self.max_budget, self.eta, self.num_initial_challengers,
                integer=self.instance_mode,
            )
        ]
