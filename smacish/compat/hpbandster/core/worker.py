"""Worker: subclass it, write ``compute``, call ``run()``; it serves a run's jobs as a Dask worker.

``run()`` connects to the nameserver (a Dask scheduler) as a Dask worker with one thread and
the resource of its ``run_id``; the optimizer's jobs for that run arrive there as Dask tasks
and call ``compute`` on this very object, so whatever ``__init__`` loaded stays loaded.
"""

from __future__ import annotations

import asyncio
import logging
import math
import numbers
import os
import socket
import threading
import time
import traceback
from typing import Any, Dict, Optional, Tuple

from smacish._io import to_builtin
from smacish.compat.hpbandster._connection import (
    CONNECT_TIMEOUT,
    BackgroundServer,
    credentials_path,
    read_credentials,
    resource_name,
    scheduler_address,
)
from smacish.trial import StatusType, TrialValue

_PLUGIN_NAME = "smacish-hpbandster-worker"


class Worker:
    """Evaluates configurations for one run: subclass it and override ``compute`` (and
    ``__init__`` for set-up that should happen once, such as loading data).

    ``compute(config_id, config, budget, working_directory)`` returns ``{'loss': float, 'info':
    ...}``; ``compute(self, config, budget, **kwargs)`` works too. numpy numbers and arrays in the
    result are turned into Python builtins. ``working_directory`` is a directory of its own for
    each configuration, the same on every budget, so a larger budget can continue from a smaller
    one. An exception in ``compute`` is recorded with ``loss=None`` and its traceback.

    >>> class MyWorker(Worker):
    ...     def compute(self, config, budget, **kwargs):
    ...         return {"loss": (config["x"] - 0.3) ** 2 / budget, "info": {"budget": budget}}
    >>> w = MyWorker(run_id="doc", nameserver="127.0.0.1")
    >>> w.compute(config_id=(0, 0, 0), config={"x": 0.5}, budget=2.0, working_directory=".")["info"]
    {'budget': 2.0}

    Args:
        run_id: the run this worker serves (the optimizer's ``run_id``).
        nameserver: host of the nameserver, or a Dask address ``tcp://host:port``; default
            127.0.0.1.
        nameserver_port: its port; None means the default port 8786.
        logger: a logger (default: ``smacish.hpbandster.worker``).
        host: the address this worker listens on (default: chosen by Dask).
        id: needed to tell several workers of one process apart.
        timeout: shut down after this many idle seconds following a job (None: never).
    """

    def __init__(
        self,
        run_id: Any,
        nameserver: Optional[str] = None,
        nameserver_port: Optional[int] = None,
        logger: Optional[logging.Logger] = None,
        host: Optional[str] = None,
        id: Any = None,
        timeout: Optional[float] = None,
    ):
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0
        ):
            raise ValueError(f"timeout is {timeout!r}, but must be None or a number of seconds > 0")
        self.run_id = run_id
        self.host = host
        self.nameserver = nameserver
        self.nameserver_port = nameserver_port
        self.worker_id = "hpbandster.run_%s.worker.%s.%i" % (self.run_id, socket.gethostname(), os.getpid())
        self.timeout = timeout
        self.timer: Optional[threading.Timer] = None
        if id is not None:
            self.worker_id += ".%s" % str(id)
        self.thread: Optional[threading.Thread] = None
        self.logger = logger if logger is not None else logging.getLogger("smacish.hpbandster.worker")
        self.busy = False
        self.thread_cond = threading.Condition(threading.Lock())
        self._server: Optional[BackgroundServer] = None
        self._stop_requested = False
        self._job_thread: Optional[threading.Thread] = None

    # ------------------------------------------------------------------ finding the nameserver
    def load_nameserver_credentials(
        self, working_directory: str, num_tries: int = 60, interval: float = 1
    ) -> None:
        """Read the nameserver's host and port from the file its ``NameServer`` wrote into the
        shared ``working_directory``, trying ``num_tries`` times ``interval`` seconds apart."""
        path = credentials_path(working_directory, self.run_id)
        for i in range(num_tries):
            try:
                self.nameserver, self.nameserver_port = read_credentials(path)
                return
            except FileNotFoundError:
                self.logger.warning("nameserver credentials %s not found (try %i/%i)", path, i + 1, num_tries)
                time.sleep(interval)
            except (ValueError, KeyError):  # caught while being written: try again
                time.sleep(interval)
        raise RuntimeError(
            f"Could not find the nameserver information in {path}; is a NameServer with "
            f"working_directory={working_directory!r} running for run_id={self.run_id!r}?"
        )

    # ------------------------------------------------------------------ serving
    def run(self, background: bool = False) -> None:
        """Connect to the nameserver and serve jobs until shut down (by the optimizer, the
        timeout, :meth:`shutdown` or the nameserver going away). With ``background=True`` this
        happens in a daemon thread and ``run`` returns at once."""
        if self._server is not None and self._server.running:
            raise RuntimeError(f"worker {self.worker_id} runs already")
        self._stop_requested = False
        if background:
            self.worker_id += str(threading.get_ident())
            self.thread = threading.Thread(
                target=self._run, name="worker %s thread" % self.worker_id, daemon=True
            )
            self.thread.start()
        else:
            self._run()

    def _run(self) -> None:
        from distributed import Worker as DaskWorker

        address = scheduler_address(self.nameserver, self.nameserver_port)

        def make_worker() -> Any:
            return DaskWorker(
                address,
                nthreads=1,
                name=self.worker_id,
                resources={resource_name(self.run_id): 1},
                plugins={_plugin(self)},
                host=self.host,
                dashboard=False,
                memory_limit=0,
                death_timeout=CONNECT_TIMEOUT,
                validate=False,
            )

        server = BackgroundServer(f"worker {self.worker_id}")
        self._server = server
        if self._stop_requested:
            server.request_stop()
        try:
            server.serve_here(make_worker)
        except BaseException as err:  # noqa: BLE001 - turned into a clear message below
            message = self._start_failure(err, address)
            if message is None:
                raise
            if self.thread is None:
                raise RuntimeError(message) from None
            self.logger.error(message)
        finally:
            self._cancel_timer()
        self.logger.info("WORKER: %s shut down", self.worker_id)

    def _start_failure(self, err: BaseException, address: str) -> Optional[str]:
        """A message for the usual reasons a worker cannot start, or None for others."""
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            return None
        chain = []
        while err is not None and len(chain) < 10:  # Dask wraps the cause: "Worker failed to start."
            chain.append(err)
            err = err.__cause__ or err.__context__
        if any("name taken" in str(e) for e in chain):
            return (
                f"another worker named {self.worker_id} is connected already; several workers in "
                "one process need distinct ids: Worker(..., id=...)"
            )
        if any(isinstance(e, (OSError, TimeoutError, asyncio.TimeoutError)) for e in chain):
            return (
                f"No nameserver found at {address}. Make sure the nameserver is running and that "
                f"the host ({self.nameserver}) and port ({self.nameserver_port}) are correct"
            )
        return None

    # ------------------------------------------------------------------ one job
    def compute(
        self, config_id: Tuple[int, int, int], config: Dict[str, Any], budget: float, working_directory: str
    ) -> Dict[str, Any]:
        """Evaluate ``config`` on ``budget``; override this.

        Returns a dict with ``'loss'`` (a number, minimised) and ``'info'`` (anything made of
        builtins, numbers, lists and dicts). ``config_id`` is ``(iteration, budget index, running
        index)``; ``working_directory`` is unique to the configuration and kept across budgets.
        """
        raise NotImplementedError(
            "Subclass smacish.compat.hpbandster.core.worker.Worker and override "
            "compute(config_id, config, budget, working_directory)"
        )

    def _run_job(
        self,
        config_id: Tuple[int, int, int],
        config: Dict[str, Any],
        budget: float,
        working_directory: str,
        submitted: float,
    ) -> TrialValue:
        """Run one job on this worker (called in the Dask task); never raises."""
        with self.thread_cond:
            while self.busy:
                self.thread_cond.wait()
            self.busy = True
        self._cancel_timer()
        self._job_thread = threading.current_thread()
        self.logger.info("WORKER: start processing job %s", config_id)
        started = time.time()
        t0 = time.perf_counter()
        try:
            os.makedirs(working_directory, exist_ok=True)
        except OSError as err:  # not a shared file system here: compute may not need it
            self.logger.warning("WORKER: cannot create the working directory %s: %s", working_directory, err)
        try:
            result = _checked(
                self.compute(
                    config_id=config_id, config=config, budget=budget, working_directory=working_directory
                )
            )
            exception = None
        except Exception:  # noqa: BLE001 - the user's failure is data, recorded as HpBandSter does
            result, exception = None, traceback.format_exc()
            self.logger.warning("WORKER: job %s raised:\n%s", config_id, exception)
        finally:
            elapsed = time.perf_counter() - t0
            self._job_thread = None
            with self.thread_cond:
                self.busy = False
                self.thread_cond.notify()
        finished = started + elapsed
        if self.timeout is not None and not self._stop_requested:
            self.timer = threading.Timer(self.timeout, self._idle_shutdown)
            self.timer.daemon = True
            self.timer.start()
        loss = result["loss"] if result is not None else math.nan
        ok = result is not None and math.isfinite(loss)
        return TrialValue(
            cost=loss if ok else math.inf,
            time=elapsed,
            status=StatusType.SUCCESS if ok else StatusType.CRASHED,
            starttime=started,
            endtime=finished,
            additional_info={
                "hpbandster": {
                    "result": result,
                    "exception": exception,
                    "timestamps": {"submitted": submitted, "started": started, "finished": finished},
                },
                "worker": self.worker_id,
            },
        )

    def is_busy(self) -> bool:
        return self.busy

    # ------------------------------------------------------------------ stopping
    def _cancel_timer(self) -> None:
        timer, self.timer = self.timer, None
        if timer is not None:
            timer.cancel()

    def _idle_shutdown(self) -> None:
        if self.busy or self._stop_requested:
            return
        self.logger.info(
            "WORKER: %s idle for %g s after its last job, shutting down", self.worker_id, self.timeout
        )
        self._stop_requested = True
        server = self._server
        if server is not None and server.server is not None:
            # retire first: the scheduler moves results still held here before the worker goes
            server.call(
                lambda: server.server.close_gracefully(reason="hpbandster-worker-timeout"), timeout=60
            )
            server.join()

    def shutdown(self) -> None:
        """Disconnect and stop serving; ``run()`` returns (and a background thread ends)."""
        self._stop_requested = True
        self._cancel_timer()
        server = self._server
        if server is None:
            return
        in_job = threading.current_thread() is self._job_thread
        if server.server is None:
            server.request_stop()
        else:
            server.call(
                lambda: server.server.close(reason="hpbandster-worker-shutdown"),
                timeout=None if in_job else 60,
            )
        if not in_job:
            server.join()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(run_id={self.run_id!r}, worker_id={self.worker_id!r})"


def _checked(result: Any) -> Dict[str, Any]:
    """``compute``'s result as builtins; a missing or non-numeric loss is an error."""
    if not isinstance(result, dict) or "loss" not in result:
        raise TypeError(
            "compute must return a dict with 'loss' (a number to minimise) and 'info', "
            f"got {type(result).__name__} {result!r:.200}"
        )
    result = to_builtin(result)
    loss = result["loss"]
    if isinstance(loss, bool) or not isinstance(loss, numbers.Real):
        raise TypeError(f"compute returned loss={loss!r}; the loss must be a number")
    result["loss"] = float(loss)
    return result


def _plugin(worker: Worker) -> Any:
    """A Dask worker plugin holding the user's Worker object, where the job task finds it."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class ComputePlugin(WorkerPlugin):
        name = _PLUGIN_NAME

        def __init__(self, user_worker: Worker):
            self.worker = user_worker

        def setup(self, worker: Any) -> None:
            self.worker.logger.info("WORKER: %s connected, start listening for jobs", self.worker.worker_id)

    return ComputePlugin(worker)


def _compute_task(
    config_id: Tuple[int, int, int],
    config: Dict[str, Any],
    budget: float,
    working_directory: str,
    submitted: float,
) -> TrialValue:
    """The Dask task of one job: runs ``compute`` on the user's Worker of this Dask worker."""
    from distributed import get_worker

    plugin = get_worker().plugins.get(_PLUGIN_NAME)
    if plugin is None:
        raise RuntimeError(
            "this Dask worker was not started by smacish.compat.hpbandster Worker.run(); it cannot run jobs"
        )
    return plugin.worker._run_job(tuple(config_id), config, budget, working_directory, submitted)


_closing: set = set()  # keeps the closing tasks referenced until they are done


async def _close_dask_worker(dask_worker: Any) -> None:
    """Run on a worker by the optimizer's ``shutdown(shutdown_workers=True)``: close it right
    after answering (results it still holds are of no use once the run is over)."""

    def close() -> None:
        task = asyncio.ensure_future(dask_worker.close(reason="hpbandster-optimizer-shutdown"))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    asyncio.get_running_loop().call_soon(close)
