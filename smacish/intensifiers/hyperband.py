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
        num_initial_challengers: must be None (Hyperband sizes its brackets itself).
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
        informed_starts: with several workers, a bracket that starts above ``min_budget``
            waits until some configuration has a result on the budget just below its start
            (or a configuration was enqueued on its first budget); until then new instances
            run the most aggressive bracket. Its configurations are then proposed by a model
            that has seen results near their budget, and the first results on each large
            budget come from configurations that were promoted or so proposed. Serial runs are
            unchanged (each bracket has run to ``max_budget`` before the next starts);
            synchronous, real-valued budgets only. ``False``: the brackets start in cycle order.
        bracket_order: with several workers and informed starts, which of a round's brackets a
            new instance starts (each round of the cycle starts every bracket once).
            ``"least_aggressive"`` (the default): of those not started yet in the round that
            may start, the one with the largest first budget, so that the round's top-budget
            trials start early and a run cut off by a deadline has more results on
            ``max_budget``. ``"cycle"``: the cycle's order, most aggressive first. Serial runs
            are the same with either.
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
