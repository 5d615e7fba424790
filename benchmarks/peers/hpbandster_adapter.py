"""HpBandSter: BOHB and HyperBand with in-process worker threads and a Pyro4 nameserver on
127.0.0.1. HpBandSter owns its loop (Master.run), so this adapter runs it instead of ask/tell;
the worker's ``compute`` calls the recorder."""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
import time
from typing import Any, Callable, List, Optional

from benchmarks.problems import Problem, to_configspace

LIBRARY = "hpbandster"
VENV = "hpbandster"
_RUN_IDS = itertools.count()


def variants() -> List[str]:
    return ["hpbandster-bohb", "hpbandster-hb"]


def versions() -> dict:
    from importlib.metadata import version

    return {"hpbandster": version("hpbandster"), "ConfigSpace": version("ConfigSpace"),
            "Pyro4": version("Pyro4"), "numpy": version("numpy")}


def iteration_plan(problem: Problem) -> List[List[tuple]]:
    """HpBandSter's brackets in the order it runs them: per stage (n_configs, budget)."""
    eta = problem.eta
    s_max1 = -int(math.log(problem.min_budget / problem.max_budget) / math.log(eta)) + 1
    budgets = [problem.max_budget * eta ** -(s_max1 - 1 - i) for i in range(s_max1)]
    plan = []
    for it in range(s_max1):
        s = s_max1 - 1 - it
        n0 = int(math.floor(s_max1 / (s + 1)) * eta**s)
        ns = [max(int(n0 * eta ** (-i)), 1) for i in range(s + 1)]
        plan.append(list(zip(ns, budgets[-s - 1:])))
    return plan


def n_iterations_for(problem: Problem, budget_units: Optional[float], n_evals: Optional[int]) -> int:
    """Iterations needed to spend ``budget_units`` (units of max_budget) or make ``n_evals``."""
    plan = iteration_plan(problem)
    spent, evals = 0.0, 0
    for i in itertools.count():
        if (budget_units is not None and spent >= budget_units) or (n_evals is not None and evals >= n_evals):
            return max(i, 1)
        for n, b in plan[i % len(plan)]:
            spent += n * b / problem.max_budget
            evals += n


class _Finished:
    """Stands in for an iteration that was never started."""

    is_finished = True
    data: dict = {}

    def get_next_run(self) -> None:
        return None


def run(variant: str, problem: Problem, recorder: Any, n_workers: int = 1,
        evaluate: Optional[Callable[[dict, float], float]] = None) -> None:
    """Run BOHB / HyperBand until the recorder's limits; ``evaluate`` replaces
    ``recorder.evaluate`` (the parallel benchmark passes a sleeping target)."""
    import hpbandster.core.nameserver as hpns
    from hpbandster.core.worker import Worker
    from hpbandster.optimizers import BOHB, HyperBand

    import random

    import numpy as np

    for name in ("hpbandster", "Pyro4", "Pyro4.core"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # HpBandSter has no seed argument: BOHB's KDE draws from numpy's global generator
    np.random.seed(recorder.seed)
    random.seed(recorder.seed)
    lock = threading.Lock()
    call = evaluate or (lambda x, b: recorder.evaluate(x, b))

    class BenchWorker(Worker):
        def compute(self, config_id, config, budget, working_directory):
            with lock:
                over = recorder.done()
            if over:  # past the run's limits: answer at once, not recorded
                return {"loss": 1e9, "info": {}}
            return {"loss": float(call(dict(config), float(budget))), "info": {}}

    run_id = f"bench-{os.getpid()}-{next(_RUN_IDS)}"
    ns = hpns.NameServer(run_id=run_id, host="127.0.0.1", port=0)
    host, port = ns.start()
    workers = []
    try:
        for i in range(n_workers):
            w = BenchWorker(nameserver=host, nameserver_port=port, run_id=run_id, id=i)
            w.run(background=True)
            workers.append(w)
        cls = BOHB if variant == "hpbandster-bohb" else HyperBand
        cs = to_configspace(problem.params, seed=recorder.seed)
        master = cls(configspace=cs, run_id=run_id, nameserver=host, nameserver_port=port,
                     min_budget=problem.min_budget, max_budget=problem.max_budget, eta=problem.eta,
                     ping_interval=1, host="127.0.0.1")
        # once the recorder's limits are reached, no new iteration starts (the running one
        # finishes with instant answers): HpBandSter has no other way to stop early
        new_iteration = master.get_next_iteration
        master.get_next_iteration = lambda i, kw: _Finished() if recorder.done() else new_iteration(i, kw)
        try:
            n_it = n_iterations_for(problem, recorder.budget_limit, recorder.n_limit) + 1
            master.wait_for_workers(n_workers)  # worker discovery is set-up, not optimisation
            recorder.start()
            master.run(n_iterations=n_it, min_n_workers=n_workers)
        finally:
            master.shutdown(shutdown_workers=True)
    finally:
        ns.shutdown()
        time.sleep(0.05)


def run_parallel(variant: str, problem: Problem, seed: int, spec: dict) -> dict:
    """BOHB / HyperBand with ``n_workers`` in-process worker threads on a sleeping target."""
    from benchmarks.record import Recorder
    from benchmarks.simclock import SleepingTarget, summarise

    n = spec["n_workers"]
    units = spec["budget_units"][problem.name] if isinstance(spec["budget_units"], dict) else spec["budget_units"]
    target = SleepingTarget(problem.name, seed, spec["duration"])
    rec = Recorder(problem, seed, budget_limit=units, target=lambda x, b, s: target(x, b))
    committed = [0.0]
    lock = threading.Lock()
    workers: dict = {}
    timeline = []

    def evaluate(x: dict, budget: float) -> float:
        with lock:  # like the other runners: stop starting trials once the budget is committed
            if committed[0] >= units * problem.max_budget - 1e-9:
                return 1e9
            committed[0] += budget
            worker = workers.setdefault(threading.get_ident(), len(workers))
        start = time.perf_counter() - rec.t0
        cost = rec.evaluate(x, budget)
        end = time.perf_counter() - rec.t0
        with lock:
            timeline.append([worker, start, end])
        return cost

    run(variant, problem, rec, n_workers=n, evaluate=evaluate)
    rows = [list(r) for r in rec.rows]
    t0 = min(r[0] for r in rows)
    for r in rows:
        r[0] -= t0
        r[1] -= t0
    timeline = [[w, s - t0, e - t0] for w, s, e in timeline]
    return summarise(rows, rec.xs, timeline, n)
