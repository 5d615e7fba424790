"""Real scikit-learn tasks with a held-out test split, for the headline comparison.

Each dataset (bundled with scikit-learn, no download) is split once into a test part (25 %,
fixed, never seen by any optimiser) and the rest; the rest is split into train and validation
(30 %) **by the run's seed**, so every seed is a different draw of the data as well as of the
optimiser. The optimiser sees the validation error only; the report gives the incumbent's
**test** error: the configuration retrained at the full budget on the seed's train part and
scored on the test part (:meth:`Problem.test_error`).

- ``sgd-digits-test``: ``SGDClassifier`` (log loss, elastic net) on digits, budget = epochs 1..27;
- ``hgb-cancer-test``: ``HistGradientBoostingClassifier`` on breast cancer, budget = boosting
  iterations 1..27;
- ``mlp-digits-test``: ``MLPClassifier`` trained by ``partial_fit``, budget = epochs 1..27.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, Tuple

import numpy as np

from benchmarks.problems import Param, Problem

TEST_FRACTION = 0.25
VALIDATION_FRACTION = 0.3
_CACHE: Dict[Tuple[str, int], Any] = {}


def split(dataset: str, seed: int) -> Tuple[np.ndarray, ...]:
    """``(X_train, X_val, X_test, y_train, y_val, y_test)``, standardised on the train part; the
    test part is the same for every seed."""
    key = (dataset, seed)
    if key not in _CACHE:
        from sklearn.datasets import load_breast_cancer, load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        X, y = {"digits": load_digits, "cancer": load_breast_cancer}[dataset](return_X_y=True)
        X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=TEST_FRACTION, random_state=12345,
                                                          stratify=y)
        X_tr, X_va, y_tr, y_va = train_test_split(X_rest, y_rest, test_size=VALIDATION_FRACTION,
                                                  random_state=seed, stratify=y_rest)
        scaler = StandardScaler().fit(X_tr)
        _CACHE[key] = (scaler.transform(X_tr), scaler.transform(X_va), scaler.transform(X_test), y_tr, y_va, y_test)
    return _CACHE[key]


def _task(name: str, dataset: str, params, train: Callable[[Dict[str, Any], int, np.ndarray, np.ndarray, int], Any],
          description: str) -> Problem:
    def evaluate(x: Dict[str, Any], budget: float, seed: int) -> float:
        X_tr, X_va, _, y_tr, y_va, _ = split(dataset, seed)
        return 1.0 - float(train(x, max(1, int(round(budget))), X_tr, y_tr, seed).score(X_va, y_va))

    def test_error(x: Dict[str, Any], seed: int) -> float:
        X_tr, _, X_te, y_tr, _, y_te = split(dataset, seed)
        return 1.0 - float(train(x, 27, X_tr, y_tr, seed).score(X_te, y_te))

    return Problem(name=name, params=params, min_budget=1, max_budget=27, evaluate_fn=evaluate, kind="ml",
                   description=description, info={"regret_floor": 1e-3, "test_error": test_error})


def _sgd(x: Dict[str, Any], epochs: int, X: np.ndarray, y: np.ndarray, seed: int) -> Any:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier

    model = SGDClassifier(loss="log_loss", penalty="elasticnet", alpha=float(x["alpha"]), l1_ratio=float(x["l1_ratio"]),
                          learning_rate="invscaling", eta0=float(x["eta0"]), power_t=float(x["power_t"]),
                          max_iter=epochs, tol=None, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _hgb(x: Dict[str, Any], iterations: int, X: np.ndarray, y: np.ndarray, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=float(x["learning_rate"]), max_leaf_nodes=int(x["max_leaf_nodes"]),
        min_samples_leaf=int(x["min_samples_leaf"]), l2_regularization=float(x["l2_regularization"]),
        max_iter=iterations, max_bins=63, early_stopping=False, random_state=seed,
    ).fit(X, y)


def _mlp(x: Dict[str, Any], epochs: int, X: np.ndarray, y: np.ndarray, seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(int(x["units"]),), alpha=float(x["alpha"]),
                          learning_rate_init=float(x["learning_rate_init"]), batch_size=int(x["batch_size"]),
                          random_state=seed)
    classes = np.unique(y)
    for _ in range(epochs):
        model.partial_fit(X, y, classes=classes)
    return model


def make_sgd_digits_test() -> Problem:
    return _task("sgd-digits-test", "digits", [
        Param("alpha", "float", 1e-7, 1e-1, log=True), Param("l1_ratio", "float", 0.0, 1.0),
        Param("eta0", "float", 1e-5, 1.0, log=True), Param("power_t", "float", 0.05, 1.0),
    ], _sgd, "SGDClassifier on digits (train/validation by seed, fixed 25 % test), budget = epochs 1..27")


def make_hgb_cancer_test() -> Problem:
    return _task("hgb-cancer-test", "cancer", [
        Param("learning_rate", "float", 1e-2, 1.0, log=True), Param("max_leaf_nodes", "int", 4, 64, log=True),
        Param("min_samples_leaf", "int", 2, 100, log=True), Param("l2_regularization", "float", 1e-6, 10.0, log=True),
    ], _hgb, "HistGradientBoostingClassifier on breast cancer (train/validation by seed, fixed 25 % test), "
             "budget = boosting iterations 1..27")


def make_mlp_digits_test() -> Problem:
    return _task("mlp-digits-test", "digits", [
        Param("units", "int", 8, 256, log=True), Param("alpha", "float", 1e-6, 1e-1, log=True),
        Param("learning_rate_init", "float", 1e-4, 1e-1, log=True), Param("batch_size", "int", 16, 256, log=True),
    ], _mlp, "MLPClassifier by partial_fit on digits (train/validation by seed, fixed 25 % test), "
             "budget = epochs 1..27")
