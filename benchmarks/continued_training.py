"""Continued training (issue 17): what paying only the increment of a promotion buys, smacish
continuing from a checkpoint against smacish retraining from scratch and Optuna's
``HyperbandPruner`` (whose trials continue), at the same total budget.

    python -m benchmarks.continued_training                      # both parts, the seeds below
    python -m benchmarks.continued_training --part synthetic --seeds 10
    python -m benchmarks.continued_training --table              # print the stored result
    python -m benchmarks.continued_training --smoke              # seconds (tests/test_benchmarks_smoke.py)

The methods, each at its library's defaults:

- ``smacish-rf-continued``: smacish's default (``Hyperband`` with the ``rf`` selector) through
  ``Optimizer.optimize`` with a target that has a ``trial`` parameter; a promoted configuration
  continues from ``trial.previous_budget`` and returns ``continued_from``, so it is charged
  ``budget - previous_budget``;
- ``smacish-rf``: the same optimiser with a target that retrains every trial from scratch (what
  smacish users did before issue 17), charged the whole budget;
- ``optuna-tpe-hb``: Optuna's TPE with its ``HyperbandPruner``; a trial trains on from rung to
  rung and is charged the increment (the study is Optuna's usual one: report after every epoch,
  stop when ``trial.should_prune()``).

**Budget accounting.** A run's budget is ``units`` full evaluations (``units x max_budget``);
every method is charged the budget it actually trains (the increment for a continued trial)
and stops asking once its charges reach the total, so the last trial may overshoot by at most
one evaluation. "Top-budget evaluations per budget" is the number of evaluations at
``max_budget`` scaled to exactly ``units`` of charged budget (``n_top x units / spent``).

**Part 1, synthetic problems with a continuation cost model** (:data:`benchmarks.problems.STANDARD`:
mfpbench's multi-fidelity Hartmann 3/6 at four correlation levels, Kandasamy et al.'s Branin,
Currin, Park1): a continued evaluation at budget ``b`` returns the same value as one from
scratch (the model is the same) and costs ``b - previous_budget``. Through the same batch
runner as :mod:`benchmarks.heldout` (each library in its own venv), 21 full evaluations per run
as there. Judged by the incumbent's exact final regret (one incumbent rule for all,
:mod:`benchmarks.record`).

**Part 2, an MLP trained by ``partial_fit``** (:mod:`benchmarks.mlp_epochs`): ``MLPClassifier``
on digits, budget = epochs 1..27, train / validation split by seed, a fixed test part; the
continued target pickles its model into ``trial.checkpoint_dir`` and resumes from it; 16 x 27
epochs per run (about one round of Hyperband(1, 27, 3)), so that ten seeds of the three methods
take about a quarter of an hour on the shared cores. Judged by the **test** error of the chosen configuration (the incumbent by the same rule, trained 27
epochs) and by wall time.

Per problem and overall, paired by seed (:mod:`benchmarks.stats`): the geometric mean of the
per-seed ratios with a Wilcoxon p-value, for top-budget evaluations (above 1: smacish-continued
runs more) and for final regret / test error (below 1: smacish-continued is better).

**Seeds**: :data:`SEEDS`, 2000 onwards (the first 20 for the synthetic problems, the first 10
for the MLP), a block no decision looked at (the development seeds are
0-29, the held-out ones 1000-1029, :mod:`benchmarks.quality` uses 0-9). Runs go two at a time
(``--jobs``) with one thread each: wall times are of a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from benchmarks.problems import STANDARD, get_problem
from benchmarks.record import final_value
from benchmarks.runner import load, run_batch, save
from benchmarks.stats import Comparison, compare, compare_overall, fmt_comparison

SEEDS: Tuple[int, ...] = tuple(range(2000, 2030))
CONTINUED, SCRATCH, OPTUNA = "smacish-rf-continued", "smacish-rf", "optuna-tpe-hb"
METHODS = (CONTINUED, SCRATCH, OPTUNA)
LABELS = {CONTINUED: "smacish continued", SCRATCH: "smacish from scratch", OPTUNA: "optuna-tpe-hb"}
MLP_PROBLEM = "mlp-digits-test"
NAME = "continued-training"
SETTINGS: Dict[str, Dict[str, Any]] = {
    # synthetic: all 11 standard problems, 20 seeds, the held-out protocol's 21 full evaluations;
    # mlp: 10 seeds, 16 full evaluations (432 epochs, about one round of Hyperband(1, 27, 3))
    "full": {"problems": list(STANDARD), "seeds": 20, "units": 21.0, "mlp_seeds": 10, "mlp_units": 16.0},
    "smoke": {"problems": ["branin-boca"], "seeds": 2, "units": 6.0, "mlp_seeds": 1, "mlp_units": 2.0},
}


def hyperband_round(min_budget: float, max_budget: float, eta: float, continued: bool) -> Tuple[int, float]:
    """``(top-budget evaluations, budget)`` of one round of Hyperband's brackets (Li et al.),
    every evaluation charged its budget, or (``continued``) a promotion only its increment:
    the ceiling of what continuing adds to top-budget evaluations per budget.

    >>> hyperband_round(1, 27, 3, continued=False), hyperband_round(1, 27, 3, continued=True)
    ((8, 423.0), (8, 357.0))
    """
    s_max = int(math.floor(math.log(max_budget / min_budget) / math.log(eta) + 1e-9))
    top, spent = 0, 0.0
    for s in range(s_max, -1, -1):
        n = int(math.ceil((s_max + 1) / (s + 1) * eta**s))
        previous = 0.0
        for i in range(s + 1):
            n_i, budget = int(math.floor(n * eta ** (-i))), max_budget * eta ** (i - s)
            spent += n_i * (budget - previous if continued else budget)
            previous = budget
        top += int(math.floor(n * eta ** (-s)))
    return top, spent


def batches_to_run(settings: Dict[str, Any], parts: List[str]) -> List[Tuple[str, str, Dict[str, Any]]]:
    """``(part, adapter, spec)`` of every batch, the longest first (two run at a time)."""
    seeds = list(SEEDS[: settings["seeds"]])
    mlp_seeds = list(SEEDS[: settings["mlp_seeds"]])
    out = []
    if "mlp" in parts:
        mlp = {"task": "mlp-epochs", "problems": [MLP_PROBLEM], "seeds": mlp_seeds, "budget_units": settings["mlp_units"]}
        out += [("mlp", "smacish", dict(mlp, variants=[CONTINUED])), ("mlp", "optuna", dict(mlp, variants=[OPTUNA])),
                ("mlp", "smacish", dict(mlp, variants=[SCRATCH]))]
    if "synthetic" in parts:
        syn = {"task": "quality", "problems": settings["problems"], "seeds": seeds, "budget_units": settings["units"]}
        out += [("synthetic", "smacish", dict(syn, variants=[CONTINUED])),
                ("synthetic", "smacish", dict(syn, variants=[SCRATCH])),
                ("synthetic", "optuna", dict(syn, variants=[OPTUNA]))]
    return out


def run(settings: Dict[str, Any], parts: List[str], jobs: int = 2, name: str = NAME, log: Any = None,
        command: str = "python -m benchmarks.continued_training") -> Dict[str, Any]:
    """Run every batch, save ``benchmarks/results/<name>.json`` (and ``-partial`` as batches end)."""
    from benchmarks.heldout import numpy_dispatch

    result: Dict[str, Any] = {"settings": dict(settings, parts=parts, seed_block=list(SEEDS)), "command": command,
                              "batches": [], "machine": numpy_dispatch(),
                              "load_average": {"start": os.getloadavg()[0]}}
    lock = threading.Lock()
    started = time.perf_counter()

    def one(job: Tuple[str, str, Dict[str, Any]]) -> None:
        part, adapter, spec = job
        t0 = time.perf_counter()
        batch = run_batch(adapter, spec, timeout=3 * 3600, log=log)
        batch["part"] = part
        n_ok = sum("record" in r for r in batch.get("runs", []))
        print(f"  {part}: {spec['variants'][0]}: {n_ok} runs in {time.perf_counter() - t0:.0f} s "
              f"{batch.get('skipped') or ''}", flush=True)
        with lock:
            result["batches"].append(batch)
            save(name + "-partial", dict(result, seconds=time.perf_counter() - started))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, batches_to_run(settings, parts)))
    result["seconds"] = time.perf_counter() - started
    result["load_average"]["end"] = os.getloadavg()[0]
    save(name, result)
    return result


# ---------------------------------------------------------------------------------------------
# what a run is judged by
# ---------------------------------------------------------------------------------------------
def outcomes(result: Dict[str, Any], part: str) -> Dict[str, Dict[str, Dict[int, Dict[str, float]]]]:
    """``{variant: {problem: {seed: {"final", "top", "spent", "top_per_budget", "seconds"}}}}``;
    ``spent`` in full evaluations, ``final`` the regret (synthetic) or test error (mlp)."""
    out: Dict[str, Dict[str, Dict[int, Dict[str, float]]]] = {}
    for batch in result["batches"]:
        if batch.get("part") != part:
            continue
        for r in batch.get("runs", []):
            if "record" not in r:
                continue
            problem, rec, seed = get_problem(r["problem"]), r["record"], int(r["seed"])
            rows = rec["rows"]
            top = sum(1 for row in rows if row[2] >= problem.max_budget * (1 - 1e-9))
            spent = sum(row[3] for row in rows) / problem.max_budget
            units = result["settings"]["mlp_units" if part == "mlp" else "units"]
            final = rec["test_error"] if "test_error" in rec else final_value(problem, rec, seed)
            out.setdefault(r["variant"], {}).setdefault(r["problem"], {})[seed] = {
                "final": float(final), "top": float(top), "spent": spent,
                "top_per_budget": top * units / spent if spent > 0 else 0.0, "charged": spent * problem.max_budget,
                "seconds": float(rec.get("seconds", r["seconds"]))}
    return out


def _field(per_seed: Dict[int, Dict[str, float]], key: str) -> Dict[int, float]:
    return {s: v[key] for s, v in per_seed.items()}


def paired(by: Dict[str, Any], ours: str, peer: str, key: str, floor: Optional[float] = None
           ) -> Dict[str, Comparison]:
    """``{problem or "overall": Comparison}`` of ``ours`` against ``peer`` on ``key``, paired by
    seed; ``floor``: the problem's noise level (None: its regret floor; counts use 1)."""
    common = [p for p in by.get(ours, {}) if p in by.get(peer, {})]
    cells = {}
    for p in common:
        f = get_problem(p).regret_floor if floor is None else floor
        cells[p] = (_field(by[ours][p], key), _field(by[peer][p], key), f)
    out = {p: compare(*c) for p, c in cells.items()}
    if common:
        out["overall"] = compare_overall(cells)
    return out


def _median(by: Dict[str, Any], variant: str, problem: Optional[str], key: str) -> float:
    per = by.get(variant, {})
    values = [v[key] for p, seeds in per.items() if problem in (None, p) for v in seeds.values()]
    return float(np.median(values)) if values else math.nan


def _ratio(c: Optional[Comparison]) -> str:
    return "—" if c is None or c.n == 0 else f"{c.ratio:.2f}x, p = {c.p:.2g}"


def _markdown(rows: List[List[str]]) -> str:
    return "\n".join("| " + " | ".join(r) + " |" for r in [rows[0], ["---"] * len(rows[0])] + rows[1:])


def synthetic_tables(result: Dict[str, Any]) -> str:
    """Top-budget evaluations per budget, then final regret, per problem (the overall row first)."""
    by = outcomes(result, "synthetic")
    if not by:
        return ""
    units = result["settings"]["units"]
    problems = [p for p in result["settings"]["problems"] if any(p in by.get(m, {}) for m in METHODS)]
    top_s, top_o = paired(by, CONTINUED, SCRATCH, "top_per_budget", 1.0), paired(by, CONTINUED, OPTUNA, "top_per_budget", 1.0)
    reg_s, reg_o = paired(by, CONTINUED, SCRATCH, "final"), paired(by, CONTINUED, OPTUNA, "final")
    head = ["problem"] + [LABELS[m] for m in METHODS]
    top_rows = [head + ["continued / from scratch", "continued / optuna"]]
    reg_rows = [head + ["continued vs from scratch", "continued vs optuna"]]
    for p in ["overall"] + problems:
        label, key = ("**overall**", None) if p == "overall" else (p, p)
        top_rows.append([label] + [f"{_median(by, m, key, 'top_per_budget'):.1f}" for m in METHODS]
                        + [_ratio(top_s.get(p)), _ratio(top_o.get(p))])
        reg_rows.append([label] + [f"{_median(by, m, key, 'final'):.3g}" for m in METHODS]
                        + [fmt_comparison(reg_s[p]) if p in reg_s else "—", fmt_comparison(reg_o[p]) if p in reg_o else "—"])
    n_seeds = max((len(s) for m in by.values() for s in m.values()), default=0)
    text = (f"Top-budget evaluations per {units:g} full evaluations of charged budget (median over {n_seeds} "
            "seeds; ratios: geometric mean of the paired ratios, Wilcoxon p; above 1: continued runs more):\n\n"
            + _markdown(top_rows) + "\n\n"
            "Final regret (median; comparisons: geometric mean ratio [bootstrap 95 %], p, wins/losses of "
            "smacish continued; below 1: continued is better):\n\n" + _markdown(reg_rows) + "\n")
    text += _losses([("fewer top-budget evaluations", SCRATCH, top_s, True), ("fewer top-budget evaluations", OPTUNA, top_o, True),
                     ("worse final regret", SCRATCH, reg_s, False), ("worse final regret", OPTUNA, reg_o, False)])
    return text + _goal(top_o.get("overall"), reg_o.get("overall"), "final regret")


def mlp_table(result: Dict[str, Any]) -> str:
    """One row per method: top-budget evaluations, epochs trained, test error, wall time."""
    by = outcomes(result, "mlp")
    if not by:
        return ""
    units = result["settings"]["mlp_units"]
    rows = [["method", "top-budget evaluations", f"per {units:g} x 27 epochs", "epochs trained",
             "test error (median)", "wall time, s (median)"]]
    for m in METHODS:
        if m in by:
            rows.append([LABELS[m]] + [f"{_median(by, m, None, k):{f}}" for k, f in
                                       (("top", ".1f"), ("top_per_budget", ".1f"), ("charged", ".0f"), ("final", ".4f"),
                                        ("seconds", ".0f"))])
    n_seeds = max((len(s) for m in by.values() for s in m.values()), default=0)
    text = f"MLP on digits ({n_seeds} seeds, {units:g} x 27 epochs per run):\n\n" + _markdown(rows) + "\n\n"
    for peer in (SCRATCH, OPTUNA):
        top, err = paired(by, CONTINUED, peer, "top_per_budget", 1.0), paired(by, CONTINUED, peer, "final")
        wall = paired(by, CONTINUED, peer, "seconds", 1e-3)
        if MLP_PROBLEM in err:
            text += (f"- continued vs {LABELS[peer]}: top-budget evaluations {_ratio(top[MLP_PROBLEM])}; "
                     f"test error {fmt_comparison(err[MLP_PROBLEM])}; wall time {_ratio(wall[MLP_PROBLEM])}\n")
    checks = []
    for peer in (SCRATCH, OPTUNA):
        checks += [("fewer top-budget evaluations", peer, paired(by, CONTINUED, peer, "top_per_budget", 1.0), True),
                   ("worse test error", peer, paired(by, CONTINUED, peer, "final"), False),
                   ("longer wall time", peer, paired(by, CONTINUED, peer, "seconds", 1e-3), False)]
    text += _losses(checks)
    top_o, err_o = paired(by, CONTINUED, OPTUNA, "top_per_budget", 1.0), paired(by, CONTINUED, OPTUNA, "final")
    return text + _goal(top_o.get(MLP_PROBLEM), err_o.get(MLP_PROBLEM), "test error")


def _losses(checks: List[Tuple[str, str, Dict[str, Comparison], bool]]) -> str:
    """The sentence on where smacish continued is significantly behind (p < 0.05); ``checks``
    are ``(what, peer, {problem or "overall": Comparison}, higher_is_better)``."""
    found = []
    for what, peer, comps, higher_is_better in checks:
        problems = {p: c for p, c in comps.items() if p != "overall"}
        behind = [p for p, c in problems.items()
                  if c.n and c.significant and (c.ratio < 1 if higher_is_better else c.ratio > 1)]
        overall = comps.get("overall")
        if not behind and not (overall and len(problems) > 1 and overall.significant
                               and (overall.ratio < 1 if higher_is_better else overall.ratio > 1)):
            continue
        where = ("on every problem" if len(behind) == len(problems) > 1 else
                 "on " + ", ".join(f"{p} ({problems[p].ratio:.2f}x, p = {problems[p].p:.2g})" for p in behind)
                 if behind else "on no single problem")
        if overall is not None and len(problems) > 1:
            where += f", overall {overall.ratio:.2f}x (p = {overall.p:.2g})"
        found.append(f"{what} than {LABELS[peer]} {where}")
    return "\nWhere smacish continued loses (p < 0.05): " + ("; ".join(found) if found else "nowhere") + ".\n"


def _goal(top: Optional[Comparison], final: Optional[Comparison], what: str) -> str:
    """Issue 17's goal, read off the figures: at least Optuna's top-budget evaluations per
    budget, and a better final value (significantly, p < 0.05)."""
    if top is None or final is None or top.n == 0 or final.n == 0:
        return "\nGoal (vs optuna-tpe-hb): not measured (no paired runs).\n"
    misses = []
    if top.ratio < 1.0:
        misses.append("fewer top-budget evaluations than Optuna" + (" (significantly)" if top.significant else ""))
    if final.ratio >= 1.0:
        misses.append(f"{what} no better than Optuna's" + (" (significantly worse)" if final.significant else ""))
    elif not final.significant:
        misses.append(f"{what} lower, but not significantly")
    return (f"\nGoal (vs optuna-tpe-hb): top-budget evaluations per budget {top.ratio:.2f}x Optuna's "
            f"(p = {top.p:.2g}), {what} {final.ratio:.2f}x Optuna's (p = {final.p:.2g}): "
            + ("**met**" if not misses else "**not met**: " + "; ".join(misses)) + ".\n")


def tables(result: Dict[str, Any]) -> str:
    out = []
    syn, mlp = synthetic_tables(result), mlp_table(result)
    if syn:
        out.append("### Synthetic problems\n\n" + syn)
    if mlp:
        out.append("### MLP with partial_fit\n\n" + mlp)
    skipped = sorted({b.get("adapter", "?") + ": " + b["skipped"] for b in result["batches"] if b.get("skipped")})
    if skipped:
        out.append("Skipped: " + "; ".join(skipped) + "\n")
    return "\n".join(out) or "No result yet.\n"


def _load(result: Dict[str, Any], when: str) -> str:
    value = result.get("load_average", {}).get(when)
    return "?" if value is None else f"{value:.1f}"


def section(result: Optional[Dict[str, Any]]) -> str:
    """The "Continued training" section of docs/benchmarks.md (:mod:`benchmarks.report`)."""
    out = ["## Continued training\n"]
    if not result:
        return "\n".join(out + ["Not measured yet: `python -m benchmarks.continued_training`, then "
                                 "`python -m benchmarks report`.\n"])
    s = result["settings"]
    seeds = list(result["settings"]["seed_block"])
    versions = sorted({f"{k} {v}" for b in result["batches"] for k, v in b.get("versions", {}).items()})
    out.append(
        "A promotion that continues from the configuration's checkpoint (`trial.previous_budget`, "
        "`continued_from`) is charged only the increment. Three methods at the same total budget, each charged what it "
        "trains: smacish's default (`Hyperband`, `rf` selector) with a target that continues (*smacish continued*), "
        "the same with a target that retrains every trial (*smacish from scratch*), and Optuna's TPE with its "
        "`HyperbandPruner` (trials train on from rung to rung: charged the increment). Top-budget evaluations are "
        "scaled to exactly the run's budget (`n_top x units / spent`); every ratio is paired by seed (geometric mean "
        "of the per-seed ratios, Wilcoxon p). The protocol and the accounting: the docstring of "
        "`benchmarks/continued_training.py`.\n")
    out.append(
        f"Command: `{result['command']}` ({result.get('seconds', 0) / 60:.0f} min). Seeds: synthetic "
        f"{seeds[0]}..{seeds[s['seeds'] - 1]} ({s['seeds']}), MLP {seeds[0]}..{seeds[s['mlp_seeds'] - 1]} "
        f"({s['mlp_seeds']}): a block no decision looked at (development seeds 0-29, held-out seeds 1000-1029). "
        f"Budget per run: {s['units']:g} full evaluations (synthetic, as in the held-out comparison), "
        f"{s['mlp_units']:g} x 27 epochs (MLP). Versions: {', '.join(versions)}. Machine: 2 cores shared with other "
        f"jobs (load average {_load(result, 'start')} at the start, {_load(result, 'end')} at the end), two runs at a "
        "time with one thread each: wall times are noisy.\n")
    rounds = sorted({(p.min_budget, p.max_budget, p.eta, s["mlp_units" if p.name == MLP_PROBLEM else "units"] * p.max_budget)
                     for p in map(get_problem, s["problems"] + [MLP_PROBLEM])})
    notes = []
    for lo, hi, eta, budget in rounds:
        (top, scratch), (_, cont) = hyperband_round(lo, hi, eta, False), hyperband_round(lo, hi, eta, True)
        notes.append(f"Hyperband({lo:g}, {hi:g}, {eta:g}) runs {top} top-budget evaluations for {scratch:.0f} budget from "
                     f"scratch and for {cont:.0f} continued ({scratch / cont:.2f}x; the run's budget {budget:g} is "
                     f"{budget / scratch:.2f} rounds from scratch, {budget / cont:.2f} continued)")
    out.append("What continuing adds over whole rounds of smacish's brackets, whose number of top-budget evaluations is "
               "fixed (only the promotions get cheaper): " + "; ".join(notes) + ". Within a partial round the ratio "
               "depends on which brackets fit. Optuna's pruner has no such fixed round: it promotes asynchronously (a "
               "trial goes on when it is among the best 1/eta of the trials that reached its rung so far, or the best "
               "of them while fewer than eta have), so a larger share of its budget goes to the top budget.\n")
    out.append(tables(result))
    return "\n".join(out)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["synthetic", "mlp", "both"], default="both")
    parser.add_argument("--seeds", type=int, default=None, help="synthetic problems: the first N seeds of SEEDS")
    parser.add_argument("--mlp-seeds", type=int, default=None, help="the MLP: the first N seeds of SEEDS")
    parser.add_argument("--problems", nargs="*", default=None, help="synthetic problems (default: the standard ones)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="a tiny setting that runs in seconds")
    parser.add_argument("--table", action="store_true", help="print the stored result's tables, run nothing")
    args = parser.parse_args(argv)
    variant = "smoke" if args.smoke else "full"
    name = NAME + ("-smoke" if args.smoke else "")
    if args.table:
        result = load(name)
        if result is None:
            parser.error(f"no stored result {name}; run python -m benchmarks.continued_training first")
    else:
        settings = dict(SETTINGS[variant])
        for key, value in (("seeds", args.seeds), ("mlp_seeds", args.mlp_seeds), ("problems", args.problems)):
            if value is not None:
                settings[key] = value
        for p in settings["problems"]:
            get_problem(p)
        parts = ["synthetic", "mlp"] if args.part == "both" else [args.part]
        command = " ".join(["python -m benchmarks.continued_training"] + list(argv if argv is not None else sys.argv[1:]))
        result = run(settings, parts, jobs=args.jobs, name=name, command=command)
    print(tables(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
