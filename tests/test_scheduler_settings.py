"""Scheduler settings that cannot mean what they seem to: refused or warned about, clearly."""

from __future__ import annotations

import pytest

import smacish


def test_a_scheduler_without_brackets_is_refused_with_what_to_use_instead():
    with pytest.raises(TypeError, match=r"needs schedules=.*or use smacish\.SuccessiveHalving"):
        smacish.ParallelScheduler(min_budget=1, max_budget=9)


def test_a_range_too_narrow_for_two_rungs_is_warned_about():
    with pytest.warns(UserWarning, match=r"min_budget=1, max_budget=2 with eta=3 give one budget only \(2\)") as rec:
        hb = smacish.Hyperband(min_budget=1, max_budget=2, eta=3)
    assert rec[0].filename == __file__  # points at the user's line
    assert hb.budgets == [2.0]
    assert smacish.Hyperband(min_budget=1, max_budget=2, eta=2).budgets == [1.0, 2.0]


def test_one_budget_on_purpose_is_not_warned_about(recwarn):
    smacish.SuccessiveHalving(min_budget=3, max_budget=3)
    assert not recwarn.list


def test_instance_rungs_that_repeat_after_rounding_are_refused():
    with pytest.raises(ValueError, match=r"rungs round to \[1, 1, 2, 2, 3\] instance-seed pairs, repeating one"):
        smacish.Hyperband(instances=["a", "b", "c"], eta=1.3)
    smacish.Hyperband(instances=["a", "b", "c"], eta=3)  # rungs 1, 3


def test_the_repr_says_sh_instances_apart_from_the_instances_parameter():
    assert repr(smacish.Hyperband(min_budget=1, max_budget=9)) == \
        "Hyperband(min_budget=1, max_budget=9, eta=3; 0 SH instance(s))"
    assert repr(smacish.SuccessiveHalving(instances=["a", "b", "c"], n_seeds=2)) == \
        "SuccessiveHalving(min_budget=1, max_budget=6, eta=3, instances=3, n_seeds=2; 0 SH instance(s))"
