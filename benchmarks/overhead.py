"""Measurement 2, optimiser overhead: seconds the optimiser itself takes per trial (ask + tell
and its bookkeeping: the gap between one evaluation's end and the next one's start), at 100,
1,000 and 10,000 trials, on a target that costs nothing (Branin).

For HpBandSter the gap includes its Pyro4 round trip to the in-process worker thread; for
Optuna a "trial" here is one evaluation (one rung of a pruned trial), as for everyone else.
A library that has not reached N trials within the time cap is reported as such.
"""

from __future__ import annotations

import math
import time
from typing import Any, Dict, List, Optional

import numpy as np

from benchmarks.record import optimiser_gaps
from benchmarks.quality import _command
from benchmarks.runner import adapter_names, keep_other_batches, run_batch, save

SETTINGS: Dict[str, Dict[str, Any]] = {
    "smoke": {"sizes": [20], "time_cap": 20, "adapters": ["smacish"], "variants": ["smacish-random"]},
    "quick": {"sizes": [100, 1000], "time_cap": 12, "adapters": None},
    # full: a library slower than 150 s for 10,000 trials shows how far it got (the table says so)
    "full": {"sizes": [100, 1000, 10000], "time_cap": 150, "adapters": None},
}
PROBLEM = "branin-hi"


def run(variant: str = "quick", adapters: Optional[List[str]] = None, log: Any = None) -> Dict[str, Any]:
    cfg = SETTINGS[variant]
    started = time.perf_counter()
    spec = {"task": "overhead", "problems": [PROBLEM], "seeds": [0], "n_trials": max(cfg["sizes"]),
            "time_cap": cfg["time_cap"], "variants": cfg.get("variants")}
    batches = {}
    for adapter in adapter_names(adapters or cfg["adapters"]):
        t0 = time.perf_counter()
        print(f"  overhead: {adapter} ...", end=" ", flush=True)
        batch = run_batch(adapter, spec, timeout=cfg["time_cap"] * 3 + 120, log=log)
        batches[adapter] = batch
        print(f"{time.perf_counter() - t0:.0f} s {batch.get('skipped') or ''}", flush=True)
    batches, command = keep_other_batches(f"overhead-{variant}", cfg, batches, _command(variant, "overhead"),
                                          rerun=bool(adapters))
    result = {"variant": variant, "settings": cfg, "batches": batches, "command": command,
              "summary": summarise(batches, cfg["sizes"])}
    result["seconds"] = time.perf_counter() - started
    save(f"overhead-{variant}", result)
    return result


def summarise(batches: Dict[str, Dict[str, Any]], sizes: List[int]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"sizes": sizes, "variants": {}}
    for batch in batches.values():
        for r in batch.get("runs", []):
            if "record" not in r:
                continue
            gaps = optimiser_gaps(r["record"]["rows"])
            cells = {}
            for n in sizes:
                g = gaps[:n]
                cells[str(n)] = {
                    "reached": int(len(g)) >= n, "n": int(len(g)),
                    "median": float(np.median(g)) if len(g) else math.nan,
                    "p95": float(np.quantile(g, 0.95)) if len(g) else math.nan,
                    "mean": float(np.mean(g)) if len(g) else math.nan,
                    # the marginal cost at this size: the last tenth of the first n trials
                    "tail_median": float(np.median(g[int(0.9 * len(g)):])) if len(g) else math.nan,
                }
            out["variants"][r["variant"]] = {"cells": cells, "total_trials": int(len(gaps)),
                                             "optimiser_seconds": float(gaps.sum())}
    return out


def fmt_s(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    if v < 1e-3:
        return f"{v * 1e6:.0f} µs"
    if v < 1:
        return f"{v * 1e3:.1f} ms"
    return f"{v:.2f} s"


def table(summary: Dict[str, Any]) -> List[List[str]]:
    sizes = summary["sizes"]
    rows = [["library"] + [f"{n} trials: median / p95 / mean (median of the last 10%)" for n in sizes]]
    order = sorted(summary["variants"], key=lambda v: (not v.startswith("smacish"), v))
    for v in order:
        row = [v]
        for n in sizes:
            c = summary["variants"][v]["cells"][str(n)]
            if c["n"] == 0:
                row.append("—")
                continue
            cell = f"{fmt_s(c['median'])} / {fmt_s(c['p95'])} / {fmt_s(c.get('mean', math.nan))} ({fmt_s(c['tail_median'])})"
            if not c["reached"]:
                cell += f" — capped at {c['n']} trials"
            row.append(cell)
        rows.append(row)
    return rows


def headline(summary: Dict[str, Any], exclude=("random-search",)) -> Dict[str, Any]:
    """smacish (default selector, ``smacish-random``) vs the fastest multi-fidelity peer, at the
    largest size both reached: ratio of median seconds per trial (< 1: smacish is cheaper)."""
    vs = summary["variants"]
    ours = "smacish-random" if "smacish-random" in vs else next((v for v in vs if v.startswith("smacish")), None)
    if ours is None:
        return {}
    best = None
    for n in reversed(summary["sizes"]):
        if not vs[ours]["cells"][str(n)]["reached"]:
            continue
        peers = {v: d["cells"][str(n)]["median"] for v, d in vs.items()
                 if not v.startswith("smacish") and v not in exclude and d["cells"][str(n)]["reached"]}
        if peers:
            peer = min(peers, key=peers.get)
            means = {v: d["cells"][str(n)].get("mean", math.nan) for v, d in vs.items()}
            best_mean = min((v for v in peers), key=lambda v: means[v])
            best = {"size": n, "smacish": ours, "smacish_median": vs[ours]["cells"][str(n)]["median"],
                    "peer": peer, "peer_median": peers[peer],
                    "ratio": vs[ours]["cells"][str(n)]["median"] / peers[peer],
                    "smacish_mean": means[ours], "peer_by_mean": best_mean, "peer_mean": means[best_mean],
                    "ratio_mean": means[ours] / means[best_mean]}
            break
    return best or {}
