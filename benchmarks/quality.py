"""Measurement 1, anytime quality: regret (synthetic problems) or validation error (scikit-learn
tasks) of the incumbent against budget spent and against wall time, for every library.

Every library runs on the same problems with the same total budget (in units of one
full-fidelity evaluation), once per seed; the incumbent is chosen by one rule for all (see
:mod:`benchmarks.record`). Quartiles over seeds.
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

import numpy as np

from benchmarks.problems import PROBLEMS, get_problem
from benchmarks.record import quartiles, run_curves, value_at
from benchmarks.runner import adapter_names, keep_other_batches, run_batch, save

SETTINGS: Dict[str, Dict[str, Any]] = {
    "smoke": {"seeds": [0, 1], "problems": ["branin-hi"], "units": {"synthetic": 2, "ml": 1},
              "adapters": ["smacish"], "variants": ["smacish-random"], "timeout": 120},
    # quick: two batches at a time (one per core); its wall-time curves are a little noisier
    "quick": {"seeds": [0, 1, 2], "problems": list(PROBLEMS), "units": {"synthetic": 8, "ml": 4},
              "adapters": None, "timeout": 150, "jobs": 2},
    # full: ten seeds, three times the quick budget; about an hour on 2 cores
    "full": {"seeds": list(range(10)), "problems": list(PROBLEMS), "units": {"synthetic": 24, "ml": 8},
             "adapters": None, "timeout": 3 * 3600, "jobs": 2},
}
GRID_POINTS = 40
SLOW = ("smac", "hpbandster", "dehb")  # model fitting (SMAC3's forest, BOHB's KDE), DEHB's start-up


def run(variant: str = "quick", adapters: Optional[List[str]] = None, log: Any = None) -> Dict[str, Any]:
    cfg = SETTINGS[variant]
    started = time.perf_counter()
    problems = cfg["problems"]
    units = {p: cfg["units"][get_problem(p).kind] for p in problems}
    spec = {"task": "quality", "problems": problems, "seeds": cfg["seeds"], "budget_units": units,
            "variants": cfg.get("variants")}
    names = adapter_names(adapters or cfg["adapters"])
    names.sort(key=lambda a: a not in SLOW)  # the slow ones first, so two jobs end together

    def one(adapter: str) -> Dict[str, Any]:
        t0 = time.perf_counter()
        batch = run_batch(adapter, spec, timeout=cfg["timeout"], log=log)
        n_ok = sum("record" in r for r in batch.get("runs", []))
        note = batch.get("skipped") or ("stopped at its deadline" if batch.get("timed_out") else "")
        print(f"  quality: {adapter}: {n_ok} runs in {time.perf_counter() - t0:.0f} s {note}", flush=True)
        return batch

    with ThreadPoolExecutor(max_workers=cfg.get("jobs", 1)) as pool:
        batches = dict(zip(names, pool.map(one, names)))
    batches, command = keep_other_batches(f"quality-{variant}", dict(cfg, units=units), batches,
                                          _command(variant, "quality"), rerun=bool(adapters))
    result = {"variant": variant, "settings": dict(cfg, units=units), "command": command,
              "batches": batches, "summary": summarise(batches, units, len(cfg["seeds"]))}
    result["seconds"] = time.perf_counter() - started
    save(f"quality-{variant}", result)
    return result


def _command(variant: str, measurement: str = "quality") -> str:
    """The command that produced a result: the running command line, or (when called from
    Python, e.g. a test) the command that does the same."""
    from benchmarks.runner import command

    cmd = command()
    if cmd != "python -m benchmarks":
        return cmd
    return f"python -m benchmarks {variant}" if variant in ("quick", "full") else \
        f"python -m benchmarks {measurement} --variant {variant}"


def summarise(batches: Dict[str, Dict[str, Any]], units: Dict[str, float], n_seeds: int) -> Dict[str, Any]:
    """Per problem and library variant: quartiles of the incumbent's regret on a budget grid and
    on a wall-time grid, and summary numbers of the final state."""
    runs: Dict[tuple, List[Dict[str, Any]]] = {}
    versions = {}
    for adapter, batch in batches.items():
        versions[adapter] = batch.get("versions", {})
        for r in batch.get("runs", []):
            if "record" in r:
                runs.setdefault((r["problem"], r["variant"]), []).append(r)
    out: Dict[str, Any] = {"problems": {}, "versions": versions}
    for problem_name, total in units.items():
        problem = get_problem(problem_name)
        grid = np.linspace(total / GRID_POINTS, total, GRID_POINTS)
        curves = {v: [run_curves(problem, r["record"]) for r in rs] for (p, v), rs in runs.items() if p == problem_name}
        walls = [c["wall"][-1] for cs in curves.values() for c in cs if len(c["wall"])]
        wgrid = np.geomspace(1e-3, max(walls) if walls else 1.0, GRID_POINTS)
        entry: Dict[str, Any] = {"metric": problem.metric, "units": total, "grid": grid, "wall_grid": wgrid,
                                 "variants": {}}
        for variant, cs in sorted(curves.items()):
            by_budget = np.array([value_at(grid, c["spent"], c["regret"]) for c in cs])
            by_wall = np.array([value_at(wgrid, c["wall"], c["regret"]) for c in cs])
            final = np.array([c["regret"][-1] if len(c["regret"]) else np.inf for c in cs])
            wall = np.array([c["wall"][-1] if len(c["wall"]) else np.nan for c in cs])
            entry["variants"][variant] = {
                "n_seeds": len(cs),
                "budget_q": quartiles(by_budget, axis=0),
                "wall_q": quartiles(by_wall, axis=0),
                "final_q": quartiles(final),
                "quarter_q": quartiles(by_budget[:, GRID_POINTS // 4 - 1]),
                "wall_median": float(np.median(wall)),
                "evals_median": float(np.median([len(c["spent"]) for c in cs])),
            }
        out["problems"][problem_name] = entry
    return out


def fmt(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    if v == 0:
        return "0"
    if abs(v) >= 100 or abs(v) < 1e-3:
        return f"{v:.2e}"
    return f"{v:.3g}"


def is_smacish(variant: str) -> bool:
    return variant.startswith("smacish")


def final_table(summary: Dict[str, Any], key: str = "final_q") -> List[List[str]]:
    """Rows: problems; columns: variants; cells: median [q25, q75]; the best median in bold;
    the last column: best smacish median / best peer median (< 1: smacish ahead)."""
    variants = sorted({v for e in summary["problems"].values() for v in e["variants"]},
                      key=lambda v: (not is_smacish(v), v))
    rows = [["problem (metric)"] + variants + ["smacish / best peer"]]
    for name, e in summary["problems"].items():
        meds = {v: e["variants"][v][key][1] for v in variants if v in e["variants"]}
        best = min(meds.values()) if meds else math.inf
        row = [f"{name} ({e['metric']})"]
        for v in variants:
            if v not in e["variants"]:
                row.append("not run")
                continue
            q = e["variants"][v][key]
            cell = f"{fmt(q[1])} [{fmt(q[0])}, {fmt(q[2])}]"
            if e["variants"][v]["n_seeds"] < max(x["n_seeds"] for x in e["variants"].values()):
                cell += f" ({e['variants'][v]['n_seeds']} seeds)"
            row.append(f"**{cell}**" if meds[v] == best else cell)
        row.append(fmt_ratio(ratio_vs_peers(meds)))
        rows.append(row)
    return rows


def ratio_vs_peers(meds: Dict[str, float]) -> float:
    ours = [m for v, m in meds.items() if is_smacish(v)]
    peers = [m for v, m in meds.items() if not is_smacish(v)]
    if not ours or not peers:
        return math.nan
    a, b = min(ours), min(peers)
    if b == 0:
        return math.inf if a > 0 else 1.0
    return a / b


def fmt_ratio(r: float) -> str:
    if math.isnan(r):
        return "n/a"
    return f"{r:.2f}x" + (" (smacish ahead)" if r < 1 else " (peer ahead)" if r > 1 else " (tie)")


def headline(summary: Dict[str, Any]) -> Dict[str, Any]:
    """Geometric mean over problems of (best smacish final median / best peer final median)."""
    ratios = {}
    for name, e in summary["problems"].items():
        meds = {v: d["final_q"][1] for v, d in e["variants"].items()}
        r = ratio_vs_peers(meds)
        if math.isfinite(r) and r > 0:
            ratios[name] = r
    gm = float(np.exp(np.mean(np.log(list(ratios.values()))))) if ratios else math.nan
    return {"per_problem": ratios, "geometric_mean": gm,
            "smacish_ahead_on": sum(r < 1 for r in ratios.values()), "n_problems": len(ratios)}


def print_table(rows: List[List[str]], out: Any = sys.stdout) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for k, r in enumerate(rows):
        out.write("  ".join(c.replace("**", "").ljust(w) for c, w in zip(r, widths)) + "\n")
        if k == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")
