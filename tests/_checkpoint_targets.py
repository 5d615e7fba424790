"""Targets that continue training from a checkpoint, for tests/test_checkpoints.py; importable
by Dask workers, trial processes and the driver scripts the tests start."""

import json
import os
import signal
import time
from pathlib import Path


def epochs_target(config, budget, trial, sleep=0.0, kill_after=None, claim="return"):
    """Trains epoch by epoch, saving ``{"epochs": n}`` in its checkpoint directory and resuming
    from it when ``trial.previous_budget`` says so; returns the epochs it actually trained
    (``trained``) and where it started. ``claim`` is how it says it continued: ``"return"``
    (``continued_from`` in its result), ``"context"`` (``trial.continued_from``) or ``"none"``.
    ``kill_after``: SIGKILL its own process (the driver, in-process) once that many trials ran."""
    state = Path(trial.checkpoint_dir) / "state.json"
    start = 0
    if trial.previous_budget is not None:
        # further along than previous_budget when an earlier attempt (killed) saved before it died
        start = json.loads(state.read_text())["epochs"]
        if start < trial.previous_budget:
            raise AssertionError(f"checkpoint at {start} epochs, previous_budget {trial.previous_budget}")
    elif any(Path(trial.checkpoint_dir).iterdir()):
        raise AssertionError("a fresh trial got a non-empty checkpoint directory")
    for epoch in range(int(start) + 1, int(budget) + 1):
        time.sleep(sleep)
        trial.report(epoch, config["x"] + 1.0 / epoch)
    tmp = state.with_suffix(".part")
    tmp.write_text(json.dumps({"epochs": budget}))
    os.replace(tmp, state)
    if kill_after is not None:
        marks = Path(trial.checkpoint_dir).parent / "_count"
        marks.mkdir(exist_ok=True)
        (marks / f"{os.getpid()}-{time.time_ns()}").touch()
        if len(list(marks.iterdir())) >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
    result = {"cost": config["x"] + 1.0 / budget, "trained": budget - start, "start": start, "pid": os.getpid()}
    if claim == "return":
        result["continued_from"] = trial.previous_budget
    elif claim == "context":
        trial.continued_from = trial.previous_budget
    return result


def serial_target(config, budget, trial):
    return epochs_target(config, budget, trial)


def dask_target(config, budget, trial):
    return epochs_target(config, budget, trial, sleep=0.005)
