"""``opt.stats``: a frozen snapshot of the run's counters, with real values; and ``smacish status``."""

from __future__ import annotations

import dataclasses
import itertools
import math
import subprocess
import sys

import pytest
from ConfigSpace import ConfigurationSpace

import smacish
from smacish import RunClock, StatusType, TrialValue
from smacish import _stats


def make(tmp_path=None, clock=None, **kwargs):
    return smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}, seed=0),
                             smacish.SuccessiveHalving(min_budget=1, max_budget=9, eta=3), selector="random",
                             seed=0, n_workers=3, clock=clock,
                             output_dir=None if tmp_path is None else tmp_path / "run", **kwargs)


def test_stats_count_what_the_run_did(monkeypatch):
    ticks = itertools.count(0.0, 0.25)  # perf_counter: each read a quarter second later
    monkeypatch.setattr(_stats.time, "perf_counter", lambda: next(ticks))
    wall = [100.0]
    opt = make(clock=RunClock(time_source=lambda: wall[0]))
    assert opt.stats == _stats.RunStats(0, {}, 0, 0.0, 0.0, 0.0, 0)
    infos = [opt.ask() for _ in range(5)]  # 5 asks, 0.25 s each
    opt.tell(infos[0], 0.4)
    opt.tell(infos[1], 0.2)  # a better one: the incumbent changes twice in all
    opt.tell(infos[2], TrialValue(cost=math.inf, status=StatusType.CRASHED))
    opt.tell(infos[3], TrialValue(cost=math.inf, status=StatusType.ABORTED))  # runs again
    wall[0] = 110.0
    s = opt.stats
    assert (s.n_submitted, dict(s.n_finished), s.n_running) == (5, {"SUCCESS": 2, "CRASHED": 1, "ABORTED": 1}, 1)
    assert s.n_finished_total == 3
    assert s.budget_spent == 3.0  # three finished trials on budget 1
    assert s.optimizer_time == pytest.approx(9 * 0.25)  # 5 asks and 4 tells
    assert s.incumbent_changes == 2 == len(opt.trajectory)
    assert s.walltime == opt.clock.now() == 110.0 - 100.0
    assert "1 aborted to run again" in str(s)


def test_stats_are_a_frozen_snapshot():
    opt = make()
    info = opt.ask()
    before = opt.stats
    opt.tell(info, 0.5)
    assert before.n_running == 1 and dict(before.n_finished) == {}  # it did not change with the run
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.n_submitted = 3
    with pytest.raises(TypeError):
        opt.stats.n_finished["SUCCESS"] = 7


def test_warm_start_trials_are_not_this_runs(tmp_path):
    first = make()
    for _ in range(4):
        info = first.ask()
        first.tell(info, info.config["x"])
    second = make(warmstart=first.runhistory)
    s = second.stats
    assert (s.n_submitted, dict(s.n_finished), s.budget_spent) == (0, {}, 0.0)


def test_stats_survive_a_resume_and_smacish_status_shows_them(tmp_path):
    opt = make(tmp_path)
    for k in range(7):
        info = opt.ask()
        opt.tell(info, TrialValue(cost=math.inf, status=StatusType.CRASHED) if k == 2 else info.config["x"])
    pending = opt.ask()
    saved = opt.stats
    opt.close()
    loaded = smacish.Optimizer.load(tmp_path / "run")
    s = loaded.stats
    assert (s.n_submitted, dict(s.n_finished), s.budget_spent, s.incumbent_changes) == (
        8, {"SUCCESS": 6, "CRASHED": 1}, saved.budget_spent, saved.incumbent_changes)
    assert s.optimizer_time >= saved.optimizer_time > 0
    assert s.n_running == 0 and loaded.to_ask_again[0].key == pending.key  # asked again first
    loaded.close()
    out = subprocess.run([sys.executable, "-m", "smacish", "status", str(tmp_path / "run")], capture_output=True,
                         text=True, check=True).stdout
    line = [ln for ln in out.splitlines() if ln.startswith("stats:")][0]
    assert "8 submitted, 7 finished (6 SUCCESS, 1 CRASHED), 1 running; budget spent 7;" in line
    assert f"{saved.incumbent_changes} incumbent change(s)" in line
