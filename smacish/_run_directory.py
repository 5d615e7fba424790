"""A run directory: creates it, locks it, logs every ask and tell, writes the state snapshot,
and rebuilds an Optimizer from it (:meth:`RunDirectory.load`); :class:`Durable` gives the
Optimizer its ``save``, ``close`` and ``load``.

The Optimizer knows only that it may have a ``run_directory`` it reports its asks and tells
to; this module drives the Optimizer through its public methods alone (``ask``, ``tell``,
``replay_ask``, ``get_state``/``set_state``, ``add_warmstart_trial``, ``requeue_pending``, the
``clock``).
"""

from __future__ import annotations

import errno
import json
import logging
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Type, Union

from ConfigSpace import ConfigurationSpace

from smacish import _runlog, _snapshot
from smacish._io import PathLike, atomic_write_text, dumps, space_from_json, space_to_json
from smacish._lock import RunLock
from smacish.selection import ConfigSelector, KDESelector, RandomForestSelector, RandomSelector
from smacish.trial import TrialInfo, TrialValue, WaitForResults, key_from_json

if TYPE_CHECKING:  # pragma: no cover
    from smacish.intensifiers.parallel_scheduler import ParallelScheduler
    from smacish.optimizer import Optimizer

logger = logging.getLogger("smacish")


def settings_of(opt: "Optimizer", selector: Union[str, ConfigSelector]) -> Dict[str, Any]:
    """What ``settings.json`` holds: all that :meth:`RunDirectory.load` needs to set the run up again."""
    return {
        "configspace": space_to_json(opt.configspace),
        "intensifier": {"class": type(opt.intensifier).__name__, "settings": opt.intensifier.settings},
        "selector": selector if isinstance(selector, str) else None,
        "selector_class": type(opt.selector).__qualname__,
        "seed": opt.seed,
        "n_workers": opt.n_workers,
        "crash_cost": opt.runhistory.crash_cost,
        "direction": opt.runhistory.direction,
        "objectives": opt.objectives,
        "instance_features": opt.instance_features,
    }


class RunDirectory:
    """The files of one run (``settings.json``, ``events.jsonl``, ``state.json``,
    ``runhistory.json``, ``trajectory.jsonl``) and the lock that makes this process their only writer."""

    def __init__(self, path: Path, opt: "Optimizer", durable: bool, n_events: int = 0,
                 lock: Optional[RunLock] = None):
        self.path = path
        own = isinstance(opt.selector, (RandomSelector, RandomForestSelector, KDESelector))
        self.log = _runlog.RunLog(path, durable, n_events, delta_states=own, lock=lock)
        self.snapshot_events = 0  # events of the log the last state snapshot stands for
        self._writer = _snapshot.Writer()
        opt.trajectory.path = path / _runlog.TRAJECTORY

    @classmethod
    def create(cls, path: Path, opt: "Optimizer", selector: Union[str, ConfigSelector],
               durable: bool) -> "RunDirectory":
        """A new run in ``path`` (refused where a run is already)."""
        if path.exists() and _runlog.holds_run(path):
            raise FileExistsError(
                f"{path} already holds a run; resume it with smacish.Optimizer.load({str(path)!r}) "
                "or choose a new output_dir"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
            lock = RunLock(path)
            _runlog.write_settings(path, settings_of(opt, selector))
            return cls(path, opt, durable, lock=lock)
        except OSError as err:
            raise type(err)(f"output_dir {path} cannot hold a run ({err.strerror or err}); choose another") from None

    # ------------------------------------------------------------------ what the Optimizer reports
    def asked(self, info: TrialInfo, n_workers: int, t: float, proposals: List[Dict[str, Any]]) -> None:
        self.log.ask(info, n_workers, t, proposals)

    def reissued(self, info: TrialInfo, t: float) -> None:
        self.log.reissue(info, t)

    def tell_line(self, info: TrialInfo, value: TrialValue, t: float) -> bytes:
        """The tell's log line; raises TypeError when ``value`` cannot be stored."""
        return self.log.tell_line(info, value, t)

    def told(self, line: bytes) -> None:
        self.log.tell(line)

    def result_added(self, opt: "Optimizer") -> None:
        """After a result is in: a state snapshot when one is due."""
        if _snapshot.due(self.log.n_events, self.snapshot_events):
            self.write_state(opt)

    def warm(self, info: TrialInfo, value: TrialValue) -> None:
        self.log.warm(info, value)

    def enqueued(self, config: Any, budget: Optional[float]) -> None:
        self.log.enqueue(config, budget)

    def save(self, opt: "Optimizer") -> None:
        path = self.path / _runlog.RUNHISTORY
        opt.runhistory.save(path)
        self.write_state(opt, _snapshot.file_stat(path))

    def write_state(self, opt: "Optimizer", runhistory_stat: Optional[list] = None) -> None:
        self._writer.write(opt, self.path / _runlog.STATE, self.log.n_events, self.log.offset, runhistory_stat)
        self.log.restart_states()
        self.snapshot_events = self.log.n_events

    def note_dask(self, dashboard: Optional[str], scheduler: Optional[str]) -> None:
        """Record the Dask cluster the run is on (``dask.json``: its dashboard's address, for
        ``smacish dashboard`` to link to); a failure to write it is only logged."""
        data = {"dashboard": dashboard, "scheduler": scheduler, "since": time.time()}
        try:
            atomic_write_text(self.path / _runlog.DASK, dumps(data))
        except OSError as err:
            logger.warning("could not record the Dask cluster in %s (%s)", self.path / _runlog.DASK, err)

    def close(self, opt: "Optimizer") -> None:
        self.save(opt)
        self.log.close()

    # ------------------------------------------------------------------ resuming
    @classmethod
    def load(
        cls,
        optimizer_class: Type["Optimizer"],
        output_dir: PathLike,
        selector: Optional[ConfigSelector],
        configspace: Optional[ConfigurationSpace],
        intensifier: Optional["ParallelScheduler"],
        durable: bool,
    ) -> "Optimizer":
        """The run in ``output_dir``, rebuilt and ready to go on (see ``Optimizer.load``)."""
        out = Path(output_dir)
        settings = _runlog.read_settings(out)
        space, intensifier, selector = _check_settings(out, settings, configspace, intensifier, selector)

        def fresh() -> "Optimizer":
            # a second fresh optimiser (after a damaged snapshot) needs an unbound intensifier
            unbound = intensifier if not intensifier.bound else type(intensifier)(**intensifier.settings)
            return optimizer_class(space, unbound, selector=selector, seed=settings["seed"],
                                   n_workers=settings["n_workers"], crash_cost=settings["crash_cost"],
                                   direction=settings.get("direction", "minimize"),
                                   objectives=settings.get("objectives"),
                                   instance_features=settings.get("instance_features"))

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
            opt, n_events, snapshot_events, current = _rebuild(out, fresh)
            run_dir = cls(out, opt, durable, n_events, lock=lock)
            run_dir.snapshot_events = snapshot_events
            opt.run_directory = run_dir
            atomic_write_text(opt.trajectory.path, "".join(dumps(e.__dict__) + "\n" for e in opt.trajectory))
            if not current:
                opt.save()
        except BaseException as err:
            if opt is not None and opt.run_directory is not None:
                opt.run_directory.log.close(trim=False)  # a refused resume changes nothing (and frees the lock)
                opt.run_directory = None
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


def _check_settings(out: Path, settings: Dict[str, Any], configspace: Optional[ConfigurationSpace],
                    intensifier: Optional["ParallelScheduler"], selector: Optional[ConfigSelector]) -> tuple:
    """The space, intensifier and selector to rebuild the run with; what was passed must equal what is stored."""
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
    # a run started before informed_starts existed started every bracket in cycle order
    stored_int["settings"].setdefault("informed_starts", False)
    stored_int["settings"].setdefault("bracket_order", "cycle")
    if intensifier is not None:
        given, stored = intensifier.settings, stored_int["settings"]
        diffs = [f"{k}: {stored.get(k)!r} -> {given.get(k)!r}" for k in {**stored, **given}
                 if stored.get(k) != _json_round(given.get(k))]
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
        from smacish.selection import SELECTORS

        if selector not in SELECTORS:
            raise ValueError(f"{settings_path} is damaged (selector is {selector!r}, but must be one of "
                             f"{sorted(SELECTORS)}); the run cannot be resumed")
    return space, intensifier, selector


def _rebuild(out: Path, fresh: Callable[[], "Optimizer"]) -> Tuple["Optimizer", int, int, bool]:
    """A fresh optimiser brought to the end of the run's log: from the state snapshot and the
    events after it or, without a usable snapshot, from the whole log. Returns it, the number
    of events in the log, the number the snapshot stands for, and whether the files need no
    rewriting: a usable snapshot next to the runhistory.json written with it (the events after
    it are replayed again by the next load, until the next snapshot; rewriting a big run's
    files now would cost more than the replay)."""
    state, problem = _snapshot.read(out)
    if state is not None:
        _runlog.check_before(out, state["log"]["offset"])
        opt = fresh()
        try:
            opt.set_state(state)
            skip, start = state["log"]["events"], state["log"]["offset"]
            events = _runlog.read_events(out, line_numbers=True, start=start, skip_lines=skip)
            _replay(opt, out, events, [info.key for info in opt.pending], float(state["t"]))
            written = _snapshot.file_stat(out / _runlog.RUNHISTORY)
            current = written is not None and state.get("runhistory_json") == written
            return opt, skip + len(events), skip, current
        except OSError:
            raise
        except Exception as err:  # noqa: BLE001 - whatever went wrong, the log alone rebuilds the run
            problem = f"{out / _runlog.STATE} could not be used ({type(err).__name__}: {err})"
    if problem:
        warnings.warn(f"{problem}; the run is rebuilt from {_runlog.EVENTS} alone (slower)",
                      RuntimeWarning, stacklevel=4)
    opt = fresh()
    events = _runlog.read_events(out, line_numbers=True)
    _replay(opt, out, events, [], 0.0)
    return opt, len(events), 0, False


def _replay(opt: "Optimizer", out: Path, events: List[tuple], asked_order: List[tuple], last_t: float) -> None:
    """Bring ``opt`` up to date from the run's ``(line number, event)`` pairs (after a snapshot
    whose pending trials were asked in ``asked_order``, at time ``last_t``); a damaged event is
    a ValueError naming the file and line."""
    path = out / _runlog.EVENTS
    selector_state: Optional[Dict[str, Any]] = None  # the last logged one, applied when the replay ends
    for number, event in events:
        kind = event["e"]
        try:
            last_t = float(event.get("t", last_t))
            opt.clock.hold(last_t)
            if kind == "ask":
                configs = []
                for p in event["proposals"]:
                    configs.append(event["trial"]["config"] if p["config"] == "trial" else p["config"])
                    if p.get("state") is not None:
                        selector_state = p["state"]
                    elif "update" in p:  # the keys that changed since the last state
                        selector_state = {**selector_state, **p["update"]}
                n_workers = event["n_workers"]
                if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
                    raise TypeError(f"n_workers is {n_workers!r}, but must be an int >= 1")
                try:
                    info, unused = opt.replay_ask(n_workers, configs)
                except WaitForResults:
                    raise ValueError(f"{path}, line {number}: an ask where the run had nothing to "
                                     "run; was the log edited, or did smacish's version change?") from None
                trial = event["trial"]
                logged = (tuple(trial["config_id"]) if trial["config_id"] else None, trial["instance"],
                          trial["seed"], trial["budget"])
                if info.key != logged or unused:
                    raise ValueError(
                        f"{path}, line {number}: replaying the run asked "
                        f"{info.key}, but the log says {logged}; was the log edited, or did smacish's "
                        "version change?"
                    )
                asked_order.append(info.key)
            elif kind == "tell":
                key = key_from_json(event["trial"])
                info = opt.pending_trial(key)
                if info is None:
                    raise ValueError(f"{path}, line {number}: tells {key}, which was not pending")
                opt.tell(info, _runlog.value_from_json(event["value"]))
            elif kind == "reissue":  # an aborted trial asked again (or a resumed one: no-op)
                key = key_from_json(event["trial"])
                if opt.pending_trial(key) is None:
                    raise KeyError(key)
                if key in [info.key for info in opt.to_ask_again]:
                    if opt.ask().key != key:
                        raise ValueError(f"{path}, line {number}: asks {key} again out of turn; was the log edited?")
            elif kind == "enqueue":
                opt.enqueue(_runlog.config_from_event(opt.configspace, event), event["budget"])
            elif kind == "warm":
                opt.add_warmstart_trial(_runlog.trial_from_json(opt.configspace, event["trial"]),
                                        _runlog.value_from_json(event["value"]))
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
            opt.clock.release()
            if isinstance(err, ValueError) and str(err).startswith(str(path)):
                raise
            raise ValueError(f"{path}, line {number}: damaged {kind!r} event ({type(err).__name__}: "
                             f"{err}); the log cannot be replayed") from None
    opt.clock.release()
    if selector_state is not None and hasattr(opt.selector, "set_state"):
        opt.selector.set_state(selector_state)
    opt.clock.resume(last_t)
    n_again = opt.requeue_pending(asked_order)
    if n_again:
        logger.warning("resumed run: %d trial(s) that were pending are asked again first", n_again)


def _json_round(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists)."""
    return json.loads(dumps(value))


class Durable:
    """The :class:`~smacish.Optimizer`'s methods for its run directory (``output_dir``):
    save, close (also as a context manager) and :meth:`load`."""

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

    def __enter__(self) -> "Durable":
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
