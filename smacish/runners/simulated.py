"""The simulated runner: the real scheduler against a cost model on a virtual clock.

Each trial's cost comes from a target called in this process, its duration from a model of
your choosing (e.g. proportional to the budget, with straggler noise); N virtual workers run
trials on a virtual clock. A 32-worker, hours-long run replays in seconds, deterministically,
with exact utilisation.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

from smacish._checkpoints import full_budget, make_store
from smacish.runners._execute import call_target, wants_context
from smacish.runners._limits import Limits
from smacish.trial import TrialInfo, TrialValue, WaitForResults

if TYPE_CHECKING:  # pragma: no cover
    from smacish.optimizer import Optimizer


@dataclass(frozen=True)
class SimulationResult:
    """What a simulated run measured, on its virtual clock."""

    n_workers: int
    n_trials: int
    makespan: float  # virtual seconds from the first start to the last end
    busy: float  # summed worker-seconds spent in trials
    timeline: List[Tuple[int, float, float, tuple]]  # (worker, start, end, trial key)

    @property
    def utilisation(self) -> float:
        """busy worker-seconds / (workers x makespan); 1.0 means no worker ever idled."""
        return self.busy / (self.n_workers * self.makespan) if self.makespan > 0 else 1.0


def run_simulated(
    optimizer: "Optimizer",
    target: Callable[..., Any],
    duration: Callable[[TrialInfo, TrialValue], float],
    n_workers: int,
    n_trials: Optional[int] = None,
    walltime_limit: Optional[float] = None,
    budget_limit: Optional[float] = None,
) -> SimulationResult:
    """Run ``optimizer`` with ``n_workers`` virtual workers until a limit is reached.

    ``target`` is called like in :meth:`Optimizer.optimize` (one with a ``trial`` parameter gets
    its checkpoint context, in a temporary directory); ``duration(info, value)`` gives the
    virtual seconds the trial takes (``value.additional_info["continued_from"]`` says whether it
    continued). ``walltime_limit`` is in virtual seconds.

    >>> import smacish
    >>> from ConfigSpace import ConfigurationSpace
    >>> cs = ConfigurationSpace({"x": (0.0, 1.0)})
    >>> opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9), seed=0)
    >>> sim = run_simulated(opt, lambda config, budget: config["x"] / budget,
    ...                     duration=lambda info, value: info.budget, n_workers=4, n_trials=22)
    >>> sim.n_trials, round(sim.utilisation, 2) <= 1.0
    (22, True)
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers is {n_workers!r}, but must be an int >= 1")
    now = 0.0
    limits = Limits(n_trials, walltime_limit, budget_limit, clock=lambda: now)
    free = list(range(n_workers))  # a heap: the lowest free worker index runs next
    running: list = []  # heap of (end, sequence, worker, start, info, value)
    sequence = itertools.count()
    timeline: List[Tuple[int, float, float, tuple]] = []
    busy = 0.0

    store = make_store(optimizer, None) if wants_context(target) else None
    charge = store.expected_charge if store is not None else full_budget

    def committed() -> float:
        return optimizer.budget_spent + sum(charge(r[4]) for r in running)

    optimizer.clock.hold(now)
    if store is not None:
        optimizer.callbacks.append(store.told)
    try:
        while True:
            while free and limits.may_ask(optimizer.n_asked, committed()):
                try:
                    info = optimizer.ask(n_workers=n_workers)
                except WaitForResults:
                    break
                value = call_target(target, info, store.prepared(info) if store is not None else None)
                took = float(duration(info, value))
                if not took >= 0:
                    raise ValueError(f"duration returned {took!r} for trial {info.key}; it must be >= 0 seconds")
                worker = heapq.heappop(free)
                heapq.heappush(running, (now + took, next(sequence), worker, now, info, value))
            if not running:
                break
            end, _, worker, start, info, value = heapq.heappop(running)
            now = end
            optimizer.clock.hold(now)
            extra = dict(value.additional_info, worker=f"virtual-{worker}")
            optimizer.tell(info, TrialValue(
                cost=value.cost, time=end - start, status=value.status, starttime=start, endtime=end,
                additional_info=extra,
            ))
            timeline.append((worker, start, end, info.key))
            busy += end - start
            heapq.heappush(free, worker)
    finally:
        optimizer.clock.release()
        if store is not None:
            optimizer.callbacks.remove(store.told)
    makespan = max((t[2] for t in timeline), default=0.0) - min((t[1] for t in timeline), default=0.0)
    return SimulationResult(n_workers, len(timeline), makespan, busy, timeline)
