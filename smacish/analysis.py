"""Read-only analyses of a run: which hyperparameters matter (``importance``).

The source of every analysis is an Optimizer, a RunHistory or a run directory (read as
``smacish status`` reads it: never locked, never written).

**fANOVA** (Hutter, Hoos & Leyton-Brown, *An efficient approach for assessing hyperparameter
importance*, ICML 2014): a random forest is fitted to (encoded configuration -> mean cost) on
one budget, and each tree's prediction is decomposed exactly over the tree's partition into
a mean, main effects and interactions. The importance of a hyperparameter is the variance of
its main effect as a share of the tree's total variance, averaged over trees (``std`` is the
spread over trees). The integrals are taken over the search space's own measure: a float or
integer uniformly over its vector range (that is, log-uniformly for ``log=True``), each value
of a categorical or ordinal equally likely; an inactive conditional hyperparameter is one
more value, as likely as it is inactive in the data.

**Permutation importance** (``method="permutation"``): how much each tree's error on its
out-of-bag configurations grows when one hyperparameter's column is shuffled, divided by
twice the variance of the costs. For a cost that is a sum of one-dimensional terms this
estimates the same share as fANOVA; with interactions it is the *total* effect (main effect
plus every interaction the hyperparameter takes part in). It judges the forest on observed
configurations only, so it is what ``method="auto"`` uses when the space has forbidden
clauses (fANOVA would integrate the forest over configurations that can never be run).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from smacish.runhistory import RunHistory
from smacish.selection._encoding import CATEGORICAL, ORDINAL, SpaceEncoder
from smacish.trial import StatusType

METHODS = ("auto", "fanova", "permutation")
MIN_CONFIGS = 10
"""A budget has enough data for importance when at least ``max(MIN_CONFIGS, 2 x the number
of hyperparameters)`` configurations have a successful trial on it."""


class NotEnoughData(ValueError):
    """The run has too few successful configurations (or no variation in cost) to analyse."""


def one_objective(runhistory: RunHistory, objective: Optional[str]) -> RunHistory:
    """``runhistory`` itself, or with several objectives its copy for ``objective`` (which
    such a run needs: a ValueError names them)."""
    if runhistory.objectives is None and objective is None:
        return runhistory
    if objective is None:
        raise ValueError(f"this run has the objectives {runhistory.objectives}: pass objective= one of them")
    return runhistory.single_objective(objective)


def runhistory_of(source: Any) -> RunHistory:
    """The RunHistory of an Optimizer, a RunHistory itself, or that of a run directory (a path).

    >>> from ConfigSpace import ConfigurationSpace
    >>> rh = RunHistory(ConfigurationSpace({"x": (0.0, 1.0)}))
    >>> runhistory_of(rh) is rh
    True
    """
    if isinstance(source, RunHistory):
        return source
    if isinstance(source, (str, os.PathLike)):
        from smacish.cli import RunView  # the one reader of a run directory

        return RunView.read(os.fspath(source)).runhistory
    runhistory = getattr(source, "runhistory", None)
    if isinstance(runhistory, RunHistory):
        return runhistory
    raise TypeError(
        f"expected an Optimizer, a RunHistory or a run directory (a path), got {type(source).__name__}"
    )


def min_configs(n_hyperparameters: int) -> int:
    """How many configurations with a successful trial one budget needs for importance."""
    return max(MIN_CONFIGS, 2 * n_hyperparameters)


def successful_costs(runhistory: RunHistory) -> Dict[Optional[float], Dict[int, List[float]]]:
    """Per budget (None in runs without budgets), per configuration id, its successful costs
    (a timeout with a finite cost counts, as in the model's training data; no infinite cost)."""
    out: Dict[Optional[float], Dict[int, List[float]]] = {}
    for info, value in runhistory.items():
        ok = value.status is StatusType.SUCCESS or value.status is StatusType.TIMEOUT
        if ok and math.isfinite(value.cost):  # an infinite cost is no cost a model can learn
            budget = None if info.budget is None else float(info.budget)
            out.setdefault(budget, {}).setdefault(runhistory.config_number(info.config), []).append(value.cost)
    return out


def budgets_of(runhistory: RunHistory) -> List[Optional[float]]:
    """The budgets of the finished trials, ascending ([None] in a run without budgets)."""
    return sorted({None if i.budget is None else float(i.budget) for i, _ in runhistory.items()},
                  key=lambda b: -1.0 if b is None else b)


def check_budget(runhistory: RunHistory, budget: float) -> float:
    """``budget`` as a float, if the run has trials on it; else a ``ValueError`` that lists
    the run's budgets."""
    budget, budgets = float(budget), budgets_of(runhistory)
    if None in budgets:
        raise ValueError(f"budget is {budget:g}, but this run's trials have no budgets; leave budget=None")
    if budget not in budgets:
        shown = ", ".join(f"{b:g}" for b in budgets) or "none (no finished trial)"
        raise ValueError(f"budget {budget:g} is not a budget of this run; its budgets are {shown}")
    return budget


def choose_budget(runhistory: RunHistory, budget: Optional[float] = None) -> Optional[float]:
    """The budget to analyse: ``budget`` (checked), or the highest with enough configurations
    (see ``MIN_CONFIGS``). Raises :class:`NotEnoughData` with what the run has when the budget
    does not qualify, or no budget does."""
    if runhistory.configspace is None:
        raise NotEnoughData("importance needs a RunHistory with a configuration space; "
                            "this one has no trial yet")
    need = min_configs(len(runhistory.configspace))
    by_budget = successful_costs(runhistory)
    needs = f"importance needs at least {need} configurations with a successful trial on one budget"
    if budget is not None:
        budget = check_budget(runhistory, budget)
        have = len(by_budget.get(budget, {}))
        if have < need:
            raise NotEnoughData(f"{needs}; this run has {have} on budget {budget:g}")
        return budget
    for level in reversed(budgets_of(runhistory)):
        if len(by_budget.get(level, {})) >= need:
            return level
    have, where = max(((len(c), b) for b, c in by_budget.items()), key=lambda t: t[0], default=(0, None))
    at = f" (on budget {where:g})" if where is not None else ""
    raise NotEnoughData(f"{needs}; this run has {have}{at}")


# ---------------------------------------------------------------------- the space's measure
@dataclass
class _Measure:
    """A probability measure on one encoded feature: ``uniform`` mass spread over [0, 1] and
    point masses ``masses`` at ``atoms``."""

    uniform: float
    atoms: np.ndarray
    masses: np.ndarray

    def of(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The measure of each interval ``(lo, hi]`` (a tree sends ``x <= threshold`` left)."""
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        out = self.uniform * (np.clip(hi, 0.0, 1.0) - np.clip(lo, 0.0, 1.0))
        if self.atoms.size:
            inside = (self.atoms > lo[..., None]) & (self.atoms <= hi[..., None])
            out = out + inside @ self.masses
        return out


def _measures(encoder: SpaceEncoder, X: np.ndarray) -> List[_Measure]:
    out = []
    for j in range(encoder.n_features):
        p = float(np.mean(X[:, j] == encoder.inactive_value[j])) if len(X) else 0.0
        none = (np.empty(0), np.empty(0))
        inactive = (np.array([encoder.inactive_value[j]]), np.array([p])) if p > 0 else none
        kind, size = encoder.kinds[j], int(encoder.sizes[j])
        if kind == CATEGORICAL:
            atoms = np.arange(size, dtype=float)
        elif kind == ORDINAL:
            atoms = np.linspace(0.0, 1.0, size) if size > 1 else np.zeros(1)
        else:
            out.append(_Measure(1.0 - p, *inactive))
            continue
        out.append(_Measure(0.0, np.concatenate([atoms, inactive[0]]),
                            np.concatenate([np.full(size, (1.0 - p) / size), inactive[1]])))
    return out


# ---------------------------------------------------------------------- one tree's partition
@dataclass
class _Partition:
    """The leaves of one tree as boxes ``(lo, hi]`` with their values and measures."""

    lo: np.ndarray  # (leaves, features)
    hi: np.ndarray
    value: np.ndarray  # (leaves,)
    mass: np.ndarray  # (leaves, features): each side's measure
    thresholds: List[np.ndarray]  # per feature, the tree's split points (sorted)

    @classmethod
    def of(cls, tree: Any, measures: List[_Measure]) -> "_Partition":
        t = tree.tree_
        d = len(measures)
        los, his, values = [], [], []
        stack = [(0, np.full(d, -np.inf), np.full(d, np.inf))]
        while stack:
            node, lo, hi = stack.pop()
            left, right = t.children_left[node], t.children_right[node]
            if left == -1:
                los.append(lo)
                his.append(hi)
                values.append(t.value[node, 0, 0])
                continue
            j, thr = t.feature[node], t.threshold[node]
            lhi, rlo = hi.copy(), lo.copy()
            lhi[j], rlo[j] = min(hi[j], thr), max(lo[j], thr)
            stack.append((left, lo, lhi))
            stack.append((right, rlo, hi))
        lo, hi = np.array(los), np.array(his)
        mass = np.column_stack([m.of(lo[:, j], hi[:, j]) for j, m in enumerate(measures)])
        split = t.children_left != -1
        thresholds = [np.unique(t.threshold[split & (t.feature == j)]) for j in range(d)]
        return cls(lo, hi, np.array(values), mass, thresholds)

    def rest(self, features: Tuple[int, ...]) -> np.ndarray:
        """Per leaf, the measure of its box in every feature but ``features``."""
        keep = [j for j in range(self.mass.shape[1]) if j not in features]
        return np.prod(self.mass[:, keep], axis=1)

    def cells(self, j: int, measure: _Measure) -> Tuple[np.ndarray, np.ndarray]:
        """Feature ``j``'s elementary intervals (between consecutive split points): which leaf
        boxes contain each, ``(leaves, cells)``, and each one's measure."""
        bounds = np.concatenate([[-np.inf], self.thresholds[j], [np.inf]])
        inside = (self.lo[:, j, None] <= bounds[None, :-1]) & (self.hi[:, j, None] >= bounds[None, 1:])
        return inside.astype(float), measure.of(bounds[:-1], bounds[1:])

    def at(self, j: int, points: np.ndarray) -> np.ndarray:
        """Which leaf boxes contain each value of feature ``j``: ``(leaves, points)``."""
        points = points[None, :]
        return ((self.lo[:, j, None] < points) & (points <= self.hi[:, j, None])).astype(float)


def _fanova_tree(part: _Partition, measures: List[_Measure], pairs: bool) -> Optional[Dict[tuple, float]]:
    """Variance shares of the main effects (keys ``(j,)``) and, with ``pairs``, of the pairwise
    interactions (``(j, k)``) of one tree; None for a tree that predicts one constant."""
    weight = np.prod(part.mass, axis=1)
    mean = weight @ part.value
    total = weight @ (part.value - mean) ** 2
    if not total > 1e-12 * max(1.0, mean * mean):
        return None
    d = len(measures)
    cells = [part.cells(j, measures[j]) for j in range(d)]
    main: Dict[int, float] = {}
    for j in range(d):
        inside, mass = cells[j]
        effect = (part.value * part.rest((j,))) @ inside
        main[j] = float(mass @ (effect - mean) ** 2)
    out: Dict[tuple, float] = {(j,): main[j] / total for j in range(d)}
    if pairs:
        for j, k in combinations(range(d), 2):
            (in_j, m_j), (in_k, m_k) = cells[j], cells[k]
            effect = np.einsum("l,lc,le->ce", part.value * part.rest((j, k)), in_j, in_k)
            joint = float(np.einsum("c,e,ce->", m_j, m_k, (effect - mean) ** 2))
            out[(j, k)] = max(joint - main[j] - main[k], 0.0) / total
    return out


# ---------------------------------------------------------------------- the forest
@dataclass
class ForestModel:
    """A forest fitted to (encoded configuration -> mean successful cost) on one budget."""

    encoder: SpaceEncoder
    budget: Optional[float]
    X: np.ndarray
    y: np.ndarray
    config_ids: List[int]
    trees: List[Any]
    out_of_bag: List[np.ndarray]
    measures: List[_Measure]

    @classmethod
    def fit(cls, runhistory: RunHistory, budget: Optional[float] = None, n_trees: int = 32,
            seed: int = 0) -> "ForestModel":
        """Fit on ``choose_budget(runhistory, budget)``; ``n_trees`` bootstrapped trees."""
        from sklearn.tree import DecisionTreeRegressor

        if not isinstance(n_trees, int) or n_trees < 1:
            raise ValueError(f"n_trees is {n_trees!r}, but must be an integer >= 1")
        level = choose_budget(runhistory, budget)
        encoder = SpaceEncoder(runhistory.configspace)
        costs = successful_costs(runhistory)[level]
        ids = list(costs)  # in the order told: the same for a run and its directory
        X = encoder.encode_configs([runhistory.get_config(c) for c in ids])
        y = np.array([np.mean(costs[c]) for c in ids])
        rng = np.random.default_rng(seed)
        trees, oob = [], []
        for _ in range(n_trees):
            rows = rng.integers(0, len(y), len(y))
            tree = DecisionTreeRegressor(random_state=int(rng.integers(2**31 - 1)))
            tree.fit(X[rows].astype(np.float32), y[rows])
            trees.append(tree)
            oob.append(np.setdiff1d(np.arange(len(y)), rows))
        return cls(encoder, level, X, y, ids, trees, oob, _measures(encoder, X))

    def _no_variance(self) -> NotEnoughData:
        return NotEnoughData(f"every configuration on budget {self.budget} has the same cost "
                             f"({self.y[0]:.6g}): there is no variance for a hyperparameter to explain")

    def partitions(self) -> List[_Partition]:
        return [_Partition.of(tree, self.measures) for tree in self.trees]

    def fanova(self, pairs: bool = False) -> Dict[tuple, np.ndarray]:
        """Per effect (``(j,)`` or ``(j, k)``), its variance share in each tree that varies."""
        shares = [_fanova_tree(p, self.measures, pairs) for p in self.partitions()]
        shares = [s for s in shares if s is not None]
        if not shares:
            raise self._no_variance()
        return {key: np.array([s[key] for s in shares]) for key in shares[0]}

    def permutation(self, pairs: bool = False, seed: int = 0) -> Dict[tuple, np.ndarray]:
        """Per effect, each tree's out-of-bag error increase when it is shuffled, over twice
        the variance of the costs (for pairs: the interaction, shuffled together vs apart)."""
        variance = float(np.var(self.y))
        if not variance > 0:
            raise self._no_variance()
        rng = np.random.default_rng(seed)
        d = self.encoder.n_features
        effects: List[tuple] = [(j,) for j in range(d)] + (list(combinations(range(d), 2)) if pairs else [])
        out: Dict[tuple, list] = {key: [] for key in effects}
        for tree, rows in zip(self.trees, self.out_of_bag):
            if len(rows) < 2:
                continue
            X, y = self.X[rows].astype(np.float32), self.y[rows]
            base = np.mean((tree.predict(X) - y) ** 2)
            order = rng.permutation(len(rows))
            drop = {}
            for key in effects:
                shuffled = X.copy()
                shuffled[:, list(key)] = X[order][:, list(key)]
                drop[key] = (np.mean((tree.predict(shuffled) - y) ** 2) - base) / (2 * variance)
            for key in effects:
                if len(key) == 1:
                    out[key].append(drop[key])
                else:
                    out[key].append(drop[key[:1]] + drop[key[1:]] - drop[key])
        if not out[(0,)]:
            raise NotEnoughData("permutation importance needs trees with out-of-bag configurations; "
                             "the run has too few configurations")
        return {key: np.clip(np.array(v), 0.0, 1.0) for key, v in out.items()}

    def marginal(self, j: int, k: int, grid_j: np.ndarray, grid_k: np.ndarray) -> np.ndarray:
        """The forest's mean prediction over every other hyperparameter (the fANOVA marginal)
        at each ``(grid_j[a], grid_k[b])`` of encoded values: shape ``(len(grid_j), len(grid_k))``."""
        grid_j, grid_k = np.asarray(grid_j, dtype=float), np.asarray(grid_k, dtype=float)
        total = np.zeros((len(grid_j), len(grid_k)))
        for part in self.partitions():
            total += np.einsum("l,la,lb->ab", part.value * part.rest((j, k)), part.at(j, grid_j),
                               part.at(k, grid_k))
        return total / len(self.trees)


def importance(
    source: Any, budget: Optional[float] = None, *, pairs: bool = False, method: str = "auto",
    n_trees: int = 32, seed: int = 0, objective: Optional[str] = None,
) -> Any:
    """Each hyperparameter's share of the variance of the cost (fANOVA, or permutation); of
    ``objective``'s cost in a run with several objectives.

    ``source``: an Optimizer, a RunHistory or a run directory. ``budget``: the budget to
    analyse; by default the highest on which at least ``max(10, 2 x hyperparameters)``
    configurations have a successful trial (crashed trials are left out). ``pairs=True``
    adds a row per pair of hyperparameters (its interaction's share, named ``"a, b"``).
    ``method``: ``"fanova"``, ``"permutation"``, or ``"auto"`` (fANOVA, unless the space has
    forbidden clauses). Needs pandas and scikit-learn.

    Returns a DataFrame with columns ``hyperparameter``, ``importance`` (share of variance,
    0..1) and ``std`` (over trees), most important first; ``df.attrs["method"]`` is the
    method used and ``df.attrs["budget"]`` the budget analysed.

    >>> import smacish
    >>> from ConfigSpace import ConfigurationSpace
    >>> cs = ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=0)
    >>> rh = smacish.RunHistory(cs)
    >>> for c in cs.sample_configuration(40):
    ...     rh.add(smacish.TrialInfo(c, budget=1.0), smacish.TrialValue(cost=3 * c["x"] + c["y"]))
    >>> df = importance(rh)
    >>> df["hyperparameter"].tolist(), df.attrs["method"], df.attrs["budget"]
    (['x', 'y'], 'fanova', 1.0)
    """
    if method not in METHODS:
        raise ValueError(f"method is {method!r}, but must be one of {METHODS}")
    try:
        import pandas as pd
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("importance needs pandas: pip install 'smacish[pandas]'") from err
    runhistory = one_objective(runhistory_of(source), objective)
    model = ForestModel.fit(runhistory, budget, n_trees=n_trees, seed=seed)
    if method == "auto":
        method = "permutation" if list(runhistory.configspace.forbidden_clauses) else "fanova"
    shares = model.fanova(pairs) if method == "fanova" else model.permutation(pairs, seed=seed)
    names = model.encoder.names
    frame = pd.DataFrame({
        "hyperparameter": [", ".join(names[j] for j in key) for key in shares],
        "importance": [float(np.mean(v)) for v in shares.values()],
        "std": [float(np.std(v)) for v in shares.values()],
    })
    frame = frame.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    frame.attrs["method"] = method
    frame.attrs["budget"] = model.budget
    return frame
