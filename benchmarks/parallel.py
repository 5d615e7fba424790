"""Measurement 3, parallel efficiency: utilisation (busy worker-seconds / (workers x makespan))
and time-to-target, with 8 and 32 workers.

- the simulated clock (8 and 32 workers): each trial takes ``budget x unit`` virtual seconds
  times a mean-one lognormal straggler factor drawn from the trial itself, identical for every
  library. smacish runs on :func:`smacish.runners.run_simulated`; the ask/tell peers (DEHB,
  SMAC3, Optuna) on the same virtual clock (:func:`benchmarks.simclock.simulate`).
  HpBandSter cannot run on a virtual clock (it owns its threads), so its Master's policy is
  emulated with smacish's parts (``smacish-random@hpbandster-policy``), next to fully
  synchronous successive halving (``smacish-random@1-instance``).
- real Dask (8 workers, 127.0.0.1): targets that sleep for their duration; smacish's Dask
  runner, HpBandSter with 8 worker threads, DEHB's own Dask mode.
"""

from __future__ import annotations

import math
import time
from typing import Any, Dict, List

import numpy as np

from benchmarks.problems import get_problem
from benchmarks.record import time_to_target as record_time_to_target
from benchmarks.quality import _command
from benchmarks.runner import run_batch, save

# the incumbent regret each run should reach ("time-to-target")
TARGETS = {"branin-hi": 0.05, "branin-lo": 0.05, "hartmann3-hi": 0.05, "hartmann6-hi": 0.3}

SIM_ADAPTERS = {"smacish": None, "dehb": ["dehb"], "smac": ["smac-hb"], "optuna": ["optuna-random-hb"]}
REAL_ADAPTERS = {"smacish": None, "hpbandster": ["hpbandster-hb"], "dehb": ["dehb"]}

SETTINGS: Dict[str, Dict[str, Any]] = {
    "smoke": {"sim_workers": [4], "sim_seeds": [0], "sim_rounds": 3, "real_workers": [], "real_seeds": [],
              "problems": ["branin-hi"], "real_units": 0, "real_unit": 0.1, "sim_adapters": {"smacish": None},
              "real_adapters": {}, "timeout": 120},
    "quick": {"sim_workers": [8, 32], "sim_seeds": [0, 1, 2], "sim_rounds": 4, "real_workers": [8],
              "real_seeds": [0], "real_units": 12, "real_unit": 0.1, "problems": ["branin-hi"],
              "sim_adapters": SIM_ADAPTERS, "real_adapters": REAL_ADAPTERS, "timeout": 240},
    "full": {"sim_workers": [8, 32], "sim_seeds": list(range(10)), "sim_rounds": 12, "real_workers": [8],
             "real_seeds": [0, 1, 2], "real_units": 24, "real_unit": 0.1, "problems": ["branin-hi", "hartmann6-hi"],
             "sim_adapters": dict(SIM_ADAPTERS, optuna=["optuna-random-hb", "optuna-tpe-hb"]),
             "real_adapters": dict(REAL_ADAPTERS, hpbandster=["hpbandster-hb", "hpbandster-bohb"]),
             "timeout": 3600},
}
SIM_DURATION = {"unit": 1.0, "startup": 0.0, "straggler_sd": 0.3}  # virtual seconds
REAL_DURATION = {"unit": 0.2, "startup": 0.0, "straggler_sd": 0.3}  # real seconds of sleep


def run(variant: str = "quick", log: Any = None) -> Dict[str, Any]:
    cfg = SETTINGS[variant]
    started = time.perf_counter()
    batches: List[Dict[str, Any]] = []
    real_duration = dict(REAL_DURATION, unit=cfg["real_unit"])
    for n in cfg["sim_workers"]:
        # a budget of `sim_rounds` full-fidelity evaluations per worker
        spec = {"task": "simulate", "problems": cfg["problems"], "seeds": cfg["sim_seeds"], "n_workers": n,
                "budget_units": cfg["sim_rounds"] * n, "duration": SIM_DURATION}
        for adapter, variants in cfg["sim_adapters"].items():
            batches.append(_batch("simulated", n, adapter, dict(spec, variants=variants), cfg["timeout"], log))
    for n in cfg["real_workers"]:
        spec = {"task": "dask", "problems": cfg["problems"], "seeds": cfg["real_seeds"], "n_workers": n,
                "budget_units": cfg["real_units"], "duration": real_duration}
        for adapter, variants in cfg["real_adapters"].items():
            batches.append(_batch("real Dask", n, adapter, dict(spec, variants=variants), cfg["timeout"], log))
    result = {"variant": variant, "settings": cfg, "durations": {"simulated": SIM_DURATION, "real": real_duration},
              "targets": TARGETS, "command": _command(variant, "parallel"), "batches": batches,
              "summary": summarise(batches)}
    result["seconds"] = time.perf_counter() - started
    save(f"parallel-{variant}", result)
    return result


def _batch(mode: str, n: int, adapter: str, spec: Dict[str, Any], timeout: float, log: Any) -> Dict[str, Any]:
    t0 = time.perf_counter()
    print(f"  parallel ({mode}, {n} workers): {adapter} ...", end=" ", flush=True)
    batch = run_batch(adapter, spec, timeout=timeout, log=log)
    batch.update(mode=mode, n_workers=n)
    errors = [r for r in batch.get("runs", []) if "error" in r]
    note = batch.get("skipped") or (f"{len(errors)} failed" if errors else "")
    print(f"{time.perf_counter() - t0:.0f} s {note}", flush=True)
    return batch


def time_to_target(problem_name: str, record: Dict[str, Any]) -> float:
    """Seconds (virtual or real) until the incumbent's regret is <= the problem's target."""
    target = TARGETS.get(problem_name)
    if target is None or not record["rows"]:
        return math.nan
    return record_time_to_target(get_problem(problem_name), record, target)


def summarise(batches: List[Dict[str, Any]]) -> Dict[str, Any]:
    groups: Dict[str, Dict[str, Any]] = {}
    for b in batches:
        for r in b.get("runs", []):
            if "record" not in r:
                continue
            key = f"{b['mode']}|{b['n_workers']}|{r['problem']}"
            g = groups.setdefault(key, {"mode": b["mode"], "n_workers": b["n_workers"], "problem": r["problem"],
                                        "variants": {}})
            rec = r["record"]
            v = g["variants"].setdefault(r["variant"], {"util": [], "steady": [], "gap": [], "makespan": [],
                                                        "ttt": [], "evals": [], "spent": []})
            v["util"].append(rec["utilisation"])
            v["steady"].append(rec.get("utilisation_steady", math.nan))
            v["gap"].append(rec.get("worker_gap_median", math.nan))
            v["makespan"].append(rec["makespan"])
            v["ttt"].append(time_to_target(r["problem"], rec))
            v["evals"].append(len(rec["rows"]))
            v["spent"].append(sum(row[3] for row in rec["rows"]) / get_problem(r["problem"]).max_budget)
            if "dask_roundtrip" in rec:
                g.setdefault("dask_roundtrip", []).append(rec["dask_roundtrip"])
    for g in groups.values():
        for v in g["variants"].values():
            ttt = np.array(v["ttt"], dtype=float)
            v["util_median"] = float(np.median(v["util"]))
            v["steady_median"] = float(np.median(v["steady"]))
            v["gap_median"] = float(np.median(v["gap"]))
            v["makespan_median"] = float(np.median(v["makespan"]))
            v["ttt_median"] = float(np.quantile(ttt, 0.5, method="inverted_cdf")) if len(ttt) else math.nan
            v["ttt_reached"] = int(np.isfinite(ttt).sum())
            v["n"] = len(ttt)
    return {"groups": groups}


PEER_LABELS = {
    "smacish-random": "smacish (ParallelScheduler)",
    "smacish-random@1-instance": "synchronous SH, one instance (smacish restricted)",
    "smacish-random@hpbandster-policy": "HpBandSter's Master policy (emulated with smacish parts)",
}


def label(variant: str, mode: str) -> str:
    base = PEER_LABELS.get(variant, variant)
    if mode == "simulated" and not variant.startswith("smacish"):
        base += " (ask/tell on the virtual clock)"
    if mode == "real Dask" and variant == "dehb":
        base += " (its Dask mode)"
    if mode == "real Dask" and variant.startswith("hpbandster"):
        base += " (8 worker threads, Pyro4)"
    return base


def table(summary: Dict[str, Any]) -> List[List[str]]:
    rows = [["setting", "scheduler", "utilisation", "utilisation before the drain", "idle gap between trials",
             "makespan", "time-to-target (reached)", "evaluations", "budget spent (units)"]]
    for key, g in summary["groups"].items():
        unit = "s" if g["mode"] == "real Dask" else "virtual s"
        order = sorted(g["variants"], key=lambda v: (not v.startswith("smacish"), v))
        for v in order:
            d = g["variants"][v]
            ttt = d["ttt_median"]
            ttt_s = "not reached" if not math.isfinite(ttt) else f"{ttt:.1f} {unit}"
            rows.append([
                f"{g['mode']}, {g['n_workers']} workers, {g['problem']} (target regret {TARGETS.get(g['problem'])})",
                label(v, g["mode"]), f"{d['util_median']:.3f}", f"{d['steady_median']:.3f}",
                f"{d['gap_median'] * 1e3:.0f} ms" if g["mode"] == "real Dask" else f"{d['gap_median']:.2f} {unit}",
                f"{d['makespan_median']:.1f} {unit}",
                f"{ttt_s} ({d['ttt_reached']}/{d['n']})", f"{np.median(d['evals']):.0f}", f"{np.median(d['spent']):.1f}",
            ])
    return rows


def headline(summary: Dict[str, Any], n_workers: int = 32) -> Dict[str, Any]:
    """smacish's median utilisation at ``n_workers`` (simulated) against the best other scheduler."""
    for g in summary["groups"].values():
        if g["mode"] != "simulated" or g["n_workers"] != n_workers or "smacish-random" not in g["variants"]:
            continue
        ours = g["variants"]["smacish-random"]["util_median"]
        others = {v: d["util_median"] for v, d in g["variants"].items() if v != "smacish-random"}
        peers = {v: u for v, u in others.items() if not v.startswith("smacish")}
        out: Dict[str, Any] = {"problem": g["problem"], "smacish": ours, "others": others,
                               "smacish_steady": g["variants"]["smacish-random"]["steady_median"],
                               "steady": {v: d["steady_median"] for v, d in g["variants"].items()}}
        if peers:
            best = max(peers, key=peers.get)
            out.update(best_peer=best, best_peer_util=peers[best], ratio=ours / peers[best])
        if "smacish-random@1-instance" in others:
            out["ratio_vs_synchronous"] = ours / others["smacish-random@1-instance"]
        if "smacish-random@hpbandster-policy" in others:
            out["ratio_vs_hpbandster_policy"] = ours / others["smacish-random@hpbandster-policy"]
        return out
    return {}
