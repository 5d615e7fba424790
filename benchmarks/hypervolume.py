"""Two-objective Pareto fronts and their hypervolume (both objectives minimised). Numpy only.

The hypervolume of a set of points at a reference point ``r`` is the area of the region that
some point dominates and that dominates ``r``; for a front sorted by the first objective it is
an exact sum of rectangles (a sweep, O(n log n)). The *hypervolume regret* of a run is the true
front's hypervolume minus the hypervolume of what the run found: 0 for the whole front.

>>> hypervolume_2d([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]], (1.0, 1.0))
0.25
>>> non_dominated([[1, 1], [0, 2], [2, 2], [1, 1]]).tolist()
[[0.0, 2.0], [1.0, 1.0]]
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _points(points: Sequence[Sequence[float]]) -> np.ndarray:
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    if not np.all(np.isfinite(p)):
        raise ValueError("points must be finite")
    return p


def non_dominated(points: Sequence[Sequence[float]]) -> np.ndarray:
    """The points no other point dominates (weakly better in both, strictly in one), each once,
    sorted by the first objective (so the second decreases)."""
    p = _points(points)
    if not len(p):
        return p
    order = np.lexsort((p[:, 1], p[:, 0]))  # by f1, then f2
    keep, best_f2 = [], np.inf
    for i in order:
        if p[i, 1] < best_f2:
            keep.append(i)
            best_f2 = p[i, 1]
    return p[keep]


def hypervolume_2d(points: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """The area dominated by ``points`` and bounded by ``reference``; points that do not
    strictly dominate the reference point add nothing."""
    r1, r2 = float(reference[0]), float(reference[1])
    p = _points(points)
    p = p[(p[:, 0] < r1) & (p[:, 1] < r2)]
    front = non_dominated(p)
    if not len(front):
        return 0.0
    right = np.append(front[1:, 0], r1)
    return float(np.sum((right - front[:, 0]) * (r2 - front[:, 1])))


def hypervolume_regret(points: Sequence[Sequence[float]], reference: Sequence[float], true_hv: float) -> float:
    """``true_hv - hypervolume_2d(points, reference)``, never below 0 (a finite sample of the
    true front can only approach ``true_hv`` from below; the clip absorbs rounding)."""
    return max(0.0, float(true_hv) - hypervolume_2d(points, reference))
