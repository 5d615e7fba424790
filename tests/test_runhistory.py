"""RunHistory: ids, aggregation, the incumbent rules, persistence, bad input, exports."""

import itertools
import json
import math
import os
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    Configuration,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    Integer,
    OrdinalHyperparameter,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import smacish._io
from smacish import Incumbent, RunHistory, StatusType, TrialInfo, TrialValue

SUCCESS, CRASHED, TIMEOUT = StatusType.SUCCESS, StatusType.CRASHED, StatusType.TIMEOUT
SELECTIONS = ("highest_executed_budget", "highest_budget", "any_budget")

SPACE = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def cfg(i: int, space: ConfigurationSpace = SPACE) -> Configuration:
    """The i-th hand-made configuration (x = i / 10)."""
    return Configuration(space, values={"x": i / 10})


def tell(rh, config, cost, budget=None, instance=None, seed=0, status=SUCCESS, **value_kwargs):
    info = TrialInfo(config, budget=budget, instance=instance, seed=seed)
    rh.add(info, TrialValue(cost=cost, status=status, **value_kwargs))
    return info


def rich_space(name: str = "rich") -> ConfigurationSpace:
    """Log, int, categorical, ordinal, constant and a conditional hyperparameter."""
    cs = ConfigurationSpace(name=name, seed=0)
    optimizer = Categorical("optimizer", ["sgd", "adam"])
    cs.add([
        Float("lr", (1e-5, 1.0), log=True),
        Integer("units", (1, 1024), log=True),
        optimizer,
        Float("momentum", (0.0, 0.99)),
        Integer("layers", (1, 5)),
        OrdinalHyperparameter("size", ["s", "m", "l"]),
        Constant("kind", "mlp"),
    ])
    cs.add(EqualsCondition(cs["momentum"], optimizer, "sgd"))
    return cs


RICH = rich_space()


def snapshot(rh: RunHistory):
    """Everything observable about a RunHistory, to check that bad input changed nothing."""
    return (
        json.dumps(rh.to_json(), sort_keys=True),
        len(rh),
        rh.budget_spent,
        rh.running(),
        rh.get_configs(),
        [rh.incumbent_entry(s, max_budget=3.0) for s in SELECTIONS],
    )


# ====================================================================== ids, len, items, running
def test_config_ids_follow_order_of_first_appearance():
    rh = RunHistory(SPACE)
    tell(rh, cfg(3), 0.5, budget=1.0)
    tell(rh, cfg(1), 0.5, budget=1.0)
    tell(rh, cfg(2), 0.5, budget=1.0)
    assert [rh.config_number(cfg(i)) for i in (3, 1, 2)] == [1, 2, 3]
    assert rh.get_configs() == [cfg(3), cfg(1), cfg(2)]
    assert rh.get_config(2) == cfg(1)


def test_same_config_told_twice_keeps_one_id():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=1.0)
    tell(rh, cfg(2), 0.5, budget=1.0)
    tell(rh, cfg(1), 0.4, budget=3.0)  # a new Configuration object with the same values
    assert rh.config_number(cfg(1)) == 1
    assert len(rh.get_configs()) == 2


def test_config_from_an_equal_but_distinct_space_object_gets_the_same_id():
    twin = ConfigurationSpace({"x": (0.0, 1.0)}, seed=123)
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=1.0)
    tell(rh, cfg(1, twin), 0.4, budget=3.0)
    assert rh.config_number(cfg(1, twin)) == 1
    assert len(rh) == 2


def test_unknown_config_id_is_a_key_error():
    with pytest.raises(KeyError):
        RunHistory(SPACE).get_config(1)


def test_len_counts_finished_trials_only():
    rh = RunHistory(SPACE)
    rh.add_running(TrialInfo(cfg(1), budget=1.0))
    tell(rh, cfg(2), 0.5, budget=1.0)
    assert len(rh) == 1


def test_items_yield_pairs_in_the_order_they_were_told():
    rh = RunHistory(SPACE)
    first = TrialInfo(cfg(1), budget=1.0)
    rh.add_running(first)  # started first ...
    second = tell(rh, cfg(2), 0.2, budget=1.0)
    third = tell(rh, cfg(2), 0.3, budget=3.0)
    rh.add(first, TrialValue(cost=0.1))  # ... but told last
    assert [info for info, _ in rh.items()] == [second, third, first]
    assert [value.cost for _, value in rh.items()] == [0.2, 0.3, 0.1]


def test_running_trials_are_visible_until_they_finish():
    rh = RunHistory(SPACE)
    a, b = TrialInfo(cfg(1), budget=1.0), TrialInfo(cfg(2), budget=1.0)
    rh.add_running(a)
    rh.add_running(b)
    assert rh.running() == [a, b]
    rh.add(a, TrialValue(cost=0.5))
    assert rh.running() == [b]
    assert a in rh and b not in rh


def test_a_running_status_value_marks_the_trial_running():
    rh = RunHistory(SPACE)
    info = TrialInfo(cfg(1), budget=1.0)
    rh.add(info, TrialValue(cost=0.0, status=StatusType.RUNNING))
    assert rh.running() == [info] and len(rh) == 0


def test_running_config_gets_its_id_when_it_starts():
    rh = RunHistory(SPACE)
    rh.add_running(TrialInfo(cfg(5), budget=1.0))
    tell(rh, cfg(6), 0.5, budget=1.0)
    assert rh.config_number(cfg(5)) == 1 and rh.config_number(cfg(6)) == 2


def test_get_returns_the_recorded_value_or_none():
    rh = RunHistory(SPACE)
    info = tell(rh, cfg(1), 0.5, budget=1.0)
    assert rh.get(info).cost == 0.5
    assert rh.get(TrialInfo(cfg(1), budget=3.0)) is None
    assert rh.get(TrialInfo(cfg(9), budget=1.0)) is None


def test_budget_spent_sums_budgets_and_counts_one_per_budgetless_trial():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=1.0)
    tell(rh, cfg(1), 0.5, budget=9.0)
    tell(rh, cfg(2), math.inf, budget=3.0, status=CRASHED)
    tell(rh, cfg(3), 0.5, instance="i1")
    assert rh.budget_spent == 14.0


# ====================================================================== get_cost
def test_get_cost_is_the_mean_over_instance_seed_pairs_on_a_budget():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.2, budget=3.0, instance="a", seed=0)
    tell(rh, cfg(1), 0.4, budget=3.0, instance="b", seed=0)
    tell(rh, cfg(1), 0.9, budget=3.0, instance="a", seed=1)
    tell(rh, cfg(1), 5.0, budget=1.0)
    assert rh.get_cost(cfg(1), budget=3.0) == pytest.approx(0.5)
    assert rh.get_cost(cfg(1), budget=1.0) == 5.0


def test_get_cost_without_budget_uses_the_configs_highest_budget():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.2, budget=9.0)
    tell(rh, cfg(1), 0.5, budget=27.0)
    tell(rh, cfg(1), 0.9, budget=3.0)
    assert rh.get_cost(cfg(1)) == 0.5
    assert rh.get_budgets(cfg(1)) == [3.0, 9.0, 27.0]


def test_get_cost_accepts_an_int_budget():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.2, budget=3.0)
    assert rh.get_cost(cfg(1), budget=3) == 0.2


def test_get_cost_in_instance_runs_averages_all_pairs():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 1.0, instance="a")
    tell(rh, cfg(1), 2.0, instance="b")
    assert rh.get_cost(cfg(1)) == 1.5


def test_crashed_trial_counts_as_infinite_cost_by_default_never_nan():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.2, budget=1.0, seed=0)
    tell(rh, cfg(1), math.inf, budget=1.0, seed=1, status=CRASHED)
    assert rh.get_cost(cfg(1), 1.0) == math.inf


def test_crashed_trial_with_a_finite_reported_cost_still_counts_as_crash_cost():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.01, budget=1.0, status=CRASHED)
    assert rh.get_cost(cfg(1)) == math.inf


def test_crash_cost_is_configurable():
    rh = RunHistory(SPACE, crash_cost=10.0)
    tell(rh, cfg(1), 0.2, budget=1.0, seed=0)
    tell(rh, cfg(1), math.inf, budget=1.0, seed=1, status=CRASHED)
    assert rh.get_cost(cfg(1)) == pytest.approx(5.1)


@pytest.mark.parametrize("status", [StatusType.MEMORYOUT])
def test_other_failures_count_as_crash_cost(status):
    rh = RunHistory(SPACE, crash_cost=7.0)
    tell(rh, cfg(1), math.inf, budget=1.0, status=status)
    assert rh.get_cost(cfg(1)) == 7.0


def test_timeout_with_a_finite_cost_counts_its_own_cost():
    rh = RunHistory(SPACE, crash_cost=7.0)
    tell(rh, cfg(1), 3.5, budget=1.0, status=TIMEOUT)
    tell(rh, cfg(2), math.inf, budget=1.0, status=TIMEOUT)
    assert rh.get_cost(cfg(1)) == 3.5
    assert rh.get_cost(cfg(2)) == 7.0


def test_get_cost_of_a_never_evaluated_config_is_nan():
    rh = RunHistory(SPACE)
    rh.add_running(TrialInfo(cfg(1), budget=1.0))
    assert math.isnan(rh.get_cost(cfg(1)))
    assert math.isnan(rh.get_cost(cfg(2)))


def test_nan_crash_cost_is_refused():
    with pytest.raises(ValueError, match="crash_cost"):
        RunHistory(SPACE, crash_cost=math.nan)


# ====================================================================== incumbent: rules
def test_empty_history_has_no_incumbent():
    rh = RunHistory(SPACE)
    assert rh.incumbent() is None
    assert rh.incumbent("any_budget") is None
    assert rh.incumbent("highest_budget", max_budget=9.0) is None


def test_highest_executed_budget_judges_only_the_highest_budget_reached():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.1, budget=1.0)
    tell(rh, cfg(2), 0.5, budget=1.0)
    tell(rh, cfg(2), 0.6, budget=3.0)
    assert rh.incumbent() == cfg(2)
    assert rh.incumbent_entry() == Incumbent(cfg(2), 2, 3.0, 0.6)


def test_highest_executed_budget_switches_when_a_better_config_reaches_that_budget():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=3.0)
    tell(rh, cfg(2), 0.4, budget=3.0)
    assert rh.incumbent() == cfg(2)


def test_highest_executed_budget_is_the_default_rule():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.1, budget=1.0)
    tell(rh, cfg(2), 0.9, budget=9.0)
    assert rh.incumbent() == rh.incumbent("highest_executed_budget") == cfg(2)


def test_highest_budget_is_none_until_a_config_reaches_max_budget():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.1, budget=1.0)
    tell(rh, cfg(1), 0.1, budget=3.0)
    assert rh.incumbent("highest_budget", max_budget=9.0) is None
    tell(rh, cfg(2), 0.7, budget=9.0)
    assert rh.incumbent_entry("highest_budget", max_budget=9.0) == Incumbent(cfg(2), 2, 9.0, 0.7)


def test_highest_budget_needs_max_budget():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.1, budget=1.0)
    with pytest.raises(ValueError, match="max_budget"):
        rh.incumbent("highest_budget")


def test_any_budget_takes_the_best_cost_on_any_budget():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=9.0)
    tell(rh, cfg(2), 0.1, budget=1.0)
    tell(rh, cfg(2), 0.8, budget=3.0)
    assert rh.incumbent_entry("any_budget") == Incumbent(cfg(2), 2, 1.0, 0.1)


def test_unknown_selection_rule_is_a_value_error_listing_the_rules():
    rh = RunHistory(SPACE)
    with pytest.raises(ValueError) as err:
        rh.incumbent("best_ever")
    for rule in SELECTIONS:
        assert rule in str(err.value)


@pytest.mark.parametrize("selection", SELECTIONS)
def test_ties_go_to_the_config_seen_first(selection):
    rh = RunHistory(SPACE)
    tell(rh, cfg(7), 0.3, budget=9.0)
    tell(rh, cfg(2), 0.3, budget=9.0)
    tell(rh, cfg(5), 0.3, budget=9.0)
    assert rh.incumbent(selection, max_budget=9.0) == cfg(7)


def test_any_budget_tie_across_budgets_goes_to_the_config_seen_first():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.3, budget=9.0)
    tell(rh, cfg(2), 0.3, budget=1.0)
    assert rh.incumbent("any_budget") == cfg(1)


# ---------------------------------------------------------------- incumbent: crashes
@pytest.mark.parametrize("selection", SELECTIONS)
def test_config_whose_trials_all_crashed_is_never_the_incumbent(selection):
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), math.inf, budget=9.0, status=CRASHED)
    assert rh.incumbent(selection, max_budget=9.0) is None
    tell(rh, cfg(2), 100.0, budget=9.0)
    assert rh.incumbent(selection, max_budget=9.0) == cfg(2)


def test_one_crash_among_pairs_disqualifies_the_config_by_default():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.1, budget=3.0, seed=0)
    tell(rh, cfg(1), math.inf, budget=3.0, seed=1, status=CRASHED)
    tell(rh, cfg(2), 0.9, budget=3.0)
    assert rh.incumbent() == cfg(2)


def test_highest_executed_budget_falls_back_when_everything_on_the_top_budget_crashed():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=1.0)
    tell(rh, cfg(2), math.inf, budget=9.0, status=CRASHED)
    assert rh.incumbent_entry() == Incumbent(cfg(1), 1, 1.0, 0.5)


# ---------------------------------------------------------------- incumbent: costs going up
def test_incumbent_changes_when_its_mean_cost_goes_up_after_another_seed():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.1, budget=3.0, seed=0)
    tell(rh, cfg(2), 0.3, budget=3.0, seed=0)
    assert rh.incumbent() == cfg(1)
    tell(rh, cfg(1), 0.9, budget=3.0, seed=1)  # mean 0.5
    assert rh.incumbent_entry() == Incumbent(cfg(2), 2, 3.0, 0.3)


@pytest.mark.parametrize("selection", ["any_budget", "highest_budget"])
def test_stale_better_cost_is_not_reported_after_the_mean_rose(selection):
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.1, budget=3.0, seed=0)
    tell(rh, cfg(1), 0.9, budget=3.0, seed=1)
    tell(rh, cfg(2), 0.4, budget=3.0)
    entry = rh.incumbent_entry(selection, max_budget=3.0)
    assert (entry.config_number, entry.cost) == (2, 0.4)  # not cfg(1)'s stale 0.1


def test_incumbent_comes_back_when_its_mean_falls_again():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.1, budget=3.0, seed=0)
    tell(rh, cfg(2), 0.3, budget=3.0, seed=0)
    tell(rh, cfg(1), 0.9, budget=3.0, seed=1)
    tell(rh, cfg(1), 0.0, budget=3.0, seed=2)  # mean 1/3: still worse than 0.3
    assert rh.incumbent() == cfg(2)
    tell(rh, cfg(1), 0.0, budget=3.0, seed=3)  # mean 0.25
    assert rh.incumbent_entry() == Incumbent(cfg(1), 1, 3.0, 0.25)


# ---------------------------------------------------------------- incumbent: instance-based runs
def test_instance_runs_judge_on_the_most_instance_seed_pairs():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.4, instance="a")
    tell(rh, cfg(1), 0.6, instance="b")
    tell(rh, cfg(2), 0.1, instance="a")
    assert rh.incumbent_entry() == Incumbent(cfg(1), 1, 2.0, 0.5)
    assert rh.incumbent_entry("any_budget") == Incumbent(cfg(2), 2, 1.0, 0.1)


def test_instance_runs_challenger_takes_over_once_it_has_as_many_pairs():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.4, instance="a")
    tell(rh, cfg(1), 0.6, instance="b")
    tell(rh, cfg(2), 0.1, instance="a")
    tell(rh, cfg(2), 0.3, instance="b")
    assert rh.incumbent_entry() == Incumbent(cfg(2), 2, 2.0, pytest.approx(0.2))


def test_instance_runs_highest_budget_means_that_many_pairs():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.4, instance="a")
    assert rh.incumbent("highest_budget", max_budget=2) is None
    tell(rh, cfg(1), 0.6, instance="b")
    assert rh.incumbent("highest_budget", max_budget=2) == cfg(1)


def test_instance_runs_mean_going_up_moves_the_incumbent():
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.1, instance="a")
    tell(rh, cfg(2), 0.2, instance="a")
    tell(rh, cfg(1), 0.9, instance="b")  # cfg(1): 2 pairs, mean 0.5
    tell(rh, cfg(2), 0.4, instance="b")  # cfg(2): 2 pairs, mean 0.3
    assert rh.incumbent() == cfg(2)
    assert rh.incumbent("any_budget") == cfg(2)


# ---------------------------------------------------------------- incumbent: brute-force reference
class ReferenceHistory:
    """The incumbent rules recomputed from scratch after every trial (obviously right, slow)."""

    def __init__(self, crash_cost: float):
        self.crash_cost = crash_cost
        self.ids: dict = {}
        self.trials: list = []  # (config id, budget, effective cost) in telling order

    def add(self, config_index, budget, cost, status):
        cid = self.ids.setdefault(config_index, len(self.ids) + 1)
        counts = status is SUCCESS or (status is TIMEOUT and math.isfinite(cost))
        self.trials.append((cid, budget, cost if counts else self.crash_cost, status is SUCCESS))

    def candidates(self):
        """(level, mean cost, config id) of every (config, budget) with a finite mean and at
        least one successful trial."""
        groups = defaultdict(list)
        for cid, budget, cost, success in self.trials:
            groups[(cid, budget)].append((cost, success))
        out = []
        for (cid, budget), trials in groups.items():
            mean = sum(c for c, _ in trials) / len(trials)
            level = budget if budget is not None else float(len(trials))
            if math.isfinite(mean) and any(ok for _, ok in trials):
                out.append((level, mean, cid))
        return out

    def incumbent(self, selection, max_budget):
        pool = self.candidates()
        if selection == "highest_budget":
            pool = [c for c in pool if c[0] == max_budget]
        elif selection == "highest_executed_budget" and pool:
            top = max(level for level, _, _ in pool)
            pool = [c for c in pool if c[0] == top]
        if not pool:
            return None
        _, mean, cid = min(pool, key=lambda c: (c[1], c[2]))
        return cid, mean


FOUR_CONFIGS = [cfg(i) for i in range(4)]


@st.composite
def trial_streams(draw):
    instance_based = draw(st.booleans())
    steps = []
    for _ in range(draw(st.integers(0, 40))):
        status = draw(st.sampled_from([SUCCESS, SUCCESS, SUCCESS, CRASHED, TIMEOUT]))
        costs = [0.0, 0.25, 0.5, 1.0] + ([] if status is SUCCESS else [math.inf])
        steps.append((
            draw(st.integers(0, 3)),
            None if instance_based else draw(st.sampled_from([1.0, 3.0, 9.0])),
            draw(st.sampled_from(["a", "b"] if instance_based else [None, "a"])),
            draw(st.integers(0, 2)),
            draw(st.sampled_from(costs)),
            status,
        ))
    max_budget = 2.0 if instance_based else 9.0
    return steps, max_budget


@settings(max_examples=150, deadline=None)
@given(stream=trial_streams(), crash_cost=st.sampled_from([math.inf, 2.0]))
def test_incumbent_matches_brute_force_reference_after_every_trial(stream, crash_cost):
    steps, max_budget = stream
    rh, ref = RunHistory(SPACE, crash_cost=crash_cost), ReferenceHistory(crash_cost)
    for index, budget, instance, seed, cost, status in steps:
        info = TrialInfo(FOUR_CONFIGS[index], budget=budget, instance=instance, seed=seed)
        if info in rh:
            continue
        rh.add(info, TrialValue(cost=cost, status=status))
        ref.add(index, budget, cost, status)
        candidates = set(ref.candidates())
        for selection in SELECTIONS:
            got = rh.incumbent_entry(selection, max_budget=max_budget)
            want = ref.incumbent(selection, max_budget)
            if want is None:
                assert got is None, selection
                continue
            assert (got.config_number, got.cost) == want, selection
            assert (got.budget, got.cost, got.config_number) in candidates
            assert got.config == rh.get_config(got.config_number)


# ====================================================================== persistence
def test_save_then_load_round_trips_a_small_history(tmp_path):
    rh = RunHistory(RICH, crash_cost=50.0)
    a, b = RICH.sample_configuration(2)
    tell(rh, a, 0.5, budget=1.0, instance="i1", seed=3, time=1.5, starttime=10.0, endtime=11.5,
         additional_info={"worker": "tcp://1", "curve": [0.9, 0.5]})
    tell(rh, b, math.inf, budget=1.0, status=CRASHED, additional_info={"traceback": "boom"})
    rh.add_running(TrialInfo(a, budget=3.0, config_id=(0, 1, 0), cutoff=60.0))
    rh.save(tmp_path / "rh.json")
    assert_same_history(RunHistory.load(tmp_path / "rh.json", RICH), rh)


def test_load_without_a_space_uses_the_stored_one(tmp_path):
    rh = RunHistory(RICH)
    tell(rh, RICH.sample_configuration(), 0.5, budget=1.0)
    rh.save(tmp_path / "rh.json")
    loaded = RunHistory.load(tmp_path / "rh.json")
    assert loaded.configspace == RICH
    assert_same_history(loaded, rh)


def assert_same_history(loaded: RunHistory, original: RunHistory) -> None:
    assert list(loaded.items()) == list(original.items())
    assert loaded.running() == original.running()
    assert loaded.get_configs() == original.get_configs()
    for a, b in zip(loaded.get_configs(), original.get_configs()):
        assert np.array_equal(a.get_array(), b.get_array(), equal_nan=True)
    for (info_a, value_a), (info_b, value_b) in zip(loaded.items(), original.items()):
        assert type(info_a.budget) is type(info_b.budget)
        assert value_a.status is value_b.status
        assert json.dumps(value_a.additional_info) == json.dumps(value_b.additional_info)
    assert loaded.crash_cost == original.crash_cost
    assert loaded.budget_spent == original.budget_spent
    for selection in ("highest_executed_budget", "any_budget"):
        assert loaded.incumbent_entry(selection) == original.incumbent_entry(selection)


@st.composite
def rich_configs(draw):
    optimizer = draw(st.sampled_from(["sgd", "adam"]))
    values = {
        "lr": draw(st.floats(1e-5, 1.0)),
        "units": draw(st.integers(1, 1024)),
        "optimizer": optimizer,
        "layers": draw(st.integers(1, 5)),
        "size": draw(st.sampled_from(["s", "m", "l"])),
        "kind": "mlp",
    }
    if optimizer == "sgd":
        values["momentum"] = draw(st.floats(0.0, 0.99))
    return Configuration(RICH, values=values)


FINITE = st.floats(-1e6, 1e6, allow_nan=False)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def trial_values(draw):
    status = draw(st.sampled_from([s for s in StatusType if s is not StatusType.RUNNING]))
    cost = draw(FINITE if status is SUCCESS else FINITE | st.just(math.inf))
    return TrialValue(
        cost=cost,
        time=draw(st.floats(0.0, 1e6)),
        status=status,
        starttime=draw(FINITE),
        endtime=draw(FINITE),
        additional_info=draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3)),
    )


@st.composite
def trial_infos(draw, configs):
    return TrialInfo(
        draw(st.sampled_from(configs)),
        budget=draw(st.none() | st.sampled_from([1.0, 3.0, 9.0]) | st.floats(1e-3, 1e3)),
        instance=draw(st.none() | st.sampled_from(["a", "b"]) | st.text(max_size=6)),
        seed=draw(st.integers(0, 2) | st.integers(0, 2**40)),
        config_id=draw(st.none() | st.tuples(st.integers(0, 9), st.integers(0, 4), st.integers(0, 99))),
        cutoff=draw(st.none() | st.floats(0.1, 100.0)),
    )


@st.composite
def histories(draw):
    configs = draw(st.lists(rich_configs(), min_size=1, max_size=4))
    rh = RunHistory(RICH, crash_cost=draw(st.sampled_from([math.inf, 1e3])))
    for _ in range(draw(st.integers(0, 15))):
        info = draw(trial_infos(configs))
        if info in rh:
            continue
        if draw(st.integers(0, 4)) == 0:
            rh.add_running(info)
        else:
            rh.add(info, draw(trial_values()))
    return rh


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rh=histories())
def test_save_load_round_trips_generated_histories_exactly(rh):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "runhistory.json"
        rh.save(path)
        assert_same_history(RunHistory.load(path, RICH), rh)
        assert os.listdir(tmp) == ["runhistory.json"]


def test_file_from_a_different_space_is_refused_with_a_clear_error(tmp_path):
    rh = RunHistory(RICH)
    tell(rh, RICH.sample_configuration(), 0.5, budget=1.0)
    rh.save(tmp_path / "rh.json")
    other = ConfigurationSpace(name="rich", space={"lr": (0.0, 1.0)})
    with pytest.raises(ValueError, match="different configuration space") as err:
        RunHistory.load(tmp_path / "rh.json", other)
    assert "rh.json" in str(err.value)


def test_file_from_a_space_with_another_range_is_refused(tmp_path):
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=1.0)
    rh.save(tmp_path / "rh.json")
    with pytest.raises(ValueError, match="different configuration space"):
        RunHistory.load(tmp_path / "rh.json", ConfigurationSpace({"x": (0.0, 2.0)}))


@pytest.mark.parametrize("text", [
    "[1, 2, 3]",
    '{"trials": []}',
    '{"format": "smacish.trajectory", "configs": [], "trials": []}',
    "not json at all {",
    "",
])
def test_file_that_is_not_a_runhistory_is_refused(tmp_path, text):
    path = tmp_path / "other.json"
    path.write_text(text)
    with pytest.raises(ValueError, match="other.json"):
        RunHistory.load(path, SPACE)


def test_damaged_runhistory_file_is_a_value_error_not_a_key_error(tmp_path):
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=1.0)
    data = rh.to_json()
    del data["trials"][0]["seed"]
    path = tmp_path / "rh.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="rh.json"):
        RunHistory.load(path, SPACE)


class _FileThatDiesHalfway:
    """Stands in for the temp file: writes half of the text, then fails like a full disk."""

    def __init__(self, fh):
        self._fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()
        return False

    def write(self, text):
        self._fh.write(text[: len(text) // 2])
        self._fh.flush()
        raise OSError(28, "simulated crash: no space left on device")


def _saved_history(path) -> RunHistory:
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=1.0)
    tell(rh, cfg(2), 0.3, budget=1.0)
    rh.save(path)
    return rh


def test_crash_mid_write_leaves_the_old_file_readable_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "rh.json"
    rh = _saved_history(path)
    old_text = path.read_text()
    tell(rh, cfg(3), 0.1, budget=3.0)
    real_fdopen = os.fdopen
    monkeypatch.setattr(smacish._io.os, "fdopen", lambda *a, **k: _FileThatDiesHalfway(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="simulated crash"):
        rh.save(path)
    monkeypatch.undo()
    assert path.read_text() == old_text
    assert len(RunHistory.load(path, SPACE)) == 2
    assert os.listdir(tmp_path) == ["rh.json"]


def test_interrupt_before_rename_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "rh.json"
    rh = _saved_history(path)
    old_text = path.read_text()
    tell(rh, cfg(3), 0.1, budget=3.0)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(smacish._io.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rh.save(path)
    monkeypatch.undo()
    assert path.read_text() == old_text
    assert os.listdir(tmp_path) == ["rh.json"]


def test_unserialisable_additional_info_fails_the_save_without_touching_the_file(tmp_path):
    path = tmp_path / "rh.json"
    rh = _saved_history(path)
    old_text = path.read_text()
    tell(rh, cfg(3), 0.1, budget=3.0, additional_info={"model": object()})
    with pytest.raises(TypeError, match="JSON"):
        rh.save(path)
    assert path.read_text() == old_text
    assert os.listdir(tmp_path) == ["rh.json"]


def test_numpy_values_in_additional_info_are_saved_as_plain_numbers(tmp_path):
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=1.0, additional_info={"acc": np.float32(0.5), "curve": np.arange(3)})
    rh.save(tmp_path / "rh.json")
    (_, value), = RunHistory.load(tmp_path / "rh.json", SPACE).items()
    assert value.additional_info == {"acc": 0.5, "curve": [0, 1, 2]}


# ====================================================================== bad input
def _history_with_some_trials() -> RunHistory:
    rh = RunHistory(SPACE)
    tell(rh, cfg(1), 0.5, budget=1.0)
    tell(rh, cfg(2), 0.4, budget=3.0)
    rh.add_running(TrialInfo(cfg(3), budget=1.0))
    return rh


OTHER_SPACE = ConfigurationSpace(name="other", space={"x": (0.0, 2.0)})


def _add_nan_cost(rh):
    rh.add(TrialInfo(cfg(4), budget=1.0), TrialValue(cost=math.nan))


def _add_inf_cost_success(rh):
    rh.add(TrialInfo(cfg(4), budget=1.0), TrialValue(cost=math.inf, status=SUCCESS))


def _add_negative_time(rh):
    rh.add(TrialInfo(cfg(4), budget=1.0), TrialValue(cost=0.1, time=-2.0))


def _add_string_budget(rh):
    rh.add(TrialInfo(cfg(4), budget="3"), TrialValue(cost=0.1))


def _add_unknown_status(rh):
    rh.add(TrialInfo(cfg(4), budget=1.0), TrialValue(cost=0.1, status="FINE"))


def _add_config_from_another_space(rh):
    rh.add(TrialInfo(Configuration(OTHER_SPACE, values={"x": 1.5})), TrialValue(cost=0.1))


def _add_lookalike_config_from_another_space(rh):
    # x=0.2 in [0, 2] has the same normalised vector as cfg(1) (x=0.1 in [0, 1])
    rh.add(TrialInfo(Configuration(OTHER_SPACE, values={"x": 0.2}), budget=1.0, seed=5), TrialValue(cost=0.1))


def _run_lookalike_config_from_another_space(rh):
    rh.add_running(TrialInfo(Configuration(OTHER_SPACE, values={"x": 0.2}), budget=9.0))


def _add_twice(rh):
    rh.add(TrialInfo(cfg(1), budget=1.0), TrialValue(cost=0.1))


def _add_twice_with_int_budget(rh):
    rh.add(TrialInfo(cfg(2), budget=np.int64(3)), TrialValue(cost=0.1))


def _run_a_finished_trial(rh):
    rh.add_running(TrialInfo(cfg(1), budget=1.0))


def _add_a_plain_float(rh):
    rh.add(TrialInfo(cfg(4), budget=1.0), 0.1)


def _add_a_dict_as_info(rh):
    rh.add({"config": cfg(4)}, TrialValue(cost=0.1))


BAD_INPUT = [
    (_add_nan_cost, ValueError, "cost"),
    (_add_inf_cost_success, ValueError, "cost"),
    (_add_negative_time, ValueError, "time"),
    (_add_string_budget, TypeError, "budget"),
    (_add_unknown_status, ValueError, "SUCCESS, CRASHED"),
    (_add_config_from_another_space, ValueError, "ConfigurationSpace"),
    (_add_lookalike_config_from_another_space, ValueError, "ConfigurationSpace"),
    (_run_lookalike_config_from_another_space, ValueError, "ConfigurationSpace"),
    (_add_twice, ValueError, "already"),
    (_add_twice_with_int_budget, ValueError, "already"),
    (_run_a_finished_trial, ValueError, "already"),
    (_add_a_plain_float, TypeError, "value"),
    (_add_a_dict_as_info, TypeError, "info"),
]


@pytest.mark.parametrize("bad_call, error, message", BAD_INPUT, ids=[b[0].__name__.strip("_") for b in BAD_INPUT])
def test_bad_input_raises_and_leaves_the_history_unchanged(bad_call, error, message):
    rh = _history_with_some_trials()
    before = snapshot(rh)
    with pytest.raises(error, match=message):
        bad_call(rh)
    assert snapshot(rh) == before


# ====================================================================== to_dataframe
def test_to_dataframe_has_one_row_per_trial_with_every_column():
    rh = RunHistory(RICH)
    sgd = Configuration(RICH, values={"lr": 0.01, "units": 64, "optimizer": "sgd", "momentum": 0.9,
                                      "layers": 2, "size": "m", "kind": "mlp"})
    adam = Configuration(RICH, values={"lr": 0.001, "units": 8, "optimizer": "adam", "layers": 1,
                                       "size": "s", "kind": "mlp"})
    tell(rh, sgd, 0.5, budget=1.0, instance="i1", seed=4, starttime=1.0, endtime=2.5)
    tell(rh, adam, math.inf, budget=3.0, status=CRASHED, starttime=2.0, endtime=3.0)
    rh.add_running(TrialInfo(adam, budget=9.0))
    df = rh.to_dataframe()
    expected = {"config_number", "config_id", *RICH.keys(), "budget", "instance", "seed", "cost", "status", "starttime", "endtime"}
    assert expected <= set(df.columns)
    assert len(df) == 2
    first, second = df.iloc[0], df.iloc[1]
    assert (first["config_number"], first["lr"], first["optimizer"], first["momentum"]) == (1, 0.01, "sgd", 0.9)
    assert (first["budget"], first["instance"], first["seed"], first["cost"]) == (1.0, "i1", 4, 0.5)
    assert (first["status"], first["starttime"], first["endtime"]) == ("SUCCESS", 1.0, 2.5)
    assert (second["config_number"], second["status"], second["cost"]) == (2, "CRASHED", math.inf)
    assert second["momentum"] is None or math.isnan(second["momentum"])  # inactive


def test_to_dataframe_of_an_empty_history_has_the_columns():
    df = RunHistory(SPACE).to_dataframe()
    assert len(df) == 0
    assert {"config_id", "x", "budget", "cost", "status"} <= set(df.columns)


# ====================================================================== utilisation
_TRIAL_SEEDS = itertools.count()


def _timed(rh, start, end, worker=None):
    """A trial that ran from ``start`` to ``end`` (each call a new seed, so a new trial)."""
    info = {"worker": worker} if worker else {}
    tell(rh, cfg(1), 0.5, budget=1.0, seed=next(_TRIAL_SEEDS), starttime=start, endtime=end,
         time=end - start, additional_info=info)


def test_utilisation_of_one_worker_with_a_gap():
    rh = RunHistory(SPACE)
    _timed(rh, 0.0, 2.0)
    _timed(rh, 4.0, 6.0)
    assert rh.utilisation() == pytest.approx(4 / 6)


def test_utilisation_of_two_busy_workers_is_one():
    rh = RunHistory(SPACE)
    _timed(rh, 0.0, 10.0, worker="tcp://a")
    _timed(rh, 0.0, 5.0, worker="tcp://b")
    _timed(rh, 5.0, 10.0, worker="tcp://b")
    assert rh.utilisation() == pytest.approx(1.0)


def test_utilisation_counts_workers_from_additional_info():
    rh = RunHistory(SPACE)
    _timed(rh, 0.0, 10.0, worker="tcp://a")
    _timed(rh, 0.0, 4.0, worker="tcp://b")
    assert rh.utilisation() == pytest.approx(14 / 20)


def test_utilisation_with_explicit_worker_count():
    rh = RunHistory(SPACE)
    _timed(rh, 0.0, 10.0)
    _timed(rh, 0.0, 5.0)
    assert rh.utilisation(n_workers=4) == pytest.approx(15 / 40)


def test_utilisation_without_timed_trials_is_zero():
    rh = RunHistory(SPACE)
    assert rh.utilisation() == 0.0
    tell(rh, cfg(1), 0.5, budget=1.0)  # start == end == 0
    assert rh.utilisation() == 0.0


def test_repr_counts_trials_configs_and_running():
    rh = _history_with_some_trials()
    assert repr(rh) == "RunHistory(2 trials, 3 configurations, 1 running)"


def test_configurations_are_saved_with_the_values_configspace_gives():
    """runhistory.json converts values a hyperparameter at a time over all configurations (fast
    for big runs); the values must be exactly those of ``dict(config)``: log floats rounded as
    ConfigSpace rounds them, integers as int, categoricals mixing types kept as they are,
    inactive hyperparameters left out."""
    cs = ConfigurationSpace(seed=1)
    cs.add([Float("lr", (1e-5, 1.0), log=True), Float("b", (-3.0, 7.5)), Integer("n", (1, 1000), log=True),
            Integer("m", (-5, 5)), Categorical("k", ["x", "y", "z"]), OrdinalHyperparameter("o", ["lo", "mid", "hi"]),
            Categorical("flag", [True, False]), Constant("c", "const"), Categorical("mixed", [1, 2.5, "s"])])
    cs.add(EqualsCondition(cs["b"], cs["k"], "y"))
    configs = cs.sample_configuration(500) + [cs.get_default_configuration()]
    rh = RunHistory(cs)
    for i, config in enumerate(configs):
        rh.add(TrialInfo(config, budget=1.0), TrialValue(cost=float(i)))
    saved = rh.to_json()["configs"]
    expected = [smacish._io.config_to_json(c) for c in configs]
    assert json.dumps(saved) == json.dumps(expected)  # same values, same types, same key order
    assert any("b" not in c["values"] for c in saved) and any("b" in c["values"] for c in saved)


@pytest.mark.parametrize("status", [CRASHED, TIMEOUT])
def test_a_configuration_that_never_succeeded_is_never_the_incumbent_even_at_a_finite_crash_cost(status):
    rh = RunHistory(SPACE, crash_cost=1e6)
    tell(rh, cfg(1), 0.5, budget=1.0)
    tell(rh, cfg(2), 0.2, budget=3.0)
    tell(rh, cfg(2), 7.0, budget=9.0, status=status)  # its only budget-9 trial failed
    for selection in ("highest_executed_budget", "any_budget"):
        entry = rh.incumbent_entry(selection, max_budget=9.0)
        assert (entry.config, entry.budget, entry.cost) == (cfg(2), 3.0, 0.2), selection
    assert rh.incumbent_entry("highest_budget", max_budget=9.0) is None


def test_the_crashed_budget_9_trial_of_successive_halving_is_not_the_incumbent():
    from smacish import Optimizer, SuccessiveHalving

    opt = Optimizer(SPACE, SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=0, crash_cost=1e6)

    def target(config, budget):
        if budget == 9:
            raise RuntimeError("out of memory on the full budget")
        return config["x"] / budget

    opt.optimize(target, n_trials=13, catch=(RuntimeError,))
    entry = opt.runhistory.incumbent_entry("highest_executed_budget")
    assert entry.budget == 3.0 and entry.cost < 1e6
    assert all(e.cost < 1e6 for e in opt.trajectory)


def test_a_runhistory_without_a_space_adopts_the_first_configurations_space():
    rh = RunHistory()
    tell(rh, cfg(1), 0.5, budget=1.0)
    assert rh.configspace is cfg(1).config_space
    other = ConfigurationSpace({"y": (0.0, 1.0)}).sample_configuration()
    with pytest.raises(ValueError, match="different ConfigurationSpace"):
        tell(rh, other, 0.3, budget=1.0)
    assert len(rh) == 1
    pytest.importorskip("pandas")
    assert "x" in rh.to_dataframe().columns


def test_the_old_names_of_config_number_still_answer_with_a_deprecation_warning() -> None:
    space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    a, b = space.sample_configuration(2)
    rh = RunHistory(space)
    rh.add(TrialInfo(a, budget=1.0), TrialValue(cost=0.5))
    rh.add(TrialInfo(b, budget=1.0), TrialValue(cost=0.2))
    with pytest.warns(DeprecationWarning, match="config_number"):
        assert rh.config_id(b) == rh.config_number(b) == 2
    with pytest.warns(DeprecationWarning, match="config_number"):
        assert rh.find_config_id(a) == 1
    with pytest.warns(DeprecationWarning, match="config_number"):
        assert rh.incumbent_entry().config_id == 2
    df = rh.to_dataframe()
    assert df["config_number"].tolist() == [1, 2] and df["config_id"].tolist() == [None, None]
    assert "trial_config_id" not in df.columns
