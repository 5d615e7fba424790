"""The runnable examples run, end to end, in a fresh process."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@functools.lru_cache(maxsize=None)
def run_example(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def trajectory_rows(output: str):
    lines = output.splitlines()
    start = lines.index("trajectory (trials, budget, cost, x, y):") + 1
    return [line.split() for line in lines[start:-1]]


@pytest.mark.parametrize("n_workers", ["1", "4"])
def test_ask_tell_example_prints_the_trajectory(n_workers):
    output = run_example("ask_tell.py", "--n-trials", "60", "--n-workers", n_workers)
    assert output.startswith("60 trials")
    rows = trajectory_rows(output)
    assert rows, "the trajectory is empty"
    n_trials = [int(row[0]) for row in rows]
    assert n_trials == sorted(n_trials) and n_trials[-1] <= 60
    assert output.splitlines()[-1].startswith("incumbent: ")


def test_ask_tell_example_is_reproducible():
    first = run_example("ask_tell.py", "--n-trials", "60", "--n-workers", "4")
    again = run_example.__wrapped__("ask_tell.py", "--n-trials", "60", "--n-workers", "4")
    assert again == first
