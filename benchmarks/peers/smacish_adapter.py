"""smacish itself: Hyperband with every selector registered in ``smacish.optimizer.SELECTORS``
(``random`` today; ``rf`` and ``kde`` as soon as they land), through ask/tell.

``smacish-<selector>-continued`` (not in :func:`variants`; :mod:`benchmarks.continued_training`
asks for it by name) runs through ``Optimizer.optimize`` with a target that has a ``trial``
parameter: a promoted configuration continues from ``trial.previous_budget`` and says so
(``continued_from``), so it is charged only the increment, as Optuna's trials are.
``smacish-<selector>-async-continued`` does the same with asynchronous promotions (ASHA)."""

from __future__ import annotations

from typing import Any, List, Optional

from benchmarks.problems import Problem, to_configspace
from benchmarks.record import Job

LIBRARY = "smacish"
VENV = None


def variants() -> List[str]:
    from smacish.optimizer import SELECTORS

    return [f"smacish-{name}" for name in SELECTORS]


def versions() -> dict:
    from importlib.metadata import version

    return {"smacish": version("smacish"), "ConfigSpace": version("ConfigSpace")}


def defaults() -> dict:
    """Hyperband's defaults that decide the order of brackets with several workers."""
    import inspect

    import smacish

    params = inspect.signature(smacish.Hyperband).parameters
    return {name: params[name].default for name in ("informed_starts", "bracket_order")}


def make_optimizer(variant: str, problem: Problem, seed: int, n_workers: int = 1, intensifier: Any = None) -> Any:
    import smacish

    selector = variant.split("-", 1)[1]
    asynchronous = selector.endswith(ASYNC)
    selector = selector[: -len(ASYNC)] if asynchronous else selector
    if intensifier is None:
        intensifier = smacish.Hyperband(min_budget=problem.min_budget, max_budget=problem.max_budget, eta=problem.eta,
                                        asynchronous=asynchronous)
    cs = to_configspace(problem.params, seed=seed)
    return smacish.Optimizer(cs, intensifier, selector=selector, seed=seed, n_workers=n_workers)


CONTINUED = "-continued"
ASYNC = "-async"  # smacish-<selector>-async[-continued]: Hyperband(asynchronous=True), ASHA


def owns_loop(variant: str) -> bool:
    """The variants that run through ``optimize()`` (:func:`run`), not through ask/tell."""
    return variant.endswith(CONTINUED)


def run(variant: str, problem: Problem, rec: Any) -> None:
    """``optimize()`` with a target that continues: the cost at ``budget`` is the problem's
    (a continued model is the same model as one trained from scratch), the charge is
    ``budget - trial.previous_budget`` when there is a checkpoint to continue from."""
    opt = make_optimizer(variant[: -len(CONTINUED)], problem, rec.seed)

    def target(config: Any, budget: float, trial: Any) -> dict:
        previous = trial.previous_budget
        cost = rec.evaluate(dict(config), budget, budget if previous is None else budget - previous)
        return {"cost": cost, "continued_from": previous}

    rec.start()
    opt.optimize(target, budget_limit=rec.budget_limit * problem.max_budget)


class SmacishAskTell:
    def __init__(self, optimizer: Any, n_workers: int = 1):
        self.opt = optimizer
        self.n_workers = n_workers

    def ask(self) -> Optional[Job]:
        from smacish import WaitForResults

        try:
            info = self.opt.ask(n_workers=self.n_workers)
        except WaitForResults:
            return None
        return Job(dict(info.config), info.budget, info.budget, info)

    def tell(self, job: Job, cost: float) -> None:
        self.opt.tell(job.handle, cost)


def make(variant: str, problem: Problem, seed: int, n_workers: int = 1, n_trials: Optional[int] = None) -> SmacishAskTell:
    return SmacishAskTell(make_optimizer(variant, problem, seed, n_workers), n_workers)


# ---------------------------------------------------------------------------------------------
# the parallel benchmark: smacish's scheduler and two reference policies built from its parts
# ---------------------------------------------------------------------------------------------
SCHEDULES = {
    "": "ParallelScheduler: as many SH instances as workers need, highest stage first",
    "@1-instance": "one SH instance at a time (asks with n_workers=1 while N workers run): "
                   "fully synchronous successive halving",
    "@hpbandster-policy": "HpBandSter's Master policy, emulated: iterations served oldest first, "
                          "a new one only when none can offer a run",
}


class _OneInstance:
    """The optimiser as the runners see it, but asking the scheduler as if there were one
    worker: it never opens a second SH instance, so workers idle whenever the single bracket
    waits for a rung to finish."""

    def __init__(self, optimizer: Any):
        object.__setattr__(self, "_opt", optimizer)

    def ask(self, n_workers: Any = None) -> Any:
        return self._opt.ask(n_workers=1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._opt, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._opt, name, value)


def _oldest_first_hyperband(problem: Problem) -> Any:
    import smacish
    from smacish.trial import TrialInfoIntent

    class OldestFirstHyperband(smacish.Hyperband):
        """HpBandSter's ``Master.run``: serve the oldest unfinished iteration that can offer a
        run; start the next iteration (bracket by its global index) only when none can."""

        def get_next_trial(self, n_workers: int = 1) -> Any:
            for instance in sorted(self._instances, key=lambda i: i.run.iteration):
                info = instance.next_trial()
                if info is not None:
                    return TrialInfoIntent.RUN, info
            return super().get_next_trial(n_workers)

    return OldestFirstHyperband(min_budget=problem.min_budget, max_budget=problem.max_budget, eta=problem.eta)


def parallel_variants() -> List[str]:
    return [f"smacish-random{s}" for s in SCHEDULES]


def _parallel_optimizer(variant: str, problem: Problem, seed: int, n_workers: int) -> Any:
    base, _, schedule = variant.partition("@")
    intensifier = _oldest_first_hyperband(problem) if schedule == "hpbandster-policy" else None
    opt = make_optimizer(base, problem, seed, n_workers, intensifier)
    return _OneInstance(opt) if schedule == "1-instance" else opt


def _rows_from_runhistory(opt: Any, problem: Problem, t0: float = None) -> dict:
    items = sorted(((i, v) for i, v in opt.runhistory.items() if v.endtime > v.starttime), key=lambda iv: iv[1].endtime)
    if t0 is None:
        t0 = min((v.starttime for _, v in items), default=0.0)
    rows = [[v.starttime - t0, v.endtime - t0, i.budget, i.budget, v.cost] for i, v in items]
    xs = [[float(i.config[p.name]) for p in problem.params] for i, _ in items]
    workers: dict = {}
    timeline = [[workers.setdefault(v.additional_info.get("worker"), len(workers)), v.starttime - t0, v.endtime - t0]
                for _, v in items]
    return {"rows": rows, "xs": xs, "timeline": timeline}


def simulate(variant: str, problem: Problem, seed: int, spec: dict) -> dict:
    """``smacish.runners.run_simulated`` with the benchmark's duration model."""
    from smacish.runners import run_simulated

    from benchmarks.simclock import DurationModel, summarise

    n = spec["n_workers"]
    units = spec["budget_units"][problem.name] if isinstance(spec["budget_units"], dict) else spec["budget_units"]
    model = DurationModel(**spec["duration"])
    opt = _parallel_optimizer(variant, problem, seed, n)
    sim = run_simulated(
        opt, lambda config, budget: problem.evaluate(dict(config), budget, seed),
        duration=lambda info, value: model(dict(info.config), info.budget, info.budget, seed),
        n_workers=n, budget_limit=units * problem.max_budget,
    )
    data = _rows_from_runhistory(opt, problem, t0=0.0)
    data["timeline"] = [[w, s, e] for w, s, e, _ in sim.timeline]
    out = summarise(data["rows"], data["xs"], data["timeline"], n)
    out["utilisation_runner"] = sim.utilisation  # the runner's own figure, for cross-checking
    return out


def run_parallel(variant: str, problem: Problem, seed: int, spec: dict) -> dict:
    """smacish's Dask runner on an embedded LocalCluster (127.0.0.1), sleeping target."""
    from smacish.runners import Limits, embedded_client, run_dask

    from benchmarks.simclock import SleepingTarget, summarise

    n = spec["n_workers"]
    units = spec["budget_units"][problem.name] if isinstance(spec["budget_units"], dict) else spec["budget_units"]
    target = _SmacishSleeping(SleepingTarget(problem.name, seed, spec["duration"]))
    opt = _parallel_optimizer(variant, problem, seed, n)
    client = _client(n, embedded_client)
    rtt = _roundtrips(client)
    run_dask(opt, target, Limits(budget_limit=units * problem.max_budget), client=client)
    data = _rows_from_runhistory(opt, problem)
    out = summarise(data["rows"], data["xs"], data["timeline"], n)
    out["dask_roundtrip"] = rtt
    return out


def _noop() -> int:
    return 1


def _roundtrips(client: Any, n: int = 30) -> dict:
    """Seconds for a no-op task to go to a worker and back, right before the run: the floor of
    the dispatch latency on this machine at this moment."""
    import time

    import numpy as np

    times = []
    for _ in range(n):
        t = time.perf_counter()
        client.submit(_noop, pure=False).result()
        times.append(time.perf_counter() - t)
    return {"median": float(np.median(times)), "p90": float(np.quantile(times, 0.9))}


class _SmacishSleeping:
    def __init__(self, target: Any):
        self.target = target

    def __call__(self, config: Any, budget: float) -> float:
        return self.target(dict(config), budget)


_CLIENTS: dict = {}


def _client(n: int, embedded_client: Any) -> Any:
    """One embedded LocalCluster per worker count for the whole batch (started once: starting
    8 worker processes takes longer than a run), closed when the batch process exits."""
    if n not in _CLIENTS:
        import atexit

        from benchmarks.simclock import warm_up

        ctx = embedded_client(n)
        client = ctx.__enter__()
        client.wait_for_workers(n)
        warm_up(client, "smacish.runners")
        atexit.register(ctx.__exit__, None, None, None)
        _CLIENTS[n] = client
    return _CLIENTS[n]
