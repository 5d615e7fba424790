"""Carrying an earlier run's trials over into a new run's space (``Optimizer(warmstart=...)``), and
the Optimizer's count of them (:class:`WarmStart`), which keeps them out of this run's own."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from ConfigSpace import Configuration, ConfigurationSpace

from smacish.runhistory import RunHistory
from smacish.trial import TrialInfo, TrialValue, charged_budget

if TYPE_CHECKING:  # pragma: no cover
    from smacish.optimizer import Optimizer


def carried_over(previous: RunHistory, space: ConfigurationSpace) -> Tuple[List[Tuple[TrialInfo, TrialValue]], int]:
    """``previous``'s finished trials with their configurations in ``space``, and how many were
    left out. From a different space each configuration is carried over by its values (new
    hyperparameters at their defaults); one that is not valid in ``space`` is left out.

    >>> from ConfigSpace import ConfigurationSpace
    >>> old = RunHistory(ConfigurationSpace({"x": (0.0, 1.0)}, seed=0))
    >>> old.add(TrialInfo(old.configspace.sample_configuration(), budget=1.0), TrialValue(cost=0.5))
    >>> trials, skipped = carried_over(old, ConfigurationSpace({"x": (0.0, 1.0), "y": (0, 3)}))
    >>> sorted(dict(trials[0][0].config)), skipped
    (['x', 'y'], 0)
    """
    if not isinstance(previous, RunHistory):
        raise TypeError(f"warmstart must be a RunHistory, got {type(previous).__name__}")
    same = previous.configspace is None or previous.configspace == space
    moved: Dict[int, Optional[Configuration]] = {}
    trials: List[Tuple[TrialInfo, TrialValue]] = []
    skipped = 0
    for info, value in previous.items():
        cid = previous.config_number(info.config)
        if cid not in moved:
            moved[cid] = _carry_over(info.config, space, same)
        config = moved[cid]
        if config is None:
            skipped += 1
            continue
        trials.append((TrialInfo(config, info.budget, info.instance, info.seed, None, info.cutoff), value))
    return trials, skipped


def _carry_over(config: Configuration, space: ConfigurationSpace, same: bool) -> Optional[Configuration]:
    if same:
        return Configuration(space, vector=config.get_array())
    values = dict(space.get_default_configuration())
    values.update({k: v for k, v in dict(config).items() if k in space})
    try:
        candidate = Configuration(space, values=values, allow_inactive_with_values=True)
        # drop values of hyperparameters that the conditions make inactive, then validate
        active = Configuration(space, vector=candidate.get_array())
        active.check_valid_configuration()
        return active
    except Exception:  # noqa: BLE001 - ConfigSpace raises several kinds for illegal values
        return None


def warm_start(opt: "Optimizer", previous: RunHistory) -> None:
    """Add ``previous``'s finished trials to ``opt`` as data (``Optimizer(warmstart=...)``), and
    warn about those whose configurations are not valid in its space."""
    trials, skipped = carried_over(previous, opt.configspace)
    for info, value in trials:
        opt.add_warmstart_trial(info, value)
    if skipped:
        warnings.warn(f"warmstart: {skipped} trial(s) left out, their configurations are not "
                      "valid in this configuration space", UserWarning, stacklevel=3)  # at Optimizer(...)


class WarmStart:
    """The :class:`~smacish.Optimizer`'s trials of earlier runs: data for its model, not counted
    as this run's (in ``n_asked``, ``budget_spent`` or the limits of ``optimize``)."""

    _n_warm = 0
    _warm_budget = 0.0

    def add_warmstart_trial(self, info: TrialInfo, value: TrialValue) -> None:
        """Add a finished trial of an earlier run as data for this one (not counted in
        :attr:`n_asked` or :attr:`budget_spent`); ``warmstart=`` adds a whole RunHistory."""
        self.runhistory.add(info, value)
        self._n_warm += 1
        self._warm_budget += charged_budget(info, value)
        if self.run_directory is not None:
            self.run_directory.warm(info, value)

    @property
    def n_warmstart_trials(self) -> int:
        """Trials of earlier runs this one was warm-started with."""
        return self._n_warm

    @property
    def warmstart_budget(self) -> float:
        """The budget those warm-start trials spent (not this run's)."""
        return self._warm_budget

    def _set_warmstart_counts(self, n_trials: int, budget: float) -> None:
        """Set the counts a state snapshot kept (``Optimizer.set_state``)."""
        self._n_warm, self._warm_budget = int(n_trials), float(budget)
