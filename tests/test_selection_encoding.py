"""SpaceEncoder: ConfigSpace vectors -> model input -> the same vectors, for every type."""

from __future__ import annotations

import numpy as np
import pytest
from _selection_helpers import mixed_space, spaces
from ConfigSpace import (
    Categorical,
    Configuration,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    Integer,
    Normal,
    OrdinalHyperparameter,
)
from hypothesis import HealthCheck, given, settings

from smacish.selection._encoding import SpaceEncoder

HYPERPARAMETERS = {
    "float": lambda: Float("h", (-3.0, 7.0)),
    "log-float": lambda: Float("h", (1e-5, 10.0), log=True),
    "normal-float": lambda: Float("h", (0.0, 10.0), distribution=Normal(4.0, 1.0)),
    "int": lambda: Integer("h", (-4, 12)),
    "log-int": lambda: Integer("h", (1, 4096), log=True),
    "categorical": lambda: Categorical("h", ["a", "b", "c"]),
    "bool-categorical": lambda: Categorical("h", [True, False]),
    "ordinal": lambda: OrdinalHyperparameter("h", ["low", "mid", "high", "max"]),
    "constant": lambda: Constant("h", "only"),
}


def _round_trip(space: ConfigurationSpace, configs) -> np.ndarray:
    enc = SpaceEncoder(space)
    V = enc.vectors_of(configs)
    X = enc.encode(V)
    assert X.shape == V.shape and not np.isnan(X).any()
    np.testing.assert_array_equal(enc.decode(X), V)  # NaN == NaN here: inactive stays inactive
    assert enc.decode_configs(X) == list(configs)
    return X


@pytest.mark.parametrize("kind", sorted(HYPERPARAMETERS))
@pytest.mark.parametrize("conditional", [False, True], ids=["plain", "conditional"])
def test_round_trip_every_type(kind, conditional):
    cs = ConfigurationSpace(seed=1)
    hp = HYPERPARAMETERS[kind]()
    cs.add([Categorical("switch", ["on", "off"]), hp])
    if conditional:
        cs.add(EqualsCondition(hp, cs["switch"], "on"))
    configs = cs.sample_configuration(60)
    X = _round_trip(cs, configs)
    enc = SpaceEncoder(cs)
    j = enc.names.index("h")
    col = X[:, j]
    active = np.array([c.get("h") is not None for c in configs])
    assert active.all() != conditional and active.any()  # conditional: some rows inactive
    if enc.categorical[j]:
        n = len(hp.choices)
        assert set(col[active]) <= set(range(n))
        assert (col[~active] == n).all()  # inactive: an extra category
        assert enc.types[j] == (n + 1 if conditional else n)
    else:
        assert ((col[active] >= 0) & (col[active] <= 1)).all()
        assert (col[~active] == -1).all()  # inactive: outside the active range
        assert enc.types[j] == 0


def test_numeric_values_are_normalised_in_log_space_and_ordinals_keep_their_order():
    cs = ConfigurationSpace({"lr": (1e-4, 1.0), "n": (0, 10)})
    cs.add(Float("loglr", (1e-4, 1.0), log=True))
    cs.add(OrdinalHyperparameter("size", ["s", "m", "l"]))
    enc = SpaceEncoder(cs)
    config = Configuration(cs, {"lr": 0.5, "n": 5, "loglr": 1e-2, "size": "l"})
    x = dict(zip(enc.names, enc.encode_configs([config])[0]))
    assert x["loglr"] == pytest.approx(0.5)  # 1e-2 is half-way between 1e-4 and 1 in log space
    assert x["n"] == pytest.approx(0.5)
    assert x["lr"] == pytest.approx((0.5 - 1e-4) / (1 - 1e-4))
    sizes = [enc.encode_configs([Configuration(cs, {**dict(config), "size": s})])[0][enc.names.index("size")]
             for s in ["s", "m", "l"]]
    assert sizes == [0.0, 0.5, 1.0]


def test_mixed_conditional_space_round_trips():
    cs = mixed_space(seed=3)
    configs = cs.sample_configuration(300)
    X = _round_trip(cs, configs)
    enc = SpaceEncoder(cs)
    assert (X[:, ~enc.categorical] >= -1).all() and (X[:, ~enc.categorical] <= 1).all()
    for j in np.flatnonzero(enc.categorical):
        assert ((X[:, j] >= 0) & (X[:, j] < enc.types[j])).all()


def test_distance_counts_categorical_mismatches_as_one():
    cs = ConfigurationSpace({"c": ["a", "b", "c"], "x": (0.0, 1.0)})
    enc = SpaceEncoder(cs)
    X = enc.encode_configs([Configuration(cs, {"c": "a", "x": 0.0}), Configuration(cs, {"c": "c", "x": 0.5})])
    np.testing.assert_allclose(enc.distance_sq(X, X[0]), [0.0, 1.0 + 0.25])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=spaces())
def test_random_spaces_round_trip(space):
    _round_trip(space, space.sample_configuration(20))
