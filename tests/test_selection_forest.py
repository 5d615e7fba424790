"""Forest backends (mean and variance) and acquisition functions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from smacish.selection._acquisition import (
    ACQUISITIONS,
    expected_improvement,
    lower_confidence_bound,
    probability_of_improvement,
)
from smacish.selection._forest import SklearnForest, make_forest, pyrfr_available


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3))
    X[:, 2] = rng.integers(0, 3, n)  # a categorical with 3 values
    y = (X[:, 0] - 0.3) ** 2 + 0.5 * X[:, 1] + np.where(X[:, 2] == 1, 1.0, 0.0)
    y += 0.01 * rng.standard_normal(n)
    return X, y


TYPES = np.array([0, 0, 3])
BACKENDS = [
    "sklearn",
    pytest.param("pyrfr", marks=pytest.mark.skipif(not pyrfr_available(), reason="pyrfr not installed")),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_forest_learns_the_function_and_gives_a_variance(backend):
    X, y = _data()
    forest = make_forest(backend, TYPES, seed=0).fit(X, y)
    Xt, yt = _data(300, seed=1)
    mean, var = forest.predict(Xt)
    assert mean.shape == var.shape == (300,)
    assert np.corrcoef(mean, yt)[0, 1] > 0.9
    assert (var >= 0).all() and (var > 0).any()
    # the category that adds 1 is recognised
    assert mean[Xt[:, 2] == 1].mean() - mean[Xt[:, 2] != 1].mean() > 0.7


@pytest.mark.parametrize("backend", BACKENDS)
def test_forest_is_deterministic_per_seed(backend):
    X, y = _data()
    Xt, _ = _data(50, seed=2)
    a = make_forest(backend, TYPES, seed=3).fit(X, y).predict(Xt)
    b = make_forest(backend, TYPES, seed=3).fit(X, y).predict(Xt)
    c = make_forest(backend, TYPES, seed=4).fit(X, y).predict(Xt)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_variance_is_the_spread_of_the_trees():
    X, y = _data()
    forest = SklearnForest(TYPES, seed=0, n_trees=7).fit(X, y)
    P = forest.predict_trees(X[:20])
    mean, var = forest.predict(X[:20])
    assert P.shape == (7, 20)
    np.testing.assert_allclose(mean, P.mean(axis=0))
    np.testing.assert_allclose(var, P.var(axis=0))


def test_without_bootstrap_and_one_point_leaves_the_forest_interpolates():
    X, y = _data(60)
    forest = SklearnForest(TYPES, seed=0, bootstrap=False, min_samples_leaf=1, min_samples_split=2,
                           max_features=1.0).fit(X, y)
    mean, var = forest.predict(X)
    np.testing.assert_allclose(mean, y, atol=1e-6)
    np.testing.assert_allclose(var, 0, atol=1e-9)


@pytest.mark.skipif(not pyrfr_available(), reason="pyrfr not installed")
def test_backends_agree():
    X, y = _data(300)
    Xt, _ = _data(200, seed=5)
    a = make_forest("sklearn", TYPES, seed=0).fit(X, y).predict(Xt)[0]
    b = make_forest("pyrfr", TYPES, seed=0).fit(X, y).predict(Xt)[0]
    assert np.corrcoef(a, b)[0, 1] > 0.95


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="forest backend is 'xgb', but must be one of"):
        make_forest("xgb", TYPES)


# ------------------------------------------------------------------ acquisition functions
def test_expected_improvement_matches_the_closed_form():
    mean = np.array([0.0, 1.0, -1.0, 0.5])
    var = np.array([1.0, 4.0, 0.25, 0.0])
    best = 0.2
    std = np.sqrt(var[:3])
    z = (best - mean[:3]) / std
    expected = (best - mean[:3]) * norm.cdf(z) + std * norm.pdf(z)
    ei = expected_improvement(mean, var, best)
    np.testing.assert_allclose(ei[:3], expected)
    assert ei[3] == 0.0  # no variance, no improvement
    assert expected_improvement(np.array([0.0]), np.array([0.0]), best)[0] == pytest.approx(0.2)


def test_expected_improvement_prefers_lower_means_and_more_uncertainty():
    means = np.linspace(-1, 1, 5)
    assert (np.diff(expected_improvement(means, np.ones(5), 0.0)) < 0).all()
    variances = np.linspace(0.1, 2, 5)
    assert (np.diff(expected_improvement(np.zeros(5), variances, 0.0)) > 0).all()


def test_probability_of_improvement_and_lower_confidence_bound():
    pi = probability_of_improvement(np.array([0.0, 1.0, -1.0]), np.array([1.0, 1.0, 0.0]), best=0.0)
    np.testing.assert_allclose(pi, [0.5, norm.cdf(-1.0), 1.0])
    lcb = lower_confidence_bound(np.array([1.0, 1.0]), np.array([0.0, 1.0]), best=0.0, kappa=2.0)
    np.testing.assert_allclose(lcb, [-1.0, 1.0])
    assert set(ACQUISITIONS) == {"ei", "pi", "lcb"}
