"""RandomForestSelector: new configurations from a random-forest surrogate and an acquisition
function (SMAC's model), fit on the results of every budget with the budget as an input and
maximised at the largest budget (or, as BOHB does, on the largest budget with enough data)."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from smacish._io import config_key, vector_json
from smacish._seeding import as_seed, seed_error
from smacish.runhistory import RunHistory
from smacish.selection._acquisition import ACQUISITIONS
from smacish.selection._encoding import SpaceEncoder
from smacish.selection._forest import BACKENDS, make_forest
from smacish.selection._maximizer import CandidatePool, build_pool
from smacish.selection._sampling import SpaceSampler
from smacish.selection._training import NO_BUDGET, TrainingData
from smacish.selection._random import RandomSelector

MODEL_BUDGETS = ("all", "largest")

Acquisition = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


class RandomForestSelector:
    """Proposes configurations by maximising an acquisition function (expected improvement by
    default) over a random forest, once a budget has ``min_points_in_model`` finished
    configurations; random configurations until then, and a ``random_fraction`` of the time
    after. The forest learns from every budget's results, the budget an input, and is asked
    about the largest budget: cheap low-budget results guide the search from the start, and
    the forest learns how far they are from the large budgets (``model_budgets="largest"``:
    BOHB's rule, the largest budget with enough data only).

    The forest is refit only when trials finished that it models (or the budget it needs moves
    up): after every result while one budget has results (plain BO, the first rung), then
    after every second result, or sooner after one that beat the best on its budget or ran on
    a budget above the smallest (a promotion, or a bracket that starts higher). A proposal
    right after any other single result comes from the last fit's pool, whose penalty around
    that result's configuration already says it was no better. The acquisition is maximised
    once per fit into a scored pool of candidates (random ones plus a local search from the
    best configurations). Each proposal takes the pool's best candidate after penalising the
    neighbourhood of the pool's earlier picks and of every pending configuration, so
    concurrent proposals differ and most asks need no model work at all; the neighbourhoods
    narrow with many pending trials in few dimensions (``penalty_volume``), so that they never
    cover the space. Its state (``get_state`` / ``set_state``) is small and JSON-ready: a
    resumed run proposes exactly what the uninterrupted one would.

    >>> import smacish
    >>> from ConfigSpace import ConfigurationSpace
    >>> cs = ConfigurationSpace({"x": (-5.0, 5.0), "y": (-5.0, 5.0)})
    >>> selector = RandomForestSelector(cs, seed=1)
    >>> opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9), selector=selector)
    >>> best = opt.optimize(lambda config, budget: config["x"] ** 2 + config["y"] ** 2, n_trials=60)
    >>> selector.n_fits_ > 0, selector.model_budget_
    (True, 9.0)

    Or by name: ``Optimizer(cs, intensifier, selector="rf")`` (the default).

    Args:
        configspace: the search space.
        seed: seeds sampling, the forest and the random interleaving.
        backend: ``"sklearn"`` (default: faster to predict, no extra install) or ``"pyrfr"``
            (SMAC's forest, ``pip install smacish[pyrfr]``).
        acquisition: ``"ei"`` (expected improvement), ``"pi"`` (probability of improvement),
            ``"lcb"`` (lower confidence bound), or a function ``(mean, variance, best) ->
            score`` to maximise.
        random_fraction: probability that a proposal is random anyway (exploration).
        min_points_in_model: configurations a budget needs before the model is fit on it;
            default: number of hyperparameters + 1.
        log_costs: fit the forest on log-scaled costs.
        n_trees, min_samples_split, min_samples_leaf, max_features, bootstrap: the forest.
        n_candidates: random configurations scored per fit.
        n_local_starts: local searches start from this many best evaluated configurations and
            this many best random candidates.
        local_search_steps: steps of each local search at most.
        penalty_radius: width of the penalty around proposed and pending configurations, in
            the [0, 1]-scaled input space, times the square root of the number of
            hyperparameters; 0 switches it off.
        penalty_volume: a fraction v (default 0.01) narrows the radius, where needed, so that
            the balls of that radius around the pending trials at a fit (and the next pick)
            together hold at most v of the input space's volume: in few dimensions and with
            many workers the penalty would otherwise cover the space. None keeps the radius.
        refit_growth: with many data, refit only once the data the forest is fit on grew by
            this fraction since the last fit.
        refit_after: and once at least this many trials finished since the last fit (in
            between, proposals come from the last fit's pool, penalised around earlier picks),
            or sooner on the triggers below; while results exist on one budget only, after
            every result whatever this says. Default 2, with both triggers: fewer fits (in the
            first 100 trials of Hyperband(1, 27) on Branin 43-48 instead of 52-55) at no
            measured loss in final regret on the development seeds (``benchmarks/tune.py``;
            variant ``rf-every`` is the rule before, ``refit_after=1``).
        refit_on_improvement: refit before ``refit_after`` trials finished when one of them
            improved on the best cost seen on its budget at the last fit (or is the first
            success on a budget). A result that is no better than the best adds little that
            the pool's penalty around its pick does not already say; a better one moves the
            acquisition's incumbent and the region worth searching.
        refit_on_promotion: and when one of them ran on a budget above the smallest (a
            promotion, or a Hyperband bracket that starts higher): fewer, and closer to the
            largest budget that the acquisition is maximised at.
        model_budgets: ``"all"`` (default): once a budget has ``min_points_in_model``
            configurations, fit on every finished trial of every budget, the budget
            (log-scaled to [0, 1] over the budgets seen) an extra input, and maximise the
            acquisition at the largest budget seen, against the best mean predicted there for
            an evaluated configuration; ``"largest"``: fit on the largest budget with
            ``min_points_in_model`` configurations only (BOHB's rule).
        min_budget_correlation: with ``model_budgets="all"``, leave a budget's results out of
            the fit once at least 5 configurations ran on it and on the largest budget and
            the rank correlation of their costs there is at most this (low budgets that
            mislead); None keeps every budget.
    """

    def __init__(
        self,
        configspace: ConfigurationSpace,
        seed: int = 0,
        *,
        backend: str = "sklearn",
        acquisition: Union[str, Acquisition] = "ei",
        random_fraction: float = 1 / 3,
        min_points_in_model: Optional[int] = None,
        log_costs: bool = True,
        n_trees: int = 10,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        max_features: float = 5 / 6,
        bootstrap: bool = True,
        n_candidates: int = 5000,
        n_local_starts: int = 10,
        local_search_steps: int = 20,
        penalty_radius: float = 0.1,
        penalty_volume: Optional[float] = 0.01,
        refit_growth: float = 0.01,
        refit_after: int = 2,
        refit_on_improvement: bool = True,
        refit_on_promotion: bool = True,
        model_budgets: str = "all",
        min_budget_correlation: Optional[float] = None,
    ):
        errors = []
        if not isinstance(configspace, ConfigurationSpace):
            errors.append(
                f"configspace must be a ConfigSpace ConfigurationSpace, got {type(configspace).__name__}"
            )
        elif len(configspace) == 0:
            errors.append("configspace has no hyperparameters; add at least one")
        if seed_error(seed):
            errors.append(seed_error(seed))
        if backend not in BACKENDS:
            errors.append(f"backend is {backend!r}, but must be one of {BACKENDS}")
        if not callable(acquisition) and acquisition not in ACQUISITIONS:
            errors.append(
                f"acquisition is {acquisition!r}, but must be one of {sorted(ACQUISITIONS)} or a function"
            )
        if not _is_real(random_fraction) or not 0 <= random_fraction <= 1:
            errors.append(f"random_fraction is {random_fraction!r}, but must be a number in [0, 1]")
        if min_points_in_model is not None and not _is_int(min_points_in_model, 1):
            errors.append(f"min_points_in_model is {min_points_in_model!r}, but must be None or an int >= 1")
        for name, value, low in (
            ("n_trees", n_trees, 1), ("min_samples_split", min_samples_split, 2),
            ("min_samples_leaf", min_samples_leaf, 1), ("n_candidates", n_candidates, 1),
            ("n_local_starts", n_local_starts, 0), ("local_search_steps", local_search_steps, 0),
            ("refit_after", refit_after, 1),
        ):
            if not _is_int(value, low):
                errors.append(f"{name} is {value!r}, but must be an int >= {low}")
        for name, value in (("refit_on_improvement", refit_on_improvement), ("refit_on_promotion", refit_on_promotion)):
            if not isinstance(value, bool):
                errors.append(f"{name} is {value!r}, but must be True or False")
        if not _is_real(max_features) or not 0 < max_features <= 1:
            errors.append(f"max_features is {max_features!r}, but must be a fraction in (0, 1]")
        if penalty_volume is not None and (not _is_real(penalty_volume) or not 0 < penalty_volume <= 1):
            errors.append(f"penalty_volume is {penalty_volume!r}, but must be None or a fraction in (0, 1]")
        if not _is_real(penalty_radius) or penalty_radius < 0:
            errors.append(f"penalty_radius is {penalty_radius!r}, but must be a number >= 0")
        if not _is_real(refit_growth) or refit_growth < 0:
            errors.append(f"refit_growth is {refit_growth!r}, but must be a number >= 0")
        if min_budget_correlation is not None and (not _is_real(min_budget_correlation)
                                                   or not -1 <= min_budget_correlation <= 1):
            errors.append(f"min_budget_correlation is {min_budget_correlation!r}, but must be None or a number in [-1, 1]")
        if model_budgets not in MODEL_BUDGETS:
            errors.append(f"model_budgets is {model_budgets!r}, but must be one of {MODEL_BUDGETS}")
        if errors:
            raise ValueError("RandomForestSelector: " + "; ".join(errors))

        self.configspace = configspace
        self.seed = as_seed(seed)
        self.backend = backend
        self.acquisition = acquisition
        self.random_fraction = float(random_fraction)
        self.min_points_in_model = (
            len(configspace) + 1 if min_points_in_model is None else int(min_points_in_model)
        )
        self.log_costs = bool(log_costs)
        self.n_candidates = n_candidates
        self.n_local_starts = n_local_starts
        self.local_search_steps = local_search_steps
        self.penalty_radius = float(penalty_radius)
        self.penalty_volume = None if penalty_volume is None else float(penalty_volume)
        self.refit_growth = float(refit_growth)
        self.refit_after = int(refit_after)
        self.refit_on_improvement = refit_on_improvement
        self.refit_on_promotion = refit_on_promotion
        self.min_budget_correlation = None if min_budget_correlation is None else float(min_budget_correlation)
        self.model_budgets = model_budgets

        seeds = np.random.SeedSequence(self.seed).generate_state(4)
        decide_seed, random_seed, sampler_seed, forest_seed = (int(s) for s in seeds)
        self._rng = np.random.default_rng(decide_seed)
        self._random = RandomSelector(configspace, seed=int(random_seed))
        self._encoder = SpaceEncoder(configspace)
        self._sampler = SpaceSampler(configspace, seed=int(sampler_seed))
        self._data = TrainingData(self._encoder)
        self._forest = make_forest(
            backend, self._encoder.types, seed=int(forest_seed), n_trees=n_trees,
            min_samples_split=min_samples_split, min_samples_leaf=min_samples_leaf,
            max_features=max_features, bootstrap=bootstrap,
        )
        self._features: Optional[np.ndarray] = None  # instances x features (use_instance_features)
        self._feature_of: Dict[str, np.ndarray] = {}
        self._pool: Optional[CandidatePool] = None
        self._fit_level: Optional[float] = None
        self._fit_mode: Optional[str] = None
        self._fit_trials = 0
        self._fit_best: Dict[float, float] = {}  # best cost per budget in the data of the last fit
        self._fit_counts: Dict[float, int] = {}  # trials per budget in it
        self._fit_spec: Optional[Dict[str, Any]] = None  # how the pool was built (see get_state)
        self._restore: Optional[Dict[str, Any]] = None  # a pool to rebuild after set_state
        self._penalised: set = set()  # keys of configurations penalised since the fit
        self._penalty_log: List[list] = []  # what was penalised since the fit, in order
        self.n_fits_ = 0
        """How often the forest was fit."""
        self.n_model_proposals_ = 0
        """Proposals that came from the model (the rest were random)."""

    # ------------------------------------------------------------------ reading
    @property
    def model_budget_(self) -> Optional[float]:
        """The largest budget with enough data when the model was fit: the only one it was fit
        on with ``model_budgets="largest"`` (None: no model yet, or no budgets)."""
        if self._fit_level is None or self._fit_level == NO_BUDGET:
            return None
        return self._fit_level

    @property
    def forest_(self):
        """The fitted forest (``predict(X) -> (mean, variance)`` on encoded input), or None."""
        return self._forest if self.n_fits_ else None

    @property
    def encoder_(self) -> SpaceEncoder:
        return self._encoder

    def use_instance_features(self, features: Dict[str, Sequence[float]]) -> None:
        """Model the cost of each (configuration, instance) with the instance's features as
        inputs, and propose by the mean prediction over the instances (SMAC's way), instead of
        the mean cost over instances. The Optimizer calls it with ``instance_features``."""
        self._feature_of = {name: np.asarray(vector, dtype=float) for name, vector in features.items()}
        self._features = np.vstack(list(self._feature_of.values())) if features else None

    def predict(self, configs: Sequence[Configuration], instance_features: Optional[Sequence[float]] = None
                ) -> Tuple[np.ndarray, np.ndarray]:
        """The fitted forest's mean and variance for ``configs`` (on its scale: log-scaled
        costs with ``log_costs``), on an instance with these features (None: the mean over
        the known instances, or the largest budget seen)."""
        if not self.n_fits_:
            raise ValueError("the forest is not fit yet: it needs min_points_in_model finished configurations")
        rows = np.vstack([self._encoder.encode(c.get_array())[0] for c in configs])
        if instance_features is not None:
            return self._forest.predict(np.hstack([rows, np.tile(np.asarray(instance_features, float), (len(rows), 1))]))
        return self._predictor(self._fit_mode)(rows)

    def _predictor(self, mode: str) -> Callable[[np.ndarray], Tuple[np.ndarray, np.ndarray]]:
        """Predictions for encoded configurations: at the largest budget seen (its budget
        input 1) with ``mode`` "all"; marginalised over the instances' features (mean of the
        means; mean variance plus the variance of the means) in an instance-based run with
        features."""
        forest = self._forest
        if mode == "all":
            return lambda rows: forest.predict(np.hstack([rows, np.ones((len(rows), 1))]))
        features = self._features
        if self._fit_level != NO_BUDGET or features is None:
            return forest.predict

        def marginal(rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
            n, m = len(rows), len(features)
            mean, var = forest.predict(np.hstack([np.repeat(rows, m, axis=0), np.tile(features, (n, 1))]))
            mean, var = mean.reshape(n, m), var.reshape(n, m)
            return mean.mean(axis=1), var.mean(axis=1) + mean.var(axis=1)

        return marginal

    # ------------------------------------------------------------------ proposing
    def propose(self, runhistory: RunHistory, pending: Sequence[Configuration]) -> Configuration:
        """A configuration neither evaluated nor pending (unless the space is exhausted)."""
        self._data.update(runhistory)
        if self._restore is not None:
            self._rebuild(runhistory)
        if hasattr(runhistory, "weights"):  # several objectives: new weights, a new fit
            self._pool = None
        explore = self._rng.random() < self.random_fraction
        level = self._data.model_level(self.min_points_in_model)
        if level is None or explore:
            return self._random.propose(runhistory, pending)
        if self._needs_fit(level):
            self._fit(level, runhistory, len(pending))
        taken = set()
        for config in pending:  # lower the scores around what is running
            key = config_key(config)
            taken.add(key)
            if key not in self._penalised:
                if runhistory.has_config(config):
                    self._penalise(["c", runhistory.config_number(config)], key, config.get_array())
                else:  # not asked through this RunHistory (a direct call): keep the vector
                    vector = vector_json(config.get_array())
                    self._penalise(["v", vector], key, config.get_array())
        pool = self._pool
        while True:
            index = pool.best()
            if index is None:  # every candidate taken: the space is (nearly) exhausted
                return self._random.propose(runhistory, pending)
            pool.use(index)
            config = self._encoder.to_configuration(pool.vectors[index])
            key = config_key(config)
            if key in taken or key in self._penalised or runhistory.has_config(config):
                continue
            self._penalise(["p", index], key, encoded=pool.X[index])
            config.origin = "rf"
            self.n_model_proposals_ += 1
            return config

    def _mode(self, data: TrainingData) -> str:
        """"all" (every budget, the budget an input) or "largest" (the modelled budget only;
        also when there is one budget, or none)."""
        levels = data.levels()
        if self.model_budgets == "largest" or len(levels) < 2 or levels[0] == NO_BUDGET:
            return "largest"
        return "all"

    @staticmethod
    def _n_fit_trials(data: TrainingData, level: float, mode: str) -> int:
        return data.n_trials_total() if mode == "all" else data.n_trials(level)

    def _needs_fit(self, level: float) -> bool:
        if self._pool is None or level != self._fit_level:
            return True
        mode = self._mode(self._data)
        if mode != self._fit_mode:
            return True
        new = self._n_fit_trials(self._data, level, mode) - self._fit_trials
        if new < max(1, int(self.refit_growth * self._fit_trials)):
            return False
        if new >= self.refit_after or len(self._data.levels()) < 2:
            return True  # with one budget (plain BO, or the first rung) every result is full news
        return ((self.refit_on_promotion and self._promoted())
                or (self.refit_on_improvement and self._improved()))

    def _promoted(self) -> bool:
        """Whether a trial read since the last fit ran on a budget above the smallest."""
        levels = sorted(self._data.best_costs())[1:]
        return any(self._data.n_trials(level) > self._fit_counts.get(level, 0) for level in levels)

    def _improved(self) -> bool:
        """Whether a trial read since the last fit beat the best cost on its budget then."""
        fit_best = self._fit_best
        return any(best < fit_best.get(level, math.inf) for level, best in self._data.best_costs().items())

    def _fit(self, level: float, runhistory: RunHistory, n_pending: int = 0) -> None:
        self._fit_spec = {
            "n_read": self._data.n_read, "level": level, "trials": self._n_fit_trials(self._data, level, self._mode(self._data)),
            "sampler": self._sampler.get_state(), "forest_fits": self._forest.n_fits, "pending": n_pending,
        }
        self._build(self._data, level, runhistory, n_pending)
        self.n_fits_ += 1

    def _build(self, data: TrainingData, level: float, runhistory: RunHistory, n_pending: int = 0) -> None:
        """Fit the forest on ``level`` (or on every budget) and fill the candidate pool,
        penalised around picks with the radius for ``n_pending`` pending trials."""
        mode = self._mode(data)
        acquisition = self.acquisition if callable(self.acquisition) else ACQUISITIONS[self.acquisition]
        self._fit_level = level
        self._fit_mode = mode
        self._fit_trials = self._n_fit_trials(data, level, mode)
        self._fit_best = data.best_costs()
        self._fit_counts = {level: data.n_trials(level) for level in self._fit_best}
        predict = self._predictor(mode)
        if mode == "largest" and (level != NO_BUDGET or self._features is None):
            X, y, ids = data.dataset(level, log_costs=self.log_costs)
            self._forest.fit(X, y)
            costs = y
        else:
            if mode == "largest":  # instance-based, with features
                X, y, row_ids = data.dataset_instances(self._feature_of, log_costs=self.log_costs)
                width = X.shape[1] - self._features.shape[1]
            else:
                X, y, row_ids = data.dataset_all(log_costs=self.log_costs,
                                                 levels=data.informative_levels(self.min_budget_correlation))
                width = X.shape[1] - 1
            self._forest.fit(X, y)
            first: Dict[int, int] = {}  # each evaluated configuration's first row
            for row, config_id in enumerate(row_ids):
                first.setdefault(config_id, row)
            ids = list(first)
            costs, _ = predict(X[list(first.values()), :width])
        best = float(np.min(costs))

        def score(rows: np.ndarray) -> np.ndarray:
            mean, var = predict(rows)
            return acquisition(mean, var, best)

        order = np.argsort(costs, kind="stable")[: self.n_local_starts]
        good = np.vstack([runhistory.get_config(ids[i]).get_array() for i in order])
        radius = self.penalty_radius * math.sqrt(self._encoder.n_features)
        if self.penalty_volume is not None:
            radius = min(radius, ball_radius(self.penalty_volume / (n_pending + 1), self._encoder.n_features))
        self._pool = build_pool(
            self._sampler, self._encoder, score, good, n_random=self.n_candidates,
            n_local_starts=self.n_local_starts, max_steps=self.local_search_steps, radius=radius,
        )
        self._penalised = set()
        self._penalty_log = []

    def _penalise(self, entry: list, key: bytes, vector: Optional[np.ndarray] = None,
                  encoded: Optional[np.ndarray] = None) -> None:
        self._penalised.add(key)
        self._penalty_log.append(entry)
        self._pool.penalise(self._encoder.encode(vector)[0] if encoded is None else encoded)

    # ------------------------------------------------------------------ state
    def get_state(self) -> Dict[str, Any]:
        """Everything the next proposals depend on besides the RunHistory, JSON-ready and
        small: the random generators, and how to rebuild the candidate pool of the last fit
        (which trials it was fit on, the sampler's state then, and what was penalised since)."""
        fit = self._restore  # restored and not rebuilt yet
        if self._fit_spec is not None:
            fit = dict(self._fit_spec, penalised=list(self._penalty_log))
        return {
            "rng": self._rng.bit_generator.state,
            "random": self._random.get_state(),
            "sampler": self._sampler.get_state(),
            "forest_fits": self._forest.n_fits,
            "n_fits": self.n_fits_,
            "n_model_proposals": self.n_model_proposals_,
            "fit": fit,
        }

    def set_state(self, state: Dict[str, Any]) -> None:
        """Restore :meth:`get_state`; the pool is rebuilt at the next proposal, from the
        RunHistory it is given then."""
        self._rng.bit_generator.state = state["rng"]
        self._random.set_state(state["random"])
        self._sampler.set_state(state["sampler"])
        self._forest.n_fits = state["forest_fits"]
        self.n_fits_ = state["n_fits"]
        self.n_model_proposals_ = state["n_model_proposals"]
        self._pool = None
        self._penalised = set()
        self._penalty_log = []
        self._restore = state["fit"]
        self._fit_spec = None
        self._fit_level = None if state["fit"] is None else state["fit"]["level"]
        self._fit_trials = 0 if state["fit"] is None else state["fit"]["trials"]

    def _rebuild(self, runhistory: RunHistory) -> None:
        spec, self._restore = self._restore, None
        data = TrainingData(self._encoder)
        data.update(runhistory, limit=spec["n_read"])
        sampler_now, fits_now = self._sampler.get_state(), self._forest.n_fits
        self._sampler.set_state(spec["sampler"])
        self._forest.n_fits = spec["forest_fits"]
        self._build(data, spec["level"], runhistory, spec.get("pending", 0))
        self._sampler.set_state(sampler_now)
        self._forest.n_fits = fits_now
        self._fit_spec = {k: v for k, v in spec.items() if k != "penalised"}
        pool = self._pool
        for kind, ref in spec["penalised"]:
            if kind == "p":
                self._penalise([kind, ref], config_key(self._encoder.to_configuration(pool.vectors[ref])),
                               encoded=pool.X[ref])
            else:
                config = (runhistory.get_config(ref) if kind == "c" else
                          self._encoder.to_configuration(np.array([np.nan if v is None else v for v in ref])))
                self._penalise([kind, ref], config_key(config), config.get_array())

    def __repr__(self) -> str:
        acq = self.acquisition
        if not isinstance(acq, str):
            acq = getattr(acq, "__name__", "custom")
        return (
            f"RandomForestSelector(backend={self.backend!r}, acquisition={acq!r}, "
            f"random_fraction={self.random_fraction:.3g}, min_points_in_model={self.min_points_in_model}, "
            f"fits={self.n_fits_})"
        )


def _is_int(value: object, low: int) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low


def ball_radius(volume: float, dimensions: int) -> float:
    """The radius of the ``dimensions``-ball of this volume.

    >>> round(ball_radius(math.pi, 2), 12), round(ball_radius(4 / 3 * math.pi * 8, 3), 12)
    (1.0, 2.0)
    """
    unit = math.pi ** (dimensions / 2) / math.gamma(dimensions / 2 + 1)
    return (volume / unit) ** (1.0 / dimensions)


def _is_real(value: object) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and math.isfinite(value))
