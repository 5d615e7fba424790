"""SpaceSampler: bulk random samples and one-exchange neighbours are valid configurations."""

from __future__ import annotations

import numpy as np
from _selection_helpers import assert_valid, mixed_space, spaces
from ConfigSpace import Categorical, ConfigurationSpace, ForbiddenEqualsClause, Integer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smacish.selection._encoding import SpaceEncoder
from smacish.selection._sampling import SpaceSampler


def _configs(space, V):
    enc = SpaceEncoder(space)
    return [enc.to_configuration(v) for v in V]


def test_samples_of_a_conditional_space_with_forbidden_clauses_are_valid():
    cs = mixed_space(seed=0)
    sampler = SpaceSampler(cs, seed=0)
    V = sampler.sample(500)
    assert V.shape == (500, len(cs))
    assert sampler.valid(V).all()
    for config in _configs(cs, V):
        assert_valid(config, cs)
    algo = np.array([c["algo"] for c in _configs(cs, V)])
    assert set(algo) == {"svm", "tree", "knn"}  # every branch of the conditions is sampled


def test_valid_rejects_what_configspace_rejects():
    cs = mixed_space(seed=0)
    sampler = SpaceSampler(cs, seed=0)
    V = sampler.sample(20)
    v = V[np.isnan(V).any(axis=1)][0]  # one with inactive hyperparameters
    j = list(cs.keys()).index("layers")
    bad_forbidden = v.copy()
    bad_forbidden[j] = cs["layers"].to_vector(8)
    bad_illegal = v.copy()
    bad_illegal[j] = 0.123  # between two integers
    inactive_set = v.copy()
    inactive_set[np.isnan(v)] = 0.0
    assert sampler.valid(v)[0]
    assert not sampler.valid(bad_forbidden)[0]
    assert not sampler.valid(bad_illegal)[0]
    assert not sampler.valid(inactive_set)[0]


def test_neighbours_change_exactly_one_shared_active_hyperparameter():
    cs = mixed_space(seed=1)
    sampler = SpaceSampler(cs, seed=1)
    V = sampler.sample(30)
    N, parent = sampler.neighbours(V)
    assert len(N) > 30 and sampler.valid(N).all()
    for config in _configs(cs, N[:200]):
        assert_valid(config, cs)
    both = ~np.isnan(N) & ~np.isnan(V[parent])
    changed = (N != V[parent]) & both
    # a changed parent may switch children on or off; otherwise exactly one value moves
    assert ((changed.sum(axis=1) == 1) | (np.isnan(N) != np.isnan(V[parent])).any(axis=1)).all()
    assert (changed.sum(axis=1) <= 1).all()


def test_categorical_neighbourhood_is_every_other_value_and_integers_move():
    cs = ConfigurationSpace({"c": ["a", "b", "c", "d"]})
    cs.add(Integer("n", (0, 3)))
    sampler = SpaceSampler(cs, seed=0)
    v = np.array([[1.0, cs["n"].to_vector(3)]])
    N, _ = sampler.neighbours(v)
    j_c, j_n = list(cs.keys()).index("c"), list(cs.keys()).index("n")
    cats = N[N[:, j_n] == v[0, j_n], j_c]
    assert sorted(cats) == [0.0, 2.0, 3.0]
    ints = N[N[:, j_c] == v[0, j_c], j_n]
    assert len(ints) and (ints != v[0, j_n]).all()
    assert set(cs["n"].to_value(ints)) <= {0, 1, 2}


def test_forbidden_neighbours_are_dropped():
    cs = ConfigurationSpace({"c": ["a", "b", "c"], "d": ["x", "y"]})
    cs.add(ForbiddenEqualsClause(cs["c"], "c"))
    sampler = SpaceSampler(cs, seed=0)
    V = sampler.sample(50)
    assert {_c["c"] for _c in _configs(cs, V)} == {"a", "b"}
    N, _ = sampler.neighbours(V)
    assert "c" not in {_c["c"] for _c in _configs(cs, N)}


def test_same_seed_same_samples():
    cs = mixed_space()
    a, b = SpaceSampler(cs, seed=5), SpaceSampler(cs, seed=5)
    np.testing.assert_array_equal(a.sample(100), b.sample(100))
    np.testing.assert_array_equal(a.neighbours(a.sample(3))[0], b.neighbours(b.sample(3))[0])
    assert not np.array_equal(SpaceSampler(cs, seed=6).sample(100), SpaceSampler(cs, seed=5).sample(100))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=spaces(), seed=st.integers(0, 100))
def test_random_spaces_samples_and_neighbours_are_valid(space, seed):
    sampler = SpaceSampler(space, seed=seed)
    V = sampler.sample(25)
    assert len(V) == 25
    N, parent = sampler.neighbours(V)
    assert ((parent >= 0) & (parent < len(V))).all()
    for config in _configs(space, np.vstack([V, N[:40]])):
        assert_valid(config, space)


def test_sampling_a_single_categorical_with_one_value_works():
    cs = ConfigurationSpace()
    cs.add(Categorical("only", ["x"]))
    sampler = SpaceSampler(cs, seed=0)
    V = sampler.sample(3)
    assert V.shape == (3, 1)
    assert len(sampler.neighbours(V)[0]) == 0


@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, np.inf, -np.inf, np.nan]), max_size=30),
       st.integers(0, 35))
def test_top_indices_is_the_stable_argsort_prefix(values, k):
    from smacish.selection._maximizer import top_indices

    v = np.array(values, dtype=float)
    assert top_indices(v, k).tolist() == np.argsort(-v, kind="stable")[:k].tolist()
