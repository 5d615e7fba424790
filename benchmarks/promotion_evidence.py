"""Where Optuna's extra top-budget evaluations come from (issue 17): each method on a problem
of pure noise, where no result says anything about a configuration, at the budget of
:mod:`benchmarks.continued_training` (21 full evaluations, every method charged what it trains:
the increment for a trial that continues).

    python -m benchmarks.promotion_evidence            # 20 seeds, about 2 minutes
    python -m benchmarks.promotion_evidence --table    # print the stored result

On noise a promotion rule spends what its structure makes it spend. Successive halving promotes
the best ``1/eta`` of a full stage; smacish's asynchronous rule the best ``floor(n/eta)`` of the
``n`` results a rung has; Optuna's ``HyperbandPruner`` (ASHA per bracket) also lets a trial go on
while its rung has fewer than ``eta`` results if it is the best of them, so the first trial of
every rung of every bracket reaches the top budget. If Optuna still runs more top-budget
evaluations here than smacish, its lead in top-budget evaluations on the real problems is that
rule, not evidence.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any, Dict, List, Optional

from benchmarks.continued_async import ASYNC
from benchmarks.continued_training import CONTINUED, OPTUNA, SCRATCH, SEEDS, outcomes
from benchmarks.runner import load, run_batch, save

NAME = "promotion-evidence"
OPTUNA_RANDOM = "optuna-random-hb"
METHODS = [SCRATCH, CONTINUED, ASYNC, OPTUNA, OPTUNA_RANDOM]


def run(seeds: int, units: float) -> Dict[str, Any]:
    spec = {"task": "quality", "problems": ["noise"], "seeds": list(SEEDS[:seeds]), "budget_units": units}
    result: Dict[str, Any] = {"settings": {"units": units, "seeds": seeds, "problems": ["noise"]}, "batches": [],
                              "command": "python -m benchmarks.promotion_evidence"}
    for adapter, variants in (("smacish", [SCRATCH, CONTINUED, ASYNC]), ("optuna", [OPTUNA, OPTUNA_RANDOM])):
        batch = run_batch(adapter, dict(spec, variants=variants), timeout=3600)
        batch["part"] = "synthetic"
        result["batches"].append(batch)
    save(NAME, result)
    return result


def table(result: Dict[str, Any]) -> str:
    """Median top-budget evaluations per budget and charged budget, per method."""
    by = outcomes(result, "synthetic")
    units = result["settings"]["units"]
    lines = [f"Top-budget evaluations on pure noise, per {units:g} full evaluations of charged budget "
             f"({result['settings']['seeds']} seeds, medians):", "",
             "| method | top-budget evaluations | per budget | charged, full evaluations |", "| --- | --- | --- | --- |"]
    for method in METHODS:
        runs = list(by.get(method, {}).get("noise", {}).values())
        if not runs:
            continue
        med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
        lines.append(f"| {method} | {med('top'):.1f} | {med('top_per_budget'):.1f} | {med('spent'):.1f} |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--units", type=float, default=21.0)
    parser.add_argument("--table", action="store_true", help="print the stored result, run nothing")
    args = parser.parse_args(argv)
    result = load(NAME) if args.table else run(args.seeds, args.units)
    if result is None:
        parser.error(f"no stored result {NAME}; run without --table first")
    print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
