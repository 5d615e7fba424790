"""RandomForestSelector: the multi-fidelity rule, refits, pending trials, validity, seeding."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from _selection_helpers import assert_valid, mixed_space, spaces
from ConfigSpace import Configuration, ConfigurationSpace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import smacish
from smacish._io import config_key
from smacish.optimizer import SELECTORS
from smacish.runhistory import RunHistory
from smacish.selection import RandomForestSelector
from smacish.selection._encoding import SpaceEncoder
from smacish.selection._training import TrainingData, log_transform
from smacish.trial import StatusType, TrialInfo, TrialValue

FAST = {"n_candidates": 300, "local_search_steps": 5}


def quadratic_space(seed=0):
    return ConfigurationSpace({"x": (-1.0, 1.0), "y": (-1.0, 1.0)}, seed=seed)


def quadratic(config):
    return (config["x"] - 0.3) ** 2 + (config["y"] + 0.2) ** 2


def filled(space, n, budget=1.0, f=quadratic, seed=0):
    """A RunHistory with ``n`` random configurations evaluated on ``budget``."""
    rh = RunHistory(space)
    other = ConfigurationSpace.from_serialized_dict(space.to_serialized_dict())
    other.seed(seed)
    for c in other.sample_configuration(n):
        c = Configuration(space, vector=c.get_array())
        rh.add(TrialInfo(c, budget=budget), TrialValue(cost=f(c)))
    return rh


def test_arguments_are_checked_together():
    with pytest.raises(ValueError) as err:
        RandomForestSelector(quadratic_space(), backend="xgb", random_fraction=2, n_trees=0,
                             acquisition="ucb")
    message = str(err.value)
    for part in ("backend is 'xgb'", "random_fraction is 2", "n_trees is 0", "acquisition is 'ucb'"):
        assert part in message


def test_registered_by_name_and_exported():
    assert "rf" in SELECTORS and isinstance(SELECTORS["rf"](quadratic_space(), 0), RandomForestSelector)
    assert smacish.RandomForestSelector is RandomForestSelector
    assert isinstance(RandomForestSelector(quadratic_space()), smacish.ConfigSelector)


def test_random_until_a_budget_has_min_points_in_model():
    cs = quadratic_space()
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, **FAST)
    assert sel.min_points_in_model == 3  # hyperparameters + 1
    rh = filled(cs, 2)
    config = sel.propose(rh, [])
    assert config.origin == "random" and sel.n_fits_ == 0 and sel.model_budget_ is None
    rh = filled(cs, 3)
    config = sel.propose(rh, [])
    assert config.origin == "rf" and sel.n_fits_ == 1 and sel.model_budget_ == 1.0


def test_fits_on_the_largest_budget_with_enough_points():
    cs = quadratic_space()
    rh = filled(cs, 9, budget=1.0)
    configs = rh.get_configs()
    for c in configs[:4]:
        rh.add(TrialInfo(c, budget=3.0), TrialValue(cost=quadratic(c)))
    for c in configs[:2]:
        rh.add(TrialInfo(c, budget=9.0), TrialValue(cost=quadratic(c)))
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, **FAST)
    sel.propose(rh, [])
    assert sel.model_budget_ == 3.0  # budget 9 has only 2 < 3 configurations
    rh.add(TrialInfo(configs[2], budget=9.0), TrialValue(cost=1.0))
    sel.propose(rh, [])
    assert sel.model_budget_ == 9.0 and sel.n_fits_ == 2


def test_refits_only_when_the_modelled_budget_got_new_trials():
    cs = quadratic_space()
    rh = filled(cs, 6, budget=3.0)
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, model_budgets="largest", **FAST)
    sel.propose(rh, [])
    sel.propose(rh, [])
    assert sel.n_fits_ == 1  # nothing new: the pool of the last fit serves
    new = Configuration(cs, {"x": 0.9, "y": 0.9})
    rh.add(TrialInfo(new, budget=1.0), TrialValue(cost=quadratic(new)))
    sel.propose(rh, [])
    assert sel.n_fits_ == 1  # a result on a smaller budget does not change the model
    rh.add(TrialInfo(new, budget=3.0), TrialValue(cost=quadratic(new)))
    sel.propose(rh, [])
    assert sel.n_fits_ == 2


def test_a_model_over_all_budgets_refits_on_results_of_any_budget_with_the_budget_an_input():
    cs = quadratic_space()
    rh = filled(cs, 6, budget=3.0)
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, **FAST)
    sel.propose(rh, [])
    assert sel.n_fits_ == 1 and sel.forest_.n_fits == 1  # one budget: the budget is no input
    low = Configuration(cs, {"x": 0.9, "y": 0.9})
    rh.add(TrialInfo(low, budget=1.0), TrialValue(cost=quadratic(low)))
    sel.propose(rh, [])
    assert sel.n_fits_ == 2  # a result on a smaller budget is data too
    X, y, ids = sel._data.dataset_all()
    assert X.shape == (7, 3) and sorted(set(X[:, -1])) == [0.0, 1.0]  # log-scaled budget input
    assert ids.count(rh.config_number(low)) == 1 and X[ids.index(rh.config_number(low)), -1] == 0.0
    assert list(y) == [quadratic(low)] + [v.cost for i, v in rh.items() if i.budget == 3.0]  # budgets ascending
    with pytest.raises(ValueError, match=r"model_budgets is 'some', but must be one of \('all', 'largest'\)"):
        RandomForestSelector(cs, model_budgets="some")


def test_refits_less_often_on_large_data_with_refit_growth():
    cs = quadratic_space()
    rh = filled(cs, 200)
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, refit_growth=0.05, **FAST)
    sel.propose(rh, [])
    extra = filled(cs, 12, seed=9).get_configs()
    for i, c in enumerate(extra):
        rh.add(TrialInfo(c, budget=1.0), TrialValue(cost=quadratic(c)))
        sel.propose(rh, [])
        assert sel.n_fits_ == (1 if i + 1 < 10 else 2)  # 5% of 200 = 10 new trials


def test_never_proposes_an_evaluated_or_pending_configuration_until_the_space_is_exhausted():
    cs = ConfigurationSpace({"a": ["p", "q", "r"], "b": ["u", "v", "w"]}, seed=0)
    sel = RandomForestSelector(cs, seed=1, random_fraction=0.0, min_points_in_model=2, **FAST)
    sh = smacish.SuccessiveHalving(min_budget=1, max_budget=1, eta=2)
    opt = smacish.Optimizer(cs, sh, selector=sel, seed=0)
    seen = []
    for _ in range(9):
        info = opt.ask()
        seen.append(config_key(info.config))
        cost = ["p", "q", "r"].index(info.config["a"]) + 0.1 * ["u", "v", "w"].index(info.config["b"])
        opt.tell(info, cost)
    assert len(set(seen)) == 9  # all 9 configurations, none twice
    assert sel.n_model_proposals_ > 0
    config = sel.propose(opt.runhistory, [])  # exhausted: a repeat is the only answer
    assert_valid(config, cs)
    assert config_key(config) in seen


def test_concurrent_proposals_differ_and_spread_out():
    cs = quadratic_space()
    rh = filled(cs, 30)

    def batch(radius):
        sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, penalty_radius=radius, penalty_volume=None)
        pending = []
        for _ in range(8):  # eight workers asking before any result comes back
            pending.append(sel.propose(rh, list(pending)))
        X = SpaceEncoder(cs).encode_configs(pending)
        d = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
        return pending, d[np.triu_indices(8, 1)]

    pending, dist = batch(0.1)
    assert len({config_key(c) for c in pending}) == 8
    assert all(not rh.has_config(c) for c in pending)
    _, dist_without_penalty = batch(0.0)
    assert dist.min() > 0.05  # no near-copies
    assert dist.min() > 5 * dist_without_penalty.min()
    assert np.median(dist) > np.median(dist_without_penalty)


def test_penalty_volume_narrows_the_radius_only_where_the_balls_would_cover_too_much():
    cs = quadratic_space()
    rh = filled(cs, 30)
    pending = [Configuration(cs, vector=c.get_array()) for c in
               ConfigurationSpace.from_serialized_dict(cs.to_serialized_dict()).sample_configuration(15)]

    def radius(n_pending, volume):
        sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, penalty_volume=volume, **FAST)
        sel.propose(rh, pending[:n_pending])
        return math.sqrt(sel._pool._two_r2 / 2)

    fixed = 0.1 * math.sqrt(2)  # penalty_radius x sqrt(number of inputs)
    assert radius(15, None) == pytest.approx(fixed)
    assert RandomForestSelector(cs).penalty_volume == 0.01  # the default
    assert radius(1, 0.5) == pytest.approx(fixed)  # 2 discs of radius 0.14 hold 0.13 < 0.5
    # 15 pending + the next pick: 16 discs holding 0.1 of the unit square
    assert radius(15, 0.1) == pytest.approx(math.sqrt(0.1 / 16 / math.pi))
    with pytest.raises(ValueError, match="penalty_volume is 0"):
        RandomForestSelector(cs, penalty_volume=0)


def test_penalty_volume_survives_a_state_round_trip():
    import json

    cs = quadratic_space()
    rh = filled(cs, 30)
    pending = [Configuration(cs, vector=c.get_array()) for c in
               ConfigurationSpace.from_serialized_dict(cs.to_serialized_dict()).sample_configuration(12)]
    a = RandomForestSelector(cs, seed=2, random_fraction=0.0, penalty_volume=0.05, refit_after=50, **FAST)
    a.propose(rh, pending)
    b = RandomForestSelector(cs, seed=2, random_fraction=0.0, penalty_volume=0.05, refit_after=50, **FAST)
    b.set_state(json.loads(json.dumps(a.get_state())))
    assert [b.propose(rh, pending) for _ in range(5)] == [a.propose(rh, pending) for _ in range(5)]
    assert b._pool._two_r2 == a._pool._two_r2


def test_same_seed_and_results_give_the_same_proposals():
    def run(seed):
        cs = quadratic_space()
        sel = RandomForestSelector(cs, seed=seed, **FAST)
        opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9), selector=sel, seed=seed)
        opt.optimize(lambda config, budget: quadratic(config) + 1 / budget, n_trials=80)
        return [(dict(i.config), i.budget) for i, _ in opt.runhistory.items()], opt.selector.n_fits_

    a, fits = run(3)
    assert fits > 0
    assert run(3)[0] == a
    assert run(4)[0] != a


def test_by_name_through_the_optimizer_is_seeded_too():
    def run():
        cs = quadratic_space()
        opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9), selector="rf", seed=7)
        opt.optimize(lambda config, budget: quadratic(config), n_trials=40)
        return [dict(i.config) for i, _ in opt.runhistory.items()]

    assert run() == run()


def test_crashed_trials_count_as_the_worst_cost_seen_on_their_budget():
    cs = quadratic_space()
    rh = filled(cs, 5)
    crashed = Configuration(cs, {"x": 0.0, "y": 0.0})
    rh.add(TrialInfo(crashed, budget=1.0), TrialValue(cost=math.inf, status=StatusType.CRASHED))
    timeout = Configuration(cs, {"x": 0.5, "y": 0.0})
    rh.add(TrialInfo(timeout, budget=1.0), TrialValue(cost=math.inf, status=StatusType.TIMEOUT))
    data = TrainingData(SpaceEncoder(cs))
    data.update(rh)
    _, y, ids = data.dataset(1.0)
    worst = max(quadratic(c) for c in rh.get_configs()[:5])
    assert y[ids.index(rh.config_number(crashed))] == worst
    assert y[ids.index(rh.config_number(timeout))] == worst
    assert np.isfinite(y).all()


def test_only_crashes_on_a_budget_mean_no_model_there():
    cs = quadratic_space()
    rh = RunHistory(cs)
    for c in cs.sample_configuration(5):
        rh.add(TrialInfo(c, budget=1.0), TrialValue(cost=math.inf, status=StatusType.CRASHED))
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, **FAST)
    assert sel.propose(rh, []).origin == "random" and sel.n_fits_ == 0


def test_log_transform_keeps_the_order_and_spreads_the_best():
    y = np.array([5.0, 1.0, 1.01, 100.0, 1.001])
    t = log_transform(y)
    assert (np.argsort(t) == np.argsort(y)).all()
    # differences near the best weigh far more against the whole range than before
    assert (t[2] - t[4]) / (t[3] - t[1]) > 100 * (y[2] - y[4]) / (y[3] - y[1])
    assert np.isfinite(log_transform(np.array([2.0, 2.0]))).all()


def test_instance_based_runs_have_one_level():
    cs = quadratic_space()
    sel = RandomForestSelector(cs, seed=0, **FAST)
    intensifier = smacish.SuccessiveHalving(instances=["i1", "i2", "i3"], min_budget=1, max_budget=3, eta=3)
    opt = smacish.Optimizer(cs, intensifier, selector=sel, seed=0)
    opt.optimize(lambda config, instance: quadratic(config) + 0.01 * int(instance[1]), n_trials=40)
    assert sel.n_fits_ > 0 and sel.model_budget_ is None


@pytest.mark.parametrize("acquisition", ["ei", "pi", "lcb", lambda mean, var, best: -mean])
def test_every_acquisition_proposes(acquisition):
    cs = quadratic_space()
    rh = filled(cs, 20)
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, acquisition=acquisition, **FAST)
    configs = [sel.propose(rh, []) for _ in range(3)]
    assert all(c.origin == "rf" for c in configs)
    assert sel.n_fits_ == 1


def test_proposals_in_a_conditional_space_with_forbidden_clauses_are_valid():
    cs = mixed_space(seed=2)

    def target(config, budget):
        algo = {"svm": 0.0, "tree": 1.0, "knn": 2.0}[config["algo"]]
        return algo + abs(math.log10(config["lr"]) + 2) + 1 / budget

    sel = RandomForestSelector(cs, seed=0, **FAST)
    hb = smacish.Hyperband(min_budget=1, max_budget=9)
    opt = smacish.Optimizer(cs, hb, selector=sel, seed=0, n_workers=4)
    pending = []
    for _ in range(150):
        while len(pending) < 4:
            info = opt.ask()
            assert_valid(info.config, cs)
            pending.append(info)
        info = pending.pop(0)
        opt.tell(info, target(info.config, info.budget))
    assert sel.n_model_proposals_ > 10


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=spaces(), seed=st.integers(0, 1000))
def test_random_spaces_proposals_are_valid(space, seed):
    rng = np.random.default_rng(seed)
    sel = RandomForestSelector(space, seed=seed, random_fraction=0.0, n_candidates=50, local_search_steps=3,
                               min_points_in_model=2)
    rh = RunHistory(space)
    pending = []
    for i in range(10):
        config = sel.propose(rh, pending)
        assert_valid(config, space)
        pending.append(config)
        if len(pending) > 2:  # tiny spaces run out: a repeat then gets another seed
            rh.add(TrialInfo(pending.pop(0), budget=1.0, seed=i), TrialValue(cost=float(rng.random())))


def test_pyrfr_backend_proposes_deterministically():
    pytest.importorskip("pyrfr.regression")
    cs = mixed_space(seed=4)
    rh = RunHistory(cs)
    rng = np.random.default_rng(0)
    for c in cs.sample_configuration(40):
        rh.add(TrialInfo(c, budget=1.0), TrialValue(cost=float(rng.random())))

    def proposals():
        sel = RandomForestSelector(cs, seed=2, backend="pyrfr", random_fraction=0.0, **FAST)
        return [sel.propose(rh, []) for _ in range(3)], sel

    configs, sel = proposals()
    assert sel.n_fits_ == 1 and all(c.origin == "rf" for c in configs)
    for c in configs:
        assert_valid(c, cs)
    assert proposals()[0] == configs


def _crashing_target(config, budget):
    if config["x"] > 0.9:
        return TrialValue(cost=math.inf, status=StatusType.CRASHED)
    return TrialValue(cost=quadratic(config) + 1 / budget)


def _drive(opt, n_trials, n_workers=3, stop_after=None):
    """Keep ``n_workers`` trials pending and tell them in an order fixed by their keys; stop
    (as if killed, trials still pending) after ``stop_after`` asks and tells."""
    pending, ops = [], 0
    reissue = len(opt.pending)  # after a resume, the pending trials come back first
    while True:
        while len(pending) < n_workers and (reissue or opt.n_asked < n_trials):
            if ops == stop_after:
                return opt
            ops += 1
            try:
                pending.append(opt.ask(n_workers=n_workers))
            except smacish.WaitForResults:
                break
            reissue = max(0, reissue - 1)
        if not pending or ops == stop_after:
            return opt
        ops += 1
        info = min(pending, key=lambda i: zlib.crc32(repr(i.key).encode()))
        pending.remove(info)
        opt.tell(info, _crashing_target(info.config, info.budget))


def _rows(opt):
    return [(i.key, tuple(i.config.get_array()), v.cost) for i, v in opt.runhistory.items()]


def test_state_round_trips_through_json_and_the_next_proposals_match():
    import json

    cs = mixed_space(seed=5)
    rng = np.random.default_rng(1)
    rh = RunHistory(cs)
    a = RandomForestSelector(cs, seed=3, **FAST)
    pending = []
    for step in range(40):
        if step == 25:  # a fresh selector (same arguments) takes over from the state after 25 proposals
            b = RandomForestSelector(cs, seed=3, **FAST)
            b.set_state(json.loads(json.dumps(a.get_state())))
        config = a.propose(rh, list(pending))
        if step >= 25:
            assert b.propose(rh, list(pending)) == config
        pending.append(config)
        if len(pending) > 3:
            rh.add(TrialInfo(pending.pop(0), budget=1.0), TrialValue(cost=float(rng.random())))
    assert a.n_fits_ > 2 and b.n_fits_ == a.n_fits_ and b.n_model_proposals_ == a.n_model_proposals_


def test_a_killed_run_resumes_exactly(tmp_path):
    def make(directory=None):
        cs = quadratic_space()
        return smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9), selector="rf", seed=5,
                                 output_dir=directory)

    reference = _drive(make(), 120)
    killed = _drive(make(tmp_path / "run"), 120, stop_after=151)
    assert killed.pending and 60 < killed.n_asked < 120
    del killed  # the driver dies with trials pending; nothing is closed
    resumed = smacish.Optimizer.load(tmp_path / "run")
    _drive(resumed, 120)
    assert _rows(resumed) == _rows(reference)
    model_made = [i for i, _ in reference.runhistory.items() if getattr(i.config, "origin", None) == "rf"]
    assert len(model_made) > 10  # the model was proposing on both sides of the kill


# ---------------------------------------------------------------------- misleading budgets
def _history_with_budgets(rank_on: dict, n: int = 12):
    """``n`` configurations on budgets 1, 3, 9; on each budget the cost is ``sign * x``."""
    from ConfigSpace import ConfigurationSpace

    from smacish.runhistory import RunHistory
    from smacish.trial import TrialInfo, TrialValue

    cs = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    rh = RunHistory(cs)
    for config in cs.sample_configuration(n):
        for budget, sign in rank_on.items():
            rh.add(TrialInfo(config, budget=budget), TrialValue(cost=sign * config["x"]))
    return cs, rh


def test_budgets_that_rank_configurations_otherwise_are_left_out_with_those_below():
    from smacish.selection._encoding import SpaceEncoder
    from smacish.selection._training import TrainingData

    cs, rh = _history_with_budgets({1.0: 1.0, 3.0: -1.0, 9.0: 1.0})  # budget 3 ranks them backwards
    data = TrainingData(SpaceEncoder(cs))
    data.update(rh)
    assert data.rank_correlation(3.0, 9.0) == (pytest.approx(-1.0), 12)
    assert data.informative_levels(0.0) == [9.0]  # 3 misleads about 9, so 1 (judged by 3) goes too
    assert data.informative_levels(None) == [1.0, 3.0, 9.0]
    assert data.informative_levels(0.0, min_pairs=13) == [1.0, 3.0, 9.0]  # too few pairs to judge
    cs, rh = _history_with_budgets({1.0: 1.0, 3.0: 1.0, 9.0: 1.0})
    data = TrainingData(SpaceEncoder(cs))
    data.update(rh)
    assert data.informative_levels(0.0) == [1.0, 3.0, 9.0]
    X, y, ids = data.dataset_all(levels=[3.0, 9.0])
    assert len(ids) == 24 and set(X[:, -1]) == {0.0, 1.0}


def test_min_budget_correlation_is_checked():
    from ConfigSpace import ConfigurationSpace

    with pytest.raises(ValueError, match=r"min_budget_correlation is 2"):
        RandomForestSelector(ConfigurationSpace({"x": (0.0, 1.0)}), min_budget_correlation=2)


def test_an_ask_that_promotes_needs_no_fit_and_several_results_need_one():
    cs = quadratic_space()
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, min_points_in_model=3, **FAST)
    opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9, eta=3), selector=sel, seed=0)
    told, promotions, new = set(), 0, 0
    for _ in range(40):
        before = sel.n_fits_
        info = opt.ask()
        if config_key(info.config) in told:  # a promotion: the scheduler needs no new configuration
            promotions += 1
            assert sel.n_fits_ == before
        elif sel.n_model_proposals_:
            new += 1
            assert sel.n_fits_ <= before + 1
        opt.tell(info, quadratic(info.config) + 1 / info.budget)
        told.add(config_key(info.config))
    assert promotions > 5 and new > 5
    rh = filled(cs, 10)
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, **FAST)
    sel.propose(rh, [])
    for c in filled(cs, 3, seed=4).get_configs():  # three results, then one ask
        rh.add(TrialInfo(c, budget=1.0), TrialValue(cost=quadratic(c)))
    sel.propose(rh, [])
    assert sel.n_fits_ == 2


def two_budgets(cs):
    """10 configurations on budget 1, the first three of them on budget 3 too."""
    rh = filled(cs, 10)
    for c in rh.get_configs()[:3]:
        rh.add(TrialInfo(c, budget=3.0), TrialValue(cost=quadratic(c)))
    return rh


@pytest.mark.parametrize("on_improvement", [True, False])
def test_refit_after_waits_unless_a_result_beats_the_best(on_improvement):
    cs = quadratic_space()
    rh = two_budgets(cs)
    best = min(v.cost for i, v in rh.items() if i.budget == 1.0)
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, refit_after=3,
                               refit_on_improvement=on_improvement, **FAST)
    sel.propose(rh, [])
    worse = Configuration(cs, {"x": -0.99, "y": 0.99})
    rh.add(TrialInfo(worse, budget=1.0), TrialValue(cost=quadratic(worse)))
    assert quadratic(worse) > best
    sel.propose(rh, [])
    assert sel.n_fits_ == 1  # no better than the best: the last fit's pool serves
    better = Configuration(cs, {"x": 0.3, "y": -0.2})
    rh.add(TrialInfo(better, budget=1.0), TrialValue(cost=quadratic(better)))
    sel.propose(rh, [])
    assert sel.n_fits_ == (2 if on_improvement else 1)
    third = Configuration(cs, {"x": -0.9, "y": 0.9})
    rh.add(TrialInfo(third, budget=1.0), TrialValue(cost=quadratic(third)))
    sel.propose(rh, [])
    assert sel.n_fits_ == 2  # improvement: refit at 2, then 1 of 3 since; without: 3 of 3
    with pytest.raises(ValueError, match="refit_on_improvement is 1, but must be True or False"):
        RandomForestSelector(cs, refit_on_improvement=1)


@pytest.mark.parametrize("on_improvement", [True, False])
def test_a_first_result_on_a_budget_counts_as_an_improvement(on_improvement):
    cs = quadratic_space()
    rh = two_budgets(cs)
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, refit_after=5,
                               refit_on_improvement=on_improvement, refit_on_promotion=False, **FAST)
    sel.propose(rh, [])
    assert sel._fit_mode == "all"
    c = rh.get_configs()[0]
    rh.add(TrialInfo(c, budget=9.0), TrialValue(cost=5.0))  # worse than any cost so far
    sel.propose(rh, [])
    assert sel._fit_mode == "all" and sel.n_fits_ == (2 if on_improvement else 1)


def test_an_improvement_does_not_override_refit_growth():
    cs = quadratic_space()
    rh = filled(cs, 200)
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, refit_growth=0.05, **FAST)
    sel.propose(rh, [])
    best = Configuration(cs, {"x": 0.3, "y": -0.2})  # the optimum: better than every result so far
    rh.add(TrialInfo(best, budget=1.0), TrialValue(cost=quadratic(best)))
    sel.propose(rh, [])
    assert sel.n_fits_ == 1  # 1 new trial, 5% of 200 = 10 needed


@pytest.mark.parametrize("on_promotion", [True, False])
def test_a_result_above_the_smallest_budget_refits_with_refit_on_promotion(on_promotion):
    cs = quadratic_space()
    rh = two_budgets(cs)
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, refit_after=5, refit_on_improvement=False,
                               refit_on_promotion=on_promotion, **FAST)
    sel.propose(rh, [])
    c = rh.get_configs()[3]
    rh.add(TrialInfo(c, budget=3.0), TrialValue(cost=quadratic(c) + 10.0))  # promoted, and no better
    sel.propose(rh, [])
    assert sel.n_fits_ == (2 if on_promotion else 1)
    c = Configuration(cs, {"x": -0.9, "y": 0.9})
    rh.add(TrialInfo(c, budget=1.0), TrialValue(cost=10.0))  # smallest budget, no better: no refit
    sel.propose(rh, [])
    assert sel.n_fits_ == (2 if on_promotion else 1)


def test_with_one_budget_every_result_refits():
    cs = quadratic_space()
    rh = filled(cs, 10)
    sel = RandomForestSelector(cs, seed=0, random_fraction=0.0, refit_after=5, **FAST)
    sel.propose(rh, [])
    for i, c in enumerate(filled(cs, 3, seed=4).get_configs()):
        rh.add(TrialInfo(c, budget=1.0), TrialValue(cost=10.0))  # never better
        sel.propose(rh, [])
        assert sel.n_fits_ == i + 2  # plain BO: every result is news at the one budget
