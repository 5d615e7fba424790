"""Helpers shared by the intensifier and scheduler tests: a space, a deterministic cost and an
ask/tell driver that records everything it asked."""

from __future__ import annotations

import math
import random
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from ConfigSpace import Configuration, ConfigurationSpace

import smacish
from smacish import StatusType, TrialInfo, TrialValue, WaitForResults

Cost = Callable[[TrialInfo], Union[float, TrialValue]]


def space() -> ConfigurationSpace:
    """One float in [0, 1]: every sampled configuration is distinct."""
    return ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def x_cost(info: TrialInfo) -> float:
    """The cost is the configuration's x: the ranking is the same on every budget."""
    return float(info.config["x"])


def optimizer(intensifier: smacish.ParallelScheduler, seed: int = 0, **kwargs) -> smacish.Optimizer:
    """An Optimizer over :func:`space` with random selection (unless ``selector`` is given)."""
    kwargs.setdefault("selector", "random")
    return smacish.Optimizer(space(), intensifier, seed=seed, **kwargs)


def ask_tell(opt: smacish.Optimizer, n: int, cost: Cost = x_cost) -> List[TrialInfo]:
    """Ask and tell ``n`` trials one at a time (the serial loop); return the asks."""
    asked = []
    for _ in range(n):
        info = opt.ask()
        asked.append(info)
        opt.tell(info, cost(info))
    return asked


def ask_all(opt: smacish.Optimizer) -> List[TrialInfo]:
    """Ask until the scheduler answers WAIT; return the trials asked."""
    asked = []
    while True:
        try:
            asked.append(opt.ask())
        except WaitForResults:
            return asked


def tell_all(opt: smacish.Optimizer, infos: Iterable[TrialInfo], cost: Cost = x_cost) -> None:
    for info in infos:
        opt.tell(info, cost(info))


class Driver:
    """Asks while it may, tells pending trials in a random order; records every ask, every
    WAIT (with the number pending at that moment) and every tell."""

    def __init__(self, opt: smacish.Optimizer, rng: random.Random, cost: Cost, tell_probability: float = 0.3):
        self.opt = opt
        self.rng = rng
        self.cost = cost
        self.tell_probability = tell_probability
        self.asked: List[TrialInfo] = []
        self.pending: List[TrialInfo] = []
        self.waits: List[int] = []  # len(pending) at each WaitForResults
        self.on_ask: Optional[Callable[["Driver"], None]] = None
        self.on_wait: Optional[Callable[["Driver", WaitForResults], None]] = None

    def tell_one(self) -> None:
        info = self.pending.pop(self.rng.randrange(len(self.pending)))
        self.opt.tell(info, self.cost(info))

    def run(self, n_asks: int) -> None:
        while len(self.asked) < n_asks:
            if self.pending and self.rng.random() < self.tell_probability:
                self.tell_one()
                continue
            try:
                info = self.opt.ask()
            except WaitForResults as wait:
                self.waits.append(len(self.pending))
                if self.on_wait is not None:
                    self.on_wait(self, wait)
                if not self.pending:
                    return  # nothing left to run at all
                self.tell_one()
                continue
            self.asked.append(info)
            self.pending.append(info)
            if self.on_ask is not None:
                self.on_ask(self)

    def drain(self) -> None:
        while self.pending:
            self.tell_one()


def random_costs(rng: random.Random, crash_probability: float, ties: bool) -> Cost:
    """A cost per trial drawn once (the same trial always gets the same value)."""
    drawn: Dict[tuple, TrialValue] = {}

    def cost(info: TrialInfo) -> TrialValue:
        key = (info.config_id, info.budget, info.instance, info.seed)
        if key not in drawn:
            if rng.random() < crash_probability:
                drawn[key] = TrialValue(cost=math.inf, status=StatusType.CRASHED)
            else:
                c = rng.random()
                drawn[key] = TrialValue(cost=round(c, 1) if ties else c)
        return drawn[key]

    return cost


Trial = Tuple[TrialInfo, TrialValue]


def by_iteration(items: Iterable[Trial]) -> Dict[int, List[Trial]]:
    """Finished trials grouped by the iteration in their config_id."""
    groups: Dict[int, List[Trial]] = {}
    for info, value in items:
        groups.setdefault(info.config_id[0], []).append((info, value))
    return groups


class ListSelector:
    """Proposes the given configurations in order (a selector for replaying a run)."""

    def __init__(self, configs: Sequence[Configuration]):
        self._configs = list(configs)
        self.n_proposed = 0

    def propose(self, runhistory, pending) -> Configuration:
        config = self._configs[self.n_proposed]
        self.n_proposed += 1
        return config
