"""Acquisition functions: how promising a candidate is, given the model's mean and variance.

Pure, vectorised functions of ``(mean, variance, best)`` for a cost to *minimise*; each
returns a score to *maximise*.
"""

from __future__ import annotations

from typing import Callable, Dict

import numpy as np
from scipy.special import ndtr

_SQRT_2PI = np.sqrt(2.0 * np.pi)
_MIN_STD = 1e-12


def expected_improvement(mean: np.ndarray, variance: np.ndarray, best: float,
                         xi: float = 0.0) -> np.ndarray:
    """E[max(best - xi - f(x), 0)] under a normal with that mean and variance.

    >>> round(float(expected_improvement(np.array([0.0]), np.array([1.0]), best=0.0)[0]), 4)
    0.3989
    """
    std = np.sqrt(np.maximum(variance, 0.0))
    gain = best - xi - mean
    safe = np.maximum(std, _MIN_STD)
    z = gain / safe
    ei = gain * ndtr(z) + std * np.exp(-0.5 * z * z) / _SQRT_2PI
    return np.where(std > _MIN_STD, np.maximum(ei, 0.0), np.maximum(gain, 0.0))


def probability_of_improvement(mean: np.ndarray, variance: np.ndarray, best: float,
                               xi: float = 0.0) -> np.ndarray:
    """P[f(x) < best - xi].

    >>> float(probability_of_improvement(np.array([0.0]), np.array([1.0]), best=0.0)[0])
    0.5
    """
    std = np.sqrt(np.maximum(variance, 0.0))
    gain = best - xi - mean
    return np.where(std > _MIN_STD, ndtr(gain / np.maximum(std, _MIN_STD)), (gain > 0).astype(float))


def lower_confidence_bound(mean: np.ndarray, variance: np.ndarray, best: float,
                           kappa: float = 2.0) -> np.ndarray:
    """The negated lower confidence bound ``-(mean - kappa * std)`` (``best`` is unused).

    >>> float(lower_confidence_bound(np.array([1.0]), np.array([4.0]), best=0.0)[0])
    3.0
    """
    return -(mean - kappa * np.sqrt(np.maximum(variance, 0.0)))


ACQUISITIONS: Dict[str, Callable[..., np.ndarray]] = {
    "ei": expected_improvement,
    "pi": probability_of_improvement,
    "lcb": lower_confidence_bound,
}
