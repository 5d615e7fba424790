"""What `smacish dashboard` costs on a large run: the first read, the full state, and a poll.

Writes an N-trial Hyperband run (5 hyperparameters, random selector, 8 virtual workers, left
open as a killed run leaves it: the log's zeros grown ahead included), then times
``Dashboard(DIR)`` (the first read of the whole log), the full state as JSON (what a newly
opened page gets), a poll with nothing new (median of 20), and a poll after 100 more trials
that a resumed run appended to a copy.

Usage::

    python benchmarks/dashboard_read.py            # N = 10,000
    python benchmarks/dashboard_read.py --n 2000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from ConfigSpace import ConfigurationSpace

import smacish
from smacish.dashboard import Dashboard
from smacish.runners.simulated import run_simulated


def target(config, budget: float) -> float:
    return sum(config.values()) / budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="trials in the run")
    n = parser.parse_args().n
    out = Path(tempfile.mkdtemp()) / "run"
    space = ConfigurationSpace({f"x{i}": (0.0, 1.0) for i in range(5)}, seed=0)
    opt = smacish.Optimizer(space, smacish.Hyperband(min_budget=1, max_budget=27, eta=3), seed=0,
                            selector="random", output_dir=out)
    run_simulated(opt, target, duration=lambda info, value: info.budget, n_workers=8, n_trials=n)
    opt.run_directory.log.close(trim=False)  # as a killed run leaves it
    del opt

    t = time.perf_counter()
    dashboard = Dashboard(str(out))
    first = time.perf_counter() - t
    t = time.perf_counter()
    full = json.dumps(dashboard.state(0))
    t_full = time.perf_counter() - t
    polls = []
    for _ in range(20):
        t = time.perf_counter()
        dashboard.refresh(force=True)
        quiet = json.dumps(dashboard.state(n, dashboard.generation))
        polls.append(time.perf_counter() - t)

    resumed = smacish.Optimizer.load(out)
    run_simulated(resumed, target, duration=lambda info, value: info.budget, n_workers=8, n_trials=resumed.n_asked + 100)
    t = time.perf_counter()
    dashboard.refresh(force=True)
    state = dashboard.state(n, dashboard.generation)
    grown = json.dumps(state)
    t_grown = time.perf_counter() - t
    resumed.close()
    print(f"{n} trials, log {(out / 'events.jsonl').stat().st_size / 1e6:.1f} MB")
    print(f"first read:                {first:.2f} s")
    print(f"full state (a new page):   {t_full * 1e3:.0f} ms, {len(full) / 1e6:.1f} MB of JSON")
    print(f"a poll with nothing new:   {statistics.median(polls) * 1e3:.1f} ms, {len(quiet) / 1e3:.0f} kB")
    print(f"a poll after {state['n_trials'] - n} new trials: {t_grown * 1e3:.0f} ms, {len(grown) / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
