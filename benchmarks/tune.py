"""Tune smacish's default on the development seeds, and only there.

    python -m benchmarks.tune                                   # rf against its variants, serial
    python -m benchmarks.tune --variants rf kde rf-refit4 --problems standard --units 21
    python -m benchmarks.tune --variants rf 'mine={"selector": "rf", "refit_after": 8}'
    python -m benchmarks.tune --variants rf rf-every --workers 32 --seeds 0 1 2 3 4 --jobs 1

Each variant is a selector (``rf``, ``kde``, ``random``) with options, inside
``Hyperband(min_budget, max_budget, eta=3)`` (``"hyperband": {...}``: options of its own), driven through the same recorder as the peers
(:mod:`benchmarks.record`: same incumbent rule, same budget accounting), ``units`` full
evaluations of budget per run. For each problem and variant: the paired ratio of final regret
to the first variant (the baseline) by seed, with :mod:`benchmarks.stats`; then the same over
all problems, with the leave-one-problem-out range. Seeds are :data:`benchmarks.stats.DEV_SEEDS`
(or a subset): a held-out seed is refused, so no tuning decision can look at one.

``--workers N`` (N > 1) runs each variant with N workers on the virtual clock of
:mod:`benchmarks.heldout`'s parallel runs (:func:`benchmarks.simclock.simulate`, the same
duration model and the same charging of the real ask + tell time), and reports the regret at
10 %, 25 %, 50 % and 100 % of T = total budget x unit / workers, as the held-out report does.
``--unit-seconds 0`` charges no ask + tell time, so that a rerun gives identical figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Dict, List, Tuple

import numpy as np

from benchmarks.problems import PROBLEMS, STANDARD, WITH_TEST_SPLIT, get_problem, to_configspace
from benchmarks.record import Recorder, drive, final_value, optimiser_gaps
from benchmarks.runner import save
from benchmarks.heldout import FRACTIONS, PARALLEL_DURATION
from benchmarks.stats import DEV_SEEDS, compare, compare_overall, fmt_comparison

VARIANTS: Dict[str, Dict[str, Any]] = {
    "rf": {"selector": "rf"},
    # the default before issue 14: a refit before every model proposal
    "rf-every": {"selector": "rf", "refit_after": 1},
    "kde": {"selector": "kde"},
    "random": {"selector": "random"},
    # refit after every k-th result only
    "rf-refit2": {"selector": "rf", "refit_after": 2, "refit_on_improvement": False},
    "rf-refit4": {"selector": "rf", "refit_after": 4, "refit_on_improvement": False},
    "rf-refit8": {"selector": "rf", "refit_after": 8, "refit_on_improvement": False},
    # after every k-th result, and after any result that beat the best on its budget
    "rf-lazy2": {"selector": "rf", "refit_after": 2, "refit_on_promotion": False},
    "rf-lazy3": {"selector": "rf", "refit_after": 3, "refit_on_promotion": False},
    "rf-lazy4": {"selector": "rf", "refit_after": 4, "refit_on_promotion": False},
    "rf-lazy2p": {"selector": "rf", "refit_after": 2, "refit_on_promotion": True},
    "rf-lazy3p": {"selector": "rf", "refit_after": 3, "refit_on_promotion": True},
    # the penalty around pending configurations: off, or narrowed so that it covers at most a share of the space
    "rf-pr0": {"selector": "rf", "penalty_radius": 0.0},
    "rf-radius": {"selector": "rf", "penalty_volume": None},  # the fixed radius, the default before
    "rf-vol05": {"selector": "rf", "penalty_volume": 0.05},
    "rf-vol20": {"selector": "rf", "penalty_volume": 0.2},
    # Hyperband's options: every bracket starts in cycle order (the default before), or waits for a result below
    "rf-cycle": {"selector": "rf", "hyperband": {"informed_starts": False}},
    # each round's brackets in cycle order (the default before), or the least aggressive that may start first (the default)
    "rf-round-cycle": {"selector": "rf", "hyperband": {"bracket_order": "cycle"}},
    "rf-least-aggressive": {"selector": "rf", "hyperband": {"bracket_order": "least_aggressive"}},
}
PROBLEM_SETS = {
    "standard": STANDARD,
    "ml": WITH_TEST_SPLIT,
    "synthetic": [n for n in PROBLEMS if get_problem(n).kind == "synthetic"],
    "all": list(PROBLEMS),
}


def parse_variant(text: str) -> Tuple[str, Dict[str, Any]]:
    """``name`` (one of :data:`VARIANTS`) or ``name={"selector": ..., option: value}``."""
    name, eq, spec = text.partition("=")
    if eq:
        options = json.loads(spec)
        if options.get("selector") not in ("rf", "kde", "random"):
            raise ValueError(f"variant {name}: 'selector' must be rf, kde or random")
        return name, options
    if name not in VARIANTS:
        raise ValueError(f"variant {name!r} is unknown; known: {sorted(VARIANTS)}, or name={{json}}")
    return name, VARIANTS[name]


def make_selector(options: Dict[str, Any], space: Any, seed: int) -> Any:
    from smacish.selection import KDESelector, RandomForestSelector, RandomSelector

    rest = {k: v for k, v in options.items() if k not in ("selector", "hyperband")}
    cls = {"rf": RandomForestSelector, "kde": KDESelector, "random": RandomSelector}[options["selector"]]
    return cls(space, seed=seed, **rest)


Job = Tuple[str, Dict[str, Any], str, int, float, int, float]
"""(variant name, options, problem, seed, units, workers, unit seconds); the last two may be left
out (serial)."""


def run_one(job: Job) -> Dict[str, Any]:
    """One run: final regret (or validation error) and the optimiser's median time per trial;
    with workers > 1, on the virtual clock, also the regret at each of :data:`FRACTIONS` of T."""
    import warnings

    import smacish
    from benchmarks.peers.smacish_adapter import SmacishAskTell

    warnings.filterwarnings("ignore")
    name, options, problem_name, seed, units, n_workers, unit_seconds = (tuple(job) + (1, 1.0))[:7]
    problem = get_problem(problem_name)
    space = to_configspace(problem.params, seed=seed)
    selector_seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
    opt = smacish.Optimizer(space, smacish.Hyperband(min_budget=problem.min_budget, max_budget=problem.max_budget,
                                                     eta=problem.eta, **options.get("hyperband", {})),
                            selector=make_selector(options, space, selector_seed), seed=seed, n_workers=n_workers)
    t0 = time.perf_counter()
    out = {"variant": name, "problem": problem_name, "seed": seed}
    if n_workers == 1:
        rec = Recorder(problem, seed, budget_limit=units)
        drive(SmacishAskTell(opt), rec)
        record = rec.to_json()
        out.update(final=final_value(problem, record, seed),
                   optimiser_ms=1e3 * float(np.median(optimiser_gaps(record["rows"]))))
    else:  # heldout's parallel runs: the same loop, duration model and charging
        from benchmarks.simclock import DurationModel, simulate

        record = simulate(SmacishAskTell(opt, n_workers), problem, seed, n_workers, units,
                          DurationModel(**PARALLEL_DURATION), optimiser_scale=1.0 / unit_seconds if unit_seconds else 0.0)
        T = units * problem.max_budget / n_workers
        at = {f: final_value(problem, record, seed, until=f * T) for f in FRACTIONS}
        out.update(final=at[1.0], at={str(f): v for f, v in at.items()},
                   optimiser_ms=1e3 * opt.optimizer_seconds / max(1, len(record["rows"])))
    out["seconds"] = time.perf_counter() - t0
    return out


def report(runs: List[Dict[str, Any]], names: List[str]) -> str:
    base = names[0]
    by: Dict[Tuple[str, str], Dict[int, float]] = {}
    for r in runs:
        by.setdefault((r["variant"], r["problem"]), {})[r["seed"]] = r["final"]
    problems = sorted({r["problem"] for r in runs})
    lines = [f"final regret: each variant against {base} (ratio < 1: the variant is better), paired by seed"]
    if any("at" in r for r in runs):
        lines[0] += "; at 100 % of T = total budget x unit / workers"
        lines.append("overall, at a fraction of T:")
        for name in names[1:]:
            parts = []
            for f in FRACTIONS:
                at: Dict[Tuple[str, str], Dict[int, float]] = {}
                for r in runs:
                    at.setdefault((r["variant"], r["problem"]), {})[r["seed"]] = r["at"][str(f)]
                c = compare_overall({p: (at.get((name, p), {}), at.get((base, p), {}), get_problem(p).regret_floor)
                                     for p in problems})
                parts.append(f"{f:.0%} {fmt_comparison(c)}")
            lines.append(f"  {name} / {base}: " + "; ".join(parts))
    for name in names[1:]:
        lines.append(f"\n{name} / {base}")
        for p in problems:
            c = compare(by.get((name, p), {}), by.get((base, p), {}), get_problem(p).regret_floor)
            med = statistics.median(by[(name, p)].values()) if (name, p) in by else float("nan")
            lines.append(f"  {p:22s} {fmt_comparison(c):55s} median {med:.4g}")
        overall = compare_overall({p: (by.get((name, p), {}), by.get((base, p), {}), get_problem(p).regret_floor) for p in problems})
        lines.append(f"  {'overall':22s} {fmt_comparison(overall)}")
    lines.append("\nmedian optimiser ms per trial: " + ", ".join(
        f"{n} {statistics.median(r['optimiser_ms'] for r in runs if r['variant'] == n):.2f}" for n in names))
    return "\n".join(lines)


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="*", default=["rf", "rf-refit4", "kde"])
    parser.add_argument("--problems", nargs="*", default=["standard"],
                        help="problem names or sets: " + ", ".join(PROBLEM_SETS))
    parser.add_argument("--seeds", type=int, nargs="*", default=list(DEV_SEEDS))
    parser.add_argument("--units", type=float, default=21.0, help="budget per run, in full evaluations")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="workers on the virtual clock (1: serial runs)")
    parser.add_argument("--unit-seconds", type=float, default=1.0,
                        help="with --workers: real seconds a virtual second stands for (as in benchmarks.heldout); "
                             "0: ask + tell time not charged (reproducible)")
    args = parser.parse_args(argv)
    held_out = sorted(set(args.seeds) - set(DEV_SEEDS))
    if held_out:
        parser.error(f"seeds {held_out} are not development seeds ({DEV_SEEDS[0]}..{DEV_SEEDS[-1]}); "
                     "tuning never looks at held-out seeds")
    variants = [parse_variant(v) for v in args.variants]
    problems = [n for p in args.problems for n in PROBLEM_SETS.get(p, [p])]
    for p in problems:
        get_problem(p)
    jobs = [(n, o, p, s, args.units, args.workers, args.unit_seconds)
            for s in args.seeds for p in problems for n, o in variants]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(run_one, jobs, chunksize=4))
    names = [n for n, _ in variants]
    text = report(runs, names)
    print(text)
    print(f"\n{len(runs)} runs in {time.perf_counter() - t0:.0f} s")
    save(f"tune-{int(time.time())}", {"variants": dict(variants), "problems": problems, "seeds": args.seeds,
                                      "units": args.units, "workers": args.workers,
                                      "unit_seconds": args.unit_seconds, "runs": runs, "report": text})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
