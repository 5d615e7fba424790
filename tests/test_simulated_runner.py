"""The simulated-clock runner: the real scheduler against a cost model on a virtual clock.

It must ask exactly what a real serial run asks for the same seed, and its utilisation must
be exact: the schedules below are small enough to work out by hand.
"""

from __future__ import annotations

import math

import pytest
from ConfigSpace import ConfigurationSpace

import smacish
from smacish.optimizer import SELECTORS
from smacish.runners import SimulationResult, run_simulated


def _space(seed: int = 0) -> ConfigurationSpace:
    return ConfigurationSpace({"x": (-5.0, 5.0), "y": (0.0, 1.0)}, seed=seed)


def _target(config, budget):
    return (config["x"] - 1) ** 2 + config["y"] + 1.0 / budget


def _sequence(opt: smacish.Optimizer):
    return [(info.config_id, info.budget, dict(info.config), value.cost) for info, value in opt.runhistory.items()]


# ------------------------------------------------------------------ same trials as a serial run
@pytest.mark.parametrize("selector", sorted(SELECTORS))
@pytest.mark.parametrize("intensifier", [
    lambda: smacish.Hyperband(min_budget=1, max_budget=9, eta=3),
    lambda: smacish.SuccessiveHalving(min_budget=1, max_budget=9, eta=3),
], ids=["hyperband", "successive_halving"])
def test_one_worker_reproduces_the_serial_run(selector, intensifier):
    n = 30 if selector == "random" else 16  # model-based selectors are slower; still past their start-up
    serial = smacish.Optimizer(_space(), intensifier(), selector=selector, seed=7)
    serial.optimize(_target, n_trials=n)
    simulated = smacish.Optimizer(_space(), intensifier(), selector=selector, seed=7)
    sim = run_simulated(simulated, _target, duration=lambda info, value: info.budget, n_workers=1, n_trials=n)
    assert sim.n_trials == n
    assert _sequence(simulated) == _sequence(serial)
    assert simulated.incumbent == serial.incumbent


def test_the_same_seed_gives_the_same_simulation_and_another_seed_does_not():
    def run(seed):
        opt = smacish.Optimizer(_space(), smacish.Hyperband(min_budget=1, max_budget=27), seed=seed)
        sim = run_simulated(opt, _target, duration=lambda info, value: info.budget * (1 + info.config["y"]),
                            n_workers=5, n_trials=120)
        return sim, _sequence(opt)

    (a, seq_a), (b, seq_b), (_, seq_c) = run(3), run(3), run(4)
    assert a == b and seq_a == seq_b
    assert seq_c != seq_a


# ------------------------------------------------------------------ exact utilisation, by hand
def test_one_worker_never_idles():
    opt = smacish.Optimizer(_space(), smacish.SuccessiveHalving(min_budget=1, max_budget=3, eta=3), seed=0)
    sim = run_simulated(opt, _target, duration=lambda info, value: info.budget, n_workers=1, n_trials=8)
    # two iterations of [3 configs x budget 1, 1 config x budget 3]: 2 x (3 + 3) seconds, back to back
    assert sim.makespan == 12.0
    assert sim.busy == 12.0
    assert sim.utilisation == 1.0
    assert [(w, s, e) for w, s, e, _ in sim.timeline] == [
        (0, 0.0, 1.0), (0, 1.0, 2.0), (0, 2.0, 3.0), (0, 3.0, 6.0),
        (0, 6.0, 7.0), (0, 7.0, 8.0), (0, 8.0, 9.0), (0, 9.0, 12.0),
    ]


def test_two_workers_hand_made_schedule():
    """SH with rungs [3 x budget 1, 1 x budget 3], duration = budget, 2 workers, 8 trials.

    t=0  w0: A (instance 0, budget 1)     w1: B (instance 0)
    t=1  w0: C (instance 0, its last)     w1: D (instance 0 waits for C: instance 1 opens)
    t=2  w0: A/B/C's best on budget 3     w1: E (instance 1)
    t=3                                   w1: F (instance 1, its last)
    t=4                                   w1: D/E/F's best on budget 3 (until 7)
    t=5  w0 idles: 8 trials asked
    busy = 6 x 1 + 2 x 3 = 12; makespan 7; utilisation 12 / (2 x 7) = 6/7.
    """
    opt = smacish.Optimizer(_space(), smacish.SuccessiveHalving(min_budget=1, max_budget=3, eta=3), seed=0)
    sim = run_simulated(opt, _target, duration=lambda info, value: info.budget, n_workers=2, n_trials=8)
    spans = sorted((w, s, e, key[0][0], key[3]) for w, s, e, key in sim.timeline)
    assert spans == [
        (0, 0.0, 1.0, 0, 1.0), (0, 1.0, 2.0, 0, 1.0), (0, 2.0, 5.0, 0, 3.0),
        (1, 0.0, 1.0, 0, 1.0), (1, 1.0, 2.0, 1, 1.0), (1, 2.0, 3.0, 1, 1.0), (1, 3.0, 4.0, 1, 1.0),
        (1, 4.0, 7.0, 1, 3.0),
    ]
    assert (sim.busy, sim.makespan) == (12.0, 7.0)
    assert sim.utilisation == pytest.approx(6 / 7, abs=0)
    assert opt.intensifier.n_instances == 2


def test_three_workers_one_bracket_leaves_workers_idle():
    """Three workers, n_trials=4: A, B, C on budget 1 end together at t=1; A's worker gets D
    from a second instance (instance 0 waits for B and C), then nothing more may be asked.
    busy = 4, makespan = 2, utilisation 4 / (3 x 2) = 2/3."""
    opt = smacish.Optimizer(_space(), smacish.SuccessiveHalving(min_budget=1, max_budget=3, eta=3), seed=0)
    sim = run_simulated(opt, _target, duration=lambda info, value: info.budget, n_workers=3, n_trials=4)
    assert sorted((w, s, e) for w, s, e, _ in sim.timeline) == [(0, 0.0, 1.0), (0, 1.0, 2.0), (1, 0.0, 1.0), (2, 0.0, 1.0)]
    assert (sim.busy, sim.makespan) == (4.0, 2.0)
    assert sim.utilisation == pytest.approx(2 / 3, abs=0)


def test_utilisation_matches_the_runhistory_and_the_trajectory_uses_virtual_time():
    opt = smacish.Optimizer(_space(), smacish.Hyperband(min_budget=1, max_budget=27), seed=2)
    sim = run_simulated(opt, _target, duration=lambda info, value: 2.0 * info.budget, n_workers=6,
                        budget_limit=400)
    assert isinstance(sim, SimulationResult)
    assert opt.runhistory.utilisation(n_workers=6) == pytest.approx(sim.utilisation, rel=1e-12)
    ends = {e for _, _, e, _ in sim.timeline}
    assert len(opt.trajectory) >= 1
    assert all(entry.walltime in ends for entry in opt.trajectory)
    assert max(entry.walltime for entry in opt.trajectory) <= sim.makespan
    # the budget limit counts trials in flight: asking stops once 400 is committed
    spent = sum(info.budget for info, _ in opt.runhistory.items())
    assert 400 <= spent < 400 + 27 * 6


def test_walltime_limit_is_in_virtual_seconds():
    opt = smacish.Optimizer(_space(), smacish.Hyperband(min_budget=1, max_budget=9), seed=1)
    sim = run_simulated(opt, _target, duration=lambda info, value: 10.0 * info.budget, n_workers=2,
                        walltime_limit=100.0)
    starts = [s for _, s, _, _ in sim.timeline]
    assert max(starts) < 100.0  # nothing starts once the virtual clock passed the limit
    assert sim.makespan >= 100.0 - 90.0  # and it really ran on the virtual clock, for ~100 s


def test_arguments_are_checked():
    opt = smacish.Optimizer(_space(), smacish.Hyperband(min_budget=1, max_budget=9), seed=1)
    with pytest.raises(ValueError, match="n_workers"):
        run_simulated(opt, _target, duration=lambda info, value: 1.0, n_workers=0, n_trials=3)
    with pytest.raises(ValueError, match="duration returned"):
        run_simulated(opt, _target, duration=lambda info, value: -1.0, n_workers=1, n_trials=3)
    assert not math.isnan(opt.runhistory.budget_spent)
