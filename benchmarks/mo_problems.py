"""Two-objective benchmark problems with a known Pareto front, made multi-fidelity.

**ZDT1 and ZDT2** (Zitzler, Deb, Thiele: "Comparison of multiobjective evolutionary algorithms:
empirical results", Evolutionary Computation 8(2), 2000), in ``d = 6`` dimensions (the paper
uses 30; six suit a budget of ~50 full evaluations), ``x`` in [0, 1]^d, both objectives
minimised::

    f1 = x1,   g = 1 + 9 / (d - 1) * sum(x2..xd),
    ZDT1: f2 = g * (1 - sqrt(f1 / g))        front: f2 = 1 - sqrt(f1), f1 in [0, 1] (convex)
    ZDT2: f2 = g * (1 - (f1 / g) ** 2)       front: f2 = 1 - f1 ** 2             (concave)

The front is where ``g = 1`` (``x2 = ... = xd = 0``).

**The fidelity model** (ours; deterministic and seed-independent, in the spirit of the
multi-fidelity Hartmann of mf-prior-bench, whose lower fidelities are a smooth distortion of
the function that vanishes at the highest one). With ``z`` in [0, 1] linear in log(budget)
(0 at budget 1, 1 at budget 27) and ``m`` the mean of ``x2..xd``::

    f1(x, b) = f1(x) + 0.1 * (1 - z) * sin(2 pi (x1 + m))
    f2(x, b) = f2(x) + 0.5 * (1 - z) * cos(2 pi (x1 - 2 m))

At the highest budget these are the published functions exactly. At low budgets the
distortion is largest near the front, where ``f2`` is smallest: a cheap evaluation tells good
regions from bad ones, but not which good configuration is on the front
(:func:`fidelity_correlation` gives the rank correlations). Numpy only, like
:mod:`benchmarks.problems` (imported inside every peer's virtualenv).

>>> p = get_mo_problem("zdt1")
>>> p.true_values({"x0": 0.25, **{f"x{i}": 0.0 for i in range(1, 6)}})
(0.25, 0.5)
>>> round(p.true_hypervolume(), 4), round(p.sampled_front_hypervolume(), 4)  # closed form, 100,001 points
(11.7667, 11.7667)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from benchmarks.hypervolume import hypervolume_2d
from benchmarks.problems import Param

DIM = 6
PERTURBATION = (0.1, 0.5)  # amplitude of the low-fidelity distortion of f1, f2 at the lowest budget
# the reference point of every hypervolume here: 10 % beyond the largest value each objective takes
# on [0, 1]^d (f1 <= 1, f2 <= g <= 10), so that every evaluated configuration counts, not only
# those already near the front (the fronts span [0, 1]^2)
REFERENCE = (1.1, 11.0)
FRONT_POINTS = 100_001  # points of the true front whose hypervolume stands for the closed form's


def zdt_g(x: np.ndarray) -> float:
    """ZDT's ``g = 1 + 9 / (d - 1) * sum(x2..xd)``."""
    return 1.0 + 9.0 * float(np.sum(x[1:])) / (len(x) - 1)


def zdt1(x: np.ndarray) -> Tuple[float, float]:
    """ZDT1 (Zitzler, Deb, Thiele 2000): ``(x1, g (1 - sqrt(x1 / g)))``."""
    f1, g = float(x[0]), zdt_g(x)
    return f1, g * (1.0 - math.sqrt(f1 / g))


def zdt2(x: np.ndarray) -> Tuple[float, float]:
    """ZDT2 (Zitzler, Deb, Thiele 2000): ``(x1, g (1 - (x1 / g) ** 2))``."""
    f1, g = float(x[0]), zdt_g(x)
    return f1, g * (1.0 - (f1 / g) ** 2)


def distortion(x: np.ndarray, z: float) -> Tuple[float, float]:
    """What the fidelity ``z`` adds to ``(f1, f2)``: zero at ``z = 1``."""
    m = float(np.mean(x[1:]))
    u = 1.0 - z
    return (PERTURBATION[0] * u * math.sin(2 * math.pi * (x[0] + m)),
            PERTURBATION[1] * u * math.cos(2 * math.pi * (x[0] - 2 * m)))


@dataclass
class MOProblem:
    """A two-objective multi-fidelity problem: space, budgets, ``evaluate``, the true front."""

    name: str
    params: List[Param]
    min_budget: float
    max_budget: float
    fn: Callable[[np.ndarray], Tuple[float, float]]
    front: Callable[[np.ndarray], np.ndarray]  # f2 on the true front as a function of f1 in [0, 1]
    objectives: Tuple[str, str] = ("f1", "f2")
    reference: Tuple[float, float] = REFERENCE
    eta: float = 3.0
    description: str = ""
    info: Dict[str, Any] = field(default_factory=dict)

    def vector(self, x: Dict[str, Any]) -> np.ndarray:
        return np.array([float(x[p.name]) for p in self.params])

    def fidelity(self, budget: float) -> float:
        """``z`` in [0, 1]: 0 at ``min_budget``, 1 at ``max_budget``, linear in log(budget)."""
        lo, hi = math.log(self.min_budget), math.log(self.max_budget)
        return min(1.0, max(0.0, (math.log(budget) - lo) / (hi - lo)))

    def evaluate(self, x: Dict[str, Any], budget: float, seed: int = 0) -> Tuple[float, float]:
        """Both objectives at ``budget`` (deterministic: ``seed`` is accepted and ignored)."""
        v = self.vector(x)
        f, d = self.fn(v), distortion(v, self.fidelity(float(budget)))
        return f[0] + d[0], f[1] + d[1]

    def true_values(self, x: Dict[str, Any]) -> Tuple[float, float]:
        """Both objectives at the highest fidelity: the published function."""
        f = self.fn(self.vector(x))
        return float(f[0]), float(f[1])

    def front_points(self, n: int = FRONT_POINTS) -> np.ndarray:
        """``n`` points of the true Pareto front, evenly spaced in ``f1``."""
        f1 = np.linspace(0.0, 1.0, n)
        return np.column_stack([f1, self.front(f1)])

    def true_hypervolume(self) -> float:
        """The hypervolume of the true front at :attr:`reference`: the closed form
        (``info["hv_closed_form"]``), which a dense sample of the front approaches from below."""
        return float(self.info["hv_closed_form"])

    def sampled_front_hypervolume(self, n: int = FRONT_POINTS) -> float:
        return hypervolume_2d(self.front_points(n), self.reference)


def _closed_form(area_under_front: float, reference: Sequence[float]) -> float:
    """HV of a front from (0, 1) to (1, 0) at ``reference >= (1, 1)``: the unit square minus the
    area under the front, plus the strips between the square and the reference point."""
    r1, r2 = reference
    return (1.0 - area_under_front) + (r2 - 1.0) * 1.0 + (r1 - 1.0) * r2


def make_zdt(which: int, dim: int = DIM, reference: Sequence[float] = REFERENCE) -> MOProblem:
    fn, front, area = {1: (zdt1, lambda f1: 1.0 - np.sqrt(f1), 1.0 / 3.0),
                       2: (zdt2, lambda f1: 1.0 - f1**2, 2.0 / 3.0)}[which]
    shape = "convex" if which == 1 else "concave"
    return MOProblem(
        name=f"zdt{which}", params=[Param(f"x{i}", "float", 0.0, 1.0) for i in range(dim)],
        min_budget=1, max_budget=27, fn=fn, front=front, reference=tuple(reference),
        description=f"ZDT{which} (Zitzler, Deb, Thiele 2000), d = {dim}, {shape} front; budgets 1..27 with a "
                    f"smooth distortion (amplitudes {PERTURBATION[0]:g}, {PERTURBATION[1]:g}) vanishing at 27",
        info={"hv_closed_form": _closed_form(area, reference), "regret_floor": 1e-4,
              "source": "Zitzler, Deb, Thiele 2000"},
    )


MO_PROBLEMS: Dict[str, Callable[[], MOProblem]] = {"zdt1": lambda: make_zdt(1), "zdt2": lambda: make_zdt(2)}


def get_mo_problem(name: str) -> MOProblem:
    if name not in MO_PROBLEMS:
        raise ValueError(f"problem is {name!r}, but must be one of {sorted(MO_PROBLEMS)}")
    return MO_PROBLEMS[name]()


def fidelity_correlation(problem: MOProblem, budget: Optional[float] = None, near_front: bool = False,
                         n: int = 500, seed: int = 0) -> Tuple[float, float]:
    """Per objective, the Spearman rank correlation between the values at ``budget`` (default
    ``min_budget``) and at ``max_budget`` of ``n`` uniformly drawn configurations; with
    ``near_front``, drawn with ``x2..xd`` in [0, 0.1] (``g <= 1.18``: near the true front)."""
    from benchmarks.problems import sample_uniform

    rng = np.random.default_rng(seed)
    xs = [sample_uniform(problem.params, rng) for _ in range(n)]
    if near_front:
        xs = [{k: (v if i == 0 else 0.1 * v) for i, (k, v) in enumerate(x.items())} for x in xs]
    budget = problem.min_budget if budget is None else budget
    lo = np.array([problem.evaluate(x, budget) for x in xs])
    hi = np.array([problem.evaluate(x, problem.max_budget) for x in xs])
    out = []
    for j in range(2):
        rlo, rhi = np.argsort(np.argsort(lo[:, j])), np.argsort(np.argsort(hi[:, j]))
        out.append(float(np.corrcoef(rlo, rhi)[0, 1]))
    return out[0], out[1]
