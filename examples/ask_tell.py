"""Ask/tell: drive smacish yourself, one trial at a time (or several in flight), and print the
trajectory of incumbents.

The toy problem is a quadratic bowl measured with noise that shrinks as the budget grows, like a
validation loss measured on more epochs: cheap budgets are noisy, the largest is nearly exact.

    python examples/ask_tell.py [--n-trials 206] [--n-workers 1] [--seed 0]

With ``--n-workers`` above 1 the loop keeps that many trials in flight and tells their results
in a random order, as results from real workers would arrive; ``ask`` raises
``smacish.WaitForResults`` when nothing can start until a result comes back.
"""

from __future__ import annotations

import argparse
import random

from ConfigSpace import ConfigurationSpace

import smacish


def noisy_quadratic(config, budget: float, seed: int) -> float:
    """(x - 0.3)^2 + (y + 0.5)^2, plus Gaussian noise of standard deviation 0.5 / budget."""
    rng = random.Random(f"{seed}-{config['x']}-{config['y']}-{budget}")  # the same trial, the same noise
    exact = (config["x"] - 0.3) ** 2 + (config["y"] + 0.5) ** 2
    return exact + rng.gauss(0.0, 0.5 / budget)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-trials", type=int, default=206, help="206 = one Hyperband round (1..81, eta 3)")
    parser.add_argument("--n-workers", type=int, default=1, help="trials kept in flight")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    space = ConfigurationSpace({"x": (-2.0, 2.0), "y": (-2.0, 2.0)})
    opt = smacish.Optimizer(
        space, smacish.Hyperband(min_budget=1, max_budget=81, eta=3),
        selector="random", seed=args.seed, n_workers=args.n_workers,
    )
    order = random.Random(args.seed)  # the order in which in-flight results "arrive"
    in_flight: list = []
    n_asked = 0
    while n_asked < args.n_trials or in_flight:
        if n_asked < args.n_trials and len(in_flight) < args.n_workers:
            try:
                in_flight.append(opt.ask())
                n_asked += 1
                continue
            except smacish.WaitForResults:
                pass  # every worker's intensifier waits on a result: tell one first
        info = in_flight.pop(order.randrange(len(in_flight)))
        opt.tell(info, noisy_quadratic(info.config, info.budget, info.seed))

    print(f"{len(opt.runhistory)} trials, {opt.runhistory.budget_spent:g} budget spent")
    print("trajectory (trials, budget, cost, x, y):")
    for entry in opt.trajectory:
        print(f"  {entry.n_trials:5d}  {entry.budget:4g}  {entry.cost:9.4f}  "
              f"{entry.config['x']:7.3f}  {entry.config['y']:7.3f}")
    inc = opt.runhistory.incumbent_entry()
    print(f"incumbent: x={inc.config['x']:.3f}, y={inc.config['y']:.3f}, "
          f"cost {inc.cost:.4f} on budget {inc.budget:g} (optimum: x=0.3, y=-0.5, cost 0)")


if __name__ == "__main__":
    main()
