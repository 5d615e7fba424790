"""smacish.sklearn: the search estimators follow scikit-learn's conventions for search CV."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import loguniform, norm, randint, uniform
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_iris
from sklearn.experimental import enable_halving_search_cv  # noqa: F401 - makes HalvingRandomSearchCV importable
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GroupKFold, HalvingRandomSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from smacish.sklearn import HyperbandSearchCV, SuccessiveHalvingSearchCV

X, Y = load_iris(return_X_y=True)
SPACE = {"C": loguniform(1e-3, 1e2)}


def search(**kwargs) -> HyperbandSearchCV:
    args = dict(n_trials=10, cv=3, random_state=0)
    args.update(kwargs)
    estimator = args.pop("estimator", LogisticRegression(max_iter=300))
    space = args.pop("space", SPACE)
    return HyperbandSearchCV(estimator, space, **args)


class Counting(ClassifierMixin, BaseEstimator):
    """Records how it was trained: epochs of partial_fit, sample weights; fails when told to."""

    def __init__(self, alpha: float = 1.0, fail: bool = False, n_rounds: int = 1):
        self.alpha = alpha
        self.fail = fail
        self.n_rounds = n_rounds

    def fit(self, X, y, sample_weight=None):
        if self.fail:
            raise ArithmeticError("told to fail")
        self.classes_ = np.unique(y)
        self.weights_seen_ = None if sample_weight is None else len(sample_weight)
        self.majority_ = self.classes_[np.argmax(np.bincount(np.searchsorted(self.classes_, y)))]
        return self

    def partial_fit(self, X, y, classes=None):
        self.epochs_ = getattr(self, "epochs_", 0) + 1
        self.classes_ = classes
        self.majority_ = classes[0]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


def test_clone_and_get_params_round_trip() -> None:
    s = search(eta=2, selector="random", verbose=0)
    params = s.get_params(deep=False)
    assert params["eta"] == 2 and params["selector"] == "random" and params["param_distributions"] is SPACE
    assert clone(s).get_params(deep=False).keys() == params.keys()


def test_cv_results_has_the_keys_and_shapes_of_halving_random_search() -> None:
    ours = search(n_trials=9, return_train_score=True).fit(X, Y)
    theirs = HalvingRandomSearchCV(LogisticRegression(max_iter=300), SPACE, cv=3, random_state=0,
                                   return_train_score=True).fit(X, Y)
    assert set(theirs.cv_results_) <= set(ours.cv_results_)
    n = len(ours.cv_results_["params"])
    assert n == 9
    for key in theirs.cv_results_:
        assert len(ours.cv_results_[key]) == n, key
    assert isinstance(ours.cv_results_["param_C"], np.ma.MaskedArray)
    assert set(ours.cv_results_["n_resources"]) > {150} or max(ours.cv_results_["n_resources"]) == 150
    ranks = ours.cv_results_["rank_test_score"]
    best = np.nanargmax(ours.cv_results_["mean_test_score"])
    assert ranks[best] == 1 and ranks.min() == 1
    # best_* is the incumbent: the best candidate on the highest budget reached
    top = ours.cv_results_["budget"] == ours.cv_results_["budget"][ours.best_index_]
    assert ours.best_score_ == ours.cv_results_["mean_test_score"][top].max()
    assert ours.best_params_ == ours.cv_results_["params"][ours.best_index_]
    assert ours.best_estimator_.C == pytest.approx(ours.best_params_["C"])
    assert ours.n_splits_ == 3 and ours.refit_time_ >= 0 and len(ours.optimizer_.runhistory) == 9
    assert ours.predict(X).shape == (150,) and 0 <= ours.score(X, Y) <= 1
    assert list(ours.classes_) == [0, 1, 2] and ours.n_features_in_ == 4


def test_refit_false_leaves_no_best_estimator() -> None:
    s = search(refit=False).fit(X, Y)
    assert not hasattr(s, "best_estimator_") and hasattr(s, "best_params_")
    with pytest.raises(AttributeError):
        s.predict(X)


def test_multimetric_scoring_refits_on_the_named_metric() -> None:
    s = search(scoring=["accuracy", "f1_macro"], refit="f1_macro").fit(X, Y)
    assert s.multimetric_ and {"mean_test_accuracy", "mean_test_f1_macro", "rank_test_f1_macro"} <= set(s.cv_results_)
    assert s.best_score_ == s.cv_results_["mean_test_f1_macro"][s.best_index_]
    with pytest.raises(ValueError, match="multi-metric"):
        search(scoring=["accuracy", "f1_macro"]).fit(X, Y)


def test_error_score_raise_reraises_and_nan_records_and_goes_on() -> None:
    space = {"fail": [True, False]}
    with pytest.raises(ArithmeticError, match="told to fail"):
        search(estimator=Counting(), space={"fail": [True]}, error_score="raise").fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = search(estimator=Counting(), space=space, n_trials=12, selector="random").fit(X, Y)
    failed = np.array([p["fail"] for p in s.cv_results_["params"]])
    assert failed.any() and not failed.all()
    assert np.isnan(s.cv_results_["mean_test_score"][failed]).all()
    assert (s.cv_results_["status"][failed] == "CRASHED").all()
    assert s.best_params_ == {"fail": False}
    with pytest.raises(ValueError, match=r"(?s)all \d+ trials failed to fit.*told to fail"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search(estimator=Counting(), space={"fail": [True]}).fit(X, Y)


def test_a_pipeline_nested_cross_validation_and_pickling() -> None:
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=300))])
    s = search(estimator=pipe, space={"clf__C": loguniform(1e-2, 1e2)}, n_trials=6)
    scores = cross_val_score(s, X, Y, cv=2)
    assert scores.shape == (2,) and (scores > 0.5).all()
    fitted = s.fit(X, Y)
    again = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(again.predict(X), fitted.predict(X)) and again.best_params_ == fitted.best_params_


def test_each_resource_kind() -> None:
    by_samples = search(n_trials=9).fit(X, Y)
    assert len(set(by_samples.cv_results_["n_resources"])) > 1 and by_samples.cv_results_["n_resources"].max() <= 150
    sgd = SGDClassifier(tol=None, random_state=0)
    by_iter = search(estimator=sgd, space={"alpha": loguniform(1e-5, 1e-1)}, resource="max_iter",
                     max_resources=27, n_trials=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SGD's ConvergenceWarning at small max_iter
        by_iter.fit(X, Y)
    assert set(by_iter.cv_results_["n_resources"]) <= {1, 3, 9, 27} and by_iter.best_estimator_.max_iter == 27
    epochs = search(estimator=Counting(), space={"alpha": uniform(0, 1)}, resource="partial_fit",
                    max_resources=9, n_trials=6).fit(X, Y)
    assert epochs.best_estimator_.epochs_ == 9 and set(epochs.cv_results_["n_resources"]) <= {1, 3, 9}


def test_sample_weight_and_groups_reach_the_estimator_and_the_splitter() -> None:
    groups = np.arange(150) % 5
    s = search(estimator=Counting(), space={"alpha": uniform(0, 1)}, cv=GroupKFold(n_splits=5), n_trials=4,
               resource="n_rounds", max_resources=9)
    s.fit(X, Y, groups=groups, sample_weight=np.ones(150))
    assert s.best_estimator_.weights_seen_ == 150 and s.n_splits_ == 5


def test_a_list_of_dicts_searches_each_subspace_with_its_own_parameters() -> None:
    from sklearn.svm import SVC

    space = [{"kernel": ["linear"], "C": loguniform(1e-2, 1e2)},
             {"kernel": ["rbf"], "C": loguniform(1e-2, 1e2), "gamma": loguniform(1e-4, 1e0)}]
    s = search(estimator=SVC(), space=space, n_trials=12, selector="random").fit(X, Y)
    kinds = {p["kernel"]: set(p) for p in s.cv_results_["params"]}
    assert kinds == {"linear": {"kernel", "C"}, "rbf": {"kernel", "C", "gamma"}}
    gamma = s.cv_results_["param_gamma"]
    linear = np.array([p["kernel"] == "linear" for p in s.cv_results_["params"]])
    assert gamma.mask[linear].all() and not gamma.mask[~linear].any()


def test_successive_halving_search_runs_its_bracket_again() -> None:
    s = SuccessiveHalvingSearchCV(LogisticRegression(max_iter=300), SPACE, cv=3, n_trials=15, random_state=1).fit(X, Y)
    assert s.cv_results_["iter"].max() >= 1 and len(s.cv_results_["params"]) == 15


def test_resume_from_output_dir(tmp_path: Path) -> None:
    first = search(n_trials=6, output_dir=str(tmp_path / "run")).fit(X, Y)
    second = search(n_trials=12, output_dir=str(tmp_path / "run")).fit(X, Y)
    assert len(second.cv_results_["params"]) == 12
    assert second.cv_results_["params"][:6] == first.cv_results_["params"]


def test_a_real_local_cluster() -> None:
    s = search(n_trials=8, n_jobs=2).fit(X, Y)
    workers = {v.additional_info.get("worker") for _, v in s.optimizer_.runhistory.items()}
    assert len(s.cv_results_["params"]) == 8 and len(workers - {None}) >= 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(space={"gamma": [1, 2]}), "does not have; its parameters are"),
    (dict(space={"C": 3.0}), "neither a list of values nor a distribution"),
    (dict(space={"C": norm(0, 1)}), "infinite support"),
    (dict(resource="n_estimators", max_resources=9), "is not a parameter of LogisticRegression"),
    (dict(resource="partial_fit", max_resources=9), "has no partial_fit"),
    (dict(resource="max_iter"), "max_resources is needed"),
    (dict(space={"max_iter": randint(1, 5)}, resource="max_iter", max_resources=9), "leave it out"),
    (dict(space=[SPACE, {"tol": 3}]), "param_distributions\\['tol'\\] is 3"),
])
def test_bad_input_says_what_to_fix(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        search(**kwargs).fit(X, Y)


def _layout(results: dict) -> dict:
    """Each cv_results_ key's container type and shape (what a reader of the dict relies on)."""
    return {key: (type(value).__name__, np.shape(value)) for key, value in results.items()}


@pytest.mark.parametrize("resource, scoring", [("n_samples", None), ("max_iter", None),
                                               ("n_samples", "f1_macro")])
def test_cv_results_layout_matches_halving_random_search(resource, scoring) -> None:
    # (scikit-learn's halving search takes one metric only; multimetric keys: the test above)
    kwargs = dict(resource=resource, cv=3, random_state=0, scoring=scoring, return_train_score=True)
    if resource == "max_iter":
        kwargs["max_resources"] = 27
    estimator = SGDClassifier(tol=None, random_state=0)
    space = {"alpha": loguniform(1e-5, 1e-1)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SGD's ConvergenceWarning at small max_iter
        theirs = HalvingRandomSearchCV(estimator, space, **kwargs).fit(X, Y)
        ours = HyperbandSearchCV(estimator, space, n_trials=9, **kwargs).fit(X, Y)
    n_ours = len(ours.cv_results_["params"])
    assert n_ours == 9
    mine, reference = _layout(ours.cv_results_), _layout(theirs.cv_results_)
    # scikit-learn's halving search puts the resource among the parameters; smacish keeps it in n_resources
    reference.pop(f"param_{resource}", None)
    assert set(reference) <= set(mine), sorted(set(reference) - set(mine))
    for key, (kind, shape) in reference.items():
        assert mine[key] == (kind, (n_ours,) + shape[1:]), (key, mine[key], (kind, shape))
    assert set(mine) - set(reference) == {"budget", "status"}
    for key in [k for k in reference if k.startswith("rank_test_")]:
        assert ours.cv_results_[key].dtype == theirs.cv_results_[key].dtype, key
    assert ours.n_splits_ == theirs.n_splits_ == 3 and ours.multimetric_ == theirs.multimetric_


_SEEN: list = []


class Recording(ClassifierMixin, BaseEstimator):
    """Records every fit: rows, ``n_rounds``, epochs of partial_fit (in this process)."""

    def __init__(self, alpha: float = 1.0, n_rounds: int = 1):
        self.alpha = alpha
        self.n_rounds = n_rounds

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        _SEEN.append(("fit", len(X), self.n_rounds))
        return self

    def partial_fit(self, X, y, classes=None):
        self.classes_ = classes
        self.epochs_ = getattr(self, "epochs_", 0) + 1
        _SEEN.append(("partial_fit", len(X), self.epochs_))
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.mark.parametrize("resource", ["n_samples", "n_rounds", "partial_fit"])
def test_each_resource_kind_trains_on_the_budget_it_records(resource) -> None:
    _SEEN.clear()
    kwargs = {} if resource == "n_samples" else {"max_resources": 9}
    # budgets 1, 3, 9 (13 trials: the first bracket's 9 + 3 + 1); n_samples: 50, 150 (from scikit-learn's
    # "smallest", 2 x 3 folds x 3 classes = 18, times eta = 3)
    s = search(estimator=Recording(), space={"alpha": uniform(0, 1)}, resource=resource, n_trials=13, **kwargs)
    s.fit(X, Y)
    budgets = sorted({int(b) for b in s.cv_results_["n_resources"]})
    assert budgets == ([50, 150] if resource == "n_samples" else [1, 3, 9])
    kind = "partial_fit" if resource == "partial_fit" else "fit"
    fits = [entry for entry in _SEEN if entry[0] == kind]
    if resource == "n_samples":  # each of the 3 folds trains on 2/3 of the trial's samples; the refit on all
        assert fits[-1] == ("fit", 150, 1)
        trained = {n for _, n, _ in fits[:-1]}
        fold_sizes = {b: set(range(b - -(-b // 3), b - b // 3 + 1)) for b in budgets}
        assert all(any(n in sizes for sizes in fold_sizes.values()) for n in trained), (trained, budgets)
        assert all(trained & sizes for sizes in fold_sizes.values()), (trained, budgets)
    elif resource == "n_rounds":  # the parameter is the budget; every fold sees all the samples
        assert sorted({r for _, _, r in fits[:-1]}) == budgets
        assert {n for _, n, _ in fits} == {100, 150} and s.best_estimator_.n_rounds == 9
    else:  # as many epochs of partial_fit as the budget
        assert max(e for _, _, e in fits) == 9 and s.best_estimator_.epochs_ == 9
        assert sum(e == 1 for _, _, e in fits) == 3 * 13 + 1  # one first epoch per fold and trial, and the refit


def test_budget_limit_stops_once_the_budget_is_spent() -> None:
    s = search(n_trials=None, budget_limit=600).fit(X, Y)
    spent = float(np.sum(s.cv_results_["budget"]))
    assert 600 <= spent < 600 + 150 and spent == pytest.approx(s.optimizer_.runhistory.budget_spent)


def test_the_same_random_state_gives_the_same_search() -> None:
    first, second = search(random_state=3).fit(X, Y), search(random_state=3).fit(X, Y)
    assert first.cv_results_["params"] == second.cv_results_["params"]
    assert list(first.cv_results_["n_resources"]) == list(second.cv_results_["n_resources"])
    assert search(random_state=4).fit(X, Y).cv_results_["params"] != first.cv_results_["params"]


def test_methods_delegate_to_the_best_estimator_and_feature_names_are_kept() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["sepal length", "sepal width", "petal length", "petal width"])
    s = search().fit(frame, Y)
    assert list(s.feature_names_in_) == list(frame.columns) and s.n_features_in_ == 4
    assert np.allclose(s.predict_proba(frame), s.best_estimator_.predict_proba(frame))
    assert np.allclose(s.decision_function(frame), s.best_estimator_.decision_function(frame))
    from sklearn.decomposition import PCA

    pca = HyperbandSearchCV(PCA(), {"n_components": [1, 2, 3]}, n_trials=6, cv=3, random_state=0).fit(X)
    assert pca.transform(X).shape == (150, pca.best_params_["n_components"])
    assert np.allclose(pca.inverse_transform(pca.transform(X)),
                       pca.best_estimator_.inverse_transform(pca.best_estimator_.transform(X)))


def test_a_client_of_your_own_and_the_data_sent_once() -> None:
    distributed = pytest.importorskip("distributed")

    class Counted(np.ndarray):
        pickled = 0

        def __reduce_ex__(self, protocol):
            Counted.pickled += 1
            return np.asarray(self).__reduce_ex__(protocol)

    data = np.asarray(X).view(Counted)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        s = search(n_trials=12, client=client).fit(data, Y)
        assert client.status == "running"  # a client passed in stays open
    workers = {v.additional_info.get("worker") for _, v in s.optimizer_.runhistory.items()}
    assert len(s.cv_results_["params"]) == 12 and len(workers - {None}) == 2
    assert 1 <= Counted.pickled <= 2  # with the search's target, once (not once per trial)
