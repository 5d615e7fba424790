"""Successive halving and Hyperband behind the Optimizer's ask/tell: the golden schedule, promotion,
refills after crashes, instance budgets, incumbent selection, adaptive capping, validation, tell
and ask contracts, the optimize loop, determinism and small spaces."""

from __future__ import annotations

import collections
import json
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ConfigSpace import ConfigurationSpace

import smacish
from smacish import Hyperband, StatusType, SuccessiveHalving, TrialValue, WaitForResults
from _intensifier_helpers import Driver, ask_all, ask_tell, optimizer, space, tell_all, x_cost

TESTS_DIR = Path(__file__).resolve().parent

GOLDEN_R81_ETA3 = [
    [(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)],
    [(34, 3.0), (11, 9.0), (3, 27.0), (1, 81.0)],
    [(15, 9.0), (5, 27.0), (1, 81.0)],
    [(8, 27.0), (2, 81.0)],
    [(5, 81.0)],
]
ROUND = 206  # trials in one round of the golden table


def sh9(**kwargs) -> SuccessiveHalving:
    """9 configurations on budget 1, the best 3 on budget 3, the best 1 on budget 9."""
    return SuccessiveHalving(min_budget=1, max_budget=9, eta=3, **kwargs)


# ====================================================================== the golden run
@pytest.fixture(scope="module")
def golden_asks():
    """One full round of Hyperband(1, 81, 3) and the next round's first bracket, serially."""
    return ask_tell(optimizer(Hyperband(min_budget=1, max_budget=81, eta=3)), ROUND + 121)


def golden_sequence(asks):
    """The (config_id, budget) sequence the golden table prescribes, given each configuration's
    x (its cost on every budget): each stage promotes the best floor(n/eta) in ascending running
    index, and after the fifth bracket it starts again with the first."""
    x_of = {info.config_id: info.config["x"] for info in asks}
    sequence = []
    for iteration, bracket in enumerate(GOLDEN_R81_ETA3 * 2):
        if len(sequence) >= len(asks):
            break
        ids = [(iteration, 0, k) for k in range(bracket[0][0])]
        for stage, (n, budget) in enumerate(bracket):
            if stage > 0:
                best = sorted(ids, key=lambda cid: (x_of[cid], cid))[:n]
                ids = sorted(best, key=lambda cid: cid[2])
            sequence += [(cid, budget) for cid in ids]
    return sequence[:len(asks)]


def test_golden_run_follows_the_table_trial_by_trial(golden_asks):
    assert [(info.config_id, info.budget) for info in golden_asks] == golden_sequence(golden_asks)


def test_golden_run_runs_each_stage_exactly_its_planned_trials(golden_asks):
    counts = collections.Counter((info.config_id[0], info.budget) for info in golden_asks[:ROUND])
    planned = {(it, budget): n for it, bracket in enumerate(GOLDEN_R81_ETA3) for n, budget in bracket}
    assert counts == planned


def test_golden_round_samples_143_distinct_configurations(golden_asks):
    stage_zero = {info.config_id: info.config for info in golden_asks[:ROUND] if info.config_id[1] == 0}
    assert len(stage_zero) == 143
    assert len({tuple(c.get_array()) for c in stage_zero.values()}) == 143


def test_golden_run_starts_with_81_configurations_on_budget_1(golden_asks):
    assert [(i.config_id, i.budget) for i in golden_asks[:81]] == [((0, 0, k), 1.0) for k in range(81)]


def test_promoted_configurations_keep_their_config_id(golden_asks):
    config_of = {}
    for info in golden_asks:
        assert config_of.setdefault(info.config_id, info.config) == info.config


def test_promoted_configurations_are_requeued_in_ascending_running_index(golden_asks):
    stages = collections.defaultdict(list)
    for info in golden_asks:
        stages[(info.config_id[0], info.budget)].append(info.config_id[2])
    assert all(indices == sorted(indices) for indices in stages.values())


def test_after_the_fifth_bracket_hyperband_cycles_to_the_first(golden_asks):
    next_round = golden_asks[ROUND:]
    assert [(i.config_id, i.budget) for i in next_round[:81]] == [((5, 0, k), 1.0) for k in range(81)]
    assert [i.budget for i in next_round[81:]] == [3.0] * 27 + [9.0] * 9 + [27.0] * 3 + [81.0]


# ====================================================================== promotion
def test_the_best_third_by_cost_go_on():
    opt = optimizer(sh9())
    stage0 = ask_all(opt)
    costs = [0.5, 0.1, 0.9, 0.3, 0.8, 0.2, 0.7, 0.6, 0.4]
    for info, cost in reversed(list(zip(stage0, costs))):  # told in another order than asked
        opt.tell(info, cost)
    stage1 = ask_all(opt)
    assert [(i.config_id, i.budget) for i in stage1] == [((0, 0, 1), 3.0), ((0, 0, 3), 3.0), ((0, 0, 5), 3.0)]


def test_promotion_ranks_on_the_cost_of_that_stage_budget():
    opt = optimizer(sh9())
    stage0 = ask_all(opt)
    tell_all(opt, stage0, lambda info: {1: 0.1, 3: 0.3, 5: 0.2}.get(info.config_id[2], 0.9))
    stage1 = ask_all(opt)
    tell_all(opt, stage1, lambda info: {1: 0.9, 3: 0.5, 5: 0.05}[info.config_id[2]])
    assert [(i.config_id, i.budget) for i in ask_all(opt)] == [((0, 0, 5), 9.0)]


def test_promotion_ties_go_to_the_lower_running_index():
    opt = optimizer(sh9())
    tell_all(opt, ask_all(opt), lambda info: 0.5)
    assert [i.config_id for i in ask_all(opt)] == [(0, 0, 0), (0, 0, 1), (0, 0, 2)]


FAILED = [StatusType.CRASHED, StatusType.TIMEOUT, StatusType.MEMORYOUT]  # ABORTED is no result


@pytest.mark.parametrize("status", FAILED)
def test_failed_trials_never_go_on_even_when_their_cost_is_lowest(status):
    opt = optimizer(sh9(), crash_cost=0.0)  # a failed trial counts as cost 0, cheaper than any success
    stage0 = ask_all(opt)
    for k, info in enumerate(stage0):
        opt.tell(info, TrialValue(cost=0.0, status=status) if k < 3 else TrialValue(cost=float(k)))
    assert [i.config_id for i in ask_all(opt)] == [(0, 0, 3), (0, 0, 4), (0, 0, 5)]


def test_crashes_refill_the_next_stage_with_fresh_configurations():
    opt = optimizer(sh9())
    stage0 = ask_all(opt)
    for k, info in enumerate(stage0):
        opt.tell(info, 0.5 if k == 4 else TrialValue(cost=math.inf, status=StatusType.CRASHED))
    stage1 = ask_all(opt)
    assert [(i.config_id, i.budget) for i in stage1] == [
        ((0, 0, 4), 3.0), ((0, 1, 9), 3.0), ((0, 1, 10), 3.0)
    ]


def test_refilled_configurations_are_new():
    opt = optimizer(sh9())
    stage0 = ask_all(opt)
    tell_all(opt, stage0, lambda info: TrialValue(cost=math.inf, status=StatusType.CRASHED))
    seen = {tuple(i.config.get_array()) for i in stage0}
    stage1 = ask_all(opt)
    assert [i.config_id for i in stage1] == [(0, 1, 9), (0, 1, 10), (0, 1, 11)]
    assert not seen & {tuple(i.config.get_array()) for i in stage1}


def test_crashes_in_the_last_but_one_stage_refill_the_last():
    opt = optimizer(sh9())
    tell_all(opt, ask_all(opt))
    tell_all(opt, ask_all(opt), lambda info: TrialValue(cost=math.inf, status=StatusType.CRASHED))
    assert [(i.config_id, i.budget) for i in ask_all(opt)] == [((0, 2, 9), 9.0)]


def test_every_stage_runs_its_planned_trials_despite_crashes():
    def most_crash(info):  # 3 in 4 crash: too few valid configurations for every next stage
        crashed = info.config["x"] >= 0.25
        return TrialValue(cost=math.inf, status=StatusType.CRASHED) if crashed else x_cost(info)

    asks = ask_tell(optimizer(Hyperband(min_budget=1, max_budget=81, eta=3)), ROUND, most_crash)
    counts = collections.Counter((info.config_id[0], info.budget) for info in asks)
    assert counts == {(it, b): n for it, bracket in enumerate(GOLDEN_R81_ETA3) for n, b in bracket}
    assert any(info.config_id[1] > 0 for info in asks)  # refills did happen


# ====================================================================== scheduler: ranking and routing
def two_instances_on_stage_zero():
    """Two successive-halving instances (iterations 0 and 1), each with its 9 stage-0 trials asked."""
    opt = optimizer(sh9(), n_workers=2)
    asked = ask_all(opt)
    first, second = asked[:9], asked[9:]
    assert {i.config_id[0] for i in first} == {0} and {i.config_id[0] for i in second} == {1}
    return opt, first, second


def test_results_go_back_to_the_instance_that_asked_the_trial():
    opt, _, second = two_instances_on_stage_zero()
    tell_all(opt, second)
    info = opt.ask()
    assert (info.config_id[0], info.budget) == (1, 3.0)


def test_the_instance_in_the_highest_stage_is_served_first():
    opt = optimizer(sh9(), n_workers=2)
    iteration0 = [opt.ask() for _ in range(9)]
    newcomer = opt.ask()  # a second instance starts: 1 of its 9 stage-0 trials asked
    assert newcomer.config_id[0] == 1
    tell_all(opt, iteration0)  # iteration 0 moves to stage 1; iteration 1 could still launch
    info = opt.ask()
    assert (info.config_id[0], info.budget) == (0, 3.0)


def test_on_equal_stages_the_instance_with_more_trials_launched_goes_first():
    opt, first, second = two_instances_on_stage_zero()
    tell_all(opt, first)
    assert opt.ask().config_id[0] == 0  # iteration 0: 10 trials launched
    tell_all(opt, second)  # iteration 1 reaches stage 1 with 9 launched
    info = opt.ask()
    assert (info.config_id[0], info.budget) == (0, 3.0)


def test_on_equal_stages_and_launches_the_older_instance_goes_first():
    opt, first, second = two_instances_on_stage_zero()
    tell_all(opt, second)
    tell_all(opt, first)
    info = opt.ask()
    assert (info.config_id[0], info.budget) == (0, 3.0)


# ====================================================================== instance budgets
INSTANCES = [f"i{k}" for k in range(9)]


def sh_instances(**kwargs) -> SuccessiveHalving:
    options = dict(instances=INSTANCES, deterministic=True, instance_order=None, eta=3)
    options.update(kwargs)
    return SuccessiveHalving(**options)


def instance_cost(info) -> float:
    return info.config["x"] + int(info.instance[1:]) / 10


def test_instance_budgets_count_instance_seed_pairs():
    assert sh_instances().budgets == [1.0, 3.0, 9.0]


def test_instance_trials_carry_an_instance_and_no_budget():
    info = optimizer(sh_instances()).ask()
    assert (info.budget, info.instance) == (None, "i0")


def test_stage_zero_runs_each_configuration_on_the_first_pair():
    stage0 = ask_all(optimizer(sh_instances()))
    assert [i.instance for i in stage0] == ["i0"] * 9


def test_promoted_configurations_run_only_the_new_pairs():
    opt = optimizer(sh_instances())
    tell_all(opt, ask_all(opt), instance_cost)
    stage1 = ask_all(opt)
    assert [i.instance for i in stage1] == ["i1", "i2"] * 3
    tell_all(opt, stage1, instance_cost)
    assert [i.instance for i in ask_all(opt)] == [f"i{k}" for k in range(3, 9)]


def test_instance_cost_is_the_mean_over_the_pairs():
    opt = optimizer(sh_instances())
    ask_tell(opt, 9 + 6 + 6, instance_cost)
    winner = opt.runhistory.incumbent_entry()
    expected = winner.config["x"] + sum(range(9)) / 10 / 9
    assert winner.budget == 9
    assert winner.cost == pytest.approx(expected)


def test_instance_promotion_ranks_by_the_mean_over_every_pair_so_far():
    """A is best on the mean of its three pairs; B is best on the two new pairs alone."""
    opt = optimizer(sh_instances())
    stage0 = ask_all(opt)
    first = {0: 0.0, 1: 1.9, 2: 2.0}  # running index -> cost on i0; 0 = A, 1 = B
    tell_all(opt, stage0, lambda info: first.get(info.config_id[2], 5.0))
    later = {0: 2.0, 1: 1.5, 2: 3.0}
    tell_all(opt, ask_all(opt), lambda info: later[info.config_id[2]])
    top = ask_all(opt)
    assert {i.config_id for i in top} == {(0, 0, 0)}  # A: mean 4/3 beats B: mean 4.9/3


def test_deterministic_runs_every_trial_with_seed_zero():
    opt = optimizer(sh_instances())
    assert {i.seed for i in ask_tell(opt, 21, instance_cost)} == {0}


def test_n_seeds_pairs_every_instance_with_every_seed():
    sh = SuccessiveHalving(instances=["a", "b", "c"], n_seeds=2, instance_order=None, eta=3)
    opt = optimizer(sh)
    asks = ask_tell(opt, 3 * 2 + 4, lambda info: info.config["x"])
    winner = [(i.instance, i.seed) for i in asks if i.config_id == asks[-1].config_id]
    assert len(set(winner)) == 6
    assert {inst for inst, _ in winner} == {"a", "b", "c"}
    assert len({seed for _, seed in winner}) == 2


def winner_orders(asks):
    """Per finished iteration: the instances its winner ran, in ask order (the pair order)."""
    trials = collections.defaultdict(list)
    for info in asks:
        trials[info.config_id].append(info.instance)
    return {cid[0]: order for cid, order in trials.items() if len(order) == len(INSTANCES)}


def test_instance_order_none_keeps_the_given_order():
    asks = ask_tell(optimizer(sh_instances()), 21, instance_cost)
    assert winner_orders(asks) == {0: INSTANCES}


def run_instance_order(order: str, n_workers: int):
    opt = optimizer(sh_instances(instance_order=order), n_workers=n_workers)
    driver = Driver(opt, random.Random(3), instance_cost)
    driver.run(150)
    driver.drain()
    return opt, winner_orders(driver.asked)


def test_shuffle_once_shares_one_order_among_all_intensifier_instances():
    opt, orders = run_instance_order("shuffle_once", n_workers=3)
    assert opt.intensifier.n_instances == 3
    assert len(orders) >= 3
    distinct = {tuple(order) for order in orders.values()}
    assert len(distinct) == 1
    (order,) = distinct
    assert sorted(order) == INSTANCES and list(order) != INSTANCES


def test_shuffle_draws_a_new_order_for_each_iteration():
    _, orders = run_instance_order("shuffle", n_workers=3)
    assert len(orders) >= 3
    assert len({tuple(order) for order in orders.values()}) > 1
    assert all(sorted(order) == INSTANCES for order in orders.values())


def test_instance_refill_runs_every_pair_of_its_budget():
    """A configuration entering at stage 1 (budget 3 pairs) is judged on 3 pairs, like the
    promoted ones, not only on the 2 new pairs they run there."""
    opt = optimizer(sh_instances())
    stage0 = ask_all(opt)
    for k, info in enumerate(stage0):
        opt.tell(info, 0.5 if k == 0 else TrialValue(cost=math.inf, status=StatusType.CRASHED))
    stage1 = ask_all(opt)
    runs = collections.defaultdict(list)
    for info in stage1:
        runs[info.config_id].append(info.instance)
    assert runs == {(0, 0, 0): ["i1", "i2"], (0, 1, 9): ["i0", "i1", "i2"], (0, 1, 10): ["i0", "i1", "i2"]}


def test_instance_refill_can_be_promoted():
    opt = optimizer(sh_instances())
    stage0 = ask_all(opt)
    tell_all(opt, stage0, lambda info: TrialValue(cost=math.inf, status=StatusType.CRASHED))
    stage1 = ask_all(opt)
    tell_all(opt, stage1, lambda info: 0.1 if info.config_id == (0, 1, 10) else 0.9)
    top = ask_all(opt)
    assert {i.config_id for i in top} == {(0, 1, 10)}
    assert [i.instance for i in top] == [f"i{k}" for k in range(3, 9)]


# ====================================================================== incumbent selection
def flip_cost(info) -> float:
    """Low x is good on budget 1 and bad on every larger budget."""
    return info.config["x"] if info.budget == 1.0 else 1.0 - info.config["x"]


def best_trial(opt, budget=None):
    items = [(v.cost, opt.runhistory.config_number(i.config), i) for i, v in opt.runhistory.items()
             if budget is None or i.budget == budget]
    return min(items, key=lambda t: t[:2])[2]


INTENSIFIER_CLASSES = [SuccessiveHalving, Hyperband]


@pytest.mark.parametrize("cls", INTENSIFIER_CLASSES)
def test_highest_executed_budget_judges_on_the_largest_budget_run_so_far(cls):
    opt = optimizer(cls(min_budget=1, max_budget=9, eta=3, incumbent_selection="highest_executed_budget"))
    ask_tell(opt, 12, flip_cost)  # stages on budgets 1 and 3 done
    assert opt.incumbent == best_trial(opt, budget=3.0).config
    assert opt.trajectory[-1].budget == 3.0


@pytest.mark.parametrize("cls", INTENSIFIER_CLASSES)
def test_highest_budget_has_no_incumbent_before_max_budget(cls):
    opt = optimizer(cls(min_budget=1, max_budget=9, eta=3, incumbent_selection="highest_budget"))
    ask_tell(opt, 12, flip_cost)
    assert opt.incumbent is None


@pytest.mark.parametrize("cls", INTENSIFIER_CLASSES)
def test_highest_budget_takes_the_best_on_max_budget(cls):
    opt = optimizer(cls(min_budget=1, max_budget=9, eta=3, incumbent_selection="highest_budget"))
    ask_tell(opt, 13, flip_cost)
    assert opt.incumbent == best_trial(opt, budget=9.0).config


@pytest.mark.parametrize("cls", INTENSIFIER_CLASSES)
def test_any_budget_takes_the_lowest_cost_on_any_budget(cls):
    opt = optimizer(cls(min_budget=1, max_budget=9, eta=3, incumbent_selection="any_budget"))
    ask_tell(opt, 13, flip_cost)
    best = best_trial(opt)
    assert best.budget == 1.0  # the rule matters here: the best on budget 9 is another config
    assert opt.incumbent == best.config
    assert opt.incumbent != best_trial(opt, budget=9.0).config


# ====================================================================== adaptive capping
def capped_sh(**kwargs) -> SuccessiveHalving:
    options = dict(cutoff=10.0, run_obj_time=True)
    options.update(kwargs)
    return sh9(**options)


def tell_runtime(opt, info, runtime: float) -> None:
    opt.tell(info, TrialValue(cost=runtime, time=runtime))


def test_cutoff_is_the_configured_one_until_there_is_a_configuration_to_beat():
    opt = optimizer(capped_sh())
    cutoffs = []
    for runtime in (1.0, 2.0, 3.0):  # 3 places in the next stage: nothing to beat yet
        info = opt.ask()
        cutoffs.append(info.cutoff)
        tell_runtime(opt, info, runtime)
    assert cutoffs == [10.0, 10.0, 10.0]


@pytest.mark.parametrize("slackfactor", [1.2, 2.0])
def test_challenger_cutoff_is_capped_at_slackfactor_times_the_runtime_to_beat(slackfactor):
    opt = optimizer(capped_sh(adaptive_capping_slackfactor=slackfactor))
    for runtime in (1.0, 2.0, 3.0):
        tell_runtime(opt, opt.ask(), runtime)
    assert opt.ask().cutoff == pytest.approx(slackfactor * 3.0)  # the 3rd best must be beaten


def test_the_runtime_to_beat_follows_the_results():
    opt = optimizer(capped_sh())
    for runtime in (1.0, 2.0, 3.0, 0.5):
        tell_runtime(opt, opt.ask(), runtime)
    assert opt.ask().cutoff == pytest.approx(1.2 * 2.0)


def test_capping_never_raises_the_cutoff_above_the_configured_cutoff():
    opt = optimizer(capped_sh())
    for runtime in (50.0, 60.0, 70.0):
        tell_runtime(opt, opt.ask(), runtime)
    assert opt.ask().cutoff == 10.0


def test_no_capping_when_runtime_is_not_the_objective():
    opt = optimizer(capped_sh(run_obj_time=False))
    for runtime in (0.1, 0.2, 0.3):
        tell_runtime(opt, opt.ask(), runtime)
    assert opt.ask().cutoff == 10.0


def test_no_cutoff_means_no_limit():
    opt = optimizer(sh9(run_obj_time=True))
    for runtime in (0.1, 0.2, 0.3):
        tell_runtime(opt, opt.ask(), runtime)
    assert opt.ask().cutoff is None


def test_a_challenger_that_used_up_its_slack_is_dropped():
    """With instances, what a challenger already spent counts against its cap: over every pair
    so far, as promotion ranks the mean over every pair so far."""
    opt = optimizer(sh_instances(cutoff=10.0, run_obj_time=True))
    tell_all(opt, ask_all(opt), lambda info: TrialValue(cost=1.0 + info.config_id[2], time=1.0))
    first, second = opt.ask(), opt.ask()  # the first promoted config on i1, i2: 1 place above
    tell_runtime(opt, first, 1.0)
    tell_runtime(opt, second, 1.0)
    challenger = opt.ask()  # to beat: 1.0 + 1.0 + 1.0 = 3.0 in all; spent 2.0 on stage 0
    assert challenger.cutoff == pytest.approx(1.2 * 3.0 - 2.0)
    tell_runtime(opt, challenger, 1.6)  # 3.6 spent: nothing left to beat 1.2 x 3.0
    after = opt.ask()
    assert after.config_id != challenger.config_id
    tell_all(opt, [after] + ask_all(opt), lambda info: TrialValue(cost=5.0, time=5.0))
    assert {i.config_id for i in ask_all(opt)} == {first.config_id}


# ====================================================================== validation
BAD_ARGUMENTS = [
    (dict(eta=1), ["eta", "1", "> 1"]),
    (dict(eta="3"), ["eta", "'3'", "> 1"]),
    (dict(min_budget=0), ["min_budget", "0", "0 < min_budget <= max_budget"]),
    (dict(min_budget=10, max_budget=1), ["min_budget=10", "max_budget=1", "min_budget <= max_budget"]),
    (dict(max_budget=math.inf), ["max_budget=inf", "< inf"]),
    (dict(min_budget="1"), ["min_budget", "'1'", "numbers"]),
    (dict(instance_order="random"), ["instance_order", "'random'", "'shuffle_once'"]),
    (dict(n_seeds=0), ["n_seeds", "0", ">= 1"]),
    (dict(n_seeds=2, deterministic=True), ["n_seeds", "2", "deterministic=True"]),
    (dict(instances=[], min_budget=None, max_budget=None), ["instances", "[]", "non-empty list of str"]),
    (dict(instances=["a", "a"], min_budget=None, max_budget=None), ["instances", "['a']", "distinct"]),
    (dict(instances=["a", "b"], max_budget=5), ["max_budget", "5", "2 instance-seed pairs"]),
    (dict(num_initial_challengers=0), ["num_initial_challengers", "0", "int >= 1"]),
    (dict(incumbent_selection="best"), ["incumbent_selection", "'best'", "'highest_executed_budget'"]),
    (dict(min_chall=2), ["min_chall", "2", "must be 1"]),
    (dict(cutoff=0), ["cutoff", "0", "> 0"]),
    (dict(cutoff=-1.5), ["cutoff", "-1.5", "> 0"]),
    (dict(adaptive_capping_slackfactor=0.5), ["adaptive_capping_slackfactor", "0.5", ">= 1"]),
]


@pytest.mark.parametrize("bad, fragments", BAD_ARGUMENTS, ids=[next(iter(b)) for b, _ in BAD_ARGUMENTS])
def test_a_bad_argument_names_itself_its_value_and_what_is_accepted(bad, fragments):
    kwargs = dict(min_budget=1, max_budget=9)
    kwargs.update(bad)
    with pytest.raises(ValueError) as err:
        SuccessiveHalving(**kwargs)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_several_bad_arguments_are_all_reported():
    with pytest.raises(ValueError) as err:
        Hyperband(min_budget=1, max_budget=9, eta=1, instance_order="x", cutoff=-1, min_chall=3)
    message = str(err.value)
    for reported in ("eta is 1", "instance_order is 'x'", "cutoff is -1", "min_chall is 3"):
        assert reported in message


def test_hyperband_refuses_num_initial_challengers():
    with pytest.raises(ValueError, match="num_initial_challengers is 5.*SuccessiveHalving"):
        Hyperband(min_budget=1, max_budget=9, num_initial_challengers=5)


@pytest.mark.parametrize(
    "bad, fragment",
    [(dict(n_workers=0), "n_workers is 0, but must be an int >= 1"),
     (dict(seed="0"), "seed is '0' \\(str\\), but must be an int >= 0, a numpy.random.Generator"),
     (dict(selector="bogus"), "selector is 'bogus', but must be one of")],
)
def test_optimizer_names_a_bad_argument(bad, fragment):
    with pytest.raises(ValueError, match=fragment):
        smacish.Optimizer(space(), sh9(), **bad)


def test_optimizer_reports_several_bad_arguments_at_once():
    with pytest.raises(ValueError) as err:
        smacish.Optimizer(space(), "hyperband", seed=1.5, n_workers=-1)
    assert all(name in str(err.value) for name in ("intensifier", "seed", "n_workers"))


def test_an_intensifier_belongs_to_one_optimizer():
    sh = sh9()
    optimizer(sh)
    with pytest.raises(ValueError, match="already belongs to an Optimizer"):
        optimizer(sh)


# ====================================================================== tell
def snapshot(opt):
    return len(opt.runhistory), [p.key for p in opt.pending], len(opt.trajectory)


def test_tell_accepts_a_bare_float():
    opt = optimizer(sh9())
    info = opt.ask()
    opt.tell(info, 0.25)
    assert opt.runhistory.get(info) == TrialValue(cost=0.25)


def test_telling_a_trial_never_asked_raises_and_changes_nothing():
    opt = optimizer(sh9())
    asked = opt.ask()
    stranger = smacish.TrialInfo(space().sample_configuration(), budget=1.0, config_id=(0, 0, 5))
    before = snapshot(opt)
    with pytest.raises(ValueError, match="never asked"):
        opt.tell(stranger, 0.1)
    assert snapshot(opt) == before
    opt.tell(asked, 0.2)  # the real one is still pending


def test_telling_a_lookalike_with_another_configuration_raises():
    opt = optimizer(sh9())
    asked = opt.ask()
    lookalike = smacish.TrialInfo(space().sample_configuration(), asked.budget, config_id=asked.config_id)
    with pytest.raises(ValueError, match="never asked"):
        opt.tell(lookalike, 0.1)


def test_telling_a_trial_twice_raises_and_changes_nothing():
    opt = optimizer(sh9())
    info = opt.ask()
    opt.tell(info, 0.5)
    before = snapshot(opt)
    with pytest.raises(ValueError, match="told already"):
        opt.tell(info, 0.1)
    assert snapshot(opt) == before
    assert opt.runhistory.get(info).cost == 0.5


def test_a_nan_cost_raises_and_leaves_the_trial_pending():
    opt = optimizer(sh9())
    info = opt.ask()
    before = snapshot(opt)
    with pytest.raises(ValueError, match="(?i)nan"):
        opt.tell(info, math.nan)
    assert snapshot(opt) == before
    opt.tell(info, 0.3)
    assert len(opt.runhistory) == 1


def test_telling_a_running_status_raises_and_leaves_the_trial_pending():
    opt = optimizer(sh9())
    info = opt.ask()
    before = snapshot(opt)
    with pytest.raises(ValueError, match="RUNNING"):
        opt.tell(info, TrialValue(cost=0.0, status=StatusType.RUNNING))
    assert snapshot(opt) == before


def test_a_crashed_trial_may_be_told_with_an_infinite_cost():
    opt = optimizer(sh9())
    info = opt.ask()
    opt.tell(info, TrialValue(cost=math.inf, status=StatusType.CRASHED))
    assert opt.runhistory.get(info).status is StatusType.CRASHED


# ====================================================================== ask and WAIT
def test_ask_raises_wait_for_results_when_the_only_instance_waits():
    opt = optimizer(sh9())
    assert len(ask_all(opt)) == 9
    with pytest.raises(WaitForResults) as err:
        opt.ask()
    assert err.value.n_pending == 9
    assert "9 trial(s) pending" in str(err.value)


def test_ask_adds_an_instance_per_worker_before_it_waits():
    opt = optimizer(sh9(), n_workers=2)
    assert len(ask_all(opt)) == 18
    assert opt.intensifier.n_instances == 2


def test_ask_with_n_workers_overrides_the_optimizer_setting():
    opt = optimizer(sh9())
    asks = [opt.ask(n_workers=3) for _ in range(27)]
    assert len({i.config_id[0] for i in asks}) == 3
    with pytest.raises(WaitForResults):
        opt.ask(n_workers=3)


def test_a_waiting_stage_goes_on_once_all_its_results_are_told():
    opt = optimizer(sh9())
    stage0 = ask_all(opt)
    tell_all(opt, stage0[:8])
    with pytest.raises(WaitForResults):
        opt.ask()
    tell_all(opt, stage0[8:])
    assert opt.ask().budget == 3.0


def test_wait_for_results_is_exported():
    assert issubclass(smacish.WaitForResults, RuntimeError)


# ====================================================================== optimize
def test_target_with_config_and_budget_gets_only_the_budget():
    calls = []

    def target(config, budget):
        calls.append(budget)
        return config["x"]

    optimizer(sh9()).optimize(target, n_trials=10)
    assert calls == [1.0] * 9 + [3.0]


def test_target_with_every_argument_gets_them_all():
    calls = []

    def target(config, seed, budget, instance):
        calls.append((seed, budget, instance))
        return config["x"]

    optimizer(sh9()).optimize(target, n_trials=3)
    assert [budget for _, budget, _ in calls] == [1.0] * 3
    assert all(isinstance(seed, int) and instance is None for seed, _, instance in calls)


def test_target_with_kwargs_gets_budget_seed_and_instance():
    calls = []

    def target(config, **kwargs):
        calls.append(kwargs)
        return 0.0

    optimizer(sh_instances()).optimize(target, n_trials=2)
    assert sorted(calls[0]) == ["budget", "instance", "seed"]
    assert calls[0]["instance"] == "i0" and calls[0]["budget"] is None


def test_target_with_only_a_config_gets_no_keyword():
    calls = []

    def target(config):
        calls.append(config)
        return 1.0

    optimizer(sh9()).optimize(target, n_trials=2)
    assert len(calls) == 2


def test_target_returning_a_dict_with_cost_keeps_the_rest_as_additional_info():
    opt = optimizer(sh9())
    opt.optimize(lambda config, budget: {"cost": 0.5, "epochs": budget, "note": "ok"}, n_trials=1)
    ((_, value),) = list(opt.runhistory.items())
    assert value.cost == 0.5
    assert value.additional_info == {"epochs": 1.0, "note": "ok"}


def test_target_returning_hpbandster_loss_is_its_cost():
    opt = optimizer(sh9())
    opt.optimize(lambda config: {"loss": 0.25, "info": {"acc": 0.75}}, n_trials=1)
    ((_, value),) = list(opt.runhistory.items())
    assert (value.cost, value.additional_info) == (0.25, {"info": {"acc": 0.75}})


def test_a_target_that_raises_is_crashed_with_its_traceback_and_the_loop_goes_on():
    def target(config, budget):
        if config["x"] < 0.5:
            raise RuntimeError("diverged at x < 0.5")
        return config["x"]

    opt = optimizer(sh9())
    opt.optimize(target, n_trials=9, catch=(RuntimeError,))
    values = [v for _, v in opt.runhistory.items()]
    crashed = [v for v in values if v.status is StatusType.CRASHED]
    assert len(values) == 9
    assert 0 < len(crashed) < 9
    assert all("RuntimeError: diverged at x < 0.5" in v.additional_info["traceback"] for v in crashed)


def test_a_target_returning_nan_is_crashed():
    opt = optimizer(sh9())
    opt.optimize(lambda config: math.nan, n_trials=2)
    assert {v.status for _, v in opt.runhistory.items()} == {StatusType.CRASHED}


def test_optimize_stops_at_n_trials():
    opt = optimizer(Hyperband(min_budget=1, max_budget=9))
    opt.optimize(lambda config: config["x"], n_trials=25)
    assert len(opt.runhistory) == 25


def test_optimize_stops_at_budget_limit():
    opt = optimizer(Hyperband(min_budget=1, max_budget=9))
    opt.optimize(lambda config: config["x"], budget_limit=20, n_trials=1000)
    last = list(opt.runhistory.items())[-1][0]
    assert opt.runhistory.budget_spent >= 20
    assert opt.runhistory.budget_spent - last.budget < 20


def test_optimize_stops_at_walltime_limit():
    def slow(config):
        time.sleep(0.02)
        return config["x"]

    opt = optimizer(Hyperband(min_budget=1, max_budget=9))
    opt.optimize(slow, walltime_limit=0.2, n_trials=100_000)
    assert 1 <= len(opt.runhistory) < 100_000


def test_optimize_stops_at_whichever_limit_comes_first():
    opt = optimizer(Hyperband(min_budget=1, max_budget=9))
    opt.optimize(lambda config: config["x"], n_trials=5, budget_limit=1000, walltime_limit=3600)
    assert len(opt.runhistory) == 5


def test_optimize_returns_the_incumbent():
    opt = optimizer(Hyperband(min_budget=1, max_budget=9))
    assert opt.optimize(lambda config: config["x"], n_trials=13) == opt.incumbent


# ====================================================================== determinism
def asks_of(seed: int, n_workers: int = 3, n_asks: int = 120):
    opt = optimizer(Hyperband(min_budget=1, max_budget=27, eta=3), seed=seed, n_workers=n_workers)
    driver = Driver(opt, random.Random(11), lambda info: info.config["x"] / info.budget)
    driver.run(n_asks)
    return [(i.config_id, i.budget, tuple(i.config.get_array())) for i in driver.asked]


def test_same_seed_and_results_give_the_same_asks():
    assert asks_of(seed=5) == asks_of(seed=5)


def test_another_seed_gives_other_configurations():
    assert [a[2] for a in asks_of(seed=5)] != [a[2] for a in asks_of(seed=6)]


RECORD_SCRIPT = """
import json, random, sys
sys.path.insert(0, {tests!r})
import smacish
from ConfigSpace import ConfigurationSpace
from _intensifier_helpers import Driver

def values(config):
    return {{k: str(v) for k, v in dict(config).items()}}

def record():
    cs = ConfigurationSpace({{"x": (0.0, 1.0), "kind": ["rbf", "linear", "poly"], "n": (1, 64)}})
    hb = smacish.Hyperband(min_budget=1, max_budget=27)
    opt = smacish.Optimizer(cs, hb, selector="random", seed=3, n_workers=4)
    cost = lambda info: info.config["x"] + len(info.config["kind"]) / info.budget + info.config["n"] / 100
    driver = Driver(opt, random.Random(2), cost)
    driver.run(150)
    driver.drain()
    return [[list(i.config_id), i.budget, values(i.config)] for i in driver.asked]

print(json.dumps(record()))
"""


def record_in_subprocess(hash_seed: str):
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    out = subprocess.run(
        [sys.executable, "-c", RECORD_SCRIPT.format(tests=str(TESTS_DIR))],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )
    return json.loads(out.stdout)


def test_same_asks_in_a_fresh_process():
    namespace = {}
    exec(RECORD_SCRIPT.format(tests=str(TESTS_DIR)).replace("print(json.dumps(record()))", ""), namespace)
    here = json.loads(json.dumps(namespace["record"]()))
    assert record_in_subprocess("12345") == here


# ====================================================================== small spaces
def three_values() -> ConfigurationSpace:
    return ConfigurationSpace({"kernel": ["rbf", "linear", "poly"]}, seed=0)


def small_space_optimizer(cs: ConfigurationSpace, n_workers: int = 1) -> smacish.Optimizer:
    hb = Hyperband(min_budget=1, max_budget=9, eta=3)
    return smacish.Optimizer(cs, hb, selector="random", seed=0, n_workers=n_workers)


KERNEL_COST = {"rbf": 0.1, "linear": 0.2, "poly": 0.3}


def kernel_cost(config, budget):
    return KERNEL_COST[config["kernel"]] + 1.0 / budget


@pytest.mark.timeout(60)
def test_a_space_of_three_configurations_completes_without_errors():
    opt = small_space_optimizer(three_values())
    incumbent = opt.optimize(kernel_cost, n_trials=200)
    trials = [(i.config["kernel"], i.budget) for i, _ in opt.runhistory.items()]
    assert len(trials) == len(set(trials)) <= 9  # repeated configurations reuse their results
    assert {b for _, b in trials} == {1.0, 3.0, 9.0}
    assert incumbent["kernel"] == "rbf"


@pytest.mark.timeout(60)
def test_a_single_configuration_runs_once_per_budget_then_nothing_is_left():
    opt = small_space_optimizer(ConfigurationSpace({"kernel": ["rbf"]}))
    opt.optimize(kernel_cost, n_trials=200)
    assert [i.budget for i, _ in opt.runhistory.items()] == [1.0, 3.0, 9.0]
    with pytest.raises(WaitForResults) as err:
        opt.ask()
    assert err.value.n_pending == 0


@pytest.mark.timeout(60)
def test_a_small_space_in_parallel_ends_with_every_trial_told():
    opt = small_space_optimizer(three_values(), n_workers=3)
    driver = Driver(opt, random.Random(0), lambda info: kernel_cost(info.config, info.budget))
    driver.run(200)
    driver.drain()
    assert len(opt.runhistory) == len(driver.asked) <= 9
    assert opt.pending == []
    assert opt.incumbent["kernel"] == "rbf"


def test_capping_with_instance_budgets_judges_what_promotion_ranks_the_mean_over_all_pairs():
    """c1 is the better configuration over all three pairs (0.1 + 0.65 + 0.65 = 1.4 against
    c0's 1.5) but slower on stage 1's pairs alone (1.3 against 1.0): judged on the stage alone,
    its cap (1.2 x 1.0 - 0.65 = 0.55) would time it out and promote c0."""
    sh = SuccessiveHalving(instances=[f"i{k}" for k in range(9)], deterministic=True, instance_order=None,
                           eta=3, cutoff=100.0, run_obj_time=True)
    opt = optimizer(sh)
    stage0 = {0: 0.5, 1: 0.1, 2: 5.0}  # running index -> runtime; the others 50
    stage1 = {0: 0.5, 1: 0.65, 2: 5.0}
    runs = {}  # running index -> trials asked so far (1: stage 0, 2-3: stage 1, 4+: the last stage)
    final = None
    for _ in range(100):
        info = opt.ask(n_workers=1)
        index = info.config_id[2]
        runs[index] = runs.get(index, 0) + 1
        if runs[index] > 3:
            final = info
            break
        runtime = (stage0 if runs[index] == 1 else stage1).get(index, 50.0)
        if info.cutoff is not None and runtime > info.cutoff:
            opt.tell(info, TrialValue(cost=info.cutoff, time=info.cutoff, status=StatusType.TIMEOUT))
        else:
            tell_runtime(opt, info, runtime)
    timeouts = [i.config_id[2] for i, v in opt.runhistory.items() if v.status is StatusType.TIMEOUT]
    assert 0 not in timeouts and 1 not in timeouts  # the slow ones (50 s) are capped, rightly
    assert final is not None and final.config_id[2] == 1


def test_limits_take_numpy_numbers():
    import numpy as np
    from ConfigSpace import ConfigurationSpace

    opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}), smacish.Hyperband(min_budget=1, max_budget=9), seed=0)
    opt.optimize(lambda config, budget: config["x"], n_trials=np.int64(5), budget_limit=np.float32(100.0))
    assert len(opt.runhistory) == 5
    with pytest.raises(ValueError, match="n_trials is"):
        opt.optimize(lambda config, budget: config["x"], n_trials=np.float64(5.0))
