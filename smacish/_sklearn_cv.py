"""One trial of a scikit-learn search: cross-validate an estimator with a configuration's
parameters on a budget of resources, and the ``cv_results_`` table built from the trials."""

from __future__ import annotations

import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
from scipy.stats import rankdata
from sklearn.base import clone, is_classifier

from smacish.trial import StatusType

PARTIAL_FIT = "partial_fit"
N_SAMPLES = "n_samples"


class FitFailed(RuntimeError):
    """Every split of a trial failed to fit or score (with ``error_score=np.nan``)."""


def take(data: Any, indices: np.ndarray) -> Any:
    """Rows ``indices`` of an array, a sparse matrix, a DataFrame or a list; None stays None."""
    if data is None:
        return None
    if hasattr(data, "iloc"):
        return data.iloc[indices]
    if hasattr(data, "shape"):
        return data[indices]
    return [data[i] for i in indices]


class CVTarget:
    """The target of a search: ``target(config, budget, seed)`` cross-validates the estimator
    and returns ``{"cost": mean test score of the refit metric, ...}`` (the search maximises
    it) with every split's scores and times. Picklable (it travels to Dask workers once, with
    the data)."""

    def __init__(self, estimator: Any, params_of: Callable[[Any], Dict[str, Any]], X: Any, y: Any, groups: Any,
                 fit_params: Dict[str, Any], cv: Any, scorers: Any, refit_metric: str, resource: str,
                 error_score: Any, return_train_score: bool, subsample_seed: int):
        self.estimator = estimator
        self.params_of = params_of
        self.X, self.y, self.groups, self.fit_params = X, y, groups, fit_params
        self.cv = cv
        self.scorers = scorers
        self.refit_metric = refit_metric
        self.resource = resource
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.subsample_seed = subsample_seed
        self.n_samples = _n_samples(X)
        self.classes = np.unique(y) if y is not None and is_classifier(estimator) else None

    def estimator_for(self, params: Dict[str, Any], n_resources: int) -> Any:
        est = clone(self.estimator).set_params(**params)
        if self.resource not in (N_SAMPLES, PARTIAL_FIT):
            est.set_params(**{self.resource: n_resources})
        return est

    def fit(self, est: Any, X: Any, y: Any, fit_params: Dict[str, Any], n_resources: int) -> Any:
        """Fit ``est`` as the resource says (``partial_fit``: ``n_resources`` epochs)."""
        if self.resource != PARTIAL_FIT:
            return est.fit(X, y, **fit_params)
        extra = {"classes": self.classes} if self.classes is not None else {}
        for _ in range(n_resources):
            est.partial_fit(X, y, **fit_params, **extra)
        return est

    def rows(self, n_resources: int) -> np.ndarray:
        """The samples a trial uses: all of them, or (resource ``n_samples``) the same random
        subset of ``n_resources`` for every configuration, stratified for classifiers."""
        if self.resource != N_SAMPLES or n_resources >= self.n_samples:
            return np.arange(self.n_samples)
        from sklearn.utils import resample

        stratify = self.y if self.classes is not None else None
        return np.sort(resample(np.arange(self.n_samples), replace=False, n_samples=n_resources,
                                random_state=self.subsample_seed, stratify=stratify))

    def __call__(self, config: Any, budget: float, seed: int) -> Dict[str, Any]:
        n_resources = int(round(budget))
        params = self.params_of(config)
        rows = self.rows(n_resources)
        X, y, groups = take(self.X, rows), take(self.y, rows), take(self.groups, rows)
        fit_params = {k: take(v, rows) if _n_samples(v) == self.n_samples else v for k, v in self.fit_params.items()}
        out: Dict[str, Any] = {"n_resources": n_resources}
        errors: List[str] = []
        for k, (train, test) in enumerate(self.cv.split(X, y, groups)):
            fp = {key: take(v, train) if _n_samples(v) == len(rows) else v for key, v in fit_params.items()}
            start = time.perf_counter()
            try:
                est = self.fit(self.estimator_for(params, n_resources), take(X, train), take(y, train), fp,
                               n_resources)
                fitted = time.perf_counter()
                test_scores = self._score(est, take(X, test), take(y, test))
                out[f"score_time_{k}"] = time.perf_counter() - fitted
                if self.return_train_score:
                    for name, s in self._score(est, take(X, train), take(y, train)).items():
                        out[f"split{k}_train_{name}"] = s
            except Exception:  # noqa: BLE001 - error_score decides, as in scikit-learn
                if self.error_score == "raise":
                    raise
                errors.append(traceback.format_exc(limit=-3))
                fitted = time.perf_counter()
                test_scores = {name: float(self.error_score) for name in self._names()}
                out[f"score_time_{k}"] = 0.0
                if self.return_train_score:
                    for name in self._names():
                        out[f"split{k}_train_{name}"] = float(self.error_score)
            out[f"fit_time_{k}"] = fitted - start
            for name, s in test_scores.items():
                out[f"split{k}_test_{name}"] = s
        mean = float(np.mean([v for key, v in out.items() if key.startswith("split")
                              and key.endswith(f"_test_{self.refit_metric}")]))
        if not np.isfinite(mean):
            raise FitFailed(f"{len(errors)} of {self.cv.get_n_splits(X, y, groups)} split(s) failed to fit or score "
                            f"with {params}; the first error:\n{errors[0] if errors else 'a non-finite score'}")
        if errors:
            out["n_failed_splits"] = len(errors)
        return dict(out, cost=mean)  # the search maximises it (direction="maximize")

    def _names(self) -> List[str]:
        return list(self.scorers._scorers) if hasattr(self.scorers, "_scorers") else ["score"]

    def _score(self, est: Any, X: Any, y: Any) -> Dict[str, float]:
        scores = self.scorers(est, X, y)
        if isinstance(scores, dict):
            return {name: float(v) for name, v in scores.items()}
        return {"score": float(scores)}


def _n_samples(data: Any) -> Optional[int]:
    if data is None or isinstance(data, (str, bytes, dict)):
        return None
    if hasattr(data, "shape") and len(getattr(data, "shape", ())) > 0:
        return int(data.shape[0])
    return len(data) if hasattr(data, "__len__") else None


def cv_results(trials: Sequence[tuple], params: Sequence[Dict[str, Any]], names: List[str], n_splits: int,
               return_train_score: bool, error_score: Any) -> Dict[str, Any]:
    """scikit-learn's ``cv_results_`` from ``(info, value)`` pairs of finished trials (one row
    each, in the order they finished) and their parameters."""
    n = len(trials)
    results: Dict[str, Any] = {"params": list(params)}
    for name in sorted({k for p in params for k in p}):
        column = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
        for i, p in enumerate(params):
            if name in p:
                column[i] = p[name]
        results[f"param_{name}"] = column
    infos = [value.additional_info if value.status is StatusType.SUCCESS else {} for _, value in trials]
    failed = float(error_score) if error_score != "raise" else np.nan

    def split_matrix(key: str) -> np.ndarray:
        return np.array([[info.get(key.format(k=k), failed) for k in range(n_splits)] for info in infos],
                        dtype=float).reshape(n, n_splits)

    for kind in ("fit_time", "score_time"):
        m = np.array([[info.get(f"{kind}_{k}", np.nan) for k in range(n_splits)] for info in infos],
                     dtype=float).reshape(n, n_splits)
        results[f"mean_{kind}"], results[f"std_{kind}"] = m.mean(axis=1), m.std(axis=1)
    for name in names:  # "score" for one metric, else each metric's name, as scikit-learn's keys
        sets = ("test", "train") if return_train_score else ("test",)
        for which in sets:
            m = split_matrix(f"split{{k}}_{which}_{name}")
            for k in range(n_splits):
                results[f"split{k}_{which}_{name}"] = m[:, k]
            results[f"mean_{which}_{name}"] = m.mean(axis=1)
            results[f"std_{which}_{name}"] = m.std(axis=1)
        means = results[f"mean_test_{name}"]
        results[f"rank_test_{name}"] = rankdata(np.where(np.isnan(means), np.inf, -means), method="min").astype(np.int32)
    results["n_resources"] = np.array([int(round(info.budget)) for info, _ in trials], dtype=int)
    results["iter"] = np.array([info.config_id[0] if info.config_id else 0 for info, _ in trials], dtype=int)
    results["budget"] = np.array([info.budget for info, _ in trials], dtype=float)
    results["status"] = np.array([value.status.value for _, value in trials], dtype=object)
    return results
