"""scikit-learn's ``param_distributions`` as a ConfigurationSpace, and back to parameters.

Lists become ordinal hyperparameters when their values are distinct numbers (so the model
can use their order) and categorical ones otherwise (any objects: estimators, None, ...);
``scipy.stats`` distributions become ranges: ``uniform`` a float range, ``loguniform`` a
log-scaled one, ``randint`` an integer range; other distributions with a finite support are
searched uniformly over it (with a warning); distributions with an infinite support are
refused, since a search needs bounds. A list of dicts (scikit-learn's subspaces) becomes a
choice of subspace with each one's parameters conditional on it.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Dict, List, Mapping

from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, Integer, OrdinalHyperparameter

SUBSPACE = "__subspace__"  # with a list of dicts: which one; the others' names are "i:name"
_LOG = ("loguniform", "reciprocal")
_UNIFORM = ("uniform",)


class ParamSpace:
    """A ConfigurationSpace made from ``param_distributions``, and the way back from a
    configuration to the estimator's parameters.

    >>> from scipy.stats import loguniform
    >>> ps = ParamSpace({"C": loguniform(1e-3, 1e3), "kernel": ["rbf", "linear"]}, seed=0)
    >>> sorted(ps.configspace.keys())
    ['C', 'kernel']
    >>> sorted(ps.params(ps.configspace.sample_configuration()))
    ['C', 'kernel']
    """

    def __init__(self, param_distributions: Any, seed: int = 0):
        if isinstance(param_distributions, ConfigurationSpace):
            self.configspace = param_distributions
            self._choices: Dict[str, List[Any]] = {}
            return
        self._choices = {}
        self.configspace = ConfigurationSpace(seed=seed)
        if isinstance(param_distributions, (list, tuple)):  # subspaces: one is chosen, then its parameters
            if not param_distributions:
                raise ValueError("param_distributions is an empty list; give at least one dict")
            which = Categorical(SUBSPACE, [str(i) for i in range(len(param_distributions))])
            self.configspace.add(which)
            for i, sub in enumerate(param_distributions):
                hps = self._hyperparameters(sub, prefix=f"{i}:")
                self.configspace.add(hps)
                self.configspace.add([EqualsCondition(hp, which, str(i)) for hp in hps])
        else:
            self.configspace.add(self._hyperparameters(param_distributions))

    def _hyperparameters(self, dists: Any, prefix: str = "") -> List[Any]:
        if not isinstance(dists, Mapping) or not dists:
            raise ValueError(f"param_distributions must be a non-empty dict of parameter names to lists or "
                             f"scipy.stats distributions (or a list of such dicts), or a ConfigurationSpace; "
                             f"got {dists!r}")
        return [self._hyperparameter(prefix + str(name), dist) for name, dist in dists.items()]

    def _hyperparameter(self, name: str, dist: Any) -> Any:
        label = name.partition(":")[2] if ":" in name else name  # as the user wrote it
        if isinstance(dist, str) or not (hasattr(dist, "rvs") or hasattr(dist, "__len__")):
            raise ValueError(f"param_distributions[{label!r}] is {dist!r}, which is neither a list of values "
                             "nor a distribution with rvs (such as scipy.stats.uniform)")
        if not hasattr(dist, "rvs"):
            values = list(dist)
            if not values:
                raise ValueError(f"param_distributions[{label!r}] is an empty list; give at least one value")
            if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values) \
                    and len(set(values)) == len(values) and len(values) > 1:
                return OrdinalHyperparameter(name, sorted(float(v) if isinstance(v, float) else int(v) for v in values))
            self._choices[name] = values  # by index: any object can be a value
            return Categorical(name, [str(i) for i in range(len(values))])
        family = getattr(getattr(dist, "dist", None), "name", None)
        try:
            low, high = (float(b) for b in dist.support())
        except Exception:  # noqa: BLE001 - a distribution object of some other library
            raise ValueError(f"param_distributions[{label!r}] has rvs but no support() with its bounds; use "
                             "scipy.stats.uniform, loguniform or randint, a list, or pass a "
                             "ConfigurationSpace") from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"param_distributions[{label!r}] ({family or type(dist).__name__}) has an infinite "
                             f"support ({low}, {high}); a search needs bounds: use scipy.stats.uniform or "
                             "loguniform over the range to search, or pass a ConfigurationSpace")
        discrete = hasattr(dist, "pmf")
        if discrete:
            if low == high:
                return OrdinalHyperparameter(name, [int(low)])
            return Integer(name, (int(low), int(high)))
        if family not in _LOG + _UNIFORM:
            warnings.warn(f"param_distributions[{label!r}]: smacish searches {family}'s support "
                          f"[{low:g}, {high:g}] uniformly, not by its density", UserWarning, stacklevel=4)
        return Float(name, (low, high), log=family in _LOG)

    def params(self, config: Any) -> Dict[str, Any]:
        """The estimator's parameters for ``config`` (inactive hyperparameters left out)."""
        out = {}
        for name, value in dict(config).items():
            if name == SUBSPACE:
                continue
            if name in self._choices:
                value = self._choices[name][int(value)]
            elif hasattr(value, "item"):
                value = value.item()
            out[name.partition(":")[2] if ":" in name else name] = value
        return out

    def names(self) -> List[str]:
        """The estimator parameters the search sets."""
        return sorted({n.partition(":")[2] if ":" in n else n for n in self.configspace.keys() if n != SUBSPACE})
