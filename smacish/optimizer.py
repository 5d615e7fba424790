"""Optimizer: the ask/tell core. It ties the space, the intensifier, the selector, the
RunHistory, the trajectory and the pending trials together, and reports every ask and tell to
its :class:`~smacish._run_directory.RunDirectory` (with ``output_dir``), which makes them
durable. It inherits what a run shows (:mod:`smacish._readout`), its run-directory methods
(:mod:`smacish._run_directory`) and the ``optimize`` loop (:mod:`smacish._loop`)."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from smacish import _display, _snapshot
from smacish._clock import RunClock
from smacish._io import PathLike, check_storable
from smacish._loop import OptimizeLoop
from smacish._proposals import Proposals
from smacish._readout import Readout
from smacish._run_directory import Durable, RunDirectory
from smacish._seeding import Seed, as_seed
from smacish._stats import timed
from smacish._validation import (as_configuration, as_instance_features, direction_errors, flag_errors,
                                 instance_feature_errors, objectives_errors, optimizer_errors, told_value)
from smacish._warmstart import WarmStart, warm_start
from smacish.intensifiers.parallel_scheduler import ParallelScheduler
from smacish.runhistory import RunHistory
from smacish.selection import SELECTORS, ConfigSelector
from smacish.trajectory import Trajectory
from smacish.trial import StatusType, TrialInfo, TrialInfoIntent, TrialValue, WaitForResults


class Optimizer(Readout, WarmStart, Durable, OptimizeLoop):
    """Multi-fidelity hyperparameter optimisation with an ask/tell interface.

    >>> from ConfigSpace import ConfigurationSpace
    >>> import smacish
    >>> cs = ConfigurationSpace({"x": (-5.0, 5.0)})
    >>> opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9), seed=0)
    >>> info = opt.ask()
    >>> info.budget, info.config_id
    (1.0, (0, 0, 0))
    >>> opt.tell(info, (info.config["x"] - 1) ** 2)
    >>> incumbent = opt.optimize(lambda config, budget: (config["x"] - 1) ** 2, n_trials=30)
    >>> len(opt.runhistory)
    30

    Args:
        configspace: the search space.
        intensifier: a :class:`SuccessiveHalving` or :class:`Hyperband` (new for each Optimizer).
        selector: ``"rf"`` (a random forest over every budget's results, asked about the largest
            budget; the default), ``"kde"`` (BOHB's), ``"random"``, or an object with ``propose``.
        seed: seeds every random choice; the same seed and results give the same asks. An int,
            or a ``numpy.random.Generator`` / ``RandomState``, which gives the int it draws (the
            same state, the same run); the int is what :attr:`seed` and a run directory keep.
        n_workers: the concurrency ``ask`` plans for when called without ``n_workers``.
        output_dir: a new directory for the run: settings, a durable log of every trial, the
            RunHistory and the trajectory. Resume a run with :meth:`Optimizer.load`.
        crash_cost: the cost a crashed trial counts with (None: the worst, ``inf``; ``-inf``
            when maximising).
        warmstart: a RunHistory of an earlier run (same space) whose trials seed this one.
        durable: with ``output_dir``, fsync each tell (``False``: flush only, which survives a
            killed process but not a power cut, and is faster).
        clock: the run clock (:class:`~smacish.RunClock`; a simulation passes its own).
        direction: ``"minimize"`` (the default) or ``"maximize"`` the cost (an accuracy, a
            reward). Costs are kept and shown as the target returns them; the incumbent, the
            trajectory and every ranking take the best to be the highest.
        objectives: names of several objectives (e.g. ``["error", "latency"]``), all in
            ``direction``: the target returns a dict with a cost under each name, promotions and
            proposals use random scalarisations (ParEGO), and :attr:`incumbents` is the Pareto front.
        instance_features: with budgets that are instances, ``{instance: [floats]}`` (SMAC's): the
            random forest learns each instance's cost from them, so predicts instances not run yet.
        initial_configs: configurations (or dicts of values) to evaluate first, through the
            intensifier, as :meth:`enqueue` does with each.
        include_default: evaluate the space's default configuration first (before
            ``initial_configs``).
    """

    def __init__(self, configspace: ConfigurationSpace, intensifier: ParallelScheduler,
                 selector: Union[str, ConfigSelector] = "rf", seed: Seed = 0, n_workers: int = 1,
                 output_dir: Optional[PathLike] = None, crash_cost: Optional[float] = None,
                 warmstart: Optional[RunHistory] = None, durable: bool = True, clock: Optional[RunClock] = None,
                 direction: str = "minimize", objectives: Optional[Sequence[str]] = None,
                 instance_features: Optional[Dict[str, Sequence[float]]] = None,
                 initial_configs: Optional[Sequence[Union[Configuration, Dict[str, Any]]]] = None,
                 include_default: bool = False):
        errors = (optimizer_errors(configspace, intensifier, selector, seed, n_workers, SELECTORS)
                  + direction_errors(direction, intensifier, warmstart) + objectives_errors(objectives, intensifier, warmstart)
                  + instance_feature_errors(instance_features, intensifier, selector) + flag_errors(include_default=include_default))
        if errors:
            raise ValueError("; ".join(errors))
        initial = ([configspace.get_default_configuration()] if include_default else []) + [
            as_configuration(configspace, c) for c in (initial_configs or [])]  # all checked before anything
        self.configspace = configspace
        self.seed = as_seed(seed)  # a Generator / RandomState draws it (after every check passed)
        self.n_workers = n_workers
        selector_seed, scheduler_seed = np.random.SeedSequence(self.seed).generate_state(2)
        self.selector = SELECTORS[selector](configspace, int(selector_seed)) if isinstance(selector, str) else selector
        self.instance_features = as_instance_features(instance_features)
        if self.instance_features is not None:
            self.selector.use_instance_features(self.instance_features)
        self.runhistory = RunHistory(configspace, crash_cost=crash_cost, direction=direction, objectives=objectives)
        self.intensifier = intensifier
        self._proposals = Proposals(self.selector, configspace, self.seed, self.runhistory.n_objectives)
        intensifier.bind(self.runhistory, self._proposals, int(scheduler_seed))
        self.clock = clock if clock is not None else RunClock()  # starts at the run's first ask
        self.trajectory = Trajectory(clock=self.clock.now)
        self.callbacks: List[Callable[[TrialInfo, TrialValue], None]] = []  # called after each tell
        self._pending: Dict[tuple, TrialInfo] = {}
        self._reissue: Deque[TrialInfo] = deque()
        self.optimizer_seconds = 0.0  # inside ask and tell (see stats)
        self.run_directory: Optional[RunDirectory] = None
        if output_dir is not None:
            self.run_directory = RunDirectory.create(Path(output_dir), self, selector, durable)
        for config in initial:
            self.enqueue(config)
        if warmstart is not None:
            warm_start(self, warmstart)

    # ------------------------------------------------------------------ ask / tell
    @property
    def n_asked(self) -> int:
        """Trials of this run asked so far (told or pending; warm-start trials not counted)."""
        return len(self.runhistory) - self.n_warmstart_trials + len(self._pending) - len(self._reissue)

    @property
    def budget_spent(self) -> float:
        """Sum of the budgets of this run's finished trials (warm-start trials not counted; a
        trial that continued from a checkpoint counts only its increment)."""
        return self.runhistory.budget_spent - self.warmstart_budget

    @timed
    def ask(self, n_workers: Optional[int] = None) -> TrialInfo:
        """The next trial to run. Never blocks: raises :class:`WaitForResults` when nothing can
        run until pending trials are told (every one of ``n_workers`` instances waits).

        Trials told ABORTED (and, after :meth:`load`, trials that were pending when the run
        stopped) come first, with the same configuration, budget and ``config_id``."""
        self.clock.start()
        if self._reissue:
            info = self._reissue.popleft()
            self.runhistory.add_running(info)
            if self.run_directory is not None:
                self.run_directory.reissued(info, self.clock.now())
            return info
        n_workers = n_workers or self.n_workers
        self._proposals.record = self.run_directory is not None
        self._proposals.recorded = []
        intent, info = self.intensifier.get_next_trial(n_workers)
        if intent is not TrialInfoIntent.RUN:
            raise WaitForResults(len(self._pending))
        self._pending[info.key] = info
        self.runhistory.add_running(info)
        if self.run_directory is not None:
            self.run_directory.asked(info, n_workers, self.clock.now(), self._proposals.recorded)
        return info

    def replay_ask(self, n_workers: int, configs: Sequence[Any]) -> Tuple[TrialInfo, int]:
        """Ask as a logged run asked: the scheduler is served ``configs`` (configurations as
        the run log holds them) instead of the selector's proposals. Returns the trial and the
        number of ``configs`` left unused (0 when the replay agrees with the log)."""
        self._proposals.forced = deque(configs)
        try:
            return self.ask(n_workers), len(self._proposals.forced)
        finally:
            self._proposals.forced = deque()

    @timed
    def tell(self, info: TrialInfo, value: Union[TrialValue, float, Dict[str, Any]]) -> None:
        """Report the result of an asked trial: a :class:`TrialValue`, a bare cost, or a dict with
        ``"cost"`` (and other keys as ``additional_info``), as a target may return.

        A trial told ABORTED (the optimiser stopped it, not its configuration) is no result: it
        stays pending and the next :meth:`ask` hands it out again."""
        asked = self._pending.get(info.key) if isinstance(info, TrialInfo) else None
        value = told_value(asked, info, value, self.runhistory, self._reissue)
        now = round(self.clock.now(), 6)  # as the log keeps it, so that a replay gives the same
        run_dir = self.run_directory
        # a value a run cannot store is refused before anything changes, with or without a log
        line = check_storable(info.key, value.additional_info,
                              lambda: run_dir.tell_line(asked, value, now) if run_dir is not None else None)
        if value.status is StatusType.ABORTED:
            self.runhistory.add(asked, value)  # in runhistory.aborted() until it runs again
            self._reissue.append(asked)
            if run_dir is not None:
                run_dir.told(line)
            return
        if asked in self._reissue:  # told without being asked again after a resume
            self._reissue.remove(asked)
        self.runhistory.add(asked, value, walltime=now)
        del self._pending[info.key]
        self.intensifier.process_result(asked, value)
        if run_dir is not None:  # durable before user code (callbacks) can fail
            run_dir.told(line)
        # the trajectory first, so that callbacks (the progress bar too) see the new incumbent
        entry = self.trajectory.update(self.runhistory, self.intensifier.incumbent_selection, self.intensifier.max_budget)
        if run_dir is not None:
            run_dir.result_added(self)
        for callback in self.callbacks:
            callback(asked, value)
        _display.log_told(self, asked, value, entry is not None)

    def enqueue(self, config: Union[Configuration, Dict[str, Any]], budget: Optional[float] = None) -> Configuration:
        """Evaluate ``config`` (a Configuration or a dict of values) before any the selector
        proposes, through the intensifier: it enters the first stage of the next successive-
        halving run that draws a configuration, or, with ``budget`` (one of the intensifier's
        budgets), starts there; its results are data for the model like any. A value outside
        the space, an unknown name or a budget no run starts on is a ValueError, and nothing
        changes. Enqueued configurations survive a resume.

        >>> from ConfigSpace import ConfigurationSpace
        >>> import smacish
        >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}),
        ...                         smacish.Hyperband(min_budget=1, max_budget=9))
        >>> _ = opt.enqueue({"x": 0.25})
        >>> info = opt.ask()
        >>> info.config["x"], info.budget
        (0.25, 1.0)
        """
        config = as_configuration(self.configspace, config)
        self.intensifier.enqueue(config, budget)
        if self.run_directory is not None:
            self.run_directory.enqueued(config, self.intensifier.queued[-1][1])
        return config

    def requeue_pending(self, keys: Sequence[tuple]) -> int:
        """Hand the pending trials with these keys out again first, in this order (a resumed
        run's trials that were running when it stopped); returns how many there are."""
        self._reissue = deque(self._pending[k] for k in keys if k in self._pending)
        return len(self._reissue)

    # ------------------------------------------------------------------ pending trials
    @property
    def pending(self) -> List[TrialInfo]:
        """Trials asked and not yet told, in the order they were asked."""
        return list(self._pending.values())

    def pending_trial(self, key: tuple) -> Optional[TrialInfo]:
        """The pending trial with this :attr:`TrialInfo.key`, or None."""
        return self._pending.get(key)

    @property
    def to_ask_again(self) -> List[TrialInfo]:
        """Pending trials that the next asks hand out again first (ABORTED, or resumed)."""
        return list(self._reissue)

    # ------------------------------------------------------------------ state
    def get_state(self) -> Dict[str, Any]:
        """The run's whole state as JSON-compatible data: RunHistory, trajectory, every SH
        instance, the selector's and the scheduler's random state and the pending trials.
        :meth:`set_state` on a new Optimizer with the same settings continues from it."""
        state = json.loads(_snapshot.Writer().text(self))
        del state["log"], state["runhistory_json"]
        return state

    def set_state(self, state: Dict[str, Any]) -> None:
        """Continue from :meth:`get_state`'s data; the Optimizer must be new (nothing asked)."""
        if len(self.runhistory) or self._pending:
            raise ValueError("set_state() needs a new Optimizer (with nothing asked or told yet)")
        pending, n_warm, warm_budget = _snapshot.restore(self, state)
        self._set_warmstart_counts(n_warm, warm_budget)
        self.optimizer_seconds = float(state.get("optimizer_time", 0.0))
        self._pending = {info.key: info for info in pending}
        self.clock.resume(float(state["t"]))
