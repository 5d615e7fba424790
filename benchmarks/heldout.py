"""The headline comparison: smacish's default against each peer's default, on held-out seeds.

    python -m benchmarks.heldout                                  # every problem, 30 held-out seeds
    python -m benchmarks.heldout --problems standard --seeds 10 --adapters smacish,optuna
    python -m benchmarks.heldout --table                          # only print the stored result

One row per peer default, never a best-of-N: smacish ``Hyperband`` with its default selector
against SMAC3's ``MultiFidelityFacade``, Optuna's TPE with its ``HyperbandPruner`` (charged the
increment, as Optuna trains on, and charged the whole rung), DEHB and HpBandSter's BOHB, each
with its own defaults and told the evaluations its budget allows
(:func:`benchmarks.peers.hyperband_trials`). Every run gets ``--units`` full evaluations of
budget; the seeds are :data:`benchmarks.stats.HELDOUT_SEEDS`, which no tuning decision looks at
(:mod:`benchmarks.tune` refuses them). Per problem and overall: the paired ratio of final
regret (synthetic problems) or validation error, with a Wilcoxon p-value, a bootstrap interval
and, overall, the leave-one-problem-out range (:mod:`benchmarks.stats`). numpy's CPU dispatch
features and the thread settings are stored with the result: the figures are reproducible on
the same CPU from the same seeds. The full traces go to ``benchmarks/results/`` (not committed);
a summary with what the tables need goes to ``benchmarks/heldout_results/`` (committed), so
``python -m benchmarks report --only heldout`` works in any checkout.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional

from benchmarks.problems import PROBLEMS, STANDARD, WITH_TEST_SPLIT, get_problem
from benchmarks.record import final_value, run_curves
from benchmarks.record import time_to_target as _time_to_target
from benchmarks.runner import ROOT, THREAD_ENV, adapter_names, keep_other_batches, load, run_batch, save
from benchmarks.stats import DEV_SEEDS, HELDOUT_SEEDS, compare, compare_overall, fmt_comparison

OURS = "smacish-rf"
DEFAULTS: Dict[str, List[str]] = {
    "smacish": [OURS],
    "smac": ["smac-mf"],
    "optuna": ["optuna-tpe-hb", "optuna-tpe-hb-retrain"],
    "dehb": ["dehb"],
    "hpbandster": ["hpbandster-bohb"],
}
PROBLEM_SETS = {"standard": STANDARD, "ml": WITH_TEST_SPLIT, "headline": STANDARD + WITH_TEST_SPLIT,
                "ours": [p for p in PROBLEMS if p not in STANDARD + WITH_TEST_SPLIT], "all": list(PROBLEMS)}
NAME = "heldout"
FRACTIONS = (0.1, 0.25, 0.5, 1.0)  # of T = total budget x unit / workers, in parallel runs
PARALLEL_DURATION = {"unit": 1.0, "startup": 0.0, "straggler_sd": 0.3}  # benchmarks.simclock.DurationModel
PARALLEL_DEFAULTS = {k: v for k, v in DEFAULTS.items() if k != "hpbandster"}  # it owns its threads: no virtual clock
# benchmarks/results/ (the raw traces, up to 100 MB a run) is not committed; these summaries are,
# so that the report regenerates in any checkout
SUMMARIES = ROOT / "benchmarks" / "heldout_results"


def numpy_dispatch() -> Dict[str, Any]:
    """What decides numpy's floating-point results on this machine: its version, the CPU
    features its dispatcher uses, and the thread settings of the benchmark processes."""
    import numpy as np

    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return {"numpy": np.__version__, "cpu_features": sorted(k for k, v in __cpu_features__.items() if v),
            "dispatch_targets": sorted(__cpu_dispatch__), "threads": dict(THREAD_ENV),
            "cpu_count": os.cpu_count()}


def run(seeds: List[int], problems: List[str], adapters: Optional[List[str]], units: float, jobs: int,
        log: Any = None, name: str = NAME, n_workers: int = 1, unit_seconds: float = 1.0,
        command: str = "python -m benchmarks.heldout") -> Dict[str, Any]:
    """Serial runs (``n_workers=1``), or ``n_workers`` workers on a virtual clock: a trial takes
    its budget x a mean-one lognormal straggler factor (of the trial itself) virtual seconds,
    a virtual second stands for ``unit_seconds`` real ones, and each library's real ask and
    tell time is charged to the clock."""
    defaults = DEFAULTS if n_workers == 1 else PARALLEL_DEFAULTS
    names = [a for a in adapter_names(adapters or list(defaults)) if a in defaults]
    spec = {"task": "quality", "problems": problems, "seeds": seeds, "budget_units": {p: units for p in problems}}
    if n_workers > 1:
        spec.update(task="simulate-quality", n_workers=n_workers, optimiser_scale=1.0 / unit_seconds,
                    duration=dict(PARALLEL_DURATION))

    settings = {"seeds": seeds, "problems": problems, "units": units, "n_workers": n_workers,
                "unit_seconds": unit_seconds}
    done: Dict[str, Any] = {}
    lock = threading.Lock()
    started = time.perf_counter()

    def one(adapter: str) -> Dict[str, Any]:
        t0 = time.perf_counter()
        batch = run_batch(adapter, dict(spec, variants=DEFAULTS[adapter]), timeout=12 * 3600, log=log)
        n_ok = sum("record" in r for r in batch.get("runs", []))
        print(f"  held-out: {adapter}: {n_ok} runs in {time.perf_counter() - t0:.0f} s "
              f"{batch.get('skipped') or ''}", flush=True)
        with lock:  # what is done is kept, should the run be stopped before the others end
            done[adapter] = batch
            partial = {"settings": settings, "batches": dict(done), "machine": numpy_dispatch(),
                       "command": command + " (partial)", "seconds": time.perf_counter() - started}
            save(name + "-partial", partial)
            save_summary(name + "-partial", partial)
        return batch

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        batches = dict(zip(names, pool.map(one, names)))
    batches, command = keep_other_batches(name, settings, batches, command, rerun=bool(adapters), loader=load_result)
    result = {"settings": settings, "command": command, "batches": batches, "machine": numpy_dispatch(),
              "seconds": time.perf_counter() - started}
    save(name, result)
    save_summary(name, result)
    (SUMMARIES / f"{name}-partial.json").unlink(missing_ok=True)
    return result


def summarise(result: Dict[str, Any]) -> Dict[str, Any]:
    """``result`` without its traces, with what the tables need: per run, its value at each
    fraction of T (serial: at the end) and its incumbent's regret at each change (for the time
    to target). :func:`finals`, :func:`comparisons` and :func:`table` read either form."""
    s = result["settings"]
    fractions = FRACTIONS if s.get("n_workers", 1) > 1 else (1.0,)
    batches = {}
    for adapter, batch in result["batches"].items():
        runs = []
        for r in batch.get("runs", []):
            if "record" not in r:
                runs.append(r)
                continue
            problem = get_problem(r["problem"])
            summary = {k: r[k] for k in ("variant", "problem", "seed")}
            summary["finals"] = {f"{f:g}": _final(problem, r, s, f) for f in fractions}
            if problem.true_regret_fn is not None:
                curves = run_curves(problem, r["record"])
                changed = [i for i in range(len(curves["regret"]))
                           if i == 0 or curves["regret"][i] != curves["regret"][i - 1]]
                summary["curve"] = [[float(curves["wall"][i]), float(curves["regret"][i])] for i in changed]
            runs.append(summary)
        batches[adapter] = {**{k: v for k, v in batch.items() if k not in ("runs", "log_tail")}, "runs": runs}
    return {**{k: v for k, v in result.items() if k != "batches"}, "batches": batches, "summarised": True}


def save_summary(name: str, result: Dict[str, Any]) -> Path:
    """Write :func:`summarise` of ``result`` to :data:`SUMMARIES` (atomically, one value a line)."""
    return save(name, summarise(result), root=SUMMARIES, indent=0)


def load_result(name: str) -> Optional[Dict[str, Any]]:
    """The full result in benchmarks/results/ when this checkout ran it, else its committed summary."""
    full = load(name)
    return full if full is not None else load(name, root=SUMMARIES)


def finals(result: Dict[str, Any], fraction: float = 1.0) -> Dict[str, Dict[str, Dict[int, float]]]:
    """``{variant: {problem: {seed: final regret or test error}}}``; in parallel runs, at
    ``fraction`` of T = total budget x unit / workers (the evaluations ended by then)."""
    s = result["settings"]
    out: Dict[str, Dict[str, Dict[int, float]]] = {}
    for batch in result["batches"].values():
        for r in batch.get("runs", []):
            if "record" in r:
                value = _final(get_problem(r["problem"]), r, s, fraction)
            elif "finals" in r:
                value = r["finals"][f"{fraction:g}" if s.get("n_workers", 1) > 1 else "1"]
            else:
                continue
            out.setdefault(r["variant"], {}).setdefault(r["problem"], {})[int(r["seed"])] = value
    return out


def _final(problem: Any, run: Dict[str, Any], settings: Dict[str, Any], fraction: float) -> float:
    until = None
    if settings.get("n_workers", 1) > 1:
        until = fraction * settings["units"] * problem.max_budget / settings["n_workers"]
    return final_value(problem, run["record"], int(run["seed"]), until=until)


def time_to_target(problem: Any, run: Dict[str, Any], target: float) -> float:
    """When a run's incumbent first had a regret of at most ``target`` (inf if never); ``run``
    is a recorded trace or a summary's change points (``{"curve": [[time, regret], ...]}``)."""
    if "curve" not in run:
        return _time_to_target(problem, run, target)
    return next((t for t, regret in run["curve"] if regret <= target), math.inf)


def time_comparisons(result: Dict[str, Any]) -> Dict[str, Any]:
    """Parallel runs: ``{peer variant: overall Comparison}`` of the virtual time smacish's
    default and the peer need to reach a target, paired by (problem, seed): the target is the
    worse of the two runs' regrets at T (floored at the problem's noise level), so both reach
    it by T and the ratio says who got there sooner (below 1: smacish)."""
    s = result["settings"]
    records: Dict[str, Dict[str, Dict[int, Any]]] = {}
    for batch in result["batches"].values():
        for r in batch.get("runs", []):
            if "record" in r or "curve" in r:
                records.setdefault(r["variant"], {}).setdefault(r["problem"], {})[int(r["seed"])] = r.get("record", r)
    ours = records.get(OURS, {})
    at_t = finals(result)
    out: Dict[str, Any] = {}
    for variant, per_problem in records.items():
        if variant == OURS:
            continue
        groups = {}
        for name in s["problems"]:
            problem = get_problem(name)
            if problem.true_regret_fn is None:  # judged by test error, which the trace does not hold
                continue
            seeds = sorted(set(ours.get(name, {})) & set(per_problem.get(name, {})))
            targets = {k: max(at_t[OURS][name][k], at_t[variant][name][k], problem.regret_floor) for k in seeds}
            groups[name] = ({k: time_to_target(problem, ours[name][k], targets[k]) for k in seeds},
                            {k: time_to_target(problem, per_problem[name][k], targets[k]) for k in seeds}, 1e-9)
        out[variant] = compare_overall(groups)
    return out


def comparisons(result: Dict[str, Any], fraction: float = 1.0) -> Dict[str, Dict[str, Any]]:
    """``{peer variant: {problem or "overall": Comparison}}`` of smacish's default against it."""
    by = finals(result, fraction)
    ours = by.get(OURS, {})
    out: Dict[str, Dict[str, Any]] = {}
    order = [v for vs in DEFAULTS.values() for v in vs]
    for variant, per_problem in sorted(by.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0])):
        if variant == OURS:
            continue
        common = [p for p in result["settings"]["problems"] if p in per_problem and p in ours]
        cells = {p: compare(ours[p], per_problem[p], get_problem(p).regret_floor) for p in common}
        cells["overall"] = compare_overall({p: (ours[p], per_problem[p], get_problem(p).regret_floor) for p in common})
        out[variant] = cells
    return out


def table(result: Dict[str, Any]) -> str:
    """Markdown: one column per peer default, one row per problem, the overall row first."""
    comps = comparisons(result)
    peers = list(comps)
    if not peers:
        return "No result of smacish's default and a peer on the same problems yet.\n"
    rows = [["problem"] + [f"vs {p}" for p in peers]]
    for problem in ["overall"] + result["settings"]["problems"]:
        cells = [comps[p].get(problem) for p in peers]
        if all(c is None for c in cells):
            continue
        label = "**overall**" if problem == "overall" else problem
        rows.append([label] + [_cell(c) for c in cells])
    text = "\n".join("| " + " | ".join(r) + " |" for r in [rows[0], ["---"] * len(rows[0])] + rows[1:])
    losses = [f"{p} on {prob}" for p in peers for prob, c in comps[p].items()
              if prob != "overall" and c.ratio > 1 and c.significant]
    text += ("\n\nWhere a peer is significantly better (p < 0.05): " + (", ".join(losses) if losses else "nowhere") + ".\n")
    if result["settings"].get("n_workers", 1) > 1:
        text += "\nOverall, at a fraction of T (total budget x unit / workers):\n\n"
        for fraction in FRACTIONS:
            comps_f = comparisons(result, fraction)
            text += f"- {fraction:.0%} of T: " + "; ".join(f"vs {p} {fmt_comparison(c['overall'])}" for p, c in comps_f.items()) + "\n"
        times = time_comparisons(result)
        text += ("- time to target (the worse of the pair's two regrets at T; below 1: smacish reached it sooner): "
                 + "; ".join(f"vs {p} {fmt_comparison(c)}" for p, c in times.items()) + "\n")
    return text


def _cell(c: Any) -> str:
    if c is None:
        return "—"
    text = fmt_comparison(c)
    return f"**{text}**" if c.significant and c.ratio < 1 else text


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=len(HELDOUT_SEEDS), help="the first N held-out seeds")
    parser.add_argument("--problems", nargs="*", default=["headline"], help="names or sets: " + ", ".join(PROBLEM_SETS))
    parser.add_argument("--adapters", default=None, help="comma-separated (default: smacish and every peer)")
    parser.add_argument("--units", type=float, default=21.0, help="budget per run, in full evaluations")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--table", action="store_true", help="print the stored result's table, run nothing")
    parser.add_argument("--workers", type=int, default=1, help="workers on the virtual clock (1: serial runs)")
    parser.add_argument("--unit-seconds", type=float, default=1.0,
                        help="real seconds a virtual second (one budget unit) stands for: 1 'trials take seconds', "
                             "60 'trials take minutes'; the optimisers' ask + tell time is charged accordingly")
    parser.add_argument("--dev", action="store_true",
                        help="the same on the development seeds (for tuning; stored apart, never reported)")
    args = parser.parse_args(argv)
    name = ("dev-peers" if args.dev else NAME) + (f"-w{args.workers}-u{args.unit_seconds:g}" if args.workers > 1 else "")
    if args.table:
        result = load_result(name)
        if result is None:
            parser.error("no stored held-out result; run python -m benchmarks.heldout first")
    else:
        problems = [n for p in args.problems for n in PROBLEM_SETS.get(p, [p])]
        for p in problems:
            get_problem(p)
        adapters = args.adapters.split(",") if args.adapters else None
        seeds = list((DEV_SEEDS if args.dev else HELDOUT_SEEDS)[: args.seeds])
        result = run(seeds, problems, adapters, args.units, args.jobs, name=name, n_workers=args.workers,
                     unit_seconds=args.unit_seconds,
                     command=" ".join(["python -m benchmarks.heldout"] + list(argv if argv is not None else sys.argv[1:])))
    print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
