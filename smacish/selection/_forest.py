"""Random-forest surrogates with a mean and a variance: one small interface, two backends.

``fit(X, y)`` then ``predict(X) -> (mean, variance)``; the variance is the spread of the
trees' predictions. Backends:

- ``"sklearn"``: scikit-learn decision trees, grown here one by one on bootstrap samples
  (drawn with replacement, as pyrfr does; no joblib round trip), predicted with
  ``tree_.apply`` in one vectorised call per tree.
  scikit-learn's trees have no categorical splits: category indices are split by threshold.
- ``"pyrfr"``: SMAC's classic forest (``pip install smacish[pyrfr]``), imported only when
  chosen; categoricals are split as categories.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

BACKENDS = ("sklearn", "pyrfr")


def pyrfr_available() -> bool:
    """True if ``pyrfr.regression`` can be imported."""
    try:
        import pyrfr.regression  # noqa: F401
    except ImportError:
        return False
    return True


class _ForestBase:
    def __init__(
        self,
        types: np.ndarray,
        seed: int = 0,
        n_trees: int = 10,
        bootstrap: bool = True,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        max_features: float = 5 / 6,
        max_depth: Optional[int] = None,
    ):
        self.types = np.asarray(types, dtype=np.int64)
        self.seed = int(seed)
        self.n_trees = n_trees
        self.bootstrap = bootstrap
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.max_depth = max_depth
        self.n_fits = 0

    def n_split_features(self, n_columns: int) -> int:
        """Features tried per split; columns beyond ``types`` (a budget) are continuous."""
        return max(1, int(n_columns * self.max_features))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_trees={self.n_trees}, bootstrap={self.bootstrap}, "
            f"min_samples_split={self.min_samples_split}, min_samples_leaf={self.min_samples_leaf}, "
            f"max_features={self.max_features:.3g})"
        )


class SklearnForest(_ForestBase):
    """Bagged scikit-learn regression trees; variance across the trees.

    >>> import numpy as np
    >>> X = np.linspace(0, 1, 40)[:, None]
    >>> f = SklearnForest(types=np.array([0]), seed=0).fit(X, (X[:, 0] - 0.5) ** 2)
    >>> mean, var = f.predict(np.array([[0.5], [0.0]]))
    >>> bool(mean[0] < mean[1]), bool((var >= 0).all())
    (True, True)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # imported here, when the Optimizer is built, rather than at the first fit in the middle
        # of a run, where it would hold up the asks for a second or two
        import sklearn.tree  # noqa: F401

    def fit(self, X: np.ndarray, y: np.ndarray) -> "SklearnForest":
        import sklearn
        from sklearn.tree import DecisionTreeRegressor

        X = np.ascontiguousarray(X, dtype=np.float32)
        y = np.asarray(y, dtype=float)
        n = len(y)
        rng = np.random.default_rng([self.seed, self.n_fits])
        # one RandomState for all trees: sklearn seeds each tree's splitter from it (building
        # one per tree costs more than growing a small tree)
        random_state = np.random.RandomState(int(rng.integers(0, 2**31 - 1)))
        self.n_fits += 1
        trees = []
        # the arguments are checked once, here; sklearn's per-call validation would cost more
        # than the tree itself on a few hundred points
        with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
            for _ in range(self.n_trees):
                tree = DecisionTreeRegressor(
                    min_samples_split=self.min_samples_split,
                    min_samples_leaf=self.min_samples_leaf,
                    max_features=self.n_split_features(X.shape[1]),
                    max_depth=self.max_depth,
                    random_state=random_state,
                )
                if self.bootstrap:
                    rows = rng.integers(0, n, n)
                    tree.fit(X[rows], y[rows], check_input=False)
                else:
                    tree.fit(X, y, check_input=False)
                trees.append(tree.tree_)
        self._trees = trees
        return self

    def predict_trees(self, X: np.ndarray) -> np.ndarray:
        """Each tree's prediction, shape ``(n_trees, n)``."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        return np.stack([t.value[t.apply(X), 0, 0] for t in self._trees])

    def predict(self, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        P = self.predict_trees(X)
        return P.mean(axis=0), P.var(axis=0)


class PyrfrForest(_ForestBase):
    """SMAC's random forest from ``pyrfr.regression`` (categoricals split as categories)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        try:
            from pyrfr import regression
        except ImportError as err:
            raise ImportError(
                "the 'pyrfr' forest backend needs pyrfr: pip install 'smacish[pyrfr]' "
                "(it builds with SWIG), or use backend='sklearn'"
            ) from err
        self._regression = regression

    def fit(self, X: np.ndarray, y: np.ndarray) -> "PyrfrForest":
        reg = self._regression
        X = np.asarray(X, dtype=float)
        n, d = X.shape
        data = reg.default_data_container(d)
        for i, t in enumerate(self.types):
            if t:
                data.set_type_of_feature(i, int(t))
        for row, value in zip(X.tolist(), np.asarray(y, dtype=float).tolist()):
            data.add_data_point(row, value)
        forest = reg.binary_rss_forest()
        opts = forest.options
        opts.num_trees = self.n_trees
        opts.do_bootstrapping = self.bootstrap
        opts.num_data_points_per_tree = n
        opts.tree_opts.max_features = self.n_split_features(d)
        opts.tree_opts.min_samples_to_split = self.min_samples_split
        opts.tree_opts.min_samples_in_leaf = self.min_samples_leaf
        opts.tree_opts.max_depth = self.max_depth or 2**20
        opts.tree_opts.epsilon_purity = 1e-8
        opts.tree_opts.max_num_nodes = 2**20
        forest.options = opts
        seed = int(np.random.default_rng([self.seed, self.n_fits]).integers(0, 2**31 - 1))
        self.n_fits += 1
        forest.fit(data, reg.default_random_engine(seed))
        self._forest = forest
        return self

    def predict(self, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        out = np.array([self._forest.predict_mean_var(row) for row in np.asarray(X, dtype=float).tolist()])
        if not len(out):
            return np.empty(0), np.empty(0)
        return out[:, 0], np.maximum(out[:, 1], 0.0)


def make_forest(backend: str, types: np.ndarray, seed: int = 0, **options):
    """A forest of the named backend (``"sklearn"`` or ``"pyrfr"``)."""
    if backend == "sklearn":
        return SklearnForest(types, seed=seed, **options)
    if backend == "pyrfr":
        return PyrfrForest(types, seed=seed, **options)
    raise ValueError(f"forest backend is {backend!r}, but must be one of {BACKENDS}")
