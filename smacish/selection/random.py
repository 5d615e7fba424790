"""RandomSelector: uniform samples from the ConfigSpace, without repeats while it can."""

from __future__ import annotations

from typing import List, Sequence

from ConfigSpace import Configuration, ConfigurationSpace

from smacish._io import config_key
from smacish.runhistory import RunHistory


class RandomSelector:
    """Samples configurations uniformly (ConfigSpace's own sampler: conditions and forbidden
    clauses hold), skipping ones already evaluated or pending unless the space seems exhausted.

    >>> from ConfigSpace import ConfigurationSpace
    >>> cs = ConfigurationSpace({"x": (0.0, 1.0)})
    >>> sel = RandomSelector(cs, seed=3)
    >>> sel.propose(RunHistory(cs), []) == RandomSelector(cs, seed=3).propose(RunHistory(cs), [])
    True
    """

    max_tries = 100

    def __init__(self, configspace: ConfigurationSpace, seed: int = 0, batch_size: int = 64):
        # A private copy so that sampling here never moves the user's space's random state.
        self._space = ConfigurationSpace.from_serialized_dict(configspace.to_serialized_dict())
        self._space.seed(seed)
        self._configspace = configspace
        self._batch_size = batch_size
        self._buffer: List[Configuration] = []

    def _sample(self) -> Configuration:
        if not self._buffer:
            batch = self._space.sample_configuration(self._batch_size)
            # Rebuild on the user's space so configurations compare equal to theirs.
            self._buffer = [Configuration(self._configspace, vector=c.get_array()) for c in reversed(batch)]
        return self._buffer.pop()

    def propose(self, runhistory: RunHistory, pending: Sequence[Configuration]) -> Configuration:
        taken = {config_key(c) for c in pending} if pending else set()
        for _ in range(self.max_tries):
            config = self._sample()
            key = config_key(config)
            if key not in taken and not runhistory.has_config(config):
                break
        config.origin = "random"
        return config

    def __repr__(self) -> str:
        return "RandomSelector()"
