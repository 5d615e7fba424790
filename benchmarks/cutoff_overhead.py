"""What a trial with a cutoff costs on top of the target: the fork server forks a child, the
child loads the target, runs it and writes its TrialValue back. The same free target is timed
in-process (no cutoff, no memory limit), with a cutoff, and with a memory limit, interleaved
in rounds so that a busy machine slows all three alike.

Usage::

    python -m benchmarks.cutoff_overhead                  # 200 trials a round, 5 rounds
    python -m benchmarks.cutoff_overhead --trials 500 --rounds 7
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Dict, List, Optional

from ConfigSpace import ConfigurationSpace

import smacish
from smacish.runners import execute_trial
from smacish.trial import StatusType, TrialInfo


def _target(config, budget):
    return config["x"] / budget


def per_trial_ms(n_trials: int, cutoff: Optional[float], memory_limit: Optional[float]) -> float:
    """The median wall time of ``execute_trial`` over ``n_trials`` calls, in milliseconds."""
    space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    times: List[float] = []
    for config in space.sample_configuration(n_trials):
        info = TrialInfo(config, budget=1.0, cutoff=cutoff)
        t0 = time.perf_counter()
        value = execute_trial(_target, info, memory_limit=memory_limit)
        times.append(time.perf_counter() - t0)
        if value.status is not StatusType.SUCCESS:
            raise RuntimeError(f"a free trial ended {value.status.value}: {value.additional_info}")
    return statistics.median(times) * 1e3


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="trials per round and way")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    ways = {"in-process": (None, None), "cutoff=10 s": (10.0, None), "memory_limit=1024 MB": (None, 1024.0)}
    execute_trial(_target, TrialInfo(ConfigurationSpace({"x": (0.0, 1.0)}).sample_configuration(), budget=1.0,
                                     cutoff=10.0))  # starts the fork server: once per thread, not per trial
    rounds: Dict[str, List[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, (cutoff, memory) in ways.items():
            rounds[name].append(per_trial_ms(args.trials, cutoff, memory))
    print(f"smacish {smacish.__version__} ({smacish.__file__}): median ms per trial over {args.trials} trials, "
          f"{args.rounds} rounds (median of the rounds' medians, [min, max])")
    for name, values in rounds.items():
        print(f"  {name:22s} {statistics.median(values):8.3f}  [{min(values):.3f}, {max(values):.3f}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
