"""Budget rungs and bracket sizes: pure functions, shared by the native intensifiers and the
HpBandSter layer.

>>> [n for n, _ in hyperband_brackets(1, 81, 3)[1]]
[34, 11, 3, 1]
>>> [n for n, _ in hyperband_brackets(1, 81, 3, rule="hpbandster")[1]]
[27, 9, 3, 1]
"""

from __future__ import annotations

import math
from typing import List, Tuple

Schedule = List[Tuple[int, float]]
"""One successive-halving run: ``(number of configurations, budget)`` per stage."""

BRACKET_RULES = ("li", "hpbandster")


def _is_integral(x: float) -> bool:
    return float(x).is_integer()


def _power(eta: float, k: int) -> float:
    return int(eta) ** k if _is_integral(eta) else eta**k


def max_stage(min_budget: float, max_budget: float, eta: float) -> int:
    """``s_max = floor(log_eta(max_budget / min_budget))``, computed without float drift."""
    s = 0
    while max_budget / _power(eta, s + 1) >= min_budget * (1 - 1e-12):
        s += 1
    return s


def stage_budgets(min_budget: float, max_budget: float, eta: float, integer: bool = False) -> List[float]:
    """Budgets of the ``s_max + 1`` rungs, ascending: ``max_budget * eta**-(s_max - i)``.

    The last is exactly ``max_budget``; with ``integer=True`` (instance-based budgets, a number
    of instance-seed pairs) they are rounded to whole numbers.

    >>> stage_budgets(1, 81, 3)
    [1.0, 3.0, 9.0, 27.0, 81.0]
    >>> [round(b, 4) for b in stage_budgets(0.1, 1.0, 3)]
    [0.1111, 0.3333, 1.0]
    """
    s_max = max_stage(min_budget, max_budget, eta)
    budgets = [float(max_budget) / _power(eta, s_max - i) for i in range(s_max + 1)]
    budgets[-1] = float(max_budget)
    if integer:
        budgets = [float(max(1, round(b))) for b in budgets]
    return budgets


def _floor_div(n: int, eta: float, i: int) -> int:
    if _is_integral(eta):
        return n // int(eta) ** i
    return int(math.floor(n / eta**i + 1e-9))


def bracket_sizes(s: int, s_max: int, eta: float, rule: str = "li") -> List[int]:
    """Number of configurations per stage of the bracket that runs ``s + 1`` stages.

    - ``"li"``: Algorithm 1 of Li et al. (JMLR 2018), as SMAC3 2.x, dask-ml and NNI:
      ``n = ceil((s_max + 1) / (s + 1) * eta**s)``, then ``floor(n * eta**-i)``.
    - ``"hpbandster"``: HpBandSter's (and SMAC3 1.x's) ``n0 = floor((s_max + 1) / (s + 1)) *
      eta**s``, then ``max(floor(n0 * eta**-i), 1)``.
    """
    if rule == "li":
        if _is_integral(eta):
            n = -(-(s_max + 1) * int(eta) ** s // (s + 1))  # exact ceil
        else:
            n = math.ceil((s_max + 1) * eta**s / (s + 1) - 1e-9)
        return [max(_floor_div(n, eta, i), 1) for i in range(s + 1)]
    if rule == "hpbandster":  # HpBandSter's own float arithmetic, so that it matches exactly
        n0 = int(math.floor((s_max + 1) / (s + 1)) * eta**s)
        return [max(int(n0 * (eta ** (-i))), 1) for i in range(s + 1)]
    raise ValueError(f"bracket rule is {rule!r}, but must be one of {BRACKET_RULES}")


def hyperband_brackets(
    min_budget: float, max_budget: float, eta: float, rule: str = "li", integer: bool = False
) -> List[Schedule]:
    """Every Hyperband bracket, most aggressive first: for each, ``(n_configs, budget)`` per stage."""
    budgets = stage_budgets(min_budget, max_budget, eta, integer)
    s_max = len(budgets) - 1
    brackets = []
    for s in range(s_max, -1, -1):
        sizes = bracket_sizes(s, s_max, eta, rule)
        brackets.append(list(zip(sizes, budgets[s_max - s:])))
    return brackets


def successive_halving_schedule(
    min_budget: float, max_budget: float, eta: float, n_initial: int | None = None, integer: bool = False
) -> Schedule:
    """Hyperband's first bracket; ``n_initial`` overrides the number of stage-0 configurations."""
    schedule = hyperband_brackets(min_budget, max_budget, eta, "li", integer)[0]
    if n_initial is None:
        return schedule
    return [(max(_floor_div(n_initial, eta, i), 1), b) for i, (_, b) in enumerate(schedule)]
