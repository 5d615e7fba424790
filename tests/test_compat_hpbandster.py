"""HpBandSter user code with only its imports changed (``hpbandster`` -> ``smacish.compat.hpbandster``).

The workers and scripts follow HpBandSter's own examples (local sequential, local parallel with
threads, local parallel with processes, live logging, warm starting); the nameserver listens on
127.0.0.1 only, on a free port.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import threading
import time

import ConfigSpace as CS
import numpy
import pytest

import smacish.compat.hpbandster.core.nameserver as hpns
import smacish.compat.hpbandster.core.result as hpres
from smacish.compat.hpbandster.core.base_config_generator import base_config_generator
from smacish.compat.hpbandster.core.master import Master
from smacish.compat.hpbandster.core.worker import Worker
from smacish.compat.hpbandster.optimizers import BOHB, HyperBand, RandomSearch
from smacish.compat.hpbandster.optimizers.iterations import SuccessiveHalving

pytestmark = pytest.mark.timeout(300)

# HyperBand / BOHB on 9..243 with eta=3 run 4 brackets: 27/9/3/1, 9/3/1, 6/2, 4 configurations
RUNS_9_243 = 27 + 9 + 3 + 1 + 9 + 3 + 1 + 6 + 2 + 4
# on 1..9 the brackets are 9/3/1, 3/1, 3 configurations: runs after 1, 2, 3, 4 iterations
RUNS_1_9 = {1: 9 + 3 + 1, 2: 9 + 3 + 1 + 3 + 1, 3: 9 + 3 + 1 + 3 + 1 + 3, 4: 2 * (9 + 3 + 1) + 3 + 1 + 3}


class MyWorker(Worker):
    """HpBandSter's example worker (examples/commons.py): note the numpy float in 'info'."""

    def __init__(self, *args, sleep_interval=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.sleep_interval = sleep_interval
        self.jobs = []

    def compute(self, config, budget, **kwargs):
        self.jobs.append((kwargs["config_id"], budget, kwargs["working_directory"]))
        res = numpy.clip(config["x"] + numpy.random.randn() / budget, config["x"] / 2, 1.5 * config["x"])
        time.sleep(self.sleep_interval)
        return {"loss": float(res), "info": res}

    @staticmethod
    def get_configspace():
        config_space = CS.ConfigurationSpace()
        config_space.add(CS.UniformFloatHyperparameter("x", lower=0, upper=1))
        return config_space


@pytest.fixture
def nameserver(request):
    """A nameserver on 127.0.0.1 and a free port; shut down after the test."""
    NS = hpns.NameServer(run_id=request.node.name, host="127.0.0.1", port=0)
    host, port = NS.start()
    yield host, port
    NS.shutdown()


def _wait_until(condition, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# ---------------------------------------------------------------------------------- example 1
def test_local_sequential_bohb(tmp_path):
    numpy.random.seed(1)
    NS = hpns.NameServer(run_id="example1", host="127.0.0.1", port=0)
    host, port = NS.start()
    w = MyWorker(sleep_interval=0, nameserver="127.0.0.1", nameserver_port=port, run_id="example1")
    w.run(background=True)
    bohb = BOHB(
        configspace=w.get_configspace(),
        run_id="example1",
        nameserver="127.0.0.1",
        nameserver_port=port,
        min_budget=9,
        max_budget=243,
        working_directory=str(tmp_path),
    )
    res = bohb.run(n_iterations=4)
    bohb.shutdown(shutdown_workers=True)
    NS.shutdown()

    id2config = res.get_id2config_mapping()
    incumbent = res.get_incumbent_id()
    all_runs = res.get_all_runs()
    assert len(all_runs) == RUNS_9_243
    assert len(id2config) == 27 + 9 + 6 + 4
    assert sum(r.budget for r in all_runs) / 243 == pytest.approx(
        (27 * 9 + 9 * 27 + 3 * 81 + 243 + 9 * 27 + 3 * 81 + 243 + 6 * 81 + 2 * 243 + 4 * 243) / 243
    )
    # the incumbent is the best configuration on the largest budget
    assert res.get_runs_by_id(incumbent)[-1].loss == min(r.loss for r in all_runs if r.budget == 243)
    # numpy never crosses the boundary: 'info' was a numpy.float64
    assert all(type(r.loss) is float and type(r.info) is float for r in all_runs)
    # BOHB's model proposes configurations once it has data; the first ones are random
    picks = {cid: v["config_info"]["model_based_pick"] for cid, v in id2config.items()}
    assert picks[(0, 0, 0)] is False
    assert any(picks.values())
    # the background worker stops when the optimizer shuts the workers down
    w.thread.join(timeout=30)
    assert not w.thread.is_alive()
    # one working directory per configuration, the same on each of its budgets
    directories = {}
    for config_id, _, working_directory in w.jobs:
        directories.setdefault(tuple(config_id), set()).add(working_directory)
    assert all(len(d) == 1 for d in directories.values())
    assert len({d.pop() for d in directories.values()}) == len(id2config)


class CheckpointingWorker(Worker):
    """Trains ``budget`` epochs, continuing from the checkpoint a smaller budget left behind."""

    def compute(self, config_id, config, budget, working_directory):
        checkpoint = os.path.join(working_directory, "epochs_done.txt")
        done = float(open(checkpoint).read()) if os.path.exists(checkpoint) else 0.0
        with open(checkpoint, "w") as fh:
            fh.write(str(budget))
        return {"loss": config["x"] / budget, "info": {"resumed_from": done, "trained": budget - done}}


def test_compute_continues_from_the_smaller_budget_in_its_working_directory(tmp_path, nameserver):
    host, port = nameserver
    w = CheckpointingWorker(run_id="checkpoints", nameserver=host, nameserver_port=port)
    w.run(background=True)
    hb = HyperBand(
        configspace=MyWorker.get_configspace(),
        run_id="checkpoints",
        nameserver=host,
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        working_directory=str(tmp_path),
    )
    res = hb.run(n_iterations=3)
    hb.shutdown(shutdown_workers=True)
    for config_id in res.get_id2config_mapping():
        runs = res.get_runs_by_id(config_id)
        assert runs[0].info["resumed_from"] == 0.0
        for smaller, larger in zip(runs, runs[1:]):
            assert larger.info["resumed_from"] == smaller.budget
    assert any(len(res.get_runs_by_id(cid)) == 3 for cid in res.get_id2config_mapping())


# ---------------------------------------------------------------------------------- example 2
def test_local_parallel_threads(tmp_path, nameserver):
    host, port = nameserver
    workers = []
    for i in range(3):
        w = MyWorker(
            sleep_interval=0.01, nameserver="127.0.0.1", nameserver_port=port, run_id="example2", id=i
        )
        w.run(background=True)
        workers.append(w)
    bohb = BOHB(
        configspace=w.get_configspace(),
        run_id="example2",
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        working_directory=str(tmp_path),
    )
    res = bohb.run(n_iterations=4, min_n_workers=3)
    bohb.shutdown(shutdown_workers=True)

    all_runs = res.get_all_runs()
    assert len(all_runs) == RUNS_1_9[4]
    assert sum(len(w.jobs) for w in workers) == RUNS_1_9[4]
    assert all(w.jobs for w in workers)  # every worker had work
    assert sorted((tuple(c), b) for w in workers for c, b, _ in w.jobs) == sorted(
        (r.config_id, r.budget) for r in all_runs
    )
    for w in workers:
        w.thread.join(timeout=30)
        assert not w.thread.is_alive()


class BlockingWorker(Worker):
    """The last configuration of iteration 0's first stage waits until iteration 1 has begun."""

    def __init__(self, *args, events, **kwargs):
        super().__init__(*args, **kwargs)
        self.events = events

    def compute(self, config_id, config, budget, working_directory):
        if tuple(config_id) == (1, 0, 0):
            self.events["iteration 1 began"].set()
        if tuple(config_id) == (0, 0, 8) and budget == 1:
            self.events["waited"] = self.events["iteration 1 began"].wait(timeout=60)
        return {"loss": config["x"], "info": {}}


def test_iterations_overlap_when_a_worker_would_idle(nameserver, tmp_path):
    host, port = nameserver
    events = {"iteration 1 began": threading.Event()}
    workers = [
        BlockingWorker(run_id="overlap", nameserver=host, nameserver_port=port, id=i, events=events)
        for i in range(2)
    ]
    for w in workers:
        w.run(background=True)
    hb = HyperBand(
        configspace=MyWorker.get_configspace(),
        run_id="overlap",
        nameserver=host,
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        working_directory=str(tmp_path),
    )
    res = hb.run(n_iterations=2, min_n_workers=2)
    hb.shutdown(shutdown_workers=True)
    # (0, 0, 8) blocked its worker; the other one started iteration 1 instead of idling
    assert events["waited"] is True
    assert (
        res.get_runs_by_id((1, 0, 0))[0].time_stamps["started"]
        < res.get_runs_by_id((0, 0, 8))[0].time_stamps["finished"]
    )
    assert len(res.get_all_runs()) == RUNS_1_9[2]


def test_several_workers_of_one_process_need_distinct_ids(nameserver, caplog):
    host, port = nameserver
    first = MyWorker(run_id="ids", nameserver=host, nameserver_port=port, id="same")
    second = MyWorker(run_id="ids", nameserver=host, nameserver_port=port, id="same")
    first.run(background=True)
    assert _wait_until(lambda: first._server is not None and first._server.server is not None)
    second.run(background=True)
    second.thread.join(timeout=60)
    assert not second.thread.is_alive()  # it could not join
    assert "distinct ids" in caplog.text
    assert first.thread.is_alive()
    first.shutdown()
    assert not first.thread.is_alive()


# ---------------------------------------------------------------------------------- example 3
WORKER_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from smacish.compat.hpbandster.core.worker import Worker

    class MyWorker(Worker):
        def compute(self, config, budget, **kwargs):
            if os.environ.get("DIE_IN_FIRST_JOB"):
                os._exit(3)  # the process dies with the job
            time.sleep(0.05)
            return {"loss": config["x"] / budget, "info": {"pid": os.getpid()}}

    shared_directory, run_id = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else None
    w = MyWorker(run_id=run_id, timeout=timeout)
    w.load_nameserver_credentials(working_directory=shared_directory)
    w.run(background=False)
""")


def _start_workers(tmp_path, run_id, n, extra_args=(), env_of=lambda i: {}):
    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT)
    processes = []
    for i in range(n):
        env = dict(os.environ, **env_of(i))
        processes.append(
            subprocess.Popen([sys.executable, str(script), str(tmp_path), run_id, *extra_args], env=env)
        )
    return processes


def _stop(processes):
    for p in processes:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_local_parallel_processes_find_the_nameserver_through_the_working_directory(tmp_path):
    # the workers start first and wait for the credentials file, as on a cluster
    processes = _start_workers(tmp_path, "example3", 2)
    try:
        NS = hpns.NameServer(run_id="example3", host="127.0.0.1", port=0, working_directory=str(tmp_path))
        ns_host, ns_port = NS.start()
        assert json.loads((tmp_path / "HPB_run_example3_dask.json").read_text())["port"] == ns_port
        bohb = BOHB(
            configspace=MyWorker.get_configspace(),
            run_id="example3",
            nameserver=ns_host,
            nameserver_port=ns_port,
            min_budget=1,
            max_budget=9,
            working_directory=str(tmp_path),
        )
        res = bohb.run(n_iterations=2, min_n_workers=2)
        bohb.shutdown(shutdown_workers=True)
        NS.shutdown()
        assert not (tmp_path / "HPB_run_example3_dask.json").exists()
        # the workers' run() returned and their processes ended normally
        assert [p.wait(timeout=60) for p in processes] == [0, 0]
    finally:
        _stop(processes)
    all_runs = res.get_all_runs()
    assert len(all_runs) == RUNS_1_9[2]
    assert {r.info["pid"] for r in all_runs} == {p.pid for p in processes}


def test_a_job_whose_worker_dies_is_run_again_on_another_worker(tmp_path):
    # the second worker dies in the middle of its first job
    processes = _start_workers(tmp_path, "lost", 2, env_of=lambda i: {"DIE_IN_FIRST_JOB": "1"} if i else {})
    NS = hpns.NameServer(run_id="lost", host="127.0.0.1", port=0, working_directory=str(tmp_path))
    host, port = NS.start()
    try:
        hb = HyperBand(
            configspace=MyWorker.get_configspace(),
            run_id="lost",
            nameserver=host,
            nameserver_port=port,
            min_budget=1,
            max_budget=9,
            working_directory=str(tmp_path),
        )
        res = hb.run(n_iterations=2, min_n_workers=2)
        hb.shutdown(shutdown_workers=True)
        assert processes[1].wait(timeout=60) == 3  # it died
        assert processes[0].wait(timeout=60) == 0
    finally:
        NS.shutdown()
        _stop(processes)
    all_runs = res.get_all_runs()
    assert len(all_runs) == RUNS_1_9[2]
    assert all(r.loss is not None and r.error_logs is None for r in all_runs)  # nothing lost
    assert {r.info["pid"] for r in all_runs} == {processes[0].pid}


@pytest.mark.slow
def test_idle_worker_processes_shut_down_after_their_timeout(tmp_path):
    processes = _start_workers(tmp_path, "timeout", 2, extra_args=("3",))
    NS = hpns.NameServer(run_id="timeout", host="127.0.0.1", port=0, working_directory=str(tmp_path))
    host, port = NS.start()
    try:
        rs = RandomSearch(
            configspace=MyWorker.get_configspace(),
            run_id="timeout",
            nameserver=host,
            nameserver_port=port,
            min_budget=1,
            max_budget=9,
            working_directory=str(tmp_path),
        )
        res = rs.run(n_iterations=2, min_n_workers=2)
        # no shutdown_workers: the workers go by themselves once idle
        assert [p.wait(timeout=60) for p in processes] == [0, 0]
        assert _wait_until(lambda: rs.number_of_workers() == 0)
        rs.shutdown()
    finally:
        NS.shutdown()
        _stop(processes)
    assert len(res.get_all_runs()) == 2 * 3  # 27 // 9 configurations per iteration, on budget 9 only
    assert {r.budget for r in res.get_all_runs()} == {9.0}


# ---------------------------------------------------------------------------------- timeout
def test_worker_timeout_shuts_an_idle_background_worker_down(nameserver, tmp_path):
    host, port = nameserver
    w = MyWorker(run_id="idle", nameserver=host, nameserver_port=port, timeout=2)
    patient = MyWorker(run_id="idle", nameserver=host, nameserver_port=port, id="patient")
    w.run(background=True)
    hb = HyperBand(
        configspace=MyWorker.get_configspace(),
        run_id="idle",
        nameserver=host,
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        working_directory=str(tmp_path),
    )
    res = hb.run(n_iterations=1)
    assert len(res.get_all_runs()) == 9 + 3 + 1  # it served the whole run first
    assert len(w.jobs) == 9 + 3 + 1
    assert _wait_until(lambda: not w.thread.is_alive())
    assert _wait_until(lambda: hb.number_of_workers() == 0)
    # a new worker without timeout serves the next iteration, and stays
    patient.run(background=True)
    res = hb.run(n_iterations=1)
    assert len(patient.jobs) == 3 + 1
    assert patient.thread.is_alive() and hb.number_of_workers() == 1
    hb.shutdown(shutdown_workers=True)
    patient.thread.join(timeout=30)
    assert not patient.thread.is_alive()


# ---------------------------------------------------------------------------------- failures
class FragileWorker(Worker):
    def compute(self, config_id, config, budget, working_directory):
        if config["x"] > 0.7:
            raise ValueError(f"x={config['x']:.3f} is too large")
        if config["x"] < 0.05:
            return {"loss": float("nan"), "info": "diverged"}
        if config["x"] < 0.1:
            return [config["x"]]  # not a dict: a mistake in the worker
        return {"loss": numpy.float32(config["x"] / budget), "info": {"curve": numpy.arange(3) * 0.5}}


def test_a_compute_that_raises_is_recorded_and_the_run_goes_on(nameserver, tmp_path):
    host, port = nameserver
    numpy.random.seed(3)
    w = FragileWorker(run_id="fragile", nameserver=host, nameserver_port=port)
    w.run(background=True)
    hb = HyperBand(
        configspace=MyWorker.get_configspace(),
        run_id="fragile",
        nameserver=host,
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        working_directory=str(tmp_path),
    )
    res = hb.run(n_iterations=4)
    hb.shutdown(shutdown_workers=True)

    id2config = res.get_id2config_mapping()
    raised = [cid for cid, v in id2config.items() if v["config"]["x"] > 0.7]
    assert raised, "the sampled configurations should include some that raise"
    for cid in raised:
        (run,) = res.get_runs_by_id(cid)  # never promoted
        assert run.loss is None and run.info is None
        assert "Traceback" in run.error_logs and "ValueError: x=" in run.error_logs
    for cid, v in id2config.items():
        for run in res.get_runs_by_id(cid):
            if 0.1 <= v["config"]["x"] <= 0.7:
                assert run.error_logs is None and type(run.loss) is float
                assert run.info == {"curve": [0.0, 0.5, 1.0]}  # the numpy array became a list
            elif v["config"]["x"] < 0.05:
                assert math.isnan(run.loss) and run.info == "diverged"
            elif v["config"]["x"] < 0.1:
                assert run.loss is None and "must return a dict" in run.error_logs
    # the optimisation went on: every iteration ran to its end on the working configurations
    assert res.num_iterations() == 4
    assert len(res.get_all_runs()) > len(raised)


# ---------------------------------------------------------------------------------- logging
class LiveWorker(Worker):
    """Looks at the live log while the run goes."""

    def __init__(self, *args, log_dir, **kwargs):
        super().__init__(*args, **kwargs)
        self.log_dir = log_dir
        self.logged_before = []

    def compute(self, config_id, config, budget, working_directory):
        with open(os.path.join(self.log_dir, "results.json")) as fh:
            self.logged_before.append(sum(1 for _ in fh))
        if config_id == (0, 0, 1):
            raise RuntimeError("lr too large")
        return {"loss": config["x"] / budget, "info": {"budget_seen": budget}}


def test_live_json_logging_read_back(nameserver, tmp_path):
    host, port = nameserver
    log_dir = str(tmp_path / "logs")
    result_logger = hpres.json_result_logger(directory=log_dir, overwrite=False)
    w = LiveWorker(run_id="live", nameserver=host, nameserver_port=port, log_dir=log_dir)
    w.run(background=True)
    bohb = BOHB(
        configspace=MyWorker.get_configspace(),
        run_id="live",
        nameserver=host,
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        result_logger=result_logger,
        working_directory=str(tmp_path),
    )
    res = bohb.run(n_iterations=3)
    bohb.shutdown(shutdown_workers=True)

    # every result was on disk before the next job started
    assert w.logged_before == list(range(len(res.get_all_runs())))
    configs = [json.loads(line) for line in open(os.path.join(log_dir, "configs.json"))]
    results = [json.loads(line) for line in open(os.path.join(log_dir, "results.json"))]
    assert all(len(row) == 3 and len(row[0]) == 3 for row in configs)
    assert all(len(row) == 5 and set(row[2]) == {"submitted", "started", "finished"} for row in results)
    assert results[1][0] == [0, 0, 1] and results[1][3] is None and "lr too large" in results[1][4]

    logged = hpres.logged_results_to_HBS_result(log_dir)
    assert logged.get_incumbent_id() == res.get_incumbent_id()
    assert logged.get_id2config_mapping() == res.get_id2config_mapping()
    assert logged.num_iterations() == res.num_iterations() == 3

    def runs(result):
        return sorted(
            (r.config_id, r.budget, r.loss, json.dumps(r.info), r.error_logs) for r in result.get_all_runs()
        )

    assert runs(logged) == runs(res)
    assert logged.HB_config["budgets"] == [1.0, 3.0, 9.0] and logged.HB_config["eta"] == 3.0

    with pytest.raises(FileExistsError):
        hpres.json_result_logger(directory=log_dir)
    hpres.json_result_logger(directory=log_dir, overwrite=True)
    assert open(os.path.join(log_dir, "results.json")).read() == ""


# ---------------------------------------------------------------------------------- warm start
def test_warm_start_from_a_previous_result(nameserver, tmp_path):
    host, port = nameserver
    numpy.random.seed(5)
    w = MyWorker(run_id="warm", nameserver=host, nameserver_port=port)
    w.run(background=True)
    first = BOHB(
        configspace=MyWorker.get_configspace(),
        run_id="warm",
        nameserver=host,
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        working_directory=str(tmp_path),
    )
    previous = first.run(n_iterations=2)
    first.shutdown()

    cold = BOHB(
        configspace=MyWorker.get_configspace(),
        run_id="warm",
        nameserver=host,
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        random_fraction=0,
        working_directory=str(tmp_path),
    )
    cold_res = cold.run(n_iterations=1)
    cold.shutdown()
    warm = BOHB(
        configspace=MyWorker.get_configspace(),
        run_id="warm",
        nameserver=host,
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        random_fraction=0,
        previous_result=previous,
        working_directory=str(tmp_path),
    )
    res = warm.run(n_iterations=1)
    warm.shutdown(shutdown_workers=True)

    # without data the first configuration is random; with the previous result, model-based
    assert cold_res.get_id2config_mapping()[(0, 0, 0)]["config_info"]["model_based_pick"] is False
    id2config = res.get_id2config_mapping()
    assert id2config[(0, 0, 0)]["config_info"]["model_based_pick"] is True
    # the previous runs are part of the new result, as iteration -1, ending when it started
    previous_configs = [v["config"] for v in previous.get_id2config_mapping().values()]
    imported = {cid: v for cid, v in id2config.items() if cid[0] == -1}
    assert sorted(cid[2] for cid in imported) == list(range(len(previous_configs)))
    assert [v["config"] for cid, v in sorted(imported.items())] == previous_configs
    warm_runs = [r for r in res.get_all_runs() if r.config_id[0] == -1]
    assert len(warm_runs) == len(previous.get_all_runs())
    assert max(r.time_stamps["finished"] for r in warm_runs) == pytest.approx(0.0, abs=1e-6)
    assert sorted(r.loss for r in warm_runs) == sorted(r.loss for r in previous.get_all_runs())


def test_numpy_seed_makes_a_single_worker_run_repeatable(nameserver, tmp_path):
    host, port = nameserver
    w = MyWorker(run_id="seeded", nameserver=host, nameserver_port=port)
    w.run(background=True)
    results = []
    for _ in range(2):
        numpy.random.seed(11)  # BOHB's own draws
        space = MyWorker.get_configspace()
        space.seed(11)  # its random configurations, as in HpBandSter
        bohb = BOHB(
            configspace=space,
            run_id="seeded",
            nameserver=host,
            nameserver_port=port,
            min_budget=1,
            max_budget=9,
            working_directory=str(tmp_path),
        )
        res = bohb.run(n_iterations=3)
        bohb.shutdown()
        results.append(sorted((r.config_id, r.budget, r.loss) for r in res.get_all_runs()))
    assert results[0] == results[1]
    w.shutdown()


# ---------------------------------------------------------------------------------- custom optimizers
class GridGenerator(base_config_generator):
    """An HpBandSter-style configuration generator of one's own."""

    def __init__(self, configspace):
        super().__init__()
        self.configspace = configspace
        self.n = 0
        self.seen = []

    def get_config(self, budget):
        self.n += 1
        return {"x": self.n / 100}, {"grid_index": self.n}

    def new_result(self, job, update_model=True):
        super().new_result(job)
        self.seen.append((job.id, job.kwargs["budget"]))


class TwoStages(Master):
    """A custom optimizer as HpBandSter users write them: three configurations, the best goes on."""

    def __init__(self, configspace, **kwargs):
        super().__init__(config_generator=GridGenerator(configspace), **kwargs)
        self.budgets = [1.0, 3.0]

    def get_next_iteration(self, iteration, iteration_kwargs={}):
        return SuccessiveHalving(
            HPB_iter=iteration,
            num_configs=[3, 1],
            budgets=self.budgets,
            config_sampler=self.config_generator.get_config,
            **iteration_kwargs,
        )


def test_a_custom_master_with_its_own_config_generator(nameserver, tmp_path):
    host, port = nameserver
    w = MyWorker(run_id="custom", nameserver=host, nameserver_port=port)
    w.run(background=True)
    opt = TwoStages(
        MyWorker.get_configspace(),
        run_id="custom",
        nameserver=host,
        nameserver_port=port,
        working_directory=str(tmp_path),
    )
    res = opt.run(n_iterations=2)
    opt.shutdown(shutdown_workers=True)
    on_1 = sorted(r.config_id for r in res.get_all_runs() if r.budget == 1.0)
    on_3 = sorted(r.config_id for r in res.get_all_runs() if r.budget == 3.0)
    assert on_1 == [(0, 0, 0), (0, 0, 1), (0, 0, 2), (1, 0, 0), (1, 0, 1), (1, 0, 2)]
    assert [cid[0] for cid in on_3] == [0, 1] and set(on_3) <= set(on_1)
    assert len(res.get_all_runs()) == 8
    assert sorted(opt.config_generator.seen) == sorted((r.config_id, r.budget) for r in res.get_all_runs())
    id2config = res.get_id2config_mapping()
    assert [id2config[(1, 0, k)]["config"]["x"] for k in range(3)] == [0.04, 0.05, 0.06]
    assert id2config[(1, 0, 2)]["config_info"] == {"grid_index": 6}
    assert res.get_incumbent_id() in {r.config_id for r in res.get_all_runs() if r.budget == 3.0}


# ---------------------------------------------------------------------------------- nameserver
def test_runs_sharing_one_nameserver_keep_to_their_own_workers(nameserver, tmp_path):
    host, port = nameserver
    wa = MyWorker(run_id="a", nameserver=host, nameserver_port=port)
    wb = MyWorker(run_id="b", nameserver=host, nameserver_port=port)
    wa.run(background=True)
    wb.run(background=True)
    rs = RandomSearch(
        configspace=MyWorker.get_configspace(),
        run_id="a",
        nameserver=host,
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        working_directory=str(tmp_path),
    )
    res = rs.run(n_iterations=1, min_n_workers=1)
    assert len(wa.jobs) == 3 and wb.jobs == []
    res = rs.run(n_iterations=1)  # run continues with more iterations
    assert res.num_iterations() == 2 and len(res.get_all_runs()) == 6 and len(wa.jobs) == 6
    rs.shutdown(shutdown_workers=True)
    assert _wait_until(lambda: not wa.thread.is_alive())
    assert wb.thread.is_alive()  # the other run's worker is untouched
    hb = HyperBand(
        configspace=MyWorker.get_configspace(),
        run_id="b",
        nameserver=host,
        nameserver_port=port,
        min_budget=1,
        max_budget=9,
        working_directory=str(tmp_path),
    )
    hb.run(n_iterations=1)
    hb.shutdown(shutdown_workers=True)
    assert len(wb.jobs) == 9 + 3 + 1 and len(wa.jobs) == 6


def test_default_port_lets_workers_find_the_nameserver_by_host_alone(tmp_path):
    NS = hpns.NameServer(run_id="default-port", host="127.0.0.1", port=None)
    try:
        NS.start()
    except OSError as err:
        pytest.skip(f"the default port {hpns.DEFAULT_PORT} is taken on this machine: {err}")
    try:
        assert NS.port == hpns.DEFAULT_PORT
        w = MyWorker(nameserver="127.0.0.1", run_id="default-port")
        w.run(background=True)
        rs = RandomSearch(
            configspace=w.get_configspace(), run_id="default-port", working_directory=str(tmp_path)
        )
        res = rs.run(n_iterations=1)
        rs.shutdown(shutdown_workers=True)
        assert len(res.get_all_runs()) == 1  # min_budget = max_budget = 1: one configuration
    finally:
        NS.shutdown()


def test_without_a_nameserver_workers_and_optimizers_say_so(monkeypatch, tmp_path):
    import smacish.compat.hpbandster.core.master as master_module
    import smacish.compat.hpbandster.core.worker as worker_module

    monkeypatch.setattr(worker_module, "CONNECT_TIMEOUT", 1.0)
    monkeypatch.setattr(master_module, "CONNECT_TIMEOUT", 1.0)
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    w = MyWorker(run_id="nobody", nameserver="127.0.0.1", nameserver_port=free_port)
    with pytest.raises(RuntimeError, match="No nameserver found"):
        w.run()
    with pytest.raises(OSError, match="No nameserver found"):
        HyperBand(
            configspace=MyWorker.get_configspace(),
            run_id="nobody",
            nameserver="127.0.0.1",
            nameserver_port=free_port,
            working_directory=str(tmp_path),
        )
    with pytest.raises(RuntimeError, match="Could not find the nameserver"):
        w.load_nameserver_credentials(str(tmp_path), num_tries=2, interval=0.01)


def test_arguments_are_checked_all_at_once():
    with pytest.raises(ValueError) as err:
        BOHB(configspace=None, eta=1, min_budget=10, max_budget=1)
    assert "configspace" in str(err.value) and "eta is 1" in str(err.value)
    with pytest.raises(ValueError, match="max_budget is 1, but must be >= min_budget"):
        HyperBand(configspace=MyWorker.get_configspace(), min_budget=10, max_budget=1)
    with pytest.raises(ValueError, match="timeout"):
        MyWorker(run_id="x", timeout=-1)


def test_the_migration_example_prints_nothing_but_what_the_user_logs(tmp_path):
    """HpBandSter's example 1 as the migration page shows it, with ``logging.basicConfig``:
    no Dask start-up and shut-down lines, no "lose already computed task(s)" warning."""
    from pathlib import Path

    from tests.test_docs import python_blocks

    page = Path(__file__).resolve().parents[1] / "docs" / "migrating-from-hpbandster.md"
    (_, code), *_ = python_blocks(page.read_text())
    assert "logging.basicConfig(level=logging.WARNING)" in code and "bohb.shutdown(shutdown_workers=True)" in code
    script = tmp_path / "example.py"
    script.write_text(code + "\nprint(len(res.get_all_runs()))\n")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-1] == "65"
    assert proc.stderr == "", proc.stderr
