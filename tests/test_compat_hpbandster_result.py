"""Result, the live-log reader and the plots, on files written by HpBandSter 0.7.4 itself.

``data/hpbandster_logged`` holds the ``configs.json`` / ``results.json`` of a real HpBandSter BOHB
run (2 iterations on budgets 1, 3, 9; configuration (0, 0, 1) raised on budget 1). The expected
values below are what HpBandSter's own ``logged_results_to_HBS_result`` answers for these files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import ConfigSpace as CS
import pytest

import smacish.compat.hpbandster.core.result as hpres
import smacish.compat.hpbandster.visualization as hpvis

LOGGED = Path(__file__).parent / "data" / "hpbandster_logged"


@pytest.fixture(scope="module")
def result():
    return hpres.logged_results_to_HBS_result(str(LOGGED))


def test_reads_the_files_hpbandster_wrote(result):
    assert result.get_incumbent_id() == (0, 0, 2)
    assert len(result.get_all_runs()) == 17
    assert len(result.get_all_runs(only_largest_budget=True)) == 12
    assert result.num_iterations() == 2
    assert result.HB_config["budgets"] == [1.0, 3.0, 9.0]
    assert result.HB_config["eta"] == 3.0 and result.HB_config["max_SH_iter"] == 3
    assert result.HB_config["time_ref"] == 1795444440.5690417
    id2config = result.get_id2config_mapping()
    assert id2config[(0, 0, 8)] == {
        "config": {"lr": 0.0006019753065378085, "opt": "adam"},
        "config_info": {"model_based_pick": True},
    }
    (failed,) = result.get_runs_by_id((0, 0, 1))
    assert failed.loss is None and failed.info is None
    assert "RuntimeError: lr too large" in failed.error_logs
    best = result.get_runs_by_id((0, 0, 2))
    assert [r.budget for r in best] == [1.0, 3.0, 9.0]
    assert best[-1].loss == 0.11111437323490998 and best[-1].info == {"budget_seen": 9.0, "curve": [1.0, 0.5]}
    assert best[0].time_stamps["submitted"] == pytest.approx(1795444440.598926 - 1795444440.5690417)


def test_trajectory_and_learning_curves_as_hpbandster_computes_them(result):
    trajectory = result.get_incumbent_trajectory()
    assert trajectory["config_ids"] == [(0, 0, 0), (0, 0, 2), (0, 0, 0), (0, 0, 2), (0, 0, 2), (0, 0, 2)]
    assert trajectory["losses"] == [
        1.0029335628219918,
        1.0000032621237989,
        0.336266896155325,
        0.3333365954571322,
        0.11111437323490998,
        0.11111437323490998,
    ]
    assert trajectory["budgets"] == [1.0, 1.0, 3.0, 3.0, 9.0, 9.0]
    # only runs on the largest budget (HpBandSter raises a NameError here)
    on_max = result.get_incumbent_trajectory(all_budgets=False)
    assert set(on_max["budgets"]) == {9.0} and on_max["config_ids"][0] == (0, 0, 2)
    curves = result.get_learning_curves()
    assert curves[(0, 0, 2)] == [
        [(1.0, 1.0000032621237989), (3.0, 0.3333365954571322), (9.0, 0.11111437323490998)]
    ]
    assert curves[(0, 0, 1)] == [[]]  # its only run failed


def test_dataframes_for_analysis(result):
    df_x, df_y = result.get_pandas_dataframe()
    assert df_x.shape == (16, 3) and list(df_x.columns) == ["lr", "opt", "budget"]
    assert list(df_y.columns) == ["loss"]
    # each row has its own run's budget (HpBandSter gives all rows of a configuration its last one)
    rows = df_x[df_x["lr"] == 0.008193864955523978]
    assert sorted(rows["budget"]) == [1.0, 3.0, 9.0]
    df_x9, _ = result.get_pandas_dataframe(budgets=[9.0])
    assert len(df_x9) == 2 and "budget" not in df_x9

    space = CS.ConfigurationSpace({"lr": (1e-4, 1e-1), "opt": ["adam", "sgd"]})
    X, y, space_with_budget = result.get_fANOVA_data(space)
    assert X.shape == (16, 3) and y.shape == (16,)
    assert "budget" in space_with_budget
    assert "budget" not in space  # the caller's space is left as it was
    assert set(X[:, list(space_with_budget.keys()).index("opt")]) <= {0.0, 1.0}
    X_failed, y_failed, _ = result.get_fANOVA_data(space, failed_loss=10.0)
    assert X_failed.shape == (17, 3) and 10.0 in y_failed


def test_a_live_log_with_a_half_written_last_line_is_read(tmp_path, result):
    shutil.copy(LOGGED / "configs.json", tmp_path / "configs.json")
    text = (LOGGED / "results.json").read_text()
    (tmp_path / "results.json").write_text(text + '[[1, 0, 2], 9.0, {"submitted": 17954')
    live = hpres.logged_results_to_HBS_result(str(tmp_path))
    assert len(live.get_all_runs()) == 17
    (tmp_path / "results.json").write_text("not json\n" + text)
    with pytest.raises(ValueError, match="line 1"):
        hpres.logged_results_to_HBS_result(str(tmp_path))


def test_the_plots_hpbandster_users_know(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    all_runs = result.get_all_runs()
    try:
        fig, ax = hpvis.losses_over_time(all_runs)
        assert len(ax.collections) == 3  # one scatter per budget
        fig, ax = hpvis.concurrent_runs_over_time(all_runs)
        assert max(ax.lines[0].get_ydata()) == 1  # one worker: never two runs at once
        fig, ax = hpvis.finished_runs_over_time(all_runs)
        assert [max(line.get_ydata()) for line in ax.lines] == [9, 6, 2]  # runs per budget 1, 3, 9
        fig, ax = hpvis.correlation_across_budgets(result)
        assert len(ax.texts) == 3  # (1, 3), (1, 9), (3, 9)
        fig, axarr = hpvis.performance_histogram_model_vs_random(all_runs, result.get_id2config_mapping())
        assert axarr.shape == (3, 2)
        curves = result.get_learning_curves()
        tips = hpvis.default_tool_tips(result, curves)
        assert "lr=0.008193864955523978" in tips[(0, 0, 2)] and (0, 0, 1) not in tips
        fig, ax, check, none_button, all_button = hpvis.interactive_HBS_plot(
            curves, tool_tip_strings=tips, show=False
        )
        assert len(ax.lines) == 11  # one learning curve per configuration with a successful run
    finally:
        plt.close("all")


def test_run_behaves_like_a_dict_too(result):
    run = result.get_runs_by_id((0, 0, 0))[0]
    assert run["loss"] == run.loss and run["budget"] == 1.0
    assert "config_id: (0, 0, 0)" in repr(run)
