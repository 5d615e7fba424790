"""HyperBand: successive halving over HpBandSter's brackets, with random configurations."""

from __future__ import annotations

from typing import Any, Dict

from ConfigSpace import ConfigurationSpace

from smacish.compat.hpbandster.core.base_config_generator import RandomSampling
from smacish.compat.hpbandster.core.master import Master, check_arguments, hpbandster_bracket, hpbandster_budgets
from smacish.compat.hpbandster.optimizers.iterations import SuccessiveHalving


class HyperBand(Master):
    """Hyperband as HpBandSter runs it: iteration ``i`` is a successive-halving run with
    ``s = max_SH_iter - 1 - i % max_SH_iter`` halvings over the budgets
    ``max_budget * eta**-k``, starting ``n0 = floor(max_SH_iter / (s + 1)) * eta**s``
    random configurations.

    Args:
        configspace: the search space.
        eta: only the best ``1/eta`` of a stage advance to the next budget.
        min_budget, max_budget: the smallest and largest budget.
        **kwargs: the :class:`~smacish.compat.hpbandster.core.master.Master` arguments
            (``run_id``, ``nameserver``, ``nameserver_port``, ``result_logger``, ...).
    """

    def __init__(
        self,
        configspace: ConfigurationSpace = None,
        eta: float = 3,
        min_budget: float = 0.01,
        max_budget: float = 1,
        **kwargs: Any,
    ):
        check_arguments(type(self).__name__, configspace, eta, min_budget, max_budget)
        if kwargs.get("config_generator") is None:  # BOHB passes its model
            kwargs["config_generator"] = RandomSampling(configspace)
        super().__init__(configspace=configspace, **kwargs)
        self.eta = eta
        self.min_budget = min_budget
        self.max_budget = max_budget
        self.max_SH_iter, self.budgets = hpbandster_budgets(min_budget, max_budget, eta)
        self.config.update(
            {
                "eta": eta,
                "min_budget": min_budget,
                "max_budget": max_budget,
                "budgets": self.budgets,
                "max_SH_iter": self.max_SH_iter,
            }
        )

    def get_next_iteration(self, iteration: int, iteration_kwargs: Dict[str, Any] = {}) -> SuccessiveHalving:  # noqa: B006
        s, ns = hpbandster_bracket(iteration, self.max_SH_iter, self.eta)
        return SuccessiveHalving(
            HPB_iter=iteration,
            num_configs=ns,
            budgets=self.budgets[(-s - 1) :],
            config_sampler=self._sample_config,
            **iteration_kwargs,
        )
