"""Carrying an earlier run's trials over into a new run's space (``Optimizer(warmstart=...)``)."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ConfigSpace import Configuration, ConfigurationSpace

from smacish.runhistory import RunHistory
from smacish.trial import TrialInfo, TrialValue


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
