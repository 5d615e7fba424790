"""Acquisition maximisation: a scored pool of candidates, built once per model fit.

``build_pool`` scores a large batch of random configurations in one vectorised ``predict``
call and runs a local search (one-exchange neighbourhood) from the best evaluated
configurations and the best random ones, all starts together, one ``predict`` call per step.
Every scored candidate stays in the :class:`CandidatePool`.

Successive proposals from one pool must differ, and so must proposals made while other trials
are pending: the pool multiplies each candidate's score by a penalty that vanishes at every
configuration proposed or pending since the fit (a local penalisation, cheaper than refitting
the forest with "constant liar" values).
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from smacish.selection._encoding import SpaceEncoder
from smacish.selection._sampling import SpaceSampler

Scorer = Callable[[np.ndarray], np.ndarray]
"""Model input rows -> acquisition values (higher is better)."""


class CandidatePool:
    """Candidates with their acquisition values; pick the best, penalise around picks.

    >>> import numpy as np
    >>> from ConfigSpace import ConfigurationSpace
    >>> enc = SpaceEncoder(ConfigurationSpace({"x": (0.0, 1.0)}))
    >>> V = np.array([[0.10], [0.11], [0.90], [0.50]])
    >>> pool = CandidatePool(enc, V, enc.encode(V), np.array([1.0, 0.99, 0.8, 0.0]), radius=0.1)
    >>> first = pool.best(); pool.use(first); pool.penalise(enc.encode(V[first]))
    >>> first, pool.best()  # 0.11 sits next to 0.10: 0.90 is now the better candidate
    (0, 2)
    """

    def __init__(self, encoder: SpaceEncoder, vectors: np.ndarray, X: np.ndarray, acquisition: np.ndarray,
                 radius: float):
        self.encoder = encoder
        self.vectors = vectors
        self.X = X
        self.acquisition = acquisition
        shifted = acquisition - acquisition.min() if len(acquisition) else acquisition
        top = float(shifted.max()) if len(shifted) else 0.0
        # a small floor keeps the penalty meaningful where the acquisition is flat (e.g. 0)
        self._base = shifted + (1e-3 * top if top > 0 else 1.0)
        self._penalty = np.ones(len(acquisition))
        self._available = np.ones(len(acquisition), dtype=bool)
        self._two_r2 = 2.0 * radius * radius

    def __len__(self) -> int:
        return int(self._available.sum())

    def best(self) -> Optional[int]:
        """Index of the available candidate with the highest penalised score, or None."""
        if not self._available.any():
            return None
        score = np.where(self._available, self._base * self._penalty, -np.inf)
        return int(np.argmax(score))

    def use(self, index: int) -> None:
        self._available[index] = False

    def penalise(self, x: np.ndarray) -> None:
        """Lower the scores around ``x`` (an encoded configuration): to 0 at ``x`` itself."""
        if self._two_r2 <= 0 or not len(self.X):
            return
        d2 = self.encoder.distance_sq(self.X, np.asarray(x, dtype=float).ravel())
        self._penalty *= -np.expm1(-d2 / self._two_r2)

    def __repr__(self) -> str:
        return f"CandidatePool({len(self)} of {len(self.acquisition)} available)"


def top_indices(values: np.ndarray, k: int) -> np.ndarray:
    """The indices of the ``k`` highest ``values``, highest first, ties by index: exactly
    ``np.argsort(-values, kind="stable")[:k]``, without sorting all of them.

    >>> top_indices(np.array([0.2, 0.9, 0.5, 0.9]), 3).tolist()
    [1, 3, 2]
    """
    negated = -np.asarray(values, dtype=float)
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    if k >= len(negated):
        return np.argsort(negated, kind="stable")
    kth = np.partition(negated, k - 1)[k - 1]
    if np.isnan(kth):  # fewer than k numbers: NaNs sort last, as argsort puts them
        return np.argsort(negated, kind="stable")[:k]
    chosen = np.flatnonzero(negated <= kth)  # in index order, so the stable sort keeps ties so
    return chosen[np.argsort(negated[chosen], kind="stable")][:k]


def local_search(
    sampler: SpaceSampler,
    encoder: SpaceEncoder,
    score: Scorer,
    starts: np.ndarray,
    max_steps: int = 20,
):
    """Best-improvement hill climbing in the one-exchange neighbourhood, every start at once.

    Returns ``(vectors, values)`` of every configuration scored on the way, starts included.
    """
    current = np.array(starts, dtype=float, ndmin=2)
    current_value = score(encoder.encode(current))
    seen_vectors = [current]
    seen_values = [current_value]
    active = np.arange(len(current))
    for _ in range(max_steps):
        if not active.size:
            break
        N, parent = sampler.neighbours(current[active])
        if not len(N):
            break
        values = score(encoder.encode(N))
        seen_vectors.append(N)
        seen_values.append(values)
        # best neighbour of each active start: sort by (parent, -value), first of each parent
        order = np.lexsort((-values, parent))
        first = order[np.r_[True, parent[order][1:] != parent[order][:-1]]]
        starts_idx = parent[first]
        improved = values[first] > current_value[active[starts_idx]] + 1e-12
        moved = active[starts_idx[improved]]
        current[moved] = N[first[improved]]
        current_value[moved] = values[first[improved]]
        active = moved
    return np.vstack(seen_vectors), np.concatenate(seen_values)


def build_pool(
    sampler: SpaceSampler,
    encoder: SpaceEncoder,
    score: Scorer,
    good_vectors: np.ndarray,
    n_random: int = 5000,
    n_local_starts: int = 10,
    max_steps: int = 20,
    radius: float = 0.1,
) -> CandidatePool:
    """Score ``n_random`` random configurations, then search locally from the
    ``n_local_starts`` best of ``good_vectors`` (the best evaluated configurations, best first)
    and the ``n_local_starts`` best random ones; keep everything scored in one pool."""
    random_vectors = sampler.sample(n_random)
    random_X = encoder.encode(random_vectors)
    random_values = score(random_X) if len(random_X) else np.empty(0)
    top_random = random_vectors[top_indices(random_values, n_local_starts)]
    starts = np.vstack([np.array(good_vectors, dtype=float, ndmin=2)[:n_local_starts], top_random])
    if len(starts) and max_steps > 0:
        ls_vectors, ls_values = local_search(sampler, encoder, score, starts, max_steps)
        vectors = np.vstack([random_vectors, ls_vectors])
        values = np.concatenate([random_values, ls_values])
    else:
        vectors, values = random_vectors, random_values
    return CandidatePool(encoder, vectors, encoder.encode(vectors), values, radius)
