"""Figures of a run (matplotlib, an optional extra: ``pip install 'smacish[plot]'``).

Each function returns a ``matplotlib.figure.Figure``; pass ``ax=`` to draw into your own axes.

>>> import smacish, smacish.plotting
>>> from ConfigSpace import ConfigurationSpace
>>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}), smacish.Hyperband(min_budget=1, max_budget=9))
>>> _ = opt.optimize(lambda config, budget: config["x"] + 1 / budget, n_trials=22)
>>> fig = smacish.plotting.plot_trajectory(opt, x="n_trials")
>>> fig.axes[0].get_xlabel()
'finished trials'
"""

from __future__ import annotations

import warnings
from typing import Any, List, Optional, Sequence, Union

import numpy as np

from smacish.intensifiers.parallel_scheduler import ParallelScheduler
from smacish.runhistory import RunHistory
from smacish.trajectory import Trajectory
from smacish.trial import StatusType

X_AXES = {"walltime": "wall time (s)", "n_trials": "finished trials", "budget_spent": "budget spent"}


def _plt() -> Any:
    try:
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg",) and not _interactive():
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'smacish[plot]'") from err
    return plt


def _interactive() -> bool:
    import sys

    return "ipykernel" in sys.modules or hasattr(sys, "ps1")


def _axes(ax: Any, figsize: tuple = (7, 4)) -> tuple:
    if ax is not None:
        return ax.figure, ax
    fig, ax = _plt().subplots(figsize=figsize)
    return fig, ax


def _say_empty(ax: Any, message: str) -> None:
    """A message in the middle of axes that have nothing to draw (rather than empty axes)."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", color="0.4")


def _trajectory_of(run: Any) -> Trajectory:
    return run.trajectory if hasattr(run, "trajectory") else run


def plot_trajectory(
    runs: Union[Any, Sequence[Any]], x: str = "walltime", ax: Any = None,
    labels: Optional[Sequence[str]] = None, log_y: bool = False,
) -> Any:
    """The incumbent's cost over ``x`` ("walltime", "n_trials" or "budget_spent").

    ``runs``: an Optimizer or Trajectory, or a list of them, or a dict label -> list of runs
    (several runs of one label are drawn as their median with an interquartile band).
    """
    if x not in X_AXES:
        raise ValueError(f"x is {x!r}, but must be one of {sorted(X_AXES)}")
    if isinstance(runs, dict):
        groups = {label: list(group) for label, group in runs.items()}
    else:
        single = isinstance(runs, Trajectory) or hasattr(runs, "trajectory")
        runs = [runs] if single else list(runs)
        names = list(labels) if labels is not None else [f"run {i}" for i in range(len(runs))]
        groups = {name: [run] for name, run in zip(names, runs)}
    fig, ax = _axes(ax)
    for label, group in groups.items():
        trajectories = [_trajectory_of(r) for r in group]
        trajectories = [t for t in trajectories if len(t)]
        if not trajectories:
            continue
        if len(trajectories) == 1:
            xs = [getattr(e, x) for e in trajectories[0]]
            ys = [e.cost for e in trajectories[0]]
            ax.step(xs, ys, where="post", label=label)
            continue
        end = max(getattr(t[-1], x) for t in trajectories)
        grid = np.linspace(0, end, 200)
        curves = np.array([_step_values(t, x, grid) for t in trajectories])
        with warnings.catch_warnings():  # grid points before any run's first entry are all-NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(curves, axis=0)
            q1, q3 = np.nanpercentile(curves, 25, axis=0), np.nanpercentile(curves, 75, axis=0)
        (line,) = ax.plot(grid, median, label=f"{label} (median of {len(trajectories)})")
        ax.fill_between(grid, q1, q3, alpha=0.25, color=line.get_color())
    if not ax.lines:
        _say_empty(ax, "no successful trial yet")
    ax.set_xlabel(X_AXES[x])
    ax.set_ylabel("incumbent cost")
    if log_y:
        ax.set_yscale("log")
    ax.set_title("Incumbent trajectory")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    return fig


def _step_values(trajectory: Trajectory, x: str, grid: np.ndarray) -> np.ndarray:
    xs = np.array([getattr(e, x) for e in trajectory], dtype=float)
    ys = np.array([e.cost for e in trajectory], dtype=float)
    idx = np.searchsorted(xs, grid, side="right") - 1
    out = np.where(idx >= 0, ys[np.clip(idx, 0, None)], np.nan)
    return out


def plot_learning_curves(runhistory: RunHistory, ax: Any = None, max_configs: Optional[int] = 50) -> Any:
    """Cost against budget for each configuration (one line per configuration across the
    stages it reached); the ``max_configs`` that reached the highest budgets are drawn."""
    fig, ax = _axes(ax)
    curves: dict = {}
    for info, value in runhistory.items():
        cid = runhistory.config_id(info.config)
        if info.budget is not None and value.status is StatusType.SUCCESS:
            curves.setdefault(cid, set()).add(info.budget)
    ranked = sorted(curves, key=lambda c: (-len(curves[c]), c))
    if max_configs is not None:
        ranked = ranked[:max_configs]
    for cid in ranked:
        config = runhistory.get_config(cid)
        budgets = sorted(curves[cid])
        costs = [runhistory.get_cost(config, b) for b in budgets]
        ax.plot(budgets, costs, marker="o", markersize=3, linewidth=1, alpha=0.8)
    if ranked:
        ax.set_xscale("log")
    else:
        _say_empty(ax, "no successful trial yet")
    ax.set_xlabel("budget")
    ax.set_ylabel("cost")
    ax.set_title(f"Learning curves ({len(ranked)} configurations)")
    return fig


def plot_worker_timeline(runhistory: RunHistory, ax: Any = None) -> Any:
    """A Gantt chart: one row per worker, one bar per trial (coloured by budget); the gaps
    between bars are idle time."""
    fig, ax = _axes(ax, figsize=(8, 4))
    rows: dict = {}
    spans = []
    for info, value in runhistory.items():
        if value.endtime <= value.starttime:
            continue
        worker = value.additional_info.get("worker", "in-process")
        rows.setdefault(worker, len(rows))
        spans.append((rows[worker], value.starttime, value.endtime, info.budget or 1.0))
    if spans:
        t0 = min(s for _, s, _, _ in spans)
        budgets = np.log([b for *_, b in spans])
        norm = (budgets - budgets.min()) / (np.ptp(budgets) or 1.0)
        cmap = _plt().get_cmap("viridis")
        for (row, start, end, _), shade in zip(spans, norm):
            ax.barh(row, end - start, left=start - t0, height=0.8, color=cmap(shade), edgecolor="none")
    else:
        _say_empty(ax, "no finished trial yet")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([str(w).replace("tcp://", "") for w in rows])
    ax.set_xlabel("wall time (s)")
    ax.set_ylabel("worker")
    util = runhistory.utilisation(len(rows) or None) if spans else 0.0
    ax.set_title(f"Worker timeline (utilisation {util:.2f}; colour: budget)")
    return fig


def plot_brackets(intensifier: ParallelScheduler, ax: Any = None) -> Any:
    """The bracket table: for each bracket, the number of configurations at each budget."""
    fig, ax = _axes(ax)
    schedules = intensifier.schedules
    budgets = intensifier.budgets
    width = 0.8 / len(schedules)
    for k, schedule in enumerate(schedules):
        positions = [budgets.index(b) + k * width for _, b in schedule]
        ax.bar(positions, [n for n, _ in schedule], width=width, label=f"bracket {k}")
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(budgets))])
    ax.set_xticklabels([f"{b:g}" for b in budgets])
    ax.set_xlabel("budget")
    ax.set_ylabel("configurations")
    ax.set_title(f"{type(intensifier).__name__} brackets (eta={intensifier.eta})")
    ax.legend()
    return fig


def save_all(optimizer_or_dir: Any, directory: Any) -> List[str]:
    """Write every figure of a run as PNG into ``directory``; returns the file names."""
    from pathlib import Path

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    opt = optimizer_or_dir
    figures = {
        "trajectory.png": plot_trajectory(opt, x="walltime"),
        "learning_curves.png": plot_learning_curves(opt.runhistory),
        "worker_timeline.png": plot_worker_timeline(opt.runhistory),
        "brackets.png": plot_brackets(opt.intensifier),
    }
    plt = _plt()
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
    return sorted(figures)
