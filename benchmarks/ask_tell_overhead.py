"""Ask + tell overhead per trial: the time smacish itself spends deciding and recording.

Random selection, Hyperband(min_budget=1, max_budget=81, eta=3), a target that costs nothing
(costs are drawn beforehand). Per trial we time its ``ask()`` (plus any ``ask()`` before it
that raised ``WaitForResults``) and its ``tell()``. With ``n_workers=8`` up to 8 trials are in
flight and results are told in a random order, as they would come back from a cluster.

The target is a median under 0.5 ms per trial.

Usage::

    python benchmarks/ask_tell_overhead.py                 # 1k and 10k trials, n_workers 1 and 8
    python benchmarks/ask_tell_overhead.py --sizes 1000 --profile   # and the hottest functions
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import random
import statistics
import time
from typing import Dict, List

from ConfigSpace import ConfigurationSpace

import smacish

TARGET_MS = 0.5


def make_optimizer(n_workers: int, seed: int) -> smacish.Optimizer:
    space = ConfigurationSpace({"lr": (1e-5, 1e-1), "units": (8, 512), "dropout": (0.0, 0.9)})
    return smacish.Optimizer(
        space, smacish.Hyperband(min_budget=1, max_budget=81, eta=3),
        selector="random", seed=seed, n_workers=n_workers,
    )


def measure(n_trials: int, n_workers: int, seed: int = 0) -> List[float]:
    """Seconds of ask + tell for each of ``n_trials`` trials."""
    opt = make_optimizer(n_workers, seed)
    rng = random.Random(seed)
    costs = [rng.random() for _ in range(n_trials)]
    clock = time.perf_counter
    ask_time: Dict[tuple, float] = {}
    per_trial: List[float] = []
    in_flight: list = []
    waited = 0.0  # time of asks that raised WaitForResults, charged to the next trial asked
    n_asked = 0
    while len(per_trial) < n_trials:
        if n_asked < n_trials and len(in_flight) < n_workers:
            t0 = clock()
            try:
                info = opt.ask()
            except smacish.WaitForResults:
                waited += clock() - t0
            else:
                ask_time[info.key] = clock() - t0 + waited
                waited = 0.0
                in_flight.append(info)
                n_asked += 1
                continue
        info = in_flight.pop(rng.randrange(len(in_flight)))
        cost = costs[len(per_trial)]
        t0 = clock()
        opt.tell(info, cost)
        per_trial.append(clock() - t0 + ask_time.pop(info.key))
    return per_trial


def summary(seconds: List[float]) -> Dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "median": statistics.median(ms),
        "p95": ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)],
        "mean": statistics.fmean(ms),
    }


def profile(n_trials: int, n_workers: int, top: int = 15) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    measure(n_trials, n_workers)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--profile", action="store_true", help="print the hottest functions (cProfile)")
    args = parser.parse_args()

    print("ask + tell per trial, Hyperband(1, 81, eta=3), random selection "
          f"(target: median < {TARGET_MS} ms)")
    print(f"{'trials':>7} {'n_workers':>9} {'median ms':>10} {'p95 ms':>8} {'mean ms':>8}")
    worst_median = 0.0
    for n_trials in args.sizes:
        for n_workers in args.workers:
            s = summary(measure(n_trials, n_workers))
            worst_median = max(worst_median, s["median"])
            print(f"{n_trials:>7} {n_workers:>9} {s['median']:>10.3f} {s['p95']:>8.3f} {s['mean']:>8.3f}")
    verdict = "within" if worst_median < TARGET_MS else "ABOVE"
    print(f"largest median {worst_median:.3f} ms: {verdict} the {TARGET_MS} ms target")
    if args.profile or worst_median >= TARGET_MS:
        print(profile(max(args.sizes), max(args.workers)))


if __name__ == "__main__":
    main()
