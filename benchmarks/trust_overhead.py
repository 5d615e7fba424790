"""What the safety checks cost: the target's signature check and the run directory's lock.

- **Signature check**: ``check_target`` runs once per ``optimize``; per trial the runners only
  look the accepted names up (cached) and, with ``budget_arg``, rename one argument. We time
  both against calling the target directly.
- **Lock**: ``RunLock`` is taken once when a run directory is opened and held until it is
  closed; nothing per trial. We time taking and releasing it, and whole runs of a free target
  with ``output_dir`` with the lock and with it replaced by a no-op, interleaved.

The target: both invisible. Measured (2 cores, 300-trial runs, 7 repeats): the check once
27 us; per trial 1.1 us (2.1 us with ``budget_arg``) against 0.3 us for a direct call, i.e.
under 0.5 % of the 0.5 ms a free trial costs with ``output_dir``; the lock 0.18 ms once, and
runs with and without it level (0.50 vs 0.55 ms per trial, noise).

Usage::

    python benchmarks/trust_overhead.py            # 300-trial runs, 7 repeats
    python benchmarks/trust_overhead.py --trials 1000 --repeats 11
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

from ConfigSpace import ConfigurationSpace

import smacish
from smacish import _run_directory as run_directory_module
from smacish._lock import RunLock
from smacish.runners._execute import check_target, target_kwargs
from smacish.trial import TrialInfo


def _target(config, budget):
    return config["x"] / budget


def _target_epochs(config, epochs):
    return config["x"] / epochs


def _median_us(fn: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def signature_costs(n: int = 5000) -> Dict[str, float]:
    """Microseconds: the check once, and per trial the call with and without our binding."""
    space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    info = TrialInfo(space.sample_configuration(), budget=3.0, seed=0)
    bound = check_target(_target_epochs, "epochs", ["budget"])
    return {
        "check_target (once per optimize)": _median_us(lambda: check_target(_target, None, ["budget"]), n),
        "check_target with budget_arg (once)": _median_us(lambda: check_target(_target_epochs, "epochs", ["budget"]), n),
        "per trial: direct call": _median_us(lambda: _target(info.config, budget=info.budget), n),
        "per trial: smacish's call": _median_us(lambda: _target(info.config, **target_kwargs(_target, info)), n),
        "per trial: smacish's call, budget_arg": _median_us(lambda: bound(info.config, **target_kwargs(bound, info)), n),
    }


class _NoLock:
    def __init__(self, directory: Path):
        pass

    def release(self) -> None:
        pass


def _run_ms_per_trial(n_trials: int, locked: bool, root: Path, index: int) -> float:
    run_directory_module.RunLock = RunLock if locked else _NoLock  # type: ignore[misc]
    try:
        space = ConfigurationSpace({"x": (0.0, 1.0)})
        opt = smacish.Optimizer(space, smacish.Hyperband(min_budget=1, max_budget=27), selector="random",
                                seed=index, output_dir=root / f"run-{index}-{locked}")
        t0 = time.perf_counter()
        opt.optimize(_target, n_trials=n_trials)
        elapsed = time.perf_counter() - t0
        opt.close()
    finally:
        run_directory_module.RunLock = RunLock  # type: ignore[misc]
    return elapsed / n_trials * 1e3


def lock_costs(n_trials: int, repeats: int) -> Dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        take = _median_us(lambda: RunLock(root).release(), 500)
        runs: Dict[bool, List[float]] = {True: [], False: []}
        for i in range(repeats):
            for locked in ((True, False) if i % 2 else (False, True)):  # alternate the order
                runs[locked].append(_run_ms_per_trial(n_trials, locked, root, i))
    return {
        "RunLock taken + released (us, once per run)": take,
        "run with output_dir, with the lock (ms/trial)": statistics.median(runs[True]),
        "run with output_dir, no lock (ms/trial)": statistics.median(runs[False]),
    }


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print("signature check (median us)")
    for name, value in signature_costs().items():
        print(f"  {name:45s} {value:8.2f}")
    print(f"lock (medians of {args.repeats} runs of {args.trials} trials, random selection, durable log)")
    for name, value in lock_costs(args.trials, args.repeats).items():
        print(f"  {name:45s} {value:8.3f}")


if __name__ == "__main__":
    main()
