"""BOHB: HyperBand whose new configurations come from the good/bad kernel-density model."""

from __future__ import annotations

from typing import Any, Optional

from ConfigSpace import ConfigurationSpace

from smacish.compat.hpbandster.core.base_config_generator import RandomSampling
from smacish.compat.hpbandster.core.master import _draw_seed, check_arguments
from smacish.compat.hpbandster.optimizers.hyperband import HyperBand
from smacish.selection import KDESelector


class BOHB(HyperBand):
    """BOHB (Falkner, Klein and Hutter, ICML 2018): HyperBand's iterations, with each new
    configuration drawn from a kernel-density model of the good and bad results on the largest
    budget that has enough of them (:class:`~smacish.selection.KDESelector`); a
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
            random_selector=RandomSampling(configspace),  # as BOHB: the space's sample_configuration()
        )
        super().__init__(configspace, eta, min_budget, max_budget, config_generator=generator, **kwargs)
        self.config.update(
            {
                "min_points_in_model": min_points_in_model,
                "top_n_percent": top_n_percent,
                "num_samples": num_samples,
                "random_fraction": random_fraction,
                "bandwidth_factor": bandwidth_factor,
                "min_bandwidth": min_bandwidth,
            }
        )
