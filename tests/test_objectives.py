"""Several objectives: the cost tuple, the Pareto front, promotion by non-dominated sorting, the
models' scalarisation, resume, and the mistakes a user makes with them."""

import math
import warnings

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace
from hypothesis import given, settings
from hypothesis import strategies as st

import smacish
from smacish import RunHistory, TrialInfo, TrialValue
from smacish._pareto import (ScalarizedHistory, crowding_distances, dominates, non_dominated_fronts, parego,
                             pareto_front, pareto_order)
from smacish.runners import parse_result
from smacish.trial import StatusType


def space(seed=0):
    return ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=seed)


def zdt1(config, budget=9.0):
    """ZDT1 in two variables (Zitzler, Deb, Thiele 2000), with a bias that vanishes at budget 9."""
    x, y = config["x"], config["y"]
    g = 1 + 9 * y
    return {"f1": x + (1 - budget / 9) * 0.2, "f2": g * (1 - math.sqrt(x / g)), "size": 3}


# ---------------------------------------------------------------------- Pareto order
costs_lists = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=0, max_size=25)


@settings(max_examples=200, deadline=None)
@given(costs_lists)
def test_fronts_partition_the_points_and_each_is_dominated_only_by_earlier_ones(costs):
    fronts = non_dominated_fronts(costs)
    assert sorted(i for front in fronts for i in front) == list(range(len(costs)))
    for k, front in enumerate(fronts):
        for i in front:
            later = [j for f in fronts[k:] for j in f]
            assert not any(dominates(costs[j], costs[i]) for j in later)
            if k:
                assert any(dominates(costs[j], costs[i]) for j in fronts[k - 1])


@settings(max_examples=100, deadline=None)
@given(costs_lists)
def test_pareto_front_is_exactly_the_undominated_points(costs):
    expected = [i for i, c in enumerate(costs) if not any(dominates(d, c) for d in costs)]
    assert pareto_front(costs) == expected
    order = pareto_order(costs)
    assert sorted(order) == list(range(len(costs)))
    assert set(order[:len(expected)]) == set(expected)


def test_crowding_keeps_the_extremes_and_the_most_isolated_member():
    front = [(0.0, 1.0), (0.1, 0.9), (0.12, 0.88), (0.6, 0.4), (1.0, 0.0)]
    distance = crowding_distances(front, range(5))
    assert distance[0] == distance[4] == math.inf
    assert pareto_order(front)[:3] == [0, 4, 3]  # (0.6, 0.4) is the loneliest inner point


def test_parego_scales_each_objective_and_leaves_crashes_infinite():
    costs = np.array([[0.0, 100.0], [1.0, 0.0], [math.inf, math.inf]])
    out = parego(costs, np.array([1.0, 0.0]))
    assert out[0] == pytest.approx(0.0) and out[1] == pytest.approx(1.05) and out[2] == math.inf


# ---------------------------------------------------------------------- costs and parsing
def test_a_trial_value_takes_a_sequence_of_costs_and_refuses_nan_in_it():
    assert TrialValue(cost=[0.5, np.float32(2)]).cost == (0.5, 2.0)
    with pytest.raises(ValueError, match="NaN"):
        TrialValue(cost=(0.5, math.nan))
    with pytest.raises(ValueError, match="finite"):
        TrialValue(cost=(0.5, math.inf))
    assert TrialValue(cost=(0.5, math.inf), status=StatusType.CRASHED).cost == (0.5, math.inf)


def test_parse_result_reads_each_objective_by_name():
    objectives = ["error", "latency"]
    assert parse_result({"latency": 3, "error": 0.1, "n": 1}, objectives=objectives) == ((0.1, 3.0), {"n": 1})
    assert parse_result({"cost": [0.1, 3]}, objectives=objectives) == ((0.1, 3.0), {})
    assert parse_result((0.1, 3), objectives=objectives) == ((0.1, 3.0), {})
    with pytest.raises(ValueError, match=r"without the objective\(s\) \['latency'\]"):
        parse_result({"error": 0.1, "latncy": 3}, objectives=objectives)
    with pytest.raises(ValueError, match="3 cost"):
        parse_result((0.1, 3, 4), objectives=objectives)
    with pytest.raises(ValueError, match="return a dict with a cost under each name"):
        parse_result(0.1, objectives=objectives)
    with pytest.raises(ValueError, match="one objective"):
        parse_result((0.1, 3))


@pytest.mark.parametrize("objectives, message", [
    ("error", "must be a list of names"),
    (["error"], "two or more names"),
    (["error", "error"], "must differ"),
    (["error", ""], "non-empty string"),
    (["cost", "latency"], "taken"),
])
def test_bad_objectives_are_refused(objectives, message):
    with pytest.raises(ValueError, match=message):
        smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), objectives=objectives)


def test_objectives_are_refused_with_a_runtime_objective_and_a_warm_start_of_another_kind():
    with pytest.raises(ValueError, match="run_obj_time"):
        smacish.Optimizer(space(), smacish.SuccessiveHalving(min_budget=1, max_budget=9, run_obj_time=True,
                                                             cutoff=10), objectives=["a", "b"])
    with pytest.raises(ValueError, match="same objectives"):
        smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), objectives=["a", "b"],
                          warmstart=RunHistory(space()))


def test_tell_refuses_a_cost_of_the_wrong_shape_and_changes_nothing():
    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), objectives=["a", "b"])
    info = opt.ask()
    for bad, message in [(0.5, "return a dict with a cost under each name"),
                         (TrialValue(cost=0.5), "a tuple of 2 costs"),
                         (TrialValue(cost=(1, 2, 3)), "3 cost"),
                         ({"a": 1}, r"without the objective\(s\) \['b'\]")]:
        with pytest.raises(ValueError, match=message):
            opt.tell(info, bad)
    assert len(opt.runhistory) == 0 and opt.pending == [info]
    opt.tell(info, {"a": 1, "b": 2})
    assert opt.runhistory.get(info).cost == (1.0, 2.0)
    single = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9))
    with pytest.raises(ValueError, match="one objective"):
        single.tell(single.ask(), TrialValue(cost=(1, 2)))


# ---------------------------------------------------------------------- the RunHistory's front
def test_the_front_is_judged_on_the_highest_budget_and_crashes_are_never_on_it():
    cs = space()
    a, b, c, d = cs.sample_configuration(4)
    rh = RunHistory(cs, objectives=["e", "t"])
    rh.add(TrialInfo(a, budget=1.0), TrialValue(cost=(0.0, 0.0)))  # best of all, but on budget 1
    rh.add(TrialInfo(b, budget=3.0), TrialValue(cost=(0.2, 0.9)))
    rh.add(TrialInfo(c, budget=3.0), TrialValue(cost=(0.5, 0.5)))
    rh.add(TrialInfo(d, budget=3.0), TrialValue(cost=math.inf, status=StatusType.CRASHED))
    assert [(i.config, i.cost, i.budget) for i in rh.incumbents()] == [(b, (0.2, 0.9), 3.0), (c, (0.5, 0.5), 3.0)]
    assert [i.config for i in rh.incumbents("any_budget")] == [a]
    assert rh.incumbents("highest_budget", max_budget=9.0) == []
    assert rh.get_cost(b) == (0.2, 0.9) and rh.get_cost(d) == (math.inf, math.inf)
    with pytest.raises(ValueError, match="use incumbents"):
        rh.incumbent()


def test_maximising_several_objectives_keeps_the_users_sign():
    cs = space()
    a, b, c = cs.sample_configuration(3)
    rh = RunHistory(cs, objectives=["acc", "speed"], direction="maximize")
    for config, cost in [(a, (0.9, 1.0)), (b, (0.8, 5.0)), (c, (0.7, 2.0))]:
        rh.add(TrialInfo(config, budget=1.0), TrialValue(cost=cost))
    assert sorted(i.cost for i in rh.incumbents()) == [(0.8, 5.0), (0.9, 1.0)]


def test_an_instance_based_front_moves_up_with_each_pair():
    cs = space()
    a, b = cs.sample_configuration(2)
    rh = RunHistory(cs, objectives=["e", "t"])
    rh.add(TrialInfo(a, instance="i1", seed=0), TrialValue(cost=(1.0, 1.0)))
    rh.add(TrialInfo(b, instance="i1", seed=0), TrialValue(cost=(0.5, 0.5)))
    rh.add(TrialInfo(a, instance="i2", seed=0), TrialValue(cost=(0.0, 0.0)))
    # a has two pairs (mean (0.5, 0.5)), b one: a is judged on more pairs
    assert [(i.config, i.budget, i.cost) for i in rh.incumbents()] == [(a, 2.0, (0.5, 0.5))]


def test_the_history_round_trips_through_json_and_the_dataframe_has_a_column_per_objective(tmp_path):
    cs = space()
    rh = RunHistory(cs, objectives=["e", "t"])
    for config, cost in zip(cs.sample_configuration(3), [(1, 2), (2, 1), (3, 3)]):
        rh.add(TrialInfo(config, budget=1.0), TrialValue(cost=cost))
    rh.save(tmp_path / "rh.json")
    back = RunHistory.load(tmp_path / "rh.json")
    assert back.objectives == ["e", "t"] and [i.cost for i in back.incumbents()] == [(1.0, 2.0), (2.0, 1.0)]
    df = rh.to_dataframe()
    assert df["cost:e"].tolist() == [1.0, 2.0, 3.0] and df["cost:t"].tolist() == [2.0, 1.0, 3.0]
    assert df["incumbent_so_far"].tolist() == [1, 2, 2]  # the size of the front


# ---------------------------------------------------------------------- promotion
def _promoted_after_first_stage(costs, asynchronous=False, weights=None):
    """Tell the first stage of SH(1, 9, eta 3) the costs in order; return the indices promoted
    (and, in ``weights``, a list, the weights the run promoted by)."""
    opt = smacish.Optimizer(space(), smacish.SuccessiveHalving(min_budget=1, max_budget=9, asynchronous=asynchronous),
                            selector="random", objectives=["a", "b"], seed=0)
    first = [opt.ask(n_workers=9) for _ in range(9)]
    for info, cost in zip(first, costs):
        opt.tell(info, TrialValue(cost=cost))
    index = {info.config_id: k for k, info in enumerate(first)}
    if weights is not None:
        weights.append(opt.intensifier.promotion_weights(first[0].config_id[0], 2))
    promoted = []
    while True:
        info = opt.ask(n_workers=20)
        if info.budget != 3.0 or info.config_id not in index:
            break
        promoted.append(index[info.config_id])
    return promoted


def test_successive_halving_promotes_by_its_runs_parego_weights_and_never_passes_over_a_dominator():
    costs = [(0.1, 100.0), (0.2, 0.2), (0.3, 0.1), (0.25, 50.0), (0.9, 0.9), (0.4, 0.4), (0.5, 0.5), (0.6, 0.6),
             (0.7, 0.7)]
    weights = []
    promoted = _promoted_after_first_stage(costs, weights=weights)
    scores = parego(np.array(costs), weights[0])
    assert sorted(promoted) == sorted(np.argsort(scores, kind="stable")[:3].tolist())
    assert 3 not in promoted or 1 in promoted  # (0.25, 50) only with (0.2, 0.2), which dominates it
    assert not any(dominates(costs[j], costs[i]) for i in promoted for j in range(9) if j not in promoted)


def test_each_successive_halving_run_draws_its_own_weights_the_same_after_a_resume():
    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), objectives=["a", "b"], seed=2)
    again = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), objectives=["a", "b"], seed=2)
    w = [tuple(opt.intensifier.promotion_weights(i, 2)) for i in range(4)]
    assert len(set(w)) == 4 and w == [tuple(again.intensifier.promotion_weights(i, 2)) for i in range(4)]


def test_promotion_follows_the_runs_scalarisation_on_random_costs():
    rng = np.random.default_rng(4)
    for _ in range(5):
        costs = [tuple(map(float, c)) for c in rng.random((9, 2)).round(3)]
        weights = []
        promoted = _promoted_after_first_stage(costs, weights=weights)
        order = np.argsort(parego(np.array(costs), weights[0]), kind="stable")
        assert sorted(promoted) == sorted(order[:3].tolist())


def test_asynchronous_promotion_takes_the_pareto_best_of_the_rung_so_far():
    costs = [(0.5, 0.5), (0.1, 100.0), (0.9, 0.9), (0.2, 0.2), (0.25, 50.0), (0.3, 0.1)]
    opt = smacish.Optimizer(space(), smacish.SuccessiveHalving(min_budget=1, max_budget=9, asynchronous=True),
                            selector="random", objectives=["a", "b"], seed=0)
    first = [opt.ask() for _ in range(6)]
    for info, cost in zip(first, costs):
        opt.tell(info, TrialValue(cost=cost))
    # 6 results: floor(6/3) = 2 promotable, the first two of the Pareto order
    expected = {first[i].config_id for i in pareto_order(costs)[:2]}
    got = {opt.ask().config_id, opt.ask().config_id}
    assert got == expected


# ---------------------------------------------------------------------- the models
def test_the_models_see_a_parego_scalarisation_with_new_weights_at_each_proposal():
    cs = space()
    rh = RunHistory(cs, objectives=["a", "b"])
    for config, cost in zip(cs.sample_configuration(4), [(0, 10), (1, 0), (0.5, 5), (1, 10)]):
        rh.add(TrialInfo(config, budget=1.0), TrialValue(cost=cost))
    rh.add(TrialInfo(cs.sample_configuration(), budget=1.0), TrialValue(cost=math.inf, status=StatusType.CRASHED))
    view = ScalarizedHistory(rh, np.array([0.5, 0.5]))
    got = [value.cost for _, value in view.items()]
    assert got == pytest.approx([0.525, 0.525, 0.275, 0.55, math.inf])
    assert view.effective_cost(list(view.items())[-1][1]) == math.inf
    assert ScalarizedHistory(rh, np.array([0.5, 0.5])).version != view.version

    class Spy:
        def __init__(self):
            self.weights = []

        def propose(self, runhistory, pending):
            self.weights.append(tuple(runhistory.weights))
            return cs.sample_configuration()

    spy = Spy()
    opt = smacish.Optimizer(cs, smacish.SuccessiveHalving(min_budget=1, max_budget=9), selector=spy,
                            objectives=["a", "b"], seed=5)
    for _ in range(4):
        opt.ask(n_workers=9)
    assert len(set(spy.weights)) == 4 and all(sum(w) == pytest.approx(1) and min(w) > 0 for w in spy.weights)


@pytest.mark.parametrize("selector", ["rf", "kde"])
def test_a_model_run_finds_a_better_front_than_its_first_random_configurations(selector):
    opt = smacish.Optimizer(space(1), smacish.Hyperband(min_budget=1, max_budget=9), selector=selector,
                            objectives=["f1", "f2"], seed=1)
    front = opt.optimize(zdt1, n_trials=200)
    assert front == [inc.config for inc in opt.incumbents] and len(front) >= 4
    # ZDT1's front has g = 1 (y = 0): the model should push y towards 0 on the front
    assert np.median([c["y"] for c in front]) < 0.1
    costs = [inc.cost for inc in opt.incumbents]
    assert all(not dominates(p, q) for p in costs for q in costs)
    assert all(inc.budget == 9.0 for inc in opt.incumbents)


# ---------------------------------------------------------------------- the loop, runners and resume
def test_a_target_without_an_objective_stops_the_run_with_a_message_naming_it():
    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), objectives=["f1", "latency"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(smacish.TargetFailedError, match=r"without the objective\(s\) \['latency'\]"):
            opt.optimize(zdt1, n_trials=20)


def test_the_trajectory_logs_each_arrival_on_the_front(tmp_path):
    opt = smacish.Optimizer(space(), smacish.SuccessiveHalving(min_budget=1, max_budget=1), selector="random",
                            objectives=["f1", "f2"], output_dir=tmp_path / "run")
    opt.optimize(lambda config: zdt1(config), n_trials=30)
    entries = list(opt.trajectory)
    front = {(inc.config_number, inc.cost) for inc in opt.incumbents}
    assert front <= {(e.config_number, e.cost) for e in entries}
    assert all(isinstance(e.cost, tuple) for e in entries)
    opt.close()
    back = smacish.Trajectory.load(tmp_path / "run" / "trajectory.jsonl")
    assert [(e.config_number, e.cost) for e in back] == [(e.config_number, e.cost) for e in entries]


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_resumed_run_continues_as_the_uninterrupted_one(tmp_path, asynchronous):
    def make(**kw):
        return smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9, asynchronous=asynchronous),
                                 objectives=["f1", "f2"], seed=3, **kw)

    with make(output_dir=tmp_path / "run") as opt:
        opt.optimize(zdt1, n_trials=45)
    resumed = smacish.Optimizer.load(tmp_path / "run")
    assert resumed.objectives == ["f1", "f2"]
    resumed.optimize(zdt1, n_trials=90)
    reference = make()
    reference.optimize(zdt1, n_trials=90)
    trials = lambda o: [(dict(i.config), i.budget, v.cost) for i, v in o.runhistory.items()]  # noqa: E731
    assert trials(resumed) == trials(reference)
    assert [i.cost for i in resumed.incumbents] == [i.cost for i in reference.incumbents]
    resumed.close()


def test_several_objectives_on_a_local_cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), objectives=["f1", "f2"])
        front = opt.optimize(zdt1, n_trials=40, client=client)
    assert len(opt.runhistory) == 40 and front
    assert all(v.status is StatusType.SUCCESS and isinstance(v.cost, tuple) for _, v in opt.runhistory.items())
    assert all(v.additional_info["size"] == 3 for _, v in opt.runhistory.items())


def test_checkpoints_of_every_front_member_are_kept(tmp_path):
    def target(config, budget, trial):
        (trial.checkpoint_dir / "model").write_text(str(budget))
        return zdt1(config, budget)

    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), selector="random",
                            objectives=["f1", "f2"], output_dir=tmp_path / "run")
    opt.optimize(target, n_trials=60, checkpoints=smacish.Checkpoints(keep="incumbent"))
    kept = {p.name for p in (tmp_path / "run" / "checkpoints").iterdir()}
    assert {"config_%d_%d_%d" % cid for cid in _trial_ids(opt)} <= kept
    opt.close()


def _trial_ids(opt):
    """The trial config_ids of the front's configurations (their checkpoint directories)."""
    front = {inc.config_number for inc in opt.incumbents}
    return {info.config_id for info, _ in opt.runhistory.items() if opt.runhistory.config_number(info.config) in front}


# ---------------------------------------------------------------------- plots and analysis
def test_plots_draw_the_front_and_each_objective_and_say_what_a_one_cost_plot_needs(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from smacish import plotting
    from smacish.analysis import importance

    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), selector="random",
                            objectives=["f1", "f2"], output_dir=tmp_path / "run")
    opt.optimize(zdt1, n_trials=80)
    ax = plotting.plot_pareto_front(opt).axes[0]
    front = sorted((inc.cost[0], inc.cost[1]) for inc in opt.incumbents)
    line = ax.get_lines()[0]
    assert sorted(zip(line.get_xdata(), line.get_ydata())) == front
    assert plotting.plot_pareto_front(opt, objectives=["f2", "f1"]).axes[0].get_xlabel() == "f2"
    with pytest.raises(ValueError, match="two of this run's objectives"):
        plotting.plot_pareto_front(opt, objectives=["f1", "size"])
    with pytest.raises(ValueError, match="pass objective="):
        plotting.plot_slice(opt)
    with pytest.raises(ValueError, match="plot_pareto_front"):
        plotting.plot_trajectory(opt)
    frame = importance(opt, objective="f2", budget=1)
    assert set(frame["hyperparameter"]) == {"x", "y"}
    with pytest.raises(ValueError, match="objectives are"):
        importance(opt, objective="f3")
    opt.close()
    written = plotting.save_all(tmp_path / "run", tmp_path / "figures")
    assert "pareto_front.png" in written and "slice-f2.png" in written and "trajectory.png" not in written
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == written


# ---------------------------------------------------------------------- scheduler invariants with tuple costs
def _tuple_costs(rng, crash):
    drawn = {}

    def cost(info):
        key = (info.config_id, info.budget, info.instance, info.seed)
        if key not in drawn:
            drawn[key] = (TrialValue(cost=math.inf, status=StatusType.CRASHED) if rng.random() < crash
                          else TrialValue(cost=(round(rng.random(), 1), round(rng.random(), 1))))
        return drawn[key]
    return cost


@settings(max_examples=40, deadline=None)
@given(asynchronous=st.booleans(), n_workers=st.integers(1, 12), crash=st.sampled_from([0.0, 0.3]),
       rng=st.randoms(use_true_random=False), n_asks=st.integers(1, 120))
def test_with_several_objectives_no_trial_is_lost_or_doubled_and_promotions_are_the_best(
        asynchronous, n_workers, crash, rng, n_asks):
    from _intensifier_helpers import Driver

    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9, asynchronous=asynchronous),
                            selector="random", objectives=["a", "b"], n_workers=n_workers, seed=rng.randrange(99))
    driver = Driver(opt, rng, _tuple_costs(rng, crash), tell_probability=0.3)
    waits = []
    driver.on_wait = lambda d, wait: waits.append(len(d.pending))
    driver.run(n_asks)
    driver.drain()
    asked = [info.key for info in driver.asked]
    assert len(asked) == len(set(asked))
    assert sorted(map(repr, (i.key for i, _ in opt.runhistory.items()))) == sorted(map(repr, asked))
    assert opt.pending == [] and opt.runhistory.running() == []
    if asynchronous:
        assert all(n >= n_workers for n in waits)  # never WAIT while a worker is free
        return
    # synchronous: whoever went on from a stage was among the stage's n_next best by its run's weights
    schedules = opt.intensifier.schedules
    by_stage = {}
    for info, value in opt.runhistory.items():
        by_stage.setdefault((info.config_id[0], info.budget), []).append((info.config_id, value))
    first = {}  # the budget each iteration started on: its bracket (a bracket may wait for results)
    for info, _ in opt.runhistory.items():
        if info.config_id[1] == 0:
            first[info.config_id[0]] = min(info.budget, first.get(info.config_id[0], info.budget))
    for (iteration, budget), results in by_stage.items():
        schedule = next(s for s in schedules if s[0][1] == first[iteration])
        stage = [b for _, b in schedule].index(budget)
        if stage + 1 == len(schedule):
            continue
        went_on = {cid for cid, _ in by_stage.get((iteration, schedule[stage + 1][1]), ())}
        ok = sorted((cid, v.cost) for cid, v in results if v.status is StatusType.SUCCESS)
        if not ok:
            continue
        scores = parego(np.array([c for _, c in ok]), opt.intensifier.promotion_weights(iteration, 2))
        best = {ok[i][0] for i in np.argsort(scores, kind="stable")[:schedule[stage + 1][0]]}
        promoted = {cid for cid, _ in results} & went_on
        assert promoted <= best, (iteration, budget, promoted, best)
