"""Intensifiers: race configurations on growing budgets."""

from smacish.intensifiers._brackets import hyperband_brackets, stage_budgets, successive_halving_schedule
from smacish.intensifiers.hyperband import Hyperband
from smacish.intensifiers.parallel_scheduler import ParallelScheduler
from smacish.intensifiers.successive_halving import SuccessiveHalving

__all__ = [
    "Hyperband",
    "ParallelScheduler",
    "SuccessiveHalving",
    "hyperband_brackets",
    "stage_budgets",
    "successive_halving_schedule",
]
