"""Configuration selectors: where new configurations come from."""

from typing import Callable, Dict

from ConfigSpace import ConfigurationSpace

from smacish.selection._base import ConfigSelector
from smacish.selection._kde import KDESelector
from smacish.selection._random import RandomSelector
from smacish.selection._random_forest import RandomForestSelector

# the selectors an Optimizer takes by name, each made from the space and a seed
SELECTORS: Dict[str, Callable[[ConfigurationSpace, int], ConfigSelector]] = {
    "random": lambda space, seed: RandomSelector(space, seed=seed),
    "rf": lambda space, seed: RandomForestSelector(space, seed=seed),
    "kde": lambda space, seed: KDESelector(space, seed=seed),
}

__all__ = ["SELECTORS", "ConfigSelector", "KDESelector", "RandomForestSelector", "RandomSelector"]
