"""KDESelector: BOHB's configuration model, a good/bad pair of kernel densities (TPE-style).

For each budget with enough results, the finished configurations are split by cost into the
best ``top_n_percent`` ("good", density ``l``) and the rest ("bad", density ``g``), and a
product-kernel density is fit on each (Gaussian kernels for numeric hyperparameters in their
[0, 1]-scaled form, Aitchison-Aitken kernels for categorical ones, Scott's normal-reference
bandwidth). A proposal draws ``num_samples`` candidates around good configurations (bandwidth
widened by ``bandwidth_factor``) and keeps the one with the smallest ``g(x) / l(x)``, always on
the largest budget that has a model. This is the model of HpBandSter's BOHB, written with
numpy and scipy only.
"""

from __future__ import annotations

import math
import struct
import warnings
from itertools import islice
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.hyperparameters import CategoricalHyperparameter, Constant, OrdinalHyperparameter

from smacish._io import config_key
from smacish._seeding import as_seed
from smacish.runhistory import RunHistory
from smacish.selection._random import RandomSelector

_CONTINUOUS, _CATEGORICAL, _CONSTANT = 0, 1, 2
_TINY = 1e-32  # HpBandSter's floor for both densities


def _kinds(space: ConfigurationSpace) -> Tuple[np.ndarray, np.ndarray]:
    """Per hyperparameter (in vector order): its kind and its number of levels (0 if numeric)."""
    kinds, levels = [], []
    for hp in space.values():
        if isinstance(hp, CategoricalHyperparameter):
            kinds.append(_CATEGORICAL)
            levels.append(len(hp.choices))
        elif isinstance(hp, OrdinalHyperparameter):  # HpBandSter refuses these; treated as unordered
            kinds.append(_CATEGORICAL)
            levels.append(len(hp.sequence))
        elif isinstance(hp, Constant):
            kinds.append(_CONSTANT)
            levels.append(1)
        else:  # floats and integers: their vector form lives in [0, 1]
            kinds.append(_CONTINUOUS)
            levels.append(0)
    return np.array(kinds, dtype=int), np.array(levels, dtype=int)


def normal_reference_bandwidth(data: np.ndarray) -> np.ndarray:
    """Scott's rule of thumb, as statsmodels' ``normal_reference``: ``1.06 * std * n**(-1/(4+d))``.

    >>> normal_reference_bandwidth(np.array([[0.0], [1.0]])).round(4)
    array([0.4614])
    """
    n, d = data.shape
    return 1.06 * data.std(axis=0) * n ** (-1.0 / (4 + d))


class KernelDensity:
    """A product-kernel density over configuration vectors (one row per configuration).

    ``bw`` holds one bandwidth per column: the standard deviation of the Gaussian kernel for
    numeric columns, the probability of a different level for categorical ones (whose kernel is
    ``1 - bw`` for the same level and ``bw / (levels - 1)`` for each other one).

    >>> kde = KernelDensity(np.array([[0.2, 0.0], [0.4, 1.0]]), np.array([0.1, 0.2]),
    ...                     np.array([_CONTINUOUS, _CATEGORICAL]), np.array([0, 2]))
    >>> float(kde.pdf(np.array([[0.2, 0.0]]))[0]) > float(kde.pdf(np.array([[0.9, 1.0]]))[0])
    True
    """

    _CHUNK = 2_000_000  # elements of the (candidates x data x dims) block evaluated at once

    def __init__(self, data: np.ndarray, bw: np.ndarray, kinds: np.ndarray, levels: np.ndarray):
        self.data = np.asarray(data, dtype=float)
        self.bw = np.asarray(bw, dtype=float)
        self.kinds = kinds
        self.levels = levels

    def pdf(self, points: np.ndarray) -> np.ndarray:
        """Density at each row of ``points`` (shape ``(m, d)``)."""
        points = np.atleast_2d(np.asarray(points, dtype=float))
        n, d = self.data.shape
        rows = max(1, self._CHUNK // max(1, n * d))
        return np.concatenate([self._pdf(points[i : i + rows]) for i in range(0, len(points), rows)])

    def _pdf(self, points: np.ndarray) -> np.ndarray:
        diff = points[:, None, :] - self.data[None, :, :]  # (m, n, d)
        kernel = np.ones_like(diff)
        cont = self.kinds == _CONTINUOUS
        if cont.any():
            h = self.bw[cont]
            kernel[..., cont] = np.exp(-0.5 * (diff[..., cont] / h) ** 2) / (math.sqrt(2 * math.pi) * h)
        cat = self.kinds == _CATEGORICAL
        if cat.any():
            h = self.bw[cat]
            others = np.maximum(self.levels[cat] - 1, 1)
            same = np.abs(diff[..., cat]) < 0.5
            kernel[..., cat] = np.where(same, 1.0 - h, np.where(self.levels[cat] > 1, h / others, 0.0))
        return kernel.prod(axis=2).mean(axis=1)


class KDESelector:
    """Proposes configurations from BOHB's good/bad kernel-density model (Falkner et al., 2018),
    with HpBandSter's parameters; random configurations until a budget has enough results,
    and a ``random_fraction`` of the time after.

    Results feed the model in the order the RunHistory received them, as HpBandSter feeds its
    model one finished job at a time: a result on a budget smaller than the largest modelled
    one is not used. The model is therefore a function of the RunHistory, and the selector's
    own state (``get_state`` / ``set_state``) is just its random generators, so a run resumes
    exactly.

    >>> import smacish
    >>> from ConfigSpace import ConfigurationSpace
    >>> cs = ConfigurationSpace({"x": (-5.0, 5.0), "y": (-5.0, 5.0)})
    >>> selector = KDESelector(cs, seed=1)
    >>> opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9), selector=selector)
    >>> best = opt.optimize(lambda config, budget: config["x"] ** 2 + config["y"] ** 2, n_trials=60)
    >>> sorted(selector.kde_models_), selector.model_budget_
    ([1.0, 3.0, 9.0], 9.0)

    Or by name: ``Optimizer(cs, intensifier, selector="kde")``.

    Args:
        configspace: the search space.
        seed: seeds sampling and the random interleaving.
        min_points_in_model: results a budget needs before a model is fit on it; default
            (and minimum) the number of hyperparameters + 1.
        top_n_percent: percentage (1-99) of a budget's results that count as good.
        num_samples: candidates drawn per model-based proposal.
        random_fraction: probability that a proposal is random although a model exists.
        bandwidth_factor: widens the good density's bandwidth when drawing candidates.
        min_bandwidth: floor of every bandwidth, so identical good values keep some spread.
        random_selector: what proposes the random configurations (an object with
            ``propose``, ``get_state`` and ``set_state``); by default uniform sampling seeded
            from ``seed``. The HpBandSter layer passes the space's own sampling, as BOHB has.
    """

    def __init__(
        self,
        configspace: ConfigurationSpace,
        seed: int = 0,
        min_points_in_model: Optional[int] = None,
        top_n_percent: float = 15,
        num_samples: int = 64,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3,
        min_bandwidth: float = 1e-3,
        random_selector: Optional[Any] = None,
    ):
        errors = []
        if not isinstance(configspace, ConfigurationSpace):
            errors.append(
                f"configspace must be a ConfigSpace ConfigurationSpace, got {type(configspace).__name__}"
            )
        dims = len(list(configspace.keys())) if isinstance(configspace, ConfigurationSpace) else 0
        if min_points_in_model is not None and (
            isinstance(min_points_in_model, bool) or not isinstance(min_points_in_model, (int, np.integer))
        ):
            errors.append(f"min_points_in_model is {min_points_in_model!r}, but must be None or an int")
        if not _number(top_n_percent) or not 0 < top_n_percent < 100:
            errors.append(f"top_n_percent is {top_n_percent!r}, but must be a number between 0 and 100")
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
            errors.append(f"num_samples is {num_samples!r}, but must be an int >= 1")
        if not _number(random_fraction) or not 0 <= random_fraction <= 1:
            errors.append(f"random_fraction is {random_fraction!r}, but must be a number in [0, 1]")
        if not _number(bandwidth_factor) or not bandwidth_factor > 0:
            errors.append(f"bandwidth_factor is {bandwidth_factor!r}, but must be a number > 0")
        if not _number(min_bandwidth) or not min_bandwidth > 0:
            errors.append(f"min_bandwidth is {min_bandwidth!r}, but must be a number > 0")
        if errors:
            raise ValueError("KDESelector: " + "; ".join(errors))

        self.configspace = configspace
        self.seed = as_seed(seed)
        if min_points_in_model is not None and min_points_in_model < dims + 1:
            warnings.warn(
                f"min_points_in_model is {min_points_in_model}, but a model of {dims} "
                f"hyperparameters needs at least {dims + 1}; using {dims + 1}",
                UserWarning,
                stacklevel=2,
            )
        self.min_points_in_model = max(int(min_points_in_model or 0), dims + 1)
        self.top_n_percent = top_n_percent
        self.num_samples = int(num_samples)
        self.random_fraction = float(random_fraction)
        self.bandwidth_factor = float(bandwidth_factor)
        self.min_bandwidth = float(min_bandwidth)
        self._hps = list(configspace.values())
        self._kinds, self._levels = _kinds(configspace)
        model_seed, random_seed = np.random.SeedSequence(self.seed).generate_state(2)
        self._rng = np.random.default_rng(model_seed)
        self._random = random_selector if random_selector is not None else RandomSelector(configspace, seed=int(random_seed))
        self._reset()

    def _reset(self) -> None:
        self._runhistory: Optional[RunHistory] = None
        self._n_seen = 0
        self._observations: Dict[float, Tuple[List[np.ndarray], List[float]]] = {}
        self._models: Dict[float, Tuple[KernelDensity, KernelDensity]] = {}

    # ------------------------------------------------------------------ the model
    @property
    def kde_models_(self) -> Dict[float, Tuple[KernelDensity, KernelDensity]]:
        """``budget -> (good, bad)`` densities fit so far (budget 0.0 stands for runs without
        budgets)."""
        return dict(self._models)

    @property
    def model_budget_(self) -> Optional[float]:
        """The budget proposals are drawn from (the largest with a model), or None."""
        return max(self._models) if self._models else None

    def _update(self, runhistory: RunHistory) -> None:
        """Feed the model the results told since the last call, in the order they came."""
        if runhistory is not self._runhistory or len(runhistory) < self._n_seen:
            self._reset()
            self._runhistory = runhistory
        if len(runhistory) == self._n_seen:
            return
        for info, value in islice(runhistory.items(), self._n_seen, None):
            cost = runhistory.effective_cost(value)
            self._observe(info.config, info.budget, cost if math.isfinite(cost) else math.inf)
        self._n_seen = len(runhistory)

    def _observe(self, config: Configuration, budget: Optional[float], loss: float) -> None:
        level = 0.0 if budget is None else float(budget)
        if self._models and max(self._models) > level:
            return  # a larger budget has a model already
        vectors, losses = self._observations.setdefault(level, ([], []))
        vectors.append(np.asarray(config.get_array(), dtype=float))
        losses.append(loss)
        if len(vectors) >= self.min_points_in_model:
            self._fit(level)

    def _fit(self, level: float) -> None:
        vectors, losses = self._observations[level]
        configs = np.array(vectors)
        n, dims = configs.shape
        n_good = max(self.min_points_in_model, int(self.top_n_percent * n // 100))
        n_bad = max(self.min_points_in_model, int((100 - self.top_n_percent) * n // 100))
        order = np.argsort(np.array(losses), kind="stable")
        good, bad = configs[order[:n_good]], configs[order[n_good : n_good + n_bad]]
        if good.shape[0] <= dims or bad.shape[0] <= dims:
            return
        # imputation draws from a generator that depends only on (seed, budget, data size),
        # so the model is a function of the results alone
        bits = struct.unpack("<Q", struct.pack("<d", level))[0]
        rng = np.random.default_rng([self.seed, bits, n])
        self._models[level] = (self._density(self._impute(good, rng)), self._density(self._impute(bad, rng)))

    def _density(self, data: np.ndarray) -> KernelDensity:
        bw = np.maximum(normal_reference_bandwidth(data), self.min_bandwidth)
        cat = self._kinds == _CATEGORICAL
        bw[cat] = np.minimum(bw[cat], 1.0)
        return KernelDensity(data, bw, self._kinds, self._levels)

    def _impute(self, data: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Fill the values of inactive hyperparameters (NaN) from another configuration that has
        one, or with a random valid value, as HpBandSter does for conditional spaces."""
        data = data.copy()
        for col in np.flatnonzero(np.isnan(data).any(axis=0)):
            missing = np.isnan(data[:, col])
            donors = data[~missing, col]
            if donors.size:
                data[missing, col] = rng.choice(donors, size=int(missing.sum()))
            elif self._kinds[col] == _CATEGORICAL:
                data[missing, col] = rng.integers(self._levels[col], size=int(missing.sum()))
            else:
                data[missing, col] = (
                    rng.random(int(missing.sum())) if self._kinds[col] == _CONTINUOUS else 0.0
                )
        return data

    # ------------------------------------------------------------------ proposing
    def propose(self, runhistory: RunHistory, pending: Sequence[Configuration]) -> Configuration:
        """A model-based configuration once a budget has a model (and the random-fraction draw
        says so), a random one otherwise. A model pick equal to a pending or already evaluated
        configuration is replaced by a random one."""
        self._update(runhistory)
        if self._models and not self._rng.random() < self.random_fraction:
            config = self._model_pick()
            if config is not None:
                taken = {config_key(c) for c in pending}
                if config_key(config) not in taken and not runhistory.has_config(config):
                    config.origin = "kde"
                    return config
        config = self._random.propose(runhistory, pending)
        config.origin = "random"
        return config

    def _model_pick(self) -> Optional[Configuration]:
        good, bad = self._models[max(self._models)]
        rng = self._rng
        rows = rng.integers(len(good.data), size=self.num_samples)
        base = good.data[rows]
        candidates = base.copy()
        bw = np.maximum(good.bw, self.min_bandwidth)
        cont = np.flatnonzero(self._kinds == _CONTINUOUS)
        if cont.size:
            from scipy.stats import truncnorm

            mean = base[:, cont]
            scale = np.broadcast_to(self.bandwidth_factor * bw[cont], mean.shape)
            candidates[:, cont] = truncnorm.rvs(
                -mean / scale, (1 - mean) / scale, loc=mean, scale=scale, random_state=rng
            )
        cat = np.flatnonzero(self._kinds == _CATEGORICAL)
        if cat.size:
            keep = rng.random((self.num_samples, cat.size)) < 1 - bw[cat]
            other = np.floor(rng.random((self.num_samples, cat.size)) * self._levels[cat])
            candidates[:, cat] = np.where(keep, base[:, cat], other)
        score = np.maximum(bad.pdf(candidates), _TINY) / np.maximum(good.pdf(candidates), _TINY)
        for index in np.argsort(score, kind="stable")[:3]:  # the best that makes a valid configuration
            config = self._to_config(candidates[index])
            if config is not None:
                return config
        return None

    def _to_config(self, vector: np.ndarray) -> Optional[Configuration]:
        from ConfigSpace.util import deactivate_inactive_hyperparameters

        values: Dict[str, Any] = {}
        for hp, kind, v in zip(self._hps, self._kinds, vector):
            if kind == _CONSTANT:
                values[hp.name] = hp.value
            elif kind == _CATEGORICAL:
                values[hp.name] = hp.to_value(np.array([float(np.rint(v))]))[0]
            else:
                values[hp.name] = hp.to_value(np.array([min(max(float(v), 0.0), 1.0)]))[0]
        try:
            config = deactivate_inactive_hyperparameters(values, self.configspace)
            config.check_valid_configuration()
        except Exception:  # noqa: BLE001 - forbidden clauses and the like: try the next candidate
            return None
        return config

    # ------------------------------------------------------------------ state
    def get_state(self) -> Dict[str, Any]:
        """The random generators' states (JSON-ready); the model is rebuilt from the RunHistory."""
        return {"rng": self._rng.bit_generator.state, "random": self._random.get_state()}

    def set_state(self, state: Dict[str, Any]) -> None:
        self._rng.bit_generator.state = state["rng"]
        self._random.set_state(state["random"])

    def __repr__(self) -> str:
        budget = self.model_budget_
        where = f", model on budget {budget:g}" if budget is not None else ", no model yet"
        return (
            f"KDESelector(top_n_percent={self.top_n_percent}, num_samples={self.num_samples}, "
            f"random_fraction={self.random_fraction:.3g}{where})"
        )


def _number(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
