"""Optimizer: ask / tell / optimize; ties the space, the intensifier, the selector, the RunHistory
and the trajectory together. With ``output_dir`` it reports every ask and tell to its
:class:`~smacish._run_directory.RunDirectory`, which makes them durable."""

from __future__ import annotations

import json
import logging
import warnings
from collections import deque
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from smacish import _display, _loop, _snapshot
from smacish._checkpoints import Checkpoints
from smacish._clock import RunClock
from smacish._failures import Catch
from smacish._io import PathLike, check_storable, config_key
from smacish._proposals import Proposals
from smacish._run_directory import RunDirectory
from smacish._seeding import Seed, as_seed
from smacish._stats import RunStats, finished_by_status, timed
from smacish._validation import (as_configuration, direction_errors, instance_feature_errors, objectives_errors,
                                 optimizer_errors)
from smacish._warmstart import carried_over
from smacish.intensifiers.parallel_scheduler import ParallelScheduler
from smacish.runhistory import RunHistory
from smacish.runners._execute import parse_result
from smacish.selection import SELECTORS, ConfigSelector
from smacish.trajectory import Trajectory
from smacish.runhistory import Incumbent
from smacish.trial import (StatusType, TrialInfo, TrialInfoIntent, TrialValue, WaitForResults, charged_budget,
                           check_continued, format_cost)

logger = logging.getLogger("smacish")


class Optimizer:
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
        selector: ``"rf"`` (a random forest over every budget's results, asked about the
            largest budget; the default), ``"kde"`` (BOHB's model), ``"random"``, or an object with ``propose(runhistory, pending)``.
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
            ``direction``: the target returns a dict with a cost under each name, a trial's
            cost is a tuple in this order, promotion ranks by non-dominated sorting and
            crowding distance, the model proposes for a random scalarisation of them at each
            proposal (ParEGO), and :attr:`incumbents` is the Pareto front.
        instance_features: with budgets that are instances, ``{instance: [floats]}`` (SMAC's
            instance features): the random forest learns the cost of each configuration on
            each instance from them, and so predicts it on instances not run yet.
        initial_configs: configurations (or dicts of values) to evaluate first, through the
            intensifier, as :meth:`enqueue` does with each.
        include_default: evaluate the space's default configuration first (before
            ``initial_configs``).
    """

    def __init__(
        self,
        configspace: ConfigurationSpace,
        intensifier: ParallelScheduler,
        selector: Union[str, ConfigSelector] = "rf",
        seed: Seed = 0,
        n_workers: int = 1,
        output_dir: Optional[PathLike] = None,
        crash_cost: Optional[float] = None,
        warmstart: Optional[RunHistory] = None,
        durable: bool = True,
        clock: Optional[RunClock] = None,
        direction: str = "minimize",
        objectives: Optional[Sequence[str]] = None,
        instance_features: Optional[Dict[str, Sequence[float]]] = None,
        initial_configs: Optional[Sequence[Union[Configuration, Dict[str, Any]]]] = None,
        include_default: bool = False,
    ):
        errors = optimizer_errors(configspace, intensifier, selector, seed, n_workers, SELECTORS)
        errors += direction_errors(direction, intensifier, warmstart)
        errors += objectives_errors(objectives, intensifier, warmstart)
        errors += instance_feature_errors(instance_features, intensifier, selector)
        if not isinstance(include_default, bool):
            errors.append(f"include_default is {include_default!r}, but must be True or False")
        if errors:
            raise ValueError("; ".join(errors))
        initial = ([configspace.get_default_configuration()] if include_default else []) + [
            as_configuration(configspace, c) for c in (initial_configs or [])]  # all checked before anything
        self.configspace = configspace
        self.seed = as_seed(seed)  # a Generator / RandomState draws it (after every check passed)
        self.n_workers = n_workers
        selector_seed, scheduler_seed = np.random.SeedSequence(self.seed).generate_state(2)
        self.selector = SELECTORS[selector](configspace, int(selector_seed)) if isinstance(selector, str) else selector
        self.instance_features = ({name: [float(v) for v in vector] for name, vector in instance_features.items()}
                                  if instance_features is not None else None)
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
        self._n_warm = 0
        self._warm_budget = 0.0
        self.optimizer_seconds = 0.0  # inside ask and tell (see stats)
        self.run_directory: Optional[RunDirectory] = None
        if output_dir is not None:
            self.run_directory = RunDirectory.create(Path(output_dir), self, selector, durable)
        for config in initial:
            self.enqueue(config)
        if warmstart is not None:
            trials, skipped = carried_over(warmstart, configspace)
            for info, value in trials:
                self.add_warmstart_trial(info, value)
            if skipped:
                warnings.warn(f"warmstart: {skipped} trial(s) left out, their configurations are not "
                              "valid in this configuration space", UserWarning, stacklevel=2)

    # ------------------------------------------------------------------ ask / tell
    @property
    def n_asked(self) -> int:
        """Trials of this run asked so far (told or pending; warm-start trials not counted)."""
        return len(self.runhistory) - self._n_warm + len(self._pending) - len(self._reissue)

    @property
    def budget_spent(self) -> float:
        """Sum of the budgets of this run's finished trials (warm-start trials not counted; a
        trial that continued from a checkpoint counts only its increment)."""
        return self.runhistory.budget_spent - self._warm_budget

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
        if asked is None or config_key(asked.config) != config_key(info.config):
            if isinstance(info, TrialInfo) and info in self.runhistory:
                raise ValueError(f"trial {info.key} was told already; each trial is told once")
            raise ValueError(f"trial {getattr(info, 'key', info)!r} was never asked; tell only trials from ask()")
        if not isinstance(value, TrialValue):
            cost, extra = parse_result(value, source=f"tell({info.key}, ...) got", objectives=self.objectives)
            value = TrialValue(cost=cost, additional_info=extra)
        if value.status is StatusType.ABORTED and asked in self._reissue:
            raise ValueError(f"trial {info.key} was aborted already; the next ask() hands it out again")
        if value.status is StatusType.RUNNING:
            raise ValueError(f"trial {info.key} is told with status RUNNING; tell it once it has ended")
        problem = check_continued(asked, value.additional_info) or self.runhistory.cost_error(value)
        if problem:
            raise ValueError(f"tell({info.key}, ...): {problem}")
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
        if logger.isEnabledFor(logging.INFO):
            best = format_cost(self.trajectory[-1].cost) if len(self.trajectory) else "nan"
            logger.info(
                "trial %d: config_id=%s budget=%s cost=%s status=%s; %s %s%s",
                len(self.runhistory), asked.config_id, asked.budget, format_cost(value.cost), value.status.value,
                "new on the front" if self.objectives else "incumbent cost", best, " (new)" if entry else "",
            )

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

    @property
    def queued(self) -> List[Tuple[Configuration, Optional[float]]]:
        """Enqueued configurations not asked yet, with their budgets (None: the first stage)."""
        return self.intensifier.queued

    def add_warmstart_trial(self, info: TrialInfo, value: TrialValue) -> None:
        """Add a finished trial of an earlier run as data for this one (not counted in
        :attr:`n_asked` or :attr:`budget_spent`); ``warmstart=`` adds a whole RunHistory."""
        self.runhistory.add(info, value)
        self._n_warm += 1
        self._warm_budget += charged_budget(info, value)
        if self.run_directory is not None:
            self.run_directory.warm(info, value)

    def requeue_pending(self, keys: Sequence[tuple]) -> int:
        """Hand the pending trials with these keys out again first, in this order (a resumed
        run's trials that were running when it stopped); returns how many there are."""
        self._reissue = deque(self._pending[k] for k in keys if k in self._pending)
        return len(self._reissue)

    # ------------------------------------------------------------------ reading
    @property
    def incumbent(self) -> Optional[Configuration]:
        """The best configuration so far under the intensifier's ``incumbent_selection``
        (with several objectives there is none: see :attr:`incumbents`)."""
        return self.runhistory.incumbent(self.intensifier.incumbent_selection, self.intensifier.max_budget)

    @property
    def incumbents(self) -> List[Incumbent]:
        """The Pareto front so far, under the intensifier's ``incumbent_selection``: each
        configuration with its id, the budget it was judged on and its costs, by first cost.
        With one objective, the incumbent alone (or nothing).

        >>> from ConfigSpace import ConfigurationSpace
        >>> import smacish
        >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}, seed=1),
        ...                         smacish.SuccessiveHalving(min_budget=1, max_budget=1), objectives=["a", "b"])
        >>> _ = opt.optimize(lambda config: {"a": config["x"], "b": (1 - config["x"]) ** 2}, n_trials=20)
        >>> front = opt.incumbents
        >>> all(x.cost[0] < y.cost[0] and x.cost[1] > y.cost[1] for x, y in zip(front, front[1:]))
        True
        """
        return self.runhistory.incumbents(self.intensifier.incumbent_selection, self.intensifier.max_budget)

    @property
    def objectives(self) -> Optional[List[str]]:
        """The names of the objectives, or None for one."""
        return self.runhistory.objectives

    @property
    def stats(self) -> RunStats:
        """A read-only snapshot of the run's counters: trials submitted, finished by status and
        running, budget spent, the run clock, the time spent in ask/tell, incumbent changes.

        >>> from ConfigSpace import ConfigurationSpace
        >>> import smacish
        >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}), smacish.Hyperband(min_budget=1, max_budget=9))
        >>> info = opt.ask()
        >>> opt.tell(info, 0.5)
        >>> s = opt.stats
        >>> s.n_submitted, dict(s.n_finished), s.n_running, s.budget_spent, s.incumbent_changes
        (1, {'SUCCESS': 1}, 0, 1.0, 1)
        """
        return RunStats(n_submitted=self.n_asked + len(self._reissue), n_finished=finished_by_status(self.runhistory),
                        n_running=len(self._pending) - len(self._reissue), budget_spent=self.budget_spent,
                        walltime=self.clock.now(), optimizer_time=self.optimizer_seconds,
                        incumbent_changes=len(self.trajectory))

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

    @property
    def n_warmstart_trials(self) -> int:
        """Trials of earlier runs this one was warm-started with."""
        return self._n_warm

    @property
    def warmstart_budget(self) -> float:
        """The budget those warm-start trials spent (not this run's)."""
        return self._warm_budget

    @property
    def output_dir(self) -> Optional[Path]:
        """The run directory's path (None: the run is not kept)."""
        return self.run_directory.path if self.run_directory is not None else None

    # ------------------------------------------------------------------ state and the run directory
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
        pending, self._n_warm, self._warm_budget = _snapshot.restore(self, state)
        self.optimizer_seconds = float(state.get("optimizer_time", 0.0))
        self._pending = {info.key: info for info in pending}
        self.clock.resume(float(state["t"]))

    def save(self) -> None:
        """Write ``output_dir/runhistory.json`` and the state snapshot now (atomically).

        ``optimize`` and :meth:`close` do this for you, and a snapshot of the state is taken
        now and then while trials are told. The event log, written at every tell, is what a
        resume trusts; the snapshot only spares it replaying the whole log."""
        if self.run_directory is None:
            raise ValueError("this Optimizer has no output_dir; pass output_dir= to save")
        self.run_directory.save(self)

    def close(self) -> None:
        """Write the snapshot and close the run's log (also ``with Optimizer(...) as opt:``)."""
        if self.run_directory is not None:
            self.run_directory.close(self)
            self.run_directory = None

    def __enter__(self) -> "Optimizer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @classmethod
    def load(
        cls,
        output_dir: PathLike,
        selector: Optional[ConfigSelector] = None,
        configspace: Optional[ConfigurationSpace] = None,
        intensifier: Optional[ParallelScheduler] = None,
        durable: bool = True,
    ) -> "Optimizer":
        """Rebuild the run in ``output_dir`` and continue it.

        Space, intensifier, selector and seed come from the directory (pass ``selector`` again
        if the run used one of your own). Finished trials are not run again; trials that were
        asked but not told come back first from :meth:`ask`. ``configspace`` / ``intensifier``,
        if given, must equal the stored ones: a changed run is refused (warm-start a new run
        from the old RunHistory instead).
        """
        return RunDirectory.load(cls, output_dir, selector, configspace, intensifier, durable)

    # ------------------------------------------------------------------ the loop
    def optimize(
        self,
        target: Callable[..., Any],
        n_trials: Optional[int] = None,
        walltime_limit: Optional[float] = None,
        budget_limit: Optional[float] = None,
        client: Any = None,
        n_workers: Optional[int] = None,
        memory_limit: Optional[float] = None,
        max_retries: int = 1,
        show_progress: bool = False,
        budget_arg: Optional[str] = None,
        catch: Catch = None,
        checkpoints: Optional[Checkpoints] = None,
    ) -> Union[Optional[Configuration], List[Configuration]]:
        """Run trials until the run has ``n_trials`` trials, has run ``walltime_limit``
        seconds, or has spent ``budget_limit`` (sum of budgets), whichever comes first, and
        return the incumbent (with several objectives, the configurations of the Pareto
        front, as :attr:`incumbents` has them). All three count the whole run, as SMAC3's do (a second call with
        the same limits runs nothing: pass larger ones); the run's seconds are counted from its
        first trial's ask, across resumes, as the trajectory's and the DataFrame's ``walltime``.

        ``target(config, budget=..., seed=..., instance=...)`` gets the keyword arguments its
        signature accepts and returns a cost or a dict with ``"cost"`` (or ``"loss"``); name
        the budget's parameter with ``budget_arg`` when it is not ``budget``. The signature is
        checked before the first trial. With a ``client`` (any ``distributed.Client``) or
        ``n_workers > 1`` (by default the Optimizer's ``n_workers``) the trials run on Dask;
        otherwise in this process. ``memory_limit`` is in MB per trial; a trial whose process
        dies is retried up to ``max_retries`` times. ``show_progress`` shows a tqdm bar
        (terminal or notebook) with the incumbent's cost and the busy workers.

        Failed trials are logged at WARNING (each distinct error once, with its traceback's last
        lines). ``catch`` decides when a failure stops the run with :class:`TargetFailedError`:
        ``None`` (default) when the first 3 trials all crash, ``()`` at any crash, a tuple of
        exception classes at a crash of any other class, ``(Exception,)`` never. Ctrl-C stops
        at once; the trials it interrupted are ABORTED and run first by the next call.

        A target with a ``trial`` parameter gets a :class:`~smacish.TrialContext`: a checkpoint
        directory per configuration and the budget it may continue from, so that a promotion
        trains only the increment (and is charged only that); ``checkpoints`` (a
        :class:`~smacish.Checkpoints`) says where they are kept and which are removed.

        >>> from ConfigSpace import ConfigurationSpace
        >>> import smacish
        >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}),
        ...                         smacish.SuccessiveHalving(min_budget=1, max_budget=9))
        >>> best = opt.optimize(lambda config, epochs: config["x"] / epochs, n_trials=13,
        ...                     budget_arg="epochs")
        >>> len(opt.runhistory)
        13
        """
        return _loop.optimize(self, target, n_trials, walltime_limit, budget_limit, client, n_workers,
                              memory_limit, max_retries, show_progress, budget_arg, catch, checkpoints)

    def _repr_html_(self) -> str:
        return _display.optimizer_html(self)

    def __repr__(self) -> str:
        if self.objectives:
            best = f", {len(self.incumbents)} on the Pareto front of {', '.join(self.objectives)}"
        else:
            inc = self.runhistory.incumbent_entry(self.intensifier.incumbent_selection, self.intensifier.max_budget)
            best = f", incumbent cost {inc.cost:.6g} on budget {inc.budget:g}" if inc else ""
        return f"Optimizer({self.intensifier!r}, {len(self.runhistory)} trials{best})"
