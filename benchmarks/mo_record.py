"""Recording a multi-objective run the same way for every library, and judging it.

Library-neutral (numpy only): imported inside every peer's virtualenv. Like
:class:`benchmarks.record.Recorder`, a :class:`MORecorder` stores every evaluation as a row
``(start, end, budget, charge, f1, f2)`` and the configuration as a vector; an adapter
implements ``ask() -> Job`` and ``tell(job, costs)`` (``costs`` a tuple in the order of the
problem's objectives) and :func:`drive` runs it until the budget is spent.

A run is judged by the *front found* after ``s`` units of budget (one unit = one evaluation at
``max_budget``): the non-dominated set of the true (highest-fidelity) objective values of the
configurations it evaluated at ``max_budget`` within the evaluations whose cumulative charge is
at most ``s``; its hypervolume regret is the true front's hypervolume minus that front's.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from benchmarks.hypervolume import hypervolume_regret
from benchmarks.record import Job

BUDGET_TOL = 1e-9


class MORecorder:
    """Times and stores every evaluation of a two-objective ``problem``; ``budget_limit`` is in
    units of ``max_budget``."""

    def __init__(self, problem: Any, seed: int, budget_limit: float):
        self.problem = problem
        self.seed = int(seed)
        self.budget_limit = float(budget_limit)
        self.rows: List[List[float]] = []
        self.xs: List[List[float]] = []
        self.spent = 0.0
        self.t0 = time.perf_counter()

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def done(self) -> bool:
        return self.spent >= self.budget_limit - BUDGET_TOL

    def evaluate(self, x: Dict[str, Any], budget: float, charge: Optional[float] = None) -> Tuple[float, float]:
        start = time.perf_counter()
        f1, f2 = self.problem.evaluate(x, float(budget), self.seed)
        end = time.perf_counter()
        charge = float(budget) if charge is None else float(charge)
        self.rows.append([start - self.t0, end - self.t0, float(budget), charge, float(f1), float(f2)])
        self.xs.append([float(x[p.name]) for p in self.problem.params])
        self.spent += charge / self.problem.max_budget
        return float(f1), float(f2)

    def to_json(self) -> Dict[str, Any]:
        return {"rows": self.rows, "xs": self.xs}


def drive(optimiser: Any, recorder: MORecorder) -> None:
    """Ask, evaluate, tell until the recorder's budget is spent."""
    recorder.start()
    while not recorder.done():
        job: Job = optimiser.ask()
        costs = recorder.evaluate(job.x, job.budget, job.charge)
        optimiser.tell(job, costs)


def run_one(mod: Any, variant: str, problem_name: str, seed: int, units: float) -> Dict[str, Any]:
    """One run of ``variant`` (an adapter module's ``make_mo``) inside the adapter's venv."""
    from benchmarks.mo_problems import get_mo_problem
    from benchmarks.peers import hyperband_trials

    problem = get_mo_problem(problem_name)
    rec = MORecorder(problem, seed, units)
    n_trials = hyperband_trials(problem.min_budget, problem.max_budget, problem.eta, units)
    optimiser = mod.make_mo(variant, problem, seed, n_trials=n_trials, units=units)
    drive(optimiser, rec)
    out = rec.to_json()
    if hasattr(optimiser, "reported"):  # the library's own front, to check against the record
        out["reported"] = optimiser.reported()
    return out


# ---------------------------------------------------------------------------------------------
# judging a recorded run
# ---------------------------------------------------------------------------------------------
def _top_budget_true_values(problem: Any, record: Dict[str, Any]) -> Tuple[np.ndarray, np.ndarray]:
    """The cumulative budget (units) after each evaluation at ``max_budget``, and the true
    objective values of those evaluations' configurations."""
    rows = np.asarray(record["rows"], dtype=float).reshape(-1, 6)
    cum = np.cumsum(rows[:, 3]) / problem.max_budget if len(rows) else np.zeros(0)
    top = np.flatnonzero(np.abs(rows[:, 2] - problem.max_budget) <= 1e-9 * problem.max_budget)
    names = [p.name for p in problem.params]
    pts = [problem.true_values(dict(zip(names, record["xs"][i]))) for i in top]
    return cum[top], np.asarray(pts, dtype=float).reshape(-1, 2)


def front_found(problem: Any, record: Dict[str, Any], spent: Optional[float] = None) -> np.ndarray:
    """The true objective values of the configurations evaluated at ``max_budget`` within the
    first ``spent`` units of budget (all, when None), as an (n, 2) array (dominated points
    included; the hypervolume ignores them)."""
    cum, pts = _top_budget_true_values(problem, record)
    return pts if spent is None else pts[cum <= spent + BUDGET_TOL]


def regret_at(problem: Any, record: Dict[str, Any], spent: Sequence[float]) -> List[float]:
    """Hypervolume regret after each budget in ``spent`` (units of ``max_budget``)."""
    true_hv = problem.true_hypervolume()
    cum, pts = _top_budget_true_values(problem, record)
    return [hypervolume_regret(pts[cum <= s + BUDGET_TOL], problem.reference, true_hv) for s in spent]


def top_budget_evaluations(problem: Any, record: Dict[str, Any], spent: float) -> int:
    """How many evaluations at ``max_budget`` the run made within ``spent`` units."""
    return len(front_found(problem, record, spent))
