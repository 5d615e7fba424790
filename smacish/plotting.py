"""Figures of a run (matplotlib, an optional extra: ``pip install 'smacish[plot]'``).

Each function returns a ``matplotlib.figure.Figure``; pass ``ax=`` to draw into your own axes.
A run is an Optimizer or a run directory (a path, read as ``smacish status`` reads it); the
figures of trials also take a RunHistory. Where colour carries meaning there is a colour bar;
failed trials (crashed, timed out, out of memory) are red crosses, on the top edge of the axes
where they have no cost to be placed at; axes with nothing to draw say why.

>>> import smacish, smacish.plotting
>>> from ConfigSpace import ConfigurationSpace
>>> space = ConfigurationSpace({"x": (0.0, 1.0)})
>>> opt = smacish.Optimizer(space, smacish.Hyperband(min_budget=1, max_budget=9))
>>> _ = opt.optimize(lambda config, budget: config["x"] + 1 / budget, n_trials=22)
>>> fig = smacish.plotting.plot_trajectory(opt, x="n_trials")
>>> fig.axes[0].get_xlabel()
'finished trials'
"""

from __future__ import annotations

import io
import math
import os
import textwrap
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from smacish._io import PathLike, atomic_write_bytes
from smacish.analysis import (
    ForestModel,
    NotEnoughData,
    budgets_of,
    check_budget,
    importance,
    one_objective,
    runhistory_of,
    successful_costs,
)
from smacish.intensifiers.parallel_scheduler import ParallelScheduler
from smacish.runhistory import RunHistory
from smacish.selection._encoding import CATEGORICAL, ORDINAL, SpaceEncoder
from smacish.trajectory import Trajectory
from smacish.trial import StatusType

X_AXES = {"walltime": "wall time (s)", "n_trials": "finished trials", "budget_spent": "budget spent"}
FAILED_LABEL = "crashed / timed out"
CMAP = "viridis"


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
    ax.text(0.5, 0.5, textwrap.fill(message, 60), transform=ax.transAxes, ha="center", va="center",
            color="0.4")


def _run_of(source: Any) -> Any:
    """A path becomes the run directory's read-only view; anything else is returned as is."""
    if isinstance(source, (str, os.PathLike)):
        from smacish.cli import RunView

        return RunView.read(os.fspath(source))
    return source


def _failed(value: Any) -> bool:
    return value.status is not StatusType.SUCCESS


def _mark_failed(ax: Any, xs: Sequence[float]) -> Any:
    """Red crosses on the top edge of ``ax`` at ``xs`` (data units), one per failed trial."""
    if not len(xs):
        return None
    (line,) = ax.plot(list(xs), [1.0] * len(xs), linestyle="none", marker="x", color="tab:red",
                      markersize=6, clip_on=False, zorder=5, transform=ax.get_xaxis_transform(),
                      label=f"{FAILED_LABEL} ({len(xs)})")
    return line


def _budget_norm(budgets: Sequence[float]) -> Any:
    from matplotlib.colors import LogNorm

    low, high = min(budgets), max(budgets)
    if high <= low:  # one budget: any colour will do
        low, high = low / 2, high * 2
    return LogNorm(low, high)


def _colourbar(fig: Any, ax: Any, mappable: Any, label: str, ticks: Optional[Sequence[float]] = None) -> Any:
    """A colour bar beside ``ax``; ``ticks`` (the run's budgets) label it, when there are a few."""
    bar = fig.colorbar(mappable, ax=ax, label=label)
    if ticks is not None and len(set(ticks)) <= 12:
        ticks = sorted(set(ticks))
        bar.minorticks_off()
        bar.set_ticks(ticks)
        bar.set_ticklabels([f"{t:g}" for t in ticks])
    return bar


def _budget_text(budget: Optional[float]) -> str:
    return "no budgets" if budget is None else f"budget {budget:g}"


def _nothing_finished(rh: RunHistory, ax: Any) -> Any:
    """A figure that says so when ``rh`` has no finished trial yet, else None."""
    if rh.configspace is not None and len(rh):
        return None
    fig, ax = _axes(ax)
    _say_empty(ax, "no finished trial yet")
    return fig


# ---------------------------------------------------------------------- trajectory
def _trajectory_of(run: Any) -> Trajectory:
    run = _run_of(run)
    return run.trajectory if hasattr(run, "trajectory") else run


def _run_end(run: Any, x: str) -> Optional[float]:
    """Where the run ended on axis ``x`` (its last finished trial), when the run is known."""
    runhistory = getattr(_run_of(run), "runhistory", None)
    if not isinstance(runhistory, RunHistory) or not len(runhistory):
        return None
    if x == "n_trials":
        return float(len(runhistory))
    if x == "budget_spent":
        return runhistory.budget_spent
    times = [t for t in (runhistory.walltime(info) for info, _ in runhistory.items()) if t is not None]
    return max(times) if times else None


def plot_trajectory(
    runs: Union[Any, Sequence[Any]], x: str = "walltime", ax: Any = None,
    labels: Optional[Sequence[str]] = None, log_y: bool = False,
) -> Any:
    """The incumbent's cost over ``x`` ("walltime", "n_trials" or "budget_spent").

    ``runs``: an Optimizer, run directory or Trajectory, or a list of them, or a dict label ->
    list of runs (several runs of one label are drawn as their median with an interquartile
    band). A single run is drawn to the end of the run (its last finished trial; a bare
    Trajectory only knows its last change), with a dot at each change coloured by the budget
    the incumbent was judged on: a cost that rises is the incumbent moving to a larger budget.
    """
    if x not in X_AXES:
        raise ValueError(f"x is {x!r}, but must be one of {sorted(X_AXES)}")
    if isinstance(runs, dict):
        groups = {label: list(group) for label, group in runs.items()}
    else:
        runs = _run_of(runs)
        single = isinstance(runs, Trajectory) or hasattr(runs, "trajectory")
        runs = [runs] if single else list(runs)
        names = list(labels) if labels is not None else [f"run {i}" for i in range(len(runs))]
        groups = {name: [run] for name, run in zip(names, runs)}
    for group in groups.values():
        for run in group:
            if getattr(getattr(_run_of(run), "runhistory", None), "objectives", None):
                raise ValueError("this run has several objectives, so no incumbent's cost to draw over time; "
                                 "plot_pareto_front(run) draws its front")
    fig, ax = _axes(ax)
    changes = []  # (xs, costs, budgets, line) of the single runs
    for label, group in groups.items():
        ends = [(_trajectory_of(r), _run_end(r, x)) for r in group]
        ends = [(t, end) for t, end in ends if len(t)]
        if not ends:
            continue
        if len(ends) == 1:
            trajectory, end = ends[0]
            xs = [getattr(e, x) for e in trajectory]
            ys = [e.cost for e in trajectory]
            steps_x, steps_y = list(xs), list(ys)
            if end is not None and end > xs[-1]:
                steps_x.append(end)
                steps_y.append(ys[-1])
            (line,) = ax.step(steps_x, steps_y, where="post", label=label)
            changes.append((xs, ys, [e.budget for e in trajectory], line))
            continue
        trajectories = [t for t, _ in ends]
        end = max(max(getattr(t[-1], x), e if e is not None else -math.inf) for t, e in ends)
        grid = np.linspace(0, end, 200)
        curves = np.array([_step_values(t, x, grid) for t in trajectories])
        with warnings.catch_warnings():  # grid points before any run's first entry are all-NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(curves, axis=0)
            q1, q3 = np.nanpercentile(curves, 25, axis=0), np.nanpercentile(curves, 75, axis=0)
        (line,) = ax.plot(grid, median, label=f"{label} (median of {len(trajectories)})")
        ax.fill_between(grid, q1, q3, alpha=0.25, color=line.get_color())
    if changes:
        budgets = [b for _, _, bs, _ in changes for b in bs]
        norm = _budget_norm(budgets)
        for xs, ys, bs, line in changes:
            dots = ax.scatter(xs, ys, c=bs, cmap=CMAP, norm=norm, s=22, zorder=3,
                              edgecolors=line.get_color(), linewidths=0.8)
        _colourbar(fig, ax, dots, "budget of the incumbent", budgets)
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


# ---------------------------------------------------------------------- learning curves
def _set_budget_ticks(ax: Any, budgets: Sequence[float]) -> None:
    """The x axis ticks at the run's budgets (log scale for several), labelled as given."""
    from matplotlib.ticker import NullLocator

    budgets = sorted(set(budgets))
    if len(budgets) > 1:
        ax.set_xscale("log")
    ax.set_xticks(budgets)
    ax.set_xticklabels([f"{b:g}" for b in budgets])
    ax.xaxis.set_minor_locator(NullLocator())


def plot_learning_curves(runhistory: Any, ax: Any = None, max_configs: Optional[int] = 50,
                         objective: Optional[str] = None) -> Any:
    """Cost against budget for each configuration (one line per configuration across the
    stages it reached), coloured by its cost on the last budget it reached; the
    ``max_configs`` that reached the highest budgets are drawn. Points a target reported with
    ``trial.report(step, cost)`` are drawn as a thin line of the same colour, the step on the
    budget axis. ``runhistory`` may also be an Optimizer or a run directory; ``objective``
    names the cost to draw in a run with several objectives."""
    rh = one_objective(runhistory_of(runhistory), objective)
    fig, ax = _axes(ax)
    curves: dict = {}
    reported: dict = {}  # config id -> {step: cost}, later trials' points over earlier ones
    failed = []
    for info, value in rh.items():
        if info.budget is None:
            continue
        points = value.additional_info.get("reports") or ()
        if points:
            reported.setdefault(rh.config_number(info.config), {}).update({float(s): float(c) for s, c in points})
        if _failed(value):
            failed.append(info.budget)
        else:
            curves.setdefault(rh.config_number(info.config), set()).add(info.budget)
    ranked = sorted(curves, key=lambda c: (-len(curves[c]), c))
    if max_configs is not None:
        ranked = ranked[:max_configs]
    lines = []
    for cid in ranked:
        config = rh.get_config(cid)
        budgets = sorted(curves[cid])
        lines.append((budgets, [rh.get_cost(config, b) for b in budgets], sorted(reported.get(cid, {}).items())))
    finals = np.array([costs[-1] for _, costs, _ in lines], dtype=float)
    if lines and np.isfinite(finals).any():
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        norm = Normalize(np.nanmin(finals[np.isfinite(finals)]), np.nanmax(finals[np.isfinite(finals)]))
        cmap = _plt().get_cmap(CMAP)
        for (budgets, costs, points), final in zip(lines, finals):
            colour = cmap(norm(final)) if math.isfinite(final) else "0.6"
            if points:
                ax.plot([p for p, _ in points], [c for _, c in points], linewidth=0.6, alpha=0.5,
                        color=colour, gid="reported")
            ax.plot(budgets, costs, marker="o", markersize=3, linewidth=1, alpha=0.8, color=colour)
        _colourbar(fig, ax, ScalarMappable(norm=norm, cmap=cmap), "cost on its last budget")
    elif any(info.budget is None for info, _ in rh.items()):
        _say_empty(ax, "this run has no budgets (instance-based): no learning curves")
    else:
        _say_empty(ax, "no successful trial yet")
    all_budgets = [info.budget for info, _ in rh.items() if info.budget is not None]
    if all_budgets:
        _set_budget_ticks(ax, all_budgets)
    if _mark_failed(ax, failed) is not None:
        ax.legend(loc="upper right")
    ax.set_xlabel("budget")
    ax.set_ylabel("cost")
    ax.set_title(f"Learning curves ({len(ranked)} configurations)")
    return fig


# ---------------------------------------------------------------------- worker timeline
def plot_worker_timeline(runhistory: Any, ax: Any = None) -> Any:
    """A Gantt chart: one row per worker, one bar per trial (coloured by budget, with a colour
    bar; failed trials hatched with a red edge); the gaps between bars are idle time.
    ``runhistory`` may also be an Optimizer or a run directory."""
    rh = runhistory_of(runhistory)
    fig, ax = _axes(ax, figsize=(8, 4))
    rows: dict = {}
    spans = []
    for info, value in rh.items():
        if value.endtime <= value.starttime:
            continue
        worker = value.additional_info.get("worker", "in-process")
        rows.setdefault(worker, len(rows))
        spans.append((rows[worker], value.starttime, value.endtime, info.budget or 1.0, _failed(value)))
    if spans:
        t0 = min(s for _, s, *_ in spans)
        budgets = [b for *_, b, _ in spans]
        norm = _budget_norm(budgets)
        cmap = _plt().get_cmap(CMAP)
        for row, start, end, budget, failed in spans:
            ax.barh(row, end - start, left=start - t0, height=0.8, color=cmap(norm(budget)),
                    edgecolor="tab:red" if failed else "none", hatch="xx" if failed else None,
                    linewidth=1.0 if failed else 0.0)
        from matplotlib.cm import ScalarMappable
        from matplotlib.patches import Patch

        _colourbar(fig, ax, ScalarMappable(norm=norm, cmap=cmap), "budget", budgets)
        n_failed = sum(failed for *_, failed in spans)
        if n_failed:
            ax.legend(handles=[Patch(facecolor="white", edgecolor="tab:red", hatch="xx",
                                     label=f"{FAILED_LABEL} ({n_failed})")], loc="upper right")
    else:
        _say_empty(ax, "no finished trial yet")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([str(w).replace("tcp://", "") for w in rows])
    ax.set_xlabel("wall time (s)")
    ax.set_ylabel("worker")
    util = rh.utilisation(len(rows) or None) if spans else 0.0
    ax.set_title(f"Worker timeline (utilisation {util:.2f})")
    return fig


# ---------------------------------------------------------------------- importance
def plot_importance(
    source: Any, budget: Optional[float] = None, *, pairs: bool = False, method: str = "auto",
    top: Optional[int] = 15, ax: Any = None, objective: Optional[str] = None,
) -> Any:
    """Bars of :func:`smacish.analysis.importance` (share of the cost's variance, with its
    standard deviation over trees), most important at the top; ``top`` bars at most.
    ``objective`` as in :func:`~smacish.analysis.importance`.

    ``source``: an Optimizer, RunHistory or run directory, or a DataFrame that
    ``importance`` returned. A run with too little data shows why instead of bars.

    >>> import smacish
    >>> from ConfigSpace import ConfigurationSpace
    >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}), smacish.SuccessiveHalving(1, 9))
    >>> _ = opt.optimize(lambda config, budget: 3 * config["x"] + config["y"], n_trials=30)
    >>> [label.get_text() for label in plot_importance(opt, budget=1).axes[0].get_yticklabels()]
    ['x', 'y']
    """
    fig, ax = _axes(ax)
    ax.set_title("Hyperparameter importance")
    if hasattr(source, "attrs") and hasattr(source, "columns"):
        frame = source
    else:
        try:
            frame = importance(source, budget, pairs=pairs, method=method, objective=objective)
        except NotEnoughData as err:
            _say_empty(ax, str(err))
            return fig
    shown = frame.head(top) if top else frame
    positions = np.arange(len(shown))
    share, std = shown["importance"].to_numpy(), shown["std"].to_numpy()
    spread = [np.minimum(std, share), np.minimum(std, 1.0 - share)]  # a share stays in 0..1
    ax.barh(positions, share, xerr=spread, color="tab:blue", ecolor="0.3", capsize=3)
    ax.set_yticks(positions)
    ax.set_yticklabels(list(shown["hyperparameter"]))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the cost's variance")
    ax.set_title(f"Hyperparameter importance ({frame.attrs.get('method')}, "
                 f"{_budget_text(frame.attrs.get('budget'))})")
    return fig


# ---------------------------------------------------------------------- slices
def _choices(hp: Any) -> Optional[list]:
    """The values of a categorical, ordinal or constant hyperparameter (None for a number)."""
    for attribute in ("choices", "sequence"):
        if hasattr(hp, attribute):
            return list(getattr(hp, attribute))
    if not hasattr(hp, "lower"):
        return [hp.value]
    return None


def _hyperparameters(space: Any, names: Optional[Sequence[str]], n: Optional[int] = None) -> List[str]:
    known = list(space.keys())
    if names is None:
        return known
    names = list(names)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"hyperparameters {unknown} are not in the search space; it has {known}")
    if n is not None and len(names) != n:
        raise ValueError(f"hyperparameters must name {n}, got {len(names)}: {names}")
    return names


def plot_slice(source: Any, hyperparameters: Optional[Sequence[str]] = None, ax: Any = None,
               objective: Optional[str] = None) -> Any:
    """Cost against each hyperparameter, one panel each, every successful trial a dot
    coloured by its budget (colour bar); failed trials are crosses on the top edge.

    ``source``: an Optimizer, RunHistory or run directory. ``ax``: one Axes per hyperparameter
    shown (a single Axes when one is shown).

    >>> import smacish
    >>> from ConfigSpace import ConfigurationSpace
    >>> opt = smacish.Optimizer(ConfigurationSpace({"lr": (1e-4, 1.0), "units": (8, 64)}), smacish.Hyperband(1, 9))
    >>> _ = opt.optimize(lambda config, budget: config["lr"] / budget, n_trials=10)
    >>> [ax.get_xlabel() for ax in plot_slice(opt).axes]
    ['lr', 'units', '']
    """
    rh = one_objective(runhistory_of(source), objective)
    empty = _nothing_finished(rh, ax)
    if empty is not None:
        return empty
    space = rh.configspace
    names = _hyperparameters(space, hyperparameters)
    if ax is None:
        ncols = min(len(names), 4)
        nrows = math.ceil(len(names) / ncols)
        fig, grid = _plt().subplots(nrows, ncols, figsize=(3.2 * ncols + 1, 2.8 * nrows), sharey=True,
                                    squeeze=False)
        axes = list(grid.ravel())
        for extra in axes[len(names):]:
            extra.remove()
        axes = axes[:len(names)]
        fig.suptitle("Cost against each hyperparameter")
    else:
        axes = [ax] if not isinstance(ax, (list, tuple, np.ndarray)) else list(np.ravel(ax))
        if len(axes) != len(names):
            raise ValueError(f"ax must be {len(names)} Axes, one per hyperparameter shown; got {len(axes)}")
        fig, ncols = axes[0].figure, len(axes)
    trials = list(rh.items())
    budgets = [info.budget or 1.0 for info, _ in trials]
    norm = _budget_norm(budgets)
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(trials))
    for i, (name, a) in enumerate(zip(names, axes)):
        hp = space[name]
        choices = _choices(hp)
        xs, ys, bs, failed = [], [], [], []
        for (info, value), budget, shift in zip(trials, budgets, jitter):
            if name not in info.config:
                continue  # inactive
            x = info.config[name]
            x = choices.index(x) + shift if choices is not None else x
            if _failed(value):
                failed.append(x)
            else:
                xs.append(x)
                ys.append(value.cost)
                bs.append(budget)
        dots = a.scatter(xs, ys, c=bs, cmap=CMAP, norm=norm, s=14, alpha=0.8, edgecolors="none")
        if choices is not None:
            labels = [str(c) for c in choices]
            a.set_xticks(range(len(choices)))
            a.set_xticklabels(labels, rotation=30 if sum(map(len, labels)) > 15 else 0,
                              ha="right" if sum(map(len, labels)) > 15 else "center")
            a.set_xlim(-0.5, len(choices) - 0.5)
        elif getattr(hp, "log", False):
            a.set_xscale("log")
        if _mark_failed(a, failed) is not None and i == 0:
            a.legend(loc="best", fontsize="small")
        if not xs:
            _say_empty(a, "no successful trial: only failed ones" if failed else "no successful trial yet")
        a.set_xlabel(name)
        if i % ncols == 0:
            a.set_ylabel("cost")
    _colourbar(fig, axes, dots, "budget", budgets)
    return fig


# ---------------------------------------------------------------------- parallel coordinates
def _parallel_budget(rh: RunHistory, budget: Optional[float]) -> Optional[float]:
    """``budget`` (checked), or the highest budget with two successful configurations (to
    compare), else the highest with one, else the highest with a finished trial."""
    if budget is not None:
        return check_budget(rh, budget)
    levels = budgets_of(rh)
    ok = successful_costs(rh)
    for need in (2, 1):
        enough = [b for b in levels if len(ok.get(b, {})) >= need]
        if enough:
            return enough[-1]
    return levels[-1]


def plot_parallel_coordinates(source: Any, budget: Optional[float] = None, ax: Any = None,
                              objective: Optional[str] = None) -> Any:
    """One vertical axis per hyperparameter and one for the cost; each configuration with a
    trial on ``budget`` is a line through its values, coloured by its mean cost (colour
    bar). Failed configurations are dashed grey lines with a cross above the cost axis; an
    inactive hyperparameter leaves a gap.

    ``budget``: by default the highest budget on which two configurations succeeded.

    >>> from ConfigSpace import ConfigurationSpace
    >>> from smacish import RunHistory, TrialInfo, TrialValue
    >>> cs = ConfigurationSpace({"depth": (1, 9), "kind": ["a", "b"]}, seed=0)
    >>> rh = RunHistory(cs)
    >>> for c in cs.sample_configuration(5):
    ...     rh.add(TrialInfo(c, budget=1.0), TrialValue(cost=c["depth"]))
    >>> fig = plot_parallel_coordinates(rh)
    >>> [label.get_text() for label in fig.axes[0].get_xticklabels()], fig.axes[0].get_title()
    (['depth', 'kind', 'cost'], 'Parallel coordinates on budget 1 (5 configurations, 0 failed)')
    """
    rh = one_objective(runhistory_of(source), objective)
    empty = _nothing_finished(rh, ax)
    if empty is not None:
        return empty
    space = rh.configspace
    from matplotlib.collections import LineCollection

    names = list(space.keys())
    d = len(names)
    fig, ax = _axes(ax, figsize=(max(6.0, 1.4 * (d + 1)), 4))
    level = _parallel_budget(rh, budget)
    costs = successful_costs(rh).get(level, {})
    tried = {rh.config_number(i.config) for i, _ in rh.items()
             if (None if i.budget is None else float(i.budget)) == level}
    ok_ids = sorted(costs)
    failed_ids = sorted(tried - set(costs))
    encoder = SpaceEncoder(space)
    scale = np.where(encoder.kinds == CATEGORICAL, np.maximum(encoder.sizes - 1, 1), 1.0)
    scale = np.where(encoder.kinds == ORDINAL, np.maximum(encoder.sizes - 1, 1), scale)

    def columns(ids: List[int]) -> np.ndarray:
        return encoder.vectors_of([rh.get_config(c) for c in ids]) / scale  # NaN: inactive

    mean = np.array([np.mean(costs[c]) for c in ok_ids])
    if len(ok_ids):
        low, high = float(mean.min()), float(mean.max())
        y_cost = (mean - low) / (high - low) if high > low else np.full(len(mean), 0.5)
        points = np.column_stack([columns(ok_ids), y_cost])
        lines = LineCollection([np.column_stack([np.arange(d + 1), p]) for p in points], cmap=CMAP,
                               linewidths=1.0, alpha=0.8)
        lines.set_array(mean)
        ax.add_collection(lines)
        _colourbar(fig, ax, lines, f"mean cost on {_budget_text(level)}")
        for y, text in ((0.0, f"{low:.4g}"), (1.0, f"{high:.4g}")):
            ax.text(d + 0.04, y, text, fontsize=7, va="center", ha="left")
    if failed_ids:
        ax.add_collection(LineCollection([np.column_stack([np.arange(d), p]) for p in columns(failed_ids)],
                                         colors="0.6", linestyles="dashed", linewidths=0.8))
        _mark_failed(ax, [d] * len(failed_ids))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize="small", frameon=False)
    if not ok_ids:
        _say_empty(ax, f"no successful trial on {_budget_text(level)}")
    for j, name in enumerate(names):
        hp = space[name]
        choices = _choices(hp)
        if choices is not None:
            for k, choice in enumerate(choices):
                ax.text(j + 0.04, k / max(len(choices) - 1, 1), str(choice), fontsize=7, va="center")
        else:
            for y, bound in ((0.0, hp.lower), (1.0, hp.upper)):
                ax.text(j + 0.04, y, f"{bound:g}", fontsize=7, va="center")
    for j in range(d + 1):
        ax.axvline(j, color="0.3", linewidth=0.8)
    ax.set_xticks(range(d + 1))
    ax.set_xticklabels(names + ["cost"])
    ax.set_yticks([])
    ax.set_xlim(-0.2, d + 0.5)
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(f"Parallel coordinates on {_budget_text(level)} "
                 f"({len(ok_ids)} configurations, {len(failed_ids)} failed)")
    return fig


# ---------------------------------------------------------------------- contour
def _grid(encoder: SpaceEncoder, j: int, hp: Any, resolution: int
          ) -> Tuple[np.ndarray, np.ndarray, Optional[list]]:
    """Encoded values to predict at, where they go on the axis, and tick labels (choices)."""
    choices = _choices(hp)
    if choices is not None:
        n = len(choices)
        encoded = np.arange(n, dtype=float) if encoder.kinds[j] == CATEGORICAL else np.linspace(0, 1, n)
        return encoded, np.arange(n, dtype=float), [str(c) for c in choices]
    encoded = np.linspace(0.0, 1.0, resolution)
    return encoded, _to_value(hp, encoded), None


def _to_value(hp: Any, vector: np.ndarray) -> np.ndarray:
    """A numeric hyperparameter's values at vector positions in [0, 1] (unrounded integers)."""
    if getattr(hp, "log", False):
        return np.exp(np.log(hp.lower) + vector * (np.log(hp.upper) - np.log(hp.lower)))
    return hp.lower + vector * (hp.upper - hp.lower)


def plot_contour(
    source: Any, hyperparameters: Optional[Sequence[str]] = None, budget: Optional[float] = None,
    ax: Any = None, resolution: int = 40, n_trees: int = 32, seed: int = 0, objective: Optional[str] = None,
) -> Any:
    """The forest's predicted cost over two hyperparameters, averaged over all the others
    (the fANOVA marginal), as filled contours with a colour bar; the configurations the
    forest learnt from are white dots.

    ``hyperparameters``: two names; by default the two most important (fANOVA). ``budget``
    as in :func:`smacish.analysis.importance`.

    >>> import smacish
    >>> from ConfigSpace import ConfigurationSpace
    >>> space = ConfigurationSpace({"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)}, seed=0)
    >>> opt = smacish.Optimizer(space, smacish.SuccessiveHalving(1, 3), selector="random")
    >>> _ = opt.optimize(lambda config, budget: config["c"] + 2 * config["a"], n_trials=40)
    >>> ax = plot_contour(opt, budget=1, resolution=10).axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('a', 'c')
    """
    rh = one_objective(runhistory_of(source), objective)
    fig, ax = _axes(ax)
    ax.set_title("Predicted cost")
    try:
        model = ForestModel.fit(rh, budget, n_trees=n_trees, seed=seed)
        names = model.encoder.names
        if len(names) < 2:
            _say_empty(ax, f"a contour needs two hyperparameters; this search space has {len(names)}")
            return fig
        if hyperparameters is None:
            shares = model.fanova()
            ranked = sorted(range(len(names)), key=lambda j: -float(np.mean(shares[(j,)])))
            j, k = ranked[:2]
        else:
            j, k = (names.index(n) for n in _hyperparameters(rh.configspace, hyperparameters, 2))
    except NotEnoughData as err:
        _say_empty(ax, str(err))
        return fig
    space = rh.configspace
    hp_j, hp_k = space[names[j]], space[names[k]]
    enc_j, pos_j, ticks_j = _grid(model.encoder, j, hp_j, resolution)
    enc_k, pos_k, ticks_k = _grid(model.encoder, k, hp_k, resolution)
    z = model.marginal(j, k, enc_j, enc_k).T
    if ticks_j is None and ticks_k is None:
        filled = ax.contourf(pos_j, pos_k, z, levels=12, cmap=CMAP)
    else:
        filled = ax.pcolormesh(pos_j, pos_k, z, shading="nearest", cmap=CMAP)
    _colourbar(fig, ax, filled, f"predicted cost on {_budget_text(model.budget)}")
    observed = []
    for column, hp, ticks, encoded in ((j, hp_j, ticks_j, enc_j), (k, hp_k, ticks_k, enc_k)):
        values = model.X[:, column]
        if ticks is None:
            observed.append(np.where(values >= 0, _to_value(hp, np.clip(values, 0, 1)), np.nan))
        else:  # encoded choice -> its position; the inactive value matches none
            match = np.isclose(values[:, None], encoded[None, :])
            observed.append(np.where(match.any(axis=1), match.argmax(axis=1), np.nan))
    ax.scatter(observed[0], observed[1], s=14, color="white", edgecolors="black", linewidths=0.5,
               label=f"configurations ({len(model.y)})")
    for ticks, set_ticks, set_labels, set_scale, hp in (
            (ticks_j, ax.set_xticks, ax.set_xticklabels, ax.set_xscale, hp_j),
            (ticks_k, ax.set_yticks, ax.set_yticklabels, ax.set_yscale, hp_k)):
        if ticks is not None:
            set_ticks(range(len(ticks)))
            set_labels(ticks)
        elif getattr(hp, "log", False):
            set_scale("log")
    ax.set_xlabel(names[j])
    ax.set_ylabel(names[k])
    ax.set_title(f"Predicted cost: {names[j]} and {names[k]} ({_budget_text(model.budget)})")
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




# ---------------------------------------------------------------------- several objectives
def plot_pareto_front(source: Any, objectives: Optional[Sequence[str]] = None, budget: Optional[float] = None,
                      ax: Any = None) -> Any:
    """Two objectives against each other: every configuration with a successful trial on
    ``budget`` (by default the one the front is judged on) as a dot, the Pareto front as a
    staircase through its members, in the user's direction.

    ``objectives``: the two to draw (names), by default the first two.

    >>> import smacish
    >>> from ConfigSpace import ConfigurationSpace
    >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}, seed=0), smacish.SuccessiveHalving(1, 1),
    ...                         objectives=["a", "b"])
    >>> _ = opt.optimize(lambda config: {"a": config["x"], "b": 1 - config["x"] ** 0.5}, n_trials=12)
    >>> ax = plot_pareto_front(opt).axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel(), ax.get_title().startswith("Pareto front")
    ('a', 'b', True)
    """
    rh = runhistory_of(source)
    if rh.objectives is None:
        raise ValueError("plot_pareto_front is for runs with several objectives (Optimizer(objectives=[...])); "
                         "plot_trajectory draws a run with one")
    names = list(objectives) if objectives is not None else rh.objectives[:2]
    unknown = [n for n in names if n not in rh.objectives]
    if len(names) != 2 or unknown:
        raise ValueError(f"objectives is {names!r}, but must be two of this run's objectives {rh.objectives}")
    i, j = (rh.objectives.index(n) for n in names)
    fig, ax = _axes(ax, figsize=(5.5, 4.5))
    front = rh.incumbents() if budget is None else rh.incumbents("highest_budget", max_budget=budget)
    level = front[0].budget if front else budget
    points = [(value.cost[i], value.cost[j]) for info, value in rh.items()
              if value.status is StatusType.SUCCESS and info.budget == level]
    if not points:
        _say_empty(ax, "no successful trial yet" if level is None else f"no successful trial on budget {level:g}")
        return fig
    xs, ys = zip(*points)
    ax.scatter(xs, ys, s=14, color="0.6", alpha=0.7, label=f"trials on {_budget_text(level)}")
    members = sorted({(inc.cost[i], inc.cost[j]) for inc in front}, reverse=rh.sign < 0)
    fx, fy = zip(*members)
    ax.step(fx, fy, where="post", color="C3", lw=1.5)
    ax.scatter(fx, fy, s=30, color="C3", zorder=3, label=f"Pareto front ({len(front)})")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(f"Pareto front on {_budget_text(level)}"
                 + (" (maximised)" if rh.sign < 0 else ""))
    ax.legend(loc="best", fontsize=8)
    return fig


FIGURES: Dict[str, Callable[[Any], Any]] = {
    "trajectory.png": lambda run: plot_trajectory(run, x="walltime"),
    "learning_curves.png": lambda run: plot_learning_curves(run.runhistory),
    "worker_timeline.png": lambda run: plot_worker_timeline(run.runhistory),
    "brackets.png": lambda run: plot_brackets(run.intensifier),
    "importance.png": lambda run: plot_importance(run.runhistory),
    "slice.png": lambda run: plot_slice(run.runhistory),
    "parallel_coordinates.png": lambda run: plot_parallel_coordinates(run.runhistory),
    "contour.png": lambda run: plot_contour(run.runhistory),
}
"""What :func:`save_all` writes: file name -> the figure of a run."""


def _figures_of(run: Any) -> Dict[str, Callable[[Any], Any]]:
    """``FIGURES``; with several objectives the front instead of the trajectory, and each
    cost-based figure once per objective (``slice-<objective>.png``)."""
    objectives = run.runhistory.objectives
    if not objectives:
        return FIGURES
    figures: Dict[str, Callable[[Any], Any]] = {"pareto_front.png": lambda run: plot_pareto_front(run.runhistory)}
    per_objective = {"learning_curves": plot_learning_curves, "importance": plot_importance, "slice": plot_slice,
                     "parallel_coordinates": plot_parallel_coordinates, "contour": plot_contour}
    for stem, plot in per_objective.items():
        for name in objectives:
            figures[f"{stem}-{name}.png"] = lambda run, plot=plot, name=name: plot(run.runhistory, objective=name)
    figures["worker_timeline.png"] = FIGURES["worker_timeline.png"]
    figures["brackets.png"] = FIGURES["brackets.png"]
    return figures


def save_all(run: Any, directory: PathLike) -> List[str]:
    """Write every figure of ``FIGURES`` of a run (an Optimizer or a run directory) as PNG
    into ``directory``, each file atomically; returns the file names, sorted. With several
    objectives: the Pareto front, and the cost-based figures once per objective."""
    run = _run_of(run)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    plt = _plt()
    figures = _figures_of(run)
    for name, draw in figures.items():
        fig = draw(run)
        try:
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
            atomic_write_bytes(out / name, buffer.getvalue())
        finally:
            plt.close(fig)
    return sorted(figures)
