"""Several objectives: smacish against Optuna (MOTPE, NSGA-II) and SMAC3's multi-fidelity facade
on ZDT1 and ZDT2 with a fidelity, judged by hypervolume regret over the budget.

    python -m benchmarks.multiobjective --dev --seeds 5        # development seeds (tuning, never reported)
    python -m benchmarks.multiobjective --seeds 10             # held-out seeds 1000.. (the report)
    python -m benchmarks.multiobjective --table                # print the stored held-out result
    python -m benchmarks.multiobjective --docs                 # rewrite docs/benchmarks.md's section only

Every library gets ``--units`` full evaluations of budget (default 50 x budget 27) and is
charged the budget it asks for; the batches run one after the other, one process at a time.
A run is judged by the front it found (:mod:`benchmarks.mo_record`): hypervolume regret at
10/25/50/100 % of the budget, medians over seeds; the headline is the paired comparison of
final regret, smacish's default against each peer's (:mod:`benchmarks.stats`).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from benchmarks.hypervolume import non_dominated
from benchmarks.mo_problems import MO_PROBLEMS, fidelity_correlation, get_mo_problem
from benchmarks.mo_record import regret_at, top_budget_evaluations
from benchmarks.runner import keep_other_batches, load, run_batch, save
from benchmarks.stats import DEV_SEEDS, HELDOUT_SEEDS, Comparison, compare, compare_overall, fmt_comparison

NAME = "multiobjective"
OURS = "smacish-mo"
BATCHES: Dict[str, List[str]] = {  # adapter -> its variants, in the order they run
    "smacish-mo": [OURS, "smacish-mo-random", "random-max-budget"],
    "optuna-mo": ["optuna-tpe", "optuna-nsga2"],
    "smac-mo": ["smac-mf-parego", "smac-mf-mean"],
}
PEERS = ["optuna-tpe", "optuna-nsga2", "smac-mf-parego", "smac-mf-mean"]  # each peer's default(s)
REFERENCES = ["smacish-mo-random", "random-max-budget"]  # context rows, not in the headline
LABELS = {
    OURS: "smacish (default: RF, Hyperband)",
    "smacish-mo-random": "smacish, random selector (Hyperband)",
    "random-max-budget": "random search at budget 27",
    "optuna-tpe": "Optuna TPESampler (MOTPE; create_study's default)",
    "optuna-nsga2": "Optuna NSGAIISampler",
    "smac-mf-parego": "SMAC3 MultiFidelityFacade + ParEGO",
    "smac-mf-mean": "SMAC3 MultiFidelityFacade (default: mean aggregation)",
}
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
UNITS = 50.0
SECTION = "## Several objectives"


# ---------------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------------
def run(seeds: Sequence[int], problems: Sequence[str], units: float, adapters: Optional[List[str]] = None,
        name: str = NAME, command: str = "python -m benchmarks.multiobjective") -> Dict[str, Any]:
    """Every adapter's batch, one after the other; what is done is saved after each batch."""
    names = [a for a in BATCHES if adapters is None or a in adapters]
    settings = {"seeds": list(seeds), "problems": list(problems), "units": units}
    spec = {"task": "multiobjective", "problems": list(problems), "seeds": list(seeds), "budget_units": units}
    batches: Dict[str, Any] = {}
    started = time.perf_counter()
    for adapter in names:
        t0 = time.perf_counter()
        batches[adapter] = run_batch(adapter, dict(spec, variants=BATCHES[adapter]), timeout=6 * 3600)
        b = batches[adapter]
        n_ok = sum("record" in r for r in b.get("runs", []))
        print(f"  {adapter}: {n_ok} runs in {time.perf_counter() - t0:.0f} s {b.get('skipped') or ''}", flush=True)
        for r in b.get("runs", []):
            if "error" in r:
                print(f"    {r['variant']} {r['problem']} seed {r['seed']} failed: "
                      f"{r['error'].strip().splitlines()[-1]}", flush=True)
        save(name + "-partial", {"settings": settings, "batches": dict(batches), "command": command + " (partial)"})
    batches, command = keep_other_batches(name, settings, batches, command, rerun=adapters is not None)
    result = {"settings": settings, "batches": batches, "command": command, "seconds": time.perf_counter() - started}
    save(name, result)
    return result


# ---------------------------------------------------------------------------------------------
# judging
# ---------------------------------------------------------------------------------------------
def outcomes(result: Dict[str, Any]) -> Dict[str, Dict[str, Dict[int, Dict[str, Any]]]]:
    """``{variant: {problem: {seed: {"regret": [at each of FRACTIONS], "top": evaluations at
    budget 27 over the whole budget, "n": evaluations, "seconds": s}}}}``."""
    units = float(result["settings"]["units"])
    out: Dict[str, Dict[str, Dict[int, Dict[str, Any]]]] = {}
    for batch in result["batches"].values():
        for r in batch.get("runs", []):
            if "record" not in r:
                continue
            problem = get_mo_problem(r["problem"])
            rec = r["record"]
            out.setdefault(r["variant"], {}).setdefault(r["problem"], {})[int(r["seed"])] = {
                "regret": regret_at(problem, rec, [f * units for f in FRACTIONS]),
                "top": top_budget_evaluations(problem, rec, units),
                "n": len(rec["rows"]), "seconds": float(r.get("seconds", math.nan)),
            }
    return out


def comparisons(by: Dict[str, Dict[str, Dict[int, Dict[str, Any]]]], problems: Sequence[str],
                fraction_index: int = -1) -> Dict[str, Dict[str, Comparison]]:
    """``{peer: {problem or "overall": Comparison}}`` of smacish's default's final hypervolume
    regret against each peer's, paired by seed (below 1: smacish's regret is lower)."""
    ours = by.get(OURS, {})
    out: Dict[str, Dict[str, Comparison]] = {}
    for peer in [p for p in PEERS if p in by]:
        common = [p for p in problems if p in ours and p in by[peer]]
        if not common:
            continue
        pairs = {p: ({s: v["regret"][fraction_index] for s, v in ours[p].items()},
                     {s: v["regret"][fraction_index] for s, v in by[peer][p].items()},
                     get_mo_problem(p).info["regret_floor"]) for p in common}
        cells = {p: compare(*pairs[p]) for p in common}
        cells["overall"] = compare_overall(pairs)
        out[peer] = cells
    return out


def front_mismatches(result: Dict[str, Any]) -> List[str]:
    """Runs whose ``opt.incumbents`` (what smacish reports as its front) differ from the
    non-dominated set of the costs it was told at the highest budget that has results."""
    out = []
    for batch in result["batches"].values():
        for r in batch.get("runs", []):
            reported = r.get("record", {}).get("reported")
            if reported is None:
                continue
            rows = np.asarray(r["record"]["rows"], dtype=float).reshape(-1, 6)
            top = rows[:, 2].max()
            expected = {tuple(np.round(p, 9)) for p in non_dominated(rows[rows[:, 2] == top][:, 4:6])}
            got = {tuple(np.round(c, 9)) for c in reported["costs"]}
            budgets = set(reported["budgets"])
            if got != expected or budgets - {top}:
                out.append(f"{r['variant']} {r['problem']} seed {r['seed']}: reported {len(got)} points at budgets "
                           f"{sorted(budgets)}, expected the {len(expected)} non-dominated ones at budget {top:g} "
                           f"({len(got - expected)} extra, {len(expected - got)} missing)")
    return out


# ---------------------------------------------------------------------------------------------
# tables and the docs section
# ---------------------------------------------------------------------------------------------
def _md(rows: List[List[str]]) -> str:
    return "\n".join("| " + " | ".join(r) + " |" for r in [rows[0], ["---"] * len(rows[0])] + rows[1:]) + "\n"


def _median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else math.nan


def regret_table(by: Dict[str, Any], problem: str) -> str:
    """Median hypervolume regret at each fraction of the budget, per variant, and the median
    number of evaluations at the highest budget."""
    units_head = [f"{f:.0%}" for f in FRACTIONS]
    rows = [["library"] + [f"HV regret at {u}" for u in units_head] + ["evaluations at budget 27", "seeds"]]
    for variant in [OURS] + PEERS + REFERENCES:
        runs = by.get(variant, {}).get(problem)
        if not runs:
            continue
        med = [_median([v["regret"][k] for v in runs.values()]) for k in range(len(FRACTIONS))]
        label = f"**{LABELS[variant]}**" if variant == OURS else LABELS[variant]
        rows.append([label] + [f"{m:.4f}" for m in med]
                    + [f"{_median([v['top'] for v in runs.values()]):.0f}", str(len(runs))])
    return _md(rows)


def headline_table(by: Dict[str, Any], problems: Sequence[str]) -> str:
    comps = comparisons(by, problems)
    if not comps:
        return "No result of smacish's default and a peer on the same problems yet.\n"
    rows = [["smacish / peer, final HV regret"] + ["**overall**"] + list(problems)]
    for peer, cells in comps.items():
        rows.append([LABELS[peer]] + [fmt_comparison(cells[k]) if k in cells else "—" for k in ["overall", *problems]])
    return _md(rows)


def _verdict(comps: Dict[str, Dict[str, Comparison]]) -> str:
    parts = []
    for peer, cells in comps.items():
        c = cells["overall"]
        if c.significant:
            word = "lower (better)" if c.ratio < 1 else "higher (worse)"
            parts.append(f"smacish's final regret is {word} than {LABELS[peer]}'s ({c.ratio:.2f}x, p = {c.p:.2g})")
        else:
            parts.append(f"no significant difference from {LABELS[peer]} ({c.ratio:.2f}x, p = {c.p:.2g})")
    losses = [f"{LABELS[peer]} on {prob}" for peer, cells in comps.items() for prob, c in cells.items()
              if prob != "overall" and c.ratio > 1 and c.significant]
    return ("Plainly: " + "; ".join(parts) + ". Where a peer is significantly better (p < 0.05): "
            + (", ".join(losses) if losses else "nowhere") + ".\n")


def table(result: Dict[str, Any]) -> str:
    """Everything the section reports, as markdown."""
    s = result["settings"]
    by = outcomes(result)
    out = []
    for problem in s["problems"]:
        p = get_mo_problem(problem)
        out.append(f"**{problem}** (true front's hypervolume {p.true_hypervolume():.4f} at reference point "
                   f"{p.reference}):\n")
        out.append(regret_table(by, problem))
    out.append(f"Final hypervolume regret, smacish's default against each peer, paired by seed ({len(s['seeds'])} seeds "
               f"x {len(s['problems'])} problems; geometric mean of the ratios [bootstrap 95 %], Wilcoxon p, "
               "smacish wins/losses; regrets floored at 1e-4):\n")
    out.append(headline_table(by, s["problems"]))
    comps = comparisons(by, s["problems"])
    if comps:
        out.append(_verdict(comps))
    mismatches = front_mismatches(result)
    if any(r.get("record", {}).get("reported") for b in result["batches"].values() for r in b.get("runs", [])):
        out.append("smacish's `opt.incumbents` was checked against the recorded evaluations in every run: "
                   + ("it is the non-dominated set of the costs at the highest budget in all of them.\n" if not mismatches
                      else f"it differs in {len(mismatches)} runs, e.g. {mismatches[0]}.\n"))
    return "\n".join(out)


def section(result: Optional[Dict[str, Any]]) -> str:
    """docs/benchmarks.md's "Several objectives" section, from the stored held-out result."""
    out = [SECTION + "\n"]
    if not result:
        return "\n".join(out + ["Not measured yet: `python -m benchmarks.multiobjective`.\n"])
    s = result["settings"]
    seeds = s["seeds"]
    corr = {name: fidelity_correlation(get_mo_problem(name), near_front=True) for name in s["problems"]}
    out.append(
        f"`{result['command']}`: ZDT1 and ZDT2 (Zitzler, Deb, Thiele 2000) in 6 dimensions with a fidelity "
        "(budgets 1..27; a smooth distortion of both objectives that vanishes at 27, see `benchmarks/mo_problems.py`; "
        "rank correlation between budget 1 and 27 near the front: "
        + ", ".join(f"{n} f1 {c[0]:.2f}, f2 {c[1]:.2f}" for n, c in corr.items())
        + f"). Seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}, held out); each library gets {s['units']:g} full "
        "evaluations of budget and is charged the budget it asks for. A run's front is the non-dominated set of the "
        "true (budget-27) objective values of the configurations it evaluated at budget 27; its hypervolume regret is "
        "the true front's hypervolume minus that front's (reference point (1.1, 11): 10 % beyond the largest value of each objective); medians over seeds.\n")
    out.append(
        "How each library is set up: smacish `Optimizer(space, Hyperband(1, 27, eta=3), objectives=['f1', 'f2'])` "
        "with its default selector; Optuna `create_study(directions=['minimize'] * 2)` with its default sampler "
        "(`TPESampler`, MOTPE on several objectives) and with `NSGAIISampler` (population 50), every trial at budget 27 "
        "(Optuna cannot prune a multi-objective study); SMAC3's `MultiFidelityFacade` with "
        "`Scenario(objectives=[...], n_trials=` the evaluations Hyperband's budget buys`)`, with ParEGO (its "
        "multi-objective example) and with the facade's default mean aggregation, both with "
        "`incumbent_selection='highest_budget'` (with the default, SMAC3 2.4.1 fails an assertion in `update_incumbents` "
        "during a multi-fidelity, multi-objective run: SMAC3 issue #1050, the maintainers' workaround). "
        "NSGA-II's first generation is its population, drawn at random: with 50 evaluations it never breeds one. "
        "Random search at budget 27 and smacish with random configurations are there for scale.\n")
    from benchmarks import report

    if (report.IMG / PLOT).exists():
        out.append(f"![hypervolume regret against budget](img/{PLOT})\n")
    out.append(table(result))
    return "\n".join(out)


PLOT = "bench-multiobjective.png"
GRID_POINTS = 101


def plot(result: Dict[str, Any]) -> Path:
    """Median hypervolume regret against budget spent, one line per library (quartile band),
    one panel per problem; saved as docs/img/bench-multiobjective.png."""
    from benchmarks import report

    plt = report._plt()
    s = result["settings"]
    grid = np.linspace(0.0, float(s["units"]), GRID_POINTS)
    curves: Dict[str, Dict[str, List[List[float]]]] = {}
    for batch in result["batches"].values():
        for r in batch.get("runs", []):
            if "record" in r:
                curves.setdefault(r["problem"], {}).setdefault(r["variant"], []).append(
                    regret_at(get_mo_problem(r["problem"]), r["record"], grid))
    problems = [p for p in s["problems"] if p in curves]
    fig, axes = plt.subplots(1, len(problems), figsize=(5.0 * len(problems), 3.8), squeeze=False)
    colours = dict(zip([OURS] + PEERS + REFERENCES, plt.get_cmap("tab10").colors))
    for ax, problem in zip(axes.flat, problems):
        for variant in [v for v in [OURS] + PEERS + REFERENCES if v in curves[problem]]:
            q = np.quantile(np.asarray(curves[problem][variant]), [0.25, 0.5, 0.75], axis=0)
            ax.plot(grid, q[1], label=LABELS[variant], color=colours[variant], lw=2.2 if variant == OURS else 1.2,
                    drawstyle="steps-post", ls=":" if variant in REFERENCES else "-")
            ax.fill_between(grid, q[0], q[2], color=colours[variant], alpha=0.1, step="post")
        ax.set_yscale("log")
        ax.set_title(f"{problem} ({len(s['seeds'])} seeds)", fontsize=10)
        ax.set_xlabel("budget spent (evaluations at budget 27)", fontsize=8)
        ax.set_ylabel("hypervolume regret", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    report.IMG.mkdir(parents=True, exist_ok=True)
    path = report.IMG / PLOT
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_section(text: str, path: Optional[Path] = None) -> Path:
    """Put ``text`` into docs/benchmarks.md in place of its "Several objectives" section (or
    before "## Other headline ratios" when it has none), leaving every other section as it is."""
    from benchmarks import report

    path = path or report.DOCS / "benchmarks.md"
    lines = path.read_text().splitlines(keepends=True) if path.exists() else []
    start = next((i for i, l in enumerate(lines) if l.rstrip() == SECTION), None)
    if start is None:
        start = end = next((i for i, l in enumerate(lines) if l.startswith("## Other headline ratios")), len(lines))
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    body = text if text.endswith("\n") else text + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines[:start]) + body + "\n" + "".join(lines[end:]))
    return path


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="the first N seeds of the block")
    parser.add_argument("--dev", action="store_true", help="development seeds (stored apart, never reported)")
    parser.add_argument("--problems", nargs="*", default=list(MO_PROBLEMS))
    parser.add_argument("--units", type=float, default=UNITS, help="budget per run, in full evaluations")
    parser.add_argument("--adapters", default=None, help="comma-separated: " + ", ".join(BATCHES))
    parser.add_argument("--table", action="store_true", help="print the stored result, run nothing")
    parser.add_argument("--docs", action="store_true", help="rewrite docs/benchmarks.md's section from the stored result")
    args = parser.parse_args(argv)
    name = NAME + ("-dev" if args.dev else "")
    if args.docs:
        result = load(NAME)
        if result is not None:
            print(f"wrote {plot(result)}")
        print(f"wrote {write_section(section(result))}")
        return 0
    if args.table:
        result = load(name)
        if result is None:
            parser.error(f"no stored result {name}; run python -m benchmarks.multiobjective first")
    else:
        for p in args.problems:
            get_mo_problem(p)
        seeds = list((DEV_SEEDS if args.dev else HELDOUT_SEEDS)[: args.seeds])
        adapters = args.adapters.split(",") if args.adapters else None
        command = " ".join(["python -m benchmarks.multiobjective"] + list(argv if argv is not None else sys.argv[1:]))
        result = run(seeds, args.problems, args.units, adapters, name=name, command=command)
    print(table(result))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
