"""``seed`` takes an int, a numpy Generator or a RandomState everywhere (Optimizer, selectors,
intensifiers): the same state gives the same run; anything else is a clear error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace

import smacish
from smacish import Hyperband, KDESelector, RandomForestSelector, RandomSelector
from smacish._seeding import as_seed


def space() -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0), "y": (-2.0, 2.0)}, seed=0)


def asks(seed, selector="random", n=25):
    opt = smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9), selector=selector, seed=seed)
    out = []
    for _ in range(n):
        info = opt.ask()
        out.append((info.key, dict(info.config)))
        opt.tell(info, (info.config["x"] - 0.3) ** 2 + info.config["y"] ** 2 / info.budget)
    return opt, out


@pytest.mark.parametrize("make", [lambda: np.random.default_rng(42), lambda: np.random.RandomState(42)],
                         ids=["Generator", "RandomState"])
def test_the_same_generator_state_gives_the_same_run(make):
    opt_a, a = asks(make())
    opt_b, b = asks(make())
    assert a == b
    assert opt_a.seed == opt_b.seed == as_seed(make())  # the int it drew
    _, c = asks(opt_a.seed)  # ... which is the run: the same as passing that int
    assert c == a
    gen = make()
    _, first = asks(gen)
    _, second = asks(gen)  # the generator moved on: another run
    assert first != second


def test_an_int_and_a_numpy_int_give_the_same_run():
    assert asks(5)[1] == asks(np.int64(5))[1]


@pytest.mark.parametrize("bad", ["0", 1.5, True, None, -1, [1]])
def test_anything_else_is_refused_with_what_is_accepted(bad):
    with pytest.raises(ValueError, match=r"seed is .*but must be an int >= 0, a numpy.random.Generator or a "
                                         r"numpy.random.RandomState"):
        smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9), seed=bad)
    for selector in (RandomSelector, RandomForestSelector, KDESelector):
        with pytest.raises(ValueError, match="but must be an int >= 0, a numpy.random.Generator"):
            selector(space(), seed=bad)


def test_a_refused_optimizer_does_not_draw_from_the_generator():
    gen = np.random.default_rng(3)
    before = json.dumps(gen.bit_generator.state)
    with pytest.raises(ValueError, match="n_workers is 0"):
        smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9), seed=gen, n_workers=0)
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9), seed=gen, initial_configs=[{"z": 1}])
    assert json.dumps(gen.bit_generator.state) == before


@pytest.mark.parametrize("selector", [RandomSelector, RandomForestSelector, KDESelector])
def test_selectors_take_a_generator(selector):
    def proposals(seed):
        sel = selector(space(), seed=seed)
        rh = smacish.RunHistory(space())
        return [dict(sel.propose(rh, [])) for _ in range(5)]

    assert proposals(np.random.default_rng(9)) == proposals(np.random.default_rng(9))
    assert proposals(np.random.RandomState(9)) == proposals(as_seed(np.random.RandomState(9)))
    assert proposals(np.random.default_rng(9)) != proposals(np.random.default_rng(10))


def test_an_intensifier_binds_with_a_generator_as_with_the_int_it_draws():
    def seeds(seed):
        hb = Hyperband(min_budget=1, max_budget=9, n_seeds=3, instances=["a", "b", "c"])
        hb.bind(smacish.RunHistory(space()), RandomSelector(space(), 0), seed)
        return hb.get_state(lambda c: 0)["seeds"]

    assert seeds(np.random.default_rng(1)) == seeds(as_seed(np.random.default_rng(1)))
    with pytest.raises(ValueError, match="seed is 'x'"):
        seeds("x")


def test_a_run_directory_keeps_the_int_and_resumes(tmp_path):
    opt = smacish.Optimizer(space(), Hyperband(min_budget=1, max_budget=9), selector="random",
                            seed=np.random.default_rng(8), output_dir=tmp_path / "run")
    drawn = opt.seed
    opt.close()
    assert json.loads((tmp_path / "run" / "optimizer.json").read_text())["seed"] == drawn
    assert smacish.Optimizer.load(tmp_path / "run").seed == drawn
