"""The plots HpBandSter users know, drawn with matplotlib from a Result's runs.

Each function returns ``(fig, ax)`` (``show=True`` also calls ``plt.show()``)::

    import smacish.compat.hpbandster.visualization as hpvis
    all_runs = result.get_all_runs()
    hpvis.losses_over_time(all_runs)
    hpvis.concurrent_runs_over_time(all_runs)
    hpvis.finished_runs_over_time(all_runs)
    hpvis.correlation_across_budgets(result)
    hpvis.performance_histogram_model_vs_random(all_runs, result.get_id2config_mapping())
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np


def _plt() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the plots need matplotlib: pip install 'smacish[plot]'") from err
    return plt


def _finite(loss: Any) -> bool:
    return loss is not None and math.isfinite(loss)


def default_tool_tips(
    result_object: Any, learning_curves: Dict[Any, Any], include_run_info: bool = False
) -> Dict[Any, str]:
    """A text per configuration for :func:`interactive_HBS_plot`: id, duration of its longest
    successful run, its values, config_info and losses."""
    tool_tips = {}
    id2conf = result_object.get_id2config_mapping()
    for config_id in learning_curves:
        runs = [r for r in result_object.get_runs_by_id(config_id) if r.loss is not None]
        if not runs:
            continue
        longest = runs[-1]
        lines = [
            f"id: {config_id}",
            "duration (sec): %f" % (longest.time_stamps["finished"] - longest.time_stamps["started"]),
        ]
        lines += [f"{k}={v}" for k, v in sorted(id2conf[config_id]["config"].items())]
        info = id2conf[config_id].get("config_info")
        if isinstance(info, dict):
            lines += [f"{k}={v}" for k, v in sorted(info.items())]
        lines.append(f"losses: {[r.loss for r in runs]}")
        if include_run_info:
            lines.append(f"longest run info: {longest.info}")
        tool_tips[config_id] = "\n".join(lines)
    return tool_tips


def losses_over_time(
    runs: Sequence[Any],
    get_loss_from_run_fn: Callable[[Any], float] = lambda r: r.loss,
    cmap: Any = None,
    show: bool = False,
) -> Any:
    """Loss of every run against the time it finished, one colour per budget, with the best
    loss so far of each budget as a step line."""
    plt = _plt()
    cmap = plt.get_cmap("tab10") if cmap is None else cmap
    budgets = sorted({r.budget for r in runs})
    data: Dict[float, List[tuple]] = {b: [] for b in budgets}
    for r in runs:
        if r.loss is None:
            continue
        data[r.budget].append((r.time_stamps["finished"], get_loss_from_run_fn(r)))
    fig, ax = plt.subplots()
    for i, b in enumerate(budgets):
        points = np.array(sorted(data[b]), dtype=float).reshape(-1, 2)
        if not len(points):
            continue
        ax.scatter(points[:, 0], points[:, 1], color=cmap(i), label="b=%f" % b)
        ax.step(points[:, 0], np.minimum.accumulate(points[:, 1]), where="post", color=cmap(i))
    ax.set_title("Losses for different budgets over time")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("loss")
    if budgets:
        ax.legend()
    if show:
        plt.show()
    return fig, ax


def concurrent_runs_over_time(runs: Sequence[Any], num_points: int = 512, show: bool = False) -> Any:
    """How many runs were going on at each moment (the workers' occupation)."""
    plt = _plt()
    spans = np.array(
        [(r.time_stamps["started"], r.time_stamps["finished"]) for r in runs], dtype=float
    ).reshape(-1, 2)
    fig, ax = plt.subplots()
    if len(spans):
        ts = np.linspace(spans.min(), spans.max(), num_points)
        running = ((spans[:, 0][None, :] <= ts[:, None]) & (spans[:, 1][None, :] > ts[:, None])).sum(axis=1)
        ax.plot(ts, running)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("number of concurrent runs")
    if show:
        plt.show()
    return fig, ax


def finished_runs_over_time(runs: Sequence[Any], show: bool = False) -> Any:
    """The number of finished runs against time, one line per budget."""
    plt = _plt()
    budgets = sorted({r.budget for r in runs})
    times = {b: [0.0] for b in budgets}
    for r in runs:
        times[r.budget].append(r.time_stamps["finished"])
    fig, ax = plt.subplots()
    for b in budgets:
        ts = sorted(times[b])
        ax.plot(ts, np.arange(len(ts)), label="b = %f" % b)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("number of finished runs")
    if budgets:
        ax.legend()
    if show:
        plt.show()
    return fig, ax


def performance_histogram_model_vs_random(
    runs: Sequence[Any], id2conf: Dict[Any, Any], show: bool = False
) -> Any:
    """Histograms of the losses of model-based (left) and random (right) configurations, one
    row per budget (BOHB's ``config_info['model_based_pick']``)."""
    plt = _plt()
    budgets = sorted({r.budget for r in runs})
    losses = {b: {"model_based": [], "random": []} for b in budgets}
    for r in runs:
        if not _finite(r.loss):
            continue
        info = id2conf[r.config_id].get("config_info") or {}
        kind = "model_based" if isinstance(info, dict) and info.get("model_based_pick") else "random"
        losses[r.budget][kind].append(r.loss)
    fig, axarr = plt.subplots(max(len(budgets), 1), 2, sharey="row", sharex="row", squeeze=False)
    fig.suptitle("Loss of model based configurations (left) vs. random configuration (right)")
    for i, b in enumerate(budgets):
        mbax, rax = axarr[i]
        mbax.hist(losses[b]["model_based"], label="b = %f \n n = %i" % (b, len(losses[b]["model_based"])))
        mbax.set_ylabel("frequency")
        mbax.legend()
        rax.hist(losses[b]["random"], label="b = %f \n n = %i" % (b, len(losses[b]["random"])))
        rax.legend()
        if i == len(budgets) - 1:
            mbax.set_xlabel("loss")
            rax.set_xlabel("loss")
    if show:
        plt.show()
    return fig, axarr


def correlation_across_budgets(results_object: Any, show: bool = False) -> Any:
    """Spearman rank correlation of the losses of the same configurations on each pair of
    budgets (how well a small budget predicts a large one)."""
    from scipy.stats import spearmanr

    plt = _plt()
    budgets = sorted({r.budget for r in results_object.get_all_runs()})
    pairs: Dict[float, Dict[float, List[tuple]]] = {b: {} for b in budgets[:-1]}
    for b1, b2 in itertools.combinations(budgets, 2):
        pairs[b1][b2] = []
    for config_id in results_object.get_id2config_mapping():
        runs = results_object.get_runs_by_id(config_id)
        for r1, r2 in itertools.combinations(runs, 2):
            if _finite(r1.loss) and _finite(r2.loss):
                pairs[r1.budget][r2.budget].append((r1.loss, r2.loss))
    n = max(len(budgets) - 1, 1)
    rhos = np.full((n, n), np.nan)
    ps = np.full((n, n), np.nan)
    for i in range(len(budgets) - 1):
        for j in range(i + 1, len(budgets)):
            data = pairs[budgets[i]][budgets[j]]
            if len(data) >= 3:
                x, y = zip(*data)
                if len(set(x)) > 1 and len(set(y)) > 1:
                    rho, p = spearmanr(x, y)
                    rhos[i][j - 1], ps[i][j - 1] = rho, p
    fig, ax = plt.subplots()
    cax = ax.matshow(rhos, vmin=-1, vmax=1)
    fig.colorbar(cax)
    ax.set_yticks(range(len(budgets) - 1))
    ax.set_yticklabels(budgets[:-1])
    ax.set_xticks(range(len(budgets) - 1))
    ax.set_xticklabels(budgets[1:])
    ax.set_title("Rank correlation of the loss across the budgets")
    for i in range(len(budgets) - 1):
        for j in range(i + 1, len(budgets)):
            ax.text(
                j - 1,
                i,
                "$\\rho_{spearman}= %f$\n$p = %f$\n$n = %i$"
                % (rhos[i][j - 1], ps[i][j - 1], len(pairs[budgets[i]][budgets[j]])),
                horizontalalignment="center",
                verticalalignment="center",
            )
    if show:
        plt.show()
    return fig, ax


def interactive_HBS_plot(
    learning_curves: Dict[Any, Any],
    tool_tip_strings: Optional[Dict[Any, str]] = None,
    log_y: bool = False,
    log_x: bool = False,
    reset_times: bool = False,
    color_map: str = "Set3",
    colors_floats: Optional[Sequence[float]] = None,
    title: str = "",
    show: bool = True,
) -> Any:
    """The learning curves (``result.get_learning_curves()``), one line per configuration;
    hovering shows a line's tool tip (see :func:`default_tool_tips`), clicking pins it, and
    check boxes show or hide each iteration. Returns ``(fig, ax, check, none_button,
    all_button)``."""
    plt = _plt()
    from matplotlib.widgets import Button, CheckButtons

    times, losses, config_ids = [], [], []
    for config_id, curves in learning_curves.items():
        for curve in curves:
            if len(curve) == 0:
                continue
            t, loss = zip(*curve)
            times.append(np.array(t, dtype=float))
            losses.append(np.array(loss, dtype=float))
            config_ids.append(config_id)
    if reset_times:
        times = [ts - ts[0] for ts in times]
    iterations = sorted({cid[0] for cid in config_ids})
    labels = ["warmstart data" if it == -1 else str(it) for it in iterations]
    cmap = plt.get_cmap(color_map)
    if colors_floats is None:
        colors_floats = [((100 * abs(c[0]) + 10 * c[1] + c[2]) * 0.6180339887) % 1.0 for c in config_ids]
    fig, ax = plt.subplots()
    lines: Dict[int, list] = {it: [] for it in iterations}
    all_lines = []
    for i, (ts, ls) in enumerate(zip(times, losses)):
        (line,) = ax.plot(ts, ls, color=cmap(colors_floats[i]), marker="o", gid=i, picker=True)
        lines[config_ids[i][0]].append(line)
        all_lines.append(line)
    if log_y:
        ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log")
    ax.set_title(title)

    def text_of(index: int) -> str:
        cid = config_ids[index]
        return tool_tip_strings[cid] if tool_tip_strings is not None and cid in tool_tip_strings else str(cid)

    hover = ax.annotate(
        "",
        xy=(0, 0),
        xytext=(20, 20),
        textcoords="offset points",
        bbox=dict(boxstyle="round", fc="w"),
        arrowprops=dict(arrowstyle="->"),
    )
    hover.set_visible(False)
    pinned: Dict[int, Any] = {}
    fig.subplots_adjust(left=0.2)
    check = CheckButtons(fig.add_axes([0.05, 0.1, 0.1, 0.8]), labels or ["-"], [True] * max(len(labels), 1))
    none_button = Button(fig.add_axes([0.05, 0, 0.05, 0.1]), "None")
    all_button = Button(fig.add_axes([0.1, 0, 0.05, 0.1]), "All")

    def set_visible(label: str, value: Optional[bool] = None) -> None:
        it = -1 if label == "warmstart data" else int(label)
        if not lines.get(it):
            return
        value = not lines[it][0].get_visible() if value is None else value
        for line in lines[it]:
            line.set_visible(value)
        fig.canvas.draw_idle()

    def show_all(event: Any) -> None:
        for i, label in enumerate(labels):
            if not check.get_status()[i]:
                check.set_active(i)

    def hide_all(event: Any) -> None:
        for i, label in enumerate(labels):
            if check.get_status()[i]:
                check.set_active(i)

    def on_pick(event: Any) -> None:
        line = event.artist
        if line not in all_lines:
            return
        gid = line.get_gid()
        if gid in pinned:
            pinned.pop(gid).remove()
        else:
            x, y = line.get_xdata()[-1], line.get_ydata()[-1]
            pinned[gid] = ax.annotate(
                text_of(gid),
                (x, y),
                xytext=(20, 20),
                textcoords="offset points",
                bbox=dict(boxstyle="round", fc="w", linewidth=3),
                arrowprops=dict(arrowstyle="->"),
            )
            pinned[gid].draggable()
        fig.canvas.draw_idle()

    def on_move(event: Any) -> None:
        if event.inaxes != ax:
            return
        under = [line for line in all_lines if line.get_visible() and line.contains(event)[0]]
        if under:
            line = under[0]
            hover.xy = (line.get_xdata()[-1], line.get_ydata()[-1])
            hover.set_text(text_of(line.get_gid()))
            hover.set_visible(True)
            fig.canvas.draw_idle()
        elif hover.get_visible():
            hover.set_visible(False)
            fig.canvas.draw_idle()

    check.on_clicked(set_visible)
    none_button.on_clicked(hide_all)
    all_button.on_clicked(show_all)
    fig.canvas.mpl_connect("pick_event", on_pick)
    fig.canvas.mpl_connect("motion_notify_event", on_move)
    if show:
        plt.show()
    return fig, ax, check, none_button, all_button
