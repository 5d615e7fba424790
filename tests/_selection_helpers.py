"""Search spaces and checks shared by the tests of smacish.selection."""

from __future__ import annotations

import contextlib

import numpy as np
from ConfigSpace import (
    Beta,
    Categorical,
    Configuration,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    ForbiddenInClause,
    InCondition,
    Integer,
    Normal,
    NotEqualsCondition,
    OrConjunction,
    OrdinalHyperparameter,
)
from hypothesis import strategies as st


def mixed_space(seed: int = 0) -> ConfigurationSpace:
    """Every hyperparameter type, nested and OR-ed conditions, and forbidden clauses."""
    cs = ConfigurationSpace(seed=seed)
    cs.add([
        Categorical("algo", ["svm", "tree", "knn"]),
        Categorical("scale", [True, False]),
        OrdinalHyperparameter("size", ["s", "m", "l", "xl"]),
        Float("lr", (1e-5, 1.0), log=True),
        Float("mom", (0.0, 1.0)),
        Float("prior", (0.0, 10.0), distribution=Normal(5.0, 2.0)),
        Float("frac", (0.0, 1.0), distribution=Beta(2.0, 3.0)),
        Integer("layers", (1, 8)),
        Integer("units", (16, 1024), log=True),
        Constant("fixed", "yes"),
        Categorical("kernel", ["rbf", "poly", "linear"]),
        Integer("degree", (2, 5)),
        Float("gamma", (1e-4, 10.0), log=True),
        Integer("depth", (1, 20)),
        Integer("k", (1, 30)),
        Constant("only_tree", 3),
    ])
    cs.add([
        EqualsCondition(cs["kernel"], cs["algo"], "svm"),
        EqualsCondition(cs["degree"], cs["kernel"], "poly"),
        InCondition(cs["gamma"], cs["kernel"], ["rbf", "poly"]),
        NotEqualsCondition(cs["depth"], cs["algo"], "svm"),
        OrConjunction(EqualsCondition(cs["k"], cs["algo"], "knn"),
                      EqualsCondition(cs["k"], cs["size"], "xl")),
        EqualsCondition(cs["only_tree"], cs["algo"], "tree"),
    ])
    cs.add([
        ForbiddenAndConjunction(ForbiddenEqualsClause(cs["algo"], "knn"),
                                ForbiddenEqualsClause(cs["size"], "s")),
        ForbiddenInClause(cs["layers"], [7, 8]),
    ])
    return cs


def assert_valid(config: Configuration, space: ConfigurationSpace) -> None:
    """The configuration is valid in ``space`` and its vector holds its values (ConfigSpace
    keeps 13 significant digits of a float value, so vectors agree to rounding)."""
    assert config.config_space is space or config.config_space == space
    config.check_valid_configuration()  # activity, legal values of children, forbidden clauses
    values = dict(config)
    rebuilt = Configuration(space, values=values)
    assert dict(rebuilt) == values
    np.testing.assert_allclose(rebuilt.get_array(), config.get_array(), rtol=0, atol=1e-6)
    for name, value in values.items():
        assert space[name].legal_value(value), (name, value)


@st.composite
def spaces(draw) -> ConfigurationSpace:
    """Random spaces: 1-7 hyperparameters of every type, random conditions on categorical
    parents, maybe a forbidden clause."""
    seed = draw(st.integers(0, 2**16))
    n = draw(st.integers(1, 7))
    hps = []
    for i in range(n):
        kind = draw(st.sampled_from(["float", "logfloat", "int", "logint", "cat", "ord", "const", "normal"]))
        name = f"h{i}"
        if kind == "float":
            lo = draw(st.floats(-10, 10))
            hps.append(Float(name, (lo, lo + draw(st.floats(0.1, 100)))))
        elif kind == "logfloat":
            lo = draw(st.floats(1e-6, 1.0))
            hps.append(Float(name, (lo, lo * draw(st.floats(2.0, 1e4))), log=True))
        elif kind == "int":
            lo = draw(st.integers(-5, 5))
            hps.append(Integer(name, (lo, lo + draw(st.integers(1, 20)))))
        elif kind == "logint":
            lo = draw(st.integers(1, 10))
            hps.append(Integer(name, (lo, lo * draw(st.integers(2, 100))), log=True))
        elif kind == "cat":
            hps.append(Categorical(name, [f"c{j}" for j in range(draw(st.integers(1, 4)))]))
        elif kind == "ord":
            hps.append(OrdinalHyperparameter(name, [f"o{j}" for j in range(draw(st.integers(1, 4)))]))
        elif kind == "const":
            hps.append(Constant(name, "k"))
        else:
            lo = draw(st.floats(-5, 0))
            hps.append(Float(name, (lo, lo + 10.0), distribution=Normal(lo + 5.0, draw(st.floats(0.5, 5)))))
    # conditions: a later hyperparameter may depend on an earlier categorical with >= 2 choices
    accepted: list = []
    for j in range(1, n):
        candidates = [h for h in hps[:j] if hasattr(h, "choices") and len(h.choices) >= 2]
        if candidates and draw(st.booleans()):
            parent = draw(st.sampled_from(candidates))
            value = draw(st.sampled_from(list(parent.choices)))
            kind = draw(st.sampled_from(["eq", "neq", "in"]))
            if kind == "eq":
                cond = EqualsCondition(hps[j], parent, value)
            elif kind == "neq":
                cond = NotEqualsCondition(hps[j], parent, value)
            else:
                cond = InCondition(hps[j], parent, list(parent.choices)[: 2])
            # tried on a fresh space: a refused add can leave a space half-changed (ConfigSpace
            # registers the condition before it finds the default configuration invalid)
            with contextlib.suppress(Exception):  # e.g. the child already has a condition
                trial = ConfigurationSpace(seed=seed)
                trial.add(hps)
                trial.add(*accepted, cond)
                accepted.append(cond)
    cs = ConfigurationSpace(seed=seed)
    cs.add(hps)
    if accepted:
        cs.add(*accepted)
    conditional = set(cs.conditional_hyperparameters)
    cats = [h for h in hps if hasattr(h, "choices") and len(h.choices) >= 2 and h.name not in conditional]
    if cats and draw(st.booleans()):
        h = draw(st.sampled_from(cats))
        with contextlib.suppress(Exception):  # ConfigSpace refuses to forbid the default
            cs.add(ForbiddenEqualsClause(h, list(h.choices)[-1]))
    return cs
