"""Hyperband's ``bracket_order``: with several workers and ``"least_aggressive"``, each round of
the bracket cycle starts, among the brackets it has not started yet and that informed starts
lets start, the one with the largest first budget; ``"cycle"`` keeps the cycle's order. Serial
runs are the same with either."""

from __future__ import annotations

import json

import pytest

import smacish
from smacish import Hyperband, TrialInfo, TrialValue
from _intensifier_helpers import ask_all, ask_tell, optimizer, space

# brackets: [27@1, 9@3, 3@9, 1@27], [12@3, 4@9, 2@27], [6@9, 2@27], [4@27]


def hb(**kwargs) -> Hyperband:
    return Hyperband(min_budget=1, max_budget=27, eta=3, **kwargs)


def with_result_on(budget: float, order: str, n_workers: int) -> smacish.Optimizer:
    """An Optimizer whose RunHistory already has a result on ``budget`` (a warm-start trial)."""
    opt = optimizer(hb(bracket_order=order), n_workers=n_workers)
    opt.add_warmstart_trial(TrialInfo(space().sample_configuration(), budget=budget), TrialValue(cost=1.0))
    return opt


def first_budgets(asked) -> list:
    """The first budget of each SH run, in the order the runs started."""
    seen = {}
    for info in asked:
        seen.setdefault(info.config_id[0], info.budget)
    return list(seen.values())


def test_least_aggressive_starts_the_bracket_with_the_largest_first_budget_that_may_start():
    assert first_budgets(ask_all(with_result_on(9.0, "least_aggressive", 3))) == [27.0, 9.0, 3.0]
    assert first_budgets(ask_all(with_result_on(9.0, "cycle", 3))) == [1.0, 3.0, 9.0]


def test_a_bracket_that_may_not_start_yet_waits_and_the_most_aggressive_stands_in():
    # a result on 3 only: the bracket on 27 waits for one on 9
    assert first_budgets(ask_all(with_result_on(3.0, "least_aggressive", 5))) == [9.0, 3.0, 1.0, 1.0, 1.0]


def test_each_round_starts_every_bracket_once_before_the_next_round_begins():
    # five runs: the round 27, 9, 3, 1, then the next round begins again on 27
    assert first_budgets(ask_all(with_result_on(27.0, "least_aggressive", 5))) == [27.0, 9.0, 3.0, 1.0, 27.0]


def test_serial_runs_are_the_same_with_either_order():
    def sequence(order: str):
        asked = ask_tell(optimizer(hb(bracket_order=order)), 27 + 9 + 3 + 1 + 12 + 4 + 2 + 6 + 2 + 4 + 30)
        return [(i.config_id, i.budget, round(float(i.config["x"]), 12)) for i in asked]

    assert sequence("least_aggressive") == sequence("cycle")


def test_state_round_trip_keeps_the_round():
    a = with_result_on(27.0, "least_aggressive", 3)
    asked = ask_all(a)  # three runs: on 27, 9 and 3; the bracket on 1 is the round's last
    state = json.loads(json.dumps(a.get_state()))
    assert state["scheduler"]["round"] == [3, 2, 1]
    b = optimizer(hb(bracket_order="least_aggressive"), n_workers=3)
    b.set_state(state)
    for opt in (a, b):  # the run on 27 ends: its instance starts the round's last bracket
        for info in asked:
            if info.budget == 27.0:
                opt.tell(info, 0.5)
    more_a, more_b = ask_all(a), ask_all(b)
    assert more_a[0].budget == 1.0
    assert [(i.config_id, i.budget) for i in more_a] == [(i.config_id, i.budget) for i in more_b]


def test_a_run_that_ends_at_a_tell_after_a_state_round_trip_starts_as_the_last_ask_planned():
    a = with_result_on(27.0, "least_aggressive", 2)
    asked = ask_all(a)  # two runs: on 27 and on 9
    b = optimizer(hb(bracket_order="least_aggressive"), n_workers=2)
    b.set_state(json.loads(json.dumps(a.get_state())))
    for info in asked:
        if info.budget == 27.0:  # the run on 27 ends at this tell: the next run starts here
            b.tell(info, 0.5)
    assert ask_all(b)[0].budget == 3.0  # planned for two workers: the least aggressive, not the cycle's next


def test_a_run_directory_written_before_bracket_order_resumes_in_cycle_order(tmp_path):
    out = tmp_path / "run"
    with optimizer(hb(bracket_order="least_aggressive"), n_workers=3, output_dir=out) as opt:
        ask_all(opt)
    settings_file = out / "optimizer.json"
    settings = json.loads(settings_file.read_text())
    del settings["intensifier"]["settings"]["bracket_order"]
    settings_file.write_text(json.dumps(settings))
    resumed = smacish.Optimizer.load(out)
    assert resumed.intensifier.bracket_order == "cycle"
    resumed.close()


def test_an_unknown_bracket_order_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="bracket_order is 'random', but must be one of 'cycle', 'least_aggressive'"):
        hb(bracket_order="random")


def test_least_aggressive_is_the_default():
    opt = optimizer(hb(), n_workers=3)
    opt.add_warmstart_trial(TrialInfo(space().sample_configuration(), budget=9.0), TrialValue(cost=1.0))
    assert first_budgets(ask_all(opt)) == [27.0, 9.0, 3.0]
