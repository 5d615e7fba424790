"""A target that holds a large array, on Dask: is the data sent once per run or with every trial?

22 trials of Hyperband(1, 9) with random selection. The target closes over a 48 MB numpy
array and reads a sliver of it (the trials themselves cost nothing); the same run with a small
target gives Dask's own per-trial floor. The loop is timed on an already-started 2-worker
LocalCluster (its start-up is not the question), median of ``--repeats`` runs.

Usage::

    python benchmarks/large_data.py              # median of 3
    python benchmarks/large_data.py --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, List

import numpy as np
from ConfigSpace import ConfigurationSpace

import smacish

N_TRIALS = 22


def large_target(megabytes: int = 48) -> Callable:
    data = np.random.default_rng(0).random(megabytes * 1_000_000 // 8)

    def target(config, budget):
        return float(abs(data[:1000].mean() - config["x"])) / budget

    return target


def small_target(config, budget):
    return config["x"] / budget


def run_once(target: Callable, client=None) -> float:
    opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}, seed=0),
                            smacish.Hyperband(min_budget=1, max_budget=9), selector="random", seed=0)
    start = time.perf_counter()
    opt.optimize(target, n_trials=N_TRIALS, client=client)
    return time.perf_counter() - start


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    large = large_target()
    rows = {"in-process, 48 MB target": [run_once(large) for _ in range(args.repeats)]}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        rows["Dask (2 workers), small target"] = [run_once(small_target, client) for _ in range(args.repeats)]
        rows["Dask (2 workers), 48 MB target"] = [run_once(large, client) for _ in range(args.repeats)]
    print(f"{N_TRIALS} trials, median of {args.repeats} (seconds for the whole loop)")
    for name, times in rows.items():
        print(f"  {name:34s} {statistics.median(times):7.2f}   runs: {', '.join(f'{t:.2f}' for t in times)}")
    small, big = (statistics.median(rows[k]) for k in ("Dask (2 workers), small target", "Dask (2 workers), 48 MB target"))
    print(f"48 MB target / small target on Dask: {big / small:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
