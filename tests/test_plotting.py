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
from matplotlib.image import imread  # noqa: E402

from ConfigSpace import ConfigurationSpace  # noqa: E402

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


def trajectory(points) -> Trajectory:
    traj = Trajectory(clock=lambda: 0.0)
    for i, (t, cost) in enumerate(points):
        traj.append(TrajectoryEntry(walltime=t, n_trials=i + 1, budget_spent=float(i + 1), budget=1.0,
                                    cost=cost, config_id=i + 1, config={"x": 0.0}))
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
    assert list(line.get_xdata()) == [getattr(e, x) for e in entries]
    assert list(line.get_ydata()) == [e.cost for e in entries]
    assert line.get_drawstyle() == "steps-post"
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]  # no band for one run
    render(fig)


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
    render(fig)


def test_learning_curves_keep_the_configurations_that_went_furthest(run) -> None:
    fig = plotting.plot_learning_curves(run.runhistory, max_configs=2)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    assert max(len(line.get_xdata()) for line in lines) == 3  # the one that reached budget 9
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
    render(fig)


def test_worker_timeline_of_an_empty_history() -> None:
    fig = plotting.plot_worker_timeline(smacish.RunHistory(space()))
    assert not fig.axes[0].patches
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


# ---------------------------------------------------------------------- all at once
def test_save_all_writes_four_pngs(run, tmp_path: Path) -> None:
    names = plotting.save_all(run, tmp_path / "plots")
    assert names == ["brackets.png", "learning_curves.png", "trajectory.png", "worker_timeline.png"]
    for name in names:
        data = (tmp_path / "plots" / name).read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert imread(tmp_path / "plots" / name).std() > 0
    assert not plt.get_fignums()  # save_all closes what it opened
