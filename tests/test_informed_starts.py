"""Hyperband's informed starts: a bracket that starts above the smallest budget waits until a
result exists on the budget just below its start; meanwhile the most aggressive bracket stands in.
Serial runs are unchanged (every earlier bracket has run to the top before the next starts)."""

from __future__ import annotations

import collections
import json

import pytest

import smacish
from smacish import Hyperband
from _intensifier_helpers import ask_all, ask_tell, optimizer, tell_all

# brackets: [27@1, 9@3, 3@9, 1@27], [12@3, ...], [6@9, 2@27], [4@27]


def hb(**kwargs) -> Hyperband:
    return Hyperband(min_budget=1, max_budget=27, eta=3, **kwargs)


def test_before_any_result_every_run_starts_on_the_smallest_budget():
    asked = ask_all(optimizer(hb(), n_workers=3))
    assert len(asked) == 3 * 27
    assert {info.budget for info in asked} == {1.0}
    assert sorted({info.config_id[0] for info in asked}) == [0, 1, 2]  # three runs of the first bracket


def test_without_informed_starts_the_brackets_start_in_cycle_order():
    asked = ask_all(optimizer(hb(informed_starts=False), n_workers=3))
    assert [info.budget for info in asked] == [1.0] * 27 + [3.0] * 12 + [9.0] * 6


def test_a_result_below_its_first_budget_lets_the_waiting_bracket_start():
    opt = optimizer(hb(), n_workers=3)
    first = ask_all(opt)[:27]
    opt2 = optimizer(hb(), n_workers=3)
    run0 = [opt2.ask() for _ in range(27)]
    assert [i.config_id for i in run0] == [i.config_id for i in first]
    tell_all(opt2, run0[:1])  # one result on budget 1
    nxt = opt2.ask()  # the first run waits for its stage: a new run, of the cycle's next bracket
    assert (nxt.budget, nxt.config_id[0]) == (3.0, 1)


def test_the_bracket_that_waited_starts_first_once_it_may():
    opt = optimizer(hb(), n_workers=4)
    run0 = [opt.ask() for _ in range(27)]
    stand_in = opt.ask()  # no result yet: a second run of the first bracket stands in
    assert (stand_in.budget, stand_in.config_id[0]) == (1.0, 1)
    tell_all(opt, run0 + [stand_in])
    counts = collections.Counter((info.config_id[0], info.budget) for info in ask_all(opt))
    # run 0 goes on to budget 3, run 1 draws the rest of its 27; the bracket that waited (12 on
    # budget 3) starts now; the next (6 on budget 9) waits for a result on 3: another stand-in
    assert counts == {(0, 3.0): 9, (1, 1.0): 26, (2, 3.0): 12, (3, 1.0): 27}


def test_serial_runs_are_the_same_with_and_without_informed_starts():
    def sequence(informed: bool):
        asked = ask_tell(optimizer(hb(informed_starts=informed)), 2 * 27 + 30)
        return [(i.config_id, i.budget, round(float(i.config["x"]), 12)) for i in asked]

    assert sequence(True) == sequence(False)


def test_a_configuration_enqueued_on_a_higher_budget_lets_its_bracket_start():
    opt = optimizer(hb(), n_workers=3)
    opt.enqueue({"x": 0.5}, budget=27)
    asked = ask_all(opt)
    on_top = [info for info in asked if info.budget == 27.0]
    assert [round(float(info.config["x"]), 12) for info in on_top[:1]] == [0.5]
    assert {info.budget for info in asked} == {1.0, 27.0}  # brackets on 3 and 9 still wait


def test_state_round_trip_keeps_the_waiting_bracket():
    a = optimizer(hb(), n_workers=4)
    asked = [a.ask() for _ in range(30)]  # one run waits for its stage, a stand-in run draws
    state = a.get_state()
    assert state["scheduler"]["cycle"] == 1 and state["scheduler"]["n_iterations"] == 2
    b = optimizer(hb(), n_workers=4)
    b.set_state(json.loads(json.dumps(state)))
    tell_all(a, asked[:5])
    tell_all(b, asked[:5])
    more_a = ask_all(a)
    more_b = ask_all(b)
    assert [(i.config_id, i.budget) for i in more_a] == [(i.config_id, i.budget) for i in more_b]


def test_a_state_without_a_cycle_counter_continues_the_cycle_at_its_run_count():
    a = optimizer(hb(informed_starts=False), n_workers=2)
    ask_all(a)
    state = a.get_state()
    del state["scheduler"]["cycle"]
    b = optimizer(hb(informed_starts=False), n_workers=3)
    b.set_state(state)
    nxt = ask_all(b)
    assert nxt[0].config_id[0] == 2 and nxt[0].budget == 9.0  # the third bracket, as before


def test_a_run_directory_written_before_informed_starts_resumes_without_them(tmp_path):
    out = tmp_path / "run"
    with optimizer(hb(), n_workers=3, output_dir=out) as opt:
        ask_all(opt)
    settings_file = out / "optimizer.json"
    settings = json.loads(settings_file.read_text())
    assert settings["intensifier"]["settings"]["informed_starts"] is True
    del settings["intensifier"]["settings"]["informed_starts"]
    settings_file.write_text(json.dumps(settings))
    resumed = smacish.Optimizer.load(out)
    assert resumed.intensifier.informed_starts is False
    resumed.close()


def test_informed_starts_must_be_a_bool():
    with pytest.raises(ValueError, match="informed_starts is 'yes', but must be True or False"):
        hb(informed_starts="yes")
