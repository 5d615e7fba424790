"""The Dask runner: keeps every worker thread busy with a trial, tells results as they complete.

Any ``distributed.Client`` works (LocalCluster, a remote scheduler, dask-jobqueue, Kubernetes).
Without one, an embedded ``LocalCluster`` (processes, one thread each, 127.0.0.1 only) is
started and always shut down.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import time
import traceback
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, Optional, Tuple

from smacish.runners._execute import execute_trial
from smacish.runners._limits import Limits
from smacish.trial import StatusType, TrialInfo, TrialValue, WaitForResults

if TYPE_CHECKING:  # pragma: no cover
    from smacish.optimizer import Optimizer

logger = logging.getLogger("smacish")

_CAPACITY_INTERVAL = 0.5  # seconds between looks at the worker set


def _run_trial(target: Callable[..., Any], info: TrialInfo, memory_limit: Optional[float]) -> TrialValue:
    """The task a Dask worker runs: one trial, stamped with the worker's address."""
    from distributed import get_worker

    value = execute_trial(target, info, memory_limit)
    value.additional_info["worker"] = get_worker().address
    return value


@contextlib.contextmanager
def embedded_client(n_workers: int) -> Iterator[Any]:
    """A LocalCluster of ``n_workers`` single-threaded processes on 127.0.0.1, and its client.

    A worker that dies mid-trial fails the trial at once (``allowed-failures: 0``) so that the
    runner, not Dask, decides about retries.
    """
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
        )
        try:
            client = Client(cluster)
            try:
                logger.info("embedded Dask cluster: %d workers, dashboard %s", n_workers, client.dashboard_link)
                yield client
            finally:
                client.close()
        finally:
            cluster.close()


def run_dask(
    optimizer: "Optimizer", target: Callable[..., Any], limits: Limits, client: Any = None,
    n_workers: Optional[int] = None, memory_limit: Optional[float] = None, max_retries: int = 1,
) -> None:
    """Run trials on Dask until ``limits`` stop it; every trial asked ends in the RunHistory."""
    if client is None:
        with embedded_client(n_workers or 2) as own:
            _DaskLoop(optimizer, target, limits, own, memory_limit, max_retries).run()
    else:
        _DaskLoop(optimizer, target, limits, client, memory_limit, max_retries).run()


class _DaskLoop:
    def __init__(self, optimizer: "Optimizer", target: Callable[..., Any], limits: Limits, client: Any,
                 memory_limit: Optional[float], max_retries: int):
        self.optimizer = optimizer
        self.target = target
        self.limits = limits
        self.client = client
        self.memory_limit = memory_limit
        self.max_retries = max_retries
        self.inflight: Dict[Any, Tuple[TrialInfo, int]] = {}  # future -> (trial, attempt)
        self.done: "queue.Queue[Any]" = queue.Queue()
        self.capacity = 0
        self._capacity_checked = -math.inf

    # ------------------------------------------------------------------ workers
    def _refresh_capacity(self, force: bool = False) -> int:
        now = time.monotonic()
        if force or now - self._capacity_checked >= _CAPACITY_INTERVAL:
            self._capacity_checked = now
            self.capacity = sum(self.client.nthreads().values())
        return self.capacity

    def _committed_budget(self) -> float:
        inflight = sum(1.0 if i.budget is None else i.budget for i, _ in self.inflight.values())
        return self.optimizer.budget_spent + inflight

    # ------------------------------------------------------------------ submitting
    def _submit(self, info: TrialInfo, attempt: int) -> None:
        future = self.client.submit(
            _run_trial, self.target, info, self.memory_limit, pure=False,
            key=f"smacish-trial-{info.config_id}-{info.budget}-{info.instance}-{info.seed}-{attempt}-{time.time_ns()}",
        )
        self.inflight[future] = (info, attempt)
        future.add_done_callback(self.done.put)

    def _fill(self) -> None:
        capacity = self._refresh_capacity()
        while len(self.inflight) < capacity and self.limits.may_ask(self.optimizer.n_asked, self._committed_budget()):
            try:
                info = self.optimizer.ask(n_workers=capacity)
            except WaitForResults:
                return
            self._submit(info, 0)

    # ------------------------------------------------------------------ receiving
    def _value_of(self, future: Any, info: TrialInfo, attempt: int) -> Optional[TrialValue]:
        """The trial's value, or None if it was resubmitted."""
        if future.status == "finished":
            try:
                value = future.result()
            except Exception:  # noqa: BLE001 - result lost in transfer: treat like a lost worker
                value = None
            if value is not None and not value.additional_info.get("lost"):
                return value
            reason = value.additional_info.get("error") if value else "its result could not be fetched"
        elif future.status == "cancelled":
            reason = "its task was cancelled by the Dask scheduler"
        else:
            exc = future.exception()
            if type(exc).__name__ != "KilledWorker":
                return _crashed(info, "the Dask task failed: " + "".join(traceback.format_exception(exc)))
            reason = f"its worker died ({exc})"
        if attempt < self.max_retries:
            logger.warning("trial %s lost (%s); retrying (%d/%d)", info.key, reason, attempt + 1, self.max_retries)
            self._submit(info, attempt + 1)
            return None
        return _crashed(info, f"lost after {attempt + 1} attempt(s): {reason}", lost=True)

    def _tell_finished(self, future: Any) -> None:
        entry = self.inflight.pop(future, None)
        if entry is None:  # pragma: no cover - a callback for a future we already dropped
            return
        info, attempt = entry
        value = self._value_of(future, info, attempt)
        if value is not None:
            if attempt:
                value.additional_info["attempts"] = attempt + 1
            self.optimizer.tell(info, value)

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        self._refresh_capacity(force=True)
        try:
            self._fill()
            while self.inflight:
                timeout = min(_CAPACITY_INTERVAL, max(self.limits.remaining_time(), 0.0))
                try:
                    future = self.done.get(timeout=timeout)
                except queue.Empty:
                    future = None
                if future is not None:
                    self._tell_finished(future)
                    while True:  # drain whatever else completed meanwhile
                        try:
                            self._tell_finished(self.done.get_nowait())
                        except queue.Empty:
                            break
                if self.limits.out_of_time():
                    break
                self._fill()
        finally:
            self._abort_inflight()

    def _abort_inflight(self) -> None:
        """Cancel what still runs (time is up, or an error / Ctrl-C) and record it as ABORTED."""
        if not self.inflight:
            return
        futures = list(self.inflight)
        with contextlib.suppress(Exception):
            self.client.cancel(futures)
        for future in futures:
            info, _ = self.inflight.pop(future)
            self.optimizer.tell(info, TrialValue(
                cost=math.inf, status=StatusType.ABORTED,
                additional_info={"error": "cancelled: the optimisation stopped before it finished"},
            ))


def _crashed(info: TrialInfo, message: str, lost: bool = False) -> TrialValue:
    extra: Dict[str, Any] = {"error": message}
    if lost:
        extra["lost"] = True
    now = time.time()
    return TrialValue(cost=math.inf, status=StatusType.CRASHED, starttime=now, endtime=now, additional_info=extra)
