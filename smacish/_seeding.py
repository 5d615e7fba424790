"""One seeding rule for the whole library: a seed is an int, a ``numpy.random.Generator`` or
a ``numpy.random.RandomState``, turned into an int in one place.

A generator gives the int it draws next (``integers(2**31 - 1)``, ``randint(2**31 - 1)`` for a
RandomState, as scikit-learn's search does): the same generator state gives the same int, so
the same run. That int is what a run keeps (``opt.seed``, the run directory's ``optimizer.json``); the generator
itself is not saved, and it has moved on by one draw.

>>> as_seed(7)
7
>>> import numpy as np
>>> as_seed(np.random.default_rng(0)) == as_seed(np.random.default_rng(0))
True
>>> as_seed("0")
Traceback (most recent call last):
...
ValueError: seed is '0' (str), but must be an int >= 0, a numpy.random.Generator or a numpy.random.RandomState
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

Seed = Union[int, np.integer, np.random.Generator, np.random.RandomState]
SEED_KINDS = "an int >= 0, a numpy.random.Generator or a numpy.random.RandomState"


def seed_error(seed: Any, name: str = "seed") -> Optional[str]:
    """What is wrong with ``seed`` (None: nothing); draws nothing."""
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        return f"{name} is {seed!r} ({type(seed).__name__}), but must be {SEED_KINDS}"
    if seed < 0:
        return f"{name} is {seed!r}, but must be {SEED_KINDS}"
    return None


def as_seed(seed: Any, name: str = "seed") -> int:
    """``seed`` as an int (a generator draws it); ValueError for anything else."""
    problem = seed_error(seed, name)
    if problem:
        raise ValueError(problem)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31 - 1))
    if isinstance(seed, np.random.RandomState):
        return int(seed.randint(2**31 - 1))
    return int(seed)
