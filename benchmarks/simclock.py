"""A virtual clock for any ask/tell optimiser, and the trial-duration model every simulated run
uses (smacish's own :func:`smacish.runners.run_simulated` takes the same model).

Library-neutral (numpy only): imported inside the peers' venvs.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass
from typing import Any, Dict, List

import numpy as np

from benchmarks.problems import Problem, _stable_seed
from benchmarks.record import AskTell


@dataclass(frozen=True)
class DurationModel:
    """Seconds a trial takes: ``(startup + charge * unit) * straggler``, ``straggler`` a
    mean-one lognormal with log-sd ``straggler_sd``, drawn from the trial itself (configuration,
    budget, seed), so every library's identical trial takes identical time."""

    unit: float = 1.0  # seconds per budget unit
    startup: float = 0.0  # seconds per trial on top
    straggler_sd: float = 0.3

    def __call__(self, x: Dict[str, Any], budget: float, charge: float, seed: int) -> float:
        key = (f"{k}={float(v):.12g}" for k, v in sorted(x.items()))
        z = np.random.default_rng(_stable_seed("duration", *key, budget, seed)).standard_normal()
        sd = self.straggler_sd
        return (self.startup + charge * self.unit) * math.exp(sd * z - sd * sd / 2)


def simulate(optimiser: AskTell, problem: Problem, seed: int, n_workers: int, budget_units: float,
             duration: DurationModel, optimiser_scale: float = 0.0) -> Dict[str, Any]:
    """Run ``optimiser`` with ``n_workers`` virtual workers until ``budget_units`` (units of
    ``max_budget``, counting trials in flight) are committed, then let the running ones finish.
    ``optimiser.ask()`` may return None: nothing to run until a result is told.

    ``optimiser_scale`` charges the optimiser's own time to the virtual clock: every ask and
    tell advances it by the CPU seconds they took times this factor (the driver asks and tells
    one at a time, so a slow model delays every worker waiting for a trial). With ``unit``
    virtual seconds per budget unit standing for ``unit`` real seconds, the factor is 1; for
    trials of minutes, use ``unit = 1`` and a factor of 1/60.

    Returns the recorded evaluations (virtual start/end), the worker timeline and utilisation.
    """
    now = 0.0
    free = list(range(n_workers))
    running: list = []
    seq = itertools.count()
    rows: List[List[float]] = []
    xs: List[List[float]] = []
    timeline: List[List[float]] = []
    committed = 0.0
    limit = budget_units * problem.max_budget
    def timed(call: Any, *args: Any) -> Any:
        nonlocal now
        t0 = time.process_time()
        out = call(*args)
        now += (time.process_time() - t0) * optimiser_scale
        return out

    while True:
        while free and committed < limit - 1e-9:
            job = timed(optimiser.ask)
            if job is None:  # the optimiser waits for a result
                break
            cost = problem.evaluate(job.x, job.budget, seed)
            took = duration(job.x, job.budget, job.charge, seed)
            committed += job.charge
            worker = heapq.heappop(free)
            heapq.heappush(running, (now + took, next(seq), worker, now, job, cost))
        if not running:
            break
        end, _, worker, start, job, cost = heapq.heappop(running)
        now = max(now, end)
        timed(optimiser.tell, job, cost)
        rows.append([start, end, job.budget, job.charge, cost])
        xs.append([float(job.x[p.name]) for p in problem.params])
        timeline.append([worker, start, end])
        heapq.heappush(free, worker)
    return summarise(rows, xs, timeline, n_workers)


def summarise(rows: List[List[float]], xs: List[List[float]], timeline: List[List[float]], n_workers: int) -> Dict[str, Any]:
    """Utilisation over the whole run, and "steady" utilisation up to the last trial's start
    (leaving out the drain at the end, when the budget is spent and running trials finish),
    and the median idle gap between two trials on one worker (dispatch latency)."""
    busy = sum(e - s for _, s, e in timeline)
    first = min((s for _, s, _ in timeline), default=0.0)
    makespan = (max(e for _, _, e in timeline) - first) if timeline else 0.0
    last_start = max((s for _, s, _ in timeline), default=0.0)
    busy_steady = sum(max(0.0, min(e, last_start) - s) for _, s, e in timeline)
    span = last_start - first
    gaps = []
    by_worker: Dict[int, List[tuple]] = {}
    for w, s, e in timeline:
        by_worker.setdefault(int(w), []).append((s, e))
    for spans in by_worker.values():
        spans.sort()
        gaps += [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    return {
        "rows": rows, "xs": xs, "timeline": timeline, "n_workers": n_workers, "busy": busy,
        "makespan": makespan, "utilisation": busy / (n_workers * makespan) if makespan > 0 else 1.0,
        "utilisation_steady": busy_steady / (n_workers * span) if span > 0 else 1.0,
        "worker_gap_median": float(np.median(gaps)) if gaps else 0.0,
    }


class SleepingTarget:
    """A real target for the parallel benchmark: the problem's cost, after sleeping the trial's
    duration (``DurationModel`` with ``unit`` seconds per budget unit). Picklable, so it runs
    on Dask workers and in DEHB's Dask mode."""

    def __init__(self, problem_name: str, seed: int, duration: Dict[str, float]):
        self.problem_name = problem_name
        self.seed = seed
        self.duration = duration
        self._problem = None

    def __call__(self, x: Dict[str, Any], budget: float, charge: float = None) -> float:
        import time

        from benchmarks.problems import get_problem

        if self._problem is None:
            self._problem = get_problem(self.problem_name)
        x = dict(x)
        cost = self._problem.evaluate(x, budget, self.seed)
        time.sleep(DurationModel(**self.duration)(x, budget, budget if charge is None else charge, self.seed))
        return cost

    def __getstate__(self) -> Dict[str, Any]:
        return {"problem_name": self.problem_name, "seed": self.seed, "duration": self.duration, "_problem": None}


def _import_all(*modules: str) -> None:
    import importlib

    for name in ("benchmarks.problems", "benchmarks.simclock", *modules):
        importlib.import_module(name)


def warm_up(client: Any, *modules: str) -> None:
    """Import what the trials need on every Dask worker before the clock starts: a cold worker
    spends seconds importing on its first trial, which would be charged to whichever scheduler
    happens to run first."""
    client.run(_import_all, *modules)
