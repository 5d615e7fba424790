"""Continued training with asynchronous promotions: ``Hyperband(asynchronous=True)`` (ASHA) with
a target that continues from its checkpoint, next to the runs of :mod:`benchmarks.continued_training`.

    python -m benchmarks.continued_training --part synthetic     # first: the stored result
    python -m benchmarks.continued_async                         # then this, on the same seeds

The synchronous scheduler's rounds fix how many evaluations reach the top budget, so continuing
only makes promotions cheaper; Optuna's pruner promotes asynchronously and so gets more of them.
This measures smacish with both (``smacish-rf-async-continued``: the same selector, problems,
seeds and total budget, charged the increment) against the stored ``optuna-tpe-hb`` and
``smacish-rf-continued`` runs, paired by seed. It is an option users choose, not the default.
"""

from __future__ import annotations

import argparse
from typing import Any, Dict, List, Optional

from benchmarks.continued_training import CONTINUED, NAME, OPTUNA, SEEDS, _markdown, _median, _ratio, outcomes, paired
from benchmarks.runner import load, run_batch, save

ASYNC = "smacish-rf-async-continued"
LABELS = {ASYNC: "smacish ASHA continued", CONTINUED: "smacish continued", OPTUNA: "optuna-tpe-hb"}


def run(base: Dict[str, Any], jobs_name: str = NAME + "-async") -> Dict[str, Any]:
    """The ASHA batch on the stored result's synthetic problems, seeds and budget; saved."""
    settings = base["settings"]
    spec = {"task": "quality", "problems": settings["problems"], "seeds": list(SEEDS[: settings["seeds"]]),
            "budget_units": settings["units"], "variants": [ASYNC]}
    batch = run_batch("smacish", spec, timeout=3 * 3600)
    batch["part"] = "synthetic"
    result = {"settings": settings, "batches": [batch], "command": "python -m benchmarks.continued_async"}
    save(jobs_name, result)
    return result


def table(base: Dict[str, Any], extra: Dict[str, Any]) -> str:
    """Top-budget evaluations per budget and final regret of ASHA continued, with its ratios."""
    by = outcomes({**base, "batches": base["batches"] + extra["batches"]}, "synthetic")
    methods = [ASYNC, CONTINUED, OPTUNA]
    problems = ["overall"] + [p for p in base["settings"]["problems"] if p in by.get(ASYNC, {})]
    rows: List[List[str]] = [["problem"] + [f"top-budget evals: {LABELS[m]}" for m in methods]
                             + ["ASHA / optuna (top)", "ASHA vs optuna (regret)", "ASHA vs continued (regret)"]]
    top_vs = paired(by, ASYNC, OPTUNA, "top_per_budget", floor=1.0)
    reg_vs_optuna = paired(by, ASYNC, OPTUNA, "final")
    reg_vs_sync = paired(by, ASYNC, CONTINUED, "final")
    for p in problems:
        key = None if p == "overall" else p
        rows.append([f"**{p}**" if key is None else p]
                    + [f"{_median(by, m, key, 'top_per_budget'):.1f}" for m in methods]
                    + [_ratio(top_vs.get(p)), _ratio(reg_vs_optuna.get(p)), _ratio(reg_vs_sync.get(p))])
    n = len(next(iter(by.get(ASYNC, {}).values()), {}))
    return (f"Asynchronous promotions with continued training ({n} seeds, "
            f"`python -m benchmarks.continued_async`; top-budget evaluations per "
            f"{base['settings']['units']:g} full evaluations, medians; ratios: geometric mean of the "
            "paired ratios, Wilcoxon p; regret below 1: ASHA continued is better):\n\n" + _markdown(rows) + "\n")


def section(base: Optional[Dict[str, Any]], extra: Optional[Dict[str, Any]]) -> str:
    """The "Asynchronous promotions" part of docs/benchmarks.md's continued-training section."""
    out = ["### Asynchronous promotions, continued\n"]
    if not base or not extra:
        return "\n".join(out + ["Not measured yet: `python -m benchmarks.continued_async`.\n"])
    by = outcomes({**base, "batches": base["batches"] + extra["batches"]}, "synthetic")
    top = paired(by, ASYNC, OPTUNA, "top_per_budget", floor=1.0).get("overall")
    regret = paired(by, ASYNC, OPTUNA, "final").get("overall")
    out.append("Continuing and promoting asynchronously (`Hyperband(asynchronous=True)`, an option, not the default) "
               "together, on the synthetic problems above (same seeds and budget).\n")
    out.append(table(base, extra))
    more = "more" if top is not None and top.ratio > 1 else "fewer"
    lower = "lower" if regret is not None and regret.ratio < 1 else "higher"
    out.append(f"Plainly: with both, smacish runs {more} top-budget evaluations than Optuna ({_ratio(top)}), and "
               f"its final regret is {lower} ({_ratio(regret)}). Optuna also promotes the best trial of a rung while "
               "fewer than eta have reached it; ASHA waits for eta results before its first promotion.\n")
    return "\n".join(out)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the stored results' table, run nothing")
    args = parser.parse_args(argv)
    base = load(NAME)
    extra = load(NAME + "-async") if args.table else run(base)
    print(table(base, extra))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
