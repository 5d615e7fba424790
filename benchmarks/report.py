"""docs/benchmarks.md and its plots (docs/img/), regenerated from benchmarks/results/*.json."""

from __future__ import annotations

import math
import os
import platform
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from benchmarks import (continued_async, continued_training, multiobjective, overhead, parallel, promotion_evidence,
                        quality)
from benchmarks.problems import PROBLEMS, fidelity_correlation, get_problem
from benchmarks.runner import ROOT, load

# SMACISH_BENCH_DOCS moves the report (the smoke test writes to a temporary directory)
DOCS = Path(os.environ.get("SMACISH_BENCH_DOCS", ROOT / "docs"))
IMG = DOCS / "img"


# ---------------------------------------------------------------------------------------------
# machine and versions
# ---------------------------------------------------------------------------------------------
def machine() -> Dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        ram = f"{kb / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    try:
        load1 = f"{os.getloadavg()[0]:.1f}"
    except OSError:
        load1 = "?"
    return {"cores": str(os.cpu_count()), "cpu": cpu, "ram": ram, "os": platform.platform(),
            "python": platform.python_version(), "load": load1}


def main_versions() -> Dict[str, str]:
    from importlib.metadata import version

    out = {}
    for name in ("smacish", "ConfigSpace", "numpy", "scipy", "scikit-learn", "dask", "distributed"):
        try:
            out[name] = version(name)
        except Exception:  # noqa: BLE001
            pass
    return out


def _md_table(rows: List[List[str]]) -> str:
    head = "| " + " | ".join(rows[0]) + " |\n|" + "|".join("---" for _ in rows[0]) + "|\n"
    return head + "".join("| " + " | ".join(r) + " |\n" for r in rows[1:])


# ---------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colours(variants: List[str]) -> Dict[str, Any]:
    plt = _plt()
    cmap = plt.get_cmap("tab20")
    return {v: cmap(i % 20) for i, v in enumerate(sorted(variants, key=lambda v: (not quality.is_smacish(v), v)))}


def plot_regret(summary: Dict[str, Any], variant: str, axis: str = "budget") -> Optional[str]:
    """Median and quartile band of the incumbent's regret per library, one panel per problem."""
    plt = _plt()
    problems = list(summary["problems"])
    if not problems:
        return None
    all_variants = sorted({v for e in summary["problems"].values() for v in e["variants"]})
    colours = _colours(all_variants)
    ncol = min(4, len(problems))
    nrow = math.ceil(len(problems) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow), squeeze=False)
    for ax, name in zip(axes.flat, problems):
        e = summary["problems"][name]
        x = np.asarray(e["grid"] if axis == "budget" else e["wall_grid"], dtype=float)
        key = "budget_q" if axis == "budget" else "wall_q"
        for v, d in sorted(e["variants"].items(), key=lambda kv: (not quality.is_smacish(kv[0]), kv[0])):
            q = np.asarray(d[key], dtype=float)
            q = np.where(np.isfinite(q), q, np.nan)
            lw = 2.2 if quality.is_smacish(v) else 1.2
            ax.plot(x, q[1], label=v, color=colours[v], lw=lw, drawstyle="steps-post")
            ax.fill_between(x, q[0], q[2], color=colours[v], alpha=0.12, step="post")
        ax.set_title(name, fontsize=10)
        if e["metric"] == "regret":
            ax.set_yscale("log")
        if axis == "wall":
            ax.set_xscale("log")
        ax.set_xlabel("budget spent (full-fidelity evaluations)" if axis == "budget" else "wall time (s)", fontsize=8)
        ax.set_ylabel(e["metric"], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(problems):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07 if nrow > 1 else 0.14, 1, 1))
    IMG.mkdir(parents=True, exist_ok=True)
    path = IMG / f"bench-regret-{axis}-{variant}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return str(path.relative_to(DOCS))


def plot_timeline(par: Dict[str, Any], variant: str, mode: str = "simulated") -> Optional[str]:
    """Worker timelines of one seed (``mode``: simulated, most workers; or real Dask): one panel
    per scheduler, each on its own time axis; white is idle."""
    plt = _plt()
    picks = []
    n_max = max((b["n_workers"] for b in par["batches"] if b.get("mode") == mode), default=None)
    for b in par["batches"]:
        if b.get("mode") != mode or b["n_workers"] != n_max:
            continue
        for r in b.get("runs", []):
            if "record" in r and r["problem"] == par["settings"]["problems"][0] and r["seed"] == min(
                    x["seed"] for x in b["runs"]):
                picks.append((r["variant"], r["record"]))
    if not picks:
        return None
    picks.sort(key=lambda p: (not p[0].startswith("smacish"), "@" in p[0], p[0]))
    unit = "virtual seconds" if mode == "simulated" else "seconds"
    fig, axes = plt.subplots(len(picks), 1, figsize=(11, 0.8 + (1.25 if n_max > 8 else 0.9) * len(picks)),
                             squeeze=False)
    for ax, (v, rec) in zip(axes[:, 0], picks):
        by_worker: Dict[int, List[tuple]] = {}
        for w, s0, e in rec["timeline"]:
            by_worker.setdefault(int(w), []).append((s0, e - s0))
        ours = v == "smacish-random"
        for w, spans in by_worker.items():
            ax.broken_barh(spans, (w - 0.42, 0.84), facecolors="tab:blue" if ours else "tab:orange",
                           edgecolor="white", linewidth=0.3)
        ax.set_xlim(0, max(e for _, _, e in rec["timeline"]))
        ax.set_ylim(-0.6, rec["n_workers"] - 0.4)
        ax.set_yticks([])
        ax.set_ylabel(f"{rec['n_workers']} workers", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.set_title(f"{parallel.label(v, mode)}: utilisation {rec['utilisation']:.3f} "
                     f"({rec.get('utilisation_steady', float('nan')):.3f} before the drain), "
                     f"makespan {rec['makespan']:.0f} {unit.split()[-1][0]}", fontsize=8.5, loc="left")
    axes[-1, 0].set_xlabel(f"{unit} (each panel on its own time axis)", fontsize=8)
    fig.tight_layout()
    IMG.mkdir(parents=True, exist_ok=True)
    path = IMG / f"bench-timeline-{'sim' if mode == 'simulated' else 'dask'}-{variant}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return str(path.relative_to(DOCS))


# ---------------------------------------------------------------------------------------------
# the document
# ---------------------------------------------------------------------------------------------
def _skips(result: Optional[Dict[str, Any]], what: str = "") -> List[str]:
    if not result:
        return []
    batches = result["batches"].values() if isinstance(result["batches"], dict) else result["batches"]
    out = []
    for b in batches:
        where = f"{what}" + (f", {b['mode']} {b['n_workers']} workers" if "mode" in b else "")
        if b.get("skipped"):
            out.append(f"{where}: {b.get('adapter')} skipped ({b['skipped']})")
        if b.get("timed_out"):
            out.append(f"{where}: {b.get('adapter')} stopped at its batch deadline; its cells show the seeds it finished")
        for r in b.get("runs", []):
            if "error" in r:
                out.append(f"{where}: {r['variant']} on {r['problem']} seed {r['seed']} failed "
                           f"({r['error'].strip().splitlines()[-1][:160]})")
    return sorted(set(out))


def build(variant: str = "quick") -> Path:
    q = load(f"quality-{variant}")
    o = load(f"overhead-{variant}")
    p = load(f"parallel-{variant}")
    m = machine()
    lines: List[str] = []
    w = lines.append
    w("# Benchmarks: smacish next to SMAC3, HpBandSter, Optuna, DEHB and random search\n")
    produced = next((r["command"] for r in (q, o, p) if r), f"python -m benchmarks {variant}")
    took = " + ".join(f"{name} {r['seconds']:.0f} s" for name, r in (("anytime quality", q), ("overhead", o),
                                                                     ("parallel", p)) if r and "seconds" in r)
    w(f"Generated by `python -m benchmarks report --variant {variant}` from the results of `{produced}` "
      f"(raw JSON in `benchmarks/results/`, not committed){'; that run took ' + took if took else ''}. "
      "Everything is offline; network traffic stays on 127.0.0.1.\n")
    if variant == "quick":
        w("> **This is the quick variant** (3 seeds, small budgets, ~10 minutes on 2 cores). The issue asks for at "
          "least 10 seeds: `python -m benchmarks full` runs them (hours; not in CI). With 3 seeds, quartiles are "
          "rough: a difference smaller than the bands is not a result.\n")
    w("## Machine\n")
    w(f"- {m['cores']} cores, {m['cpu']}, {m['ram']} RAM, {m['os']}, Python {m['python']}")
    w(f"- load average when the report was written: {m['load']} (the machine was shared with other jobs while "
      "these numbers were taken, so every wall-time figure is noisy: quote medians, rerun when quiet; "
      "`--deadline-scale N` gives each batch N times longer on a busy machine, so that every seed finishes)\n")
    w("## Libraries\n")
    vers = {"smacish": main_versions()}
    for res in (q, o):
        if res:
            for ad, b in res["batches"].items():
                if b.get("versions") and ad != "smacish":
                    vers.setdefault(ad, b["versions"])
    rows = [["library", "versions", "venv"]]
    for ad, v in vers.items():
        rows.append([ad, ", ".join(f"{k} {x}" for k, x in v.items()),
                     "`.venv`" if ad in ("smacish", "random-search") else f"`.bench-venvs/{ad}`"])
    w(_md_table(rows))
    skips = sorted(set(_skips(q, "anytime quality") + _skips(o, "overhead") + _skips(p, "parallel")))
    if skips:
        w("Not run or incomplete:\n")
        for s in skips:
            w(f"- {s}")
        w("")
    w(SECTIONS["heldout"]())
    from benchmarks import sklearn_search

    w(sklearn_search.section(load("sklearn_search")))
    w(_problems_section())
    if q:
        w(_quality_section(q, variant))
    if o:
        w(_overhead_section(o))
    if p:
        w(_parallel_section(p, variant))
    w(_durability_section(load("durability")))
    w(continued_training.section(load(continued_training.NAME)))
    w(continued_async.section(load(continued_training.NAME), load(continued_training.NAME + "-async")))
    w(promotion_evidence.section(load(promotion_evidence.NAME), load(continued_training.NAME)))
    w(multiobjective.section(load(multiobjective.NAME)))
    w(_headlines(q, o, p))
    w(_method_section())
    DOCS.mkdir(exist_ok=True)
    path = DOCS / "benchmarks.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _problems_section() -> str:
    rows = [["problem", "what", "budgets", "rank correlation lowest/highest fidelity"]]
    for name in PROBLEMS:
        prob = get_problem(name)
        corr = f"{fidelity_correlation(prob):.2f}" if prob.kind == "synthetic" else "—"
        rows.append([name, prob.description, f"{prob.min_budget:g}..{prob.max_budget:g}, eta {prob.eta:g}", corr])
    return ("## Problems\n\nSynthetic problems report the exact regret of the incumbent (noiseless, highest fidelity, "
            "minus the known optimum); scikit-learn tasks report the incumbent's validation error. `-hi`/`-lo`: high/low "
            "correlation between fidelities (Spearman, 500 uniform configurations, noise included).\n\n" + _md_table(rows))


def _quality_section(q: Dict[str, Any], variant: str) -> str:
    s = q["summary"]
    out = ["## 1. Anytime quality (every variant, development seeds)\n",
           "Descriptive, not a headline: these seeds are the ones smacish's defaults were tuned on, and the last "
           "column picks the best of several smacish variants. The comparison of defaults on held-out seeds is "
           "the headline above.\n",
           f"Command: `{q['command']}`. Seeds {q['settings']['seeds']}; budget per run "
           f"{', '.join(f'{k}: {v:g}' for k, v in sorted(set((get_problem(p).kind, u) for p, u in q['settings']['units'].items())))} "
           "full-fidelity evaluations (units of `max_budget`). Cells: median [25th, 75th percentile] over seeds; "
           "**bold** is the best median in the row; the last column is the best smacish median divided by the best "
           "peer median (below 1: smacish ahead; above 1: a peer is ahead).\n",
           "### Final regret / validation error (after the whole budget)\n",
           _md_table(quality.final_table(s, "final_q")),
           "### Anytime: after a quarter of the budget\n",
           _md_table(quality.final_table(s, "quarter_q"))]
    rows = [["problem"] + sorted({v for e in s["problems"].values() for v in e["variants"]},
                                 key=lambda v: (not quality.is_smacish(v), v))]
    for name, e in s["problems"].items():
        rows.append([name] + [f"{e['variants'][v]['wall_median']:.2f} s / {e['variants'][v]['evals_median']:.0f}"
                              if v in e["variants"] else "—" for v in rows[0][1:]])
    out += ["### Wall time per run / evaluations per run (medians)\n",
            "Wall time includes the evaluations themselves (real training for the scikit-learn tasks; ~0 for the "
            "synthetic functions, where it is all optimiser time).\n", _md_table(rows)]
    for axis in ("budget", "wall"):
        img = plot_regret(s, variant, axis)
        if img:
            out.append(f"![regret against {axis}]({img})\n")
    return "\n".join(out)


def _overhead_section(o: Dict[str, Any]) -> str:
    return "\n".join([
        "## 2. Optimiser overhead per trial\n",
        f"Command: `{o['command']}`. Target: `{overhead.PROBLEM}` (costs microseconds), one seed, sequential. "
        "Seconds between the end of one evaluation and the start of the next (ask + tell + bookkeeping; "
        "for HpBandSter including its Pyro4 round trip), median / 95th percentile / mean over the first N trials, "
        "and in brackets the median over the last tenth of them (the cost per trial at that size). The mean "
        "counts the occasional expensive trial (a model refit) that the median hides; it is what sets throughput. "
        f"Time cap per library: {o['settings']['time_cap']} s; a capped cell says how far it got.\n",
        _md_table(overhead.table(o["summary"])),
    ])


def _parallel_section(p: Dict[str, Any], variant: str) -> str:
    st = p["settings"]
    d = p["durations"]
    out = ["## 3. Parallel efficiency\n",
           f"Command: `{p['command']}`. Utilisation = busy worker-seconds / (workers x makespan), makespan from the "
           "first trial's start to the last one's end. Trials take `budget x unit` seconds times a mean-one lognormal "
           f"straggler factor (log-sd {d['simulated']['straggler_sd']}) drawn from the trial itself; simulated unit "
           f"{d['simulated']['unit']} virtual s, real unit {d['real']['unit']} s of sleep. Simulated budget: "
           f"{st['sim_rounds']} full-fidelity evaluations per worker; real Dask: {st['real_units']} units. "
           f"Seeds: simulated {st['sim_seeds']}, real {st['real_seeds']}. Time-to-target: until the incumbent's regret "
           "is at most the target (median over seeds; not reached counts as infinite). All columns are medians over "
           "seeds. *Utilisation before the drain* stops at the last trial's start: it leaves out the end of the run, "
           "when the budget is spent and workers idle while the last (often longest) trials finish. *Idle gap*: "
           "median time a worker waits between two of its trials (on real Dask: the dispatch latency).\n",
           "HpBandSter's `Master.run` does not run one bracket at a time: when no running iteration can offer a "
           "run, it starts the next one, and it serves iterations oldest first. That policy is emulated on the "
           "virtual clock with smacish's own parts; the fully synchronous row (one successive-halving instance, "
           "workers idle while a rung finishes) is the lower bound that both improve on. The real HpBandSter runs "
           "in the real-Dask block.\n",
           _md_table(parallel.table(p["summary"]))]
    rtts = [x for g in p["summary"]["groups"].values() for x in g.get("dask_roundtrip", [])]
    if rtts:
        out.append(f"On real Dask, the gaps between trials are dispatch latency. A no-op task's round trip to a worker, "
                   f"measured right before smacish's runs, took {np.median([r['median'] for r in rtts]) * 1e3:.0f} ms "
                   f"(median; p90 {np.median([r['p90'] for r in rtts]) * 1e3:.0f} ms) on this machine at the time: "
                   "8 worker processes, a scheduler and the client share 2 busy cores. HpBandSter's worker threads live "
                   "in one process and answer in milliseconds, which shows in their utilisation before the drain; on the "
                   "virtual clock, with no latency, every asynchronous policy is at 1.000 before the drain. smacish's schedule runs more, shorter trials, so a "
                   "fixed latency per trial costs it more. Rerun on a quiet machine before "
                   "reading anything into the real-Dask rows.\n")
    img = plot_timeline(p, variant, "simulated")
    if img:
        out.append(f"Worker timelines, simulated (first seed; white = idle):\n\n![worker timeline, simulated]({img})\n")
    img = plot_timeline(p, variant, "real Dask")
    if img:
        out.append(f"Worker timelines, real Dask with sleeping trials (first seed; white = idle, the gaps between "
                   f"bars are dispatch latency):\n\n![worker timeline, real Dask]({img})\n")
    return "\n".join(out)


def _durability_section(d: Optional[Dict[str, Any]]) -> str:
    out = ["## Durability\n",
           "What `output_dir` costs (a durable log of every tell and periodic state snapshots) and how fast a run "
           "comes back (`Optimizer.load`). smacish only; the peers have no comparable exact resume.\n"]
    if not d:
        return "\n".join(out + ["Not measured yet: `python -m benchmarks.durability --save`, then "
                                 "`python -m benchmarks report`.\n"])
    out.append(f"From `{d['command']}` (load average {d['load_average']:.1f} at the start); "
               f"one fsync on this disk: {d.get('fsync_ms', float('nan')):.2f} ms (median).\n")
    for selector, res in d["overhead"].items():
        ref = res["in memory"]
        rows = [["mode", "median ms", "p95 ms", "mean ms", "CPU mean ms", "median / mean vs in memory"]]
        for mode in ("in memory", "output_dir, durable=False", "output_dir, durable=True"):
            r = res[mode]
            ratio = "" if mode == "in memory" else \
                f"{r['median_ms'] / ref['median_ms']:.2f}x / {r['mean_ms'] / ref['mean_ms']:.2f}x"
            rows.append([mode, f"{r['median_ms']:.3f}", f"{r['p95_ms']:.3f}", f"{r['mean_ms']:.3f}",
                         f"{r['cpu_mean_ms']:.3f}", ratio])
        out += [f"ask + tell per trial, {res['trials']} trials, Hyperband(1, 81, 3), selector `{selector}`:\n",
                _md_table(rows)]
    if d["load"]:
        rows = [["Optimizer.load of a run", "trials", "events replayed", "wall s", "CPU s"]]
        for name, r in d["load"].items():
            rows.append([name, str(r["trials"]), str(r["replayed"]), f"{r['wall']:.2f}", f"{r['cpu']:.2f}"])
        out += ["Loading a big run (random selector, Hyperband(1, 81, 3)); a killed run has no runhistory.json yet, "
                "so its first load writes one:\n", _md_table(rows)]
    out.append("`durable=True` pays one fsync per tell: more than a whole ask + tell with the random selector, "
               "about half of one with the default selector. `durable=False` (flushed to the operating system, "
               "which survives a killed process but not a power cut) costs the log's encoding and the snapshots.\n")
    return "\n".join(out) + "\n"


def _heldout_section(h: Optional[Dict[str, Any]], parallel: Optional[Dict[int, Optional[Dict[str, Any]]]] = None) -> str:
    """The headline: smacish's default against each peer's default on held-out seeds, serially
    and (where measured) with many workers on the virtual clock."""
    out = ["## Headline: smacish's default against each peer's default, on held-out seeds\n"]
    if not h:
        out.append("Not measured yet: `python -m benchmarks.heldout` runs it (hours on 2 cores). Until then this page "
                   "makes no claim of search quality: the anytime-quality section below shows every variant on the "
                   "development seeds, which the defaults were tuned on.\n")
        return "\n".join(out)
    out.append("Each cell: the geometric mean over seeds of smacish's final regret (the incumbent's test error for "
               "the scikit-learn tasks) divided by the peer's, paired by seed and floored at the problem's noise level "
               "(below 1: smacish ahead), its bootstrap 95 % interval, the two-sided Wilcoxon signed-rank p-value "
               "and wins/losses; bold where smacish is significantly ahead. Overall pools every (problem, seed) pair "
               "and gives the range with any one problem left out. No tuning decision looked at these seeds; the "
               "default was fixed before they were run. What every table below is computed from is committed in "
               "`benchmarks/heldout_results/` (per run: its value at each fraction of T and its incumbent's regret at "
               "each change), so `python -m benchmarks report --only heldout` regenerates this section in any "
               "checkout; the full traces stay in `benchmarks/results/`.\n")
    for result in [h] + [r for _, r in sorted((parallel or {}).items()) if r]:
        out.append(_heldout_subsection(result))
    missing = [w for w, r in (parallel or {}).items() if not r]
    if missing:
        out.append("Not measured yet with " + ", ".join(map(str, missing)) + " workers: `python -m benchmarks.heldout "
                   "--problems standard --workers N`.\n")
    return "\n".join(out)


def _heldout_subsection(result: Dict[str, Any]) -> str:
    """One held-out run's part of the headline (``### Serial`` or ``### N workers, ...``)."""
    from benchmarks import heldout

    s = result["settings"]
    workers = s.get("n_workers", 1)
    title = "Serial" if workers == 1 else (f"{workers} workers, virtual clock (a trial takes budget x a mean-one "
                                           f"lognormal straggler factor; ask + tell CPU time charged x "
                                           f"{1 / s.get('unit_seconds', 1.0):g})")
    out = [f"### {title}\n",
           f"Seeds {s['seeds'][0]}..{s['seeds'][-1]} ({len(s['seeds'])}), {s['units']:g} full evaluations of "
           f"budget per run, problems: {', '.join(s['problems'])}. Command: `{result['command']}`, "
           f"{result['seconds'] / 60:.0f} min.\n",
           heldout.table(result),
           _smacish_defaults(result.get("batches", {}).get("smacish", {}), workers)]
    defaults = heldout.DEFAULTS if workers == 1 else heldout.PARALLEL_DEFAULTS
    missing_peers = [a for a in defaults if a != "smacish" and a not in result["batches"]]
    if missing_peers:
        out.append(f"Not in this run: {', '.join(missing_peers)} (`--adapters` left them out; "
                   "their last figures were taken with an earlier default and are not shown).\n")
    m = result.get("machine", {})
    if m:
        out.append(f"Machine of this run: numpy {m.get('numpy')}, CPU features used by its dispatcher: "
                   f"{', '.join(m.get('cpu_features', []))}; threads: "
                   f"{', '.join(f'{k}={v}' for k, v in m.get('threads', {}).items())}. The same seeds on the same CPU "
                   "give the same figures; another CPU (another dispatch path) may not.\n")
    return "\n".join(out)


def _smacish_defaults(batch: Dict[str, Any], workers: int) -> str:
    """Which of Hyperband's bracket-order settings smacish's batch ran with, against today's defaults."""
    from benchmarks.peers.smacish_adapter import defaults

    def fmt(settings: Dict[str, Any]) -> str:
        return ", ".join(f"`{k}={v!r}`" for k, v in settings.items())

    current, recorded = defaults(), batch.get("defaults")
    if recorded == current:
        return f"smacish's Hyperband in this run: {fmt(current)}, the current defaults.\n"
    if workers == 1:
        return (f"smacish's Hyperband in this run: {fmt(recorded) if recorded else 'not recorded'}; serial runs are "
                "the same with every `bracket_order` and `informed_starts`.\n")
    recorded = recorded or {"bracket_order": "cycle"}  # run before the defaults were recorded: cycle order
    return (f"smacish's Hyperband in this run: {fmt(recorded)}, **not the current defaults** ({fmt(current)}); "
            "not rerun since.\n")


def _headlines(q, o, p) -> str:
    out = ["## Other headline ratios\n"]
    if o:
        h = overhead.headline(o["summary"])
        if h:
            out.append(f"- **Overhead per trial** at {h['size']} trials, {h['smacish']} / fastest multi-fidelity peer "
                       f"by median ({h['peer']}): {overhead.fmt_s(h['smacish_median'])} / {overhead.fmt_s(h['peer_median'])} = "
                       f"**{h['ratio']:.2f}x** (below 1: smacish cheaper); by mean, against {h['peer_by_mean']}: "
                       f"{overhead.fmt_s(h['smacish_mean'])} / {overhead.fmt_s(h['peer_mean'])} = {h['ratio_mean']:.2f}x. "
                       "Plain random search (no multi-fidelity logic, ~10 µs) is left out of this ratio. "
                       f"Command: `{o['command']}`.")
    if p:
        h = parallel.headline(p["summary"], 32)
        if h:
            txt = f"- **Utilisation at 32 workers** (simulated, {h['problem']}): smacish {h['smacish']:.3f}"
            if "best_peer" in h:
                txt += f" vs best peer {h['best_peer']} {h['best_peer_util']:.3f} = **{h['ratio']:.2f}x**"
            if "ratio_vs_hpbandster_policy" in h:
                txt += f"; vs HpBandSter's policy (emulated) {h['ratio_vs_hpbandster_policy']:.2f}x"
            if "ratio_vs_synchronous" in h:
                txt += f"; vs synchronous SH {h['ratio_vs_synchronous']:.2f}x"
            if "best_peer" in h:
                txt += (f". Before the drain: smacish {h['smacish_steady']:.3f} vs {h['best_peer']} "
                        f"{h['steady'][h['best_peer']]:.3f}")
            out.append(txt + f". Command: `{p['command']}`.")
    return "\n".join(out) + "\n"


def _method_section() -> str:
    return """## How the numbers are made

- Every library sees the same problem through the same recorder (`benchmarks/record.py`), which times each
  evaluation. The incumbent is chosen from the recorded evaluations by one rule for every library
  (`highest_executed_budget`: the lowest observed cost among configurations run on the highest budget run so far),
  so no library is judged by its own, possibly different, notion of "best".
- Budget is counted in full-fidelity evaluations: an evaluation on budget `b` costs `b / max_budget`. Optuna's
  pruned trials resume training, so a rung costs only the increment over the previous rung (counted that way);
  every other library restarts each evaluation.
- Noise is a function of (configuration, budget, seed), so the same evaluation gives the same value in every library.
- With 32 workers and 21 full evaluations of budget (and with 128 and 84), T = total budget x unit / workers is
  0.66 of the time one full-budget trial takes on average. By T, a full-budget result exists only if a trial started
  there early and drew a small straggler factor (about one in ten does). The incumbent rule then takes that one
  result over every configuration raced to a third of the budget. So the regret at T on many workers rewards
  libraries whose first full-budget results come from configurations already known to be good (or that have none
  by T: Optuna charged the whole rung reaches the full budget only after 1.5 of its duration).
- Each peer runs in its own virtualenv (`python -m benchmarks setup-peers`, `.bench-venvs/<peer>/`) as a
  subprocess writing JSON (`benchmarks/peers/_run.py`); smacish never imports a peer.
- Library settings are their defaults for Hyperband-style runs with eta = 3 and the problem's budget range, with
  `n_trials` where a library takes it set to the evaluations the budget allows under Hyperband
  (`benchmarks/peers/__init__.py: hyperband_trials`; SMAC3 sizes its initial design from it):
  SMAC3 `MultiFidelityFacade` (random forest + Hyperband) and `HyperbandFacade`; HpBandSter `BOHB` and `HyperBand`
  with an in-process worker thread and a Pyro4 nameserver on 127.0.0.1; Optuna `TPESampler` / `RandomSampler` with
  `HyperbandPruner` and a fixed study name (it seeds the pruner's brackets), charged the increment of each rung
  (`optuna-tpe-hb`) and, without that advantage, the whole rung (`optuna-tpe-hb-retrain`); DEHB with
  `save_freq="end"`; smacish `Hyperband` with each registered selector.
- Seeds: tuning decisions look at the development seeds 0-29 only (`python -m benchmarks.tune` refuses others); the
  headline uses the held-out seeds 1000-1029 (`benchmarks/stats.py`).
- Regenerate: `python -m benchmarks full` (or `quick`) runs everything and rewrites this page;
  `python -m benchmarks quality|overhead|parallel|durability --variant full` runs one measurement, and
  `python -m benchmarks report --variant full` rewrites the page from the stored results.
"""


def _one_heldout(name: str) -> str:
    from benchmarks.heldout import load_result

    result = load_result(name)
    if result is None:
        raise SystemExit(f"no held-out result {name!r}: run python -m benchmarks.heldout first")
    return _heldout_subsection(result)


SECTIONS = {"heldout": lambda: _heldout_section(*_heldout_results()),
            "heldout-serial": lambda: _one_heldout("heldout"),
            **{f"heldout-w{w}": (lambda w=w: _one_heldout(f"heldout-w{w}-u1")) for w in (8, 32, 128)}}
"""Sections that ``--only`` rewrites on their own (their raw results are enough): the held-out
headline, or one of its runs (serial, or with 8, 32 or 128 workers) within it."""


def _heldout_results() -> tuple:
    """The serial held-out result and ``{workers: parallel result}``: full results where this
    checkout ran them, else their committed summaries (benchmarks/heldout_results/)."""
    from benchmarks.heldout import load_result

    return load_result("heldout"), {w: load_result(f"heldout-w{w}-u1") or load_result(f"heldout-w{w}-u1-partial")
                                    for w in (8, 32, 128)}


def splice(page: str, section: str) -> str:
    """``page`` with the section that ``section`` starts with (its title line, ``## `` or
    ``### ``) replaced by ``section``, up to the next title of the same or a higher level; a
    ValueError if the page has no such section."""
    title = section.splitlines()[0]
    lines = page.splitlines()
    if title not in lines:
        raise ValueError(f"the page has no section {title!r}; run the whole report instead")
    start = lines.index(title)
    level = len(title) - len(title.lstrip("#"))
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("#") and 0 < len(lines[i]) - len(lines[i].lstrip("#")) <= level
                and lines[i].lstrip("#").startswith(" ")), len(lines))
    rest = [""] + lines[end:] if end < len(lines) else []
    return "\n".join(lines[:start] + section.rstrip("\n").splitlines() + rest) + "\n"


def main(variant: str = "quick", only: Optional[str] = None) -> int:
    """Write the whole page, or with ``only`` (a key of :data:`SECTIONS`) rewrite that section
    of the existing page from its results and keep every other section as it is."""
    if only is None:
        path = build(variant)
    else:
        path = DOCS / "benchmarks.md"
        path.write_text(splice(path.read_text(), SECTIONS[only]()))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(*sys.argv[1:]))
