"""Known configurations first: ``Optimizer.enqueue``, ``initial_configs=`` and
``include_default=``, in synchronous and asynchronous mode, with bad input and resume."""

from __future__ import annotations

import json
import math

import pytest
from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer

import smacish
from smacish import Hyperband, SuccessiveHalving


def space() -> ConfigurationSpace:
    return ConfigurationSpace({"x": Float("x", (0.0, 1.0), default=0.5), "n": Integer("n", (1, 5), default=3),
                               "k": Categorical("k", ["a", "b"], default="a")}, seed=0)


def cost(info) -> float:
    return (info.config["x"] - 0.2) ** 2 + 0.01 * info.config["n"] + (info.config["k"] == "b") * 0.1 + 1 / info.budget


def values(info) -> dict:
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in dict(info.config).items()}


def test_enqueued_dicts_come_first_on_the_first_stage_and_are_raced_like_any():
    opt = smacish.Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), selector="random", seed=1)
    best = {"x": 0.2, "n": 1, "k": "a"}
    opt.enqueue({"x": 0.9, "n": 5, "k": "b"})
    opt.enqueue(best)
    assert [dict(c) for c, b in opt.queued] == [{"x": 0.9, "n": 5, "k": "b"}, best]
    asked = []
    for _ in range(13):
        info = opt.ask()
        asked.append(info)
        opt.tell(info, cost(info))
    assert [values(i) for i in asked[:2]] == [{"x": 0.9, "n": 5, "k": "b"}, best]
    assert [(i.config_id, i.budget) for i in asked[:2]] == [((0, 0, 0), 1.0), ((0, 0, 1), 1.0)]
    assert opt.queued == []
    # the best configuration of the first stage goes on to the largest budget: it is raced like any
    assert ((0, 0, 1), 9.0) in [(i.config_id, i.budget) for i in asked]
    assert dict(opt.incumbent) == best
    assert len(opt.runhistory) == 13 and opt.n_asked == 13


def test_initial_configs_and_the_default_are_asked_first_in_that_order():
    opt = smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9), selector="rf", seed=0,
                            initial_configs=[{"x": 0.1, "n": 2, "k": "b"}, space().sample_configuration()],
                            include_default=True)
    first = [opt.ask() for _ in range(3)]
    assert values(first[0]) == {"x": 0.5, "n": 3, "k": "a"}
    assert values(first[1]) == {"x": 0.1, "n": 2, "k": "b"}
    assert [i.budget for i in first] == [1.0, 1.0, 1.0]
    for info in first:
        opt.tell(info, cost(info))
    # in the model's data: the RunHistory the selector is fit on holds them
    assert {tuple(sorted(values(i).items())) for i, _ in opt.runhistory.items()} >= {
        tuple(sorted(values(first[0]).items())), tuple(sorted(values(first[1]).items()))}


def test_a_budget_starts_the_configuration_there_asynchronously():
    opt = smacish.Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, asynchronous=True),
                            selector="random", seed=0)
    opt.enqueue({"x": 0.3, "n": 1, "k": "a"}, budget=9)
    opt.enqueue({"x": 0.4, "n": 1, "k": "a"}, budget=3)
    a, b, c = opt.ask(), opt.ask(), opt.ask()
    assert (values(a)["x"], a.budget, a.config_id) == (0.3, 9.0, (0, 2, 0))
    assert (values(b)["x"], b.budget, b.config_id) == (0.4, 3.0, (0, 1, 1))
    assert c.budget == 1.0 and c.config_id == (0, 0, 2)


def test_a_budget_waits_for_the_hyperband_bracket_that_starts_there_synchronously():
    opt = smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9), selector="random", seed=0)
    opt.enqueue({"x": 0.3, "n": 1, "k": "a"}, budget=3)
    asked = []
    while not any(i.config_id[0] == 1 for i in asked):
        info = opt.ask()
        asked.append(info)
        opt.tell(info, cost(info))
    assert all(values(i)["x"] != 0.3 for i in asked[:-1])  # bracket 0 starts on 1: not there
    first_of_bracket = asked[-1]  # bracket 1, [(5, 3.0), (1, 9.0)]: it takes the first place
    assert (values(first_of_bracket)["x"], first_of_bracket.budget, first_of_bracket.config_id) == (0.3, 3.0, (1, 0, 0))


@pytest.mark.parametrize("bad, message", [
    ({"x": 1.5, "n": 1, "k": "a"}, r"x is 1.5, but must be in \[0.0, 1.0\]"),
    ({"x": 0.5, "n": 1, "k": "c"}, r"k is 'c', but must be one of \['a', 'b'\]"),
    ({"x": 0.5, "n": 1, "k": "a", "lr": 0.1}, r"unknown hyperparameter\(s\) \['lr'\]; the space has"),
    ({"x": 0.5}, r"not valid in the space .*give every active hyperparameter a legal value"),
    ([0.5, 1, "a"], r"must be a Configuration or a dict of values, got list"),
])
def test_a_configuration_outside_the_space_is_refused_and_nothing_changes(bad, message, tmp_path):
    opt = smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9), selector="random",
                            output_dir=tmp_path / "run")
    opt.enqueue({"x": 0.1, "n": 1, "k": "a"})
    events = (tmp_path / "run" / "events.jsonl").read_bytes()
    with pytest.raises(ValueError, match=message):
        opt.enqueue(bad)
    assert [dict(c) for c, _ in opt.queued] == [{"x": 0.1, "n": 1, "k": "a"}]
    assert (tmp_path / "run" / "events.jsonl").read_bytes() == events
    with pytest.raises(ValueError, match=message):
        smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9), initial_configs=[bad])
    opt.close()


def test_a_budget_no_run_starts_on_is_refused_with_what_to_use():
    sh = smacish.Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9), selector="random")
    with pytest.raises(ValueError, match=r"budget is 2, but must be None or one of the budgets \[1.0, 3.0, 9.0\]"):
        sh.enqueue({"x": 0.1, "n": 1, "k": "a"}, budget=2)
    with pytest.raises(ValueError, match=r"starts on \[1.0\]; pass one of those, budget=None, or use asynchronous"):
        sh.enqueue({"x": 0.1, "n": 1, "k": "a"}, budget=3)
    assert sh.queued == []
    other = ConfigurationSpace({"y": (0.0, 1.0)}).sample_configuration()
    with pytest.raises(ValueError, match="belongs to another configuration space"):
        sh.enqueue(other)
    with pytest.raises(ValueError, match="include_default is 1, but must be True or False"):
        smacish.Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9), include_default=1)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_queued_configurations_survive_a_reload_and_get_state(asynchronous, tmp_path):
    def fresh(out=None):
        return smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9, asynchronous=asynchronous),
                                 selector="random", seed=2, n_workers=2, output_dir=out, durable=False)

    def drive(opt, n):
        out = []
        for _ in range(n):
            info = opt.ask()
            out.append((info.key, values(info)))
            opt.tell(info, cost(info))
        return out

    known = [{"x": 0.05 * k, "n": 1 + k % 5, "k": "ab"[k % 2]} for k in range(1, 12)]
    whole = fresh(tmp_path / "whole")
    stopped = fresh(tmp_path / "stopped")
    for opt in (whole, stopped):
        for k, config in enumerate(known):
            opt.enqueue(config, budget=9 if k == 3 else None)
    first = drive(whole, 4)
    assert drive(stopped, 4) == first
    assert len(stopped.queued) > 0  # some were not asked yet
    state = json.loads(json.dumps(stopped.get_state()))
    stopped.close()
    loaded = smacish.Optimizer.load(tmp_path / "stopped")
    assert [(dict(c), b) for c, b in loaded.queued] == [(dict(c), b) for c, b in whole.queued]
    restored = fresh()
    restored.set_state(state)
    assert [(dict(c), b) for c, b in restored.queued] == [(dict(c), b) for c, b in whole.queued]
    rest = drive(whole, 20)
    assert drive(loaded, 20) == rest
    assert drive(restored, 20) == rest
    seen = {(round(v["x"], 9), v["n"], v["k"]) for _, v in first + rest}
    assert all((round(c["x"], 9), c["n"], c["k"]) in seen for c in known), "an enqueued configuration was lost"
    loaded.close()
    whole.close()


def test_enqueue_then_reload_from_the_log_alone(tmp_path):
    """Without a state snapshot the log's enqueue events rebuild the queue."""
    opt = smacish.Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9), selector="random",
                            output_dir=tmp_path / "run", initial_configs=[{"x": 0.3, "n": 2, "k": "b"}])
    opt.enqueue({"x": 0.6, "n": 2, "k": "b"})
    info = opt.ask()
    opt.tell(info, cost(info))
    opt.run_directory.log.close()  # a killed process: no snapshot written
    opt.run_directory = None
    (tmp_path / "run" / "state.json").unlink(missing_ok=True)
    loaded = smacish.Optimizer.load(tmp_path / "run")
    assert [dict(c) for c, _ in loaded.queued] == [{"x": 0.6, "n": 2, "k": "b"}]
    assert values(loaded.ask()) == {"x": 0.6, "n": 2, "k": "b"}
    loaded.close()
    assert math.isfinite(cost(info))
