"""The cost of durability: ask + tell with and without ``output_dir``, and loading a big run.

1. Overhead per trial: ``ask()`` + ``tell()`` wall time (the target is instant and not timed)
   for N trials (default 10,000) of Hyperband(1, 81, 3), three ways: in memory, with
   ``output_dir`` and ``durable=False`` (each tell flushed to the OS) and with ``output_dir``
   and ``durable=True`` (each tell fsync'd, the default). The three optimisers run in lockstep
   (trial i of each, then trial i + 1), so load on a shared machine hits them alike. Done for
   the default selector (``rf``) and for ``random``, whose ask is the cheapest there is (the
   worst case for the ratio: one fsync costs more than a whole random ask + tell).
   Reported: median, p95, mean and max in ms, and each ratio to in-memory (target: < 2x).
2. Load time of a run directory of M trials (default 100,000; written with ``durable=False``,
   the random selector, Hyperband and an instant cost), three ways: killed (dropped without
   closing: the latest periodic state snapshot plus the log after it), closed (the snapshot
   is current) and with no snapshot (the whole log replayed; what a damaged snapshot costs).
   Target: seconds. ``--profile`` adds where the time of the first goes.

Usage::

    python -m benchmarks.durability                      # 10k trials, 100k-trial load
    python -m benchmarks.durability --trials 2000 --load-trials 20000
    python -m benchmarks.durability --profile            # cProfile of the load, top functions
    python -m benchmarks.durability --dir /mnt/nfs/tmp   # on another file system
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
from ConfigSpace import ConfigurationSpace

from smacish import Hyperband, Optimizer

MODES = ("in memory", "output_dir, durable=False", "output_dir, durable=True")


def make_space() -> ConfigurationSpace:
    return ConfigurationSpace({"lr": (1e-5, 1e-1), "units": (8, 512), "dropout": (0.0, 0.9)}, seed=0)


def cost(info) -> float:
    """Instant: a smooth function of the configuration and budget."""
    c = info.config
    return (c["lr"] - 0.01) ** 2 + abs(c["dropout"] - 0.3) + 1.0 / info.budget


def _optimizer(mode: str, directory: Path, selector: str = "random") -> Optimizer:
    space, hb = make_space(), Hyperband(min_budget=1, max_budget=81, eta=3)
    if mode == MODES[0]:
        return Optimizer(space, hb, selector=selector, seed=0)
    return Optimizer(space, hb, selector=selector, seed=0, output_dir=directory, durable=mode == MODES[2])


def overhead(n_trials: int, base: Path, selector: str = "random") -> Dict[str, np.ndarray]:
    """Seconds of ask + tell per trial, for each mode, the optimisers run in lockstep."""
    opts = {mode: _optimizer(mode, base / f"overhead-{selector}-{i}", selector) for i, mode in enumerate(MODES)}
    times = {mode: np.empty(n_trials) for mode in MODES}
    cpu = {mode: np.empty(n_trials) for mode in MODES}
    clock, cpu_clock = time.perf_counter, time.process_time
    for i in range(n_trials):
        for mode, opt in opts.items():
            t0, c0 = clock(), cpu_clock()
            info = opt.ask()
            t1, c1 = clock(), cpu_clock()
            value = cost(info)
            t2, c2 = clock(), cpu_clock()
            opt.tell(info, value)
            times[mode][i] = (t1 - t0) + (clock() - t2)
            cpu[mode][i] = (c1 - c0) + (cpu_clock() - c2)
    for mode, opt in opts.items():
        assert len(opt.runhistory) == n_trials, mode
        if opt.output_dir is not None:  # all three ran the same trials
            assert [v.cost for _, v in opt.runhistory.items()] == [v.cost for _, v in opts[MODES[0]].runhistory.items()]
            opt.close()
    return {mode: (times[mode], cpu[mode]) for mode in MODES}


def write_run(directory: Path, n_trials: int) -> float:
    """A run directory of ``n_trials`` trials (durable=False), left as a killed process leaves
    it (not closed: the state snapshot is the last periodic one); returns seconds taken."""
    t0 = time.perf_counter()
    opt = Optimizer(make_space(), Hyperband(min_budget=1, max_budget=81, eta=3), selector="random", seed=0,
                    output_dir=directory, durable=False)
    for _ in range(n_trials):
        info = opt.ask()
        opt.tell(info, cost(info))
    return time.perf_counter() - t0


def fsync_latency(directory: Path, n: int = 300) -> Dict[str, float]:
    """Median seconds to append one 300-byte line and fsync / fdatasync it, on this disk."""
    result = {}
    for name, sync in (("fsync", os.fsync), ("fdatasync", getattr(os, "fdatasync", os.fsync))):
        path = directory / f"{name}.probe"
        times = []
        with open(path, "a") as fh:
            for _ in range(n):
                t0 = time.perf_counter()
                fh.write("x" * 299 + "\n")
                fh.flush()
                sync(fh.fileno())
                times.append(time.perf_counter() - t0)
        path.unlink()
        result[name] = float(np.median(times))
    return result


def timed_load(directory: Path) -> Dict[str, float]:
    """Wall and CPU seconds of one ``Optimizer.load``, and how many events it replayed."""
    from smacish import _snapshot

    state, _ = _snapshot.read(directory)
    covered = state["log"]["events"] if state else 0
    t0, c0 = time.perf_counter(), time.process_time()
    opt = Optimizer.load(directory, durable=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    replayed = opt.run_directory.log.n_events - covered
    trials = len(opt.runhistory)
    opt.close()
    return {"wall": wall, "cpu": cpu, "replayed": replayed, "trials": trials}


def profile_load(directory: Path, top: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    opt = Optimizer.load(directory, durable=False)
    profiler.disable()
    opt.run_directory.log.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def print_overhead(measured: Dict[str, tuple], n_trials: int, selector: str) -> None:
    times = {mode: wall for mode, (wall, _) in measured.items()}
    ref = times[MODES[0]]
    print(f"ask + tell per trial, {n_trials} trials, Hyperband(1, 81, 3), selector {selector!r} (ms)")
    print(f"{'mode':28s} {'median':>8s} {'p95':>8s} {'mean':>8s} {'max':>8s}   median/p95/mean vs in memory")
    for mode in MODES:
        t = times[mode]
        ratios = "" if mode == MODES[0] else "   " + " / ".join(
            f"{np.percentile(t, q) / np.percentile(ref, q):.2f}x" for q in (50, 95)
        ) + f" / {t.mean() / ref.mean():.2f}x"
        print(f"{mode:28s} {_ms(np.median(t))} {_ms(np.percentile(t, 95))} {_ms(t.mean())} {_ms(t.max())}{ratios}")
    cpu_ref = measured[MODES[0]][1].mean()
    print("CPU time per trial (mean, ms; what load on a shared machine does not inflate): " + ", ".join(
        f"{mode} {measured[mode][1].mean() * 1e3:.3f} ({measured[mode][1].mean() / cpu_ref:.2f}x)"
        for mode in MODES) + "\n")


def _ms(x: float) -> str:
    return f"{x * 1e3:8.3f}"


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=10_000, help="trials for the overhead measurement")
    p.add_argument("--load-trials", type=int, default=100_000, help="trials in the run directory to load")
    p.add_argument("--selectors", default="rf,random", help="selectors for the overhead measurement")
    p.add_argument("--dir", default=None, help="where to write the run directories (default: a temp dir)")
    p.add_argument("--profile", action="store_true", help="profile one load and print the top functions")
    p.add_argument("--skip-overhead", action="store_true")
    p.add_argument("--skip-load", action="store_true")
    p.add_argument("--save", action="store_true", help="store the figures for the report "
                   "(benchmarks/results/durability.json)")
    args = p.parse_args(argv)

    base = Path(tempfile.mkdtemp(prefix="smacish-durability-", dir=args.dir))
    warnings.simplefilter("ignore", ResourceWarning)
    result: Dict[str, Any] = {"command": "python -m benchmarks.durability " + " ".join(argv or sys.argv[1:]),
                              "load_average": os.getloadavg()[0], "overhead": {}, "load": {}}
    try:
        print(f"run directories in {base} ({os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f} at start)\n")
        if not args.skip_overhead:
            for selector in args.selectors.split(","):
                measured = overhead(args.trials, base, selector)
                print_overhead(measured, args.trials, selector)
                result["overhead"][selector] = summarise_overhead(measured, args.trials)
            sync = fsync_latency(base)
            result["fsync_ms"] = sync["fsync"] * 1e3
            print(f"this disk: append + fsync {sync['fsync'] * 1e3:.3f} ms, append + fdatasync "
                  f"{sync['fdatasync'] * 1e3:.3f} ms (median); durable=True pays one per tell")
            log = base / "overhead-random-2" / "events.jsonl"
            if log.exists():
                result["log_bytes_per_trial"] = log.stat().st_size / args.trials
                print(f"event log: {log.stat().st_size / 2**20:.1f} MB for {args.trials} trials "
                      f"({log.stat().st_size / args.trials:.0f} bytes per trial)\n")
        if not args.skip_load:
            run = base / "load"
            took = write_run(run, args.load_trials)
            size = len((run / "events.jsonl").read_bytes().rstrip(b"\0"))  # not the zeros grown ahead
            print(f"wrote a {args.load_trials}-trial run in {took:.1f} s (events.jsonl {size / 2**20:.1f} MB); "
                  "Optimizer.load of it:")
            if args.profile:
                shutil.copytree(run, base / "profiled")
                print(profile_load(base / "profiled"))
            cases = [("killed: snapshot + the log after it, runhistory.json written", lambda: None),
                     ("closed: the snapshot is current", lambda: None),
                     ("no snapshot: the whole log", lambda: (run / "state.json").unlink())]
            for name, prepare in cases:
                prepare()
                r = timed_load(run)
                result["load"][name] = r
                print(f"  {name:62s} {r['wall']:6.2f} s wall, {r['cpu']:6.2f} s CPU, {r['replayed']:7d} events "
                      f"replayed ({r['cpu'] / r['trials'] * 1e6:.0f} µs CPU per trial)")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if args.save:
        from benchmarks.runner import save

        print(f"\nsaved {save('durability', result)}")


def summarise_overhead(measured: Dict[str, tuple], n_trials: int) -> Dict[str, Any]:
    out: Dict[str, Any] = {"trials": n_trials}
    for mode, (wall, cpu) in measured.items():
        out[mode] = {"median_ms": float(np.median(wall)) * 1e3, "p95_ms": float(np.percentile(wall, 95)) * 1e3,
                     "mean_ms": float(wall.mean()) * 1e3, "cpu_mean_ms": float(cpu.mean()) * 1e3}
    return out


if __name__ == "__main__":
    main()
