"""Search estimators for scikit-learn: smacish's scheduler and model behind the interface of
``HalvingRandomSearchCV``.

>>> from scipy.stats import loguniform
>>> from sklearn.datasets import load_iris
>>> from sklearn.linear_model import LogisticRegression
>>> from smacish.sklearn import HyperbandSearchCV
>>> X, y = load_iris(return_X_y=True)
>>> search = HyperbandSearchCV(LogisticRegression(max_iter=500), {"C": loguniform(1e-3, 1e3)},
...                            n_trials=12, cv=3, random_state=0).fit(X, y)
>>> sorted(search.best_params_), search.best_score_ > 0.8, len(search.cv_results_["params"])
(['C'], True, 12)
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state

from smacish._failures import TargetFailedError
from smacish._sklearn_cv import N_SAMPLES, PARTIAL_FIT, CVTarget, cv_results
from smacish._sklearn_space import ParamSpace
from smacish.intensifiers import Hyperband, SuccessiveHalving
from smacish.optimizer import Optimizer
from smacish.trial import StatusType

__all__ = ["HyperbandSearchCV", "SuccessiveHalvingSearchCV"]


class HyperbandSearchCV(BaseSearchCV):
    """Hyperband over scikit-learn cross-validation, with smacish's model proposing candidates.

    Each trial cross-validates one candidate on a budget of ``resource``: a number of training
    samples (``"n_samples"``, as scikit-learn's halving search), the value of an integer
    parameter of the estimator (``"max_iter"``, ``"n_estimators"``), or a number of epochs of
    ``partial_fit`` (``"partial_fit"``). Candidates race on growing budgets; ``best_*`` is the
    best candidate on the highest budget reached (smacish's incumbent).

    Args:
        estimator: a scikit-learn estimator (or Pipeline: parameter names like ``clf__alpha``).
        param_distributions: a dict of parameter names to lists or ``scipy.stats``
            distributions (``uniform``, ``loguniform``, ``randint``, ...), or a
            ``ConfigurationSpace``.
        resource: ``"n_samples"``, an integer parameter of ``estimator``, or ``"partial_fit"``.
        min_resources: the smallest budget (default: for ``n_samples`` as scikit-learn's
            ``"smallest"``, else ``max_resources / eta**3``, at least 1).
        max_resources: the largest budget (default: every sample for ``n_samples``; required
            otherwise).
        eta: each stage keeps the best ``1/eta`` and multiplies the budget by ``eta``.
        n_trials: stop after this many trials (with none of the three limits: one full cycle
            of Hyperband's brackets).
        budget_limit: stop when the trials' budgets add up to this many resources.
        walltime_limit: stop after this many seconds.
        cv: as in ``GridSearchCV`` (an int, a splitter or an iterable of splits).
        scoring: as in ``GridSearchCV`` (None: the estimator's ``score``; several: a list or dict).
        refit: as in ``GridSearchCV`` (with several metrics, the name of the one to refit on).
        error_score: the score of a split that fails (``"raise"``: re-raise at once).
        return_train_score: also score each split's training data.
        selector: ``"rf"`` (default), ``"kde"`` or ``"random"``.
        random_state: seeds the search (None: a different search each time).
        n_jobs: trials at once on an embedded Dask cluster (None or 1: in this process; -1:
            every core); ``client``: any ``distributed.Client`` instead.
        output_dir: keep the run there; a second ``fit`` with the same directory resumes it.
        verbose: > 0 shows a progress bar (needs tqdm).
    """

    _schedule = Hyperband

    def __init__(self, estimator: Any, param_distributions: Any, *, resource: str = N_SAMPLES,
                 min_resources: Optional[float] = None, max_resources: Optional[float] = None, eta: float = 3,
                 n_trials: Optional[int] = None, budget_limit: Optional[float] = None,
                 walltime_limit: Optional[float] = None, cv: Any = 5, scoring: Any = None, refit: Any = True,
                 error_score: Any = np.nan, return_train_score: bool = False, selector: str = "rf",
                 random_state: Any = None, n_jobs: Optional[int] = None, client: Any = None,
                 output_dir: Optional[str] = None, verbose: int = 0):
        super().__init__(estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                         error_score=error_score, return_train_score=return_train_score)
        self.param_distributions = param_distributions
        self.resource = resource
        self.min_resources = min_resources
        self.max_resources = max_resources
        self.eta = eta
        self.n_trials = n_trials
        self.budget_limit = budget_limit
        self.walltime_limit = walltime_limit
        self.selector = selector
        self.random_state = random_state
        self.client = client
        self.output_dir = output_dir

    def fit(self, X: Any, y: Any = None, groups: Any = None, **fit_params: Any) -> "HyperbandSearchCV":
        """Run the search, then (with ``refit``) fit the best candidate on all of ``X``."""
        estimator = self.estimator
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        space = ParamSpace(self.param_distributions, seed=seed)
        self._check_names(space)
        scorers, refit_metric = self._get_scorers()
        multimetric = hasattr(scorers, "_scorers")
        names = list(scorers._scorers) if multimetric else ["score"]
        metric = refit_metric if refit_metric in names else names[0]  # what the search minimises
        cv = check_cv(self.cv, y, classifier=is_classifier(estimator))
        n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
        low, high = self._budgets(cv, y, n_samples)
        intensifier = self._schedule(min_budget=low, max_budget=high, eta=self.eta)
        opt = self._optimizer(space, intensifier, seed)
        # the run's own seed (a resumed run keeps its stored one): the same subsamples after a resume
        target = CVTarget(estimator, space.params, X, y, groups, fit_params, cv, scorers, metric, self.resource,
                          self.error_score, self.return_train_score, subsample_seed=opt.seed)
        n_trials = self.n_trials
        if n_trials is None and self.budget_limit is None and self.walltime_limit is None:
            n_trials = sum(n for schedule in Hyperband(min_budget=low, max_budget=high, eta=self.eta).schedules
                           for n, _ in schedule)
        n_workers = (self.n_jobs if self.n_jobs is None or self.n_jobs > 0 else os.cpu_count()) or 1
        try:
            opt.optimize(target, n_trials=n_trials, budget_limit=self.budget_limit, walltime_limit=self.walltime_limit,
                         client=self.client, n_workers=n_workers, show_progress=self.verbose > 0,
                         catch=() if self.error_score == "raise" else (Exception,))
        except TargetFailedError as err:
            if err.__cause__ is not None:
                raise err.__cause__ from None
            raise
        finally:
            opt.close()
        self._store_results(opt, space, names, cv.get_n_splits(X, y, groups), refit_metric, multimetric, scorers)
        if self.refit:
            n_resources = int(round(high))
            best = target.estimator_for(self.best_params_, n_resources)
            start = time.perf_counter()
            self.best_estimator_ = target.fit(best, X, y, fit_params, n_resources)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):  # as BaseSearchCV.fit
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    # ------------------------------------------------------------------ helpers
    def _check_names(self, space: ParamSpace) -> None:
        valid = self.estimator.get_params(deep=True)
        unknown = [name for name in space.names() if name not in valid]
        if unknown:
            raise ValueError(f"param_distributions names {unknown}, which {type(self.estimator).__name__} does not "
                             f"have; its parameters are {sorted(valid)}")
        if self.resource == PARTIAL_FIT:
            if not hasattr(self.estimator, "partial_fit"):
                raise ValueError(f"resource='partial_fit', but {type(self.estimator).__name__} has no partial_fit; "
                                 "use resource='n_samples' or an integer parameter such as 'max_iter'")
        elif self.resource != N_SAMPLES:
            if self.resource not in valid:
                raise ValueError(f"resource={self.resource!r} is not a parameter of {type(self.estimator).__name__}; "
                                 f"use 'n_samples', 'partial_fit' or one of {sorted(valid)}")
            if self.resource in space.names():
                raise ValueError(f"resource={self.resource!r} is also in param_distributions; it is the budget, so "
                                 "leave it out of the search")

    def _budgets(self, cv: Any, y: Any, n_samples: int) -> tuple:
        high = self.max_resources
        if self.resource == N_SAMPLES:
            high = n_samples if high is None else high
            if high > n_samples:
                raise ValueError(f"max_resources is {high}, but X has only {n_samples} samples")
        elif high is None:
            raise ValueError(f"max_resources is needed with resource={self.resource!r} (the largest value it "
                             "takes, e.g. max_resources=243)")
        low = self.min_resources
        if low is None:
            if self.resource == N_SAMPLES:  # scikit-learn's "smallest"
                n_classes = len(np.unique(y)) if y is not None and is_classifier(self.estimator) else 1
                low = 2 * cv.get_n_splits() * n_classes
            else:
                low = max(1, int(round(high / self.eta ** 3)))
        if not 0 < low <= high:
            raise ValueError(f"min_resources={low} and max_resources={high} must satisfy 0 < min <= max")
        return float(low), float(high)

    def _optimizer(self, space: ParamSpace, intensifier: Any, seed: int) -> Optimizer:
        if self.output_dir is not None and (Path(self.output_dir) / "events.jsonl").exists():
            return Optimizer.load(self.output_dir, configspace=space.configspace)  # refused if the search changed
        return Optimizer(space.configspace, intensifier, selector=self.selector, seed=seed,
                         output_dir=self.output_dir, direction="maximize")

    def _store_results(self, opt: Optimizer, space: ParamSpace, names: list, n_splits: int, refit_metric: str,
                       multimetric: bool, scorers: Any) -> None:
        trials = [(info, value) for info, value in opt.runhistory.items()
                  if value.status in (StatusType.SUCCESS, StatusType.CRASHED, StatusType.TIMEOUT)]
        if not any(value.status is StatusType.SUCCESS for _, value in trials):
            first = next((v.additional_info.get("traceback") for _, v in trials), None)
            raise ValueError(f"all {len(trials)} trials failed to fit; the first error:\n{first}")
        params = [space.params(info.config) for info, _ in trials]
        self.cv_results_ = cv_results(trials, params, names, n_splits, self.return_train_score, self.error_score)
        self.multimetric_ = multimetric
        self.scorer_ = scorers._scorers if multimetric else scorers
        self.n_splits_ = n_splits
        self.optimizer_ = opt
        if callable(self.refit):
            self.best_index_ = int(self.refit(self.cv_results_))
        elif self.refit or not multimetric:
            inc = opt.runhistory.incumbent_entry(opt.intensifier.incumbent_selection, opt.intensifier.max_budget)
            self.best_index_ = next(i for i, (info, value) in enumerate(trials)
                                    if value.status is StatusType.SUCCESS and info.budget == inc.budget
                                    and opt.runhistory.config_number(info.config) == inc.config_number)
        if hasattr(self, "best_index_"):
            self.best_params_ = params[self.best_index_]
            key = "mean_test_score" if not multimetric else f"mean_test_{refit_metric}"
            if not callable(self.refit) and key in self.cv_results_:
                self.best_score_ = float(self.cv_results_[key][self.best_index_])


class SuccessiveHalvingSearchCV(HyperbandSearchCV):
    """Successive halving over scikit-learn cross-validation: Hyperband's most aggressive
    bracket, run again and again (as many as ``n_trials`` allow). Arguments as
    :class:`HyperbandSearchCV`."""

    _schedule = SuccessiveHalving
