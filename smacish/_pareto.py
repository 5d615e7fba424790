"""Several objectives: Pareto dominance, non-dominated sorting with crowding distance (NSGA-II's
order, which promotion uses) and ParEGO's random scalarisation (which the models learn from).

Every cost vector here is minimised in each component.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from smacish.trial import StatusType

Costs = Sequence[float]


def dominates(a: Costs, b: Costs) -> bool:
    """True if ``a`` is no worse than ``b`` in every objective and better in one.

    >>> dominates((1, 2), (1, 3)), dominates((1, 2), (1, 2)), dominates((0, 3), (1, 2))
    (True, False, False)
    """
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def non_dominated_fronts(costs: Sequence[Costs], limit: Optional[int] = None) -> List[List[int]]:
    """Indices of ``costs`` sorted into fronts: the first front is dominated by none, the
    second only by the first, and so on (each peeled off the rest with :func:`pareto_front`);
    with ``limit``, only until the fronts hold that many points.

    >>> non_dominated_fronts([(1, 3), (2, 2), (3, 3), (2, 1)])
    [[0, 3], [1], [2]]
    """
    remaining = list(range(len(costs)))
    fronts: List[List[int]] = []
    taken = 0
    while remaining and (limit is None or taken < limit):
        front = [remaining[p] for p in pareto_front([costs[i] for i in remaining])]
        fronts.append(front)
        taken += len(front)
        chosen = set(front)
        remaining = [i for i in remaining if i not in chosen]
    return fronts


def crowding_distances(costs: Sequence[Costs], front: Sequence[int]) -> List[float]:
    """NSGA-II's crowding distance of each member of ``front`` (in its order): the summed,
    range-normalised gap between its neighbours in each objective; the extremes get inf.

    >>> crowding_distances([(0, 4), (1, 2), (3, 1), (4, 0)], [0, 1, 2, 3])
    [inf, 1.5, 1.25, inf]
    """
    distance = [0.0] * len(front)
    if len(front) <= 2:
        return [math.inf] * len(front)
    for k in range(len(costs[front[0]])):
        order = sorted(range(len(front)), key=lambda p: costs[front[p]][k])
        low, high = costs[front[order[0]]][k], costs[front[order[-1]]][k]
        distance[order[0]] = distance[order[-1]] = math.inf
        if not high > low or not math.isfinite(high - low):
            continue
        for p in range(1, len(order) - 1):
            gap = costs[front[order[p + 1]]][k] - costs[front[order[p - 1]]][k]
            distance[order[p]] += gap / (high - low)
    return distance


def pareto_order(costs: Sequence[Costs], limit: Optional[int] = None) -> List[int]:
    """Indices of ``costs``, best first: by front, then by crowding distance (larger first, so
    that a promotion keeps the front spread out), then by index; with ``limit``, at least the
    best ``limit`` (whole fronts), not necessarily all.

    >>> pareto_order([(3, 3), (0, 4), (2, 2), (4, 0), (1, 2.5)])
    [1, 3, 2, 4, 0]
    """
    order: List[int] = []
    for front in non_dominated_fronts(costs, limit):
        distance = crowding_distances(costs, front)
        order += [front[p] for p in sorted(range(len(front)), key=lambda p: (-distance[p], front[p]))]
    return order


def pareto_front(costs: Sequence[Costs]) -> List[int]:
    """Indices of the non-dominated members of ``costs``, ascending (equal costs all kept).

    In lexicographic order a point comes after every point that dominates it, and a point
    dominated by anyone is dominated by a member of the front, so one pass that checks each
    point against the front found so far suffices: O(n x front size).

    >>> pareto_front([(1, 3), (2, 2), (3, 3), (2, 1)])
    [0, 3]
    """
    front: List[int] = []
    for i in sorted(range(len(costs)), key=lambda i: (tuple(costs[i]), i)):
        if not any(dominates(costs[j], costs[i]) for j in front):
            front.append(i)
    return sorted(front)


def random_weights(rng: np.random.Generator, n_objectives: int) -> np.ndarray:
    """Weights drawn uniformly from the simplex (they are positive and sum to 1)."""
    return rng.dirichlet(np.ones(n_objectives))


def parego(costs: np.ndarray, weights: np.ndarray, rho: float = 0.05) -> np.ndarray:
    """ParEGO's augmented Chebyshev scalarisation (Knowles 2006) of a ``(n, objectives)``
    array: each objective scaled to [0, 1] over the finite rows, then
    ``max_k w_k f_k + rho * sum_k w_k f_k``. A row with an infinite cost (a crash) stays inf.

    >>> parego(np.array([[0.0, 10.0], [1.0, 0.0], [0.5, 5.0]]), np.array([0.5, 0.5])).round(3).tolist()
    [0.525, 0.525, 0.275]
    """
    costs = np.asarray(costs, dtype=float)
    finite = np.isfinite(costs).all(axis=1)
    out = np.full(len(costs), math.inf)
    if not finite.any():
        return out
    low, high = costs[finite].min(axis=0), costs[finite].max(axis=0)
    scaled = (costs[finite] - low) / np.where(high > low, high - low, 1.0)
    weighted = scaled * weights
    out[finite] = weighted.max(axis=1) + rho * weighted.sum(axis=1)
    return out


class ScalarizedHistory:
    """What a model sees of a RunHistory with several objectives: every trial with one cost,
    ParEGO's scalarisation of its costs under ``weights`` (crashes stay inf). It answers the
    questions the selectors ask of a RunHistory (``items``, ``effective_cost``, ``config_number``,
    ``has_config``, ``get_config``, ``sign``, ``len``); a new one per proposal, so that each
    proposal follows its own random weights."""

    _versions = itertools.count(1)

    def __init__(self, runhistory: Any, weights: np.ndarray):
        self.runhistory = runhistory
        self.weights = weights
        self.version = next(self._versions)  # models keyed on a history start afresh on a new one
        self.sign = 1.0
        self.objectives = None
        trials = list(runhistory.items())
        costs = np.array([runhistory.effective_cost(value) for _, value in trials], dtype=float)
        scalar = parego(costs, weights) if len(trials) else np.empty(0)
        self._items = [(info, replace(value, cost=float(s) if value.status is StatusType.SUCCESS else math.inf))
                       for (info, value), s in zip(trials, scalar)]

    def items(self) -> Iterator[Tuple[Any, Any]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def effective_cost(self, value: Any) -> float:
        return value.cost if value.status is StatusType.SUCCESS else math.inf

    def config_number(self, config: Any) -> int:
        return self.runhistory.config_number(config)

    def has_config(self, config: Any) -> bool:
        return self.runhistory.has_config(config)

    def get_config(self, config_number: int) -> Any:
        return self.runhistory.get_config(config_number)
