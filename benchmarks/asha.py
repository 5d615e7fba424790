"""Asynchronous promotions (ASHA) against smacish's synchronous scheduler, on the virtual clock.

    python -m benchmarks.asha                          # 11 standard problems, 32 and 128 workers, 10 seeds
    python -m benchmarks.asha --seeds 3 --workers 32   # a smaller run
    python -m benchmarks.asha --table                  # only print the stored result

Both are ``Hyperband(min_budget, max_budget, eta)`` with random selection (the scheduling
decision alone, no model), the one with ``asynchronous=True``, on
:func:`smacish.runners.run_simulated`: a trial takes ``budget`` virtual seconds times a
mean-one lognormal straggler factor (log-sd 0.3) drawn from the trial itself
(:class:`benchmarks.simclock.DurationModel`), and each run may commit ``rounds x workers``
full evaluations of budget. Paired by seed, per problem and overall (:mod:`benchmarks.stats`):
the ratio ASHA / synchronous of the final regret and of the regret at 25 % of
T = total budget / workers (the evaluations ended by then), and the utilisation of each.

The seeds are :data:`SEEDS` (3000-3009), a block no tuning decision and no other benchmark
uses (:data:`benchmarks.stats.DEV_SEEDS` are 0-29, the held-out ones 1000-1029, the
scikit-learn search's 2000-2009).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Dict, List, Optional

import numpy as np

from benchmarks.problems import STANDARD, get_problem, to_configspace
from benchmarks.record import final_value
from benchmarks.runner import load, save
from benchmarks.simclock import DurationModel, summarise
from benchmarks.stats import compare, compare_overall, fmt_comparison

SEEDS = tuple(range(3000, 3010))
NAME = "asha"
VARIANTS = ("synchronous", "asha")
DURATION = {"unit": 1.0, "startup": 0.0, "straggler_sd": 0.3}
FRACTION = 0.25


def run_one(problem_name: str, seed: int, n_workers: int, variant: str, rounds: float) -> Dict[str, Any]:
    """One simulated run; the record :func:`benchmarks.record.final_value` reads, plus utilisation."""
    import smacish
    from smacish.runners import run_simulated

    problem = get_problem(problem_name)
    intensifier = smacish.Hyperband(min_budget=problem.min_budget, max_budget=problem.max_budget, eta=problem.eta,
                                    asynchronous=variant == "asha")
    opt = smacish.Optimizer(to_configspace(problem.params, seed=seed), intensifier, selector="random", seed=seed,
                            n_workers=n_workers)
    model = DurationModel(**DURATION)
    sim = run_simulated(opt, lambda config, budget: problem.evaluate(dict(config), budget, seed),
                        duration=lambda info, value: model(dict(info.config), info.budget, info.budget, seed),
                        n_workers=n_workers, budget_limit=rounds * n_workers * problem.max_budget)
    items = sorted(opt.runhistory.items(), key=lambda iv: iv[1].endtime)
    rows = [[v.starttime, v.endtime, i.budget, i.budget, v.cost] for i, v in items]
    xs = [[float(i.config[p.name]) for p in problem.params] for i, _ in items]
    out = summarise(rows, xs, [[w, s, e] for w, s, e, _ in sim.timeline], n_workers)
    horizon = rounds * problem.max_budget * DURATION["unit"]  # T: the budget / workers, in virtual s
    record = {"rows": rows, "xs": xs}
    return {"problem": problem_name, "seed": seed, "n_workers": n_workers, "variant": variant,
            "final": final_value(problem, record, seed),
            "early": final_value(problem, record, seed, until=FRACTION * horizon),
            "utilisation": out["utilisation"], "utilisation_steady": out["utilisation_steady"],
            "n_trials": len(rows), "makespan": out["makespan"]}


def _one(args: tuple) -> Dict[str, Any]:
    return run_one(*args)


def run(problems: List[str], seeds: List[int], workers: List[int], rounds: float, command: str,
        jobs: int = 1) -> Dict[str, Any]:
    """Every (workers, problem, seed, variant) run, ``jobs`` processes at a time."""
    from multiprocessing import get_context

    started = time.perf_counter()
    tasks = [(p, seed, n, v, rounds) for n in workers for p in problems for seed in seeds for v in VARIANTS]
    runs = []
    with get_context("spawn").Pool(jobs) as pool:
        for r in pool.imap(_one, tasks):
            runs.append(r)
            if r["variant"] == VARIANTS[-1] and r["seed"] == seeds[-1]:
                print(f"  {r['n_workers']} workers, {r['problem']}: done at {time.perf_counter() - started:.0f} s",
                      flush=True)
                save(NAME + "-partial", {"runs": runs})
    result = {"settings": {"problems": problems, "seeds": seeds, "workers": workers, "rounds": rounds,
                           "duration": DURATION, "fraction": FRACTION},
              "command": command, "runs": runs, "seconds": time.perf_counter() - started}
    save(NAME, result)
    return result


def _by(runs: List[Dict[str, Any]], n: int, variant: str, field: str) -> Dict[str, Dict[int, float]]:
    out: Dict[str, Dict[int, float]] = {}
    for r in runs:
        if r["n_workers"] == n and r["variant"] == variant:
            out.setdefault(r["problem"], {})[r["seed"]] = r[field]
    return out


def table(result: Dict[str, Any]) -> str:
    """Markdown: per worker count and problem, ASHA / synchronous (paired ratio of regrets,
    below 1: ASHA ahead) at the end and at 25 % of T, and the median utilisation of each."""
    s = result["settings"]
    lines = ["| workers | problem | final regret, ASHA / sync | regret at 25 % of T, ASHA / sync "
             "| utilisation sync | utilisation ASHA | before the drain, sync | before the drain, ASHA |",
             "|---|---|---|---|---|---|---|---|"]
    losses = []
    for n in s["workers"]:
        per = {f: {v: _by(result["runs"], n, v, f) for v in VARIANTS} for f in ("final", "early", "utilisation", "utilisation_steady")}
        floors = {p: get_problem(p).regret_floor for p in s["problems"]}
        for problem in ["overall"] + s["problems"]:
            cells = []
            for f in ("final", "early"):
                a, b = per[f]["asha"], per[f]["synchronous"]
                if problem == "overall":
                    c = compare_overall({p: (a[p], b[p], floors[p]) for p in s["problems"] if p in a and p in b})
                elif problem in a and problem in b:
                    c = compare(a[problem], b[problem], floors[problem])
                else:
                    c = None
                cells.append("—" if c is None else fmt_comparison(c))
                if c is not None and problem != "overall" and c.significant and c.ratio > 1:
                    losses.append(f"{problem} at {n} workers ({'final' if f == 'final' else '25 % of T'})")
            utils = []
            for f in ("utilisation", "utilisation_steady"):
                for v in ("synchronous", "asha"):
                    vals = [u for p, d in per[f][v].items() if problem in ("overall", p) for u in d.values()]
                    utils.append(f"{np.median(vals):.3f}" if vals else "—")
            label = "**overall**" if problem == "overall" else problem
            lines.append(f"| {n} | {label} | {cells[0]} | {cells[1]} | {' | '.join(utils)} |")
    text = "\n".join(lines)
    text += ("\n\nWhere ASHA is significantly worse (p < 0.05): " + (", ".join(losses) if losses else "nowhere")
             + ".\n")
    return text


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=len(SEEDS), help="the first N of seeds 3000-3009")
    parser.add_argument("--problems", nargs="*", default=STANDARD)
    parser.add_argument("--workers", type=int, nargs="*", default=[32, 128])
    parser.add_argument("--rounds", type=float, default=4.0, help="budget per worker, in full evaluations")
    parser.add_argument("--jobs", type=int, default=2, help="processes")
    parser.add_argument("--table", action="store_true", help="print the stored result's table, run nothing")
    args = parser.parse_args(argv)
    if args.table:
        result = load(NAME)
        if result is None:
            parser.error("no stored result; run python -m benchmarks.asha first")
    else:
        for p in args.problems:
            get_problem(p)
        command = " ".join(["python -m benchmarks.asha"] + list(argv if argv is not None else sys.argv[1:]))
        result = run(args.problems, list(SEEDS[: args.seeds]), args.workers, args.rounds, command, args.jobs)
    print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
