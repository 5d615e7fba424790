"""Quickstart: Hyperband over an SGD classifier on scikit-learn's digits, epochs as the budget,
run on an embedded Dask LocalCluster (the default when n_workers > 1).

    python examples/quickstart.py [--n-workers 2] [--n-trials 69]
"""

import argparse
import time

from ConfigSpace import Categorical, ConfigurationSpace, Float

import smacish


def train(config, budget: float, seed: int) -> dict:
    """Validation error of an SGD classifier after ``budget`` epochs."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)
    clf = SGDClassifier(
        loss=config["loss"], alpha=config["alpha"], learning_rate="invscaling",
        eta0=config["eta0"], random_state=seed,
    )
    classes = np.unique(y)
    for _ in range(int(round(budget))):
        clf.partial_fit(X_train, y_train, classes=classes)
    return {"cost": 1.0 - clf.score(X_val, y_val), "epochs": int(round(budget))}


def configspace(seed: int = 0) -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=seed)
    cs.add([
        Float("alpha", (1e-7, 1e-1), log=True),
        Float("eta0", (1e-4, 1.0), log=True),
        Categorical("loss", ["hinge", "log_loss", "modified_huber"]),
    ])
    return cs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-workers", type=int, default=2)
    parser.add_argument("--n-trials", type=int, default=69, help="69 = one full Hyperband round")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    opt = smacish.Optimizer(
        configspace(), smacish.Hyperband(min_budget=1, max_budget=27, eta=3), seed=args.seed,
    )
    start = time.monotonic()
    incumbent = opt.optimize(train, n_trials=args.n_trials, n_workers=args.n_workers)
    wall = time.monotonic() - start

    print(f"{len(opt.runhistory)} trials in {wall:.1f} s on {args.n_workers} Dask workers "
          f"(utilisation {opt.runhistory.utilisation(args.n_workers):.2f})")
    print("trajectory (n_trials, budget, validation error):")
    for entry in opt.trajectory:
        print(f"  {entry.n_trials:4d}  {entry.budget:5g}  {entry.cost:.4f}")
    inc = opt.runhistory.incumbent_entry()
    print("incumbent:", {name: getattr(value, "item", lambda: value)() for name, value in incumbent.items()})
    print(f"validation error {inc.cost:.4f} after {inc.budget:g} epochs")


if __name__ == "__main__":
    main()
