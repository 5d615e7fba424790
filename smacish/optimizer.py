"""Optimizer: ask / tell / optimize; ties the space, the intensifier, the selector, the RunHistory
and the trajectory together, and (with ``output_dir``) makes every tell durable."""

from __future__ import annotations

import errno
import html
import logging
import math
import time
import warnings
import weakref
from collections import deque
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from smacish import _runlog, _snapshot
from smacish._io import PathLike, atomic_write_text, config_from_json, config_key, dumps, space_from_json, space_to_json
from smacish.intensifiers.parallel_scheduler import ParallelScheduler
from smacish.runhistory import RunHistory
from smacish._failures import Catch, FailureWatch
from smacish._lock import RunLock
from smacish.runners._execute import check_target, parse_result
from smacish.selection import ConfigSelector, RandomForestSelector, RandomSelector
from smacish.selection.kde import KDESelector
from smacish.trajectory import Trajectory
from smacish.trial import StatusType, TrialInfo, TrialInfoIntent, TrialValue, WaitForResults, key_from_json

logger = logging.getLogger("smacish")

SELECTORS: Dict[str, Callable[[ConfigurationSpace, int], ConfigSelector]] = {
    "random": lambda space, seed: RandomSelector(space, seed=seed),
    "rf": lambda space, seed: RandomForestSelector(space, seed=seed),
    "kde": lambda space, seed: KDESelector(space, seed=seed),
}


class _Proposals:
    """Stands between the scheduler and the selector: records each proposal (configuration and
    the selector's state after it) for the run log, or, while a run is replayed, hands back the
    logged proposals instead of asking the selector again."""

    def __init__(self, selector: ConfigSelector):
        self.selector = selector
        self.recorded: List[Dict[str, Any]] = []
        self.forced: Deque[Dict[str, Any]] = deque()
        self.forced_state: Optional[Dict[str, Any]] = None  # the last replayed selector state
        self.record = False
        self.space: Optional[ConfigurationSpace] = None

    def propose(self, runhistory: RunHistory, pending: Sequence[Configuration]) -> Configuration:
        if self.forced:
            proposal = self.forced.popleft()
            if proposal.get("state") is not None:  # applied once, when the replay ends
                self.forced_state = proposal["state"]
            elif "update" in proposal:  # the keys that changed since the last state
                self.forced_state = {**self.forced_state, **proposal["update"]}
            return config_from_json(self.space, proposal["config"])
        config = self.selector.propose(runhistory, pending)
        if self.record:
            state = self.selector.get_state() if hasattr(self.selector, "get_state") else None
            self.recorded.append({"config": config, "state": state})
        return config


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
            largest budget; the default), ``"random"``, or an object with ``propose(runhistory, pending)``.
        seed: seeds every random choice; the same seed and results give the same asks.
        n_workers: the concurrency ``ask`` plans for when called without ``n_workers``.
        output_dir: a new directory for the run: settings, a durable log of every trial, the
            RunHistory and the trajectory. Resume a run with :meth:`Optimizer.load`.
        crash_cost: the cost a crashed trial counts with.
        warmstart: a RunHistory of an earlier run (same space) whose trials seed this one.
        durable: with ``output_dir``, fsync each tell (``False``: flush only, which survives a
            killed process but not a power cut, and is faster).
    """

    def __init__(
        self,
        configspace: ConfigurationSpace,
        intensifier: ParallelScheduler,
        selector: Union[str, ConfigSelector] = "rf",
        seed: int = 0,
        n_workers: int = 1,
        output_dir: Optional[PathLike] = None,
        crash_cost: float = math.inf,
        warmstart: Optional[RunHistory] = None,
        durable: bool = True,
    ):
        self._setup(configspace, intensifier, selector, seed, n_workers, crash_cost)
        self.output_dir = Path(output_dir) if output_dir is not None else None
        if self.output_dir is not None:
            self._create_run_dir(selector, durable)
        if warmstart is not None:
            self._warmstart(warmstart)
        self._start_clock(0.0)

    def _setup(self, configspace, intensifier, selector, seed, n_workers, crash_cost) -> None:
        errors = []
        if not isinstance(configspace, ConfigurationSpace):
            errors.append(f"configspace must be a ConfigSpace ConfigurationSpace, got {type(configspace).__name__}")
        elif len(list(configspace.keys())) == 0:
            errors.append("configspace has no hyperparameters; add at least one")
        if not isinstance(intensifier, ParallelScheduler):
            errors.append(
                f"intensifier must be a SuccessiveHalving or Hyperband, got {type(intensifier).__name__}"
            )
        if isinstance(selector, str) and selector not in SELECTORS:
            errors.append(f"selector is {selector!r}, but must be one of {sorted(SELECTORS)} or an object with propose()")
        elif not isinstance(selector, str) and not callable(getattr(selector, "propose", None)):
            errors.append(f"selector {selector!r} has no propose(runhistory, pending) method")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            errors.append(f"seed is {seed!r}, but must be an int")
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            errors.append(f"n_workers is {n_workers!r}, but must be an int >= 1")
        if errors:
            raise ValueError("; ".join(errors))

        self.configspace = configspace
        self.seed = int(seed)
        self.n_workers = n_workers
        selector_seed, scheduler_seed = np.random.SeedSequence(self.seed).generate_state(2)
        self.selector = SELECTORS[selector](configspace, int(selector_seed)) if isinstance(selector, str) else selector
        self.runhistory = RunHistory(configspace, crash_cost=crash_cost)
        self.intensifier = intensifier
        self._proposals = _Proposals(self.selector)
        self._proposals.space = configspace
        intensifier.bind(self.runhistory, self._proposals, int(scheduler_seed))
        self._t0: Optional[float] = None  # the run clock starts at the run's first ask
        self._time_override: Optional[float] = None
        self.trajectory = Trajectory(clock=_clock_of(self))
        self._pending: Dict[tuple, TrialInfo] = {}
        self.callbacks: List[Callable[[TrialInfo, TrialValue], None]] = []  # called after each tell
        self._reissue: Deque[TrialInfo] = deque()
        self._n_warm = 0
        self._warm_budget = 0.0
        self._log: Optional[_runlog.RunLog] = None
        self._snapshot_events = 0  # events of the log the last state snapshot stands for
        self._snapshot_writer = _snapshot.Writer()

    # ------------------------------------------------------------------ the clock
    def _start_clock(self, elapsed_before: float) -> None:
        self._t0 = time.monotonic() - elapsed_before if elapsed_before > 0 else None
        self.trajectory._start = 0.0

    def _now(self) -> float:
        """The run clock: seconds since the run's first trial was asked, counting the time of
        every process that ran it (not the time between them); 0 before the first ask, the
        logged time while replaying. The trajectory, the DataFrame's ``walltime`` and
        ``walltime_limit`` all read it."""
        if self._time_override is not None:
            return self._time_override
        return 0.0 if self._t0 is None else time.monotonic() - self._t0

    # ------------------------------------------------------------------ ask / tell
    @property
    def n_asked(self) -> int:
        """Trials of this run asked so far (told or pending; warm-start trials not counted)."""
        return len(self.runhistory) - self._n_warm + len(self._pending) - len(self._reissue)

    @property
    def budget_spent(self) -> float:
        """Sum of the budgets of this run's finished trials (warm-start trials not counted)."""
        return self.runhistory.budget_spent - self._warm_budget

    def ask(self, n_workers: Optional[int] = None) -> TrialInfo:
        """The next trial to run. Never blocks: raises :class:`WaitForResults` when nothing can
        run until pending trials are told (every one of ``n_workers`` instances waits).

        Trials told ABORTED (and, after :meth:`load`, trials that were pending when the run
        stopped) come first, with the same configuration, budget and ``config_id``."""
        if self._t0 is None and self._time_override is None:
            self._t0 = time.monotonic()
        if self._reissue:
            info = self._reissue.popleft()
            self.runhistory.add_running(info)
            if self._log is not None:
                self._log.reissue(info, self._now())
            return info
        n_workers = n_workers or self.n_workers
        self._proposals.record = self._log is not None
        self._proposals.recorded = []
        intent, info = self.intensifier.get_next_trial(n_workers)
        if intent is not TrialInfoIntent.RUN:
            raise WaitForResults(len(self._pending))
        self._pending[info.key] = info
        self.runhistory.add_running(info)
        if self._log is not None:
            self._log.ask(info, n_workers, self._now(), self._proposals.recorded)
        return info

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
            cost, extra = parse_result(value, source=f"tell({info.key}, ...) got")
            value = TrialValue(cost=cost, additional_info=extra)
        if value.status is StatusType.ABORTED and asked in self._reissue:
            raise ValueError(f"trial {info.key} was aborted already; the next ask() hands it out again")
        if value.status is StatusType.RUNNING:
            raise ValueError(f"trial {info.key} is told with status RUNNING; tell it once it has ended")
        now = round(self._now(), 6)  # as the log keeps it, so that a replay gives the same
        try:  # a value a run cannot store is refused before anything changes, with or without a log
            if self._log is not None:
                line = self._log.tell_line(asked, value, now)
            elif value.additional_info:
                dumps(value.additional_info)
        except (TypeError, ValueError):
            key, what = _json_problem(value.additional_info)
            raise TypeError(f"trial {info.key}: additional_info[{key!r}] is {what}, which a run cannot "
                            "store; keep additional_info to numbers, strings, lists and dicts") from None
        if value.status is StatusType.ABORTED:
            self.runhistory.add(asked, value)  # in runhistory.aborted() until it runs again
            self._reissue.append(asked)
            if self._log is not None:
                self._log.tell(line)
            return
        if asked in self._reissue:  # told without being asked again after a resume
            self._reissue.remove(asked)
        self.runhistory.add(asked, value, walltime=now)
        del self._pending[info.key]
        self.intensifier.process_result(asked, value)
        if self._log is not None:  # durable before user code (callbacks) can fail
            self._log.tell(line)
        # the trajectory first, so that callbacks (the progress bar too) see the new incumbent
        entry = self.trajectory.update(self.runhistory, self.intensifier.incumbent_selection, self.intensifier.max_budget)
        if self._log is not None and _snapshot.due(self._log.n_events, self._snapshot_events):
            self._write_state()
        for callback in self.callbacks:
            callback(asked, value)
        if logger.isEnabledFor(logging.INFO):
            best = self.trajectory[-1].cost if len(self.trajectory) else math.nan
            logger.info(
                "trial %d: config_id=%s budget=%s cost=%.6g status=%s; incumbent cost %.6g%s",
                len(self.runhistory), asked.config_id, asked.budget, value.cost, value.status.value,
                best, " (new)" if entry else "",
            )

    # ------------------------------------------------------------------ reading
    @property
    def incumbent(self) -> Optional[Configuration]:
        """The best configuration so far under the intensifier's ``incumbent_selection``."""
        return self.runhistory.incumbent(self.intensifier.incumbent_selection, self.intensifier.max_budget)

    @property
    def pending(self) -> List[TrialInfo]:
        """Trials asked and not yet told."""
        return list(self._pending.values())

    # ------------------------------------------------------------------ the run directory
    def _settings(self, selector: Union[str, ConfigSelector]) -> Dict[str, Any]:
        return {
            "configspace": space_to_json(self.configspace),
            "intensifier": {"class": type(self.intensifier).__name__, "settings": self.intensifier.settings},
            "selector": selector if isinstance(selector, str) else None,
            "selector_class": type(self.selector).__qualname__,
            "seed": self.seed,
            "n_workers": self.n_workers,
            "crash_cost": self.runhistory.crash_cost,
        }

    def _create_run_dir(self, selector: Union[str, ConfigSelector], durable: bool) -> None:
        out = self.output_dir
        if out.exists() and _runlog.holds_run(out):
            raise FileExistsError(
                f"{out} already holds a run; resume it with smacish.Optimizer.load({str(out)!r}) "
                "or choose a new output_dir"
            )
        try:
            out.mkdir(parents=True, exist_ok=True)
            lock = RunLock(out)
            _runlog.write_settings(out, self._settings(selector))
            self._open_log(durable, lock=lock)
        except OSError as err:
            raise type(err)(f"output_dir {out} cannot hold a run ({err.strerror or err}); choose another") from None
        self.trajectory.path = out / _runlog.TRAJECTORY

    def _open_log(self, durable: bool, n_events: int = 0, lock: Optional[RunLock] = None) -> None:
        own = isinstance(self.selector, (RandomSelector, RandomForestSelector, KDESelector))
        self._log = _runlog.RunLog(self.output_dir, durable, n_events, delta_states=own, lock=lock)

    def _warmstart(self, previous: RunHistory) -> None:
        """Seed this run with an earlier run's trials. From a different space, each configuration
        is carried over by its values (new hyperparameters at their defaults); configurations
        that are not valid in this space are left out with a warning."""
        if not isinstance(previous, RunHistory):
            raise TypeError(f"warmstart must be a RunHistory, got {type(previous).__name__}")
        same = previous.configspace is None or previous.configspace == self.configspace
        moved: Dict[int, Optional[Configuration]] = {}
        skipped = 0
        for info, value in previous.items():
            cid = previous.config_id(info.config)
            if cid not in moved:
                moved[cid] = _carry_over(info.config, self.configspace, same)
            config = moved[cid]
            if config is None:
                skipped += 1
                continue
            self._add_warm(TrialInfo(config, info.budget, info.instance, info.seed, None, info.cutoff), value)
        if skipped:
            warnings.warn(f"warmstart: {skipped} trial(s) left out, their configurations are not "
                          "valid in this configuration space", UserWarning, stacklevel=3)

    def _add_warm(self, info: TrialInfo, value: TrialValue) -> None:
        self.runhistory.add(info, value)
        self._n_warm += 1
        self._warm_budget += 1.0 if info.budget is None else info.budget
        if self._log is not None:
            self._log.warm(info, value)

    def save(self) -> None:
        """Write ``output_dir/runhistory.json`` and the state snapshot now (atomically).

        ``optimize`` and :meth:`close` do this for you, and a snapshot of the state is taken
        now and then while trials are told. The event log, written at every tell, is what a
        resume trusts; the snapshot only spares it replaying the whole log."""
        if self.output_dir is None:
            raise ValueError("this Optimizer has no output_dir; pass output_dir= to save")
        path = self.output_dir / _runlog.RUNHISTORY
        self.runhistory.save(path)
        if self._log is not None:
            self._write_state(_snapshot.file_stat(path))

    def _write_state(self, runhistory_stat: Optional[list] = None) -> None:
        self._snapshot_writer.write(self, self._log.n_events, self._log.offset, runhistory_stat)
        self._log.restart_states()
        self._snapshot_events = self._log.n_events

    def close(self) -> None:
        """Write the snapshot and close the run's log (also ``with Optimizer(...) as opt:``)."""
        if self._log is not None:
            self.save()
            self._log.close()
            self._log = None

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
        out = Path(output_dir)
        settings = _runlog.read_settings(out)
        settings_path = out / _runlog.SETTINGS
        try:
            stored_space = space_from_json(settings["configspace"])
        except Exception as err:  # noqa: BLE001 - ConfigSpace raises several kinds for bad input
            raise ValueError(f"{settings_path} is damaged (its configuration space cannot be read: "
                             f"{type(err).__name__} {err}); the run cannot be resumed") from None
        hint = (f"; to start a changed run from this one, use smacish.Optimizer(..., warmstart="
                f"smacish.RunHistory.load({str(out / _runlog.RUNHISTORY)!r}))")
        if configspace is not None and configspace != stored_space:
            raise ValueError(
                f"the configuration space differs from the one the run in {out} was started with "
                f"({_runlog.space_difference(stored_space, configspace)}){hint}"
            )
        space = configspace if configspace is not None else stored_space
        stored_int = settings["intensifier"]
        if intensifier is not None:
            diffs = [f"{k}: {stored_int['settings'].get(k)!r} -> {v!r}"
                     for k, v in intensifier.settings.items() if stored_int["settings"].get(k) != _json_round(v)]
            if type(intensifier).__name__ != stored_int["class"]:
                diffs.insert(0, f"class: {stored_int['class']} -> {type(intensifier).__name__}")
            if diffs:
                raise ValueError(f"the intensifier differs from the run in {out} ({'; '.join(diffs)}){hint}")
        else:
            from smacish import intensifiers

            try:  # the class name is one of _runlog.INTENSIFIER_CLASSES (checked on reading)
                intensifier = getattr(intensifiers, stored_int["class"])(**stored_int["settings"])
            except (TypeError, ValueError) as err:
                raise ValueError(f"{settings_path} is damaged (its intensifier cannot be rebuilt: {err}); "
                                 "the run cannot be resumed") from None
        if selector is None:
            if settings["selector"] is None:
                raise ValueError(
                    f"the run in {out} used its own selector ({settings['selector_class']}); "
                    "pass it again: Optimizer.load(..., selector=...)"
                )
            selector = settings["selector"]
            if selector not in SELECTORS:
                raise ValueError(f"{settings_path} is damaged (selector is {selector!r}, but must be one of "
                                 f"{sorted(SELECTORS)}); the run cannot be resumed")

        def fresh() -> "Optimizer":
            opt = cls.__new__(cls)
            # a second fresh optimiser (after a damaged snapshot) needs an unbound intensifier
            fresh_intensifier = intensifier if not intensifier._bound else type(intensifier)(**intensifier.settings)
            opt._setup(space, fresh_intensifier, selector, settings["seed"], settings["n_workers"],
                       settings["crash_cost"])
            opt.output_dir = out
            return opt

        if not _runlog.run_file(out, _runlog.EVENTS).exists():  # a partial copy: resuming would start over
            kept = [name for name in (_runlog.RUNHISTORY, _runlog.STATE, _runlog.TRAJECTORY) if (out / name).exists()]
            raise FileNotFoundError(
                f"{out / _runlog.EVENTS} is missing, so the run in {out} cannot be resumed (it would start over"
                + (f" and overwrite {', '.join(kept)}" if kept else "") + "). Copy the whole directory; to read "
                f"what is there, use smacish.RunHistory.load({str(out / _runlog.RUNHISTORY)!r})"
            )
        opt = None
        lock = None
        try:
            lock = RunLock(out)  # before reading: no other writer may append meanwhile
            opt, n_events, current = cls._rebuild(out, fresh)
            opt._open_log(durable, n_events, lock=lock)
            opt.trajectory.path = out / _runlog.TRAJECTORY
            atomic_write_text(opt.trajectory.path, "".join(dumps(e.__dict__) + "\n" for e in opt.trajectory))
            if not current:
                opt.save()
        except BaseException as err:
            if opt is not None and opt._log is not None:
                opt._log.close(trim=False)  # a refused resume changes nothing (and frees the lock)
            elif lock is not None:
                lock.release()
            if not isinstance(err, OSError):
                raise
            why = ("the directory is not writable" if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
                   else "writing to it failed")
            raise type(err)(
                f"cannot resume the run in {out}: {why} ({err.strerror or err}: {err.filename}); a resumed "
                f"run appends to its log. To read it without resuming, use smacish.RunHistory.load("
                f"{str(out / _runlog.RUNHISTORY)!r})"
            ) from None
        return opt

    @staticmethod
    def _rebuild(out: Path, fresh: Callable[[], "Optimizer"]) -> Tuple["Optimizer", int, bool]:
        """A fresh optimiser brought to the end of the run's log: from the state snapshot and
        the events after it or, without a usable snapshot, from the whole log. Returns it, the
        number of events in the log, and whether the files need no rewriting: a usable snapshot
        next to the runhistory.json written with it (the events after it are replayed again by
        the next load, until the next snapshot; rewriting a big run's files now would cost more
        than the replay)."""
        state, problem = _snapshot.read(out)
        if state is not None:
            _runlog.check_before(out, state["log"]["offset"])
            opt = fresh()
            try:
                asked = _snapshot.restore(opt, state)
                skip, start = state["log"]["events"], state["log"]["offset"]
                events = _runlog.read_events(out, line_numbers=True, start=start, skip_lines=skip)
                opt._replay(events, asked, float(state["t"]))
                opt._snapshot_events = skip
                written = _snapshot.file_stat(out / _runlog.RUNHISTORY)
                current = written is not None and state.get("runhistory_json") == written
                return opt, skip + len(events), current
            except OSError:
                raise
            except Exception as err:  # noqa: BLE001 - whatever went wrong, the log alone rebuilds the run
                problem = f"{out / _runlog.STATE} could not be used ({type(err).__name__}: {err})"
        if problem:
            warnings.warn(f"{problem}; the run is rebuilt from {_runlog.EVENTS} alone (slower)",
                          RuntimeWarning, stacklevel=3)
        opt = fresh()
        events = _runlog.read_events(out, line_numbers=True)
        opt._replay(events, [], 0.0)
        return opt, len(events), False

    def _replay(self, events: List[tuple], asked_order: List[tuple], last_t: float) -> None:
        """Bring the run up to date from its ``(line number, event)`` pairs (after a snapshot
        whose pending trials were asked in ``asked_order``, at time ``last_t``); a damaged
        event is a ValueError naming the file and line."""
        path = self.output_dir / _runlog.EVENTS
        for number, event in events:
            kind = event["e"]
            try:
                self._time_override = last_t = float(event.get("t", last_t))
                if kind == "ask":
                    self._proposals.forced = deque(
                        dict(p, config=event["trial"]["config"]) if p["config"] == "trial" else p
                        for p in event["proposals"]
                    )
                    n_workers = event["n_workers"]
                    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
                        raise TypeError(f"n_workers is {n_workers!r}, but must be an int >= 1")
                    try:
                        info = self.ask(n_workers)
                    except WaitForResults:
                        raise ValueError(f"{path}, line {number}: an ask where the run had nothing to "
                                         "run; was the log edited, or did smacish's version change?") from None
                    trial = event["trial"]
                    logged = (tuple(trial["config_id"]) if trial["config_id"] else None, trial["instance"],
                              trial["seed"], trial["budget"])
                    if info.key != logged or self._proposals.forced:
                        raise ValueError(
                            f"{path}, line {number}: replaying the run asked "
                            f"{info.key}, but the log says {logged}; was the log edited, or did smacish's "
                            "version change?"
                        )
                    asked_order.append(info.key)
                elif kind == "tell":
                    key = key_from_json(event["trial"])
                    if key not in self._pending:
                        raise ValueError(f"{path}, line {number}: tells {key}, which was not pending")
                    self.tell(self._pending[key], _runlog.value_from_json(event["value"]))
                elif kind == "reissue":  # an aborted trial asked again (or a resumed one: no-op)
                    info = self._pending[key_from_json(event["trial"])]
                    if info in self._reissue:
                        self._reissue.remove(info)
                        self.runhistory.add_running(info)
                elif kind == "warm":
                    self._add_warm(_runlog.trial_from_json(self.configspace, event["trial"]),
                                   _runlog.value_from_json(event["value"]))
            except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
                if isinstance(err, ValueError) and str(err).startswith(str(path)):
                    raise
                raise ValueError(f"{path}, line {number}: damaged {kind!r} event ({type(err).__name__}: "
                                 f"{err}); the log cannot be replayed") from None
        self._time_override = None
        if self._proposals.forced_state is not None and hasattr(self.selector, "set_state"):
            self.selector.set_state(self._proposals.forced_state)
        self._start_clock(last_t)
        self._reissue = deque(self._pending[k] for k in asked_order if k in self._pending)
        if self._reissue:
            logger.warning("resumed run: %d trial(s) that were pending are asked again first", len(self._reissue))

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
    ) -> Optional[Configuration]:
        """Run trials until the run has ``n_trials`` trials, has run ``walltime_limit``
        seconds, or has spent ``budget_limit`` (sum of budgets), whichever comes first, and
        return the incumbent. All three count the whole run, as SMAC3's do (a second call with
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

        >>> from ConfigSpace import ConfigurationSpace
        >>> import smacish
        >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}),
        ...                         smacish.SuccessiveHalving(min_budget=1, max_budget=9))
        >>> best = opt.optimize(lambda config, epochs: config["x"] / epochs, n_trials=13,
        ...                     budget_arg="epochs")
        >>> len(opt.runhistory)
        13
        """
        from smacish.runners import Limits, run_dask, run_serial
        from smacish.runners._main_guard import check_main_guard

        limits = Limits(n_trials, walltime_limit, budget_limit, clock=self._now, origin=0.0)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries is {max_retries!r}, but must be an int >= 0")
        if memory_limit is not None and not (isinstance(memory_limit, (int, float)) and memory_limit > 0):
            raise ValueError(f"memory_limit is {memory_limit!r}, but must be None or a number of MB > 0")
        if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1):
            raise ValueError(f"n_workers is {n_workers!r}, but must be None or an int >= 1")
        n_workers = self.n_workers if n_workers is None else n_workers
        target = check_target(target, budget_arg, self._varied_arguments())
        watch = FailureWatch(catch)
        if client is None and n_workers > 1:
            check_main_guard(f"optimize() with n_workers={n_workers}")
        self._warn_if_done(limits)
        progress = None
        if show_progress:
            from smacish._progress import ProgressBar

            progress = ProgressBar(self, limits)
            self.callbacks.append(progress.update)
        self.callbacks.insert(0, watch)
        try:
            if client is not None or n_workers > 1:
                run_dask(self, target, limits, client=client, n_workers=n_workers,
                         memory_limit=memory_limit, max_retries=max_retries)
            else:
                run_serial(self, target, limits, memory_limit=memory_limit, max_retries=max_retries)
        except KeyboardInterrupt:
            aborted = len(self._reissue)
            logger.warning("interrupted: %d trial(s) recorded ABORTED; the next ask() or optimize() runs "
                           "them first", aborted)
            raise
        finally:
            self.callbacks.remove(watch)
            if progress is not None:
                self.callbacks.remove(progress.update)
                progress.close()
            if self.output_dir is not None:
                self.save()
        watch.summary()
        return self.incumbent

    def _varied_arguments(self) -> List[str]:
        """The target's arguments that take more than one value in this run."""
        sched = self.intensifier
        if sched.instances is not None:
            varied = ["instance"] if len(sched.instances) > 1 else []
            return varied + (["seed"] if sched.n_seeds > 1 else [])
        return ["budget"] if sched.min_budget < sched.max_budget else []

    def _warn_if_done(self, limits: Any) -> None:
        done = []
        if limits.n_trials is not None and self.n_asked >= limits.n_trials:
            done.append(f"n_trials={limits.n_trials} (it has {self.n_asked} trials)")
        if limits.budget_limit is not None and self.budget_spent >= limits.budget_limit:
            done.append(f"budget_limit={limits.budget_limit:g} (it has spent {self.budget_spent:g})")
        if limits.out_of_time():
            done.append(f"walltime_limit={limits.walltime_limit:g} (it has run {self._now():.1f} s)")
        if done and not self._reissue:
            warnings.warn(f"optimize() runs nothing: the run has reached {' and '.join(done)}; these "
                          "limits count the whole run, not this call, so pass larger ones to go on",
                          UserWarning, stacklevel=3)

    def _repr_html_(self) -> str:
        inc = self.runhistory.incumbent_entry(self.intensifier.incumbent_selection, self.intensifier.max_budget)
        rows = [
            ("intensifier", html.escape(repr(self.intensifier))),
            ("selector", html.escape(type(self.selector).__name__)),
            ("trials", f"{len(self.runhistory)} finished, {len(self._pending)} pending"),
            ("budget spent", f"{self.budget_spent:g}"),
            ("incumbent", f"cost {inc.cost:.6g} on budget {inc.budget:g}" if inc else "none yet"),
        ]
        if inc is not None:
            rows += [(f"&nbsp;&nbsp;{html.escape(str(k))}", html.escape(str(v))) for k, v in dict(inc.config).items()]
        if self.output_dir is not None:
            rows.append(("output_dir", html.escape(str(self.output_dir))))
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
        return f"<table><caption>smacish.Optimizer</caption>{body}</table>"

    def __repr__(self) -> str:
        inc = self.runhistory.incumbent_entry(self.intensifier.incumbent_selection, self.intensifier.max_budget)
        best = f", incumbent cost {inc.cost:.6g} on budget {inc.budget:g}" if inc else ""
        return f"Optimizer({self.intensifier!r}, {len(self.runhistory)} trials{best})"


def _clock_of(opt: "Optimizer") -> Callable[[], float]:
    """``opt._now`` without a reference to ``opt``: an Optimizer dropped by its user is freed at
    once (no cycle for the garbage collector to find later), and with it its run's lock."""
    ref = weakref.ref(opt)

    def now() -> float:
        target = ref()
        return target._now() if target is not None else math.nan

    return now


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


def _json_problem(info: Dict[str, Any]) -> Tuple[str, str]:
    """The first key of ``info`` (which JSON cannot hold) whose value it cannot hold, and what
    that value is."""
    for key, value in info.items():
        try:
            dumps({str(key): value})
        except (TypeError, ValueError):
            return str(key), f"of type {type(value).__name__}"
    return "?", "keyed by a non-string"


def _json_round(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists)."""
    import json

    return json.loads(dumps(value))
