"""How close smacish.analysis.importance comes to variance shares known analytically.

    python -m benchmarks.importance_accuracy [--seeds 10] [--n 200]

For each seed, ``n`` uniform random configurations of three hyperparameters on [0, 1] and two
costs whose functional ANOVA is known:

- additive: 2 x1 + sin(2 pi x2) + 0 x3: shares 0.4, 0.6, 0 (Var(2 x1) = 1/3, Var(sin) = 1/2);
- product: x1 x2: main effects 3/7 each, their interaction 1/7, x3 nothing.

Prints the largest and the mean absolute error of the shares over the seeds, per method. The
tolerances of tests/test_analysis.py are chosen from these numbers.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Callable, Dict, List, Optional

import numpy as np
from ConfigSpace import ConfigurationSpace

import smacish
from smacish.analysis import importance

CASES: Dict[str, tuple] = {
    "additive": (lambda c: 2 * c["x1"] + math.sin(2 * math.pi * c["x2"]), False,
                 {"x1": 0.4, "x2": 0.6, "x3": 0.0}),
    "product": (lambda c: c["x1"] * c["x2"], True,
                {"x1": 3 / 7, "x2": 3 / 7, "x1, x2": 1 / 7, "x3": 0.0}),
}


def error(function: Callable, pairs: bool, truth: Dict[str, float], method: str, seed: int, n: int) -> float:
    """The largest absolute error of the shares of one sample of ``n`` configurations."""
    cs = ConfigurationSpace({"x1": (0.0, 1.0), "x2": (0.0, 1.0), "x3": (0.0, 1.0)}, seed=seed)
    rh = smacish.RunHistory(cs)
    for config in cs.sample_configuration(n):
        rh.add(smacish.TrialInfo(config, budget=1.0), smacish.TrialValue(cost=function(config)))
    frame = importance(rh, pairs=pairs, method=method, seed=seed)
    got = dict(zip(frame["hyperparameter"], frame["importance"]))
    return max(abs(got[name] - share) for name, share in truth.items())


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args(argv)
    for case, (function, pairs, truth) in CASES.items():
        for method in ("fanova", "permutation"):
            if pairs and method == "permutation":
                continue  # permutation importance measures total effects, not this split
            errors = [error(function, pairs, truth, method, seed, args.n) for seed in range(args.seeds)]
            print(f"{case:9s} {method:12s} max error {max(errors):.3f}  mean {np.mean(errors):.3f}  "
                  f"({args.seeds} seeds, {args.n} configurations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
