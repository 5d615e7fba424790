"""Each figure of smacish.plotting, rendered to PNG and checked for what it shows."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.image import imread  # noqa: E402

from ConfigSpace import Categorical, ConfigurationSpace, Float  # noqa: E402

import smacish  # noqa: E402
from smacish import plotting  # noqa: E402
from smacish.trajectory import Trajectory, TrajectoryEntry  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def render(fig) -> np.ndarray:
    """The figure as a PNG (checked to be one) decoded to pixels."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    data = buffer.getvalue()
    assert data.startswith(PNG_MAGIC)
    pixels = imread(io.BytesIO(data), format="png")
    assert pixels.shape[0] > 50 and pixels.shape[1] > 50
    assert pixels.std() > 0  # not a blank canvas
    return pixels


def space() -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=0)


def history() -> smacish.RunHistory:
    """Three configurations, two workers, known times: a the best, b next, c stops at stage 0.

    worker A: a@1 [0,1], a@3 [1,4], a@9 [5,14]          (idle 4..5)
    worker B: b@1 [0,1], c@1 [1,2], b@3 [2,5]
    """
    cs = space()
    a, b, c = cs.sample_configuration(3)
    rh = smacish.RunHistory(cs)
    trials = [
        (a, 1.0, 0.5, 0, 1, "A"), (b, 1.0, 0.6, 0, 1, "B"), (c, 1.0, 0.9, 1, 2, "B"),
        (a, 3.0, 0.3, 1, 4, "A"), (b, 3.0, 0.4, 2, 5, "B"), (a, 9.0, 0.2, 5, 14, "A"),
    ]
    for config, budget, cost, start, end, worker in trials:
        rh.add(smacish.TrialInfo(config, budget=budget),
               smacish.TrialValue(cost=cost, time=end - start, starttime=100.0 + start, endtime=100.0 + end,
                                  additional_info={"worker": f"tcp://127.0.0.1:{worker}"}))
    return rh


def history_with_failures() -> smacish.RunHistory:
    """``history()`` and, on worker C, a crashed trial on budget 1 and a timeout on budget 3."""
    rh = history()
    d, e = space().sample_configuration(5)[3:]
    for config, budget, status, start, end in ((d, 1.0, smacish.StatusType.CRASHED, 0, 1),
                                               (e, 3.0, smacish.StatusType.TIMEOUT, 1, 4)):
        rh.add(smacish.TrialInfo(config, budget=budget),
               smacish.TrialValue(cost=float("inf"), status=status, time=end - start, starttime=100.0 + start,
                                  endtime=100.0 + end, additional_info={"worker": "tcp://127.0.0.1:C"}))
    return rh


def colourbars(fig) -> list:
    return [a for a in fig.axes if a.get_label() == "<colorbar>"]


def colourbar_labels(fig) -> list:
    return [a.get_ylabel() for a in colourbars(fig)]


def colourbar_ticklabels(fig) -> list:
    fig.canvas.draw()
    (bar,) = colourbars(fig)
    return [t.get_text() for t in bar.get_yticklabels()]


def messages(fig) -> list:
    """What ``_say_empty`` wrote on the axes (in the middle, in grey), one line each."""
    return [t.get_text().replace("\n", " ") for a in fig.axes for t in a.texts
            if t.get_position() == (0.5, 0.5) and t.get_transform() == a.transAxes]


def failed_markers(fig, axes=None) -> list:
    """``(x, y)`` of every red cross (failed trials) on every axes (or on ``axes``)."""
    return [(float(x), float(y)) for a in (fig.axes if axes is None else axes) for line in a.get_lines()
            if line.get_marker() == "x" and matplotlib.colors.same_color(line.get_color(), "tab:red")
            for x, y in zip(line.get_xdata(), line.get_ydata())]


def trajectory(points) -> Trajectory:
    traj = Trajectory(clock=lambda: 0.0)
    for i, (t, cost) in enumerate(points):
        traj.append(TrajectoryEntry(walltime=t, n_trials=i + 1, budget_spent=float(i + 1), budget=1.0,
                                    cost=cost, config_number=i + 1, config={"x": 0.0}))
    return traj


@pytest.fixture(scope="module")
def run() -> smacish.Optimizer:
    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9, eta=3), seed=0)
    opt.optimize(lambda config, budget: config["x"] + config["y"] / budget, n_trials=22)
    return opt


# ---------------------------------------------------------------------- trajectory
@pytest.mark.parametrize("x, label", [("walltime", "wall time (s)"), ("n_trials", "finished trials"),
                                      ("budget_spent", "budget spent")])
def test_trajectory_of_one_run(run, x, label) -> None:
    fig = plotting.plot_trajectory(run, x=x)
    ax = fig.axes[0]
    assert ax.get_xlabel() == label
    assert ax.get_ylabel() == "incumbent cost"
    assert ax.get_title() == "Incumbent trajectory"
    (line,) = ax.get_lines()
    entries = list(run.trajectory)
    xs, ys = list(line.get_xdata()), list(line.get_ydata())
    assert xs[:len(entries)] == [getattr(e, x) for e in entries]
    assert ys[:len(entries)] == [e.cost for e in entries]
    assert line.get_drawstyle() == "steps-post"
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]  # no band for one run
    # one dot per change, coloured by the incumbent's budget, and a colour bar that says so
    (dots,) = [c for c in ax.collections if not isinstance(c, PolyCollection)]
    assert list(dots.get_array()) == [e.budget for e in entries]
    assert colourbar_labels(fig) == ["budget of the incumbent"]
    render(fig)


def test_trajectory_is_drawn_to_the_end_of_the_run() -> None:
    # the incumbent is found by the first trial, then 9 more trials change nothing
    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9, eta=3), seed=0)
    opt.optimize(lambda config, budget: 0.0 if opt.n_asked == 1 else 1.0, n_trials=9)  # 9 on budget 1
    assert len(opt.trajectory) == 1
    end = {"n_trials": 9.0, "budget_spent": 9.0,
           "walltime": max(opt.runhistory.walltime(i) for i, _ in opt.runhistory.items())}
    for x, last in end.items():
        (line,) = plotting.plot_trajectory(opt, x=x).axes[0].get_lines()
        assert list(line.get_xdata()) == [getattr(opt.trajectory[0], x), last]
        assert list(line.get_ydata()) == [0.0, 0.0]
    assert max(end["walltime"], 0) > opt.trajectory[0].walltime
    # a bare Trajectory does not know where its run ended: it stops at its last change
    (line,) = plotting.plot_trajectory(opt.trajectory, x="n_trials").axes[0].get_lines()
    assert list(line.get_xdata()) == [1]


def test_trajectory_of_several_runs_is_one_line_each(run) -> None:
    runs = [trajectory([(0, 3.0), (2, 1.0)]), trajectory([(0, 2.0), (1, 1.5)]), run]
    fig = plotting.plot_trajectory(runs, x="n_trials", labels=["first", "second", "third"])
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["first", "second", "third"]
    render(fig)


def test_several_seeds_draw_median_and_quartile_band() -> None:
    # three runs whose costs are known at every time: the median and quartiles are too
    group_a = [trajectory([(0, 4.0), (10, 1.0)]), trajectory([(0, 6.0), (10, 2.0)]),
               trajectory([(0, 8.0), (10, 3.0)])]
    group_b = [trajectory([(0, 5.0), (5, 0.5)]), trajectory([(0, 5.0), (5, 1.5)])]
    single = [trajectory([(0, 9.0), (10, 7.0)])]
    fig = plotting.plot_trajectory({"A": group_a, "B": group_b, "C": single}, x="walltime", log_y=True)
    ax = fig.axes[0]

    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2  # one per label with several runs; none for the single run
    lines = ax.get_lines()
    assert len(lines) == 3
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["A (median of 3)", "B (median of 2)", "C"]
    assert ax.get_yscale() == "log"

    median_a = lines[0]
    xs, ys = np.asarray(median_a.get_xdata()), np.asarray(median_a.get_ydata())
    assert ys[xs < 10][0] == pytest.approx(6.0)  # median of 4, 6, 8
    assert ys[-1] == pytest.approx(2.0)  # median of 1, 2, 3
    # the band spans the first to the third quartile: 1.5 .. 2.5 at the end
    vertices = bands[0].get_paths()[0].vertices
    at_end = vertices[np.isclose(vertices[:, 0], xs[-1])][:, 1]
    assert at_end.min() == pytest.approx(1.5) and at_end.max() == pytest.approx(2.5)
    # the band shares its line's colour
    assert np.allclose(bands[0].get_facecolor()[0][:3], matplotlib.colors.to_rgb(median_a.get_color()))
    render(fig)


def test_trajectory_rejects_an_unknown_axis(run) -> None:
    with pytest.raises(ValueError, match="x is 'epochs', but must be one of"):
        plotting.plot_trajectory(run, x="epochs")


def test_trajectory_into_given_axes(run) -> None:
    fig, (left, right) = plt.subplots(1, 2)
    assert plotting.plot_trajectory(run, ax=right) is fig
    assert len(right.get_lines()) == 1 and not left.get_lines()


# ---------------------------------------------------------------------- learning curves
def test_learning_curves_one_line_per_configuration() -> None:
    rh = history()
    fig = plotting.plot_learning_curves(rh)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("budget", "cost")
    assert ax.get_xscale() == "log"
    assert ax.get_title() == "Learning curves (3 configurations)"
    curves = sorted((tuple(line.get_xdata()), tuple(line.get_ydata())) for line in ax.get_lines())
    assert curves == sorted([((1.0, 3.0, 9.0), (0.5, 0.3, 0.2)), ((1.0, 3.0), (0.6, 0.4)), ((1.0,), (0.9,))])
    # the stage budgets label the axis, nothing else (no "2x10^0" minor ticks)
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "9"]
    assert not ax.xaxis.get_minorticklocs().size
    # coloured by the cost on the last budget each reached: 0.2 darkest, 0.9 brightest
    assert colourbar_labels(fig) == ["cost on its last budget"]
    cmap, norm = matplotlib.colormaps["viridis"], matplotlib.colors.Normalize(0.2, 0.9)
    for line in ax.get_lines():
        final = line.get_ydata()[-1]
        assert np.allclose(matplotlib.colors.to_rgba(line.get_color()), cmap(norm(final)))
    render(fig)


def test_learning_curves_draw_the_points_a_target_reported() -> None:
    from tests._checkpoint_targets import serial_target

    opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}, seed=0),
                            smacish.SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    opt.optimize(serial_target, n_trials=13)  # reports every epoch, continuing on promotion
    ax = plotting.plot_learning_curves(opt).axes[0]
    reported = [line for line in ax.get_lines() if line.get_gid() == "reported"]
    assert len(reported) == 9  # one per configuration
    longest = max(reported, key=lambda line: len(line.get_xdata()))
    assert list(longest.get_xdata()) == [float(e) for e in range(1, 10)]  # epochs 1..9 over three trials
    top = next(i for i, _ in opt.runhistory.items() if i.budget == 9)
    assert longest.get_ydata()[-1] == pytest.approx(top.config["x"] + 1 / 9)
    stage_line = next(line for line in ax.get_lines() if line.get_gid() != "reported" and len(line.get_xdata()) == 3)
    assert stage_line.get_color() == longest.get_color()
    render(ax.figure)


def test_learning_curves_keep_the_configurations_that_went_furthest(run) -> None:
    fig = plotting.plot_learning_curves(run.runhistory, max_configs=2)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    assert max(len(line.get_xdata()) for line in lines) == 3  # the one that reached budget 9
    render(fig)


def test_learning_curves_mark_failed_trials() -> None:
    rh = history_with_failures()
    fig = plotting.plot_learning_curves(rh)
    ax = fig.axes[0]
    assert failed_markers(fig) == [(1.0, 1.0), (3.0, 1.0)]  # at their budgets, on the top edge
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["crashed / timed out (2)"]
    assert len(ax.get_lines()) == 3 + 1  # the three curves and the crosses
    render(fig)


# ---------------------------------------------------------------------- worker timeline
def test_worker_timeline_one_bar_per_trial_one_row_per_worker() -> None:
    rh = history()
    fig = plotting.plot_worker_timeline(rh)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("wall time (s)", "worker")
    bars = ax.patches
    assert len(bars) == len(rh) == 6
    assert [t.get_text() for t in ax.get_yticklabels()] == ["127.0.0.1:A", "127.0.0.1:B"]
    spans = sorted((round(b.get_y() + b.get_height() / 2), b.get_x(), b.get_x() + b.get_width()) for b in bars)
    assert spans == [(0, 0, 1), (0, 1, 4), (0, 5, 14), (1, 0, 1), (1, 1, 2), (1, 2, 5)]
    busy = 1 + 3 + 9 + 1 + 1 + 3
    assert f"utilisation {busy / (2 * 14):.2f}" in ax.get_title()
    assert len({tuple(b.get_facecolor()) for b in bars}) == 3  # coloured by budget: 1, 3, 9
    assert colourbar_labels(fig) == ["budget"]
    assert colourbar_ticklabels(fig) == ["1", "3", "9"]
    assert not [b for b in bars if b.get_hatch()]  # nothing failed
    render(fig)


def test_worker_timeline_hatches_failed_trials() -> None:
    fig = plotting.plot_worker_timeline(history_with_failures())
    ax = fig.axes[0]
    hatched = [b for b in ax.patches if b.get_hatch()]
    assert len(ax.patches) == 8 and len(hatched) == 2
    assert all(np.allclose(b.get_edgecolor(), matplotlib.colors.to_rgba("tab:red")) for b in hatched)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["crashed / timed out (2)"]
    render(fig)


def test_worker_timeline_of_an_empty_history() -> None:
    fig = plotting.plot_worker_timeline(smacish.RunHistory(space()))
    assert not fig.axes[0].patches
    assert messages(fig) == ["no finished trial yet"]
    assert "utilisation 0.00" in fig.axes[0].get_title()
    render(fig)


# ---------------------------------------------------------------------- brackets
def test_brackets_one_bar_per_bracket_and_stage() -> None:
    hb = smacish.Hyperband(min_budget=1, max_budget=81, eta=3)
    fig = plotting.plot_brackets(hb)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("budget", "configurations")
    assert ax.get_title() == "Hyperband brackets (eta=3)"
    heights = [round(p.get_height()) for p in ax.patches]
    assert heights == [81, 27, 9, 3, 1, 34, 11, 3, 1, 15, 5, 1, 8, 2, 5]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "9", "27", "81"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"bracket {k}" for k in range(5)]
    render(fig)


def test_brackets_of_successive_halving() -> None:
    fig = plotting.plot_brackets(smacish.SuccessiveHalving(min_budget=1, max_budget=27, eta=3))
    ax = fig.axes[0]
    assert [round(p.get_height()) for p in ax.patches] == [27, 9, 3, 1]
    assert ax.get_title() == "SuccessiveHalving brackets (eta=3)"
    render(fig)


# ---------------------------------------------------------------------- plots about the search
def mixed_space() -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=0)
    cs.add([Float("x", (0.0, 1.0)), Float("lr", (1e-4, 1.0), log=True), Categorical("kind", ["a", "b"])])
    return cs


def mixed_target(config, budget) -> float:
    """x matters most (Var(3 x) = 0.75), kind next (Var = 0.25), lr not at all; x > 0.9 crashes."""
    if config["x"] > 0.9:
        raise ValueError("x is too large")
    return 3 * config["x"] + (1.0 if config["kind"] == "b" else 0.0) + 1 / budget


def sampled(n: int = 60) -> smacish.RunHistory:
    """``n`` random configurations of ``mixed_space`` on budget 1 (failed as ``mixed_target``)."""
    cs = mixed_space()
    rh = smacish.RunHistory(cs)
    for config in cs.sample_configuration(n):
        try:
            value = smacish.TrialValue(cost=mixed_target(config, 1.0))
        except ValueError:
            value = smacish.TrialValue(cost=float("inf"), status=smacish.StatusType.CRASHED)
        rh.add(smacish.TrialInfo(config, budget=1.0), value)
    return rh


def n_failed(rh: smacish.RunHistory) -> int:
    return sum(v.status is not smacish.StatusType.SUCCESS for _, v in rh.items())


def test_importance_bars_are_the_importance_frame() -> None:
    from smacish.analysis import importance

    rh = sampled()
    frame = importance(rh)
    fig = plotting.plot_importance(rh)
    ax = fig.axes[0]
    bars = ax.patches
    assert [round(b.get_width(), 12) for b in bars] == [round(v, 12) for v in frame["importance"]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "kind", "lr"]  # most important on top
    assert bars[0].get_y() < bars[1].get_y() and ax.yaxis_inverted()
    assert ax.get_title() == "Hyperparameter importance (fanova, budget 1)"
    assert ax.get_xlabel() == "share of the cost's variance"
    (bar,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    (errorbars,) = bar.errorbar.lines[2]  # +- the std over trees
    for segment, share, std in zip(errorbars.get_segments(), frame["importance"], frame["std"]):
        assert segment[0, 0] == pytest.approx(max(share - std, 0.0))  # clipped to 0..1
        assert segment[1, 0] == pytest.approx(min(share + std, 1.0))
    assert ax.get_xlim() == (0.0, 1.0)
    # a frame is drawn as given, with its own method and budget
    fig = plotting.plot_importance(importance(rh, method="permutation", pairs=True), top=2)
    assert len(fig.axes[0].patches) == 2
    assert fig.axes[0].get_title() == "Hyperparameter importance (permutation, budget 1)"
    render(fig)


def test_slice_one_panel_per_hyperparameter_coloured_by_budget(run) -> None:
    rh = sampled()
    fig = plotting.plot_slice(rh)
    panels = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert [a.get_xlabel() for a in panels] == ["kind", "lr", "x"]  # ConfigSpace's order
    assert colourbar_labels(fig) == ["budget"]
    ok = [(i, v) for i, v in rh.items() if v.status is smacish.StatusType.SUCCESS]
    kind_panel, lr_panel, x_panel = panels
    (dots,) = x_panel.collections
    assert sorted(dots.get_offsets()[:, 0]) == sorted(i.config["x"] for i, _ in ok)
    assert sorted(dots.get_offsets()[:, 1]) == sorted(v.cost for _, v in ok)
    assert lr_panel.get_xscale() == "log"
    assert [t.get_text() for t in kind_panel.get_xticklabels()] == ["a", "b"]
    kinds = np.rint(kind_panel.collections[0].get_offsets()[:, 0])  # jittered around 0 and 1
    assert sorted(kinds) == sorted(["a", "b"].index(i.config["kind"]) for i, _ in ok)
    # each panel marks the failed trials, at their value, on the top edge
    failed = sorted(i.config["x"] for i, v in rh.items() if v.status is not smacish.StatusType.SUCCESS)
    assert failed and all(x > 0.9 for x in failed)
    assert sorted(x for x, _ in failed_markers(fig, [x_panel])) == failed
    assert len(failed_markers(fig)) == 3 * len(failed)
    render(fig)
    # a Hyperband run: colour = budget, three budgets on the bar
    fig = plotting.plot_slice(run, hyperparameters=["y"])
    assert colourbar_ticklabels(fig) == ["1", "3", "9"]
    (dots,) = fig.axes[0].collections
    assert sorted(dots.get_array()) == sorted(i.budget for i, _ in run.runhistory.items())


def test_parallel_coordinates_one_line_per_configuration_on_the_budget(run) -> None:
    rh = sampled()
    fig = plotting.plot_parallel_coordinates(rh)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["kind", "lr", "x", "cost"]
    ok, failed = ax.collections
    costs = [v.cost for _, v in rh.items() if v.status is smacish.StatusType.SUCCESS]
    assert sorted(ok.get_array()) == sorted(costs)
    assert len(ok.get_segments()) == len(costs) and len(failed.get_segments()) == n_failed(rh)
    assert colourbar_labels(fig) == ["mean cost on budget 1"]
    assert failed_markers(fig) == [(3.0, 1.0)] * n_failed(rh)  # above the cost axis
    # a line runs through the configuration's values, scaled to [0, 1] per axis
    segment = ok.get_segments()[int(np.argmin(ok.get_array()))]
    best = min((v.cost, i.config) for i, v in rh.items() if v.status is smacish.StatusType.SUCCESS)[1]
    assert segment[2, 1] == pytest.approx(best["x"]) and segment[3, 1] == 0.0  # the lowest cost at the bottom
    assert segment[0, 1] == ["a", "b"].index(best["kind"])
    assert ax.get_title() == f"Parallel coordinates on budget 1 ({len(costs)} configurations, {n_failed(rh)} failed)"
    render(fig)
    # a Hyperband run: by default the highest budget with two successful configurations
    fig = plotting.plot_parallel_coordinates(run)
    on_9 = {run.runhistory.config_number(i.config) for i, _ in run.runhistory.items() if i.budget == 9}
    assert len(on_9) >= 2
    assert fig.axes[0].get_title() == f"Parallel coordinates on budget 9 ({len(on_9)} configurations, 0 failed)"
    fig = plotting.plot_parallel_coordinates(run, budget=3)
    assert fig.axes[0].get_title().startswith("Parallel coordinates on budget 3")


def test_contour_of_the_two_most_important_hyperparameters() -> None:
    rh = sampled(120)
    fig = plotting.plot_contour(rh, resolution=20)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "kind")  # the two most important
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert colourbar_labels(fig) == ["predicted cost on budget 1"]
    (mesh, dots) = ax.collections
    z = np.asarray(mesh.get_array()).reshape(2, 20)  # rows: kind a, b; columns: x from 0 to 1
    assert (np.diff(z[0][:15]) >= -0.05).all() and z[0, -3] - z[0, 0] > 2.0  # cost grows ~3 x
    assert (z[1] - z[0]).mean() == pytest.approx(1.0, abs=0.2)  # kind b costs 1 more
    assert len(dots.get_offsets()) == 120 - n_failed(rh)
    assert ax.get_title() == "Predicted cost: x and kind (budget 1)"
    render(fig)
    fig = plotting.plot_contour(rh, hyperparameters=["x", "lr"], resolution=10)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_yscale()) == ("x", "lr", "log")
    render(fig)


def test_bad_input_is_refused_with_what_was_wrong(run) -> None:
    rh = sampled()
    with pytest.raises(ValueError, match=r"hyperparameters \['z'\] are not in the search space; it has \['kind', 'lr', 'x'\]"):
        plotting.plot_slice(rh, hyperparameters=["z"])
    fig, (left, right) = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="ax must be 3 Axes, one per hyperparameter shown; got 2"):
        plotting.plot_slice(rh, ax=[left, right])
    assert plotting.plot_slice(rh, hyperparameters=["x", "kind"], ax=[left, right]) is fig
    with pytest.raises(ValueError, match="hyperparameters must name 2, got 1"):
        plotting.plot_contour(rh, hyperparameters=["x"])
    with pytest.raises(ValueError, match="budget 5 is not a budget of this run; its budgets are 1, 3, 9"):
        plotting.plot_parallel_coordinates(run, budget=5)
    with pytest.raises(ValueError, match="budget 5 is not a budget of this run"):
        plotting.plot_importance(run, budget=5)
    with pytest.raises(TypeError, match="expected an Optimizer, a RunHistory or a run directory"):
        plotting.plot_learning_curves(3)


# ---------------------------------------------------------------------- four kinds of run
def always_crashes(config, budget):
    raise RuntimeError("the target always fails")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, dask_client) -> dict:
    """A serial run (with some failures), a Dask run, a run whose every trial crashed, and a
    run that has not started; each with a run directory."""
    root = tmp_path_factory.mktemp("runs")
    hb = lambda: smacish.Hyperband(min_budget=1, max_budget=9, eta=3)  # noqa: E731
    serial = smacish.Optimizer(mixed_space(), hb(), seed=0, output_dir=root / "serial")
    serial.optimize(mixed_target, n_trials=60, catch=(Exception,))
    from _dask_targets import quadratic

    on_dask = smacish.Optimizer(space(), hb(), seed=0, output_dir=root / "dask")
    on_dask.optimize(quadratic, n_trials=40, client=dask_client)
    crashed = smacish.Optimizer(space(), hb(), seed=0, output_dir=root / "crashed")
    crashed.optimize(always_crashes, n_trials=6, catch=(Exception,))
    empty = smacish.Optimizer(space(), hb(), seed=0, output_dir=root / "empty")
    out = {"serial": serial, "dask": on_dask, "crashed": crashed, "empty": empty}
    for opt in out.values():
        opt.close()  # the directories are complete; their runs can be read back
    out["dirs"] = {kind: root / kind for kind in list(out)}
    return out


PLOTS = {
    "trajectory": plotting.plot_trajectory,
    "learning_curves": plotting.plot_learning_curves,
    "worker_timeline": plotting.plot_worker_timeline,
    "brackets": lambda run: plotting.plot_brackets(run.intensifier),
    "importance": plotting.plot_importance,
    "slice": plotting.plot_slice,
    "parallel_coordinates": plotting.plot_parallel_coordinates,
    "contour": plotting.plot_contour,
}
# what the axes say when there is nothing to draw
CRASHED = {
    "trajectory": ["no successful trial yet"],
    "learning_curves": ["no successful trial yet"],
    "worker_timeline": [],  # failed trials are bars too
    "brackets": [],
    "importance": ["importance needs at least 10 configurations with a successful trial on one budget; "
                   "this run has 0"],
    "slice": ["no successful trial: only failed ones"] * 2,
    "parallel_coordinates": ["no successful trial on budget 1"],
    "contour": ["importance needs at least 10 configurations with a successful trial on one budget; "
                "this run has 0"],
}
EMPTY = dict(CRASHED, worker_timeline=["no finished trial yet"], slice=["no finished trial yet"],
             parallel_coordinates=["no finished trial yet"])
COLOURBARS = {"trajectory": ["budget of the incumbent"], "learning_curves": ["cost on its last budget"],
              "worker_timeline": ["budget"], "brackets": [], "importance": [], "slice": ["budget"],
              "parallel_coordinates": ["mean cost on budget {parallel}"],
              "contour": ["predicted cost on budget {importance}"]}


@pytest.mark.parametrize("kind", ["serial", "dask"])
@pytest.mark.parametrize("name", list(PLOTS))
def test_every_plot_of_a_real_run(runs, kind, name) -> None:
    from smacish.analysis import importance

    opt = runs[kind]
    budgets = {"parallel": plotting._parallel_budget(opt.runhistory, None), "importance": importance(opt).attrs["budget"]}
    expected = [label.format(**{k: f"{b:g}" for k, b in budgets.items()}) for label in COLOURBARS[name]]
    for source in (opt, runs["dirs"][kind]):  # in memory, and read back from its directory
        fig = PLOTS[name](source if name != "brackets" else opt)
        assert messages(fig) == []
        assert colourbar_labels(fig) == expected
        render(fig)
    if name in ("learning_curves", "slice") and kind == "serial":
        assert failed_markers(fig)  # the serial run has crashes (x > 0.9)
    if name == "worker_timeline" and kind == "dask":
        assert len(fig.axes[0].get_yticklabels()) == 2  # two workers
        assert all(t.get_text().startswith("127.0.0.1:") for t in fig.axes[0].get_yticklabels())


@pytest.mark.parametrize("name", list(PLOTS))
def test_every_plot_of_a_crashed_only_run_says_so(runs, name) -> None:
    opt = runs["crashed"]
    assert len(opt.runhistory) == 6 and n_failed(opt.runhistory) == 6
    fig = PLOTS[name](opt)
    assert messages(fig) == CRASHED[name]
    if name in ("learning_curves", "parallel_coordinates"):
        assert len(failed_markers(fig)) == 6
    if name == "slice":
        assert len(failed_markers(fig)) == 12  # six on each of the two panels
    if name == "worker_timeline":
        assert len([b for b in fig.axes[0].patches if b.get_hatch()]) == 6
    render(fig)


@pytest.mark.parametrize("name", list(PLOTS))
def test_every_plot_of_an_empty_run_says_so(runs, name) -> None:
    for source in (runs["empty"], runs["dirs"]["empty"]):
        fig = PLOTS[name](source if name != "brackets" else runs["empty"])
        assert messages(fig) == EMPTY[name]
        assert not failed_markers(fig)
        render(fig)


# ---------------------------------------------------------------------- all at once
NAMES = sorted(f"{name}.png" for name in PLOTS)


def test_save_all_writes_every_figure(run, tmp_path: Path) -> None:
    names = plotting.save_all(run, tmp_path / "plots")
    assert names == NAMES == sorted(plotting.FIGURES)
    for name in names:
        data = (tmp_path / "plots" / name).read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert imread(tmp_path / "plots" / name).std() > 0
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == NAMES  # no temporary file left
    assert not plt.get_fignums()  # save_all closes what it opened


@pytest.mark.parametrize("kind", ["serial", "crashed", "empty"])
def test_the_plot_command_writes_every_figure(runs, kind, tmp_path: Path, capsys) -> None:
    from smacish.cli import main

    assert main(["plot", str(runs["dirs"][kind]), "--out", str(tmp_path / "figs")]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "figs" / name) for name in NAMES]
    for name in NAMES:
        assert (tmp_path / "figs" / name).read_bytes().startswith(PNG_MAGIC)
    assert main(["plot", str(tmp_path / "no-such-run")]) == 2
