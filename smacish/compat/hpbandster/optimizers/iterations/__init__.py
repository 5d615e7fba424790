"""Iterations: one successive-halving run each."""

from smacish.compat.hpbandster.optimizers.iterations.successivehalving import SuccessiveHalving

__all__ = ["SuccessiveHalving"]
