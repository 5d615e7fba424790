"""SuccessiveHalving: the iteration of HyperBand, BOHB and RandomSearch."""

from __future__ import annotations

from typing import List

import numpy as np

from smacish.compat.hpbandster.core.base_iteration import BaseIteration, ConfigId


class SuccessiveHalving(BaseIteration):
    """Advances the ``num_configs[stage]`` configurations with the smallest loss on the budget
    just finished (ties as numpy's ``argsort`` orders them, as in HpBandSter).

    >>> it = SuccessiveHalving(HPB_iter=0, num_configs=[3, 1], budgets=[1.0, 3.0],
    ...                        config_sampler=lambda budget: ({"x": 0.5}, {}))
    >>> it.get_next_run()
    ((0, 0, 0), {'x': 0.5}, 1.0)
    """

    def _advance_to_next_stage(self, config_ids: List[ConfigId], losses: np.ndarray) -> np.ndarray:
        ranks = np.empty(len(losses), dtype=int)
        ranks[np.argsort(losses)] = np.arange(len(losses))
        return ranks < self.num_configs[self.stage]
