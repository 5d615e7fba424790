"""Adapters: each optimiser library behind the same small interface, run in its own venv.

Each adapter module defines ``LIBRARY`` (the distribution name), ``VENV`` (the directory under
``.bench-venvs/``, or None for this project's own venv), ``variants()`` and either
``make(variant, problem, seed, n_workers=1, n_trials=None) -> AskTell`` (ask/tell libraries;
``n_trials``: how many evaluations the run's budget allows, for libraries whose defaults depend
on it, see :func:`hyperband_trials`) or
``run(variant, problem, recorder)`` (libraries that own their loop, like HpBandSter).
``benchmarks.peers._run`` executes one batch of work inside the adapter's venv and writes JSON.

Nothing here imports a peer library: each adapter imports its library only when used.
"""

from __future__ import annotations

import math
from typing import Dict, NamedTuple, Optional


class AdapterSpec(NamedTuple):
    module: str
    venv: Optional[str]  # None: the project's own environment (sys.executable)


ADAPTERS: Dict[str, AdapterSpec] = {
    "smacish": AdapterSpec("benchmarks.peers.smacish_adapter", None),
    "random-search": AdapterSpec("benchmarks.peers.random_search", None),
    "smac": AdapterSpec("benchmarks.peers.smac_adapter", "smac"),
    "hpbandster": AdapterSpec("benchmarks.peers.hpbandster_adapter", "hpbandster"),
    "optuna": AdapterSpec("benchmarks.peers.optuna_adapter", "optuna"),
    "dehb": AdapterSpec("benchmarks.peers.dehb_adapter", "dehb"),
    # several objectives (benchmarks.multiobjective): ``make_mo`` instead of ``make``
    "smacish-mo": AdapterSpec("benchmarks.peers.smacish_mo", None),
    "optuna-mo": AdapterSpec("benchmarks.peers.optuna_mo", "optuna"),
    "smac-mo": AdapterSpec("benchmarks.peers.smac_mo", "smac"),
}


def hyperband_trials(min_budget: float, max_budget: float, eta: float, budget_units: float) -> int:
    """The evaluations a budget of ``budget_units`` full evaluations buys under Hyperband
    (Li et al.'s brackets, restarted as often as the budget allows): what a user would give a
    library that asks for ``n_trials`` (SMAC3 sizes its initial design from it).

    >>> hyperband_trials(1, 27, 3, 423 / 27)  # one round of Hyperband(1, 27, eta=3): 69 evaluations
    69
    """
    s_max = int(math.floor(math.log(max_budget / min_budget) / math.log(eta) + 1e-9))
    trials = spent = 0.0
    for s in range(s_max, -1, -1):
        n = int(math.ceil((s_max + 1) / (s + 1) * eta**s))
        for i in range(s + 1):
            n_i = int(math.floor(n * eta ** (-i)))
            trials += n_i
            spent += n_i * max_budget * eta ** (i - s)
    return max(1, int(round(budget_units * max_budget * trials / spent)))
