"""Standard multi-fidelity problems from the literature, written from their published formulas.

- **mfpbench's multi-fidelity Hartmann** (``mfh3-*``, ``mfh6-*``; mf-prior-bench 1.10,
  ``mfpbench/synthetic/hartmann``): fidelity ``z`` in 1..100, ``alpha'_i = alpha_i - bias *
  (1 - s)`` with ``s = log(z) / log(100)``, plus noise ``|N(0, 1)| * noise * (1 - s)`` drawn
  from a generator seeded with ``seed * z * hash(x)`` as mfpbench does (``seed`` 0 counts as
  its default 1337). Four correlation levels, mfpbench's (bias, noise): ``good`` (2.5, 2),
  ``moderate`` (3, 3), ``bad`` (3.5, 4), ``terrible`` (4, 5). At ``z = 100`` the standard
  Hartmann function, noiseless. Where a library asks a non-integer budget (mfpbench has integer
  fidelities only) the same formulas are used with a noise seed of our own.
- **Kandasamy et al.'s multi-fidelity Branin, Currin exponential and Park1** (Kandasamy,
  Dasarathy, Schneider, Poczos: "Multi-fidelity Bayesian optimisation with continuous
  approximations", ICML 2017, appendix; the same functions as Dragonfly's
  ``demos_synthetic``), with their fidelity vector set to ``(z, z, z)``, ``z`` in [0, 1] linear
  in log(budget); noiseless. The papers maximise Currin and Park1; the cost here is the negated
  value. At ``z = 1`` Currin's first factor is 1, so its second input does not matter there
  (it does at lower fidelities): a problem with an irrelevant hyperparameter.

Regret is exact (noiseless, at the highest fidelity, against the known optimum). Library-neutral
like :mod:`benchmarks.problems`: numpy only.

>>> p = make_mfhartmann(3, "good")
>>> round(p.true_regret({"X_0": 0.114614, "X_1": 0.555649, "X_2": 0.852547}), 5)
0.0
>>> round(-park1(np.ones(4), 1.0), 4), round(currin(np.array([0.2166667, 0.5]), 1.0), 4)
(-25.5893, 13.7987)
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Dict

import numpy as np

from benchmarks.problems import (
    _H3_A, _H3_P, _H6_A, _H6_P, _H_ALPHA, BRANIN_OPT, HARTMANN3_OPT, HARTMANN6_OPT, Param, Problem,
    _stable_seed,
)

MFH_LEVELS = {"good": (2.5, 2.0), "moderate": (3.0, 3.0), "bad": (3.5, 4.0), "terrible": (4.0, 5.0)}
MFH_MAX_FIDELITY = 100
MFH_DEFAULT_SEED = 1337  # mfpbench's noise seed when none (or 0) is given
PARK1_OPT = 25.589254158606547  # at (1, 1, 1, 1)
CURRIN_OPT = 13.798722044728434  # at x1 = 0.21667, any x2


# ---------------------------------------------------------------------------------------------
# mfpbench's multi-fidelity Hartmann
# ---------------------------------------------------------------------------------------------
def mfhartmann(xs: tuple, z: float, dim: int, bias: float, noise: float, seed: int) -> float:
    """mfpbench's ``MFHartmann3`` / ``MFHartmann6`` at fidelity ``z`` (1..100)."""
    A, P = (_H3_A, _H3_P) if dim == 3 else (_H6_A, _H6_P)
    scaled = math.log(z) / math.log(MFH_MAX_FIDELITY)
    alpha = _H_ALPHA - bias * (1 - scaled)
    x = np.asarray(xs, dtype=float)
    value = -float(np.sum(alpha * np.exp(-np.sum(A * (x[None, :] - P) ** 2, axis=1))))
    if float(z).is_integer():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # as in mfpbench: the product may overflow a C long
            rng = np.random.default_rng(abs((seed or MFH_DEFAULT_SEED) * int(z) * hash(tuple(xs))))
    else:
        rng = np.random.default_rng(_stable_seed("mfh", dim, *xs, z, seed))
    return value + abs(float(rng.normal())) * noise * (1 - scaled)


def make_mfhartmann(dim: int, level: str) -> Problem:
    bias, noise = MFH_LEVELS[level]
    names = [f"X_{i}" for i in range(dim)]
    optimum = HARTMANN3_OPT if dim == 3 else HARTMANN6_OPT

    def evaluate(x: Dict[str, Any], budget: float, seed: int) -> float:
        return mfhartmann(tuple(float(x[n]) for n in names), budget, dim, bias, noise, seed)

    def regret(x: Dict[str, Any]) -> float:
        return max(0.0, mfhartmann(tuple(float(x[n]) for n in names), MFH_MAX_FIDELITY, dim, bias, 0.0, 0) - optimum)

    return Problem(
        name=f"mfh{dim}-{level}", params=[Param(n, "float", 0.0, 1.0) for n in names],
        min_budget=1, max_budget=MFH_MAX_FIDELITY, evaluate_fn=evaluate, true_regret_fn=regret,
        description=f"mfpbench mfh{dim}_{level}: Hartmann-{dim}, fidelity 1..100, bias {bias:g}, noise {noise:g}",
        info={"optimum": optimum, "regret_floor": 1e-3, "source": "mf-prior-bench 1.10"},
    )


# ---------------------------------------------------------------------------------------------
# Kandasamy et al. (2017): Branin, Currin exponential, Park1
# ---------------------------------------------------------------------------------------------
def branin_boca(x: np.ndarray, z: float) -> float:
    """``b(z) = b - 0.01 (1 - z)``, ``c(z) = c - 0.1 (1 - z)``, ``t(z) = t + 0.005 (1 - z)``."""
    b = 5.1 / (4 * math.pi**2) - 0.01 * (1 - z)
    c = 5 / math.pi - 0.1 * (1 - z)
    t = 1 / (8 * math.pi) + 0.005 * (1 - z)
    x1, x2 = float(x[0]), float(x[1])
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def currin(x: np.ndarray, z: float) -> float:
    """``(1 - 0.1 (1 - z) exp(-1 / (2 x2))) (2300 x1^3 + 1900 x1^2 + 2092 x1 + 60) /
    (100 x1^3 + 500 x1^2 + 4 x1 + 20)``, to maximise; ``x`` in [0, 1]^2."""
    x1, x2 = float(x[0]), max(float(x[1]), 1e-12)
    lead = 1 - 0.1 * (1 - z) * math.exp(-1 / (2 * x2))
    return lead * (2300 * x1**3 + 1900 * x1**2 + 2092 * x1 + 60) / (100 * x1**3 + 500 * x1**2 + 4 * x1 + 20)


def park1(x: np.ndarray, z: float) -> float:
    """Park1 with each input scaled by ``sqrt(z)``, to maximise; ``x`` in [0, 1]^4. ``x1`` is
    kept at 0.01 at least (Kandasamy et al. floor the input; we floor the scaled value too, so
    that ``z = 0`` is defined)."""
    r = math.sqrt(z)
    x1 = max(max(float(x[0]), 0.01) * r, 0.01)
    x2, x3, x4 = float(x[1]) * r, float(x[2]) * r, float(x[3]) * r
    return (x1 / 2) * (math.sqrt(1 + (x2 + x3**2) * x4 / x1**2) - 1) + (x1 + 3 * x4) * math.exp(1 + math.sin(x3))


def _boca(name: str, params, fn, optimum: float, sign: float, description: str) -> Problem:
    """``sign`` +1 for a function to minimise, -1 for one to maximise (cost = -value)."""
    problem = Problem(name=name, params=params, min_budget=1, max_budget=27, evaluate_fn=None,  # type: ignore[arg-type]
                      description=description)

    def vector(x: Dict[str, Any]) -> np.ndarray:
        return np.array([float(x[p.name]) for p in params])

    problem.evaluate_fn = lambda x, budget, seed: sign * fn(vector(x), problem.fidelity(budget))
    problem.true_regret_fn = lambda x: max(0.0, sign * fn(vector(x), 1.0) - sign * optimum)
    problem.info = {"optimum": optimum, "regret_floor": 1e-3 * abs(optimum), "source": "Kandasamy et al. 2017"}
    return problem


def make_branin_boca() -> Problem:
    return _boca("branin-boca", [Param("x1", "float", -5.0, 10.0), Param("x2", "float", 0.0, 15.0)],
                 branin_boca, BRANIN_OPT, 1.0, "Branin (2-d) with Kandasamy et al.'s fidelity, budgets 1..27")


def make_currin() -> Problem:
    return _boca("currin", [Param("x1", "float", 0.0, 1.0), Param("x2", "float", 0.0, 1.0)],
                 currin, CURRIN_OPT, -1.0, "Currin exponential (2-d), Kandasamy et al.'s fidelity, budgets 1..27")


def make_park1() -> Problem:
    return _boca("park1", [Param(f"x{i}", "float", 0.0, 1.0) for i in range(1, 5)],
                 park1, PARK1_OPT, -1.0, "Park1 (4-d), Kandasamy et al.'s fidelity, budgets 1..27")
