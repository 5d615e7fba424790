"""RandomSearch: random configurations, all on the largest budget."""

from __future__ import annotations

from typing import Any, Dict

from ConfigSpace import ConfigurationSpace

from smacish.compat.hpbandster.core.master import Master, check_arguments, hpbandster_budgets
from smacish.compat.hpbandster.optimizers.iterations import SuccessiveHalving
from smacish.compat.hpbandster.core.base_config_generator import RandomSampling


class RandomSearch(Master):
    """Random search for comparison: each iteration runs as many random configurations on
    ``max_budget`` as one HyperBand bracket would cost
    (``sum(budget_k * eta**k) // max_budget`` over HyperBand's budgets).

    Args:
        configspace: the search space.
        eta, min_budget: the HyperBand schedule whose cost an iteration matches.
        max_budget: the budget every configuration runs on.
        **kwargs: the :class:`~smacish.compat.hpbandster.core.master.Master` arguments.
    """

    def __init__(
        self,
        configspace: ConfigurationSpace = None,
        eta: float = 3,
        min_budget: float = 1,
        max_budget: float = 1,
        **kwargs: Any,
    ):
        check_arguments("RandomSearch", configspace, eta, min_budget, max_budget)
        super().__init__(
            config_generator=RandomSampling(configspace), configspace=configspace, **kwargs
        )
        self.eta = eta
        self.min_budget = max_budget
        self.max_budget = max_budget
        self.max_SH_iter, hb_budgets = hpbandster_budgets(min_budget, max_budget, eta)
        self.budget_per_iteration = sum(b * self.eta**i for i, b in enumerate(hb_budgets[::-1]))
        self.budgets = [float(max_budget)]
        self.config.update(
            {
                "eta": eta,
                "min_budget": max_budget,
                "max_budget": max_budget,
                "budgets": self.budgets,
                "max_SH_iter": 1,
            }
        )

    def get_next_iteration(self, iteration: int, iteration_kwargs: Dict[str, Any] = {}) -> SuccessiveHalving:  # noqa: B006
        ns = [self.budget_per_iteration // self.max_budget]
        return SuccessiveHalving(
            HPB_iter=iteration,
            num_configs=ns,
            budgets=self.budgets,
            config_sampler=self._sample_config,
            **iteration_kwargs,
        )
