"""dask-ml's ``HyperbandSearchCV`` on one task and seed of ``benchmarks.sklearn_search``, inside
the ``daskml`` venv: ``python -m benchmarks.peers.daskml_search SPEC.json OUT.json``.

The spec gives the task, the seed, the rows of the search's training and test data (chosen by
the caller, so every search sees the same split), the epochs ``E`` of one full training, and
the budget ``F`` in full trainings (see the module docstring of ``benchmarks.sklearn_search``).
The search runs as dask-ml's documentation says: ``max_iter = n_params`` and a chunk size of
``n_examples / n_params``, with ``n_examples = E * len(X)``; of the chunk counts ``k`` (so
``max_iter = E * k``), the one whose dask-ml budget (``metadata["partial_fit_calls"]``) is
closest to ``F``. Everything else is dask-ml's default (``aggressiveness=3``, no ``patience``,
``test_size`` its default), on a ``distributed.Client`` with one single-threaded worker (the
other searches run serially in one process). The client starts before the clock does.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from typing import Any, Dict, Tuple


def fit_fraction(n_train: int, k: int) -> Tuple[int, float]:
    """The chunk size of ``k`` chunks of ``n_train`` rows, and the fraction of rows dask-ml's
    default ``test_size`` (``min(0.2, 1 / n_partitions)``) leaves for training."""
    chunk = int(math.ceil(n_train / k))
    partitions = int(math.ceil(n_train / chunk))
    return chunk, 1.0 - min(0.2, 1.0 / partitions)


def full_trainings(partial_fit_calls: int, max_iter: int, fraction: float) -> float:
    """dask-ml's budget in full trainings: each of ``max_iter`` calls of one model trains on one
    chunk, so a model with ``max_iter`` calls is one full training on the ``fraction`` of the
    data it trains on, counted against a training on all of it."""
    return partial_fit_calls / max_iter * fraction


def choose_max_iter(epochs: int, n_train: int, budget: float, max_chunks: int = 64) -> Dict[str, Any]:
    """The chunk count ``k`` (``max_iter = epochs * k``) whose dask-ml budget is closest to
    ``budget`` full trainings."""
    from dask_ml.model_selection import HyperbandSearchCV
    from sklearn.linear_model import SGDClassifier

    best: Dict[str, Any] = {}
    for k in range(1, max_chunks + 1):
        chunk, fraction = fit_fraction(n_train, k)
        if chunk < 10:
            break
        max_iter = epochs * k
        calls = int(HyperbandSearchCV(SGDClassifier(), {"alpha": [1.0]}, max_iter=max_iter).metadata["partial_fit_calls"])
        spent = full_trainings(calls, max_iter, fraction)
        if not best or abs(spent - budget) < abs(best["full_trainings"] - budget):
            best = {"chunks": k, "chunk_size": chunk, "max_iter": max_iter, "partial_fit_calls": calls,
                    "full_trainings": spent}
    return best


def run(spec: Dict[str, Any]) -> Dict[str, Any]:
    import dask.array as da
    import numpy as np
    from dask_ml.model_selection import HyperbandSearchCV
    from distributed import Client
    from sklearn.preprocessing import StandardScaler

    from benchmarks.sklearn_search import _tasks

    task = _tasks()[spec["task"]]
    seed = spec["seed"]
    X, y = task.data()
    train, test = np.array(spec["train"]), np.array(spec["test"])
    X_train, X_test, y_train, y_test = X[train], X[test], y[train], y[test]
    if task.scale:  # a Pipeline has no partial_fit: scale as the Pipeline's first step would
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    plan = choose_max_iter(spec["epochs"], len(train), spec["full_trainings"])
    out: Dict[str, Any] = {"plan": plan, "budget_full_trainings": spec["full_trainings"]}
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None):
        start = time.perf_counter()
        search = HyperbandSearchCV(task.incremental(seed), task.incremental_space(), max_iter=plan["max_iter"],
                                   random_state=seed)
        c = plan["chunk_size"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search.fit(da.from_array(X_train, chunks=(c, -1)), da.from_array(y_train, chunks=c),
                       classes=np.unique(y))
            out["test_accuracy"] = float(search.score(X_test, y_test))
        out["seconds"] = time.perf_counter() - start
    out["partial_fit_calls"] = int(search.metadata_["partial_fit_calls"])
    out["n_models"] = int(search.metadata_["n_models"])
    out["best_params"] = {k: (v.item() if hasattr(v, "item") else v) for k, v in search.best_params_.items()}
    return out


def versions() -> Dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("dask-ml", "dask", "distributed", "scikit-learn", "numpy")}


def main(spec_path: str, out_path: str) -> int:
    with open(spec_path) as fh:
        spec = json.load(fh)
    out = dict(run(spec), versions=versions())
    with open(out_path, "w") as fh:
        json.dump(out, fh, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
