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

    Args:
        min_budget: the smallest budget (epochs, data fraction, ...); with ``instances``, the
            number of instance-seed pairs of the first stage (default 1).
        max_budget: the largest budget; with ``instances``, at most every instance-seed pair
            (the default).
        eta: each stage keeps the best ``1/eta`` and multiplies the budget by ``eta``.
        instances: budgets as instances: a stage runs a configuration on its first
            ``budget`` instance-seed pairs and promotes by the mean cost over them.
        n_seeds: seeds per instance (with ``instances``).
        instance_order: ``"shuffle_once"`` (one random order of the instances for the whole
            run), ``"shuffle"`` (a new order for each SH run) or ``None`` (as given).
        deterministic: the target is deterministic: every trial gets seed 0 (``n_seeds`` must be 1).
        num_initial_challengers: SH only: the number of configurations of the first stage
            (default: Hyperband's first bracket).
        incumbent_selection: ``"highest_executed_budget"`` (the best on the highest budget any
            configuration reached), ``"highest_budget"`` (only ``max_budget`` counts) or
            ``"any_budget"``.
        min_chall: must be 1 (SMAC's name; successive halving races every challenger).
        cutoff: a time limit in seconds for every trial (None: none).
        run_obj_time: the cost is the runtime: with ``cutoff``, a challenger's time limit is
            capped at ``adaptive_capping_slackfactor`` x the time it must beat (SMAC's
            adaptive capping).
        adaptive_capping_slackfactor: see ``run_obj_time`` (>= 1).
        asynchronous: promote asynchronously (ASHA, Li et al. 2020): a configuration goes on to
            the next budget as soon as it is in the top ``1/eta`` of the results its rung has so
            far; no rung waits to fill, so no worker waits. See :mod:`smacish.intensifiers._asha`
            and ``docs/reference/intensifiers.md`` for the rule.
        informed_starts: as :class:`Hyperband`'s; with one bracket, on ``min_budget``, it
            changes nothing.
        bracket_order: as :class:`Hyperband`'s; with one bracket it changes nothing.
    """

    def _make_schedules(self) -> List[Schedule]:
        return [
            successive_halving_schedule(
                self.min_budget, self.max_budget, self.eta, self.num_initial_challengers,
                integer=self.instance_mode,
            )
        ]
