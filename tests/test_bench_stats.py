"""The comparison statistics on hand-made inputs whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.stats import (
    DEV_SEEDS, HELDOUT_SEEDS, compare, compare_overall, final_by_seed, fmt_comparison, log_ratios, wilcoxon_p,
)


def test_seed_blocks_are_disjoint_and_the_held_out_one_has_30_seeds():
    assert not set(DEV_SEEDS) & set(HELDOUT_SEEDS)
    assert len(HELDOUT_SEEDS) >= 30


def test_ratios_are_paired_by_seed_and_floored_at_the_noise_level():
    ours = {0: 0.001, 1: 0.5, 2: 2.0, 9: 1.0}  # seed 9 has no pair
    peer = {0: 0.0, 1: 1.0, 2: 1.0, 5: 1.0}
    d = log_ratios(ours, peer, floor=0.01)
    assert np.exp(d).tolist() == pytest.approx([1.0, 0.5, 2.0])  # both under the floor: a tie
    with pytest.raises(ValueError, match="floor"):
        log_ratios(ours, peer, floor=0.0)


def test_wilcoxon_exact_values():
    # ten pairs, all in our favour: exact two-sided p = 2 / 2**10
    assert wilcoxon_p(-np.arange(1, 11, dtype=float)) == pytest.approx(2 / 1024)
    assert wilcoxon_p(np.zeros(7)) == 1.0  # all ties: no evidence either way
    assert wilcoxon_p(np.array([-1.0, 2.0, 3.0, -4.0])) == pytest.approx(1.0)  # ranks balance: W+ = W- = 5


def test_compare_counts_wins_and_gives_a_bootstrap_interval_around_the_ratio():
    ours = {s: 0.5 for s in range(10)}
    peer = {s: 1.0 for s in range(10)}
    ours[3] = 2.0  # one loss
    c = compare(ours, peer, floor=1e-3)
    assert (c.wins, c.losses, c.ties, c.n) == (9, 1, 0, 10)
    assert c.ratio == pytest.approx(math.exp((9 * math.log(0.5) + math.log(2.0)) / 10))
    assert c.low < c.ratio < c.high
    assert c.p < 0.05 and c.significant
    assert compare(ours, peer, floor=1e-3) == c  # seeded: the same figures again
    assert "9/1" in fmt_comparison(c)


def test_overall_pools_pairs_and_reports_the_leave_one_problem_out_range():
    same = ({s: 1.0 for s in range(5)}, {s: 1.0 for s in range(5)}, 0.01)
    ahead = ({s: 0.1 for s in range(5)}, {s: 1.0 for s in range(5)}, 0.01)
    c = compare_overall({"a": same, "b": same, "c": ahead})
    assert c.ratio == pytest.approx(0.1 ** (1 / 3))
    assert c.loo == pytest.approx((0.1 ** 0.5, 1.0))  # without "c" smacish is only level
    assert (c.wins, c.ties, c.n) == (5, 10, 15)
    assert compare_overall({"a": same}).loo is None


def test_a_seed_counted_twice_is_refused():
    with pytest.raises(ValueError, match="seed 3 appears twice"):
        final_by_seed([{"seed": 3, "final": 1.0}, {"seed": 3, "final": 2.0}])
