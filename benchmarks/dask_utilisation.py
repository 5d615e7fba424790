"""Worker utilisation and trial throughput of the Dask runner, on a real LocalCluster.

    python -m benchmarks.dask_utilisation                   # the full table (about 10 minutes)
    python -m benchmarks.dask_utilisation --workers 8 --repeats 1 --skip-throughput

Every run uses the ``"random"`` config selector: its ask costs microseconds, so what is measured
is the scheduler and the runner, not a model's fit (the random-forest selector costs a few ms of
CPU per new configuration, in the driver, on top).

**Utilisation.** Hyperband(1, 27, eta=3) on a target that sleeps ``budget * k`` seconds times a
lognormal straggler factor (median 1, ``sigma`` 0.5: one trial in twenty takes 2.3x its share;
the factor is a function of the configuration and budget, so every repetition sees the same
trials). Sleeping needs no CPU, so 32 single-threaded workers fit on a small machine. Each run
asks ``trials_per_worker * n_workers`` trials. Reported, as medians over the repetitions:

- ``util``: busy worker-seconds / (workers x wall-clock) from the first trial's start to the
  last one's end, as :meth:`RunHistory.utilisation` computes it: the tail where the run has no
  trials left to give and workers finish their last ones counts as idle.
- ``steady``: the same from the first start to the *last start*, i.e. while there were trials to
  give: what the scheduler and the runner lose, without the end-of-run drain.
- ``gap``: median (p95) milliseconds a worker sits between the end of one trial and the start of
  its next (the runner's round trip: result to the driver, tell, ask, submit, back to a worker).

Two schedulers run on the same workers:

- ``parallel``: smacish's ParallelScheduler, asked with the current number of workers: it opens
  another successive-halving instance whenever a worker would otherwise idle.
- ``single-SH``: the same Optimizer forced to plan for one worker (``ask(n_workers=1)`` whatever
  the runner says), so one successive-halving instance runs its brackets one after another and
  every stage is a barrier: the synchronous Hyperband of Li et al. (2018), where the workers
  that finish a stage early wait for its slowest trial. This is what the issue calls
  "HpBandSter-style synchronous scheduling". HpBandSter's ``Master.run`` itself does a bit
  better than this baseline: when no active iteration can offer a run it starts the next
  iteration (while ``n_iterations`` lasts), oldest iteration first rather than the most advanced.

**Throughput.** With an instant target (returns at once), trials per second sustained by

- ``ask/tell``: the Optimizer alone, in this process, with ``n_workers`` trials pending (no Dask);
- ``dask``: Dask alone: a no-op task resubmitted as each finishes, ``n_workers`` in flight
  (``distributed.as_completed``): the ceiling the cluster sets;
- ``runner``: ``Optimizer.optimize(client=...)``, the whole loop;

and the CPU time per trial of the runner's own thread (ask, tell, submit, the queue) and of the
whole driver process (which, on a LocalCluster, also hosts the client's event loop and the
scheduler). ``runner max`` = 1000 / runner CPU ms: the trials per second the runner's thread
could sustain with a core of its own. The runner is the bottleneck when ``runner`` is far below
both ``ask/tell`` and ``dask``; on a shared, loaded machine the CPU figures are the steadier ones.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import logging
import math
import os
import statistics
import time
import zlib
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import numpy as np
from ConfigSpace import ConfigurationSpace

import smacish


# ---------------------------------------------------------------------- targets (run on workers)
def straggler_factor(config: Any, budget: float, sigma: float) -> float:
    """A lognormal factor (median 1) fixed by the configuration and the budget."""
    seed = zlib.crc32(repr((sorted(dict(config).items()), budget)).encode())
    return float(np.random.default_rng(seed).lognormal(0.0, sigma))


def sleepy(config: Any, budget: float, k: float, sigma: float) -> float:
    """Sleep ``budget * k`` seconds times a straggler factor; the cost is a smooth function."""
    time.sleep(budget * k * straggler_factor(config, budget, sigma))
    return (config["x"] - 0.3) ** 2 + 1.0 / budget


def instant(config: Any, budget: float) -> float:
    return (config["x"] - 0.3) ** 2 + 1.0 / budget


def noop(i: int) -> int:
    return i


# ---------------------------------------------------------------------- helpers
def space(seed: int = 0) -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=seed)


# Background work every worker process does even when idle: a statistical profiler sampling
# its threads every 10 ms, a memory monitor every 100 ms, a system monitor every 500 ms. On a
# cluster each worker has cores of its own and none of it matters; 32 workers sharing two cores
# spend a good part of them on it (see the module doc). ``--dask-defaults`` keeps Dask's values.
LEAN_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "2s",
    "distributed.admin.system-monitor.interval": "2s",
}


@contextlib.contextmanager
def cluster(n_workers: int, processes: bool, lean: bool = False) -> Iterator[Any]:
    """A LocalCluster of ``n_workers`` single-threaded workers on 127.0.0.1, warmed up (every
    worker has imported smacish) so that no run pays for a worker's first import."""
    import dask
    from distributed import Client, LocalCluster

    # processes: TCP on 127.0.0.1; threads: Dask's in-process transport (no socket at all)
    network = {"host": "127.0.0.1"} if processes else {}
    with dask.config.set(LEAN_WORKERS if lean else {}), LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=processes, **network,
        dashboard_address=None, scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.CRITICAL,
    ) as lc, Client(lc) as client:
        client.wait_for_workers(n_workers)
        client.run(importlib.import_module, "smacish.runners.dask")
        yield client


def single_instance(opt: smacish.Optimizer) -> smacish.Optimizer:
    """Make ``opt`` plan for one worker whatever the runner asks with (see the module doc)."""
    ask = opt.ask
    opt.ask = lambda n_workers=None: ask(n_workers=1)  # type: ignore[method-assign]
    return opt


def spans_metrics(opt: smacish.Optimizer, n_workers: int) -> Dict[str, float]:
    values = [v for _, v in opt.runhistory.items()]
    starts = np.array([v.starttime for v in values])
    ends = np.array([v.endtime for v in values])
    t0, t_last_start = starts.min(), starts.max()
    busy_steady = np.clip(np.minimum(ends, t_last_start) - starts, 0, None).sum()
    steady = busy_steady / (n_workers * (t_last_start - t0)) if t_last_start > t0 else math.nan
    gaps: List[float] = []
    by_worker: Dict[str, List[Tuple[float, float]]] = {}
    for v in values:
        by_worker.setdefault(v.additional_info.get("worker"), []).append((v.starttime, v.endtime))
    for spans in by_worker.values():
        spans.sort()
        gaps += [b[0] - a[1] for a, b in zip(spans[:-1], spans[1:])]
    gaps_ms = np.array(gaps) * 1e3 if gaps else np.array([math.nan])
    return {
        "util": opt.runhistory.utilisation(n_workers),
        "steady": steady,
        "gap": float(np.median(gaps_ms)),
        "gap95": float(np.percentile(gaps_ms, 95)),
        "workers_used": len(by_worker),
    }


def run_utilisation(client: Any, n_workers: int, mode: str, n_trials: int, k: float, sigma: float,
                    seed: int) -> Dict[str, float]:
    opt = smacish.Optimizer(space(seed), smacish.Hyperband(1, 27, eta=3), selector="random", seed=seed)
    if mode == "single-SH":
        single_instance(opt)
    target = functools.partial(sleepy, k=k, sigma=sigma)
    t0 = time.perf_counter()
    opt.optimize(target, n_trials=n_trials, client=client)
    wall = time.perf_counter() - t0
    statuses = {v.status for _, v in opt.runhistory.items()}
    assert len(opt.runhistory) == n_trials and statuses == {smacish.StatusType.SUCCESS}, statuses
    return {"wall": wall, "trials/s": n_trials / wall, **spans_metrics(opt, n_workers)}


def rate_ask_tell(n_pending: int, n_trials: int) -> float:
    """Trials per second of the Optimizer alone, ``n_pending`` trials in flight, FIFO."""
    opt = smacish.Optimizer(space(0), smacish.Hyperband(1, 27, eta=3), selector="random", seed=0)
    pending: List[Any] = []
    t0 = time.perf_counter()
    told = 0
    while told < n_trials:
        while len(pending) < n_pending:
            try:
                pending.append(opt.ask(n_workers=n_pending))
            except smacish.WaitForResults:
                break
        info = pending.pop(0)
        opt.tell(info, instant(info.config, info.budget))
        told += 1
    return n_trials / (time.perf_counter() - t0)


def rate_dask(client: Any, n_inflight: int, n_tasks: int) -> float:
    """Trials per second Dask alone sustains: a no-op resubmitted as each one finishes."""
    from distributed import as_completed

    t0 = time.perf_counter()
    futures = as_completed([client.submit(noop, i, pure=False) for i in range(n_inflight)])
    submitted, done = n_inflight, 0
    for future in futures:
        future.result()
        done += 1
        if submitted < n_tasks:
            futures.add(client.submit(noop, submitted, pure=False))
            submitted += 1
    assert done == n_tasks
    return n_tasks / (time.perf_counter() - t0)


def rate_runner(client: Any, n_trials: int, seed: int) -> Dict[str, float]:
    """Trials per second of the whole loop, and the CPU it costs per trial: in the driver's
    thread (the runner: ask, tell, submit) and in the whole driver process (plus the client's
    event loop and, on a LocalCluster, the scheduler)."""
    opt = smacish.Optimizer(space(seed), smacish.Hyperband(1, 27, eta=3), selector="random", seed=seed)
    t0, thread0, process0 = time.perf_counter(), time.thread_time(), time.process_time()
    opt.optimize(instant, n_trials=n_trials, client=client)
    wall = time.perf_counter() - t0
    assert len(opt.runhistory) == n_trials
    return {
        "rate": n_trials / wall,
        "runner_ms": (time.thread_time() - thread0) / n_trials * 1e3,
        "process_ms": (time.process_time() - process0) / n_trials * 1e3,
    }


def median(rows: Sequence[Dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


# ---------------------------------------------------------------------- main
def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=float, default=0.1, help="seconds of sleep per unit of budget")
    parser.add_argument("--sigma", type=float, default=0.5, help="lognormal straggler sigma")
    parser.add_argument("--trials-per-worker", type=int, default=25)
    parser.add_argument("--threads", action="store_true",
                        help="workers as threads of one process (processes=False)")
    parser.add_argument("--compare-threads", type=int, nargs="*", default=[32],
                        help="worker counts also run with processes=False, to compare")
    parser.add_argument("--throughput-workers", type=int, nargs="+", default=[4])
    parser.add_argument("--throughput-trials", type=int, default=2000)
    parser.add_argument("--dask-defaults", action="store_true",
                        help="keep Dask's per-worker profiler and monitors (see LEAN_WORKERS)")
    parser.add_argument("--skip-utilisation", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args(list(argv) or None)

    print(f"smacish {smacish.__version__}; Hyperband(1, 27, eta=3); target sleeps budget x {args.k:g} s "
          f"x lognormal(0, {args.sigma:g}); {args.trials_per_worker} trials per worker; "
          f"medians of {args.repeats} repetitions; "
          f"{'Dask default' if args.dask_defaults else 'lean (LEAN_WORKERS)'} worker settings; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if not args.skip_utilisation:
        header = (f"{'workers':>7} {'kind':>9} {'scheduler':>10} {'trials':>6} {'wall s':>7} "
                  f"{'util':>5} {'steady':>6} {'gap ms':>7} {'gap95':>6}")
        print("\nutilisation\n" + header + "\n" + "-" * len(header))
        plans = [(n, args.threads) for n in args.workers]
        plans += [(n, True) for n in args.compare_threads if n in args.workers and not args.threads]
        for n_workers, threads in plans:
            with cluster(n_workers, processes=not threads, lean=not args.dask_defaults) as client:
                for mode in ("parallel", "single-SH"):
                    rows = [
                        run_utilisation(client, n_workers, mode, args.trials_per_worker * n_workers,
                                        args.k, args.sigma, seed=rep)
                        for rep in range(args.repeats)
                    ]
                    print(f"{n_workers:>7} {'threads' if threads else 'procs':>9} {mode:>10} "
                          f"{args.trials_per_worker * n_workers:>6} {median(rows, 'wall'):>7.1f} "
                          f"{median(rows, 'util'):>5.3f} {median(rows, 'steady'):>6.3f} "
                          f"{median(rows, 'gap'):>7.1f} {median(rows, 'gap95'):>6.1f}", flush=True)

    if not args.skip_throughput:
        header = (f"{'workers':>7} {'ask/tell':>9} {'dask':>7} {'runner':>7} | {'runner CPU':>10} "
                  f"{'process CPU':>11} {'runner max':>10}")
        print("\nthroughput, instant target: trials/s | CPU ms per trial, and the rate the runner's "
              "thread alone could sustain\n" + header + "\n" + "-" * len(header))
        for n_workers in args.throughput_workers:
            pure = [rate_ask_tell(n_workers, args.throughput_trials) for _ in range(args.repeats)]
            with cluster(n_workers, processes=not args.threads, lean=not args.dask_defaults) as client:
                rate_dask(client, n_workers, 200)  # warm-up
                reps = range(args.repeats)
                dask_only = [rate_dask(client, n_workers, args.throughput_trials) for _ in reps]
                runner = [rate_runner(client, args.throughput_trials, seed=rep) for rep in reps]
            runner_ms = median(runner, "runner_ms")
            print(f"{n_workers:>7} {statistics.median(pure):>9.0f} {statistics.median(dask_only):>7.0f} "
                  f"{median(runner, 'rate'):>7.0f} | {runner_ms:>10.2f} "
                  f"{median(runner, 'process_ms'):>11.2f} {1e3 / runner_ms:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
