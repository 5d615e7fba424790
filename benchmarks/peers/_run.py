"""Runs one batch of benchmark work with one adapter, inside that adapter's venv, and writes
the results as JSON: ``python -m benchmarks.peers._run SPEC.json OUT.json``.

The output is rewritten after every run, so a batch killed at its deadline keeps what it did.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any, Dict

from benchmarks.peers import ADAPTERS, hyperband_trials
from benchmarks.problems import get_problem
from benchmarks.record import Recorder, drive


# what a batch stopped at its deadline keeps is written this often (seconds), not after every run:
# a long batch's JSON grows to ~100 MB, and rewriting it after each run cost a fifth of the time
WRITE_EVERY = 60.0


def _write(path: str, data: Dict[str, Any]) -> None:
    tmp = path + ".part"
    with open(tmp, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def _one(mod: Any, task: str, variant: str, problem_name: str, seed: int, spec: Dict[str, Any]) -> Dict[str, Any]:
    if task == "multiobjective":  # benchmarks.multiobjective: two objectives, problems of benchmarks.mo_problems
        from benchmarks import mo_record

        return mo_record.run_one(mod, variant, problem_name, seed, _units(spec, problem_name))
    problem = get_problem(problem_name)
    if task == "quality":
        rec = Recorder(problem, seed, budget_limit=_units(spec, problem_name))
        _execute(mod, variant, problem, seed, rec, n_trials=_trials(problem, _units(spec, problem_name)))
        return rec.to_json()
    if task == "overhead":
        rec = Recorder(problem, seed, n_limit=spec["n_trials"], time_limit=spec["time_cap"])
        _execute(mod, variant, problem, seed, rec, n_trials=spec["n_trials"])
        out = rec.to_json()
        out.pop("xs")
        return out
    if task == "simulate":
        from benchmarks.simclock import DurationModel, simulate

        if hasattr(mod, "simulate"):  # smacish: its own simulated runner
            return mod.simulate(variant, problem, seed, spec)
        model = DurationModel(**spec["duration"])
        units = _units(spec, problem_name)
        return simulate(mod.make(variant, problem, seed, n_workers=spec["n_workers"],
                                 n_trials=_trials(problem, units)), problem, seed, spec["n_workers"], units, model)
    if task == "simulate-quality":  # every library through its own ask/tell, on one virtual clock
        from benchmarks.simclock import DurationModel, simulate

        units = _units(spec, problem_name)
        optimiser = mod.make(variant, problem, seed, n_workers=spec["n_workers"], n_trials=_trials(problem, units))
        out = simulate(optimiser, problem, seed, spec["n_workers"], units, DurationModel(**spec["duration"]),
                       optimiser_scale=spec.get("optimiser_scale", 0.0))
        out.pop("timeline")
        return out
    if task == "dask":
        return mod.run_parallel(variant, problem, seed, spec)
    if task == "mlp-epochs":  # benchmarks.continued_training: an MLP trained epoch by epoch
        from benchmarks import mlp_epochs

        return mlp_epochs.run(variant, problem, seed, _units(spec, problem_name))
    raise ValueError(f"unknown task {task!r}")


def _units(spec: Dict[str, Any], problem_name: str) -> float:
    units = spec["budget_units"]
    return float(units[problem_name] if isinstance(units, dict) else units)


def _trials(problem: Any, units: float) -> int:
    return hyperband_trials(problem.min_budget, problem.max_budget, problem.eta, units)


def _execute(mod: Any, variant: str, problem: Any, seed: int, rec: Recorder, n_trials: int) -> None:
    if getattr(mod, "owns_loop", lambda v: False)(variant):  # e.g. smacish's optimize() with checkpoints
        mod.run(variant, problem, rec)
    elif hasattr(mod, "make"):
        drive(mod.make(variant, problem, seed, n_trials=n_trials), rec)
    else:
        mod.run(variant, problem, rec)


def main(spec_path: str, out_path: str) -> int:
    with open(spec_path) as fh:
        spec = json.load(fh)
    out: Dict[str, Any] = {"adapter": spec["adapter"], "task": spec["task"], "runs": [], "versions": {}}
    try:
        mod = importlib.import_module(ADAPTERS[spec["adapter"]].module)
        out["versions"] = mod.versions()
        if hasattr(mod, "defaults"):  # the default settings the batch ran with, for the report
            out["defaults"] = mod.defaults()
        variants = spec.get("variants") or (
            mod.parallel_variants() if spec["task"] in ("simulate", "dask") and hasattr(mod, "parallel_variants")
            else mod.variants())
    except Exception as err:  # noqa: BLE001 - a missing peer is reported, not fatal
        out["skipped"] = f"{type(err).__name__}: {err}"
        _write(out_path, out)
        return 0
    out["variants"] = variants
    _write(out_path, out)
    # seeds outermost: a batch stopped at its deadline has covered every problem and variant
    written = time.monotonic()
    for seed in spec["seeds"]:
        for problem_name in spec["problems"]:
            for variant in variants:
                t0 = time.perf_counter()
                entry: Dict[str, Any] = {"variant": variant, "problem": problem_name, "seed": seed}
                try:
                    entry["record"] = _one(mod, spec["task"], variant, problem_name, seed, spec)
                except Exception:  # noqa: BLE001 - one failing run must not lose the others
                    entry["error"] = traceback.format_exc()
                    print(f"[{variant} {problem_name} seed {seed}] failed:\n{entry['error']}", file=sys.stderr)
                entry["seconds"] = time.perf_counter() - t0
                out["runs"].append(entry)
                if time.monotonic() - written >= WRITE_EVERY:
                    _write(out_path, out)
                    written = time.monotonic()
    _write(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
