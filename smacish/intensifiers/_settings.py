"""The checks of an intensifier's settings, as pure functions: each problem is one message
that says what is wrong and what to use instead."""

from __future__ import annotations

import math
import warnings
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from smacish.intensifiers._brackets import stage_budgets
from smacish.runhistory import INCUMBENT_SELECTIONS

INSTANCE_ORDERS = (None, "shuffle_once", "shuffle")


def default_budgets(min_budget: Optional[float], max_budget: Optional[float], instances: Optional[Sequence[str]],
                    n_seeds: int) -> Tuple[Optional[float], Optional[float]]:
    """With instances, the budgets default to 1 and every instance-seed pair."""
    if instances and isinstance(n_seeds, int):
        min_budget = 1 if min_budget is None else min_budget
        max_budget = len(instances) * n_seeds if max_budget is None else max_budget
    return min_budget, max_budget


def setting_errors(min_budget, max_budget, eta, instances, n_seeds, instance_order, deterministic,
                   num_initial_challengers, incumbent_selection, min_chall, cutoff,
                   adaptive_capping_slackfactor) -> List[str]:
    """What is wrong with an intensifier's arguments (empty: nothing).

    >>> setting_errors(1, 9, 1, None, 1, None, False, None, "any_budget", 1, None, 1.2)
    ['eta is 1, but must be a number > 1']
    """
    errors = []
    if instances is not None:
        if not instances or not all(isinstance(i, str) for i in instances):
            errors.append(f"instances must be a non-empty list of str, got {instances!r}")
        elif len(set(instances)) != len(instances):
            repeated = sorted({i for i in instances if instances.count(i) > 1})
            errors.append(f"instances must be distinct, but {repeated!r} repeat")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        errors.append(f"n_seeds is {n_seeds!r}, but must be an int >= 1")
    elif deterministic and n_seeds != 1:
        errors.append(f"n_seeds is {n_seeds}, but must be 1 when deterministic=True")
    n_pairs = len(instances) * n_seeds if instances and isinstance(n_seeds, int) else None
    if not _is_number(min_budget) or not _is_number(max_budget):
        errors.append(
            f"min_budget and max_budget must be numbers, got {min_budget!r} and {max_budget!r}"
        )
    elif not 0 < min_budget <= max_budget or not math.isfinite(max_budget):
        errors.append(
            f"budgets must satisfy 0 < min_budget <= max_budget < inf, got "
            f"min_budget={min_budget!r}, max_budget={max_budget!r}"
        )
    elif n_pairs is not None and max_budget > n_pairs:
        errors.append(
            f"max_budget is {max_budget}, but with {len(instances)} instances x {n_seeds} "
            f"seeds there are only {n_pairs} instance-seed pairs"
        )
    if not _is_number(eta) or not eta > 1:
        errors.append(f"eta is {eta!r}, but must be a number > 1")
    if instance_order not in INSTANCE_ORDERS:
        errors.append(f"instance_order is {instance_order!r}, but must be one of {INSTANCE_ORDERS}")
    if num_initial_challengers is not None and (
        isinstance(num_initial_challengers, bool)
        or not isinstance(num_initial_challengers, int)
        or num_initial_challengers < 1
    ):
        errors.append(
            f"num_initial_challengers is {num_initial_challengers!r}, but must be None or an int >= 1"
        )
    if incumbent_selection not in INCUMBENT_SELECTIONS:
        errors.append(
            f"incumbent_selection is {incumbent_selection!r}, but must be one of {INCUMBENT_SELECTIONS}"
        )
    if min_chall != 1:
        errors.append(
            f"min_chall is {min_chall!r}, but successive halving races every challenger of a "
            "stage, so it must be 1"
        )
    if cutoff is not None and (not _is_number(cutoff) or not cutoff > 0):
        errors.append(f"cutoff is {cutoff!r}, but must be None or a number of seconds > 0")
    if not _is_number(adaptive_capping_slackfactor) or adaptive_capping_slackfactor < 1:
        errors.append(
            f"adaptive_capping_slackfactor is {adaptive_capping_slackfactor!r}, but must be >= 1"
        )
    return errors


def rung_problems(min_budget: float, max_budget: float, eta: float, integer: bool) -> List[str]:
    """Budget settings that cannot give the rungs they seem to ask for: refused, or warned about."""
    budgets = stage_budgets(float(min_budget), float(max_budget), eta, integer=integer)
    if integer and len(set(budgets)) < len(budgets):
        return [f"with min_budget={min_budget:g}, max_budget={max_budget:g} and eta={eta}, the rungs round to "
                f"{[int(b) for b in budgets]} instance-seed pairs, repeating one; use a larger eta or more "
                "instances"]
    if len(budgets) == 1 and min_budget < max_budget:
        warnings.warn(
            f"min_budget={min_budget:g}, max_budget={max_budget:g} with eta={eta} give one budget only "
            f"({max_budget:g}): two rungs need max_budget / min_budget >= eta. Lower eta (e.g. eta=2) or widen "
            "the range, or set min_budget=max_budget to say you mean one budget",
            UserWarning, stacklevel=3,
        )
    return []


def schedule_errors(schedules: Any, min_budget: Optional[float], max_budget: Optional[float],
                    integer: bool) -> List[str]:
    """What is wrong with a ``ParallelScheduler(schedules=...)``: one or more brackets, each a
    list of ``(n_configs, budget)`` stages with at least one configuration, no more than the
    stage before, on budgets that grow within ``[min_budget, max_budget]`` (whole numbers of
    instance-seed pairs with ``integer``).

    >>> schedule_errors([[(9, 1), (3, 3), (1, 9)], [(3, 9), (4, 27)]], 1, 27, False)
    ['bracket 1: stage 1 has 4 configurations, more than the 3 of the stage before']
    """
    if not isinstance(schedules, (list, tuple)) or not schedules:
        return [f"schedules is {schedules!r}, but must be a non-empty list of brackets, each a list of "
                "(n_configs, budget) stages, e.g. [[(9, 1), (3, 3), (1, 9)], [(3, 9)]]"]
    errors = []
    for k, bracket in enumerate(schedules):
        try:
            stages = [(n, b) for n, b in bracket]
        except (TypeError, ValueError):
            errors.append(f"bracket {k} is {bracket!r}, but must be a list of (n_configs, budget) pairs")
            continue
        if not stages:
            errors.append(f"bracket {k} has no stage")
        for i, (n, b) in enumerate(stages):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                errors.append(f"bracket {k}: stage {i} has n_configs {n!r}, but it must be an int >= 1")
            elif i and n > stages[i - 1][0]:
                errors.append(f"bracket {k}: stage {i} has {n} configurations, more than the "
                              f"{stages[i - 1][0]} of the stage before")
            if isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating)) or not b > 0:
                errors.append(f"bracket {k}: stage {i} has budget {b!r}, but it must be a number > 0")
                continue
            if i and not b > stages[i - 1][1]:
                errors.append(f"bracket {k}: stage {i} has budget {b:g}, not above the {stages[i - 1][1]:g} before")
            if integer and b != int(b):
                errors.append(f"bracket {k}: stage {i} has budget {b:g}, but with instances a budget is a whole "
                              "number of instance-seed pairs")
            if min_budget is not None and max_budget is not None and not min_budget <= b <= max_budget:
                errors.append(f"bracket {k}: stage {i} has budget {b:g}, outside [{min_budget:g}, {max_budget:g}]")
    return errors


def asynchronous_errors(asynchronous: Any, num_initial_challengers: Optional[int], cutoff: Optional[float],
                        run_obj_time: bool) -> List[str]:
    """What ``asynchronous=True`` cannot be combined with (empty: nothing).

    >>> asynchronous_errors("yes", None, None, False)
    ["asynchronous is 'yes', but must be True or False"]
    """
    if not isinstance(asynchronous, bool):
        return [f"asynchronous is {asynchronous!r}, but must be True or False"]
    errors = []
    if asynchronous and num_initial_challengers is not None:
        errors.append(f"num_initial_challengers is {num_initial_challengers}, but asynchronous successive halving "
                      "has no first stage of fixed size (it takes new configurations until the budget is spent); "
                      "leave it None, or use asynchronous=False")
    if asynchronous and run_obj_time and cutoff is not None:
        errors.append("adaptive capping (run_obj_time=True with a cutoff) compares against a finished stage, and an "
                      "asynchronous rung never finishes; use asynchronous=False, or run_obj_time=False")
    return errors


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
