"""BOHB: HyperBand whose new configurations come from the good/bad kernel-density model."""

from __future__ import annotations

from typing import Any, Dict, Optional

from ConfigSpace import ConfigurationSpace

from smacish.compat.hpbandster.core.master import (
    Master,
    _draw_seed,
    check_arguments,
    hpbandster_bracket,
    hpbandster_budgets,
)
from smacish.compat.hpbandster.optimizers.iterations import SuccessiveHalving
from smacish.selection.kde import KDESelector


class BOHB(Master):
    """BOHB (Falkner, Klein and Hutter, ICML 2018): HyperBand's iterations, with each new
    configuration drawn from a kernel-density model of the good and bad results on the largest
    budget that has enough of them (:class:`~smacish.selection.kde.KDESelector`); a
    ``random_fraction`` of them is random. ``config_info['model_based_pick']`` tells which.

    Args:
        configspace: the search space.
        eta: only the best ``1/eta`` of a stage advance to the next budget.
        min_budget, max_budget: the smallest and largest budget.
        min_points_in_model: results a budget needs for a model (default and minimum: number
            of hyperparameters + 1).
        top_n_percent: percentage of results that count as good.
        num_samples: candidates drawn per model-based configuration.
        random_fraction: fraction of configurations sampled at random.
        bandwidth_factor: widens the bandwidth when drawing candidates.
        min_bandwidth: floor of every bandwidth.
        **kwargs: the :class:`~smacish.compat.hpbandster.core.master.Master` arguments.
    """

    def __init__(
        self,
        configspace: ConfigurationSpace = None,
        eta: float = 3,
        min_budget: float = 0.01,
        max_budget: float = 1,
        min_points_in_model: Optional[int] = None,
        top_n_percent: float = 15,
        num_samples: int = 64,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3,
        min_bandwidth: float = 1e-3,
        **kwargs: Any,
    ):
        check_arguments("BOHB", configspace, eta, min_budget, max_budget)
        generator = KDESelector(
            configspace,
            seed=_draw_seed(),
            min_points_in_model=min_points_in_model,
            top_n_percent=top_n_percent,
            num_samples=num_samples,
            random_fraction=random_fraction,
            bandwidth_factor=bandwidth_factor,
            min_bandwidth=min_bandwidth,
        )
        super().__init__(config_generator=generator, configspace=configspace, **kwargs)
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
                "min_points_in_model": min_points_in_model,
                "top_n_percent": top_n_percent,
                "num_samples": num_samples,
                "random_fraction": random_fraction,
                "bandwidth_factor": bandwidth_factor,
                "min_bandwidth": min_bandwidth,
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
