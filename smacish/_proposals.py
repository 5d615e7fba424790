"""What the scheduler gets when it asks for a new configuration: the selector's proposal,
recorded for the run log, or (while a run is replayed) the logged one. With several objectives
the selector proposes for a random scalarisation of them (ParEGO), new at each proposal."""

from __future__ import annotations

from collections import deque
from typing import Any, Deque, Dict, List, Sequence

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from smacish._io import config_from_json
from smacish._pareto import ScalarizedHistory, random_weights
from smacish.runhistory import RunHistory
from smacish.selection import ConfigSelector


class Proposals:
    """Stands between the scheduler and the selector: records each proposal (configuration and
    the selector's state after it) for the run log, or, while a run is replayed, hands back the
    logged configurations instead of asking the selector again."""

    def __init__(self, selector: ConfigSelector, space: ConfigurationSpace, seed: int = 0,
                 n_objectives: int = 1):
        self.selector = selector
        self.space = space
        self.seed = seed
        self.n_objectives = n_objectives  # several: the selector sees a random scalarisation
        self.recorded: List[Dict[str, Any]] = []
        self.forced: Deque[Any] = deque()  # configurations as the log holds them
        self.record = False

    def propose(self, runhistory: RunHistory, pending: Sequence[Configuration]) -> Configuration:
        if self.forced:
            return config_from_json(self.space, self.forced.popleft())
        if self.n_objectives > 1:
            # the weights follow from the run's state (the configurations it knows), so that a
            # resumed run draws the ones the first run would have
            rng = np.random.default_rng([self.seed, runhistory.n_configs])
            runhistory = ScalarizedHistory(runhistory, random_weights(rng, self.n_objectives))
        config = self.selector.propose(runhistory, pending)
        if self.record:
            state = self.selector.get_state() if hasattr(self.selector, "get_state") else None
            self.recorded.append({"config": config, "state": state})
        return config
