"""smacish's search estimator against scikit-learn's (and dask-ml's, when installed) on tasks
with a held-out test split, at the same total budget.

    python -m benchmarks.sklearn_search                  # 3 tasks x 10 seeds
    python -m benchmarks.sklearn_search --seeds 2 --tasks sgd-digits

Per task and seed: a stratified 25 % test split (by the seed); every search sees the other
75 % only and is judged by its ``best_estimator_``'s test accuracy. The budget is what
``HalvingRandomSearchCV`` with its defaults spends (the sum of ``n_resources`` over its
candidate evaluations, each a cross-validation): ``RandomizedSearchCV`` gets that budget in
full-resource candidates, smacish's ``HyperbandSearchCV`` (its defaults) it as
``budget_limit``, dask-ml's ``HyperbandSearchCV`` (estimators with ``partial_fit``) a
``max_iter`` of the same resource. Printed: median test accuracy and wall time over seeds,
with the paired Wilcoxon p-value of smacish against each.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, List

import numpy as np
from scipy.stats import loguniform, randint, uniform

SEEDS = list(range(2000, 2010))  # none of the tuning decisions looked at these


@dataclass
class Task:
    name: str
    data: Callable[[], tuple]
    estimator: Callable[[int], Any]
    space: Dict[str, Any]
    resource: str  # what scikit-learn's halving search and smacish's search both vary
    max_resources: Any = "auto"


def _tasks() -> Dict[str, Task]:
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import SGDClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    digits = lambda: load_digits(return_X_y=True)  # noqa: E731
    return {t.name: t for t in [
        Task("sgd-digits", digits,
             lambda s: make_pipeline(StandardScaler(), SGDClassifier(random_state=s)),
             {"sgdclassifier__alpha": loguniform(1e-6, 1e-1), "sgdclassifier__l1_ratio": uniform(0, 1),
              "sgdclassifier__penalty": ["l2", "elasticnet"]}, "n_samples"),
        Task("hgb-cancer", lambda: load_breast_cancer(return_X_y=True),
             lambda s: HistGradientBoostingClassifier(early_stopping=False, random_state=s),
             {"learning_rate": loguniform(1e-3, 1.0), "max_leaf_nodes": randint(4, 64),
              "l2_regularization": loguniform(1e-6, 10.0)}, "max_iter", 243),
        Task("mlp-digits", digits,
             lambda s: MLPClassifier(random_state=s),
             {"alpha": loguniform(1e-6, 1e-1), "learning_rate_init": loguniform(1e-4, 1e-1),
              "hidden_layer_sizes": [(32,), (64,), (128,)]}, "max_iter", 81),
    ]}


def run_task(task: Task, seed: int, searches: List[str]) -> Dict[str, Dict[str, float]]:
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV, RandomizedSearchCV, train_test_split

    from smacish.sklearn import HyperbandSearchCV

    X, y = task.data()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    out: Dict[str, Dict[str, float]] = {}

    def measure(name: str, make: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings at small budgets
            search = make().fit(X_train, y_train)
        out[name] = {"test_accuracy": float(search.score(X_test, y_test)), "seconds": time.perf_counter() - start}
        return search

    halving = measure("sklearn-halving", lambda: HalvingRandomSearchCV(
        task.estimator(seed), task.space, resource=task.resource, max_resources=task.max_resources,
        random_state=seed))
    budget = float(np.sum(halving.cv_results_["n_resources"]))
    top = float(np.max(halving.cv_results_["n_resources"]))
    out["sklearn-halving"]["budget"] = budget
    if "sklearn-random" in searches:
        measure("sklearn-random", lambda: RandomizedSearchCV(
            task.estimator(seed), task.space, n_iter=max(1, int(round(budget / top))), random_state=seed))
    if "smacish" in searches:
        kwargs = {} if task.resource == "n_samples" else {"max_resources": task.max_resources}
        measure("smacish", lambda: HyperbandSearchCV(
            task.estimator(seed), task.space, resource=task.resource, budget_limit=budget, random_state=seed,
            **kwargs))
    return out


def main(argv: Any = None) -> int:
    from benchmarks.stats import wilcoxon_p

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=len(SEEDS))
    parser.add_argument("--tasks", default=",".join(_tasks()))
    parser.add_argument("--searches", default="smacish,sklearn-halving,sklearn-random")
    args = parser.parse_args(argv)
    searches = args.searches.split(",")
    tasks = _tasks()
    print(f"{'task':12} {'search':16} {'test acc (median)':>18} {'seconds (median)':>17} {'vs smacish: p':>14}")
    for name in args.tasks.split(","):
        per_seed = [run_task(tasks[name], seed, searches) for seed in SEEDS[: args.seeds]]
        ours = [r["smacish"]["test_accuracy"] for r in per_seed] if "smacish" in searches else None
        for search in [s for s in ["smacish", "sklearn-halving", "sklearn-random"] if s in per_seed[0]]:
            acc = [r[search]["test_accuracy"] for r in per_seed]
            secs = [r[search]["seconds"] for r in per_seed]
            p = "" if search == "smacish" or ours is None else f"{wilcoxon_p(np.subtract(ours, acc)):.3g}"
            print(f"{name:12} {search:16} {statistics.median(acc):18.4f} {statistics.median(secs):17.2f} {p:>14}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
