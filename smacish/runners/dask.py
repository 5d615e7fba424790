"""The Dask runner: keeps every worker thread busy with a trial, tells results as they complete.

Any ``distributed.Client`` works (LocalCluster, a remote scheduler, dask-jobqueue, Kubernetes);
it is never closed here. Without one, an embedded ``LocalCluster`` (processes, one thread each,
127.0.0.1 only) is started and always shut down, on errors and Ctrl-C too.

- As many trials are in flight as the cluster has worker threads, read from the scheduler every
  ``_CAPACITY_INTERVAL`` seconds: workers that join get trials, a cluster with no worker yet is
  waited for.
- A trial whose worker dies (or whose trial process dies: segfault, ``os._exit``) is submitted
  again, up to ``max_retries`` times, then recorded CRASHED with the reason. On a user's cluster
  the scheduler's own ``distributed.scheduler.allowed-failures`` retries come first; the embedded
  cluster sets them to 0 so that only ``max_retries`` counts.
- When ``walltime_limit`` is reached, what still runs is cancelled (a trial in a child process
  is killed at once) and recorded ABORTED; results that arrived meanwhile are told as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import os
import pickle
import queue
import time
import traceback
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Tuple

from smacish._checkpoints import full_budget
from smacish.runners._execute import execute_trial, failed_value
from smacish.runners._limits import Limits
from smacish.trial import StatusType, TrialContext, TrialInfo, TrialValue, WaitForResults

if TYPE_CHECKING:  # pragma: no cover
    from smacish._checkpoints import CheckpointStore
    from smacish.optimizer import Optimizer

logger = logging.getLogger("smacish")

_CAPACITY_INTERVAL = 0.5  # seconds between looks at the worker set

_Outcome = Tuple[Any, Any, Optional[BaseException]]  # (future, its result, or the error it raised)


class _Shipped:
    """A trial on its way to a worker: its TrialInfo with the ConfigurationSpace pickled once per
    run and unpickled once per process.

    A ConfigurationSpace takes about a millisecond to pickle and again to unpickle, in the
    driver, on the scheduler (which unpickles task arguments) and on the worker, while every
    trial of a run shares the same one: shipped as its pickled bytes plus the configuration's
    vector, a trial costs microseconds instead, and arrives as an equal TrialInfo.
    """

    __slots__ = ("info", "space_bytes")

    def __init__(self, info: TrialInfo, space_bytes: bytes):
        self.info = info
        self.space_bytes = space_bytes

    def __reduce__(self) -> tuple:
        info = self.info
        fields = {f.name: getattr(info, f.name) for f in dataclasses.fields(info) if f.name != "config"}
        return (_unship, (self.space_bytes, info.config.get_array(), fields))


_SPACES: "OrderedDict[bytes, Any]" = OrderedDict()  # pickled ConfigurationSpace -> the space


def _unship(space_bytes: bytes, vector: Any, fields: Dict[str, Any]) -> TrialInfo:
    from ConfigSpace import Configuration

    space = _SPACES.get(space_bytes)
    if space is None:
        space = pickle.loads(space_bytes)  # pickled by the runner, shipped by Dask's serialisation
        _SPACES[space_bytes] = space
        while len(_SPACES) > 8:
            _SPACES.popitem(last=False)
    return TrialInfo(config=Configuration(space, vector=vector), **fields)


def _run_trial(target: Callable[..., Any], info: Any, memory_limit: Optional[float],
               context: Optional[TrialContext] = None) -> TrialValue:
    """The task a Dask worker runs: one trial, stamped with the worker's address."""
    from distributed import get_worker

    if isinstance(info, _Shipped):  # not serialised on the way (an in-process transport)
        info = info.info
    worker = get_worker()
    if context is not None:
        context.prepare(worker.address)
    value = execute_trial(target, info, memory_limit, should_stop=_cancelled_check(worker), context=context)
    value.additional_info["worker"] = worker.address
    return value


def _remove_paths(paths: List[str]) -> None:
    import shutil

    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def _cancelled_check(worker: Any) -> Optional[Callable[[], bool]]:
    """``should_stop`` for :func:`execute_trial`: True once this task is cancelled (the runner
    cancels what runs when ``walltime_limit`` is reached), so a trial running in a child process
    is killed at once instead of holding the worker until its cutoff. None if the worker's
    state cannot be read (another Dask version)."""
    try:
        key = worker.get_current_task()
        tasks = worker.state.tasks
    except Exception:  # noqa: BLE001 - an internal API: without it trials just run to the end
        return None

    def cancelled() -> bool:
        ts = tasks.get(key)
        return ts is None or ts.state in ("cancelled", "released", "forgotten")

    return cancelled


@contextlib.contextmanager
def embedded_client(n_workers: int) -> Iterator[Any]:
    """A LocalCluster of ``n_workers`` single-threaded processes on 127.0.0.1, and its client.

    A worker that dies mid-trial fails the trial at once (``allowed-failures: 0``) so that the
    runner, not Dask, decides about retries.
    """
    import dask
    from distributed import Client, LocalCluster

    quiet = QuietDaskLogs()  # our own cluster's start-up and shut-down chatter is no news to the user
    own_env = "DASK_LOGGING__DISTRIBUTED" not in os.environ  # a user's own setting stays
    if own_env:  # the same for the workers, which read it when they import distributed
        os.environ["DASK_LOGGING__DISTRIBUTED"] = "warning"
    try:
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # read when the scheduler starts
            cluster = LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
            )
    except BaseException:
        quiet.restore()
        raise
    finally:
        if own_env:
            os.environ.pop("DASK_LOGGING__DISTRIBUTED", None)
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        try:
            quiet.shutting_down()
            cluster.close()
        finally:
            quiet.restore()


class QuietDaskLogs:
    """While a cluster of smacish's own lives (the embedded one, the HpBandSter layer's
    nameserver), the driver's ``distributed`` loggers at WARNING at least: once a user calls
    ``logging.basicConfig()``, their INFO records (every scheduler, nanny and worker event: ~65
    lines a run) would reach the root handler. :meth:`restore` puts the levels back."""

    _LOGGERS = ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.core",
                "distributed.http.proxy", "distributed.worker", "distributed.client")

    def __init__(self) -> None:
        import distributed  # noqa: F401 - its import sets these loggers' levels; ours come after

        self.levels = {}
        for name in self._LOGGERS:
            log = logging.getLogger(name)
            self.levels[name] = log.level
            if log.getEffectiveLevel() < logging.WARNING:
                log.setLevel(logging.WARNING)

    def shutting_down(self) -> None:
        """While our cluster closes: a worker process slow to exit (a loaded machine) is killed
        after a few seconds, and the nanny's warning about it is no news either."""
        log = logging.getLogger("distributed.nanny")
        if log.getEffectiveLevel() < logging.ERROR:
            log.setLevel(logging.ERROR)

    def restore(self) -> None:
        for name, level in self.levels.items():
            logging.getLogger(name).setLevel(level)


def run_dask(
    optimizer: "Optimizer", target: Callable[..., Any], limits: Limits, client: Any = None,
    n_workers: Optional[int] = None, memory_limit: Optional[float] = None, max_retries: int = 1,
    checkpoints: Optional[Callable[[Any], "CheckpointStore"]] = None,
) -> None:
    """Run trials on Dask until ``limits`` stop it; every trial asked ends in the RunHistory.
    ``checkpoints(client)`` makes the store of a target with a ``trial`` parameter."""
    if client is None:
        with embedded_client(n_workers or 2) as own:
            _announce(optimizer, own, f"embedded Dask cluster: {n_workers or 2} workers")
            store = checkpoints(None) if checkpoints is not None else None
            DaskLoop(optimizer, target, limits, own, memory_limit, max_retries, store).run()
    else:
        _announce(optimizer, client, "Dask cluster")
        store = checkpoints(client) if checkpoints is not None else None
        DaskLoop(optimizer, target, limits, client, memory_limit, max_retries, store).run()


def _announce(optimizer: "Optimizer", client: Any, what: str) -> None:
    """Log the Dask dashboard's address and, for a run with a directory, record it there
    (``dask.json``) and say how to start smacish's own dashboard of the run."""
    try:
        link = client.dashboard_link or None
    except Exception:  # noqa: BLE001 - no dashboard (bokeh missing) or no scheduler info yet
        link = None
    run_dir = optimizer.run_directory
    ours = ""
    if run_dir is not None:
        run_dir.note_dask(link, getattr(client.scheduler, "address", None))
        ours = f"; this run's own dashboard: smacish dashboard {run_dir.path}"
    logger.info("%s, dashboard %s%s", what, link or "(none)", ours)


class DaskLoop:
    """Ask, submit, tell: only the driver's thread that calls :meth:`run` touches the optimizer.

    For each submitted trial a coroutine on the client's event loop waits for the future and
    fetches its result, then hands ``(future, value, error)`` to :meth:`run` through a queue: the
    driver never blocks on a round trip to the scheduler, and a result is told (and the freed
    worker given its next trial) as soon as it arrives. The worker count is read from the
    scheduler every ``_CAPACITY_INTERVAL`` seconds, also on the event loop; a change wakes the
    driver at once.

    A runner of its own (the HpBandSter layer's ``Master`` is one) subclasses it and overrides
    :meth:`refresh_capacity` (how many trials may be in flight) and :meth:`submit` (how a trial
    reaches a worker; it must record the future in ``inflight`` and call ``track(future)``).
    """

    def __init__(self, optimizer: "Optimizer", target: Callable[..., Any], limits: Limits, client: Any,
                 memory_limit: Optional[float], max_retries: int,
                 checkpoints: Optional["CheckpointStore"] = None):
        self.optimizer = optimizer
        self.checkpoints = checkpoints
        if checkpoints is not None and not checkpoints.shared:
            checkpoints.remove = self._remove_on_worker
        self.target = target
        self.limits = limits
        self.client = client
        self.memory_limit = memory_limit
        self.max_retries = max_retries
        self.inflight: Dict[Any, Tuple[TrialInfo, int]] = {}  # future -> (trial, attempt)
        self.done: "queue.Queue[Optional[_Outcome]]" = queue.Queue()  # None: just wake up
        self.capacity = 0
        self._capacity_asked = -math.inf
        self._warned_no_workers = False
        self._target_future: Any = None  # see _shipped_target
        try:
            self._space_bytes: Optional[bytes] = pickle.dumps(optimizer.configspace)
        except Exception:  # noqa: BLE001 - a space plain pickle cannot handle: ship trials as they are
            self._space_bytes = None

    # ------------------------------------------------------------------ workers
    def refresh_capacity(self, force: bool = False) -> int:
        """Worker threads in the cluster: read now (``force``) or as last fetched in the
        background, fetching again when the last look is ``_CAPACITY_INTERVAL`` old."""
        now = time.monotonic()
        if force:
            self._capacity_asked = now
            self.capacity = sum(self.client.nthreads().values())
        elif now - self._capacity_asked >= _CAPACITY_INTERVAL:
            self._capacity_asked = now
            self.client.loop.add_callback(self._fetch_capacity)
        return self.capacity

    async def _fetch_capacity(self) -> None:
        try:
            nthreads = await self.client.nthreads(asynchronous=True)
        except Exception:  # noqa: BLE001 - scheduler unreachable: the futures will say so
            return
        capacity = sum(nthreads.values())
        if capacity != self.capacity:
            self.capacity = capacity
            self.done.put(None)  # wake the driver: workers joined or left

    def _committed_budget(self) -> float:
        charge = self.checkpoints.expected_charge if self.checkpoints is not None else full_budget
        return self.optimizer.budget_spent + sum(charge(i) for i, _ in self.inflight.values())

    def _may_ask(self) -> bool:
        return self.limits.may_ask(self.optimizer.n_asked, self._committed_budget())

    # ------------------------------------------------------------------ submitting
    def submit(self, info: TrialInfo, attempt: int) -> None:
        config_id = ".".join(map(str, info.config_id)) if info.config_id else "x"
        shipped = _Shipped(info, self._space_bytes) if self._space_bytes is not None and \
            info.config.config_space is self.optimizer.configspace else info
        context = self.checkpoints.context_for(info) if self.checkpoints is not None else None
        # a local checkpoint: its worker first, any other (from scratch) if that one is gone
        where = {"workers": [context.holder], "allow_other_workers": True} if context and context.holder else {}
        future = self.client.submit(
            _run_trial, self._shipped_target(), shipped, self.memory_limit, context, pure=False,
            key=f"smacish-trial-{config_id}-{attempt}-{uuid.uuid4().hex}",  # shown as "smacish-trial"
            **where,
        )
        self.inflight[future] = (info, attempt)
        self.track(future)

    def _shipped_target(self) -> Any:
        """The target as the workers hold it: scattered once (a future) instead of serialised
        with every trial, which for a target holding a large array costs more than the trial.
        Scattered again if the workers holding it are gone; the target itself if it cannot
        be scattered (the submit then says why)."""
        held = self._target_future
        if held is not None and held.status == "finished":
            return held
        try:
            self._target_future = self.client.scatter(self.target, broadcast=True, hash=False)
        except Exception:  # noqa: BLE001 - e.g. not picklable: submitting it raises the real error
            self._target_future = None
            return self.target
        return self._target_future

    def _remove_on_worker(self, paths: List[Path], holder: Optional[str]) -> None:
        """Remove checkpoint directories on the worker whose local disk holds them, in the
        background (a worker that is gone took them with it)."""
        if holder is not None:
            self.client.loop.add_callback(self._remove_async, [str(p) for p in paths], holder)

    async def _remove_async(self, paths: List[str], holder: str) -> None:
        try:
            await self.client.run(_remove_paths, paths, workers=[holder], on_error="ignore", asynchronous=True)
        except Exception:  # noqa: BLE001 - the worker left meanwhile: its disk is no concern of ours
            pass

    def track(self, future: Any) -> None:
        """Have the result of ``future`` (a submitted trial) handed to the driver when it ends."""
        self.client.loop.add_callback(self._track, future)

    async def _track(self, future: Any) -> None:
        """On the event loop: wait for ``future``, fetch its result, queue it for the driver."""
        try:
            value = await self.client.gather(future, asynchronous=True)
        except BaseException as exc:  # noqa: BLE001 - task errors, KilledWorker, cancellation: judged by the driver
            self.done.put((future, None, exc))
        else:
            self.done.put((future, value, None))

    def _fill(self) -> None:
        capacity = self.refresh_capacity()
        while len(self.inflight) < capacity and self._may_ask():
            try:
                info = self.optimizer.ask(n_workers=capacity)
            except WaitForResults:
                return
            try:
                self.submit(info, 0)
            except BaseException as exc:  # e.g. a target Dask cannot serialise: record, then raise
                self.optimizer.tell(info, failed_value(f"could not be submitted to Dask: {exc!r}"))
                raise

    # ------------------------------------------------------------------ receiving
    def _value_of(self, future: Any, result: Any, error: Optional[BaseException], info: TrialInfo,
                  attempt: int, may_retry: bool) -> Optional[TrialValue]:
        """The trial's value, or None if it was resubmitted."""
        known: Dict[str, Any] = {}
        if error is None:
            if isinstance(result, TrialValue) and not result.additional_info.get("lost"):
                return result
            if isinstance(result, TrialValue):
                reason = result.additional_info.get("error", "its process died")
                known = {k: result.additional_info[k] for k in ("worker",) if k in result.additional_info}
            else:
                reason = f"it returned {result!r}"
        elif future.status == "cancelled" or isinstance(error, asyncio.CancelledError):
            reason = "its task was cancelled by the Dask scheduler"
        elif type(error).__name__ == "KilledWorker":
            reason = f"its worker died ({error})"
        else:
            detail = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            return failed_value("the Dask task failed: " + detail)
        if not may_retry:
            return failed_value(f"lost ({reason}) when the optimisation stopped; not retried",
                            lost=True, status=StatusType.ABORTED, **known)
        if attempt < self.max_retries:
            logger.warning("trial %s lost (%s); retrying (%d/%d)", info.key, reason, attempt + 1,
                           self.max_retries)
            try:
                self.submit(info, attempt + 1)
            except Exception as exc:  # noqa: BLE001 - the cluster is going away: record the trial
                return failed_value(f"lost ({reason}); its retry could not be submitted: {exc!r}",
                                lost=True, **known)
            return None
        return failed_value(f"lost after {attempt + 1} attempt(s): {reason}", lost=True, **known)

    def _tell_finished(self, item: Optional[_Outcome], may_retry: bool = True) -> None:
        if item is None:  # a wake-up: the worker set changed
            return
        future, result, error = item
        entry = self.inflight.pop(future, None)
        if entry is None:  # a future dropped already (aborted)
            return
        info, attempt = entry
        value = self._value_of(future, result, error, info, attempt, may_retry)
        if value is not None:
            if attempt:
                value.additional_info["attempts"] = attempt + 1
            self.optimizer.tell(info, value)

    def _drain(self, may_retry: bool = True) -> None:
        while True:
            try:
                item = self.done.get_nowait()
            except queue.Empty:
                return
            self._tell_finished(item, may_retry)

    def _waiting_for_workers(self) -> bool:
        """True (after a short wait) when the cluster has no worker yet but trials remain."""
        if self.capacity > 0 or not self._may_ask():
            return False
        if not self._warned_no_workers:
            logger.warning("the Dask cluster has no workers; waiting for some to join")
            self._warned_no_workers = True
        try:
            self._tell_finished(self.done.get(timeout=self._wait_time()))
        except queue.Empty:
            pass
        return True

    def _wait_time(self) -> float:
        return min(_CAPACITY_INTERVAL, max(self.limits.remaining_time(), 0.0))

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        self.refresh_capacity(force=True)
        stopped_cleanly = False
        try:
            while True:
                self._fill()
                if not self.inflight:
                    if self._waiting_for_workers():
                        continue
                    break
                try:
                    self._tell_finished(self.done.get(timeout=self._wait_time()))
                except queue.Empty:
                    pass
                self._drain()  # whatever else completed meanwhile
                if self.limits.out_of_time():
                    break
            stopped_cleanly = True
        finally:
            self._abort_inflight(stopped_cleanly)
            if self._target_future is not None:
                with contextlib.suppress(Exception):
                    self._target_future.release()
                self._target_future = None

    def _abort_inflight(self, stopped_cleanly: bool) -> None:
        """Cancel what still runs (time is up, or an error / Ctrl-C) and record it as ABORTED.

        When time is up, results that arrived meanwhile are told first, as they are."""
        if stopped_cleanly:
            self._drain(may_retry=False)
        if not self.inflight:
            return
        futures = list(self.inflight)
        with contextlib.suppress(Exception):
            self.client.cancel(futures)
        for future in futures:
            info, _ = self.inflight.pop(future)
            value = failed_value("cancelled: the optimisation stopped before it finished",
                             status=StatusType.ABORTED)
            if stopped_cleanly:
                self.optimizer.tell(info, value)
            else:  # an error is on its way up: record what we can, never mask it
                try:
                    self.optimizer.tell(info, value)
                except Exception:  # noqa: BLE001
                    logger.exception("could not record the aborted trial %s", info.key)
