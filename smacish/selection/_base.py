"""The protocol every configuration selector follows."""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from ConfigSpace import Configuration

from smacish.runhistory import RunHistory


@runtime_checkable
class ConfigSelector(Protocol):
    """Proposes the next new configuration to race.

    ``propose`` is called once per new configuration, lazily, when an intensifier is about to
    launch it, so it sees every result told so far. ``pending`` are the configurations of trials
    launched but not yet told: a selector should propose something different.

    Write your own by implementing ``propose``::

        class GridSelector:
            def __init__(self, configs):
                self._configs = iter(configs)

            def propose(self, runhistory, pending):
                return next(self._configs)

        Optimizer(cs, Hyperband(min_budget=1, max_budget=9), selector=GridSelector(grid))
    """

    def propose(self, runhistory: RunHistory, pending: Sequence[Configuration]) -> Configuration:
        ...
