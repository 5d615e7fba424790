"""Instance features (SMAC's ``instance_specifics``): with budgets that are instances, the random
forest learns each configuration's cost per instance from the instances' features."""

from __future__ import annotations

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace

from smacish import Hyperband, KDESelector, Optimizer, SuccessiveHalving

INSTANCES = [f"i{k}" for k in range(6)]
FEATURES = {name: [k / 5.0, 1.0] for k, name in enumerate(INSTANCES)}


def space() -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0), "y": (-1.0, 1.0)}, seed=0)


def target(config, instance):
    return (config["x"] - FEATURES[instance][0]) ** 2 + 0.1 * config["y"] ** 2


def intensifier() -> Hyperband:
    return Hyperband(instances=INSTANCES, min_budget=1, max_budget=6, eta=2)


def test_the_forest_predicts_a_configurations_cost_per_instance():
    opt = Optimizer(space(), intensifier(), seed=0, instance_features=FEATURES)
    opt.optimize(target, n_trials=80)
    assert opt.selector.n_fits_ > 0
    low = next(c for c in opt.runhistory.get_configs() if c["x"] < 0.25)
    near, _ = opt.selector.predict([low], [0.0, 1.0])
    far, _ = opt.selector.predict([low], [1.0, 1.0])
    assert near[0] < far[0]  # it knows the configuration suits an instance with feature 0
    high = next(c for c in opt.runhistory.get_configs() if c["x"] > 0.75)
    near, _ = opt.selector.predict([high], [1.0, 1.0])
    far, _ = opt.selector.predict([high], [0.0, 1.0])
    assert near[0] < far[0]
    mean, var = opt.selector.predict([low, high])  # marginal over the instances
    assert mean.shape == var.shape == (2,) and (var > 0).all()


@pytest.mark.parametrize("features, message", [
    ({**FEATURES, "i0": [0.0]}, r"differ in length \(1 for \['i0'\], 2 for"),
    ({k: v for k, v in FEATURES.items() if k != "i3"}, r"no vector for instance\(s\) \['i3'\]"),
    ({**FEATURES, "zz": [0.0, 1.0]}, r"names \['zz'\], which are not among the intensifier's instances"),
    ({**FEATURES, "i1": ["a", 1.0]}, r"instance_features\['i1'\] is \['a', 1.0\], but must be a list of numbers"),
    ({**FEATURES, "i1": [float("nan"), 1.0]}, "non-empty list of finite numbers"),
    ([[0.0]], "must be a dict"),
])
def test_bad_features_say_what_is_wrong(features, message):
    with pytest.raises(ValueError, match=message):
        Optimizer(space(), intensifier(), instance_features=features)


def test_features_need_instances_and_the_forest():
    with pytest.raises(ValueError, match="need an intensifier with instances="):
        Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9), instance_features=FEATURES)
    with pytest.raises(ValueError, match="'kde' cannot use them"):
        Optimizer(space(), intensifier(), selector="kde", instance_features=FEATURES)
    with pytest.raises(ValueError, match="KDESelector cannot use them"):
        Optimizer(space(), intensifier(), selector=KDESelector(space()), instance_features=FEATURES)
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    with pytest.raises(ValueError, match="cannot use them"):
        Optimizer(space(), intensifier(), selector="random", seed=rng, instance_features=FEATURES)
    assert rng.bit_generator.state == before  # refused before the generator gave a seed


def test_a_resumed_run_with_features_asks_what_the_uninterrupted_one_asks(tmp_path):
    whole = Optimizer(space(), intensifier(), seed=4, instance_features=FEATURES)
    whole.optimize(target, n_trials=70)
    first = Optimizer(space(), intensifier(), seed=4, instance_features=FEATURES, output_dir=tmp_path / "run")
    first.optimize(target, n_trials=35)
    first.close()
    again = Optimizer.load(tmp_path / "run")
    assert again.instance_features == FEATURES
    again.optimize(target, n_trials=70)
    assert [(i.config, i.instance, i.seed) for i, _ in again.runhistory.items()] == \
           [(i.config, i.instance, i.seed) for i, _ in whole.runhistory.items()]
