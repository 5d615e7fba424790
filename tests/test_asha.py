"""Asynchronous promotions (``asynchronous=True``, ASHA): the rule on worked examples, the
bracket rule, errors, resume, and properties under random completion orders and crashes."""

from __future__ import annotations

import json
import math
import random
from typing import List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import smacish
from smacish import Hyperband, StatusType, SuccessiveHalving, TrialValue, WaitForResults
from smacish.intensifiers._asha import asha_candidates, n_promotable, next_bracket
from _intensifier_helpers import Driver, ListSelector, optimizer, random_costs, space


def _config(x: float):
    from ConfigSpace import Configuration

    return Configuration(space(), {"x": x})


def serial(opt: smacish.Optimizer, n: int, crash: Tuple[float, ...] = ()) -> List[tuple]:
    """Ask and tell ``n`` trials one at a time (cost = x; configurations whose x is in ``crash``
    crash); return ``(config_id, budget)`` of each ask."""
    out = []
    for _ in range(n):
        info = opt.ask()
        out.append((info.config_id, info.budget))
        x = info.config["x"]
        opt.tell(info, TrialValue(cost=math.inf, status=StatusType.CRASHED) if x in crash else x)
    return out


# ---------------------------------------------------------------------- the rule itself
def test_the_top_floor_n_over_eta_of_a_rung_are_promotable_best_first():
    assert [n_promotable(n, 3) for n in range(10)] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]
    assert [n_promotable(n, 2.5) for n in range(6)] == [0, 0, 0, 1, 1, 2]
    # results in the order they came: 0.5, 0.2, 0.9 -> top 1 is 0.2 (index 1)
    assert asha_candidates([0.5, 0.2, 0.9], [True] * 3, [False] * 3, 3) == [1]
    # 0.2 promoted; a fourth result 0.1 is the new top 1
    assert asha_candidates([0.5, 0.2, 0.9, 0.1], [True] * 4, [False, True, False, False], 3) == [3]
    # six results, top 2 = {0.1, 0.2}, both promoted already: nothing
    assert asha_candidates([0.5, 0.2, 0.9, 0.1, 0.3, 0.4], [True] * 6,
                           [False, True, False, True, False, False], 3) == []
    # a seventh, 0.05: top 2 = {0.05, 0.1}, only 0.05 is new
    assert asha_candidates([0.5, 0.2, 0.9, 0.1, 0.3, 0.4, 0.05], [True] * 7,
                           [False, True, False, True, False, False, False], 3) == [6]
    # two new ones in the top: best first
    assert asha_candidates([0.4, 0.3, 0.9, 0.8, 0.7, 0.6], [True] * 6, [False] * 6, 3) == [1, 0]


def test_a_failed_result_ranks_last_and_is_never_promoted_whatever_its_cost():
    # the crash counts with cost 0.0 (crash_cost=0): still below every success
    assert asha_candidates([0.0, 0.5, 0.9], [False, True, True], [False] * 3, 3) == [1]
    assert asha_candidates([0.0, 0.0, 0.0], [False] * 3, [False] * 3, 3) == []
    # ties on cost: the earlier result first
    assert asha_candidates([0.2, 0.2, 0.2, 0.2, 0.2, 0.2], [True] * 6, [False] * 6, 3) == [0, 1]


def test_new_configurations_enter_the_brackets_in_hyperbands_shares_interleaved():
    weights = [27, 12, 6, 4]  # Hyperband(1, 27, eta=3)'s first-stage sizes
    entered = [0, 0, 0, 0]
    order = []
    for _ in range(sum(weights)):
        s = next_bracket(entered, weights)
        entered[s] += 1
        order.append(s)
    assert entered == weights
    # the k-th configuration of bracket s is due at k / weights[s]: 0 at 1/27, 2/27; 1 at 1/12;
    # 0 at 3/27, 4/27; 1 and 2 both at 1/6 (tie: 1 first); 0 at 5/27, 6/27; 1 and 3 at 1/4
    assert order[:11] == [0, 0, 1, 0, 0, 1, 2, 0, 0, 1, 3]
    assert Hyperband(min_budget=1, max_budget=27, asynchronous=True).schedules[0][0][0] == 27


# ---------------------------------------------------------------------- worked runs
def test_a_serial_asynchronous_run_promotes_exactly_as_the_rule_says():
    xs = [0.5, 0.2, 0.9, 0.1, 0.3, 0.4, 0.05, 0.6]
    opt = optimizer(SuccessiveHalving(min_budget=1, max_budget=9, eta=3, asynchronous=True),
                    selector=ListSelector([_config(x) for x in xs]))
    assert serial(opt, 12) == [
        ((0, 0, 0), 1.0), ((0, 0, 1), 1.0), ((0, 0, 2), 1.0),
        ((0, 0, 1), 3.0),  # 3 results on budget 1: the top 1 (0.2) goes on at once
        ((0, 0, 3), 1.0),
        ((0, 0, 3), 3.0),  # 4 results, 0.1 is the top 1
        ((0, 0, 4), 1.0), ((0, 0, 5), 1.0),  # 6 results: top 2 = {0.1, 0.2}, both went on
        ((0, 0, 6), 1.0),
        ((0, 0, 6), 3.0),  # 7 results: top 2 = {0.05, 0.1}
        ((0, 0, 6), 9.0),  # 3 results on budget 3: 0.05 is their top 1
        ((0, 0, 7), 1.0),
    ]
    assert opt.incumbent["x"] == 0.05


def test_a_crashed_configuration_is_never_promoted():
    xs = [0.5, 0.2, 0.9, 0.1]
    opt = optimizer(SuccessiveHalving(min_budget=1, max_budget=9, eta=3, asynchronous=True),
                    selector=ListSelector([_config(x) for x in xs]), crash_cost=0.0)
    got = serial(opt, 4, crash=(0.2,))
    assert got[3] == ((0, 0, 0), 3.0)  # 0.2 crashed (counted with cost 0): 0.5 goes on


def test_the_highest_promotion_comes_first_across_brackets():
    opt = optimizer(Hyperband(min_budget=1, max_budget=9, eta=3, asynchronous=True), seed=1)
    got = serial(opt, 12)
    # brackets [1, 3, 9], [3, 9], [9]: new configurations in the shares 9 : 5 : 3, interleaved
    assert [cid[0] for cid, b in got[:3]] == [0, 1, 0]
    assert got[1][1] == 3.0 and got[2][1] == 1.0
    # every trial's budget is a rung of its bracket
    rungs = {0: [1.0, 3.0, 9.0], 1: [3.0, 9.0], 2: [9.0]}
    assert all(b in rungs[cid[0]] for cid, b in got)


def test_asynchronous_mode_never_waits_while_a_worker_is_free():
    opt = optimizer(Hyperband(min_budget=1, max_budget=27, eta=3, asynchronous=True), n_workers=4)
    asked = [opt.ask() for _ in range(40)]  # nothing told: a synchronous run would WAIT
    assert len({i.key for i in asked}) == 40
    sync = optimizer(Hyperband(min_budget=1, max_budget=27, eta=3), n_workers=4)
    with pytest.raises(WaitForResults):
        for _ in range(200):
            sync.ask(n_workers=1)


def test_instance_budgets_promote_on_the_mean_over_the_pairs():
    sh = SuccessiveHalving(instances=[f"i{k}" for k in range(9)], eta=3, asynchronous=True, deterministic=True,
                           instance_order=None)
    xs = [0.5, 0.2, 0.9, 0.1]
    opt = optimizer(sh, selector=ListSelector([_config(x) for x in xs]))
    asks = []
    for _ in range(3 + 2):
        info = opt.ask()
        asks.append((info.config_id, info.instance))
        opt.tell(info, info.config["x"])
    # 3 configurations on 1 pair; the best (0.2) goes on to the next 2 pairs
    assert asks == [((0, 0, 0), "i0"), ((0, 0, 1), "i0"), ((0, 0, 2), "i0"), ((0, 0, 1), "i1"), ((0, 0, 1), "i2")]


def test_settings_that_do_not_fit_asynchronous_mode_are_refused_with_what_to_do():
    with pytest.raises(ValueError, match="asynchronous is 'yes', but must be True or False"):
        SuccessiveHalving(min_budget=1, max_budget=9, asynchronous="yes")
    with pytest.raises(ValueError, match="num_initial_challengers is 4.*leave it None"):
        SuccessiveHalving(min_budget=1, max_budget=9, num_initial_challengers=4, asynchronous=True)
    with pytest.raises(ValueError, match="adaptive capping"):
        SuccessiveHalving(min_budget=1, max_budget=9, cutoff=10, run_obj_time=True, asynchronous=True)
    assert "asynchronous" not in SuccessiveHalving(min_budget=1, max_budget=9).settings
    assert SuccessiveHalving(min_budget=1, max_budget=9, asynchronous=True).settings["asynchronous"] is True


# ---------------------------------------------------------------------- resume
def _drive(opt: smacish.Optimizer, rng: random.Random, n: int, cost) -> List[tuple]:
    out = []
    for _ in range(n):
        while len(opt.pending) < 3:
            info = opt.ask()
            out.append((info.key, dict(info.config)))
        info = opt.pending[rng.randrange(len(opt.pending))]
        opt.tell(info, cost(info))
    return out


@pytest.mark.parametrize("kind", [SuccessiveHalving, Hyperband])
def test_get_state_and_set_state_continue_an_asynchronous_run_exactly(kind):
    def fresh():
        return smacish.Optimizer(space(), kind(min_budget=1, max_budget=27, asynchronous=True), selector="rf",
                                 seed=3, n_workers=3)

    cost = random_costs(random.Random(0), 0.2, ties=True)
    first = fresh()
    _drive(first, random.Random(1), 25, cost)
    second = fresh()
    second.set_state(json.loads(json.dumps(first.get_state())))
    assert [i.key for i in second.pending] == [i.key for i in first.pending]
    assert _drive(first, random.Random(2), 25, cost) == _drive(second, random.Random(2), 25, cost)
    one, two = first.get_state(), second.get_state()  # (their clocks differ, nothing else)
    for part in ("scheduler", "pending", "configs"):
        assert one[part] == two[part]


def test_a_reloaded_asynchronous_run_directory_asks_what_the_uninterrupted_run_asks(tmp_path):
    def fresh(out):
        return smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=27, asynchronous=True),
                                 selector="random", seed=4, n_workers=3, output_dir=out, durable=False)

    cost = random_costs(random.Random(5), 0.2, ties=False)
    whole = fresh(tmp_path / "whole")
    a = _drive(whole, random.Random(6), 20, cost)
    at_stop = [i.key for i in whole.pending]
    b = _drive(whole, random.Random(7), 20, cost)
    whole.close()
    part = fresh(tmp_path / "part")
    assert _drive(part, random.Random(6), 20, cost) == a
    part.close()
    loaded = smacish.Optimizer.load(tmp_path / "part")
    assert loaded.intensifier.asynchronous
    # the trials running at the stop are handed out again first, then the run goes on as before
    assert [loaded.ask().key for _ in range(len(loaded.to_ask_again))] == at_stop
    assert _drive(loaded, random.Random(7), 20, cost) == b
    loaded.close()


# ---------------------------------------------------------------------- properties
ASYNC_INTENSIFIERS = {
    "sh 1..9 eta 3": lambda: SuccessiveHalving(min_budget=1, max_budget=9, eta=3, asynchronous=True),
    "hb 1..27 eta 3": lambda: Hyperband(min_budget=1, max_budget=27, eta=3, asynchronous=True),
    "hb 1..8 eta 2": lambda: Hyperband(min_budget=1, max_budget=8, eta=2, asynchronous=True),
    "sh 9 instances eta 3": lambda: SuccessiveHalving(instances=[f"i{k}" for k in range(9)], n_seeds=1, eta=3,
                                                      asynchronous=True),
}


class AsyncRun:
    """One asynchronous Optimizer driven with random completion orders and crashes; every ask
    is checked against the results told before it."""

    def __init__(self, kind: str, n_workers: int, seed: int, rng: random.Random, crash: float, ties: bool,
                 tell_probability: float, n_asks: int):
        self.opt = optimizer(ASYNC_INTENSIFIERS[kind](), seed=seed, n_workers=n_workers)
        self.n_workers = n_workers
        self.problems: List[str] = []
        self.driver = Driver(self.opt, rng, random_costs(rng, crash, ties), tell_probability)
        self.driver.on_ask = self._check_ask
        self.driver.on_wait = lambda driver, wait: self.problems.append(
            f"WAIT with {len(driver.pending)} pending of {n_workers} workers")
        self.driver.run(n_asks)
        self.driver.drain()

    def _check_ask(self, driver: Driver) -> None:
        info = driver.asked[-1]
        scheduler = self.opt.intensifier
        bracket = scheduler._brackets[info.config_id[0]]  # white box: the bracket that launched it
        member = bracket.members[info.config_id]
        rung = bracket.rung_of[info.config_id]
        if rung == info.config_id[1]:
            return  # a new configuration
        if member.failed.get(rung - 1, False):
            self.problems.append(f"{info.config_id} failed on rung {rung - 1} and was promoted")
        if info.budget is None:
            return
        lower = bracket.budgets[rung - 1]
        results = [(i.config_id, v) for i, v in self.opt.runhistory.items()
                   if i.config_id[0] == info.config_id[0] and i.budget == lower]
        mine = [v for cid, v in results if cid == info.config_id]
        if len(mine) != 1 or mine[0].status is not StatusType.SUCCESS:
            self.problems.append(f"{info.config_id} promoted to {info.budget} without a success on {lower}")
            return
        better = sum(v.status is StatusType.SUCCESS and v.cost < mine[0].cost for _, v in results)
        if better >= n_promotable(len(results), scheduler.eta):
            self.problems.append(f"{info.config_id} promoted to {info.budget} with {better} better of "
                                 f"{len(results)} results on {lower}")
        # (no bound on how many went on: a promoted one may drop out of the top later, as in ASHA)


@st.composite
def async_runs(draw) -> AsyncRun:
    return AsyncRun(
        kind=draw(st.sampled_from(sorted(ASYNC_INTENSIFIERS))),
        n_workers=draw(st.integers(1, 16)),
        seed=draw(st.integers(0, 2**16)),
        rng=draw(st.randoms(use_true_random=False)),
        crash=draw(st.sampled_from([0.0, 0.2, 0.7])),
        ties=draw(st.booleans()),
        tell_probability=draw(st.sampled_from([0.05, 0.3, 0.9])),
        n_asks=draw(st.integers(1, 150)),
    )


ASYNC_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ASYNC_SETTINGS
@given(run=async_runs())
def test_asynchronous_promotions_are_in_the_rungs_top_and_never_of_a_failure_and_never_wait(run):
    assert run.problems == []


@ASYNC_SETTINGS
@given(run=async_runs())
def test_asynchronous_mode_never_loses_or_doubles_a_trial(run):
    asked = [info.key for info in run.driver.asked]
    assert len(asked) == len(set(asked)), "a trial was asked twice"
    assert sorted(map(repr, (i.key for i, _ in run.opt.runhistory.items()))) == sorted(map(repr, asked))
    assert run.opt.pending == [] and run.opt.runhistory.running() == []
    assert run.opt.intensifier.pending_trials() == []
    for bracket in run.opt.intensifier._brackets:  # white box: every result is in its rung
        assert bracket.pending == set()
        # trials still queued (instance budgets: the rest of a promoted configuration's pairs,
        # when the driver stopped asking) were never handed out
        assert not {i.key for i in bracket.queue} & set(asked)
        done_here = [bracket.outstanding[c] == 0 for c in bracket.members]
        assert sum(len(r) for r in bracket.rungs) == sum(
            bracket.rung_of[c] - c[1] + done for c, done in zip(bracket.members, done_here))


def test_loading_an_asynchronous_run_with_a_synchronous_intensifier_is_refused(tmp_path):
    opt = smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9, asynchronous=True), selector="random",
                            output_dir=tmp_path / "run")
    info = opt.ask()
    opt.tell(info, 0.5)
    opt.close()
    with pytest.raises(ValueError, match=r"the intensifier differs .*asynchronous: True -> None"):
        smacish.Optimizer.load(tmp_path / "run", intensifier=Hyperband(min_budget=1, max_budget=9))
    loaded = smacish.Optimizer.load(tmp_path / "run", intensifier=Hyperband(min_budget=1, max_budget=9,
                                                                             asynchronous=True))
    assert loaded.intensifier.asynchronous and len(loaded.runhistory) == 1
    loaded.close()
