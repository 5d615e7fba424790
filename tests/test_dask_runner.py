"""End-to-end: real optimisations on real Dask clusters (LocalCluster, or `dask scheduler` and
`dask worker` processes), every one on 127.0.0.1.

The targets live in ``_dask_targets``: Dask ships them by reference, so the workers import that
module as a user's workers import the user's code, and so do the trial processes that enforce a
cutoff or a memory limit (it imports nothing heavy, so those start fast).
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path

import pytest
from ConfigSpace import Categorical, Configuration, ConfigurationSpace, Float

import smacish
from _dask_targets import KINDS, dies_once_mid_trial, faulty, noop, quadratic, sleeper, slow_quadratic
from smacish import StatusType
from smacish.intensifiers._brackets import hyperband_brackets

pytestmark = pytest.mark.timeout(300)

LOCALHOST = "tcp://127.0.0.1:"


# ---------------------------------------------------------------------- helpers
class CyclingSelector:
    """Proposes the kinds of :data:`KINDS` in turn, so every failure shows up in a short run."""

    def __init__(self, space: ConfigurationSpace):
        self.space = space
        self.n = 0

    def propose(self, runhistory, pending):
        kind = KINDS[self.n % len(KINDS)]
        self.n += 1
        return Configuration(self.space, {"kind": kind, "x": (self.n * 0.137) % 1.0})


def count_asks(opt: smacish.Optimizer) -> list:
    """Wrap ``opt.ask`` so that every trial it hands out is recorded in the returned list."""
    asked = []
    ask = opt.ask

    def counting_ask(n_workers=None):
        info = ask(n_workers=n_workers)
        asked.append(info)
        return info

    opt.ask = counting_ask
    return asked


def assert_nothing_lost(opt: smacish.Optimizer, asked: list) -> None:
    """Every asked trial is finished, or aborted and pending until it is asked again."""
    aborted = {info.key for info, _ in opt.runhistory.aborted()}
    assert {info.key for info in opt.pending} == aborted
    assert len(opt.runhistory) + len(aborted) == len(asked)
    assert {info.key for info, _ in opt.runhistory.items()} | aborted == {info.key for info in asked}


def space_x(seed: int = 0) -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0)}, seed=seed)


def check_hyperband_brackets(opt: smacish.Optimizer, hb: smacish.Hyperband) -> None:
    """Every iteration follows one of ``hb``'s brackets: no stage has more trials than its
    bracket allows, a stage starts only after the one before it ran in full, and it runs
    exactly the best configurations of the stage before it."""
    brackets = {b[0][1]: b for b in hyperband_brackets(hb.min_budget, hb.max_budget, hb.eta)}
    by_iteration = defaultdict(list)
    for info, value in opt.runhistory.items():
        by_iteration[info.config_id[0]].append((info, value))
    for iteration, trials in by_iteration.items():
        bracket = brackets[min(info.budget for info, _ in trials)]
        stage_of = {budget: s for s, (_, budget) in enumerate(bracket)}
        stages = defaultdict(dict)  # stage -> {config_id: cost}
        for info, value in trials:
            stages[stage_of[info.budget]][info.config_id] = value.cost
        for s, (n, _) in enumerate(bracket):
            assert len(stages[s]) <= n, (iteration, s, stages[s])
            if s + 1 < len(bracket) and stages.get(s + 1):
                assert len(stages[s]) == n, f"iteration {iteration} stage {s + 1} started early"
                best = sorted(stages[s], key=lambda cid: stages[s][cid])[: bracket[s + 1][0]]
                assert sorted(stages[s + 1]) == sorted(best), f"iteration {iteration} promoted wrong configs"


# ---------------------------------------------------------------------- a run to its end
def test_hyperband_runs_exactly_n_trials_on_a_local_cluster(dask_client):
    hb = smacish.Hyperband(min_budget=1, max_budget=9, eta=3)
    assert [[n for n, _ in b] for b in hb.schedules] == [[9, 3, 1], [5, 1], [3]]  # 22 trials a round
    opt = smacish.Optimizer(space_x(1), hb, seed=1)
    asked = count_asks(opt)

    incumbent = opt.optimize(quadratic, n_trials=22, client=dask_client)

    assert len(asked) == 22
    assert_nothing_lost(opt, asked)
    assert incumbent is not None
    workers = set(dask_client.scheduler_info()["workers"])
    used = set()
    for _, value in opt.runhistory.items():
        assert value.status is StatusType.SUCCESS, value
        info_ = value.additional_info
        assert info_["worker"] in workers and info_["worker"].startswith(LOCALHOST)
        used.add(info_["worker"])
        # start and end come from the worker that ran the target, around the target's own clock
        assert value.starttime <= info_["ran_at"] <= value.endtime
        assert value.endtime - value.starttime == pytest.approx(value.time, abs=1e-6)
        assert info_["pid"] != os.getpid()
    assert used == workers  # both workers got trials
    assert 0 < opt.runhistory.utilisation() <= 1
    check_hyperband_brackets(opt, hb)
    # the client the user passed in is still theirs, and open
    assert dask_client.status == "running"
    assert dask_client.submit(noop, pure=False).result() != os.getpid()


# ---------------------------------------------------------------------- faults
def test_every_fault_ends_as_its_own_status_and_nothing_is_lost(dask_client):
    space = ConfigurationSpace(seed=0)
    space.add([Categorical("kind", KINDS), Float("x", (0.0, 1.0))])
    hb = smacish.SuccessiveHalving(min_budget=1, max_budget=9, eta=3, cutoff=4)
    opt = smacish.Optimizer(space, hb, selector=CyclingSelector(space), seed=0)
    asked = count_asks(opt)
    pids_before = dask_client.run(os.getpid)

    opt.optimize(faulty, n_trials=16, client=dask_client, memory_limit=250, max_retries=1)

    assert len(asked) == 16
    assert_nothing_lost(opt, asked)
    seen = Counter()
    for info, value in opt.runhistory.items():
        kind, extra = info.config["kind"], value.additional_info
        seen[kind] += 1
        expected = {"ok": StatusType.SUCCESS, "hang": StatusType.TIMEOUT, "hog": StatusType.MEMORYOUT}
        assert value.status is expected.get(kind, StatusType.CRASHED), (kind, value)
        if kind == "raise":
            assert "RuntimeError: the target failed on purpose" in extra["traceback"]
        elif kind == "nan":
            assert "NaN" in extra["traceback"]
        elif kind == "text":
            assert "it must return a number" in extra["traceback"]
        elif kind == "exit":  # the trial process died: retried once elsewhere, then given up
            assert extra["attempts"] == 2 and extra["lost"]
            assert "lost after 2 attempt(s)" in extra["error"] and "exited with code 3" in extra["error"]
        elif kind == "hang":
            assert "cutoff of 4 s" in extra["error"]
        elif kind == "hog":
            assert "memory limit of 250 MB" in extra["error"]
        assert extra["worker"].startswith(LOCALHOST)
    assert set(seen) == set(KINDS)
    # the workers survived every TIMEOUT and MEMORYOUT (same processes as before the run) and
    # went on with their next trial
    assert dask_client.run(os.getpid) == pids_before
    values = sorted((v for _, v in opt.runhistory.items()), key=lambda v: v.starttime)
    for status in (StatusType.TIMEOUT, StatusType.MEMORYOUT):
        first = next(v for v in values if v.status is status)
        worker = first.additional_info["worker"]
        assert any(v.additional_info["worker"] == worker and v.starttime >= first.endtime for v in values), (
            f"worker {worker} ran nothing after its {status.value}"
        )


@pytest.mark.parametrize(
    "dask_retries", [pytest.param(True, marks=pytest.mark.slow), False],
    ids=["dask-retries", "smacish-retries"],
)
def test_a_worker_killed_mid_run_loses_nothing(make_cluster, tmp_path, dask_retries):
    # allowed_failures=0: the scheduler gives up on the task at once and the runner retries it;
    # Dask's default (3): the scheduler itself runs it again on another worker.
    cluster, client = make_cluster(n_workers=2, allowed_failures=None if dask_retries else 0)
    opt = smacish.Optimizer(space_x(2), smacish.Hyperband(1, 9, eta=3), seed=2)
    asked = count_asks(opt)
    worker_of = {pid: worker for worker, pid in client.run(os.getpid).items()}
    opt.optimize(
        partial(dies_once_mid_trial, marks=str(tmp_path)), n_trials=10, client=client, max_retries=1
    )

    dead_pid, cut_short = (tmp_path / "killed").read_text().split("-", 1)
    dead_worker = worker_of[int(dead_pid)]
    assert not (tmp_path / f"end-{dead_pid}-{cut_short}").exists()
    assert len(asked) == 10
    assert_nothing_lost(opt, asked)
    assert all(v.status is StatusType.SUCCESS for _, v in opt.runhistory.items())
    # the trial cut short in the killed worker ran again, elsewhere
    redone = [
        (info, value) for info, value in opt.runhistory.items()
        if f"{info.config['x']!r}-{info.budget!r}" == cut_short
    ]
    assert redone and all(v.additional_info["worker"] != dead_worker for _, v in redone)
    if not dask_retries:
        assert any(v.additional_info.get("attempts") == 2 for _, v in redone)


def test_workers_added_during_a_run_get_trials(make_cluster, tmp_path):
    cluster, client = make_cluster(n_workers=1)
    first = set(client.scheduler_info()["workers"])
    opt = smacish.Optimizer(space_x(3), smacish.Hyperband(1, 9, eta=3), seed=3)
    asked = count_asks(opt)

    def scale_up_after_the_first_result(info, value):
        if len(opt.runhistory) == 1:  # in the driver, mid-run: add two workers, wait until they joined
            cluster.scale(3)
            client.wait_for_workers(3, timeout=120)
            # and have imported smacish, which a loaded machine takes seconds for, so that their
            # first trials overlap with the old worker's
            client.run(importlib.import_module, "smacish.runners.dask")

    opt.callbacks.append(scale_up_after_the_first_result)
    opt.optimize(partial(slow_quadratic, marks=str(tmp_path)), n_trials=12, client=client)

    assert_nothing_lost(opt, asked)
    assert all(v.status is StatusType.SUCCESS for _, v in opt.runhistory.items())
    used = {v.additional_info["worker"] for _, v in opt.runhistory.items()}
    new = used - first
    assert len(new) == 2, "the workers that joined during the run got no trials"
    assert new <= set(client.scheduler_info()["workers"])
    # and trials ran side by side once they were there (each takes 0.2 s or more)
    spans = sorted((v.starttime, v.endtime) for _, v in opt.runhistory.items())
    assert any(b[0] < a[1] for a, b in zip(spans[:-1], spans[1:])), spans


# ---------------------------------------------------------------------- limits
def test_walltime_limit_aborts_what_runs_and_frees_the_workers(dask_client):
    opt = smacish.Optimizer(space_x(4), smacish.Hyperband(1, 9, eta=3, cutoff=900), seed=4)
    asked = count_asks(opt)

    opt.optimize(sleeper, walltime_limit=3, client=dask_client)

    assert len(asked) == 2  # one trial per worker, none of which can finish
    assert_nothing_lost(opt, asked)
    assert len(opt.runhistory) == 0 and opt.budget_spent == 0  # aborting is no result
    for _, value in opt.runhistory.aborted():
        assert value.status is StatusType.ABORTED
        assert "cancelled" in value.additional_info["error"]
    # the next ask hands the aborted trials out again, before anything new
    keys = {info.key for info in asked}
    assert {opt.ask().key for _ in range(len(keys))} == keys
    # the trials' processes were killed with their tasks: both workers take new work
    for worker in dask_client.scheduler_info()["workers"]:
        assert dask_client.submit(noop, workers=[worker], pure=False).result(timeout=120)


def test_a_trial_process_does_not_outlive_the_worker_that_started_it(tmp_path):
    """A worker process killed outright (SIGKILL, OOM killer) takes its trial's process with it."""
    import psutil

    script = tmp_path / "worker.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from ConfigSpace import ConfigurationSpace\n"
        "from _dask_targets import sleeper\n"
        "from smacish.runners._execute import execute_trial\n"
        "from smacish.trial import TrialInfo\n"
        "config = ConfigurationSpace({'x': (0.0, 1.0)}, seed=0).sample_configuration()\n"
        "execute_trial(sleeper, TrialInfo(config, budget=1.0, cutoff=900))\n"
    )
    worker = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 120
        while len(psutil.Process(worker.pid).children(recursive=True)) < 2:  # fork server + trial
            assert time.monotonic() < deadline and worker.poll() is None, "the trial never started"
            time.sleep(0.1)
        descendants = psutil.Process(worker.pid).children(recursive=True)
    finally:
        worker.kill()
        worker.wait()
    gone, alive = psutil.wait_procs(descendants, timeout=30)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


# ---------------------------------------------------------------------- the embedded cluster
@pytest.fixture
def embedded_clusters(monkeypatch):
    """Records every LocalCluster the runner starts, and its worker processes' pids."""
    import distributed

    made = []

    class RecordingCluster(distributed.LocalCluster):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.worker_pids = [nanny.process.process.pid for nanny in self.workers.values()]
            made.append(self)

    monkeypatch.setattr(distributed, "LocalCluster", RecordingCluster)
    return made


def _assert_shut_down(cluster) -> None:
    import psutil

    assert cluster.status.name == "closed"
    assert cluster.worker_pids
    for pid in cluster.worker_pids:
        try:
            assert psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, f"worker process {pid} still runs"
        except psutil.NoSuchProcess:
            pass


def test_the_embedded_cluster_is_local_and_shut_down(embedded_clusters):
    opt = smacish.Optimizer(space_x(5), smacish.Hyperband(1, 9, eta=3), seed=5)
    asked = count_asks(opt)

    opt.optimize(quadratic, n_trials=8, n_workers=2)

    assert_nothing_lost(opt, asked)
    workers = {v.additional_info["worker"] for _, v in opt.runhistory.items()}
    assert workers and all(w.startswith(LOCALHOST) for w in workers)
    (cluster,) = embedded_clusters
    assert cluster.scheduler_address.startswith(LOCALHOST)
    _assert_shut_down(cluster)


class Interrupt(KeyboardInterrupt):
    pass


@pytest.mark.parametrize(
    "failure", ["ctrl-c in the driver", pytest.param("unpicklable target", marks=pytest.mark.slow)]
)
def test_the_embedded_cluster_is_shut_down_when_the_run_fails(embedded_clusters, failure):
    opt = smacish.Optimizer(space_x(6), smacish.Hyperband(1, 9, eta=3), seed=6)
    if failure == "ctrl-c in the driver":
        def interrupt(info, value):
            raise Interrupt()

        opt.callbacks.append(interrupt)
        target, expected = quadratic, Interrupt
    else:
        lock = threading.Lock()

        def target(config, budget):  # a closure over a lock: Dask cannot ship it
            with lock:
                return 0.0

        expected = TypeError

    with pytest.raises(expected):
        opt.optimize(target, n_trials=8, n_workers=2)

    (cluster,) = embedded_clusters
    _assert_shut_down(cluster)
    # what was in flight is recorded ABORTED and handed out again by the next ask
    assert [i.key for i in opt.pending] == [i.key for i, _ in opt.runhistory.aborted()]
    assert {opt.ask().key for _ in opt.runhistory.aborted()} == {i.key for i in opt.pending}


def test_a_failing_run_leaves_the_users_client_open(dask_client):
    lock = threading.Lock()

    def target(config, budget):  # a closure over a lock: Dask cannot ship it
        with lock:
            return 0.0

    opt = smacish.Optimizer(space_x(7), smacish.Hyperband(1, 9, eta=3), seed=7)
    with pytest.raises(TypeError, match="serialize"):
        opt.optimize(target, n_trials=4, client=dask_client)
    assert not opt.pending  # the trial that could not be submitted is recorded
    ((_, value),) = opt.runhistory.items()
    assert value.status is StatusType.CRASHED and "could not be submitted" in value.additional_info["error"]
    assert dask_client.status == "running"
    assert dask_client.submit(noop, pure=False).result()


# ---------------------------------------------------------------------- a cluster of its own
def _start(args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, **kwargs)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_optimize_on_a_dask_scheduler_and_workers_started_from_the_shell(tmp_path):
    from distributed import Client

    dask_cli = Path(sys.executable).with_name("dask")
    scheduler_file = tmp_path / "scheduler.json"
    # the workers import the targets' module, as a cluster user's workers import the user's code
    python_path = os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=python_path)
    processes = []
    try:
        processes.append(_start([str(dask_cli), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                 "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                                 "--scheduler-file", str(scheduler_file)], env=env))
        with Client(scheduler_file=str(scheduler_file), timeout=120) as client:
            assert client.scheduler.address.startswith(LOCALHOST)
            # the workers join while the run has begun: it waits for them
            processes.append(_start([str(dask_cli), "worker", "--scheduler-file", str(scheduler_file),
                                     "--host", "127.0.0.1", "--nworkers", "2", "--nthreads", "1",
                                     "--no-dashboard", "--dashboard-address", "127.0.0.1:0"], env=env))
            opt = smacish.Optimizer(space_x(8), smacish.Hyperband(1, 9, eta=3), seed=8)
            asked = count_asks(opt)
            opt.optimize(quadratic, n_trials=12, client=client)

            assert_nothing_lost(opt, asked)
            assert len(asked) == 12
            assert all(v.status is StatusType.SUCCESS for _, v in opt.runhistory.items())
            workers = {v.additional_info["worker"] for _, v in opt.runhistory.items()}
            assert workers <= set(client.scheduler_info()["workers"])
            assert all(w.startswith(LOCALHOST) for w in workers)
            assert client.status == "running"
    finally:
        for proc in reversed(processes):
            _stop(proc)


def test_the_target_is_sent_to_the_cluster_once_not_with_every_trial(dask_client):
    from _dask_targets import CountedTarget

    CountedTarget.pickled = 0
    opt = smacish.Optimizer(space_x(7), smacish.Hyperband(1, 9, eta=3), seed=7)
    opt.optimize(CountedTarget(), n_trials=20, client=dask_client)
    assert len(opt.runhistory) == 20
    assert all(v.status is StatusType.SUCCESS for _, v in opt.runhistory.items())
    assert CountedTarget.pickled <= 2  # scattered once (was: once per trial)
