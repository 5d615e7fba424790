"""RunHistory scaling: add N trials and ask for the incumbent after each add.

The trials look like a Hyperband run: budgets 1, 3, 9, 27, 81 (most trials on the small ones,
the better-known configurations promoted to the large ones), random costs, about 5% crashes,
and several instance-seed pairs per (configuration, budget), so mean costs move up and down.
Only ``RunHistory.add`` + ``RunHistory.incumbent_entry`` are timed; the trials are built first.

If the bookkeeping were quadratic, the time per trial would grow ~100x from N = 1k to 100k;
incremental per-budget aggregates keep it roughly flat.

Usage::

    python benchmarks/runhistory_scaling.py            # N = 1k, 10k, 100k
    python benchmarks/runhistory_scaling.py --n 10000  # N = 1k, 10k
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from smacish import RunHistory, StatusType, TrialInfo, TrialValue

BUDGETS = (1.0, 3.0, 9.0, 27.0, 81.0)
ETA = 3
CRASH_RATE = 0.05


def make_space() -> ConfigurationSpace:
    return ConfigurationSpace({"lr": (1e-5, 1e-1), "units": (8, 512), "dropout": (0.0, 0.9)}, seed=0)


def make_trials(n: int, seed: int = 0) -> List[Tuple[TrialInfo, TrialValue]]:
    """``n`` Hyperband-like trials with unique (config, instance, seed, budget) keys."""
    rng = np.random.default_rng(seed)
    space = make_space()
    n_configs = max(ETA ** (len(BUDGETS) - 1), n // 2)
    # configurations straight from random vectors: much faster than sample_configuration
    vectors = rng.random((n_configs, len(space)))
    configs = [Configuration(space, vector=v) for v in vectors]
    quality = rng.random(n_configs)  # a hidden "true" cost per configuration
    weights = np.array([ETA ** -i for i in range(len(BUDGETS))], dtype=float)
    budget_index = rng.choice(len(BUDGETS), size=n, p=weights / weights.sum())
    pairs_done: Dict[Tuple[int, int], int] = {}
    trials = []
    for i in range(n):
        b = int(budget_index[i])
        # promoted configurations are the earlier ones: 1/eta^b of the pool reaches budget b
        c = int(rng.integers(0, max(1, n_configs // ETA ** b)))
        k = pairs_done.get((c, b), 0)
        pairs_done[(c, b)] = k + 1  # a further instance-seed pair of the same (config, budget)
        info = TrialInfo(configs[c], budget=BUDGETS[b], instance=f"inst{k % 3}", seed=k // 3)
        if rng.random() < CRASH_RATE:
            value = TrialValue(cost=math.inf, status=StatusType.CRASHED)
        else:
            cost = quality[c] + rng.normal(0.0, 0.3) / math.sqrt(BUDGETS[b])
            value = TrialValue(cost=float(cost), time=BUDGETS[b])
        trials.append((info, value))
    return trials


def measure(trials: Sequence[Tuple[TrialInfo, TrialValue]], selection: str = "highest_executed_budget") -> dict:
    """Time ``add`` + ``incumbent_entry`` for every trial; per-trial times in microseconds."""
    rh = RunHistory(make_space())
    max_budget = BUDGETS[-1]
    per_trial = np.empty(len(trials))
    clock = time.perf_counter
    start = clock()
    for i, (info, value) in enumerate(trials):
        t0 = clock()
        rh.add(info, value)
        rh.incumbent_entry(selection, max_budget)
        per_trial[i] = clock() - t0
    total = clock() - start
    us = per_trial * 1e6
    return {
        "n": len(trials),
        "total_s": total,
        "mean_us": float(us.mean()),
        "median_us": float(np.median(us)),
        "p99_us": float(np.percentile(us, 99)),
        "last_1k_median_us": float(np.median(us[-1000:])),
        "incumbent": rh.incumbent_entry(selection, max_budget),
    }


def sizes_up_to(n_max: int) -> List[int]:
    sizes = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= n_max]
    if not sizes or sizes[-1] != n_max:
        sizes.append(n_max)
    return sizes


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="largest number of trials (default 100000)")
    parser.add_argument("--selection", default="highest_executed_budget",
                        choices=["highest_executed_budget", "highest_budget", "any_budget"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n is {args.n}, but must be >= 1")

    print(f"RunHistory scaling: add + incumbent_entry({args.selection!r}) after every trial")
    print(f"{'N':>9} {'total s':>9} {'mean us':>9} {'median us':>10} {'p99 us':>9} {'last-1k median us':>18}")
    results = []
    for n in sizes_up_to(args.n):
        r = measure(make_trials(n, seed=args.seed), args.selection)
        results.append(r)
        print(f"{r['n']:>9} {r['total_s']:>9.3f} {r['mean_us']:>9.2f} {r['median_us']:>10.2f} "
              f"{r['p99_us']:>9.2f} {r['last_1k_median_us']:>18.2f}")
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = last["n"] / first["n"]
        print(f"per-trial time ratio N={last['n']} / N={first['n']}: mean {last['mean_us'] / first['mean_us']:.2f}x, "
              f"median {last['median_us'] / first['median_us']:.2f}x (quadratic would be ~{growth:.0f}x)")
    inc = results[-1]["incumbent"]
    if inc is not None:
        print(f"incumbent at N={results[-1]['n']}: config {inc.config_number}, budget {inc.budget:g}, cost {inc.cost:.4f}")
    return results


if __name__ == "__main__":
    main()
