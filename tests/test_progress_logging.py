"""What a user sees while a run goes and right after: the progress bar, the "smacish" logger,
the notebook HTML summaries, and the DataFrame exports' ``walltime`` and ``incumbent_so_far``."""

from __future__ import annotations

import logging
import math
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from ConfigSpace import Categorical, ConfigurationSpace, Float

import smacish
from smacish import StatusType, TrialInfo, TrialValue

pytest.importorskip("tqdm")
pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[1]


def space() -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def target(config, budget):
    return config["x"] + 1 / budget


def optimizer(**kwargs) -> smacish.Optimizer:
    return smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9, eta=3), seed=0, **kwargs)


# ---------------------------------------------------------------------- the progress bar
def _frames(err: str) -> list:
    """The states a tqdm bar printed to a terminal (it redraws with carriage returns)."""
    return [frame.strip() for frame in re.split(r"[\r\n]", err) if frame.strip()]


def test_show_progress_counts_trials_and_shows_the_incumbent(capsys) -> None:
    opt = optimizer()
    opt.optimize(target, n_trials=10, show_progress=True)
    frames = _frames(capsys.readouterr().err)
    assert frames, "no progress bar was shown"
    assert all(frame.startswith("smacish:") for frame in frames)
    assert "0/10" in frames[0]
    last = frames[-1]
    assert "10/10" in last and "100%" in last and "trial" in last
    assert f"incumbent={opt.trajectory[-1].cost:.4g}" in last
    assert "busy=0" in last


def test_show_progress_counts_budget_when_only_budget_is_limited(capsys) -> None:
    opt = optimizer()
    opt.optimize(target, budget_limit=30, show_progress=True)
    last = _frames(capsys.readouterr().err)[-1]
    assert "budget" in last
    assert f"{opt.budget_spent:g}" in last


def test_show_progress_starts_from_the_trials_already_run(capsys) -> None:
    opt = optimizer()
    opt.optimize(target, n_trials=5)
    assert capsys.readouterr().err == ""  # no bar unless asked for
    opt.optimize(target, n_trials=12, show_progress=True)
    frames = _frames(capsys.readouterr().err)
    assert "5/12" in frames[0] and "12/12" in frames[-1]


def test_the_bar_goes_away_when_the_run_is_interrupted(capsys) -> None:
    calls = []

    def interrupted(config, budget):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return config["x"]

    opt = optimizer()
    with pytest.raises(KeyboardInterrupt):
        opt.optimize(interrupted, n_trials=10, show_progress=True)
    assert opt.callbacks == []  # the bar's callback is removed
    err = capsys.readouterr().err
    assert "3/10" in err and err.endswith("\n")  # closed: the line is finished
    opt.optimize(target, n_trials=6)  # and the optimizer goes on without it
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------- the logger
def test_one_info_line_per_finished_trial_with_the_current_best(caplog) -> None:
    caplog.set_level(logging.INFO, logger="smacish")
    opt = optimizer()
    opt.optimize(target, n_trials=13)
    lines = [r for r in caplog.records if r.name == "smacish" and r.getMessage().startswith("trial ")]
    assert len(lines) == 13
    assert all(r.levelno == logging.INFO for r in lines)
    for number, record in enumerate(lines, 1):
        message = record.getMessage()
        assert message.startswith(f"trial {number}: config_id=")
        assert "budget=" in message and "cost=" in message and "status=SUCCESS" in message
        assert "incumbent cost" in message
    assert lines[-1].getMessage().split("incumbent cost ")[1].split()[0] == f"{opt.trajectory[-1].cost:.6g}"
    assert sum(r.getMessage().endswith("(new)") for r in lines) == len(opt.trajectory)


def test_a_crashed_trial_is_logged_with_its_status(caplog) -> None:
    caplog.set_level(logging.INFO, logger="smacish")

    def crashes(config, budget):
        raise RuntimeError("boom")

    optimizer().optimize(crashes, n_trials=2)
    messages = [r.getMessage() for r in caplog.records if r.name == "smacish" and r.levelno == logging.INFO]
    assert len(messages) == 2 and all("status=CRASHED" in m for m in messages)


def test_a_good_run_is_silent_by_default_and_at_warning(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import logging, sys
        from ConfigSpace import ConfigurationSpace
        import smacish

        def run():
            opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}),
                                    smacish.Hyperband(min_budget=1, max_budget=9), seed=0)
            opt.optimize(lambda config, budget: config["x"] / budget, n_trials=8)

        run()                                   # nothing configured: nothing printed
        print("---", file=sys.stderr)
        logging.basicConfig(level=logging.WARNING)
        run()                                   # the usual application default: still nothing
        print("---", file=sys.stderr)
        logging.getLogger().setLevel(logging.INFO)
        run()                                   # INFO: one line per trial
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    default, at_warning, at_info = proc.stderr.split("---\n")
    assert default == ""
    assert at_warning == ""
    assert len([line for line in at_info.splitlines() if line.startswith("INFO:smacish:trial ")]) == 8
    assert proc.stdout == ""


# ---------------------------------------------------------------------- HTML summaries
def test_optimizer_html_summary(tmp_path: Path) -> None:
    cs = ConfigurationSpace(seed=0)
    cs.add([Float("lr", (1e-3, 1.0), log=True), Categorical("model", ["<b>net</b>", "tree & co"])])
    opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9), seed=0,
                            output_dir=tmp_path / "run")
    html = opt._repr_html_()
    assert html.startswith("<table>") and html.endswith("</table>")
    assert "<caption>smacish.Optimizer</caption>" in html
    assert "0 finished, 0 pending" in html and "none yet" in html
    assert "Hyperband(min_budget=1, max_budget=9, eta=3" in html
    assert type(opt.selector).__name__ in html and str(tmp_path / "run") in html

    info = opt.ask()
    assert "0 finished, 1 pending" in opt._repr_html_()
    opt.tell(info, 0.25)
    opt.optimize(lambda config, budget: config["lr"] / budget, n_trials=13)
    html = opt._repr_html_()
    inc = opt.runhistory.incumbent_entry()
    assert "13 finished, 0 pending" in html
    assert f"cost {inc.cost:.6g} on budget {inc.budget:g}" in html
    assert "lr" in html and "model" in html
    assert "<b>net</b>" not in html  # values are escaped ...
    assert ("&lt;b&gt;net&lt;/b&gt;" in html) or ("tree &amp; co" in html)  # ... and shown


def test_runhistory_html_summary() -> None:
    cs = space()
    a, b = cs.sample_configuration(2)
    rh = smacish.RunHistory(cs)
    assert "0 finished, 0 running" in rh._repr_html_()
    rh.add(TrialInfo(a, budget=1.0), TrialValue(cost=0.5))
    rh.add(TrialInfo(b, budget=3.0), TrialValue(cost=0.7))
    rh.add_running(TrialInfo(a, budget=3.0))
    html = rh._repr_html_()
    assert "<caption>RunHistory</caption>" in html
    assert "2 finished, 1 running" in html
    assert "<th style='text-align:left'>configurations</th><td>2</td>" in html
    assert "budget spent</th><td>4</td>" in html
    assert "config 2: cost 0.7 on budget 3" in html  # highest executed budget wins


# ---------------------------------------------------------------------- DataFrames
@pytest.fixture
def hand_made() -> smacish.RunHistory:
    """a, b, c on budget 1 (c crashes), then b and a on budget 3; known start and end times."""
    cs = space()
    a, b, c = cs.sample_configuration(3)
    rh = smacish.RunHistory(cs)
    rows = [
        (a, 1.0, 0.5, StatusType.SUCCESS, 10.0, 11.0),
        (b, 1.0, 0.3, StatusType.SUCCESS, 10.5, 12.0),
        (c, 1.0, math.inf, StatusType.CRASHED, 11.0, 11.5),
        (b, 3.0, 0.4, StatusType.SUCCESS, 12.0, 15.0),
        (a, 3.0, 0.35, StatusType.SUCCESS, 12.0, 16.0),
    ]
    for i, (config, budget, cost, status, start, end) in enumerate(rows):
        rh.add(TrialInfo(config, budget=budget, config_id=(0, 0, i)),
               TrialValue(cost=cost, time=end - start, status=status, starttime=start, endtime=end))
    return rh


def test_dataframe_walltime_and_incumbent_so_far(hand_made) -> None:
    df = hand_made.to_dataframe()
    assert len(df) == 5
    assert df["config_number"].tolist() == [1, 2, 3, 2, 1]
    assert df["budget"].tolist() == [1.0, 1.0, 1.0, 3.0, 3.0]
    assert df["status"].tolist() == ["SUCCESS", "SUCCESS", "CRASHED", "SUCCESS", "SUCCESS"]
    # seconds from the first start (10.0) to each trial's end
    assert df["walltime"].tolist() == pytest.approx([1.0, 2.0, 1.5, 5.0, 6.0])
    # highest_executed_budget: the crash changes nothing; the first result on budget 3 takes
    # over although its cost is higher; then the better one on budget 3
    assert df["incumbent_so_far"].tolist() == pytest.approx([0.5, 0.3, 0.3, 0.4, 0.35])
    assert df["config_id"].tolist() == [(0, 0, i) for i in range(5)]
    assert "x" in df.columns


def test_dataframe_incumbent_so_far_follows_the_selection_rule(hand_made) -> None:
    assert hand_made.to_dataframe("any_budget")["incumbent_so_far"].tolist() == pytest.approx(
        [0.5, 0.3, 0.3, 0.3, 0.3])
    on_max = hand_made.to_dataframe("highest_budget", max_budget=3.0)["incumbent_so_far"].tolist()
    assert [v for v in on_max if not math.isnan(v)] == pytest.approx([0.4, 0.35])
    assert all(math.isnan(v) for v in on_max[:3])


def test_dataframe_of_a_run_matches_its_trajectory() -> None:
    opt = optimizer()
    opt.optimize(target, n_trials=22)
    df = opt.runhistory.to_dataframe()
    # one clock: every trajectory entry was made right after the tell that the DataFrame row records
    assert df["walltime"].is_monotonic_increasing and df["walltime"].iloc[0] >= 0
    for entry in opt.trajectory:
        told = df["walltime"].iloc[entry.n_trials - 1]
        assert told <= entry.walltime <= told + 0.05
    assert df["incumbent_so_far"].iloc[-1] == pytest.approx(opt.trajectory[-1].cost)
    # incumbent_so_far changes exactly where the trajectory has an entry
    changes = [n + 1 for n, (before, after) in
               enumerate(zip([math.nan, *df["incumbent_so_far"].tolist()], df["incumbent_so_far"].tolist()))
               if before != after]
    entries = [e.n_trials for e in opt.trajectory]
    assert set(changes) <= set(entries)

    traj = opt.trajectory.to_dataframe()
    assert list(traj.columns) == ["walltime", "n_trials", "budget_spent", "budget", "cost", "config_id", "config"]
    assert traj["n_trials"].tolist() == entries
    assert traj["walltime"].is_monotonic_increasing


# ---------------------------------------------------------------------- one clock
def _sleepy(config, budget):
    time.sleep(0.01)
    return config["x"] / budget


def test_the_run_clock_starts_at_the_first_trial_and_limits_count_the_whole_run(tmp_path) -> None:
    opt = optimizer(output_dir=tmp_path / "run")
    time.sleep(0.4)  # before the first trial: no part of the run
    opt.optimize(_sleepy, walltime_limit=0.3)
    df = opt.runhistory.to_dataframe()
    assert 0 <= df["walltime"].iloc[0] < 0.2
    assert 0.28 <= df["walltime"].iloc[-1] < 0.5  # the last trial was asked before 0.3 s of the run
    n = len(opt.runhistory)
    with pytest.warns(UserWarning, match=r"walltime_limit=0.3 \(it has run 0.3 s\)"):
        opt.optimize(_sleepy, walltime_limit=0.3)  # the run has had its 0.3 s
    assert len(opt.runhistory) == n
    opt.close()

    time.sleep(0.4)  # between two processes: no part of the run either
    resumed = smacish.Optimizer.load(tmp_path / "run")
    assert resumed.runhistory.to_dataframe()["walltime"].tolist() == df["walltime"].tolist()
    resumed.optimize(_sleepy, walltime_limit=0.6)
    walltimes = resumed.runhistory.to_dataframe()["walltime"]
    assert len(resumed.runhistory) > n and walltimes.is_monotonic_increasing
    assert walltimes.iloc[n] < df["walltime"].iloc[-1] + 0.2  # went on from where it stopped
    assert walltimes.iloc[-1] < 0.8
    resumed.close()
