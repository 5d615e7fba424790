"""Render the figures shown in the docs (docs/img/*.png) from real small runs.

    python docs/make_images.py

1. Hyperband over an SGD classifier on scikit-learn's digits (epochs as the budget) on an
   embedded 2-worker Dask LocalCluster: learning curves, worker timeline, trajectory,
   hyperparameter importance, slices, parallel coordinates and the contour of the two most
   important hyperparameters.
2. Five seeds each of Hyperband and successive halving on a toy function, replayed on the
   simulated runner's virtual clock (4 workers): trajectories with quartile bands.
3. The bracket table of Hyperband(min_budget=1, max_budget=81, eta=3).

Takes about a minute. The figures depend on timing (the Dask run), so they change a little
from one rendering to the next.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from ConfigSpace import Categorical, ConfigurationSpace, Float  # noqa: E402

import smacish  # noqa: E402
from smacish import plotting  # noqa: E402
from smacish.runners.simulated import run_simulated  # noqa: E402

OUT = Path(__file__).resolve().parent / "img"


def train(config, budget: float, seed: int) -> float:
    """Validation error of an SGD classifier on digits after ``budget`` epochs."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)
    clf = SGDClassifier(loss=config["loss"], alpha=config["alpha"], learning_rate="invscaling",
                        eta0=config["eta0"], random_state=seed)
    for _ in range(round(budget)):
        clf.partial_fit(X_train, y_train, classes=np.unique(y))
    return 1.0 - clf.score(X_val, y_val)


def sgd_space() -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=0)
    cs.add([
        Float("alpha", (1e-7, 1e-1), log=True),
        Float("eta0", (1e-4, 1.0), log=True),
        Categorical("loss", ["hinge", "log_loss", "modified_huber"]),
    ])
    return cs


def toy(config, budget: float) -> float:
    """A 2-d bowl whose noise shrinks with the budget (a stand-in for a learning curve)."""
    x, y = config["x"], config["y"]
    return (x - 0.3) ** 2 + (y + 0.2) ** 2 + 0.5 / math.sqrt(budget) * abs(math.sin(7 * x * y))


def save(fig, name: str) -> None:
    fig.savefig(OUT / name, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(OUT / name)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)

    # 1. a real run on Dask
    with tempfile.TemporaryDirectory() as tmp:
        opt = smacish.Optimizer(sgd_space(), smacish.Hyperband(min_budget=1, max_budget=27, eta=3),
                                seed=0, output_dir=Path(tmp) / "run")
        opt.optimize(train, n_trials=100, n_workers=2)
        save(plotting.plot_learning_curves(opt.runhistory), "learning_curves.png")
        save(plotting.plot_worker_timeline(opt.runhistory), "worker_timeline.png")
        save(plotting.plot_trajectory(opt, x="walltime"), "trajectory_single.png")
        save(plotting.plot_importance(opt), "importance.png")
        save(plotting.plot_slice(opt), "slice.png")
        save(plotting.plot_parallel_coordinates(opt), "parallel_coordinates.png")
        save(plotting.plot_contour(opt), "contour.png")

    # 2. several seeds of two intensifiers, on the virtual clock
    space = ConfigurationSpace({"x": (-1.0, 1.0), "y": (-1.0, 1.0)})
    groups = {}
    for label, make in (("Hyperband", lambda: smacish.Hyperband(min_budget=1, max_budget=27)),
                        ("SuccessiveHalving", lambda: smacish.SuccessiveHalving(min_budget=1, max_budget=27))):
        runs = []
        for seed in range(5):
            opt = smacish.Optimizer(space, make(), seed=seed)
            run_simulated(opt, toy, duration=lambda info, value: info.budget, n_workers=4, n_trials=200)
            runs.append(opt)
        groups[label] = runs
    save(plotting.plot_trajectory(groups, x="walltime", log_y=True), "trajectory_seeds.png")

    # 3. the bracket table
    save(plotting.plot_brackets(smacish.Hyperband(min_budget=1, max_budget=81, eta=3)), "brackets.png")


if __name__ == "__main__":
    sys.exit(main())
