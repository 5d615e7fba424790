"""RunHistory: the one shared record of every trial, its aggregated costs and the incumbent."""

from __future__ import annotations

import bisect
import heapq
import html
import json
import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from ConfigSpace import Configuration, ConfigurationSpace

from smacish._io import (
    PathLike,
    atomic_write_text,
    config_from_json,
    config_key,
    config_to_json,
    configs_to_json,
    dumps,
    space_from_json,
    space_to_json,
    to_builtin,
)
from smacish._pareto import pareto_front
from smacish.trial import StatusType, TrialInfo, TrialValue, charged_budget, check_continued

INCUMBENT_SELECTIONS = ("highest_executed_budget", "highest_budget", "any_budget")
DIRECTIONS = ("minimize", "maximize")
_FORMAT = "smacish.runhistory"

TrialKey = Tuple[int, Optional[str], int, Optional[float]]
"""``(config id, instance, seed, budget)``: one trial in a RunHistory."""


@dataclass(frozen=True)
class Incumbent:
    """The best configuration under a selection rule, with the evidence for it.

    ``budget`` is the budget it was judged on; for instance-based runs (budget None) it is the
    number of instance-seed pairs the cost is the mean of. With several objectives ``cost`` is
    a tuple, one mean cost per objective.
    """

    config: Configuration
    config_number: int  # its number in the RunHistory (``TrialInfo.config_id`` is the triplet)
    budget: float
    cost: Union[float, Tuple[float, ...]]

    @property
    def config_id(self) -> int:
        """Deprecated name of :attr:`config_number` (``config_id`` is a trial's triplet)."""
        _renamed("Incumbent.config_id", "Incumbent.config_number")
        return self.config_number


class _Aggregate:
    """Running mean cost of one configuration on one budget (over its instance-seed pairs)."""

    __slots__ = ("total", "n", "n_success", "stamp")

    def __init__(self, n_objectives: int = 1) -> None:
        self.total: Any = 0.0 if n_objectives == 1 else [0.0] * n_objectives
        self.n = 0
        self.n_success = 0  # an incumbent needs one: crashes at a finite crash_cost are no result
        self.stamp = 0

    @property
    def mean(self) -> Any:
        if isinstance(self.total, list):
            return tuple(t / self.n for t in self.total)
        return self.total / self.n

    def add(self, cost: Any) -> None:
        if isinstance(self.total, list):
            self.total = [t + c for t, c in zip(self.total, cost)]
        else:
            self.total += cost
        self.n += 1


class RunHistory:
    """Every trial and its value, keyed by (config, instance, seed, budget).

    Costs are aggregated incrementally per (configuration, budget), so asking for the incumbent
    after every trial stays cheap with hundreds of thousands of trials.

    >>> from ConfigSpace import ConfigurationSpace
    >>> cs = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    >>> a, b = cs.sample_configuration(2)
    >>> rh = RunHistory(cs)
    >>> rh.add(TrialInfo(a, budget=1.0), TrialValue(cost=0.5))
    >>> rh.add(TrialInfo(b, budget=1.0), TrialValue(cost=0.2))
    >>> rh.add(TrialInfo(a, budget=3.0), TrialValue(cost=0.4))
    >>> rh.incumbent() == a, rh.incumbent("any_budget") == b, len(rh)
    (True, True, 3)

    With several ``objectives`` a trial's cost is a tuple, and :meth:`incumbents` is the Pareto
    front (the incumbent of one objective is not defined).
    """

    def __init__(self, configspace: Optional[ConfigurationSpace] = None, crash_cost: Optional[float] = None,
                 direction: str = "minimize", objectives: Optional[Sequence[str]] = None):
        if configspace is not None and not isinstance(configspace, ConfigurationSpace):
            raise TypeError(
                f"configspace must be a ConfigSpace ConfigurationSpace, got {type(configspace).__name__}"
            )
        if direction not in DIRECTIONS:
            raise ValueError(f"direction is {direction!r}, but must be 'minimize' or 'maximize'")
        self.direction = direction
        self.sign = 1.0 if direction == "minimize" else -1.0  # costs are compared as sign * cost
        problem = objectives_error(objectives)
        if problem:
            raise ValueError(problem)
        self.objectives: Optional[List[str]] = list(objectives) if objectives else None
        self.n_objectives = len(self.objectives) if self.objectives else 1
        crash_cost = self.sign * math.inf if crash_cost is None else float(crash_cost)
        if math.isnan(crash_cost) or self.sign * crash_cost == -math.inf:
            raise ValueError(f"crash_cost is {crash_cost}, which would make a crash the best result; use a "
                             f"number or {self.sign * math.inf} (the worst, the default)")
        self.configspace = configspace
        self.crash_cost = crash_cost  # in the user's direction, as costs are
        self._same_spaces: List[ConfigurationSpace] = []  # spaces known equal to self.configspace
        self._configs: List[Configuration] = []  # index + 1 = config id
        self._config_ids: Dict[bytes, int] = {}
        self._trials: Dict[TrialKey, Tuple[TrialInfo, TrialValue]] = {}
        self._running: Dict[TrialKey, TrialInfo] = {}
        self._aborted: Dict[TrialKey, Tuple[TrialInfo, TrialValue]] = {}  # until run again
        self._walltime: Dict[TrialKey, float] = {}  # the run clock when each trial was told
        self._aggregates: Dict[Tuple[int, Optional[float]], _Aggregate] = {}
        self._max_budget_of: Dict[int, float] = {}
        self._budgets_of: Dict[int, set] = {}
        self._heaps: Dict[float, list] = {}  # level -> heap of (mean, config id, stamp, kind, budget)
        self._levels: List[float] = []  # sorted
        self._members: Dict[float, set] = {}  # several objectives: level -> config ids judged there
        self._budget_spent = 0.0

    # ------------------------------------------------------------------ adding
    def config_number(self, config: Configuration) -> int:
        """The number of ``config`` in this history: 1, 2, ... in order of first appearance,
        the same for look-alike configurations (not the ``config_id`` triplet of a trial)."""
        key = config_key(config)
        cid = self._config_ids.get(key)
        if cid is None:
            self._check_space(config)
            self._configs.append(config)
            cid = len(self._configs)
            self._config_ids[key] = cid
        return cid

    def find_config_number(self, config: Configuration) -> Optional[int]:
        """The number of ``config`` if it has been seen, else None (nothing is added)."""
        return self._config_ids.get(config_key(config))

    def config_id(self, config: Configuration) -> int:
        """Deprecated name of :meth:`config_number`."""
        _renamed("RunHistory.config_id()", "RunHistory.config_number()")
        return self.config_number(config)

    def find_config_id(self, config: Configuration) -> Optional[int]:
        """Deprecated name of :meth:`find_config_number`."""
        _renamed("RunHistory.find_config_id()", "RunHistory.find_config_number()")
        return self.find_config_number(config)

    def get_config(self, config_number: int) -> Configuration:
        """The configuration with that number."""
        if not 1 <= config_number <= len(self._configs):
            raise KeyError(f"no configuration number {config_number} (they run 1..{len(self._configs)})")
        return self._configs[config_number - 1]

    def has_config(self, config: Configuration) -> bool:
        """True if ``config`` has been seen (finished or running)."""
        return config_key(config) in self._config_ids

    @property
    def n_configs(self) -> int:
        """How many configurations have been seen (finished or running)."""
        return len(self._configs)

    def get_configs(self) -> List[Configuration]:
        """Every configuration seen, in order of first appearance."""
        return list(self._configs)

    def add_running(self, info: TrialInfo) -> None:
        """Mark a trial as running; it shows in :meth:`running` until its value is added."""
        self._check_space(info.config)  # also for a look-alike of a known configuration
        key = self._key(info, create=True)
        if key in self._trials:
            raise ValueError(f"trial {self._describe(info)} is already finished; cannot run it again")
        self._aborted.pop(key, None)
        self._running[key] = info

    def running(self) -> List[TrialInfo]:
        """Trials marked running and not yet finished."""
        return list(self._running.values())

    def aborted(self) -> List[Tuple[TrialInfo, TrialValue]]:
        """Trials stopped by the optimiser (walltime, Ctrl-C) and not yet run again: they are no
        result of their configuration, so they are not in :meth:`items`, spend no budget and
        count for no incumbent."""
        return list(self._aborted.values())

    def add(self, info: TrialInfo, value: TrialValue, walltime: Optional[float] = None) -> None:
        """Record a finished trial. Raises ``ValueError`` if it was already recorded.
        ``walltime`` is the run's clock when it was told (the Optimizer gives it; see
        :meth:`to_dataframe`).

        An ABORTED value goes to :meth:`aborted` only (the trial may run again)."""
        if not isinstance(info, TrialInfo):
            raise TypeError(f"info must be a TrialInfo, got {type(info).__name__}")
        if not isinstance(value, TrialValue):
            raise TypeError(f"value must be a TrialValue, got {type(value).__name__}")
        if value.status is StatusType.RUNNING:
            self.add_running(info)
            return
        self._check_space(info.config)  # before anything changes
        problem = check_continued(info, value.additional_info) or self.cost_error(value)
        if problem:
            raise ValueError(problem)
        key = self._key(info, create=True)
        if key in self._trials:
            raise ValueError(
                f"trial {self._describe(info)} is already in the RunHistory; each "
                "(config, instance, seed, budget) is recorded once"
            )
        self._running.pop(key, None)
        if value.status is StatusType.ABORTED:
            self._aborted[key] = (info, value)
            return
        self._aborted.pop(key, None)
        self._trials[key] = (info, value)
        if walltime is not None:
            self._walltime[key] = float(walltime)
        self._budget_spent += charged_budget(info, value)
        self._aggregate(key[0], info.budget, self.effective_cost(value), value.status is StatusType.SUCCESS)

    def cost_error(self, value: TrialValue) -> Optional[str]:
        """Why ``value``'s cost does not fit this history's objectives, or None. A failed trial
        may have a single (infinite) cost in any run: it counts as ``crash_cost`` throughout."""
        several = type(value.cost) is tuple
        if self.objectives is None and not several:
            return None  # the usual case, checked first: one objective, one cost
        if self.objectives is None and several:
            return (f"cost is {value.cost!r}, a cost per objective, but this run has one objective; "
                    "pass objectives=[names] to the Optimizer (or RunHistory) for several")
        if self.objectives is not None:
            if not several and value.status is StatusType.SUCCESS:
                return (f"cost is {value.cost!r}, but this run has the objectives {self.objectives}: give a "
                        f"tuple of {self.n_objectives} costs in that order")
            if several and len(value.cost) != self.n_objectives:
                return (f"cost is {value.cost!r}: {len(value.cost)} cost(s), but this run has "
                        f"{self.n_objectives} objectives {self.objectives}")
        return None

    def effective_cost(self, value: TrialValue) -> Any:
        """The cost a trial counts with, lower is better: its own when it succeeded (or timed
        out with a finite cost, as runtime objectives report), ``crash_cost`` otherwise; negated
        when the direction is ``"maximize"``. With several objectives, a tuple."""
        if self.objectives is None:  # the usual case, kept as cheap as before several objectives
            if value.status is StatusType.SUCCESS:
                return self.sign * value.cost
            if value.status is StatusType.TIMEOUT and type(value.cost) is float and math.isfinite(value.cost):
                return self.sign * value.cost
            return self.sign * self.crash_cost
        if type(value.cost) is tuple and (value.status is StatusType.SUCCESS or (
                value.status is StatusType.TIMEOUT and _finite(value.cost))):
            return tuple(self.sign * c for c in value.cost)
        return (self.sign * self.crash_cost,) * self.n_objectives

    def _aggregate(self, cid: int, budget: Optional[float], cost: Any, success: bool) -> None:
        agg = self._aggregates.get((cid, budget))
        if agg is None:
            agg = self._aggregates[(cid, budget)] = _Aggregate(self.n_objectives)
        if self.objectives is None:
            agg.total += cost
            agg.n += 1
        else:
            agg.add(cost)
        agg.n_success += success
        agg.stamp += 1
        if budget is not None:
            if budget > self._max_budget_of.get(cid, -math.inf):
                self._max_budget_of[cid] = budget
            self._budgets_of.setdefault(cid, set()).add(budget)
            level = budget
        else:
            level = float(agg.n)  # instance-based: judged on the number of pairs
        if self.objectives is not None:
            self._judge(cid, budget, level, agg)
            return
        if not agg.n_success:
            return  # its older heap entries are stale now (stamp), so it is no candidate anywhere
        heap = self._heaps.get(level)
        if heap is None:
            heap = self._heaps[level] = []
            bisect.insort(self._levels, level)
        # budget-based (1) before instance-based (0) keeps None from being compared with a float
        kind = 0 if budget is None else 1
        heapq.heappush(heap, (agg.mean if agg.n else math.inf, cid, agg.stamp, kind, budget))

    def _judge(self, cid: int, budget: Optional[float], level: float, agg: _Aggregate) -> None:
        """Several objectives: keep which configurations each level judges (the front is found
        when asked); an instance-based configuration moves up a level with each pair."""
        if budget is None and agg.n > 1:
            self._members.get(float(agg.n - 1), set()).discard(cid)
        if not agg.n_success or not _finite(agg.mean):
            self._members.get(level, set()).discard(cid)
            return
        if level not in self._members:
            self._members[level] = set()
            bisect.insort(self._levels, level)
        self._members[level].add(cid)

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._trials)

    def __contains__(self, info: object) -> bool:
        if not isinstance(info, TrialInfo):
            return False
        key = self._key(info, create=False)
        return key is not None and key in self._trials

    def items(self) -> Iterator[Tuple[TrialInfo, TrialValue]]:
        """``(TrialInfo, TrialValue)`` pairs in the order they were added."""
        return iter(self._trials.values())

    def walltime(self, info: TrialInfo) -> Optional[float]:
        """The run clock when this finished trial was told, if the history knows it."""
        key = self._key(info, create=False)
        return self._walltime.get(key) if key is not None else None

    def get(self, info: TrialInfo) -> Optional[TrialValue]:
        """The value recorded for that trial, or None."""
        key = self._key(info, create=False)
        entry = self._trials.get(key) if key is not None else None
        return entry[1] if entry else None

    @property
    def highest_level(self) -> Optional[float]:
        """The highest budget with a successful result (instance budgets: the most
        instance-seed pairs any configuration ran), or None before there is one.

        >>> from ConfigSpace import ConfigurationSpace
        >>> from smacish.trial import TrialInfo, TrialValue
        >>> rh = RunHistory()
        >>> config = ConfigurationSpace({"x": (0.0, 1.0)}).sample_configuration()
        >>> rh.highest_level is None
        True
        >>> rh.add(TrialInfo(config, budget=3.0), TrialValue(cost=0.5))
        >>> rh.highest_level
        3.0
        """
        return self._levels[-1] if self._levels else None

    @property
    def budget_spent(self) -> float:
        """Sum of the budgets of all finished trials (a trial without budget counts 1; one that
        continued from a checkpoint counts its increment, see :func:`~smacish.trial.charged_budget`)."""
        return self._budget_spent

    def get_cost(self, config: Configuration, budget: Optional[float] = None) -> float:
        """Mean cost of ``config`` over its instance-seed pairs on ``budget``.

        ``budget=None`` means the highest budget it was evaluated on (or, in runs without
        budgets, all its pairs). Crashed trials count as ``crash_cost``. NaN if never evaluated.
        """
        cid = self._config_ids.get(config_key(config))
        if cid is None:
            return math.nan
        if budget is None:
            budget = self._max_budget_of.get(cid)
        agg = self._aggregates.get((cid, None if budget is None else float(budget)))
        if agg is None or not agg.n:
            return (math.nan,) * self.n_objectives if self.objectives is not None else math.nan
        return self._user_cost(agg.mean)

    def _user_cost(self, cost: Any) -> Any:
        return tuple(self.sign * c for c in cost) if isinstance(cost, tuple) else self.sign * cost

    def get_budgets(self, config: Configuration) -> List[float]:
        """Budgets ``config`` has finished trials on, ascending."""
        cid = self._config_ids.get(config_key(config))
        return sorted(self._budgets_of.get(cid, ()))

    def incumbent(
        self, selection: str = "highest_executed_budget", max_budget: Optional[float] = None
    ) -> Optional[Configuration]:
        """The best configuration under ``selection`` (see :meth:`incumbent_entry`), or None."""
        entry = self.incumbent_entry(selection, max_budget)
        return entry.config if entry else None

    def incumbent_entry(
        self, selection: str = "highest_executed_budget", max_budget: Optional[float] = None
    ) -> Optional[Incumbent]:
        """The incumbent with its id, budget and cost.

        - ``highest_executed_budget``: best among configurations on the highest budget that has
          a finished (non-crashed) result;
        - ``highest_budget``: best on ``max_budget`` only; None until one exists there;
        - ``any_budget``: best cost on any budget.

        Best is lowest (highest with ``direction="maximize"``). Ties go to the configuration
        seen first. A configuration is a candidate on a budget only
        once a trial of it there succeeded, and only with a finite mean cost: one that only
        crashed (or timed out) is never the incumbent, whatever ``crash_cost``.

        With several objectives there is no single incumbent: use :meth:`incumbents`.
        """
        _check_selection(selection)
        if self.objectives is not None:
            raise ValueError(f"this run has several objectives {self.objectives}, so no single incumbent; "
                             "use incumbents() (optimizer.incumbents), the Pareto front")
        best = None
        if selection == "highest_budget":
            if max_budget is None:
                raise ValueError("incumbent selection 'highest_budget' needs max_budget")
            best = self._top(float(max_budget))
        elif selection == "highest_executed_budget":
            for level in reversed(self._levels):
                best = self._top(level)
                if best is not None:
                    break
        else:
            for level in self._levels:
                top = self._top(level)
                if top is not None and (best is None or top[:2] < best[:2]):
                    best = top
        if best is None:
            return None
        cost, cid, _, _, budget = best
        level = budget if budget is not None else float(self._aggregates[(cid, None)].n)
        return Incumbent(self._configs[cid - 1], cid, level, self.sign * cost)

    def incumbents(
        self, selection: str = "highest_executed_budget", max_budget: Optional[float] = None
    ) -> List[Incumbent]:
        """The Pareto front under ``selection``: the configurations no other dominates, with
        the same rules as :meth:`incumbent_entry` for which budget they are judged on (with
        ``any_budget``, each configuration's every budget competes). With one objective, the
        incumbent alone (or nothing).

        >>> from ConfigSpace import ConfigurationSpace
        >>> cs = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
        >>> rh = RunHistory(cs, objectives=["error", "size"])
        >>> for c, cost in zip(cs.sample_configuration(3), [(0.1, 9), (0.3, 2), (0.4, 5)]):
        ...     rh.add(TrialInfo(c, budget=1.0), TrialValue(cost=cost))
        >>> [inc.cost for inc in rh.incumbents()]
        [(0.1, 9.0), (0.3, 2.0)]
        """
        _check_selection(selection)
        if self.objectives is None:
            entry = self.incumbent_entry(selection, max_budget)
            return [entry] if entry is not None else []
        if selection == "highest_budget":
            if max_budget is None:
                raise ValueError("incumbent selection 'highest_budget' needs max_budget")
            levels = [float(max_budget)] if self._members.get(float(max_budget)) else []
        elif selection == "highest_executed_budget":
            levels = [level for level in reversed(self._levels) if self._members.get(level)][:1]
        else:
            levels = [level for level in self._levels if self._members.get(level)]
        candidates = []  # (config id, level) in the order seen, so that ties keep the first
        for level in levels:
            for cid in sorted(self._members[level]):
                candidates.append((cid, level))
        means = [self._aggregates[(cid, self._budget_key(cid, level))].mean for cid, level in candidates]
        front, seen = [], set()
        for index in pareto_front(means):
            cid, level = candidates[index]
            if cid not in seen:
                seen.add(cid)
                front.append(Incumbent(self._configs[cid - 1], cid, level, self._user_cost(means[index])))
        return sorted(front, key=lambda inc: (inc.cost, inc.config_number))

    def _budget_key(self, cid: int, level: float) -> Optional[float]:
        """The aggregate key of ``cid`` judged on ``level`` (instance-based: None)."""
        return level if (cid, level) in self._aggregates else None

    def _top(self, level: float) -> Optional[tuple]:
        heap = self._heaps.get(level)
        while heap:
            cost, cid, stamp, _, budget = heap[0]
            agg = self._aggregates[(cid, budget)]
            current_level = budget if budget is not None else float(agg.n)
            if agg.stamp == stamp and current_level == level:
                return heap[0] if math.isfinite(cost) else None
            heapq.heappop(heap)  # stale: the aggregate changed since this entry
        return None

    def single_objective(self, objective: str) -> "RunHistory":
        """A copy with one of the objectives only (each trial's cost for it), for what looks at
        one cost: importance, slice and contour plots, a warm start of a one-objective run.

        >>> from ConfigSpace import ConfigurationSpace
        >>> cs = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
        >>> rh = RunHistory(cs, objectives=["error", "size"])
        >>> rh.add(TrialInfo(cs.sample_configuration(), budget=1.0), TrialValue(cost=(0.1, 9)))
        >>> [value.cost for _, value in rh.single_objective("size").items()]
        [9.0]
        """
        if self.objectives is None:
            raise ValueError(f"objective={objective!r}, but this run has one objective; leave objective out")
        if objective not in self.objectives:
            raise ValueError(f"objective={objective!r}, but this run's objectives are {self.objectives}")
        k = self.objectives.index(objective)

        def one(value: TrialValue) -> TrialValue:
            return replace(value, cost=value.cost[k] if isinstance(value.cost, tuple) else value.cost)
        out = RunHistory(self.configspace, crash_cost=self.crash_cost, direction=self.direction)
        for config in self._configs:
            out.config_number(config)
        for key, (info, value) in self._trials.items():
            out.add(info, one(value), walltime=self._walltime.get(key))
        for info in self._running.values():
            out.add_running(info)
        for info, value in self._aborted.values():
            out.add(info, one(value))
        return out

    def utilisation(self, n_workers: Optional[int] = None) -> float:
        """Busy worker-seconds / (workers x wall-clock) over the finished trials.

        Uses the trials' start and end times. ``n_workers`` defaults to the number of distinct
        ``additional_info["worker"]`` addresses (1 when trials ran in-process).
        """
        spans = [(v.starttime, v.endtime) for _, v in self.items() if v.endtime > v.starttime]
        if not spans:
            return 0.0
        if n_workers is None:
            workers = {v.additional_info.get("worker") for _, v in self.items()}
            n_workers = max(1, len(workers - {None}))
        busy = sum(end - start for start, end in spans)
        wall = max(e for _, e in spans) - min(s for s, _ in spans)
        return busy / (n_workers * wall) if wall > 0 else 1.0

    # ------------------------------------------------------------------ helpers
    def _key(self, info: TrialInfo, create: bool) -> Optional[TrialKey]:
        if create:
            cid = self.config_number(info.config)
        else:
            cid = self._config_ids.get(config_key(info.config))
            if cid is None:
                return None
        return (cid, info.instance, info.seed, info.budget)

    def _check_space(self, config: Configuration) -> None:
        if not isinstance(config, Configuration):
            raise TypeError(f"a trial's config must be a ConfigSpace Configuration, got {type(config).__name__}")
        if self.configspace is None:  # built without a space: the first configuration's is the space
            self.configspace = config.config_space
        space = self.configspace
        if config.config_space is space or any(config.config_space is s for s in self._same_spaces):
            return
        if config.config_space != space:
            raise ValueError(
                "the configuration comes from a different ConfigurationSpace than this "
                f"RunHistory's; got {dict(config)!r}. Build configurations from the space the "
                "RunHistory (or Optimizer) was created with."
            )
        self._same_spaces.append(config.config_space)

    @staticmethod
    def _describe(info: TrialInfo) -> str:
        return (
            f"(config_id={info.config_id}, budget={info.budget}, instance={info.instance!r}, "
            f"seed={info.seed})"
        )

    def __repr__(self) -> str:
        return (
            f"RunHistory({len(self)} trials, {len(self._configs)} configurations, "
            f"{len(self._running)} running" + (f", {len(self._aborted)} aborted)" if self._aborted else ")")
        )

    # ------------------------------------------------------------------ persistence
    def to_json(self) -> dict:
        """The whole history as a JSON-ready dict (see :meth:`save`)."""
        return {
            "format": _FORMAT,
            "version": 1,
            "configspace": space_to_json(self.configspace) if self.configspace is not None else None,
            "crash_cost": self.crash_cost,
            "direction": self.direction,
            "objectives": self.objectives,
            "configs": (configs_to_json(self.configspace, self._configs) if self.configspace is not None
                        else [config_to_json(c) for c in self._configs]),
            "trials": [_trial_to_json(k[0], i, v, self._walltime.get(k)) for k, (i, v) in self._trials.items()],
            "running": [_trial_to_json(k[0], i, None) for k, i in self._running.items()],
            "aborted": [_trial_to_json(k[0], i, v) for k, (i, v) in self._aborted.items()],
        }

    def save(self, path: PathLike) -> None:
        """Write the history to ``path`` as JSON, atomically (temp file, then rename)."""
        atomic_write_text(path, dumps(self.to_json()))

    @classmethod
    def from_json(cls, data: dict, configspace: Optional[ConfigurationSpace] = None, source: str = "data") -> "RunHistory":
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"{source} is not a smacish RunHistory (no 'format': '{_FORMAT}')")
        stored = data.get("configspace")
        if configspace is None:
            if stored is None:
                raise ValueError(f"{source} holds no configuration space; pass configspace=")
            configspace = space_from_json(stored)
        elif stored is not None and space_from_json(stored) != configspace:
            raise ValueError(
                f"{source} was written for a different configuration space than the one given; "
                "load it with the space it was written with (or configspace=None to use the "
                "stored one)"
            )
        direction = data.get("direction", "minimize")
        rh = cls(configspace, crash_cost=data.get("crash_cost"), direction=direction, objectives=data.get("objectives"))
        try:
            configs = [config_from_json(configspace, c) for c in data["configs"]]
            for c in configs:
                rh.config_number(c)
            for row in data["trials"]:
                info, value = _trial_from_json(row, configs)
                rh.add(info, value, walltime=row.get("walltime"))
            for row in data.get("running", []):
                rh.add_running(_trial_from_json(row, configs)[0])
            for row in data.get("aborted", []):
                rh.add(*_trial_from_json(row, configs))
        except (KeyError, IndexError, TypeError, AttributeError) as err:
            raise ValueError(f"{source} is a damaged smacish RunHistory: {type(err).__name__} {err}") from None
        return rh

    @classmethod
    def load(cls, path: PathLike, configspace: Optional[ConfigurationSpace] = None) -> "RunHistory":
        """Read a history written by :meth:`save`; refuses a file from another space."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON: {err}") from None
        return cls.from_json(data, configspace, source=str(path))

    def to_dataframe(self, selection: str = "highest_executed_budget", max_budget: Optional[float] = None) -> "Any":
        """One row per finished trial, in the order told (needs pandas): ``config_number`` (the
        configuration's number in this history), ``config_id`` (the trial's triplet), every
        hyperparameter, budget, instance, seed, cost, status, start/end time, ``walltime``
        (the run's clock when the trial was told: seconds since its first trial's ask, as in
        the trajectory; for trials added by hand, seconds from the first start to this
        trial's end) and ``incumbent_so_far`` (the
        incumbent's cost under ``selection`` once this trial was in). With several objectives,
        ``cost`` holds each trial's tuple, a column ``cost:<objective>`` each of its costs, and
        ``incumbent_so_far`` the size of the Pareto front once the trial was in."""
        try:
            import pandas as pd
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("to_dataframe needs pandas: pip install 'smacish[pandas]'") from err
        names = list(self.configspace.keys()) if self.configspace is not None else []
        fixed = {"config_number", "config_id", "budget", "instance", "seed", "cost", "time", "status", "starttime",
                 "endtime", "walltime", "incumbent_so_far"}
        # a hyperparameter named like a trial column keeps its values under "config:<name>"
        hp_columns = [f"config:{n}" if n in fixed else n for n in names]
        first_start = min((v.starttime for _, v in self._trials.values()), default=0.0)
        replay = RunHistory(crash_cost=self.crash_cost, direction=self.direction, objectives=self.objectives)
        objective_columns = [f"cost:{name}" for name in self.objectives or ()]
        rows = []
        for key, (info, value) in self._trials.items():
            row: Dict[str, Any] = {"config_number": key[0], "config_id": info.config_id}
            cfg = dict(info.config)
            for name, column in zip(names, hp_columns):
                row[column] = to_builtin(cfg.get(name))
            replay.add(info, value)
            judged = selection != "highest_budget" or max_budget
            if self.objectives is not None:
                inc = None
                front_size = len(replay.incumbents(selection, max_budget)) if judged else 0
                costs = value.cost if isinstance(value.cost, tuple) else (value.cost,) * self.n_objectives
                row.update(zip(objective_columns, costs))
            else:
                inc = replay.incumbent_entry(selection, max_budget) if judged else None
            row.update(
                budget=info.budget, instance=info.instance, seed=info.seed,
                cost=value.cost, time=value.time, status=value.status.value,
                starttime=value.starttime, endtime=value.endtime,
                walltime=self._walltime.get(key, value.endtime - first_start),
                incumbent_so_far=front_size if self.objectives is not None else inc.cost if inc else math.nan,
            )
            rows.append(row)
        columns = ["config_number", "config_id", *hp_columns, "budget", "instance", "seed", "cost", *objective_columns,
                   "time", "status", "starttime", "endtime", "walltime", "incumbent_so_far"]
        return pd.DataFrame(rows, columns=columns)

    def _repr_html_(self) -> str:
        rows = [("trials", f"{len(self)} finished, {len(self._running)} running"),
                ("configurations", str(len(self._configs))),
                ("budget spent", f"{self.budget_spent:g}")]
        if self.objectives is not None:
            front = self.incumbents()
            rows.append(("Pareto front", f"{len(front)} configuration(s) of objectives {', '.join(self.objectives)}"))
            body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
            return f"<table><caption>RunHistory</caption>{body}</table>"
        inc = self.incumbent_entry()
        if inc is not None:
            rows.append(("incumbent", f"config {inc.config_number}: cost {inc.cost:.6g} on budget {inc.budget:g}"))
            rows += [(f"&nbsp;&nbsp;{html.escape(str(k))}", html.escape(str(v))) for k, v in dict(inc.config).items()]
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
        return f"<table><caption>RunHistory</caption>{body}</table>"


def _renamed(old: str, new: str) -> None:
    warnings.warn(f"{old} is now {new}: config_id names a trial's (iteration, budget index, running index) "
                  "triplet; a RunHistory numbers its configurations", DeprecationWarning, stacklevel=3)


def objectives_error(objectives: Any) -> Optional[str]:
    """Why ``objectives`` is no list of objective names, or None (None is one objective)."""
    if objectives is None:
        return None
    if isinstance(objectives, str) or not isinstance(objectives, (list, tuple)):
        return f"objectives is {objectives!r}, but must be a list of names, e.g. ['error', 'latency']"
    if len(objectives) < 2:
        return (f"objectives is {list(objectives)!r}: give two or more names (for one objective, "
                "leave objectives out and return a single cost)")
    if not all(isinstance(name, str) and name for name in objectives):
        return f"objectives is {list(objectives)!r}, but every name must be a non-empty string"
    if len(set(objectives)) != len(objectives):
        return f"objectives is {list(objectives)!r}, but the names must differ"
    if {"cost", "loss"} & set(objectives):
        return f"objectives is {list(objectives)!r}; 'cost' and 'loss' are taken (a target's dict uses them)"
    return None


def _check_selection(selection: str) -> None:
    if selection not in INCUMBENT_SELECTIONS:
        raise ValueError(f"incumbent selection is {selection!r}, but must be one of {INCUMBENT_SELECTIONS}")


def _finite(cost: Any) -> bool:
    return all(map(math.isfinite, cost)) if isinstance(cost, tuple) else math.isfinite(cost)


def _trial_to_json(cid: int, info: TrialInfo, value: Optional[TrialValue], walltime: Optional[float] = None) -> dict:
    row: Dict[str, Any] = {
        "config": cid,
        "config_id": list(info.config_id) if info.config_id is not None else None,
        "budget": info.budget,
        "instance": info.instance,
        "seed": info.seed,
        "cutoff": info.cutoff,
    }
    if value is not None:
        row.update(
            cost=value.cost, time=value.time, status=value.status.value,
            starttime=value.starttime, endtime=value.endtime,
            additional_info=value.additional_info,
        )
    if walltime is not None:
        row["walltime"] = walltime
    return row


def _trial_from_json(row: dict, configs: List[Configuration]) -> Tuple[TrialInfo, Optional[TrialValue]]:
    info = TrialInfo(
        config=configs[row["config"] - 1],
        budget=row["budget"],
        instance=row["instance"],
        seed=row["seed"],
        config_id=tuple(row["config_id"]) if row["config_id"] is not None else None,
        cutoff=row.get("cutoff"),
    )
    if "cost" not in row:
        return info, None
    value = TrialValue(
        cost=row["cost"], time=row["time"], status=StatusType(row["status"]),
        starttime=row["starttime"], endtime=row["endtime"],
        additional_info=row.get("additional_info") or {},
    )
    return info, value
