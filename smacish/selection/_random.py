"""RandomSelector: uniform samples from the ConfigSpace, without repeats while it can."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from smacish._io import config_key
from smacish._seeding import as_seed
from smacish.runhistory import RunHistory


class RandomSelector:
    """Samples configurations uniformly (ConfigSpace's own sampler: conditions and forbidden
    clauses hold), skipping ones already evaluated or pending unless the space seems exhausted.

    Its whole state is a small dict (``get_state`` / ``set_state``), so a run resumes exactly.

    >>> from ConfigSpace import ConfigurationSpace
    >>> cs = ConfigurationSpace({"x": (0.0, 1.0)})
    >>> sel = RandomSelector(cs, seed=3)
    >>> sel.propose(RunHistory(cs), []) == RandomSelector(cs, seed=3).propose(RunHistory(cs), [])
    True
    """

    max_tries = 100

    def __init__(self, configspace: ConfigurationSpace, seed: int = 0, batch_size: int = 64):
        # A private copy, so sampling here never moves the random state of the user's space.
        self._space = ConfigurationSpace.from_serialized_dict(configspace.to_serialized_dict())
        self._configspace = configspace
        self._rng = np.random.default_rng(as_seed(seed))
        self._batch_size = batch_size
        self._batch_seed: Optional[int] = None
        self._batch: List[Configuration] = []
        self._used = 0

    def _new_batch(self, batch_seed: int) -> None:
        self._space.seed(batch_seed)
        batch = self._space.sample_configuration(self._batch_size)
        # Rebuilt on the user's space so that they compare equal to the user's configurations.
        self._batch = [Configuration(self._configspace, vector=c.get_array()) for c in batch]
        self._batch_seed = batch_seed
        self._used = 0

    def sample(self) -> Configuration:
        """One uniformly sampled configuration (repeats possible)."""
        if self._used >= len(self._batch):
            self._new_batch(int(self._rng.integers(2**31 - 1)))
        config = self._batch[self._used]
        self._used += 1
        return config

    def propose(self, runhistory: RunHistory, pending: Sequence[Configuration]) -> Configuration:
        taken = {config_key(c) for c in pending} if pending else set()
        for _ in range(self.max_tries):
            config = self.sample()
            if config_key(config) not in taken and not runhistory.has_config(config):
                break
        config.origin = "random"
        return config

    def get_state(self) -> Dict[str, Any]:
        return {"rng": self._rng.bit_generator.state, "batch_seed": self._batch_seed, "used": self._used}

    def set_state(self, state: Dict[str, Any]) -> None:
        self._rng.bit_generator.state = state["rng"]
        if state["batch_seed"] is not None and state["batch_seed"] != self._batch_seed:
            self._new_batch(state["batch_seed"])
        self._used = state["used"]

    def __repr__(self) -> str:
        return "RandomSelector()"
