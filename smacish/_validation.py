"""The checks of the Optimizer's arguments, as small pure functions: each returns or raises
one message that says what is wrong and how to fix it."""

from __future__ import annotations

from typing import Any, Collection, List, Optional

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from smacish._io import config_key
from smacish._seeding import seed_error
from smacish.runners._execute import parse_result
from smacish.trial import StatusType, TrialInfo, TrialValue, check_continued


def is_positive_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


def optimizer_errors(configspace: Any, intensifier: Any, selector: Any, seed: Any, n_workers: Any,
                     selectors: Collection[str]) -> List[str]:
    """What is wrong with ``Optimizer(...)``'s arguments (empty: nothing).

    >>> optimizer_errors(ConfigurationSpace({"x": (0.0, 1.0)}), object(), "rf", 0, 0, ["rf"])[1]
    'n_workers is 0, but must be an int >= 1'
    """
    from smacish.intensifiers.parallel_scheduler import ParallelScheduler

    errors = []
    if not isinstance(configspace, ConfigurationSpace):
        errors.append(f"configspace must be a ConfigSpace ConfigurationSpace, got {type(configspace).__name__}")
    elif len(list(configspace.keys())) == 0:
        errors.append("configspace has no hyperparameters; add at least one")
    if not isinstance(intensifier, ParallelScheduler):
        errors.append(f"intensifier must be a SuccessiveHalving or Hyperband, got {type(intensifier).__name__}")
    if isinstance(selector, str) and selector not in selectors:
        errors.append(f"selector is {selector!r}, but must be one of {sorted(selectors)} or an object with propose()")
    elif not isinstance(selector, str) and not callable(getattr(selector, "propose", None)):
        errors.append(f"selector {selector!r} has no propose(runhistory, pending) method")
    if seed_error(seed):
        errors.append(seed_error(seed))
    if not is_positive_int(n_workers):
        errors.append(f"n_workers is {n_workers!r}, but must be an int >= 1")
    return errors


def direction_errors(direction: Any, intensifier: Any, warmstart: Any) -> List[str]:
    """What is wrong with ``Optimizer(direction=...)`` given the intensifier and warm start."""
    if direction not in ("minimize", "maximize"):
        return [f"direction is {direction!r}, but must be 'minimize' or 'maximize'"]
    errors = []
    if direction == "maximize" and getattr(intensifier, "run_obj_time", False):
        errors.append("direction='maximize' with run_obj_time=True: a runtime objective is minimised; "
                      "leave direction out")
    old = getattr(warmstart, "direction", direction)
    if old != direction:
        errors.append(f"the warm-start RunHistory was a run to {old} and this one is to {direction}; "
                      "warm-start from a run in the same direction")
    return errors


def objectives_errors(objectives: Any, intensifier: Any, warmstart: Any) -> List[str]:
    """What is wrong with ``Optimizer(objectives=...)`` given the intensifier and warm start."""
    from smacish.runhistory import objectives_error

    problem = objectives_error(objectives)
    if problem:
        return [problem]
    errors = []
    if objectives is not None and getattr(intensifier, "run_obj_time", False):
        errors.append("objectives=[...] with run_obj_time=True: adaptive capping races one runtime "
                      "objective; leave one of them out")
    old = getattr(warmstart, "objectives", None)
    if warmstart is not None and old != (list(objectives) if objectives is not None else None):
        errors.append(f"the warm-start RunHistory has the objectives {old} and this run {objectives}; "
                      "warm-start from a run with the same objectives")
    return errors


def instance_feature_errors(features: Any, intensifier: Any, selector: Any = "rf") -> List[str]:
    """What is wrong with ``Optimizer(instance_features=...)``: a vector of the same length of
    finite numbers for every one of the intensifier's instances, and no other, for a selector
    that models them (the random forest)."""
    if features is None:
        return []
    if selector != "rf" and (isinstance(selector, str) or not hasattr(selector, "use_instance_features")):
        shown = repr(selector) if isinstance(selector, str) else type(selector).__name__
        return [f"instance_features are inputs of the random forest (selector='rf'); {shown} cannot use them"]
    instances = getattr(intensifier, "instances", None)
    if instances is None:
        return ["instance_features need an intensifier with instances= (budgets that are instances)"]
    if not isinstance(features, dict):
        return [f"instance_features must be a dict {{instance: [floats]}}, got {type(features).__name__}"]
    errors = []
    missing = [i for i in instances if i not in features]
    unknown = [i for i in features if i not in instances]
    if missing:
        errors.append(f"instance_features has no vector for instance(s) {missing}; give one for each instance")
    if unknown:
        errors.append(f"instance_features names {unknown}, which are not among the intensifier's instances")
    lengths = {}
    for name, vector in features.items():
        try:
            values = np.asarray(vector, dtype=float)
        except (TypeError, ValueError):
            errors.append(f"instance_features[{name!r}] is {vector!r}, but must be a list of numbers")
            continue
        if values.ndim != 1 or not len(values) or not np.all(np.isfinite(values)):
            errors.append(f"instance_features[{name!r}] is {vector!r}, but must be a non-empty list of finite numbers")
            continue
        lengths.setdefault(len(values), []).append(name)
    if len(lengths) > 1:
        shown = ", ".join(f"{n} for {names[:3]}" for n, names in sorted(lengths.items()))
        errors.append(f"instance_features vectors differ in length ({shown}); give every instance the same features")
    return errors


def check_optimize_args(max_retries: Any, memory_limit: Any, n_workers: Optional[Any]) -> None:
    """Raise ValueError for the first bad argument of ``optimize``."""
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries is {max_retries!r}, but must be an int >= 0")
    if memory_limit is not None and not (isinstance(memory_limit, (int, float)) and memory_limit > 0):
        raise ValueError(f"memory_limit is {memory_limit!r}, but must be None or a number of MB > 0")
    if n_workers is not None and not is_positive_int(n_workers):
        raise ValueError(f"n_workers is {n_workers!r}, but must be None or an int >= 1")


def as_configuration(space: ConfigurationSpace, value: Any) -> Configuration:
    """``value`` (a Configuration of ``space`` or a dict of its values) as a valid Configuration
    of ``space``; a ValueError that says what to fix otherwise.

    >>> as_configuration(ConfigurationSpace({"x": (0.0, 1.0)}), {"x": 2.0})
    Traceback (most recent call last):
    ...
    ValueError: configuration {'x': 2.0}: x is 2.0, but must be in [0.0, 1.0]
    """
    if isinstance(value, Configuration):
        if value.config_space != space:
            raise ValueError(f"configuration {dict(value)!r} belongs to another configuration space; pass "
                             "its values as a dict, or a Configuration of this Optimizer's space")
        values = dict(value)
    elif isinstance(value, dict):
        values = value
    else:
        raise ValueError(f"a configuration must be a Configuration or a dict of values, got {type(value).__name__}")
    names = list(space.keys())
    unknown = sorted(set(values) - set(names), key=str)
    if unknown:
        raise ValueError(f"configuration {values!r}: unknown hyperparameter(s) {unknown}; the space has {names}")
    for name, v in values.items():
        hp = space[name]
        try:
            legal = hp.legal_value(v)
        except (TypeError, ValueError):
            legal = False
        if not legal:
            if hasattr(hp, "choices"):
                allowed = f"one of {list(hp.choices)}"
            elif hasattr(hp, "sequence"):
                allowed = f"one of {list(hp.sequence)}"
            elif hasattr(hp, "lower"):
                allowed = f"in [{hp.lower}, {hp.upper}]"
            else:
                allowed = f"{getattr(hp, 'value', 'a legal value')!r}"
            raise ValueError(f"configuration {values!r}: {name} is {v!r}, but must be {allowed}")
    try:
        config = Configuration(space, values=values)
        config.check_valid_configuration()
    except Exception as err:  # noqa: BLE001 - ConfigSpace raises several kinds (inactive, forbidden, missing)
        raise ValueError(f"configuration {values!r} is not valid in the space ({type(err).__name__}: "
                         f"{' '.join(str(err).split())}); give every active hyperparameter a legal value") from None
    return config


def told_value(asked: Any, info: Any, value: Any, runhistory: Any, aborted: Collection[Any]) -> Any:
    """The TrialValue that ``tell(info, value)`` records for the pending trial ``asked`` (None:
    ``info`` is pending nowhere), or a ValueError that says what is wrong.

    >>> told_value(None, "t", 0.5, None, ())
    Traceback (most recent call last):
    ...
    ValueError: trial 't' was never asked; tell only trials from ask()
    """
    if asked is None or config_key(asked.config) != config_key(info.config):
        if isinstance(info, TrialInfo) and info in runhistory:
            raise ValueError(f"trial {info.key} was told already; each trial is told once")
        raise ValueError(f"trial {getattr(info, 'key', info)!r} was never asked; tell only trials from ask()")
    if not isinstance(value, TrialValue):
        cost, extra = parse_result(value, source=f"tell({info.key}, ...) got", objectives=runhistory.objectives)
        value = TrialValue(cost=cost, additional_info=extra)
    if value.status is StatusType.ABORTED and asked in aborted:
        raise ValueError(f"trial {info.key} was aborted already; the next ask() hands it out again")
    if value.status is StatusType.RUNNING:
        raise ValueError(f"trial {info.key} is told with status RUNNING; tell it once it has ended")
    problem = check_continued(asked, value.additional_info) or runhistory.cost_error(value)
    if problem:
        raise ValueError(f"tell({info.key}, ...): {problem}")
    return value


def flag_errors(**flags: Any) -> List[str]:
    """What is wrong with arguments that must be True or False.

    >>> flag_errors(include_default=1)
    ['include_default is 1, but must be True or False']
    """
    return [f"{name} is {value!r}, but must be True or False" for name, value in flags.items()
            if not isinstance(value, bool)]


def as_instance_features(features: Any) -> Any:
    """Checked instance features (see :func:`instance_feature_errors`) as lists of floats, or None."""
    return {name: [float(v) for v in vector] for name, vector in features.items()} if features is not None else None
