"""Run directories that cannot be destroyed: one writer at a time (a real second process), a
partial copy is refused, files readable as the umask says."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ConfigSpace import ConfigurationSpace

import smacish
from smacish import Optimizer, RunLockedError

ROOT = Path(__file__).resolve().parents[1]


def new_run(directory: Path, n_trials: int = 10) -> Optimizer:
    opt = Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}, seed=0), smacish.Hyperband(min_budget=1, max_budget=9),
                    seed=0, selector="random", output_dir=directory)
    opt.optimize(lambda config, budget: config["x"] / budget, n_trials=n_trials)
    return opt


HOLDER = textwrap.dedent("""
    import sys, time
    import smacish
    opt = smacish.Optimizer.load(sys.argv[1])
    print("holding", flush=True)
    sys.stdin.readline()  # until the test says so
    opt.optimize(lambda config, budget: config["x"] / budget, n_trials=15)
    print(len(opt.runhistory), flush=True)
""")


def test_a_second_process_cannot_write_a_run_that_is_open(tmp_path):
    directory = tmp_path / "run"
    new_run(directory).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert holder.stdout.readline().strip() == "holding"
        before = {p.name: p.read_bytes() for p in directory.iterdir() if p.name != ".lock"}
        with pytest.raises(RunLockedError, match=rf"is in use by process {holder.pid} on {socket.gethostname()}"):
            Optimizer.load(directory)
        # readers need no lock, and the refused load wrote nothing
        assert len(smacish.RunHistory.load(directory / "runhistory.json")) == 10
        assert {p.name: p.read_bytes() for p in directory.iterdir() if p.name != ".lock"} == before
        out, err = holder.communicate("go\n", timeout=120)
        assert out.strip() == "15", err
    finally:
        holder.kill()
    # the holder is gone (its lock with it): the run opens again, all 15 trials readable
    assert len(Optimizer.load(directory).runhistory) == 15


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    directory = tmp_path / "run"
    new_run(directory).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert holder.stdout.readline().strip() == "holding"
    holder.kill()
    holder.wait(timeout=60)
    assert len(Optimizer.load(directory).runhistory) == 10


def test_two_optimizers_of_one_process_on_one_run_are_refused_until_the_first_closes(tmp_path):
    directory = tmp_path / "run"
    opt = new_run(directory)
    with pytest.raises(RunLockedError, match=r"another Optimizer of this process has it open: call its close\(\)"):
        Optimizer.load(directory)
    opt.close()
    Optimizer.load(directory).close()
    dropped = new_run(tmp_path / "other")
    del dropped  # a dropped Optimizer frees its run at once
    Optimizer.load(tmp_path / "other").close()


@pytest.mark.parametrize("missing", ["events.jsonl", "everything but optimizer.json"])
def test_a_partial_copy_without_the_log_is_refused_and_left_as_it_is(tmp_path, missing):
    directory = tmp_path / "run"
    new_run(directory, 40).close()
    copy = tmp_path / "copy"
    shutil.copytree(directory, copy)
    (copy / "events.jsonl").unlink()
    if missing != "events.jsonl":
        for name in ("runhistory.json", "state.json", "trajectory.jsonl"):
            (copy / name).unlink()
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    with pytest.raises(FileNotFoundError, match=r"events\.jsonl is missing, so the run in .* cannot be resumed"):
        Optimizer.load(copy)
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before  # 40 trials kept
    if missing == "events.jsonl":
        assert len(smacish.RunHistory.load(copy / "runhistory.json")) == 40


def test_run_files_get_the_umasks_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        opt = new_run(tmp_path / "run")
        opt.save()
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "run").iterdir()}
    assert modes == {name: 0o644 for name in modes}, modes


def asks_pending_then_dropped(directory: Path) -> Optimizer:
    """A run with three asks after its last tell, dropped as a killed process would be."""
    opt = new_run(directory, 10)
    for _ in range(3):
        opt.ask(n_workers=4)
    return opt


def test_a_hole_with_no_result_after_it_is_recovered_with_a_warning(tmp_path):
    import json
    import warnings as w

    directory = tmp_path / "run"
    opt = asks_pending_then_dropped(directory)
    pending = [i.key for i in opt.pending]
    del opt
    log = directory / "events.jsonl"
    data = log.read_bytes().rstrip(b"\0")
    lines = data.splitlines(keepends=True)
    assert [json.loads(x)["e"] for x in lines[-3:]] == ["ask", "ask", "ask"]
    hole = b"\0" * (len(lines[-2]) - 1) + b"\n"  # the page of the middle ask was lost, a later one kept
    log.write_bytes(b"".join(lines[:-2]) + hole + lines[-1])
    with pytest.warns(RuntimeWarning, match=r"line 22: damaged, with no result after it .* dropped 2 line\(s\)"):
        resumed = Optimizer.load(directory)
    assert len(resumed.runhistory) == 10
    assert [i.key for i in resumed.pending] == pending[:1]
    assert (directory / "events.jsonl.damaged").read_bytes() == hole + lines[-1]
    # the dropped asks are asked again: the run goes on as if nothing had happened
    assert [resumed.ask(n_workers=4).key for _ in range(3)] == pending
    with w.catch_warnings():
        w.simplefilter("error")
        resumed.close()
        Optimizer.load(directory).close()


def test_a_damaged_line_with_results_after_it_is_refused_but_status_shows_the_rest(tmp_path, capsys):
    from smacish.cli import main

    directory = tmp_path / "run"
    new_run(directory, 10).close()
    log = directory / "events.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    lines[4] = b"#" * (len(lines[4]) - 1) + b"\n"
    log.write_bytes(b"".join(lines))
    (directory / "state.json").unlink()  # no snapshot to stand in for the damaged part
    with pytest.raises(ValueError, match=r"line 5: corrupt event, and results follow it.*smacish status"):
        Optimizer.load(directory)
    assert main(["status", str(directory)]) == 0
    out = capsys.readouterr().out
    assert "damaged:     1 line(s) of events.jsonl cannot be read (line 5)" in out
    assert "trials:      9 finished" in out or "trials:      10 finished" in out


def test_damage_that_the_snapshot_would_hide_is_refused_and_changes_nothing(tmp_path):
    directory = tmp_path / "run"
    new_run(directory, 10).close()  # closing snapshots the whole log
    log = directory / "events.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    lines[4] = b"#" * (len(lines[4]) - 1) + b"\n"
    log.write_bytes(b"".join(lines))
    before = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    with pytest.raises(ValueError, match=r"events.jsonl, line 5: damaged event, before the last state snapshot"):
        Optimizer.load(directory)
    assert {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()} == before
    with pytest.raises(ValueError, match="line 5"):  # and the lock was freed: the same answer again
        Optimizer.load(directory)
