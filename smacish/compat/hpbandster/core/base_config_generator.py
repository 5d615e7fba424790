"""base_config_generator: the interface of an HpBandSter-style configuration generator."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Tuple


class base_config_generator:
    """Write your own generator by overriding ``get_config`` (and ``new_result`` to learn from
    results), then hand it to a :class:`~smacish.compat.hpbandster.core.master.Master`
    subclass as ``config_generator`` (give the Master ``configspace=`` too, or set
    ``self.configspace``). smacish's own selectors (``propose(runhistory, pending)``) work there
    as well.
    """

    def __init__(self, logger: Optional[logging.Logger] = None):
        self.logger = logger if logger is not None else logging.getLogger("smacish.hpbandster")

    def get_config(self, budget: float) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """A new configuration (a dict) and an info dict, for a run on ``budget``."""
        raise NotImplementedError(f"This function needs to be overwritten in {type(self).__name__}.")

    def new_result(self, job: Any, update_model: bool = True) -> None:
        """Called with every finished :class:`~smacish.compat.hpbandster.core.dispatcher.Job`."""
        if job.exception is not None:
            self.logger.warning("job %s failed with exception\n%s", job.id, job.exception)


class RandomSampling:
    """HpBandSter's random sampling: each configuration is the space's own
    ``sample_configuration()``, so a seeded space (``ConfigurationSpace(seed=...)`` or
    ``cs.seed(...)``) gives the configurations HpBandSter would, in the same order. Repeats are
    possible, as in HpBandSter.

    The space's random state is the sampler's state (``get_state`` / ``set_state``), so a
    resumed run goes on with the configurations it would have drawn.
    """

    def __init__(self, configspace: Any):
        self.configspace = configspace

    def propose(self, runhistory: Any, pending: Any) -> Any:
        return self.configspace.sample_configuration()

    def get_state(self) -> Dict[str, Any]:
        name, keys, pos, has_gauss, gauss = self.configspace.random.get_state()
        return {"rng": [name, [int(k) for k in keys], int(pos), int(has_gauss), float(gauss)]}

    def set_state(self, state: Dict[str, Any]) -> None:
        import numpy as np

        name, keys, pos, has_gauss, gauss = state["rng"]
        self.configspace.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
