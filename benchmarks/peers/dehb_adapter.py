"""DEHB (differential evolution + Hyperband) through its ask/tell interface; its own Dask mode
for the parallel benchmark."""

from __future__ import annotations

import tempfile
from typing import Any, List, Optional

from benchmarks.problems import Problem, to_configspace
from benchmarks.record import Job

LIBRARY = "dehb"
VENV = "dehb"


def variants() -> List[str]:
    return ["dehb"]


def versions() -> dict:
    from importlib.metadata import version

    return {"dehb": version("dehb"), "ConfigSpace": version("ConfigSpace")}


def _dehb(problem: Problem, seed: int, f: Any = None, n_workers: int = 1, client: Any = None) -> Any:
    from dehb import DEHB

    cs = to_configspace(problem.params, seed=seed)
    out = tempfile.mkdtemp(prefix="bench-dehb-")
    return DEHB(cs=cs, f=f, dimensions=len(problem.params), min_fidelity=problem.min_budget,
                max_fidelity=problem.max_budget, eta=problem.eta, n_workers=n_workers, client=client,
                output_path=out, seed=int(seed), save_freq="end", log_level="ERROR")


class DehbAskTell:
    def __init__(self, problem: Problem, seed: int):
        self.dehb = _dehb(problem, seed)

    def ask(self) -> Job:
        job = self.dehb.ask()
        return Job(dict(job["config"]), float(job["fidelity"]), float(job["fidelity"]), job)

    def tell(self, job: Job, cost: float) -> None:
        self.dehb.tell(job.handle, {"fitness": float(cost), "cost": float(job.budget)})


def make(variant: str, problem: Problem, seed: int, n_workers: int = 1, n_trials: Optional[int] = None) -> DehbAskTell:
    return DehbAskTell(problem, seed)


class _Objective:
    """DEHB's objective on a Dask worker: the sleeping target, stamped with start/end/worker."""

    def __init__(self, target: Any):
        self.target = target

    def __call__(self, config: Any, fidelity: float, **kwargs: Any) -> dict:
        import os
        import time

        start = time.time()
        cost = self.target(dict(config), float(fidelity))
        end = time.time()
        return {"fitness": cost, "cost": end - start, "info": {"start": start, "end": end, "worker": os.getpid()}}


def run_parallel(variant: str, problem: Problem, seed: int, spec: dict) -> dict:
    """DEHB's own Dask mode (``DEHB.run``) with ``n_workers`` single-threaded worker processes
    on 127.0.0.1, on a sleeping target; as many evaluations as Hyperband makes for the budget."""
    import logging

    import numpy as np
    from distributed import Client, LocalCluster

    from benchmarks.peers.hpbandster_adapter import iteration_plan
    from benchmarks.simclock import SleepingTarget, summarise, warm_up

    n = spec["n_workers"]
    units = spec["budget_units"][problem.name] if isinstance(spec["budget_units"], dict) else spec["budget_units"]
    plan, fevals, spent, i = iteration_plan(problem), 0, 0.0, 0
    while spent < units:
        for k, b in plan[i % len(plan)]:
            fevals += k
            spent += k * b / problem.max_budget
        i += 1
    target = SleepingTarget(problem.name, seed, spec["duration"])
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        client.wait_for_workers(n)
        warm_up(client, "dehb")
        dehb = _dehb(problem, seed, f=_Objective(target), client=client)
        dehb.run(fevals=fevals)
        history = list(dehb.history)
    t0 = min(h[5]["start"] for h in history)
    rows, xs, timeline, workers = [], [], [], {}
    for config_id, vector, fitness, cost, fidelity, info in history:
        cfg = dehb.vector_to_configspace(np.array(vector))
        rows.append([info["start"] - t0, info["end"] - t0, float(fidelity), float(fidelity), float(fitness)])
        xs.append([float(cfg[p.name]) for p in problem.params])
        timeline.append([workers.setdefault(info["worker"], len(workers)), info["start"] - t0, info["end"] - t0])
    out = summarise(rows, xs, timeline, n)
    out["fevals"] = fevals
    return out
