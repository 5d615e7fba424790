"""Write the example notebooks (examples/*.ipynb) from the cells below, without outputs.

    python examples/make_notebooks.py

Edit the cells here, not the .ipynb files, then run this script; tests/test_notebooks.py
executes every notebook of examples/ so that they never rot.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import nbformat

HERE = Path(__file__).resolve().parent

Cell = Tuple[str, str]  # ("md" | "code", source)


def md(text: str) -> Cell:
    return ("md", text.strip("\n"))


def code(text: str) -> Cell:
    return ("code", text.strip("\n"))


ASK_TELL: List[Cell] = [
    md("""
# Ask/tell on a real scikit-learn task

Tune a support-vector classifier on the digits data with **Hyperband**, driving the loop
yourself: `opt.ask()` says which configuration to train on which budget, you train it, and
`opt.tell(info, cost)` reports back. The budget is the **fraction of the training data** the
classifier sees, from 1/9 to all of it.
"""),
    code("""
import time

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

import smacish
from smacish import plotting

X, y = load_digits(return_X_y=True)
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=0.25, random_state=0)
print(X_train.shape, X_val.shape, X_test.shape)
"""),
    md("""
The search space: the kernel, its regularisation `C`, and `gamma` — which only the RBF kernel
uses, so it is conditional on `kernel == "rbf"`.
"""),
    code("""
space = ConfigurationSpace(seed=0)
kernel = Categorical("kernel", ["rbf", "poly"])
C = Float("C", (1e-2, 1e3), log=True)
gamma = Float("gamma", (1e-5, 1e-1), log=True)
space.add([kernel, C, gamma, EqualsCondition(gamma, kernel, "rbf")])
space
"""),
    code("""
def validation_error(config, budget):
    n = max(30, int(budget * len(X_train)))
    params = dict(config)
    clf = SVC(**params).fit(X_train[:n], y_train[:n])
    return 1.0 - clf.score(X_val, y_val)


opt = smacish.Optimizer(space, smacish.Hyperband(min_budget=1 / 9, max_budget=1.0, eta=3), seed=0)
opt   # a summary table; nothing has run yet
"""),
    md("""
## The loop

One Hyperband round for budgets 1/9 → 1 with `eta=3` is 22 trials. We run two rounds and print
a line whenever the incumbent changes.
"""),
    code("""
for _ in range(44):
    info = opt.ask()
    start = time.time()
    cost = validation_error(info.config, info.budget)
    opt.tell(info, smacish.TrialValue(cost=cost, time=time.time() - start,
                                      starttime=start, endtime=time.time()))
    if opt.trajectory[-1].n_trials == len(opt.runhistory):      # the incumbent just changed
        entry = opt.trajectory[-1]
        print(f"trial {entry.n_trials:2d}: incumbent config {entry.config_number} "
              f"on budget {entry.budget:.3g}, validation error {entry.cost:.4f}")
"""),
    code("""
opt.runhistory   # the RunHistory's summary
"""),
    md("""
## The results as DataFrames

One row per trial, with `walltime` (seconds since the first trial started) and
`incumbent_so_far` (the incumbent's cost once that trial was in):
"""),
    code("""
trials = opt.runhistory.to_dataframe()
trials[["config_number", "kernel", "C", "gamma", "budget", "cost", "walltime", "incumbent_so_far"]].tail(8)
"""),
    code("""
opt.trajectory.to_dataframe()[["walltime", "n_trials", "budget", "cost", "config_number"]]
"""),
    md("""
## Plots

The incumbent over the trials, and each configuration's validation error across the budgets
it reached:
"""),
    code("""
plotting.plot_trajectory(opt, x="n_trials");
"""),
    code("""
plotting.plot_learning_curves(opt.runhistory);
"""),
    md("""
## The incumbent on held-out data
"""),
    code("""
best = dict(opt.incumbent)
final = SVC(**best).fit(X_rest, y_rest)
print(opt.incumbent)
print(f"test accuracy {final.score(X_test, y_test):.4f}")
assert final.score(X_test, y_test) > 0.9
"""),
]


DASK: List[Cell] = [
    md("""
# A Hyperband run on Dask, with the dashboard

`optimize(target, client=client)` runs trials on any Dask cluster; here a `LocalCluster` of two
single-threaded workers on this machine (127.0.0.1 only). Open the **dashboard** link to watch
the task stream while the run goes (the dashboard needs `pip install bokeh`): every worker
stays busy, because the ParallelScheduler starts another successive-halving instance whenever
one would leave a worker idle.

On a real cluster only the `client` line changes — see the docs' *Run on a Dask cluster* guide
for SLURM (dask-jobqueue) and Kubernetes.
"""),
    code("""
from ConfigSpace import ConfigurationSpace
from distributed import Client, LocalCluster

import smacish
from smacish import plotting

cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                       dashboard_address="127.0.0.1:0")
client = Client(cluster)
print("dashboard:", client.dashboard_link)
client
"""),
    md("""
The target sleeps in proportion to its budget — a stand-in for training that many epochs — and
returns a cost. It imports what it needs inside, so it runs on workers that have never seen this
notebook.
"""),
    code("""
def train(config, budget):
    import time

    time.sleep(0.05 * budget)
    return (config["x"] - 1) ** 2 + (config["y"] + 0.5) ** 2 + 1 / budget


space = ConfigurationSpace({"x": (-2.0, 2.0), "y": (-2.0, 2.0)}, seed=0)
opt = smacish.Optimizer(space, smacish.Hyperband(min_budget=1, max_budget=9, eta=3), seed=0)
"""),
    md("""
`show_progress=True` shows a progress bar with the incumbent's cost and the busy workers.
"""),
    code("""
incumbent = opt.optimize(train, n_trials=44, client=client, show_progress=True)
opt
"""),
    code("""
rh = opt.runhistory
workers = sorted({value.additional_info["worker"] for _, value in rh.items()})
print(len(rh), "trials on", workers)
print(f"utilisation: {rh.utilisation():.2f}")
assert len(rh) == 44 and len(workers) == 2
"""),
    md("""
The worker timeline: one row per worker, one bar per trial (coloured by budget); gaps are idle
time.
"""),
    code("""
plotting.plot_worker_timeline(rh);
"""),
    code("""
plotting.plot_trajectory(opt, x="walltime");
"""),
    md("""
`optimize` never closes a client you passed in; close it when you are done.
"""),
    code("""
client.close()
cluster.close()
"""),
]


COMPARE: List[Cell] = [
    md("""
# Comparing runs

Is Hyperband better than plain successive halving on this problem, or was one seed lucky?
Run each several times and compare the **median trajectory with its interquartile band**.

To make it quick, the runs use the **simulated runner**: the real scheduler against the cost
function, with 4 virtual workers on a virtual clock where a trial takes `budget` seconds. The
runs are written to disk, as real runs would be, and compared from their trajectory files.
"""),
    code("""
import math
import tempfile
from pathlib import Path

import pandas as pd
from ConfigSpace import ConfigurationSpace

import smacish
from smacish import plotting
from smacish.runners.simulated import run_simulated

space = ConfigurationSpace({"x": (-1.0, 1.0), "y": (-1.0, 1.0)})


def cost(config, budget):
    x, y = config["x"], config["y"]
    return (x - 0.3) ** 2 + (y + 0.2) ** 2 + 0.5 / math.sqrt(budget) * abs(math.sin(7 * x * y))


intensifiers = {
    "Hyperband": lambda: smacish.Hyperband(min_budget=1, max_budget=27, eta=3),
    "SuccessiveHalving": lambda: smacish.SuccessiveHalving(min_budget=1, max_budget=27, eta=3),
}
seeds = range(5)
root = Path(tempfile.mkdtemp(prefix="smacish-compare-"))

for label, make in intensifiers.items():
    for seed in seeds:
        # durable=False: each tell is flushed but not fsync'd (enough for a quick experiment)
        # `with`: the run directory gets its RunHistory snapshot and its log is closed at the end
        with smacish.Optimizer(space, make(), seed=seed, output_dir=root / f"{label}-{seed}",
                               durable=False) as opt:
            run_simulated(opt, cost, duration=lambda info, value: info.budget, n_workers=4,
                          budget_limit=1000)
sorted(p.name for p in root.iterdir())
"""),
    md("""
Read the trajectories back from the run directories and plot them: each label is drawn as the
median over its seeds, with the band between the first and third quartile.
"""),
    code("""
runs = {label: [smacish.Trajectory.load(root / f"{label}-{seed}" / "trajectory.jsonl") for seed in seeds]
        for label in intensifiers}
fig = plotting.plot_trajectory(runs, x="budget_spent", log_y=True)
"""),
    code("""
fig = plotting.plot_trajectory(runs, x="walltime", log_y=True)
fig.axes[0].set_xlabel("virtual wall time (s)");
"""),
    md("""
The final incumbents, seed by seed:
"""),
    code("""
final = pd.DataFrame([
    {"intensifier": label, "seed": seed, "cost": traj[-1].cost, "budget": traj[-1].budget,
     "trajectory entries": len(traj)}
    for label, trajectories in runs.items() for seed, traj in zip(seeds, trajectories)
])
final.groupby("intensifier")["cost"].describe()
"""),
    md("""
The RunHistories say how much budget each run spent before its incumbent first got below a
target cost — the anytime comparison, seed by seed. `incumbent_so_far` is the incumbent's cost
once that trial was in.
"""),
    code("""
target = 0.05
rows = []
for label in intensifiers:
    for seed in seeds:
        trials = smacish.RunHistory.load(root / f"{label}-{seed}" / "runhistory.json").to_dataframe()
        spent = trials["budget"].cumsum()
        reached = spent[trials["incumbent_so_far"] < target]
        rows.append({"intensifier": label, "seed": seed,
                     "budget spent to reach target": reached.iloc[0] if len(reached) else math.nan})
reach = pd.DataFrame(rows).pivot(index="seed", columns="intensifier", values="budget spent to reach target")
reach
"""),
    code("""
reach.median()
"""),
]


SKLEARN_SEARCH: List[Cell] = [
    md("""
# GridSearchCV, HalvingRandomSearchCV and smacish's HyperbandSearchCV, side by side

One task, three search estimators with the same interface: a scaled `SGDClassifier` on the
digits data, tuned by 3-fold cross-validation on 75 % of it, judged on the other 25 %.

- `GridSearchCV` tries every point of a grid, each on all the training samples.
- `HalvingRandomSearchCV` draws random candidates and races them on growing numbers of
  samples (successive halving).
- `smacish.sklearn.HyperbandSearchCV` races candidates the same way (Hyperband), but its model
  proposes them from the results so far. It gets exactly the budget the halving search used.
"""),
    code("""
import time

import numpy as np
import pandas as pd
from scipy.stats import loguniform, uniform
from sklearn.datasets import load_digits
from sklearn.experimental import enable_halving_search_cv  # noqa: F401 - makes HalvingRandomSearchCV importable
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GridSearchCV, HalvingRandomSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from smacish.sklearn import HyperbandSearchCV

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
model = make_pipeline(StandardScaler(), SGDClassifier(random_state=0))
print(X_train.shape, X_test.shape)
"""),
    md("""
The grid for `GridSearchCV`, and the distributions the two others draw from (the same ranges):
"""),
    code("""
grid = {"sgdclassifier__alpha": np.logspace(-6, -1, 6), "sgdclassifier__penalty": ["l2", "elasticnet"]}
space = {"sgdclassifier__alpha": loguniform(1e-6, 1e-1), "sgdclassifier__l1_ratio": uniform(0, 1),
         "sgdclassifier__penalty": ["l2", "elasticnet"]}


def timed(search):
    start = time.perf_counter()
    search.fit(X_train, y_train)
    return search, time.perf_counter() - start


grid_search, grid_seconds = timed(GridSearchCV(model, grid, cv=3))
halving, halving_seconds = timed(HalvingRandomSearchCV(model, space, cv=3, random_state=0))
budget = int(halving.cv_results_["n_resources"].sum())  # samples x candidates it trained on
ours, our_seconds = timed(HyperbandSearchCV(model, space, cv=3, budget_limit=budget, random_state=0))
"""),
    md("""
## The results

The budget is the number of training samples summed over the candidates' cross-validations:
the grid trains every candidate on all of them, the two racing searches most candidates on a
few.
"""),
    code("""
searches = {"GridSearchCV": (grid_search, grid_seconds), "HalvingRandomSearchCV": (halving, halving_seconds),
            "smacish HyperbandSearchCV": (ours, our_seconds)}
results = pd.DataFrame([
    {"search": name, "evaluations": len(s.cv_results_["params"]),
     "budget (samples)": int(np.sum(s.cv_results_["n_resources"])) if "n_resources" in s.cv_results_
     else len(s.cv_results_["params"]) * len(X_train),
     "seconds": round(seconds, 2), "best CV score": round(s.best_score_, 4),
     "test accuracy": round(s.score(X_test, y_test), 4)}
    for name, (s, seconds) in searches.items()
]).set_index("search")
results
"""),
    code("""
for name, row in results.iterrows():
    print(f"{name}: {int(row['evaluations'])} evaluations, budget {int(row['budget (samples)'])} samples, "
          f"test accuracy {row['test accuracy']:.4f}")
print("best parameters found by smacish:", ours.best_params_)
"""),
    md("""
`cv_results_` has scikit-learn's keys in all three, so the same pandas code reads each. The
racing searches add `n_resources` and `iter`; smacish adds the trial's `budget` and `status`.
"""),
    code("""
columns = ["param_sgdclassifier__alpha", "param_sgdclassifier__penalty", "n_resources", "iter",
           "mean_test_score", "rank_test_score"]
pd.DataFrame(ours.cv_results_)[columns + ["budget", "status"]].sort_values("rank_test_score").head(8)
"""),
    code("""
pd.DataFrame(halving.cv_results_)[columns].sort_values("rank_test_score").head(8)
"""),
    md("""
Each candidate's cross-validation score against the samples it was trained on: both racing
searches try many candidates on few samples and promote the best to more.
"""),
    code("""
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, (name, s) in zip(axes, [("HalvingRandomSearchCV", halving), ("smacish HyperbandSearchCV", ours)]):
    r = s.cv_results_
    ax.scatter(r["n_resources"], r["mean_test_score"], s=12, alpha=0.6)
    ax.set_xscale("log")
    ax.set_title(name)
    ax.set_xlabel("training samples")
axes[0].set_ylabel("mean CV accuracy")
axes[0].set_ylim(0.5, 1.0);
"""),
    md("""
One split and one seed say little about which search is better in general: the benchmark
(`python -m benchmarks.sklearn_search`, see *Benchmarks* in the docs) runs each over ten
held-out seeds and three tasks.
"""),
]


NOTEBOOKS = {
    "ask_tell_sklearn.ipynb": ASK_TELL,
    "dask_dashboard.ipynb": DASK,
    "comparing_runs.ipynb": COMPARE,
    "sklearn_search.ipynb": SKLEARN_SEARCH,
}


def build(cells: List[Cell]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = build(cells)
        nbformat.validate(nb)
        path = HERE / name
        nbformat.write(nb, path)
        print(path)


if __name__ == "__main__":
    main()
