"""Configuration selectors: where new configurations come from."""

from smacish.selection._base import ConfigSelector
from smacish.selection.kde import KDESelector
from smacish.selection.random import RandomSelector
from smacish.selection.random_forest import RandomForestSelector

__all__ = ["ConfigSelector", "KDESelector", "RandomForestSelector", "RandomSelector"]
