"""Recording what an optimiser does, the same way for every library.

Library-neutral (numpy only): imported inside every peer's virtualenv.

A :class:`Recorder` wraps a problem. Every call of the target goes through
:meth:`Recorder.evaluate`, which times it and stores ``(start, end, budget, charge, cost, x)``.
Everything else is derived afterwards, identically for every library:

- the *incumbent* after each evaluation, by one rule for all (smacish's default,
  ``highest_executed_budget``): the configuration with the lowest observed cost among those
  evaluated on the highest budget evaluated so far;
- its *regret*: the noiseless highest-fidelity value minus the known optimum (synthetic
  problems), or its observed validation error (scikit-learn tasks);
- *budget spent*: the sum of the charged budgets, in units of ``max_budget`` (one unit = one
  full-fidelity evaluation);
- *optimiser time*: the wall time between the end of one evaluation and the start of the next
  (ask + tell + the library's own bookkeeping and messaging).

An adapter for an ask/tell library implements :class:`AskTell`; :func:`drive` runs it.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Protocol, Sequence

import numpy as np


class BudgetExhausted(Exception):
    """Raised by :meth:`Recorder.evaluate` when a library evaluates past the run's limits and
    the adapter asked for that (``strict=True``)."""


@dataclass
class Job:
    """One evaluation an optimiser wants: ``x`` on ``budget``; ``charge`` is the budget it costs
    (less than ``budget`` when a library resumes training, as Optuna's pruned trials do)."""

    x: Dict[str, Any]
    budget: float
    charge: float
    handle: Any = None


class AskTell(Protocol):
    def ask(self) -> Job: ...

    def tell(self, job: Job, cost: float) -> None: ...


class Recorder:
    """Times and stores every evaluation of ``problem``; says when the run's limits are reached.

    ``budget_limit`` is in units of ``max_budget``; ``n_limit`` counts evaluations.
    """

    def __init__(self, problem: Any, seed: int, budget_limit: Optional[float] = None,
                 n_limit: Optional[int] = None, time_limit: Optional[float] = None,
                 target: Any = None):
        self.problem = problem
        self.seed = int(seed)
        self.budget_limit = budget_limit
        self.n_limit = n_limit
        self.time_limit = time_limit
        self.target = target  # optional replacement of problem.evaluate(x, budget, seed)
        self.rows: List[List[float]] = []  # start, end, budget, charge, cost
        self.xs: List[List[float]] = []
        self.spent = 0.0  # charged budget, in units of max_budget
        self.t0 = time.perf_counter()
        self.capped = False  # stopped by time_limit before the other limits
        self._lock = threading.Lock()  # HpBandSter's worker threads evaluate concurrently

    def start(self) -> None:
        """Reset the clock (call right before the optimiser's first ask)."""
        self.t0 = time.perf_counter()

    def done(self) -> bool:
        if self.budget_limit is not None and self.spent >= self.budget_limit - 1e-9:
            return True
        if self.n_limit is not None and len(self.rows) >= self.n_limit:
            return True
        if self.time_limit is not None and time.perf_counter() - self.t0 >= self.time_limit:
            self.capped = True
            return True
        return False

    def evaluate(self, x: Dict[str, Any], budget: float, charge: Optional[float] = None,
                 strict: bool = False) -> float:
        if strict and self.done():
            raise BudgetExhausted()
        start = time.perf_counter()
        if self.target is not None:
            cost = float(self.target(x, float(budget), self.seed))
        else:
            cost = self.problem.evaluate(x, float(budget), self.seed)
        end = time.perf_counter()
        charge = float(budget) if charge is None else float(charge)
        with self._lock:
            self.rows.append([start - self.t0, end - self.t0, float(budget), charge, cost])
            self.xs.append([float(x[p.name]) for p in self.problem.params])
            self.spent += charge / self.problem.max_budget
        return cost

    def to_json(self) -> Dict[str, Any]:
        return {"rows": self.rows, "xs": self.xs, "capped": self.capped}


def drive(optimiser: AskTell, recorder: Recorder) -> None:
    """Ask, evaluate, tell until the recorder's limits are reached."""
    recorder.start()
    while not recorder.done():
        job = optimiser.ask()
        cost = recorder.evaluate(job.x, job.budget, job.charge)
        optimiser.tell(job, cost)


# ---------------------------------------------------------------------------------------------
# deriving curves from a recorded run (any library)
# ---------------------------------------------------------------------------------------------
def incumbent_trace(rows: Sequence[Sequence[float]], xs: Sequence[Sequence[float]]) -> List[int]:
    """Index (into ``rows``) of the incumbent after each evaluation, -1 before there is one.

    Rule ``highest_executed_budget``: lowest mean observed cost among the configurations
    evaluated on the highest budget evaluated so far."""
    best_level = -math.inf
    sums: Dict[tuple, List[float]] = {}  # (x, budget) -> [total, n, first index]
    best_key: Optional[tuple] = None
    best_cost = math.inf
    out = []
    for i, (row, x) in enumerate(zip(rows, xs)):
        budget, cost = row[2], row[4]
        key = (tuple(x), budget)
        agg = sums.setdefault(key, [0.0, 0, i])
        agg[0] += cost
        agg[1] += 1
        if budget > best_level + 1e-12:
            best_level, best_key, best_cost = budget, key, agg[0] / agg[1]
        elif abs(budget - best_level) <= 1e-12:
            mean = agg[0] / agg[1]
            if key == best_key or mean < best_cost:
                if key == best_key and mean > best_cost:  # the incumbent got worse: rescan
                    cands = [(s[0] / s[1], k) for k, s in sums.items() if abs(k[1] - best_level) <= 1e-12]
                    best_cost, best_key = min(cands)
                else:
                    best_cost, best_key = mean, key
        out.append(sums[best_key][2] if best_key is not None else -1)
    return out


def run_curves(problem: Any, record: Dict[str, Any]) -> Dict[str, np.ndarray]:
    """Per evaluation: budget spent (units of max_budget), wall end time, incumbent regret."""
    rows = np.asarray(record["rows"], dtype=float).reshape(-1, 5)
    xs = record["xs"]
    inc = incumbent_trace(rows.tolist(), xs)
    cache: Dict[int, float] = {}
    regret = np.full(len(rows), np.inf)
    for i, j in enumerate(inc):
        if j < 0:
            continue
        if j not in cache:
            if problem.true_regret_fn is not None:
                cache[j] = problem.true_regret({p.name: v for p, v in zip(problem.params, xs[j])})
            else:
                cache[j] = float(rows[j, 4])
        regret[i] = cache[j]
    if problem.true_regret_fn is None:  # validation error: the incumbent's mean observed cost
        regret = _observed_incumbent_cost(rows, xs, inc)
    spent = np.cumsum(rows[:, 3]) / problem.max_budget if len(rows) else np.zeros(0)
    return {"spent": spent, "wall": rows[:, 1] if len(rows) else np.zeros(0), "regret": regret}


def time_to_target(problem: Any, record: Dict[str, Any], target: float) -> float:
    """The time (the rows' end times) at which the run's incumbent first had a regret of at
    most ``target``; inf if never."""
    curves = run_curves(problem, record)
    hit = np.flatnonzero(curves["regret"] <= target)
    return float(curves["wall"][hit[0]]) if len(hit) else math.inf


def final_value(problem: Any, record: Dict[str, Any], seed: int, until: Optional[float] = None) -> float:
    """What a run is judged by at its end (or at time ``until``: the evaluations ended by
    then): the incumbent's exact regret (synthetic problems), its test error (tasks with a
    held-out test split), else its validation error."""
    if until is not None:
        keep = [i for i, row in enumerate(record["rows"]) if row[1] <= until + 1e-9]
        record = {"rows": [record["rows"][i] for i in keep], "xs": [record["xs"][i] for i in keep]}
    curves = run_curves(problem, record)
    if not len(curves["regret"]):
        return math.inf
    if problem.info.get("test_error") is None:
        return float(curves["regret"][-1])
    rows = np.asarray(record["rows"], dtype=float).reshape(-1, 5)
    j = incumbent_trace(rows.tolist(), record["xs"])[-1]
    return problem.test_error({p.name: v for p, v in zip(problem.params, record["xs"][j])}, seed)


def _observed_incumbent_cost(rows: np.ndarray, xs: Sequence[Sequence[float]], inc: List[int]) -> np.ndarray:
    out = np.full(len(rows), np.inf)
    sums: Dict[tuple, List[float]] = {}
    for i in range(len(rows)):
        key = (tuple(xs[i]), rows[i, 2])
        s = sums.setdefault(key, [0.0, 0])
        s[0] += rows[i, 4]
        s[1] += 1
        j = inc[i]
        if j >= 0:
            s_inc = sums[(tuple(xs[j]), rows[j, 2])]
            out[i] = s_inc[0] / s_inc[1]
    return out


def value_at(xgrid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Step function: the last ``y`` whose ``x`` is <= each grid point (inf before the first)."""
    idx = np.searchsorted(x, xgrid, side="right") - 1
    out = np.where(idx >= 0, y[np.clip(idx, 0, None)] if len(y) else np.inf, np.inf)
    return out.astype(float)


def quartiles(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """25th, 50th, 75th percentiles without interpolation (so inf, "no incumbent yet", is kept
    as a value, not turned into NaN)."""
    return np.quantile(np.asarray(values, dtype=float), [0.25, 0.5, 0.75], axis=axis, method="inverted_cdf")


def optimiser_gaps(rows: Sequence[Sequence[float]]) -> np.ndarray:
    """Seconds between the end of one evaluation and the start of the next (the first one:
    from the start of the run), i.e. the optimiser's time per evaluation."""
    r = np.asarray(rows, dtype=float).reshape(-1, 5)
    if not len(r):
        return np.zeros(0)
    prev_end = np.concatenate([[0.0], r[:-1, 1]])
    return np.maximum(r[:, 0] - prev_end, 0.0)
