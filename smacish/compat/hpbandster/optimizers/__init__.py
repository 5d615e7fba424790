"""The optimizers: BOHB, HyperBand and RandomSearch, with HpBandSter's constructor arguments."""

from smacish.compat.hpbandster.optimizers.bohb import BOHB
from smacish.compat.hpbandster.optimizers.hyperband import HyperBand
from smacish.compat.hpbandster.optimizers.randomsearch import RandomSearch

__all__ = ["BOHB", "HyperBand", "RandomSearch"]
