"""The statistics of the comparisons: paired by seed, smacish's default against one peer's default.

Per problem, each seed gives one ratio ``max(ours, floor) / max(peer, floor)`` of final
regrets (or test errors), ``floor`` the problem's noise level: below it a difference is noise.
We report the geometric mean of the ratios (below 1: smacish ahead), a two-sided Wilcoxon
signed-rank p-value on their logarithms, and a bootstrap 95 % interval of the geometric mean
(seeds resampled). Over all problems: the same on every (problem, seed) pair, the bootstrap
resampling seeds within each problem, plus the range of the geometric mean when any one
problem is left out (a headline carried by one problem shows up there).

The seeds: :data:`DEV_SEEDS` for every tuning decision, :data:`HELDOUT_SEEDS` for the report
only. No decision may look at a held-out result; the default is fixed before they run.

>>> c = compare({0: 0.1, 1: 0.2, 2: 0.4}, {0: 0.2, 1: 0.4, 2: 0.8}, floor=0.01)
>>> round(c.ratio, 3), c.wins, c.losses, c.n
(0.5, 3, 0, 3)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

DEV_SEEDS: Tuple[int, ...] = tuple(range(30))
HELDOUT_SEEDS: Tuple[int, ...] = tuple(range(1000, 1030))


@dataclass(frozen=True)
class Comparison:
    """smacish against one peer: ``ratio`` the geometric mean of the paired ratios, ``low`` and
    ``high`` its bootstrap 95 % interval, ``p`` the two-sided Wilcoxon signed-rank p-value,
    ``wins`` / ``losses`` / ``ties`` the pairs where smacish is lower / higher / level, ``n``
    the pairs. ``loo`` (overall only): the lowest and highest ratio with one problem left out."""

    ratio: float
    low: float
    high: float
    p: float
    wins: int
    losses: int
    ties: int
    n: int
    loo: Optional[Tuple[float, float]] = None

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def significant(self) -> bool:
        return self.p < 0.05


def log_ratios(ours: Mapping[int, float], peer: Mapping[int, float], floor: float) -> np.ndarray:
    """``log(max(ours, floor) / max(peer, floor))`` for every seed both have, in seed order."""
    if not floor > 0:
        raise ValueError(f"floor is {floor!r}, but must be > 0 (the problem's noise level)")
    seeds = sorted(set(ours) & set(peer))
    a = np.maximum(np.array([ours[s] for s in seeds], dtype=float), floor)
    b = np.maximum(np.array([peer[s] for s in seeds], dtype=float), floor)
    return np.log(a) - np.log(b)


def wilcoxon_p(d: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of ``d`` (zeros dropped); 1 when nothing is left."""
    from scipy.stats import wilcoxon

    d = np.asarray(d, dtype=float)
    d = d[np.abs(d) > 1e-12]
    if len(d) == 0:
        return 1.0
    return float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def _summary(groups: Sequence[np.ndarray], n_boot: int, seed: int) -> Comparison:
    d = np.concatenate(groups) if groups else np.empty(0)
    if len(d) == 0:
        return Comparison(math.nan, math.nan, math.nan, 1.0, 0, 0, 0, 0)
    rng = np.random.default_rng(seed)
    boot = np.zeros(n_boot)
    for g in groups:  # resample seeds within each problem: every problem keeps its weight
        boot += rng.choice(g, size=(n_boot, len(g)), replace=True).sum(axis=1)
    boot /= len(d)
    low, high = np.exp(np.percentile(boot, [2.5, 97.5]))
    return Comparison(
        ratio=float(np.exp(d.mean())), low=float(low), high=float(high), p=wilcoxon_p(d),
        wins=int((d < -1e-12).sum()), losses=int((d > 1e-12).sum()), ties=int((np.abs(d) <= 1e-12).sum()),
        n=len(d),
    )


def compare(ours: Mapping[int, float], peer: Mapping[int, float], floor: float,
            n_boot: int = 2000, seed: int = 0) -> Comparison:
    """One problem: smacish's final values by seed against a peer's."""
    return _summary([log_ratios(ours, peer, floor)], n_boot, seed)


def compare_overall(per_problem: Mapping[str, Tuple[Mapping[int, float], Mapping[int, float], float]],
                    n_boot: int = 2000, seed: int = 0) -> Comparison:
    """All problems: ``{problem: (ours by seed, peer by seed, floor)}``."""
    groups = {name: log_ratios(o, p, f) for name, (o, p, f) in per_problem.items()}
    groups = {k: g for k, g in groups.items() if len(g)}
    result = _summary(list(groups.values()), n_boot, seed)
    if len(groups) > 1:
        rest = [float(np.exp(np.concatenate([g for k, g in groups.items() if k != out]).mean())) for out in groups]
        result = Comparison(**{**asdict(result), "loo": (min(rest), max(rest))})
    return result


def fmt_comparison(c: Comparison) -> str:
    """``0.62x [0.45, 0.85], p = 0.003, 21/9`` (wins/losses)."""
    if c.n == 0:
        return "n/a"
    text = f"{c.ratio:.2f}x [{c.low:.2f}, {c.high:.2f}], p = {c.p:.2g}, {c.wins}/{c.losses}"
    if c.loo is not None:
        text += f", leave-one-out {c.loo[0]:.2f}-{c.loo[1]:.2f}"
    return text


def final_by_seed(runs: Sequence[Dict[str, float]]) -> Dict[int, float]:
    """``{seed: final value}`` from ``[{"seed": s, "final": v}, ...]``; a seed twice is an error
    (it would count one pair twice)."""
    out: Dict[int, float] = {}
    for r in runs:
        if r["seed"] in out:
            raise ValueError(f"seed {r['seed']} appears twice; each seed is one pair")
        out[int(r["seed"])] = float(r["final"])
    return out
