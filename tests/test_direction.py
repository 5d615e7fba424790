"""``direction="maximize"``: costs are kept and shown as the target returns them, while every
decision treats the highest as the best, exactly as minimising the negated cost would."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from ConfigSpace import ConfigurationSpace

from smacish import Hyperband, Optimizer, RunHistory, StatusType, SuccessiveHalving, TrialInfo, TrialValue


def space() -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0), "y": (-1.0, 1.0)}, seed=0)


def score(config, budget):
    return 1.0 - (config["x"] - 0.7) ** 2 - 0.5 * config["y"] ** 2 - 0.2 / budget


@pytest.mark.parametrize("selector", ["rf", "kde", "random"])
def test_maximising_a_score_asks_what_minimising_its_negation_asks(selector):
    up = Optimizer(space(), Hyperband(min_budget=1, max_budget=9), selector=selector, seed=3, direction="maximize")
    down = Optimizer(space(), Hyperband(min_budget=1, max_budget=9), selector=selector, seed=3)
    up.optimize(score, n_trials=70)
    down.optimize(lambda config, budget: -score(config, budget), n_trials=70)
    assert [i.key for i, _ in up.runhistory.items()] == [i.key for i, _ in down.runhistory.items()]
    assert [i.config for i, _ in up.runhistory.items()] == [i.config for i, _ in down.runhistory.items()]
    assert up.incumbent == down.incumbent
    assert [e.cost for e in up.trajectory] == [-e.cost for e in down.trajectory]


def test_everything_the_user_sees_is_in_the_users_sign():
    opt = Optimizer(space(), Hyperband(min_budget=1, max_budget=9), seed=1, direction="maximize")
    opt.optimize(score, n_trials=60)
    best = max((v.cost, i.config) for i, v in opt.runhistory.items() if i.budget == 9)
    inc = opt.runhistory.incumbent_entry()
    assert inc.cost == pytest.approx(best[0]) and inc.config == best[1] == opt.incumbent
    costs = [e.cost for e in opt.trajectory]
    assert costs == sorted(costs) or any(a.budget < b.budget for a, b in zip(opt.trajectory, opt.trajectory[1:]))
    assert opt.trajectory[-1].cost == pytest.approx(best[0])
    assert opt.runhistory.get_cost(opt.incumbent, 9) == pytest.approx(best[0])
    df = opt.runhistory.to_dataframe()
    assert df["cost"].max() == pytest.approx(max(v.cost for _, v in opt.runhistory.items()))
    assert df["incumbent_so_far"].iloc[-1] == pytest.approx(best[0])
    assert f"cost {best[0]:.6g}" in repr(opt)


def test_a_crash_is_the_worst_result_when_maximising():
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1, direction="maximize")
    assert opt.runhistory.crash_cost == -math.inf
    infos = [opt.ask() for _ in range(9)]
    for k, info in enumerate(infos):
        if k < 3:
            opt.tell(info, TrialValue(cost=math.inf, status=StatusType.CRASHED))
        else:
            opt.tell(info, float(k))
    promoted = {opt.ask().config_id for _ in range(3)}
    assert promoted == {i.config_id for i in infos[6:]}  # the three highest scores, no crash
    assert opt.incumbent == infos[8].config


def test_bad_directions_are_refused_with_what_to_do():
    with pytest.raises(ValueError, match="direction is 'up', but must be 'minimize' or 'maximize'"):
        Optimizer(space(), Hyperband(min_budget=1, max_budget=9), direction="up")
    with pytest.raises(ValueError, match="would make a crash the best result"):
        Optimizer(space(), Hyperband(min_budget=1, max_budget=9), direction="maximize", crash_cost=math.inf)
    with pytest.raises(ValueError, match="runtime objective is minimised"):
        Optimizer(space(), Hyperband(min_budget=1, max_budget=9, run_obj_time=True, cutoff=10),
                  direction="maximize")
    old = RunHistory(space())
    with pytest.raises(ValueError, match="warm-start RunHistory was a run to minimize"):
        Optimizer(space(), Hyperband(min_budget=1, max_budget=9), direction="maximize", warmstart=old)
    with pytest.raises(ValueError, match="direction is 'max'"):
        RunHistory(space(), direction="max")


def test_the_direction_is_saved_and_resumed(tmp_path):
    opt = Optimizer(space(), Hyperband(min_budget=1, max_budget=9), seed=2, direction="maximize",
                    output_dir=tmp_path / "run")
    opt.optimize(score, n_trials=30)
    opt.close()
    again = Optimizer.load(tmp_path / "run")
    assert again.runhistory.direction == "maximize"
    assert again.incumbent == opt.incumbent and again.trajectory[-1].cost == opt.trajectory[-1].cost
    saved = RunHistory.load(tmp_path / "run" / "runhistory.json")
    assert saved.direction == "maximize" and saved.incumbent() == opt.incumbent
    data = json.loads((tmp_path / "run" / "runhistory.json").read_text())
    del data["direction"]  # a file written before directions existed (so: minimised, crashes at inf)
    data["crash_cost"] = math.inf
    assert RunHistory.from_json(data).direction == "minimize"
    status = subprocess.run([sys.executable, "-m", "smacish", "status", str(tmp_path / "run")],
                            capture_output=True, text=True, check=True).stdout
    assert f"cost {opt.trajectory[-1].cost:.6g}" in status


def test_runhistory_incumbent_rules_respect_the_direction():
    rh = RunHistory(space(), direction="maximize")
    a, b = space().sample_configuration(2)
    rh.add(TrialInfo(a, budget=1.0), TrialValue(cost=0.5))
    rh.add(TrialInfo(b, budget=1.0), TrialValue(cost=0.9))
    rh.add(TrialInfo(a, budget=3.0), TrialValue(cost=0.2))
    assert rh.incumbent("any_budget") == b
    assert rh.incumbent("highest_executed_budget") == a
    assert rh.incumbent_entry("any_budget").cost == 0.9
