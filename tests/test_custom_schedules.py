"""ParallelScheduler(schedules=...): brackets of the user's own, run as given, checked, resumed."""

import pytest
from ConfigSpace import ConfigurationSpace

import smacish
from smacish import ParallelScheduler, TrialValue


def space():
    return ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


BRACKETS = [[(8, 1), (2, 4), (1, 16)], [(2, 16)]]


def test_the_brackets_run_as_given_in_turn():
    opt = smacish.Optimizer(space(), ParallelScheduler(schedules=BRACKETS), selector="random", seed=1)
    budgets = []
    for _ in range(8 + 2 + 1 + 2 + 8):
        info = opt.ask()
        budgets.append((info.config_id[0], info.budget))
        opt.tell(info, info.config["x"] / info.budget)
    assert budgets == ([(0, 1.0)] * 8 + [(0, 4.0)] * 2 + [(0, 16.0)] + [(1, 16.0)] * 2 + [(2, 1.0)] * 8)
    # promotion kept the best: the two on budget 4 were the two best of budget 1
    on_1 = sorted((v.cost, i.config_id) for i, v in opt.runhistory.items() if i.budget == 1.0 and i.config_id[0] == 0)
    on_4 = {i.config_id for i, _ in opt.runhistory.items() if i.budget == 4.0}
    assert on_4 == {cid for _, cid in on_1[:2]}


@pytest.mark.parametrize("schedules, message", [
    (None, "needs schedules="),
    ([], "non-empty list of brackets"),
    ([[(3, 1), (4, 3)]], "more than the 3"),
    ([[(3, 3), (1, 3)]], "not above"),
    ([[(0, 1)]], "int >= 1"),
    ([[(3, -1)]], "number > 0"),
    ([["a"]], r"\(n_configs, budget\) pairs$"),
])
def test_bad_brackets_are_refused_with_what_is_wrong(schedules, message):
    with pytest.raises((TypeError, ValueError), match=message):
        ParallelScheduler(schedules=schedules)


def test_brackets_outside_the_budgets_and_with_the_builtin_intensifiers_are_refused():
    with pytest.raises(ValueError, match=r"outside \[1, 9\]"):
        ParallelScheduler(min_budget=1, max_budget=9, schedules=[[(3, 1), (1, 27)]])
    with pytest.raises(TypeError, match="sizes its brackets itself"):
        smacish.Hyperband(min_budget=1, max_budget=9, schedules=BRACKETS)
    with pytest.raises(ValueError, match="asynchronous"):
        ParallelScheduler(schedules=BRACKETS, asynchronous=True)
    with pytest.raises(ValueError, match="whole number"):
        ParallelScheduler(instances=["a", "b", "c"], schedules=[[(3, 1), (1, 2.5)]])


def test_a_run_with_brackets_of_its_own_resumes_as_the_uninterrupted_one(tmp_path):
    def target(config, budget):
        return config["x"] / budget

    with smacish.Optimizer(space(), ParallelScheduler(schedules=BRACKETS), seed=4, output_dir=tmp_path / "run") as opt:
        opt.optimize(target, n_trials=15)
    loaded = smacish.Optimizer.load(tmp_path / "run")
    assert type(loaded.intensifier) is ParallelScheduler and loaded.intensifier.schedules == opt.intensifier.schedules
    loaded.optimize(target, n_trials=40)
    reference = smacish.Optimizer(space(), ParallelScheduler(schedules=BRACKETS), seed=4)
    reference.optimize(target, n_trials=40)
    trials = lambda o: [(dict(i.config), i.budget, v.cost) for i, v in o.runhistory.items()]  # noqa: E731
    assert trials(loaded) == trials(reference)
    loaded.close()
    with pytest.raises(ValueError, match="schedules"):
        smacish.Optimizer.load(tmp_path / "run", intensifier=ParallelScheduler(schedules=[[(4, 1), (1, 16)]]))


def test_instance_brackets_run_on_the_first_pairs():
    sched = ParallelScheduler(instances=[f"i{k}" for k in range(4)], schedules=[[(4, 1), (2, 2), (1, 4)]])
    opt = smacish.Optimizer(space(), sched, selector="random")
    first = [opt.ask() for _ in range(4)]
    assert {i.budget for i in first} == {None} and len({i.instance for i in first}) == 1
    for info in first:
        opt.tell(info, TrialValue(cost=info.config["x"]))
    assert opt.ask().instance != first[0].instance  # a promoted configuration runs the second pair
