"""smacish's search estimator against scikit-learn's and dask-ml's on tasks with a held-out test
split, at the same total budget.

    python -m benchmarks.sklearn_search                  # 3 tasks x 10 held-out seeds
    python -m benchmarks.sklearn_search --seeds 2 --tasks sgd-digits

Per seed and task (every search of one seed runs back to back, so they share the machine's
load): a stratified 25 % test split (by the seed); every search sees the other 75 % only and is
judged by its ``best_estimator_``'s test accuracy. Each search runs at its own defaults.

The budget is what ``HalvingRandomSearchCV`` with its defaults spends: ``B``, the sum of
``n_resources`` over its candidate evaluations (each a 5-fold cross-validation), in units of
the task's resource (samples, or the estimator's ``max_iter``), whose largest value ``R`` is
one full training (all training samples; ``max_resources``).

- smacish's ``HyperbandSearchCV``: ``budget_limit=B`` in the same units (same cross-validation).
- ``RandomizedSearchCV``: ``round(B / R)`` candidates, each cross-validated at ``R`` (the
  estimator's resource parameter set to ``R``).
- dask-ml's ``HyperbandSearchCV`` (estimators with ``partial_fit``: sgd-digits, mlp-digits;
  see ``benchmarks/peers/daskml_search.py``): it trains on one hold-out split, not 5 folds, and
  in ``partial_fit`` calls on chunks of the data, so its budget is matched in *full trainings*
  (training samples x epochs of one fit on all the training data): the others spend
  ``F = 4 B / R`` (5 fits on 4/5 of the data per evaluation); dask-ml spends
  ``partial_fit_calls / max_iter`` times the fraction of the data it trains on, and its
  ``max_iter`` (and chunk size) is picked by its documented rule so that this is closest to
  ``F``. The epochs of one full training: ``R`` for mlp-digits (``max_iter`` is epochs), and for
  sgd-digits the epochs ``SGDClassifier.fit`` takes with its default parameters on the seed's
  training data (a Pipeline has no ``partial_fit``, so dask-ml gets the data standardised
  as the Pipeline would). The refit of ``best_estimator_`` (scikit-learn's and smacish's) is
  outside the budget; dask-ml keeps its trained model.

Wall time: the search's ``fit`` and the test score, one process, one thread (dask-ml: one
single-threaded worker in its own venv, its client started before the clock). Printed and
saved (``benchmarks/results/sklearn_search.json``, after every seed): the median test accuracy
and wall time over seeds, with the two-sided paired Wilcoxon p-values of smacish against each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
from scipy.stats import loguniform, randint, uniform

SEEDS = list(range(2000, 2010))  # none of the tuning decisions looked at these
SEARCHES = ["smacish", "sklearn-halving", "sklearn-random", "daskml-hyperband"]
N_SPLITS = 5  # the default cv of every scikit-learn search (and smacish's)


@dataclass
class Task:
    name: str
    data: Callable[[], tuple]
    estimator: Callable[[int], Any]
    space: Dict[str, Any]
    resource: str  # what scikit-learn's halving search and smacish's search both vary
    max_resources: Any = "auto"
    incremental: Optional[Callable[[int], Any]] = None  # the estimator with partial_fit, for dask-ml
    scale: bool = False  # dask-ml gets standardised data (the Pipeline's first step)
    epochs: Optional[int] = None  # of one full training; None: as many as the default fit takes

    def incremental_space(self) -> Dict[str, Any]:
        """``space`` with the Pipeline's step prefix taken off (dask-ml tunes the bare estimator)."""
        return {k.rpartition("__")[2]: v for k, v in self.space.items()}


def _tasks() -> Dict[str, Task]:
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import SGDClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    digits = lambda: load_digits(return_X_y=True)  # noqa: E731
    return {t.name: t for t in [
        Task("sgd-digits", digits,
             lambda s: make_pipeline(StandardScaler(), SGDClassifier(random_state=s)),
             {"sgdclassifier__alpha": loguniform(1e-6, 1e-1), "sgdclassifier__l1_ratio": uniform(0, 1),
              "sgdclassifier__penalty": ["l2", "elasticnet"]}, "n_samples",
             incremental=lambda s: SGDClassifier(random_state=s), scale=True),
        Task("hgb-cancer", lambda: load_breast_cancer(return_X_y=True),
             lambda s: HistGradientBoostingClassifier(early_stopping=False, random_state=s),
             {"learning_rate": loguniform(1e-3, 1.0), "max_leaf_nodes": randint(4, 64),
              "l2_regularization": loguniform(1e-6, 10.0)}, "max_iter", 243),
        Task("mlp-digits", digits,
             lambda s: MLPClassifier(random_state=s),
             {"alpha": loguniform(1e-6, 1e-1), "learning_rate_init": loguniform(1e-4, 1e-1),
              "hidden_layer_sizes": [(32,), (64,), (128,)]}, "max_iter", 81,
             incremental=lambda s: MLPClassifier(random_state=s), epochs=81),
    ]}


def run_task(task: Task, seed: int, searches: List[str]) -> Dict[str, Dict[str, Any]]:
    """Every search in ``searches`` on ``task`` with ``seed``: test accuracy, seconds, budget."""
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV, RandomizedSearchCV, train_test_split

    from smacish.sklearn import HyperbandSearchCV

    X, y = task.data()
    train, test = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y, random_state=seed)
    X_train, X_test, y_train, y_test = X[train], X[test], y[train], y[test]
    out: Dict[str, Dict[str, Any]] = {}

    def measure(name: str, make: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings at small budgets
            search = make().fit(X_train, y_train)
            accuracy = float(search.score(X_test, y_test))
        out[name] = {"test_accuracy": accuracy, "seconds": time.perf_counter() - start}
        return search

    halving = measure("sklearn-halving", lambda: HalvingRandomSearchCV(
        task.estimator(seed), task.space, resource=task.resource, max_resources=task.max_resources,
        random_state=seed))
    budget = float(np.sum(halving.cv_results_["n_resources"]))
    full = float(len(train) if task.resource == "n_samples" else task.max_resources)  # R: one full training
    out["sklearn-halving"]["budget"] = budget
    if "sklearn-random" in searches:
        n_iter = max(1, int(round(budget / full)))
        estimator = task.estimator(seed)
        if task.resource != "n_samples":
            estimator.set_params(**{task.resource: int(full)})
        measure("sklearn-random", lambda: RandomizedSearchCV(estimator, task.space, n_iter=n_iter, random_state=seed))
        out["sklearn-random"]["budget"] = n_iter * full
    if "smacish" in searches:
        kwargs = {} if task.resource == "n_samples" else {"max_resources": task.max_resources}
        search = measure("smacish", lambda: HyperbandSearchCV(
            task.estimator(seed), task.space, resource=task.resource, budget_limit=budget, random_state=seed,
            **kwargs))
        out["smacish"]["budget"] = float(search.optimizer_.runhistory.budget_spent)
    if "daskml-hyperband" in searches and task.incremental is not None:
        epochs = task.epochs
        if epochs is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                epochs = int(task.estimator(seed).fit(X_train, y_train)[-1].n_iter_)
        spec = {"task": task.name, "seed": seed, "train": train.tolist(), "test": test.tolist(), "epochs": epochs,
                "full_trainings": (N_SPLITS - 1) * budget / full}
        out["daskml-hyperband"] = run_daskml(spec)
    return out


def run_daskml(spec: Dict[str, Any], timeout: float = 1800) -> Dict[str, Any]:
    """``benchmarks/peers/daskml_search.py`` in the daskml venv (``python -m benchmarks
    setup-peers daskml``); raises when that venv is missing or the run fails."""
    from benchmarks.runner import ROOT, THREAD_ENV
    from benchmarks.setup_peers import available_peers, venv_python

    if "daskml" not in available_peers():
        raise RuntimeError("dask-ml is not set up: run `python -m benchmarks setup-peers daskml`")
    with tempfile.TemporaryDirectory(prefix="bench-daskml-") as tmp:
        spec_path, out_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
        Path(spec_path).write_text(json.dumps(spec))
        env = dict(os.environ, **THREAD_ENV)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.run([str(venv_python("daskml")), "-m", "benchmarks.peers.daskml_search", spec_path,
                               out_path], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not os.path.exists(out_path):
            raise RuntimeError(f"dask-ml run failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
        return json.loads(Path(out_path).read_text())


def table(per_task: Dict[str, List[Dict[str, Dict[str, Any]]]]) -> List[Dict[str, Any]]:
    """One row per task and search: medians over seeds and smacish's paired p-values."""
    from benchmarks.stats import wilcoxon_p

    rows = []
    for name, per_seed in per_task.items():
        for search in [s for s in SEARCHES if per_seed and s in per_seed[0]]:
            pairs = [r for r in per_seed if search in r and "smacish" in r]
            acc = [r[search]["test_accuracy"] for r in per_seed if search in r]
            secs = [r[search]["seconds"] for r in per_seed if search in r]
            row = {"task": name, "search": search, "n_seeds": len(acc), "test_accuracy": statistics.median(acc),
                   "seconds": statistics.median(secs), "p_accuracy": None, "p_seconds": None,
                   "wins": None, "losses": None}
            if search != "smacish" and pairs:
                d_acc = np.array([r["smacish"]["test_accuracy"] - r[search]["test_accuracy"] for r in pairs])
                d_sec = np.array([r["smacish"]["seconds"] - r[search]["seconds"] for r in pairs])
                row.update(p_accuracy=wilcoxon_p(d_acc), p_seconds=wilcoxon_p(d_sec),
                           wins=int((d_acc > 1e-12).sum()), losses=int((d_acc < -1e-12).sum()))
            rows.append(row)
    return rows


def markdown(rows: List[Dict[str, Any]]) -> str:
    """The table as Markdown (the p-values: smacish against that search, paired by seed)."""
    lines = ["| task | search | seeds | test accuracy (median) | wall time, s (median) | "
             "smacish wins/losses (accuracy) | p (accuracy) | p (wall time) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        wl = "" if r["wins"] is None else f"{r['wins']}/{r['losses']}"
        pa = "" if r["p_accuracy"] is None else f"{r['p_accuracy']:.2g}"
        ps = "" if r["p_seconds"] is None else f"{r['p_seconds']:.2g}"
        lines.append(f"| {r['task']} | {r['search']} | {r['n_seeds']} | {r['test_accuracy']:.4f} | "
                     f"{r['seconds']:.1f} | {wl} | {pa} | {ps} |")
    return "\n".join(lines)


def losses(rows: List[Dict[str, Any]]) -> List[str]:
    """Where smacish's median is worse than a search's: lower test accuracy or more wall time."""
    ours = {r["task"]: r for r in rows if r["search"] == "smacish"}
    out = []
    for r in rows:
        mine = ours.get(r["task"])
        if r["search"] == "smacish" or mine is None:
            continue
        if mine["test_accuracy"] < r["test_accuracy"]:
            out.append(f"{r['task']}: test accuracy below {r['search']}'s ({mine['test_accuracy']:.4f} vs "
                       f"{r['test_accuracy']:.4f}, p = {r['p_accuracy']:.2g})")
        if mine["seconds"] > r["seconds"]:
            out.append(f"{r['task']}: wall time above {r['search']}'s ({mine['seconds']:.1f} s vs "
                       f"{r['seconds']:.1f} s, p = {r['p_seconds']:.2g})")
    return out


def section(data: Optional[Dict[str, Any]]) -> str:
    """docs/benchmarks.md's section "scikit-learn search", from a saved (or pooled) run."""
    out = ["## scikit-learn search\n",
           "`smacish.sklearn.HyperbandSearchCV` at its defaults against `HalvingRandomSearchCV` (its defaults), "
           "`RandomizedSearchCV` and dask-ml's `HyperbandSearchCV` (its defaults; only where the estimator has "
           "`partial_fit`), all at the total budget halving search spends by default, on three tasks with a "
           "held-out 25 % test split, over the held-out seeds 2000-2009 (no tuning decision looked at them). How "
           "the budget is shared, and how dask-ml's (one hold-out split, `partial_fit` calls on chunks) is "
           "matched to it, is in the docstring of `benchmarks/sklearn_search.py`. p: two-sided Wilcoxon "
           "signed-rank test of smacish against that search, paired by seed; wins/losses: seeds where smacish's "
           "test accuracy is higher/lower.\n"]
    if not data:
        return "\n".join(out + ["Not measured yet: `python -m benchmarks.sklearn_search`.\n"])
    rows = table(data["per_task"])
    out.append(f"Command: `{data['command']}`.\n")
    if data.get("note"):
        out.append(data["note"] + "\n")
    out.append(markdown(rows) + "\n")
    lost = losses(rows)
    out.append("Where smacish loses (medians): " + ("; ".join(lost) if lost else "nowhere") + ".\n")
    by_seed = [f"{r['task']} against {r['search']} ({r['wins']}/{r['losses']})" for r in rows
               if r["wins"] is not None and r["losses"] > r["wins"]]
    if by_seed:
        out.append("Seeds where smacish's test accuracy is lower outnumber those where it is higher: "
                   + ", ".join(by_seed) + ".\n")
    significant = [f"{r['task']} against {r['search']}" for r in rows
                   if r["p_accuracy"] is not None and r["p_accuracy"] < 0.05]
    out.append("Test accuracy differs significantly (p < 0.05) for: " + (", ".join(significant) if significant
               else "none of the pairs; no accuracy difference here is more than noise") + ".\n")
    return "\n".join(out)


def pooled(paths: List[str]) -> Dict[str, List[Dict[str, Dict[str, Any]]]]:
    """The per-seed results of several saved runs, pooled by task (a seed twice is an error: it
    would count one pair twice)."""
    per_task: Dict[str, List[Dict[str, Dict[str, Any]]]] = {}
    for path in paths:
        for name, runs in json.loads(Path(path).read_text())["per_task"].items():
            per_task.setdefault(name, []).extend(runs)
    for name, runs in per_task.items():
        seeds = [r["seed"] for r in runs]
        if len(seeds) != len(set(seeds)):
            raise ValueError(f"{name}: a seed appears twice in {paths}")
        runs.sort(key=lambda r: r["seed"])
    return per_task


def main(argv: Any = None) -> int:
    """One thread everywhere, as the dask-ml subprocess: by the environment, read when the
    OpenMP and BLAS runtimes start (HistGradientBoosting's OpenMP ignores a later
    ``threadpool_limits``, and its two threads spinning on a busy machine slow it down 50-fold),
    so a run without it starts again with it."""
    from benchmarks.runner import THREAD_ENV

    if any(os.environ.get(k) != v for k, v in THREAD_ENV.items()):
        args = sys.argv[1:] if argv is None else list(argv)
        os.execve(sys.executable, [sys.executable, "-m", "benchmarks.sklearn_search", *args],
                  dict(os.environ, **THREAD_ENV))
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _main(argv)


def _main(argv: Any = None) -> int:
    from benchmarks.runner import RESULTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=len(SEEDS))
    parser.add_argument("--tasks", default=",".join(_tasks()))
    parser.add_argument("--searches", default=",".join(SEARCHES))
    parser.add_argument("--seed-list", default=None, help="comma-separated seeds of SEEDS instead of the first --seeds")
    parser.add_argument("--out", default=str(RESULTS / "sklearn_search.json"))
    parser.add_argument("--table", nargs="+", default=None, metavar="JSON",
                        help="print the table of saved results (several: their seeds pooled), run nothing")
    parser.add_argument("--save", default=None, help="with --table: save the pooled results there")
    parser.add_argument("--command", default=None, help="with --save: the command(s) that made the results")
    parser.add_argument("--note", default=None, help="with --save: the machine note for docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.table:
        per_task = pooled(args.table)
        print(markdown(table(per_task)))
        if args.save:
            Path(args.save).write_text(json.dumps({"command": args.command, "note": args.note, "per_task": per_task,
                                                   "table": table(per_task)}, indent=1, default=str))
        return 0
    searches = args.searches.split(",")
    tasks = _tasks()
    names = args.tasks.split(",")
    seeds = SEEDS[: args.seeds] if args.seed_list is None else [int(s) for s in args.seed_list.split(",")]
    if not set(seeds) <= set(SEEDS):
        raise SystemExit(f"seeds {sorted(set(seeds) - set(SEEDS))} are not among the held-out SEEDS {SEEDS}")
    per_task: Dict[str, List[Dict[str, Dict[str, Any]]]] = {name: [] for name in names}
    command = "python -m benchmarks.sklearn_search " + " ".join(argv if argv is not None else sys.argv[1:])
    for seed in seeds:  # seeds outermost: a run stopped early has every task for its seeds
        for name in names:
            t0 = time.perf_counter()
            result = run_task(tasks[name], seed, searches)
            per_task[name].append(dict(result, seed=seed))
            print(f"seed {seed} {name}: " + ", ".join(f"{s} {v['test_accuracy']:.4f} ({v['seconds']:.1f} s)"
                                                    for s, v in result.items()) +
                  f" [{time.perf_counter() - t0:.0f} s]", flush=True)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps({"command": command.strip(), "per_task": per_task,
                                                  "table": table(per_task)}, indent=1, default=str))
    print(markdown(table(per_task)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
