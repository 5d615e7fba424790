"""Bracket rules: stage budgets and bracket sizes, pure functions of (min_budget, max_budget, eta).

The golden table is Algorithm 1 of Li et al. (JMLR 2018) for R = 81, eta = 3, as SMAC3 2.x,
dask-ml and NNI compute it; the "hpbandster" rule is the variant of HpBandSter and SMAC3 1.x.
"""

from __future__ import annotations

import math

import pytest

from smacish import Hyperband, SuccessiveHalving
from smacish.intensifiers import hyperband_brackets, stage_budgets, successive_halving_schedule
from smacish.intensifiers._brackets import bracket_sizes, max_stage

GOLDEN_R81_ETA3 = [
    [(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)],
    [(34, 3.0), (11, 9.0), (3, 27.0), (1, 81.0)],
    [(15, 9.0), (5, 27.0), (1, 81.0)],
    [(8, 27.0), (2, 81.0)],
    [(5, 81.0)],
]

HPBANDSTER_R81_ETA3 = [
    [(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)],
    [(27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)],
    [(9, 9.0), (3, 27.0), (1, 81.0)],
    [(6, 27.0), (2, 81.0)],
    [(5, 81.0)],
]

GOLDEN_R16_ETA2 = [
    [(16, 1.0), (8, 2.0), (4, 4.0), (2, 8.0), (1, 16.0)],
    [(10, 2.0), (5, 4.0), (2, 8.0), (1, 16.0)],
    [(7, 4.0), (3, 8.0), (1, 16.0)],
    [(5, 8.0), (2, 16.0)],
    [(5, 16.0)],
]


# ---------------------------------------------------------------------- the golden table
def test_golden_hyperband_table_for_r81_eta3():
    assert hyperband_brackets(1, 81, 3) == GOLDEN_R81_ETA3


def test_golden_table_has_206_trials():
    assert sum(n for bracket in hyperband_brackets(1, 81, 3) for n, _ in bracket) == 206


def test_golden_table_has_143_configurations():
    assert sum(bracket[0][0] for bracket in hyperband_brackets(1, 81, 3)) == 143


def test_hyperband_uses_the_golden_table():
    assert Hyperband(min_budget=1, max_budget=81, eta=3).schedules == GOLDEN_R81_ETA3


def test_every_bracket_ends_on_max_budget():
    assert all(bracket[-1][1] == 81.0 for bracket in hyperband_brackets(1, 81, 3))


def test_each_bracket_starts_one_rung_higher_than_the_previous():
    assert [bracket[0][1] for bracket in hyperband_brackets(1, 81, 3)] == [1.0, 3.0, 9.0, 27.0, 81.0]


def test_stage_sizes_shrink_by_eta_within_a_bracket():
    for bracket in hyperband_brackets(1, 81, 3):
        sizes = [n for n, _ in bracket]
        assert sizes[1:] == [sizes[0] // 3**i for i in range(1, len(sizes))]


# ---------------------------------------------------------------------- the hpbandster rule
def test_hpbandster_rule_first_stages_are_81_27_9_6_5():
    assert [b[0][0] for b in hyperband_brackets(1, 81, 3, rule="hpbandster")] == [81, 27, 9, 6, 5]


def test_hpbandster_rule_full_table():
    assert hyperband_brackets(1, 81, 3, rule="hpbandster") == HPBANDSTER_R81_ETA3


def test_both_rules_use_the_same_budgets():
    li = [[b for _, b in bracket] for bracket in hyperband_brackets(1, 81, 3)]
    hp = [[b for _, b in bracket] for bracket in hyperband_brackets(1, 81, 3, rule="hpbandster")]
    assert li == hp


@pytest.mark.parametrize("rule", ["li", "hpbandster"])
def test_brackets_are_sized_by_the_one_bracket_size_rule(rule):
    sizes = [[n for n, _ in bracket] for bracket in hyperband_brackets(1, 81, 3, rule=rule)]
    assert sizes == [bracket_sizes(s, 4, 3, rule) for s in range(4, -1, -1)]


def test_unknown_bracket_rule_is_refused_with_the_accepted_rules():
    with pytest.raises(ValueError, match=r"'paper'.*'li', 'hpbandster'"):
        bracket_sizes(2, 4, 3, rule="paper")


# ---------------------------------------------------------------------- eta = 2
def test_eta2_table_for_r16():
    assert hyperband_brackets(1, 16, 2) == GOLDEN_R16_ETA2


def test_eta2_budgets_double():
    assert stage_budgets(1, 16, 2) == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_eta2_successive_halving_keeps_half():
    assert successive_halving_schedule(1, 8, 2) == [(8, 1.0), (4, 2.0), (2, 4.0), (1, 8.0)]


# ---------------------------------------------------------------------- real-valued budgets
def test_fractional_budgets_from_0_1_to_1():
    assert stage_budgets(0.1, 1.0, 3) == pytest.approx([1 / 9, 1 / 3, 1.0], rel=1e-12)


def test_fractional_schedule_from_0_1_to_1():
    assert hyperband_brackets(0.1, 1.0, 3) == [
        [(9, pytest.approx(1 / 9)), (3, pytest.approx(1 / 3)), (1, 1.0)],
        [(5, pytest.approx(1 / 3)), (1, 1.0)],
        [(3, 1.0)],
    ]


@pytest.mark.parametrize(
    "min_budget, max_budget, eta",
    [(0.1, 1.0, 3), (0.1, 0.9, 3), (1 / 27, 1.0, 3), (0.3, 8.1, 3), (0.001, 1.0, 10),
     (1, 81, 3), (1, 100, 3), (0.7, 80.99, 3), (1, 27, 1.5), (0.1, 1.0, 2.5)],
)
def test_last_budget_is_exactly_max_budget(min_budget, max_budget, eta):
    assert stage_budgets(min_budget, max_budget, eta)[-1] == max_budget


@pytest.mark.parametrize(
    "min_budget, max_budget, eta",
    [(0.1, 1.0, 3), (0.1, 0.9, 3), (1 / 27, 1.0, 3), (0.3, 8.1, 3), (0.001, 1.0, 10),
     (1, 100, 3), (1, 27, 1.5), (0.1, 1.0, 2.5)],
)
def test_first_budget_is_at_least_min_budget(min_budget, max_budget, eta):
    assert stage_budgets(min_budget, max_budget, eta)[0] >= min_budget * (1 - 1e-12)


@pytest.mark.parametrize(
    "min_budget, max_budget, eta, n_stages",
    [(1 / 27, 1.0, 3, 4), (0.3, 8.1, 3, 4), (0.001, 1.0, 10, 4), (0.125, 1.0, 2, 4), (1, 81, 3, 5)],
)
def test_ratio_a_power_of_eta_starts_on_min_budget(min_budget, max_budget, eta, n_stages):
    """1 / (1/27) is 27.000000000000004 in floating point: the rung count must not lose one."""
    budgets = stage_budgets(min_budget, max_budget, eta)
    assert len(budgets) == n_stages
    assert budgets[0] == pytest.approx(min_budget, rel=1e-12)


def test_budgets_of_r81_are_exact_integers_without_drift():
    assert stage_budgets(1, 81, 3) == [1.0, 3.0, 9.0, 27.0, 81.0]


@pytest.mark.parametrize("max_budget, s_max", [(80, 3), (81, 4), (82, 4), (242, 4), (243, 5)])
def test_max_stage_is_floor_of_log_eta(max_budget, s_max):
    assert max_stage(1, max_budget, 3) == s_max


def test_budgets_grow_by_eta():
    budgets = stage_budgets(0.1, 8.1, 3)
    assert [b2 / b1 for b1, b2 in zip(budgets, budgets[1:])] == pytest.approx([3.0] * (len(budgets) - 1))


def test_equal_min_and_max_budget_is_a_single_rung():
    assert hyperband_brackets(5, 5, 3) == [[(1, 5.0)]]


# ---------------------------------------------------------------------- instance budgets
def test_instance_budgets_are_whole_numbers():
    assert stage_budgets(1, 10, 3, integer=True) == [1.0, 3.0, 10.0]


def test_instance_budgets_end_on_every_pair():
    assert stage_budgets(1, 20, 2, integer=True) == [1.0, 2.0, 5.0, 10.0, 20.0]


def test_instance_budget_hyperband_table():
    assert hyperband_brackets(1, 10, 3, integer=True) == [
        [(9, 1.0), (3, 3.0), (1, 10.0)],
        [(5, 3.0), (1, 10.0)],
        [(3, 10.0)],
    ]


def test_instance_budgets_are_at_least_one_pair():
    assert stage_budgets(0.2, 3, 3, integer=True)[0] == 1.0


def test_instance_mode_intensifier_counts_pairs():
    sh = SuccessiveHalving(instances=[f"i{k}" for k in range(5)], n_seeds=2)
    assert sh.budgets == [1.0, 3.0, 10.0]


# ---------------------------------------------------------------------- successive halving
def test_successive_halving_is_the_first_bracket():
    assert successive_halving_schedule(1, 81, 3) == GOLDEN_R81_ETA3[0]


def test_num_initial_challengers_sets_stage_zero():
    assert successive_halving_schedule(1, 81, 3, n_initial=100) == [
        (100, 1.0), (33, 3.0), (11, 9.0), (3, 27.0), (1, 81.0)
    ]


def test_few_initial_challengers_keep_at_least_one_per_stage():
    assert successive_halving_schedule(1, 27, 3, n_initial=5) == [(5, 1.0), (1, 3.0), (1, 9.0), (1, 27.0)]


def test_num_initial_challengers_with_instance_budgets():
    assert successive_halving_schedule(1, 10, 3, n_initial=6, integer=True) == [(6, 1.0), (2, 3.0), (1, 10.0)]


def test_successive_halving_class_takes_num_initial_challengers():
    sh = SuccessiveHalving(min_budget=1, max_budget=9, eta=3, num_initial_challengers=12)
    assert sh.schedules == [[(12, 1.0), (4, 3.0), (1, 9.0)]]


def test_successive_halving_reproduces_each_hyperband_bracket():
    """A bracket of the li rule is successive halving from its first budget with its first size."""
    for bracket in GOLDEN_R81_ETA3:
        (n0, b0) = bracket[0]
        assert successive_halving_schedule(b0, 81, 3, n_initial=n0) == bracket


def test_schedule_budgets_are_floats():
    assert all(isinstance(b, float) and not math.isnan(b) for b in stage_budgets(1, 81, 3, integer=True))
