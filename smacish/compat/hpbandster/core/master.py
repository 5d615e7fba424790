"""Master: HpBandSter's optimisation loop, as a smacish Optimizer whose trials run on Dask.

The iterations (successive-halving runs with HpBandSter's config_ids) decide what runs next;
an intensifier of smacish (:class:`_IterationScheduler`) hands them to a smacish
:class:`~smacish.Optimizer` (one RunHistory, the configuration model, the trajectory), and a
Dask loop sends each job to a worker of this run and tells the result back. As in HpBandSter,
the first iteration that can run something is served, a new one starts whenever none can, and
so iterations overlap when there are several workers.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import numbers
import os
import time
import uuid
import warnings
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace

from smacish.compat.hpbandster._connection import CONNECT_TIMEOUT, resource_name, scheduler_address
from smacish.compat.hpbandster.core.base_iteration import BaseIteration, ConfigId, Datum, WarmStartIteration
from smacish.compat.hpbandster.core.dispatcher import Job
from smacish.compat.hpbandster.core.result import Result
from smacish.compat.hpbandster.core.worker import _close_dask_worker, _compute_task
from smacish.intensifiers._brackets import bracket_sizes
from smacish.intensifiers.parallel_scheduler import ParallelScheduler
from smacish.runhistory import RunHistory
from smacish.runners import DaskLoop
from smacish.selection import KDESelector
from smacish.selection import RandomSelector
from smacish.trial import StatusType, TrialInfo, TrialInfoIntent, TrialValue

_POLL_INTERVAL = 0.2  # seconds between looks for workers while waiting for them
_CAPACITY_INTERVAL = 0.5  # seconds between looks at the worker set while running


def _draw_seed() -> int:
    """A seed from numpy's global generator: ``np.random.seed(...)`` makes a run repeatable, as
    it did with HpBandSter."""
    return int(np.random.randint(0, 2**31 - 1))


class Master:
    """The common API of :class:`BOHB`, :class:`HyperBand` and :class:`RandomSearch`: ``run``
    iterations and return a :class:`Result`, then ``shutdown``.

    Subclasses define the iterations in ``get_next_iteration``. ``config_generator`` is a
    smacish selector (with ``propose``) or an HpBandSter-style generator (with
    ``get_config(budget) -> (config dict, info)`` and optionally ``new_result(job)``).

    Args:
        run_id: the run; workers serve the optimizer with the same ``run_id``.
        config_generator: where new configurations come from (see above).
        working_directory: created if needed; each configuration gets its own directory
            ``<working_directory>/HPB_run_<run_id>/config_<i>_<j>_<k>``, passed to ``compute``.
        ping_interval: accepted for compatibility; workers are seen as soon as they connect.
        nameserver: host of the nameserver, or a Dask address ``tcp://host:port``.
        nameserver_port: its port (None: the default 8786).
        host: accepted for compatibility (the optimizer connects out, it does not listen).
        shutdown_workers: accepted for compatibility; see :meth:`shutdown`.
        job_queue_sizes: ``(min, max)``: at most ``max`` (+ the number of workers, with
            ``dynamic_queue_size``) jobs are handed out at once.
        dynamic_queue_size: make ``job_queue_sizes`` relative to the number of workers.
        logger: a logger (default ``smacish.hpbandster``).
        result_logger: e.g. :class:`json_result_logger`; sees every configuration and result.
        previous_result: a :class:`Result` of an earlier run that warm-starts the model and is
            part of the returned Result (as iteration -1).
        configspace: the search space (default: ``config_generator.configspace``).
    """

    def __init__(
        self,
        run_id: Any,
        config_generator: Any,
        working_directory: str = ".",
        ping_interval: float = 60,
        nameserver: Optional[str] = "127.0.0.1",
        nameserver_port: Optional[int] = None,
        host: Optional[str] = None,
        shutdown_workers: bool = True,
        job_queue_sizes: Tuple[int, int] = (-1, 0),
        dynamic_queue_size: bool = True,
        logger: Optional[logging.Logger] = None,
        result_logger: Any = None,
        previous_result: Optional[Result] = None,
        *,
        configspace: Optional[ConfigurationSpace] = None,
    ):
        if job_queue_sizes[0] >= job_queue_sizes[1]:
            raise ValueError(f"job_queue_sizes is {job_queue_sizes!r}, but must be (min, max) with min < max")
        self.run_id = run_id
        self.working_directory = working_directory
        os.makedirs(self.working_directory, exist_ok=True)
        self.logger = logger if logger is not None else logging.getLogger("smacish.hpbandster")
        self.result_logger = result_logger
        self.config_generator = config_generator
        self.configspace = (
            configspace if configspace is not None else getattr(config_generator, "configspace", None)
        )
        self.ping_interval = ping_interval
        self.nameserver = nameserver
        self.nameserver_port = nameserver_port
        self.host = host
        self.shutdown_workers = shutdown_workers
        self.time_ref: Optional[float] = None
        self.iterations: List[BaseIteration] = []
        self._loop: Optional[_MasterLoop] = None
        self.job_queue_sizes = job_queue_sizes
        self.user_job_queue_sizes = job_queue_sizes
        self.dynamic_queue_size = dynamic_queue_size
        legacy = config_generator if not callable(getattr(config_generator, "propose", None)) else None
        self.warmstart_iteration = (
            [] if previous_result is None else [WarmStartIteration(previous_result, legacy)]
        )
        self.config: Dict[str, Any] = {"time_ref": self.time_ref}
        self._seed = _draw_seed()
        self._iteration_kwargs: Dict[str, Any] = {}
        self._scheduler: Optional[_IterationScheduler] = None
        self._optimizer: Any = None
        self._legacy = legacy
        self._client = self._connect()

    # ------------------------------------------------------------------ connection
    def _connect(self) -> Any:
        from distributed import Client

        address = scheduler_address(self.nameserver, self.nameserver_port)
        try:
            return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise OSError(
                f"No nameserver found at {address} ({err}). Start a NameServer first, and give "
                "the optimizer its host (nameserver=...) and port (nameserver_port=...)."
            ) from None

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` connected to the nameserver (its dashboard shows the jobs)."""
        return self._client

    def _workers(self) -> List[str]:
        """Addresses of the running workers of this run."""
        try:
            info = self._client.scheduler_info(n_workers=-1)
        except Exception:  # noqa: BLE001 - the scheduler is going away: no workers
            return []
        resource = resource_name(self.run_id)
        return [
            address
            for address, w in info.get("workers", {}).items()
            if w.get("resources", {}).get(resource) and w.get("status", "running") == "running"
        ]

    def number_of_workers(self) -> int:
        """Workers of this run connected to the nameserver."""
        return len(self._workers())

    @property
    def num_running_jobs(self) -> int:
        """Jobs handed to workers and not finished yet."""
        return len(self._loop.inflight) if self._loop is not None else 0

    def _queue_size(self, n_workers: int) -> int:
        """How many jobs may be out at once (HpBandSter's job queue)."""
        if n_workers == 0:
            return 0
        top = self.user_job_queue_sizes[1] + (n_workers if self.dynamic_queue_size else 0)
        return max(top, 1)

    def wait_for_workers(self, min_n_workers: int = 1) -> None:
        """Block until at least ``min_n_workers`` workers of this run are connected."""
        said = False
        while self.number_of_workers() < min_n_workers:
            if not said:
                self.logger.info(
                    "HBMASTER: %i worker(s) available, waiting for at least %i",
                    self.number_of_workers(),
                    min_n_workers,
                )
                said = True
            time.sleep(_POLL_INTERVAL)

    # ------------------------------------------------------------------ set-up on the first run
    def _budgets(self) -> List[float]:
        budgets = getattr(self, "budgets", None)
        if budgets is None:
            budgets = self.config.get("budgets") or [1.0]
        return [float(b) for b in budgets]

    def _ensure_optimizer(self) -> None:
        if self._optimizer is not None:
            return
        from smacish.optimizer import Optimizer

        space = self.configspace
        if not isinstance(space, ConfigurationSpace):
            raise ValueError(
                "the optimizer needs the ConfigurationSpace: pass configspace=... or a "
                "config_generator with a .configspace"
            )
        if self._legacy is None:
            selector = self.config_generator
        elif callable(getattr(self._legacy, "get_config", None)):
            selector = RandomSelector(space, seed=self._seed)  # unused: the generator proposes
        else:
            raise TypeError(
                f"config_generator must have propose(runhistory, pending) or get_config(budget); "
                f"got {type(self.config_generator).__name__}"
            )
        budgets = self._budgets()
        self._scheduler = _IterationScheduler(
            self, min(budgets), max(budgets), float(getattr(self, "eta", 3))
        )
        self._optimizer = Optimizer(
            space, self._scheduler, selector=selector, seed=self._seed, warmstart=self._warm_runhistory(space)
        )

    def _warm_runhistory(self, space: ConfigurationSpace) -> Optional[RunHistory]:
        """The previous result's runs as a RunHistory, so that the model starts from them."""
        if not self.warmstart_iteration or self._legacy is not None:
            return None
        runhistory = RunHistory(space)
        skipped = 0
        for config_id, datum in self.warmstart_iteration[0].data.items():
            try:
                config = Configuration(space, values=datum.config)
                config.check_valid_configuration()
            except Exception:  # noqa: BLE001 - not a configuration of this space
                skipped += 1
                continue
            for budget, result in datum.results.items():
                if isinstance(budget, bool) or not isinstance(budget, numbers.Real) or not budget > 0:
                    continue
                info = TrialInfo(config, budget=budget, config_id=config_id)
                if runhistory.get(info) is not None:
                    continue
                runhistory.add(
                    info, _warm_value(result, datum.exceptions.get(budget), datum.time_stamps.get(budget))
                )
        if skipped:
            warnings.warn(
                f"previous_result: {skipped} configuration(s) are not valid in this configuration "
                "space and do not inform the model",
                UserWarning,
                stacklevel=4,
            )
        return runhistory

    # ------------------------------------------------------------------ iterations
    def get_next_iteration(self, iteration: int, iteration_kwargs: Dict[str, Any] = {}) -> BaseIteration:  # noqa: B006
        """The iteration with index ``iteration``; overridden by each optimizer."""
        raise NotImplementedError(f"implement get_next_iteration for {type(self).__name__}")

    def _sample_config(self, budget: float) -> Tuple[Any, Dict[str, Any]]:
        """A new configuration (and its config_info) for an iteration's empty slot."""
        if self._legacy is not None:
            return self._legacy.get_config(budget)
        config = self._scheduler.sample_config()
        if isinstance(self._optimizer.selector, KDESelector):
            return config, {"model_based_pick": getattr(config, "origin", None) == "kde"}
        return config, {}

    def _configuration(self, datum: Datum) -> Configuration:
        if datum.configuration is None:
            datum.configuration = Configuration(self.configspace, values=datum.config)
        return datum.configuration

    def config_directory(self, config_id: ConfigId) -> str:
        """The working directory of one configuration (absolute, the same on every budget)."""
        return os.path.abspath(
            os.path.join(
                self.working_directory, f"HPB_run_{self.run_id}", "config_%d_%d_%d" % tuple(config_id)
            )
        )

    def _job_finished(self, info: TrialInfo, value: TrialValue) -> None:
        """A job of an iteration finished: log it, then let the iteration (and an
        HpBandSter-style generator) see it."""
        iteration = self.iterations[info.config_id[0]]
        datum = iteration.data[info.config_id]
        job = Job(
            info.config_id,
            config=datum.config,
            budget=datum.budget,
            working_directory=self.config_directory(info.config_id),
        )
        hp = value.additional_info.get("hpbandster")
        if hp:
            job.result, job.exception = hp["result"], hp["exception"]
            job.timestamps = dict(hp["timestamps"])
        else:  # lost on Dask, cancelled, or never reached the worker
            job.result = None
            job.exception = (
                value.additional_info.get("error")
                or value.additional_info.get("traceback")
                or f"the run ended as {value.status.value}"
            )
            job.timestamps = {
                "submitted": value.starttime,
                "started": value.starttime,
                "finished": value.endtime,
            }
        job.worker_name = value.additional_info.get("worker")
        if self.result_logger is not None:
            self.result_logger(job)
        iteration.register_result(job)
        if self._legacy is not None and callable(getattr(self._legacy, "new_result", None)):
            self._legacy.new_result(job)

    # ------------------------------------------------------------------ running
    def run(
        self, n_iterations: int = 1, min_n_workers: int = 1, iteration_kwargs: Dict[str, Any] = {}
    ) -> Result:  # noqa: B006 - HpBandSter's signature
        """Run ``n_iterations`` more iterations (once ``min_n_workers`` workers are connected)
        and return the :class:`Result` of all iterations so far."""
        if (
            isinstance(n_iterations, bool)
            or not isinstance(n_iterations, numbers.Integral)
            or n_iterations < 0
        ):
            raise ValueError(f"n_iterations is {n_iterations!r}, but must be an int >= 0")
        self._ensure_optimizer()
        self.wait_for_workers(min_n_workers)
        self._iteration_kwargs = dict(iteration_kwargs)
        self._iteration_kwargs["result_logger"] = self.result_logger
        budgets = self._budgets()
        self.config.setdefault("budgets", budgets)  # for a Result of a custom Master subclass
        self.config.setdefault("min_budget", min(budgets))
        self.config.setdefault("max_budget", max(budgets))
        if self.time_ref is None:
            self.time_ref = time.time()
            self.config["time_ref"] = self.time_ref
            self.logger.info("HBMASTER: starting run at %s", self.time_ref)
        self._scheduler.n_left += int(n_iterations)
        self._loop = _MasterLoop(self)
        try:
            self._loop.run()
        finally:
            self._loop = None
        warm = []
        for ws in self.warmstart_iteration:
            data = {cid: d.public_copy() for cid, d in ws.data.items()}
            for d in data.values():
                for stamps in d.time_stamps.values():
                    for k in stamps:
                        stamps[k] += self.time_ref
            warm.append(data)
        iterations = [{cid: d.public_copy() for cid, d in it.data.items()} for it in self.iterations]
        return Result(iterations + warm, copy.deepcopy(self.config))

    def shutdown(self, shutdown_workers: bool = False) -> None:
        """Disconnect from the nameserver; with ``shutdown_workers`` the run's workers shut
        down too (their ``run()`` returns)."""
        client = self._client
        if client is None:
            return
        try:
            if shutdown_workers:
                workers = self._workers()
                if workers:
                    _await_released(client)  # else the scheduler warns it "lost" results nobody needs
                    client.run(_close_dask_worker, workers=workers, nanny=False)
        finally:
            client.close()
            self._client = None

    @property
    def optimizer(self) -> Any:
        """The smacish :class:`~smacish.Optimizer` behind this run (RunHistory, trajectory)."""
        self._ensure_optimizer()
        return self._optimizer

    def __repr__(self) -> str:
        return f"{type(self).__name__}(run_id={self.run_id!r}, iterations={len(self.iterations)})"


def _await_released(client: Any, timeout: float = 2.0) -> None:
    """Wait until the scheduler has heard that this client holds no results any more: a
    future's release is sent asynchronously when it is dropped, and a worker closed before it
    arrives is said to lose the result."""
    def wanted(dask_scheduler: Any, client_id: str) -> int:
        state = dask_scheduler.clients.get(client_id)
        return len(state.wants_what) if state is not None else 0

    deadline = time.monotonic() + timeout
    with contextlib.suppress(Exception):
        while client.run_on_scheduler(wanted, client_id=client.id) and time.monotonic() < deadline:
            time.sleep(0.02)


def _warm_value(result: Any, exception: Optional[str], stamps: Optional[Dict[str, float]]) -> TrialValue:
    loss = result.get("loss") if isinstance(result, dict) else None
    ok = isinstance(loss, numbers.Real) and not isinstance(loss, bool) and math.isfinite(loss)
    return TrialValue(
        cost=float(loss) if ok else math.inf,
        status=StatusType.SUCCESS if ok else StatusType.CRASHED,
        additional_info={
            "hpbandster": {"result": result, "exception": exception, "timestamps": stamps or {}}
        },
    )


class _IterationScheduler(ParallelScheduler):
    """Hands the Master's iterations to a smacish Optimizer: the first iteration that has a run
    is served; when none has, the next iteration starts (while iterations are left); otherwise
    WAIT. A configuration already evaluated (or running) on the same budget is not run again:
    its result is shared."""

    def __init__(self, master: Master, min_budget: float, max_budget: float, eta: float):
        self.master = master
        self.n_left = 0
        super().__init__(min_budget=min_budget, max_budget=max_budget, eta=eta)
        self.budgets = master._budgets()

    def _make_schedules(self) -> list:
        return []  # the Master's get_next_iteration decides

    def get_next_trial(self, n_workers: int = 1) -> Tuple[TrialInfoIntent, Optional[TrialInfo]]:
        master = self.master
        while True:
            for iteration in master.iterations:
                if iteration.is_finished:
                    continue
                info = self._next_of(iteration)
                if info is not None:
                    return TrialInfoIntent.RUN, info
            if self.n_left <= 0:
                return TrialInfoIntent.WAIT, None
            master.iterations.append(
                master.get_next_iteration(len(master.iterations), master._iteration_kwargs)
            )
            self.n_left -= 1

    def _next_of(self, iteration: BaseIteration) -> Optional[TrialInfo]:
        while True:
            run = iteration.get_next_run()
            if run is None:
                return None
            config_id, _, budget = run
            info = TrialInfo(
                self.master._configuration(iteration.data[config_id]), budget=budget, config_id=config_id
            )
            if self.claim(self, info):
                return info

    def record(self, info: TrialInfo, value: TrialValue, cost: float) -> None:
        """Called (through ``claim`` / ``process_result``) with each result of a job."""
        self.master._job_finished(info, value)

    def _after_record(self, run: Any) -> None:
        pass

    def settled(self) -> bool:
        """True when every iteration is done and none is left to start. An iteration whose last
        stage has all its results is closed here."""
        if self.n_left > 0:
            return False
        for iteration in self.master.iterations:
            if iteration.is_finished:
                continue
            last = iteration.stage == len(iteration.num_configs) - 1
            queued = any(d.status == "QUEUED" for d in iteration.data.values())
            full = iteration.actual_num_configs[iteration.stage] >= iteration.num_configs[iteration.stage]
            if last and full and not queued and iteration.num_running == 0:
                iteration.get_next_run()  # processes the stage and finishes the iteration
            if not iteration.is_finished:
                return False
        return True

    def __repr__(self) -> str:
        return (
            f"_IterationScheduler({type(self.master).__name__}, "
            f"iterations={len(self.master.iterations)}, left={self.n_left})"
        )


class _UntilSettled:
    """The Master's loop runs until its iterations are done (not until a limit of trials, time
    or budget)."""

    def __init__(self, scheduler: _IterationScheduler):
        self.scheduler = scheduler

    def may_ask(self, n_asked: int, budget_committed: float) -> bool:
        return not self.scheduler.settled()

    def remaining_time(self) -> float:
        return math.inf

    def out_of_time(self) -> bool:
        return False


class _MasterLoop(DaskLoop):
    """The Dask runner's loop, sending each job to a worker of this run (the Dask resource of
    its run_id) where ``compute`` runs on the user's Worker object. A job whose worker dies is
    re-run on another worker by Dask. Without workers it waits for one."""

    def __init__(self, master: Master):
        super().__init__(
            master._optimizer, None, _UntilSettled(master._scheduler), master._client, None, max_retries=1
        )
        self.master = master
        self._capacity_checked = -math.inf

    def refresh_capacity(self, force: bool = False) -> int:
        """Workers of this run (not every Dask worker of the nameserver), looked up at most
        every ``_CAPACITY_INTERVAL`` seconds."""
        now = time.monotonic()
        if force or now - self._capacity_checked >= _CAPACITY_INTERVAL:
            self._capacity_checked = now
            self.capacity = self.master._queue_size(self.master.number_of_workers())
        return self.capacity

    def submit(self, info: TrialInfo, attempt: int) -> None:
        master = self.master
        datum = master.iterations[info.config_id[0]].data[info.config_id]
        key = "hpbandster-%s-%d_%d_%d-%g-%d-%s" % (
            master.run_id,
            *info.config_id,
            info.budget,
            attempt,
            uuid.uuid4().hex[:8],
        )
        future = self.client.submit(
            _compute_task,
            info.config_id,
            datum.config,
            info.budget,
            master.config_directory(info.config_id),
            time.time(),
            key=key,
            resources={resource_name(master.run_id): 1},
            pure=False,
        )
        self.inflight[future] = (info, attempt)
        self.track(future)


def hpbandster_budgets(min_budget: float, max_budget: float, eta: float) -> Tuple[int, List[float]]:
    """HpBandSter's number of budgets (``max_SH_iter``) and the budgets themselves,
    ``max_budget * eta ** -linspace(max_SH_iter - 1, 0)``, computed as HpBandSter computes them
    (float quirks included).

    >>> hpbandster_budgets(9, 243, 3)
    (4, [9.0, 27.0, 81.0, 243.0])
    >>> hpbandster_budgets(1, 1000, 10)  # log10(1/1000) is -2.9999999999999996 in floats
    (3, [10.0, 100.0, 1000.0])
    """
    max_sh_iter = -int(np.log(min_budget / max_budget) / np.log(eta)) + 1
    budgets = max_budget * np.power(eta, -np.linspace(max_sh_iter - 1, 0, max_sh_iter))
    return max_sh_iter, [float(b) for b in budgets]


def hpbandster_bracket(iteration: int, max_sh_iter: int, eta: float) -> Tuple[int, List[int]]:
    """The bracket of iteration ``iteration``: ``s`` (stages - 1) and the number of
    configurations per stage, ``n0 = floor(max_SH_iter / (s + 1)) * eta**s``, then
    ``max(floor(n0 * eta**-i), 1)``.

    >>> hpbandster_bracket(0, 4, 3), hpbandster_bracket(1, 4, 3), hpbandster_bracket(4, 4, 3)
    ((3, [27, 9, 3, 1]), (2, [9, 3, 1]), (3, [27, 9, 3, 1]))
    """
    s = max_sh_iter - 1 - (iteration % max_sh_iter)
    return s, bracket_sizes(s, max_sh_iter - 1, eta, rule="hpbandster")


def check_arguments(name: str, configspace: Any, eta: Any, min_budget: Any, max_budget: Any) -> None:
    """Raise one ValueError that lists every invalid argument of an optimizer."""
    errors = []
    if not isinstance(configspace, ConfigurationSpace):
        errors.append(f"configspace must be a ConfigSpace ConfigurationSpace, got {configspace!r:.80}")
    elif len(list(configspace.keys())) == 0:
        errors.append("configspace has no hyperparameters")
    numbers_ok = True
    for arg, value in (("eta", eta), ("min_budget", min_budget), ("max_budget", max_budget)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            errors.append(f"{arg} is {value!r}, but must be a finite number")
            numbers_ok = False
    if numbers_ok:
        if not eta > 1:
            errors.append(f"eta is {eta!r}, but must be > 1")
        if not min_budget > 0:
            errors.append(f"min_budget is {min_budget!r}, but must be > 0")
        elif not max_budget >= min_budget:
            errors.append(f"max_budget is {max_budget!r}, but must be >= min_budget ({min_budget!r})")
    if errors:
        raise ValueError(f"{name}: " + "; ".join(errors))
