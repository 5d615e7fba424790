"""TrainingData: the RunHistory's finished trials as model input, per budget, read incrementally.

The multi-fidelity rule (BOHB's): the model is fit on the largest budget that has at least
``min_points`` configurations with a finished trial. Costs are the mean over a
configuration's instance-seed pairs on that budget; a crashed trial counts as the worst cost
seen on the budget. Runs without budgets (instance-based) have a single level.
"""

from __future__ import annotations

import math
from itertools import islice
from typing import Dict, List, Optional, Tuple

import numpy as np

from smacish.runhistory import RunHistory
from smacish.selection._encoding import SpaceEncoder
from smacish.trial import StatusType, TrialValue

NO_BUDGET = 0.0
"""The level of trials without a budget (real budgets are always > 0)."""


class _Level:
    """Per configuration on one budget: sum of successful costs, their count, crash count."""

    __slots__ = ("sums", "n_ok", "n_crashed", "n_trials", "worst", "best")

    def __init__(self) -> None:
        self.sums: Dict[int, float] = {}
        self.n_ok: Dict[int, int] = {}
        self.n_crashed: Dict[int, int] = {}
        self.n_trials = 0
        self.worst = -math.inf
        self.best = math.inf

    def add(self, cid: int, cost: Optional[float]) -> None:
        self.n_trials += 1
        self.sums.setdefault(cid, 0.0)
        self.n_ok.setdefault(cid, 0)
        self.n_crashed.setdefault(cid, 0)
        if cost is None:
            self.n_crashed[cid] += 1
        else:
            self.sums[cid] += cost
            self.n_ok[cid] += 1
            self.worst = max(self.worst, cost)
            self.best = min(self.best, cost)

    @property
    def n_configs(self) -> int:
        return len(self.sums)


class TrainingData:
    """Finished trials of one RunHistory, grouped by budget, ready to fit on.

    >>> from ConfigSpace import ConfigurationSpace
    >>> from smacish.trial import TrialInfo
    >>> cs = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    >>> rh = RunHistory(cs)
    >>> for c in cs.sample_configuration(3):
    ...     rh.add(TrialInfo(c, budget=1.0), TrialValue(cost=c["x"]))
    >>> data = TrainingData(SpaceEncoder(cs))
    >>> data.update(rh)  # trials read
    3
    >>> data.model_level(min_points=3), data.model_level(min_points=4)
    (1.0, None)
    """

    def __init__(self, encoder: SpaceEncoder):
        self.encoder = encoder
        self._levels: Dict[float, _Level] = {}
        self._rows: Dict[int, np.ndarray] = {}  # config id -> encoded row
        # instance-based runs: (config id, instance) -> [sum of successful costs, successes, crashes]
        self._pairs: Dict[Tuple[int, Optional[str]], List[float]] = {}
        self._runhistory_id: Optional[Tuple[int, int]] = None
        self._n_read = 0

    @property
    def n_read(self) -> int:
        """Trials read so far (the first ``n_read`` of the RunHistory, in the order told)."""
        return self._n_read

    def update(self, runhistory: RunHistory, limit: Optional[int] = None) -> int:
        """Read the trials added since the last call (up to the first ``limit`` of the
        RunHistory); returns how many were new."""
        # a scalarised view of several objectives is new at each proposal (its version says so)
        identity = (id(runhistory), getattr(runhistory, "version", 0))
        if identity != self._runhistory_id or len(runhistory) < self._n_read:
            self.__init__(self.encoder)
            self._runhistory_id = identity
        new = 0
        for info, value in islice(runhistory.items(), self._n_read, limit):
            cid = runhistory.config_number(info.config)
            if cid not in self._rows:
                self._rows[cid] = self.encoder.encode(info.config.get_array())[0]
            level = NO_BUDGET if info.budget is None else float(info.budget)
            entry = self._levels.get(level)
            if entry is None:
                entry = self._levels[level] = _Level()
            cost = _successful_cost(value, runhistory.sign)
            entry.add(cid, cost)
            if info.budget is None:
                pair = self._pairs.setdefault((cid, info.instance), [0.0, 0, 0])
                if cost is None:
                    pair[2] += 1
                else:
                    pair[0] += cost
                    pair[1] += 1
            new += 1
        self._n_read += new
        return new

    def n_trials(self, level: float) -> int:
        entry = self._levels.get(level)
        return entry.n_trials if entry else 0

    def model_level(self, min_points: int) -> Optional[float]:
        """The largest budget with at least ``min_points`` configurations (one or more of
        them successful), or None."""
        for level in sorted(self._levels, reverse=True):
            entry = self._levels[level]
            if entry.n_configs >= min_points and math.isfinite(entry.worst):
                return level
        return None

    def dataset(self, level: float, log_costs: bool = False) -> Tuple[np.ndarray, np.ndarray, List[int]]:
        """``(X, y, config ids)`` on ``level``; crashed trials count as the worst cost there.

        With ``log_costs``, ``y`` is ``log`` of the costs scaled to [0, 1] (plus 1e-3), which
        spreads out the small differences near the optimum that matter most.
        """
        entry = self._levels[level]
        ids = list(entry.sums)
        worst = entry.worst
        y = np.array([
            (entry.sums[c] + entry.n_crashed[c] * worst) / (entry.n_ok[c] + entry.n_crashed[c])
            for c in ids
        ])
        X = np.vstack([self._rows[c] for c in ids])
        if log_costs:
            y = log_transform(y)
        return X, y, ids

    def dataset_instances(self, features: Dict[str, np.ndarray], log_costs: bool = False
                          ) -> Tuple[np.ndarray, np.ndarray, List[int]]:
        """``(X, y, config ids)`` of an instance-based run: one row per configuration and
        instance, the instance's ``features`` appended, its mean cost over seeds as ``y``
        (crashes as the worst cost seen)."""
        worst = self._levels[NO_BUDGET].worst
        keys = list(self._pairs)
        y = np.array([(total + n_crashed * worst) / (n_ok + n_crashed)
                      for total, n_ok, n_crashed in (self._pairs[k] for k in keys)])
        X = np.vstack([np.concatenate([self._rows[cid], features[instance]]) for cid, instance in keys])
        return X, log_transform(y) if log_costs else y, [cid for cid, _ in keys]

    def levels(self) -> List[float]:
        """The budgets with at least one successful trial, ascending."""
        return sorted(level for level, entry in self._levels.items() if math.isfinite(entry.worst))

    def best_costs(self) -> Dict[float, float]:
        """The lowest successful cost seen on each budget (inf where none succeeded)."""
        return {level: entry.best for level, entry in self._levels.items()}

    def n_trials_total(self) -> int:
        """Finished trials on every budget."""
        return sum(entry.n_trials for entry in self._levels.values())

    def rank_correlation(self, level: float, other: float) -> Tuple[float, int]:
        """Spearman rank correlation of the mean costs on two budgets over the configurations
        run on both (with a success on each), and how many there are."""
        a, b = self._levels[level], self._levels[other]
        both = [c for c in a.sums if c in b.sums and a.n_ok[c] and b.n_ok[c]]
        if len(both) < 3:
            return math.nan, len(both)
        ra = np.argsort(np.argsort([a.sums[c] / a.n_ok[c] for c in both]))
        rb = np.argsort(np.argsort([b.sums[c] / b.n_ok[c] for c in both]))
        return float(np.corrcoef(ra, rb)[0, 1]), len(both)

    def informative_levels(self, min_correlation: Optional[float], min_pairs: int = 5) -> List[float]:
        """The budgets whose results can be trusted to rank configurations as the larger
        budgets do. From the largest budget down, each budget is compared with the next larger
        one over the configurations run on both; the first whose rank correlation is
        ``min_correlation`` or less (with at least ``min_pairs`` such configurations) is left
        out, and every smaller budget with it, since it would be judged by a budget that
        misleads. None: every budget."""
        levels = self.levels()
        if min_correlation is None:
            return levels
        for i in range(len(levels) - 1, 0, -1):
            rho, pairs = self.rank_correlation(levels[i - 1], levels[i])
            if pairs >= min_pairs and rho <= min_correlation:
                return levels[i:]
        return levels

    def dataset_all(self, log_costs: bool = False, levels: Optional[List[float]] = None) -> Tuple[np.ndarray, np.ndarray, List[int]]:
        """``(X, y, config ids)`` of every budget with a successful trial (or of ``levels``):
        one row per configuration and budget, the last column the budget (its log, scaled to
        [0, 1] over those budgets: 1 is the largest); with ``log_costs``, all costs
        transformed together."""
        levels = self.levels() if levels is None else levels
        low, high = math.log(levels[0]), math.log(levels[-1])
        Xs, ys, ids = [], [], []
        for level in levels:
            X, y, level_ids = self.dataset(level)
            position = (math.log(level) - low) / (high - low) if high > low else 1.0
            Xs.append(np.hstack([X, np.full((len(X), 1), position)]))
            ys.append(y)
            ids.extend(level_ids)
        y = np.concatenate(ys)
        return np.vstack(Xs), log_transform(y) if log_costs else y, ids


def log_transform(y: np.ndarray) -> np.ndarray:
    """``log(scaled + 1e-3)`` with costs scaled to [0, 1]; order-preserving.

    >>> log_transform(np.array([1.0, 2.0, 3.0])).round(2).tolist()
    [-6.91, -0.69, 0.0]
    """
    low, high = float(np.min(y)), float(np.max(y))
    span = high - low
    scaled = (y - low) / span if span > 0 else np.zeros_like(y)
    return np.log(scaled + 1e-3)


def _successful_cost(value: TrialValue, sign: float = 1.0) -> Optional[float]:
    """The cost the model learns from (lower is better: ``sign`` -1 negates a cost to
    maximise), or None for a crashed trial (imputed later)."""
    if value.status is StatusType.SUCCESS or (
        value.status is StatusType.TIMEOUT and math.isfinite(value.cost)
    ):
        return sign * value.cost
    return None
