"""Benchmark problems, all offline: multi-fidelity synthetic functions with a known optimum and
two real scikit-learn tasks on bundled or generated data.

Library-neutral on purpose: this module needs only numpy (and scikit-learn for the real tasks),
because it is imported inside every peer's virtualenv. A search space is a list of
:class:`Param`; :func:`to_configspace` turns it into a ConfigSpace space where a library wants
one.

Every problem has ``evaluate(x, budget, seed) -> cost``: ``x`` a dict of hyperparameter values,
``budget`` between ``min_budget`` and ``max_budget``. Synthetic problems also have
``true_regret(x)``: the noiseless regret at the highest fidelity, exact because the optimum is
known.

>>> p = get_problem("branin-hi")
>>> round(p.true_regret({"x1": math.pi, "x2": 2.275}), 6)
0.0
>>> p.evaluate({"x1": math.pi, "x2": 2.275}, budget=p.max_budget, seed=0) != p.evaluate(
...     {"x1": math.pi, "x2": 2.275}, budget=p.min_budget, seed=0)
True
"""

from __future__ import annotations

import math
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np


@dataclass(frozen=True)
class Param:
    """One hyperparameter: a float or int in ``[low, high]``, on a log scale if ``log``."""

    name: str
    kind: str  # "float" | "int"
    low: float
    high: float
    log: bool = False

    def from_unit(self, u: float) -> float:
        """The value at position ``u`` in [0, 1] of the (log-)range."""
        if self.log:
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        if self.kind == "int":
            return int(min(max(round(v), self.low), self.high))
        return float(min(max(v, self.low), self.high))


def to_configspace(params: Sequence[Param], seed: Optional[int] = None) -> Any:
    """The ConfigSpace ``ConfigurationSpace`` of ``params`` (works with ConfigSpace 0.4 to 1.x)."""
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace(seed=seed)
    hps = []
    for p in params:
        if p.kind == "int":
            hps.append(CS.UniformIntegerHyperparameter(p.name, int(p.low), int(p.high), log=p.log))
        else:
            hps.append(CS.UniformFloatHyperparameter(p.name, p.low, p.high, log=p.log))
    if hasattr(cs, "add"):
        cs.add(hps)
    else:  # ConfigSpace < 1.0
        cs.add_hyperparameters(hps)
    return cs


def _stable_seed(*parts: Any) -> int:
    """A seed that is the same in every process and library for the same evaluation."""
    text = "|".join(f"{p:.12g}" if isinstance(p, float) else str(p) for p in parts)
    return zlib.crc32(text.encode())


@dataclass
class Problem:
    """A multi-fidelity problem: space, budget range, an ``evaluate`` and (maybe) exact regret."""

    name: str
    params: List[Param]
    min_budget: float
    max_budget: float
    evaluate_fn: Callable[[Dict[str, Any], float, int], float]
    true_regret_fn: Optional[Callable[[Dict[str, Any]], float]] = None
    description: str = ""
    kind: str = "synthetic"  # "synthetic" (regret) | "ml" (validation error)
    eta: float = 3.0
    info: Dict[str, Any] = field(default_factory=dict)

    def evaluate(self, x: Dict[str, Any], budget: float, seed: int = 0) -> float:
        return float(self.evaluate_fn(x, float(budget), int(seed)))

    def test_error(self, x: Dict[str, Any], seed: int) -> Optional[float]:
        """The error on the task's held-out test split of ``x`` trained at the full budget on
        the seed's train split (tasks of :mod:`benchmarks.ml_tasks`), else None."""
        fn = self.info.get("test_error")
        return None if fn is None else float(fn(x, int(seed)))

    def true_regret(self, x: Dict[str, Any]) -> Optional[float]:
        return None if self.true_regret_fn is None else float(self.true_regret_fn(x))

    @property
    def regret_floor(self) -> float:
        """Differences of final regret below this are noise (the comparisons floor at it): the
        noise sd at the highest budget, or the problem's own figure where it is noiseless."""
        return float(self.info.get("regret_floor") or self.info.get("noise_sd_max_budget") or 1e-3)

    @property
    def metric(self) -> str:
        return "regret" if self.true_regret_fn is not None else "validation error"

    def fidelity(self, budget: float) -> float:
        """``z`` in [0, 1]: 0 at ``min_budget``, 1 at ``max_budget``, linear in log(budget)."""
        lo, hi = math.log(self.min_budget), math.log(self.max_budget)
        return min(1.0, max(0.0, (math.log(budget) - lo) / (hi - lo)))


# ---------------------------------------------------------------------------------------------
# Multi-fidelity Branin
# ---------------------------------------------------------------------------------------------
BRANIN_OPT = 0.397887357729738


def branin_mf(x1: float, x2: float, z: float, bias: float = 1.0) -> float:
    """Branin with a fidelity ``z`` in [0, 1] in the form of Kandasamy et al. (2017, BOCA):
    ``b(z) = b - 0.1 * bias * (1 - z)``, ``t(z) = t + 0.05 * bias * (1 - z)``; at ``z = 1`` the
    standard Branin (minimum 0.397887 at (-pi, 12.275), (pi, 2.275), (9.42478, 2.475)).
    ``bias`` scales the fidelity bias: larger means less correlation between fidelities."""
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    bz = b - 0.1 * bias * (1 - z)
    tz = t + 0.05 * bias * (1 - z)
    return a * (x2 - bz * x1**2 + c * x1 - r) ** 2 + s * (1 - tz) * math.cos(x1) + s


# ---------------------------------------------------------------------------------------------
# Multi-fidelity Hartmann 3 and 6
# ---------------------------------------------------------------------------------------------
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array([
    [10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14],
])
_H6_P = 1e-4 * np.array([
    [1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381],
])
HARTMANN3_OPT = -3.86278214782076
HARTMANN6_OPT = -3.32236801141551
# the shift of each alpha_i at the lowest fidelity, per unit of bias: the low-fidelity function
# favours other basins than the high-fidelity one (signs alternate)
_H_SHIFT = np.array([0.1, -0.1, 0.1, -0.1])


def hartmann_mf(x: np.ndarray, z: float, dim: int, bias: float = 1.0) -> float:
    """Hartmann-3/6 with a fidelity ``z`` in [0, 1]: ``alpha_i(z) = alpha_i - bias * d_i *
    (1 - z)`` with ``d = (0.1, -0.1, 0.1, -0.1)``, after the multi-fidelity Hartmann of
    Kandasamy et al. (2016/2017), which shifts every alpha by ``0.1 (1 - z)``. At ``z = 1`` the
    standard function (minimum -3.86278 / -3.32237)."""
    A, P = (_H3_A, _H3_P) if dim == 3 else (_H6_A, _H6_P)
    alpha = _H_ALPHA - bias * _H_SHIFT * (1 - z)
    inner = np.sum(A * (x[None, :] - P) ** 2, axis=1)
    return float(-np.sum(alpha * np.exp(-inner)))


def _synthetic(
    name: str, params: List[Param], fn: Callable[[Dict[str, Any], float], float], optimum: float,
    noise_hi: float, noise_lo: float, description: str, min_budget: float = 1, max_budget: float = 27,
) -> Problem:
    problem = Problem(name=name, params=params, min_budget=min_budget, max_budget=max_budget,
                      evaluate_fn=None, description=description)  # type: ignore[arg-type]

    def evaluate(x: Dict[str, Any], budget: float, seed: int) -> float:
        z = problem.fidelity(budget)
        sigma = noise_hi + (noise_lo - noise_hi) * (1 - z)
        rng = np.random.default_rng(_stable_seed(name, *(float(x[p.name]) for p in params), budget, seed))
        return fn(x, z) + sigma * float(rng.standard_normal())

    problem.evaluate_fn = evaluate
    problem.true_regret_fn = lambda x: max(0.0, fn(x, 1.0) - optimum)
    problem.info = {"optimum": optimum, "noise_sd_max_budget": noise_hi, "noise_sd_min_budget": noise_lo}
    return problem


def make_branin(bias: float, name: str) -> Problem:
    params = [Param("x1", "float", -5.0, 10.0), Param("x2", "float", 0.0, 15.0)]
    return _synthetic(
        name, params, lambda x, z: branin_mf(x["x1"], x["x2"], z, bias), BRANIN_OPT,
        noise_hi=0.05, noise_lo=0.5,
        description=f"Branin (2-d), fidelity bias x{bias:g}, noise sd 0.5 at the lowest budget -> 0.05 at the highest",
    )


def make_hartmann(dim: int, bias: float, name: str) -> Problem:
    params = [Param(f"x{i}", "float", 0.0, 1.0) for i in range(dim)]
    optimum = HARTMANN3_OPT if dim == 3 else HARTMANN6_OPT
    return _synthetic(
        name, params,
        lambda x, z: hartmann_mf(np.array([x[f"x{i}"] for i in range(dim)]), z, dim, bias),
        optimum, noise_hi=0.01, noise_lo=0.1,
        description=f"Hartmann-{dim}, fidelity bias x{bias:g}, noise sd 0.1 at the lowest budget -> 0.01 at the highest",
    )


# ---------------------------------------------------------------------------------------------
# Real scikit-learn tasks (deterministic: fixed split, fixed random_state)
# ---------------------------------------------------------------------------------------------
_DATA_CACHE: Dict[str, Any] = {}


def _digits():
    if "digits" not in _DATA_CACHE:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        X, y = load_digits(return_X_y=True)
        Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
        scaler = StandardScaler().fit(Xtr)
        _DATA_CACHE["digits"] = (scaler.transform(Xtr), scaler.transform(Xva), ytr, yva)
    return _DATA_CACHE["digits"]


def _sgd_digits(x: Dict[str, Any], budget: float, seed: int) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier

    Xtr, Xva, ytr, yva = _digits()
    model = SGDClassifier(
        loss="log_loss", penalty="elasticnet", alpha=float(x["alpha"]), l1_ratio=float(x["l1_ratio"]),
        learning_rate="invscaling", eta0=float(x["eta0"]), power_t=float(x["power_t"]),
        max_iter=max(1, int(round(budget))), tol=None, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xtr, ytr)
    return 1.0 - float(model.score(Xva, yva))


def make_sgd_digits() -> Problem:
    return Problem(
        name="sgd-digits",
        params=[
            Param("alpha", "float", 1e-7, 1e-1, log=True),
            Param("l1_ratio", "float", 0.0, 1.0),
            Param("eta0", "float", 1e-5, 1.0, log=True),
            Param("power_t", "float", 0.05, 1.0),
        ],
        min_budget=1, max_budget=27, evaluate_fn=_sgd_digits, kind="ml",
        description="SGDClassifier (logistic loss, elastic net, inverse-scaling step size) on load_digits "
                    "(1,257 train / 540 validation), budget = epochs 1..27; cost = validation error",
    )


def _classification():
    if "clf" not in _DATA_CACHE:
        from sklearn.datasets import make_classification
        from sklearn.model_selection import train_test_split

        X, y = make_classification(n_samples=2000, n_features=20, n_informative=8, n_redundant=4,
                                   flip_y=0.03, class_sep=0.8, random_state=0)
        _DATA_CACHE["clf"] = train_test_split(X, y, test_size=1 / 3, random_state=0, stratify=y)
    return _DATA_CACHE["clf"]


def _hgb(x: Dict[str, Any], budget: float, seed: int) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier

    Xtr, Xva, ytr, yva = _classification()
    model = HistGradientBoostingClassifier(
        learning_rate=float(x["learning_rate"]), max_leaf_nodes=int(x["max_leaf_nodes"]),
        min_samples_leaf=int(x["min_samples_leaf"]), l2_regularization=float(x["l2_regularization"]),
        max_iter=max(1, int(round(budget))), max_bins=63, early_stopping=False, random_state=0,
    )
    model.fit(Xtr, ytr)
    return 1.0 - float(model.score(Xva, yva))


def make_hgb() -> Problem:
    return Problem(
        name="hgb-classification",
        params=[
            Param("learning_rate", "float", 1e-2, 1.0, log=True),
            Param("max_leaf_nodes", "int", 4, 128, log=True),
            Param("min_samples_leaf", "int", 2, 200, log=True),
            Param("l2_regularization", "float", 1e-6, 10.0, log=True),
        ],
        min_budget=1, max_budget=27, evaluate_fn=_hgb, kind="ml",
        description="HistGradientBoostingClassifier (max_bins=63) on make_classification (2,000 x 20, "
                    "1,333 train / 667 validation), budget = max_iter 1..27; cost = validation error",
    )


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------
PROBLEMS: Dict[str, Callable[[], Problem]] = {
    "branin-hi": lambda: make_branin(1.0, "branin-hi"),
    "branin-lo": lambda: make_branin(4.0, "branin-lo"),
    "hartmann3-hi": lambda: make_hartmann(3, 1.0, "hartmann3-hi"),
    "hartmann3-lo": lambda: make_hartmann(3, 20.0, "hartmann3-lo"),
    "hartmann6-hi": lambda: make_hartmann(6, 1.0, "hartmann6-hi"),
    "hartmann6-lo": lambda: make_hartmann(6, 20.0, "hartmann6-lo"),
    "sgd-digits": make_sgd_digits,
    "hgb-classification": make_hgb,
}

"""``-hi`` / ``-lo``: high / low rank correlation between the lowest and the highest fidelity
(measured by :func:`fidelity_correlation`, printed in the report)."""


def make_noise() -> Problem:
    """Pure noise: every evaluation an independent standard normal draw, whatever the
    configuration or budget, so that no promotion carries evidence (regret is always 0). Used
    only to count what a promotion rule spends (:mod:`benchmarks.promotion_evidence`)."""
    params = [Param("x1", "float", 0.0, 1.0), Param("x2", "float", 0.0, 1.0)]
    return _synthetic("noise", params, lambda x, z: 0.0, 0.0, noise_hi=1.0, noise_lo=1.0,
                      description="pure noise: N(0, 1) at every budget, independent of the configuration")


DIAGNOSTIC: Dict[str, Callable[[], Problem]] = {"noise": make_noise}
"""Problems that measure a mechanism, not search quality: in no problem set."""


def get_problem(name: str) -> Problem:
    if name in DIAGNOSTIC:
        return DIAGNOSTIC[name]()
    if name not in PROBLEMS:
        raise ValueError(f"problem is {name!r}, but must be one of {sorted(PROBLEMS)}")
    return PROBLEMS[name]()


def sample_uniform(params: Sequence[Param], rng: np.random.Generator) -> Dict[str, Any]:
    """One configuration drawn uniformly (on the log scale where ``log``)."""
    return {p.name: p.from_unit(float(rng.random())) for p in params}


def fidelity_correlation(problem: Problem, n: int = 500, seed: int = 0) -> float:
    """Spearman rank correlation between the costs at ``min_budget`` and at ``max_budget`` of
    ``n`` uniformly drawn configurations (noise included)."""
    rng = np.random.default_rng(seed)
    xs = [sample_uniform(problem.params, rng) for _ in range(n)]
    lo = np.array([problem.evaluate(x, problem.min_budget, 0) for x in xs])
    hi = np.array([problem.evaluate(x, problem.max_budget, 0) for x in xs])
    rlo, rhi = np.argsort(np.argsort(lo)), np.argsort(np.argsort(hi))
    return float(np.corrcoef(rlo, rhi)[0, 1])


# the standard problems (at the end: that module builds on this one's definitions)
from benchmarks import standard_problems as _sp  # noqa: E402

STANDARD = [f"mfh{dim}-{level}" for dim in (3, 6) for level in _sp.MFH_LEVELS] + ["branin-boca", "currin", "park1"]
"""Problems from the literature (:mod:`benchmarks.standard_problems`); the others are ours."""
for _dim in (3, 6):
    for _level in _sp.MFH_LEVELS:
        PROBLEMS[f"mfh{_dim}-{_level}"] = lambda dim=_dim, level=_level: _sp.make_mfhartmann(dim, level)
PROBLEMS.update({"branin-boca": _sp.make_branin_boca, "currin": _sp.make_currin, "park1": _sp.make_park1})

# real tasks with a held-out test split
from benchmarks import ml_tasks as _ml  # noqa: E402

WITH_TEST_SPLIT = ["sgd-digits-test", "hgb-cancer-test", "mlp-digits-test"]
PROBLEMS.update({"sgd-digits-test": _ml.make_sgd_digits_test, "hgb-cancer-test": _ml.make_hgb_cancer_test,
                 "mlp-digits-test": _ml.make_mlp_digits_test})
