"""Targets for tests/test_dask_runner.py, importable by Dask workers and trial processes.

Imports nothing heavy: a trial process that enforces a cutoff imports this module per trial.
"""

import math
import os
import time
from pathlib import Path

KINDS = ["ok", "raise", "hang", "hog", "nan", "text", "exit"]


def quadratic(config, budget):
    """Deterministic in (config, budget); reports the worker clock while it ran."""
    started = time.time()
    time.sleep(0.01 * budget)
    return {"cost": (config["x"] - 0.3) ** 2 + 1.0 / budget, "ran_at": started, "pid": os.getpid()}


def slow_quadratic(config, budget, marks):
    """Marks its start and end in the directory ``marks``: ``start-<pid>-<x>-<budget>``."""
    name = f"{os.getpid()}-{config['x']!r}-{budget!r}"
    Path(marks, "start-" + name).touch()
    time.sleep(0.2 * budget)
    Path(marks, "end-" + name).touch()
    return (config["x"] - 0.3) ** 2 + 1.0 / budget


def dies_once_mid_trial(config, budget, marks, after=4):
    """``slow_quadratic``, except that the first trial to start once ``after`` trials have
    started kills its worker process mid-trial, after writing the pid and trial to ``killed``.
    Dying from inside the trial makes sure the trial is cut short (a kill sent from outside
    can arrive after a short trial ended)."""
    name = f"{os.getpid()}-{config['x']!r}-{budget!r}"
    Path(marks, "start-" + name).touch()
    if sum(1 for p in Path(marks).iterdir() if p.name.startswith("start-")) >= after:
        try:
            fd = os.open(Path(marks, "killed"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.write(fd, name.encode())
            os.close(fd)
            os._exit(1)
    time.sleep(0.2 * budget)
    Path(marks, "end-" + name).touch()
    return (config["x"] - 0.3) ** 2 + 1.0 / budget


def faulty(config, budget):
    """Fails the way its configuration's ``kind`` says."""
    kind = config["kind"]
    if kind == "raise":
        raise RuntimeError("the target failed on purpose")
    if kind == "hang":
        time.sleep(600)
    if kind == "hog":
        blocks = []
        for _ in range(40):  # up to 2.5 GB, every page touched, in 64 MB steps
            blocks.append(b"\x01" * (64 * 2**20))
            time.sleep(0.01)
        time.sleep(600)  # not stopped for its memory: the cutoff stops it (and the test fails)
    if kind == "nan":
        return math.nan
    if kind == "text":
        return "not a number"
    if kind == "exit":
        os._exit(3)
    return config["x"] + 1.0 / budget


def sleeper(config, budget):
    time.sleep(600)
    return 0.0


def noop():
    return os.getpid()



class CountedTarget:
    """A target that counts how often the driver serialises it (class-level, in this process)."""

    pickled = 0

    def __init__(self, payload_size: int = 1000):
        self.payload = bytes(payload_size)

    def __call__(self, config, budget):
        return config["x"] / budget

    def __reduce__(self):
        type(self).pickled += 1
        return (CountedTarget, (len(self.payload),))
