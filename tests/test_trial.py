"""TrialInfo / TrialValue / StatusType: the vocabulary's validation rules."""

import dataclasses
import math

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace

from smacish import StatusType, TrialInfo, TrialValue


@pytest.fixture
def config():
    space = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    return space.sample_configuration()


# ---------------------------------------------------------------- TrialInfo
def test_trial_info_is_frozen(config):
    info = TrialInfo(config, budget=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.budget = 3.0


def test_equal_trial_infos_hash_equal_and_dedupe_in_a_set(config):
    a = TrialInfo(config, budget=3.0, instance="i1", seed=2, config_id=(0, 1, 4))
    b = TrialInfo(config, budget=3, instance="i1", seed=2, config_id=[0, 1, 4])
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1


def test_trial_infos_differing_in_seed_are_different_keys(config):
    assert TrialInfo(config, seed=1) != TrialInfo(config, seed=2)
    assert TrialInfo(config, seed=1).key != TrialInfo(config, seed=2).key


def test_budget_int_is_stored_as_float(config):
    info = TrialInfo(config, budget=3)
    assert info.budget == 3.0 and type(info.budget) is float


@pytest.mark.parametrize("budget", [np.float64(2.5), np.float32(2.5), np.int64(3), np.int32(3)])
def test_budget_accepts_numpy_scalars(config, budget):
    info = TrialInfo(config, budget=budget)
    assert info.budget == float(budget) and type(info.budget) is float


@pytest.mark.parametrize("budget", ["3", "abc", [3.0], True, object()])
def test_budget_that_is_not_a_number_is_a_type_error_naming_budget(config, budget):
    with pytest.raises(TypeError, match="budget"):
        TrialInfo(config, budget=budget)


@pytest.mark.parametrize("budget", [0, -1.0, math.inf, math.nan])
def test_budget_must_be_finite_and_positive(config, budget):
    with pytest.raises(ValueError, match="budget"):
        TrialInfo(config, budget=budget)


def test_seed_accepts_numpy_integers(config):
    info = TrialInfo(config, seed=np.int64(7))
    assert info.seed == 7 and type(info.seed) is int


@pytest.mark.parametrize("seed", [1.5, "7", True, None])
def test_seed_that_is_not_an_int_is_a_type_error_naming_seed(config, seed):
    with pytest.raises(TypeError, match="seed"):
        TrialInfo(config, seed=seed)


def test_instance_must_be_a_string(config):
    with pytest.raises(TypeError, match="instance"):
        TrialInfo(config, instance=3)


def test_config_must_be_a_configuration(config):
    with pytest.raises(TypeError, match="config"):
        TrialInfo(dict(config))


def test_config_id_is_a_triplet_of_ints(config):
    assert TrialInfo(config, config_id=[np.int64(1), 0, 2]).config_id == (1, 0, 2)
    with pytest.raises(ValueError, match="config_id"):
        TrialInfo(config, config_id=(1, 2))


# ---------------------------------------------------------------- TrialValue
def test_trial_value_is_frozen():
    value = TrialValue(cost=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.cost = 0.1


def test_trial_value_defaults_to_success():
    assert TrialValue(cost=0.5).status is StatusType.SUCCESS


@pytest.mark.parametrize("cost", [math.nan, math.inf, -math.inf])
def test_non_finite_cost_with_success_is_a_value_error_naming_cost(cost):
    with pytest.raises(ValueError, match="cost"):
        TrialValue(cost=cost, status=StatusType.SUCCESS)


@pytest.mark.parametrize("status", [StatusType.CRASHED, StatusType.TIMEOUT, StatusType.MEMORYOUT])
def test_infinite_cost_is_allowed_for_failed_trials(status):
    assert TrialValue(cost=math.inf, status=status).cost == math.inf


def test_nan_cost_is_refused_whatever_the_status():
    with pytest.raises(ValueError, match="NaN"):
        TrialValue(cost=math.nan, status=StatusType.CRASHED)


@pytest.mark.parametrize("time", [-1.0, -1e-9, math.nan])
def test_negative_or_nan_time_is_a_value_error_naming_time(time):
    with pytest.raises(ValueError, match="time"):
        TrialValue(cost=0.5, time=time)


@pytest.mark.parametrize("field", ["cost", "time", "starttime", "endtime"])
def test_numeric_fields_refuse_strings_and_name_the_field(field):
    with pytest.raises(TypeError, match=field):
        TrialValue(**{"cost": 0.5, field: "0.5"})


def test_numeric_fields_accept_numpy_scalars_and_store_floats():
    value = TrialValue(cost=np.float32(0.25), time=np.int64(2), starttime=np.float64(1.0), endtime=np.int32(3))
    assert (value.cost, value.time, value.starttime, value.endtime) == (0.25, 2.0, 1.0, 3.0)
    assert all(type(v) is float for v in (value.cost, value.time, value.starttime, value.endtime))


def test_status_given_as_its_string_value_is_converted():
    assert TrialValue(cost=math.inf, status="CRASHED").status is StatusType.CRASHED


def test_unknown_status_is_a_value_error_listing_the_accepted_statuses():
    with pytest.raises(ValueError, match="status") as err:
        TrialValue(cost=0.5, status="EXPLODED")
    for status in StatusType:
        assert status.value in str(err.value)
    assert "EXPLODED" in str(err.value)


def test_additional_info_must_be_a_dict():
    with pytest.raises(TypeError, match="additional_info"):
        TrialValue(cost=0.5, additional_info=[1, 2])


def test_status_type_is_the_closed_set_from_the_design():
    assert {s.name for s in StatusType} == {"SUCCESS", "CRASHED", "TIMEOUT", "MEMORYOUT", "ABORTED", "RUNNING"}
