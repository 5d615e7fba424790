"""Adapters: each optimiser library behind the same small interface, run in its own venv.

Each adapter module defines ``LIBRARY`` (the distribution name), ``VENV`` (the directory under
``.bench-venvs/``, or None for this project's own venv), ``variants()`` and either
``make(variant, problem, seed) -> AskTell`` (ask/tell libraries) or
``run(variant, problem, recorder)`` (libraries that own their loop, like HpBandSter).
``benchmarks.peers._run`` executes one batch of work inside the adapter's venv and writes JSON.

Nothing here imports a peer library: each adapter imports its library only when used.
"""

from __future__ import annotations

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
}
