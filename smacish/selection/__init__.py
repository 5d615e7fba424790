"""Configuration selectors: where new configurations come from."""

from smacish.selection._base import ConfigSelector
from smacish.selection.random import RandomSelector

__all__ = ["ConfigSelector", "RandomSelector"]
