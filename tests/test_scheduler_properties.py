"""Property-based tests of the ParallelScheduler behind ask/tell.

Hypothesis drives an Optimizer with random result streams (random costs, ties, crashes), random
orders of tells and random numbers of workers, and checks the invariants that must hold whatever
happens: promotion picks the best of a stage, no trial is lost or told twice, WAIT comes only when
``n_workers`` instances all wait, and there are never more instances than workers.
"""

from __future__ import annotations

import math
import random
from typing import Callable, Dict, List

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import smacish
from smacish import Hyperband, StatusType, SuccessiveHalving, WaitForResults
from _intensifier_helpers import Driver, ListSelector, ask_tell, by_iteration, optimizer, random_costs, space

INTENSIFIERS: Dict[str, Callable[[], smacish.ParallelScheduler]] = {
    "sh 1..9 eta 3": lambda: SuccessiveHalving(min_budget=1, max_budget=9, eta=3),
    "hb 1..27 eta 3": lambda: Hyperband(min_budget=1, max_budget=27, eta=3),
    "hb 1..8 eta 2": lambda: Hyperband(min_budget=1, max_budget=8, eta=2),
    "hb 1..27 eta 3 cycle": lambda: Hyperband(min_budget=1, max_budget=27, eta=3, bracket_order="cycle"),
    "hb 1..27 eta 3 least aggressive": lambda: Hyperband(min_budget=1, max_budget=27, eta=3,
                                                         bracket_order="least_aggressive"),
}

PROPERTY_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Run:
    """One driven Optimizer and what was seen while driving it."""

    def __init__(self, kind: str, n_workers: int, seed: int, rng: random.Random, crash: float,
                 ties: bool, tell_probability: float, n_asks: int):
        self.n_workers = n_workers
        self.opt = optimizer(INTENSIFIERS[kind](), seed=seed, n_workers=n_workers)
        self.driver = Driver(self.opt, rng, random_costs(rng, crash, ties), tell_probability)
        self.max_instances = 0
        self.bad_waits: List[str] = []
        self.uninformed: List[str] = []  # runs that started above min_budget with nothing below
        self.driver.on_ask = self._after_ask
        self.driver.on_wait = self._after_wait
        self.driver.run(n_asks)
        self.driver.drain()

    def _after_ask(self, driver: Driver) -> None:
        scheduler = self.opt.intensifier
        self.max_instances = max(self.max_instances, scheduler.n_instances)
        info = driver.asked[-1]
        budgets = scheduler.budgets
        if info.config_id[1:] == (0, 0) and info.budget > budgets[0]:  # a run's first trial
            below = budgets[budgets.index(info.budget) - 1]
            successes = [i.budget for i, v in self.opt.runhistory.items() if v.status is StatusType.SUCCESS]
            if not any(b >= below for b in successes):
                self.uninformed.append(f"run {info.config_id[0]} started on {info.budget} with no result on {below}")

    def _after_wait(self, driver: Driver, wait: WaitForResults) -> None:
        scheduler = self.opt.intensifier
        if scheduler.n_instances != self.n_workers:
            self.bad_waits.append(f"WAIT with {scheduler.n_instances} of {self.n_workers} instances")
        # white box: every instance's current run has nothing it could launch
        launchable = [inst.index for inst in scheduler._instances if inst.run.can_launch()]
        if launchable:
            self.bad_waits.append(f"WAIT while instances {launchable} could launch a trial")
        if wait.n_pending != len(driver.pending):
            self.bad_waits.append(f"WAIT says {wait.n_pending} pending, {len(driver.pending)} are")


@st.composite
def runs(draw, n_workers=st.integers(1, 8), kinds=st.sampled_from(sorted(INTENSIFIERS))) -> Run:
    return Run(
        kind=draw(kinds),
        n_workers=draw(n_workers),
        seed=draw(st.integers(0, 2**16)),
        rng=draw(st.randoms(use_true_random=False)),
        crash=draw(st.sampled_from([0.0, 0.2, 0.7])),
        ties=draw(st.booleans()),
        tell_probability=draw(st.sampled_from([0.1, 0.5, 0.9])),
        n_asks=draw(st.integers(1, 150)),
    )


def schedule_of(opt: smacish.Optimizer, trials) -> list:
    """The bracket an iteration ran: the one that starts on its smallest budget."""
    first = min(info.budget for info, _ in trials)
    (schedule,) = [s for s in opt.intensifier.schedules if s[0][1] == first]
    return schedule


def stages_of(opt, trials):
    schedule = schedule_of(opt, trials)
    return schedule, [[(i, v) for i, v in trials if i.budget == budget] for _, budget in schedule]


# ---------------------------------------------------------------------- invariants
@PROPERTY_SETTINGS
@given(run=runs())
def test_every_promoted_configuration_was_among_the_best_of_its_stage(run):
    for trials in by_iteration(run.opt.runhistory.items()).values():
        schedule, stages = stages_of(run.opt, trials)
        for s in range(1, len(schedule)):
            if not stages[s]:
                break
            valid = {i.config_id: v.cost for i, v in stages[s - 1] if v.status is StatusType.SUCCESS}
            promoted = {i.config_id for i, _ in stages[s] if i.config_id[1] < s}
            assert promoted <= set(valid), "a failed or unknown configuration went on"
            if len(stages[s]) == schedule[s][0]:  # the stage was launched in full
                assert len(promoted) == min(schedule[s][0], len(valid))
            for c in promoted:  # fewer than n_s valid configurations did strictly better
                assert sum(cost < valid[c] for cost in valid.values()) < schedule[s][0]


@PROPERTY_SETTINGS
@given(run=runs())
def test_every_stage_runs_its_plan_and_refills_carry_their_stage(run):
    for trials in by_iteration(run.opt.runhistory.items()).values():
        schedule, stages = stages_of(run.opt, trials)
        for s, ((planned, _), stage) in enumerate(zip(schedule, stages)):
            assert len(stage) <= planned
            if s + 1 < len(stages) and stages[s + 1]:
                assert len(stage) == planned, "a stage ended before all its trials ran"
            assert all(i.config_id[1] <= s for i, _ in stage)
            if s > 0 and len(stage) == planned:
                refills = [i for i, _ in stage if i.config_id[1] == s]
                valid_before = sum(v.status is StatusType.SUCCESS for _, v in stages[s - 1])
                assert len(refills) == max(0, planned - valid_before)


@PROPERTY_SETTINGS
@given(run=runs())
def test_no_run_starts_above_min_budget_before_a_success_on_the_budget_below(run):
    assert run.uninformed == []


@PROPERTY_SETTINGS
@given(run=runs())
def test_no_trial_is_lost_or_told_twice(run):
    asked = [info.key for info in run.driver.asked]
    assert len(asked) == len(set(asked)), "a trial was asked twice"
    recorded = [info.key for info, _ in run.opt.runhistory.items()]
    assert sorted(map(repr, recorded)) == sorted(map(repr, asked))
    assert run.opt.pending == []
    assert run.opt.runhistory.running() == []
    assert run.opt.intensifier.pending_trials() == []


@PROPERTY_SETTINGS
@given(run=runs())
def test_wait_only_when_n_workers_instances_all_wait(run):
    assert run.bad_waits == []


@PROPERTY_SETTINGS
@given(run=runs())
def test_instances_never_exceed_n_workers(run):
    assert 1 <= run.max_instances <= run.n_workers


@PROPERTY_SETTINGS
@given(run=runs(n_workers=st.just(8)))
def test_eight_workers_never_wait_with_fewer_than_eight_pending(run):
    assert all(n_pending >= 8 for n_pending in run.driver.waits)


# ---------------------------------------------------------------------- parallel equals serial
def bumpy_cost(info) -> float:
    """Deterministic in (config, budget); the ranking changes with the budget."""
    x = info.config["x"]
    return (x - 0.37) ** 2 + 0.3 * math.sin(17 * x) / info.budget


def parallel_run(n_workers: int, rng: random.Random, n_asks: int, kind: str) -> smacish.Optimizer:
    opt = optimizer(INTENSIFIERS[kind](), seed=4, n_workers=n_workers)
    driver = Driver(opt, rng, bumpy_cost, tell_probability=0.3)
    driver.run(n_asks)
    driver.drain()
    return opt


parallel_runs = dict(
    n_workers=st.integers(2, 8),
    rng=st.randoms(use_true_random=False),
    n_asks=st.integers(40, 200),
    kind=st.sampled_from(sorted(INTENSIFIERS)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**parallel_runs)
def test_parallel_incumbent_equals_a_serial_evaluation_of_the_configurations_on_max_budget(
    n_workers, rng, n_asks, kind
):
    """With several instances and results told in random order, the incumbent and its cost are
    what evaluating, one by one, every configuration that reached max budget gives.

    Which configurations reach max budget depends on how trials interleave, so we compare on
    those configurations: a serial evaluation of each on max budget (calling the cost directly)
    must pick the same best configuration with the same cost. A result routed to the wrong
    trial or instance, or an incumbent taken from a lower budget, breaks this.
    """
    opt = parallel_run(n_workers, rng, n_asks, kind)
    max_budget = opt.intensifier.max_budget
    reached = [i.config for i, _ in opt.runhistory.items() if i.budget == max_budget]
    if not reached:
        return
    serial = {tuple(c.get_array()): bumpy_cost(smacish.TrialInfo(c, budget=max_budget)) for c in reached}
    best = min(serial, key=serial.get)
    inc = opt.runhistory.incumbent_entry(opt.intensifier.incumbent_selection, max_budget)
    assert tuple(opt.incumbent.get_array()) == best
    assert (inc.budget, inc.cost) == (max_budget, serial[best])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**parallel_runs)
def test_each_parallel_iteration_decides_as_a_serial_run_on_its_configurations(n_workers, rng, n_asks, kind):
    """Each finished iteration of the parallel run, replayed alone and serially (one instance,
    results told in order) on the same stage-0 configurations with the same bracket, promotes
    the same configurations at every stage and ends on the same winner. Interleaving several
    instances and telling results out of order must not change a single decision."""
    opt = parallel_run(n_workers, rng, n_asks, kind)
    for trials in by_iteration(opt.runhistory.items()).values():
        schedule, stages = stages_of(opt, trials)
        if len(stages[-1]) < schedule[-1][0]:
            continue  # the iteration had not finished
        (n0, b0) = schedule[0]
        replay_intensifier = SuccessiveHalving(
            min_budget=b0, max_budget=opt.intensifier.max_budget, eta=opt.intensifier.eta,
            num_initial_challengers=n0,
        )
        assert replay_intensifier.schedules == [schedule]
        stage0 = sorted(stages[0], key=lambda t: t[0].config_id[2])
        selector = ListSelector([i.config for i, _ in stage0])
        replay = smacish.Optimizer(opt.configspace, replay_intensifier, selector=selector, seed=0)
        asks = ask_tell(replay, sum(n for n, _ in schedule), bumpy_cost)
        for (_, budget), stage in zip(schedule, stages):
            parallel = sorted(tuple(i.config.get_array()) for i, _ in stage)
            serial = sorted(tuple(i.config.get_array()) for i in asks if i.budget == budget)
            assert parallel == serial


def test_the_replay_selector_hands_out_configurations_in_order():
    configs = space().sample_configuration(3)
    selector = ListSelector(configs)
    assert [selector.propose(None, []) for _ in range(3)] == configs
